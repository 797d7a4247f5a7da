"""The call screen: the number to dial and the case at a glance, a keyboard-friendly outcome
form, a payment link sent while the customer is on the line, and the customer view below.

``/calls/<pk>/`` shows one call attempt; ``/calls/<pk>/outcome/`` records how it went
(``calls.call_outcome_record``) and either returns to the call page or, with "save and call
next", passes the POST on to the queue's "next case" (a 307 keeps it a POST);
``/calls/<pk>/link/`` sends a payment link (``calls.payment_link_during_call``).

An attempt of a creditor the user may not see is a 404. Another agent's call of the same
creditor can be looked at but not recorded (403), unless the user supervises that creditor.
"""

import phonenumbers
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vaarwater.contact.models import Channel
from vaarwater.core.money import format_eur
from vaarwater.ledger.selectors import debtor_position
from vaarwater.portal.plan_forms import AmountField

from . import calls
from .access import back_office_required
from .models import CallAttempt, CallOutcome, RootCause
from .selectors import visible_creditors

OUTCOME_FIELDS = (
    "outcome",
    "root_cause",
    "promise_amount",
    "promise_due_on",
    "new_phone",
    "new_email",
    "callback_at",
    "note",
)


class OutcomeForm(forms.Form):
    """How the call went and what came of it; the fields in the order an agent tabs through."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("How did the call go?"),
        choices=CallOutcome.choices,
        widget=forms.RadioSelect,
    )
    root_cause = forms.ChoiceField(
        label=gettext_lazy("Why did the customer not pay?"),
        choices=[("", gettext_lazy("(not asked or not known)")), *RootCause.choices],
        required=False,
        help_text=gettext_lazy("Only when you spoke with the customer."),
    )
    promise_amount = AmountField(
        label=gettext_lazy("Promise: amount"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    promise_due_on = forms.DateField(
        label=gettext_lazy("Promise: pay by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    new_phone = forms.CharField(
        label=gettext_lazy("Right phone number"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=gettext_lazy("A new or corrected number; it is added to the customer."),
    )
    new_email = forms.CharField(
        label=gettext_lazy("Right email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    callback_at = forms.DateTimeField(
        label=gettext_lazy("Call back at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("A callback task for you, for an hour from this moment."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=calls.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Ctrl+Enter saves."),
    )

    # The service checks these again; here they are checked with the rest of the form, so that
    # the agent sees every mistake at once.
    def clean_new_phone(self):
        return self._correction("phone", "new_phone")

    def clean_new_email(self):
        return self._correction("email", "new_email")

    def _correction(self, kind: str, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        try:
            calls.check_corrections({kind: value})
        except calls.CallError as exc:
            raise forms.ValidationError(exc.message) from None
        return value

    def clean(self):
        data = super().clean()
        amount, due = data.get("promise_amount"), data.get("promise_due_on")
        if amount is not None and due is None and "promise_due_on" not in self.errors:
            self.add_error("promise_due_on", _("Enter the date the customer will pay by."))
        if due is not None and amount is None and "promise_amount" not in self.errors:
            self.add_error("promise_amount", _("Enter the amount the customer promises."))
        return data


class LinkForm(forms.Form):
    """A payment link to send now."""

    amount = AmountField(
        label=gettext_lazy("Amount"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Send by"),
        choices=[(c, Channel(c).label) for c in calls.LINK_CHANNELS],
        widget=forms.RadioSelect,
    )


def _describe(form: forms.Form, focus: str = "") -> None:
    """Tie help texts and errors to their fields (``aria-describedby``) and set the focus."""
    for name, field in form.fields.items():
        bound = form[name]
        ids = []
        if field.help_text:
            ids.append(f"{bound.auto_id}-help")
        if form.is_bound and bound.errors:
            ids.append(f"{bound.auto_id}-error")
            field.widget.attrs["aria-invalid"] = "true"
        if ids:
            field.widget.attrs["aria-describedby"] = " ".join(ids)
        if name == focus:
            field.widget.attrs["autofocus"] = True


def _first_error(form: forms.Form, names) -> str:
    if not form.is_bound:
        return ""
    return next((name for name in names if form[name].errors), "")


def _attempt_get(user, pk: int) -> CallAttempt:
    """A call attempt of a creditor the user may see; 404 for any other."""
    attempts = CallAttempt.objects.filter(creditor__in=visible_creditors(user)).select_related(
        "creditor", "debtor", "case", "task", "agent", "promise", "callback", "payment_link"
    )
    return get_object_or_404(attempts, pk=pk)


def _page(request, attempt: CallAttempt, *, outcome_form=None, link_form=None):
    """The call page, with the forms given (bound, with their errors) or fresh ones."""
    case = attempt.case
    finished = attempt.ended_at is not None
    balance = debtor_position(attempt.debtor).balance
    outcome_form = outcome_form or OutcomeForm()
    channels = calls.link_channels(attempt.debtor)
    link_form = link_form or LinkForm(
        prefix="link",
        initial={
            "amount": _amount_text(balance) if balance > 0 else "",
            "channel": calls.link_channel_preferred(attempt.debtor, channels),
        },
    )
    focus = _first_error(outcome_form, OUTCOME_FIELDS)
    _describe(outcome_form, focus if focus != "outcome" else "")
    _describe(link_form, _first_error(link_form, ("amount", "channel")))
    context = {
        "attempt": attempt,
        "case": case,
        "debtor": attempt.debtor,
        "task": attempt.task,
        "finished": finished,
        "can_record": calls.may_record(request.user, attempt),
        "balance_cents": balance,
        "dial": _national(attempt.phone),
        "other_phones": [
            (value, _national(value))
            for value in calls.phones_of(attempt.debtor_id)
            if value != attempt.phone
        ],
        "outcome_form": outcome_form,
        "link_form": link_form,
        # 1-5 in the order of CallOutcome: the access keys of the outcome radios.
        "outcome_choices": [
            (str(n), value, label) for n, (value, label) in enumerate(CallOutcome.choices, 1)
        ],
        "outcome_chosen": outcome_form["outcome"].value() or "",
        "focus_outcome": not focus or focus == "outcome",
        "link_choices": [(c, Channel(c).label, channels[c]) for c in calls.LINK_CHANNELS],
        "link_chosen": link_form["channel"].value() or "",
        "facts": calls.promise_facts(attempt) if not finished else None,
        "today": timezone.localdate(),
    }
    return TemplateResponse(request, "workspace/call.html", context)


def _national(number: str) -> str:
    """A number as people read it (``06 12345678``); as stored when it does not parse."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(number, "NL"), phonenumbers.PhoneNumberFormat.NATIONAL
        )
    except phonenumbers.NumberParseException:
        return number


def _amount_text(cents: int) -> str:
    """Cents as the amount field shows them (Dutch typing: ``123,45``)."""
    return f"{cents // 100},{cents % 100:02d}"


def _recordable(request, pk: int) -> CallAttempt:
    """The attempt, when the user may record for it: 404 for another creditor's, 403 for
    another agent's call (unless the user supervises its creditor)."""
    attempt = _attempt_get(request.user, pk)
    if not calls.may_record(request.user, attempt):
        raise PermissionDenied
    return attempt


@back_office_required
@require_GET
def call_detail(request, pk: int):
    """The call screen of one attempt."""
    return _page(request, _attempt_get(request.user, pk))


@back_office_required
@require_POST
def call_outcome(request, pk: int):
    """Record how the call went; on to the call page, or with ``then=next`` to the next case."""
    attempt = _recordable(request, pk)
    if attempt.ended_at is not None:
        messages.error(request, _("The outcome of this call is recorded already."))
        return redirect("workspace:call_detail", pk=attempt.pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            calls.call_outcome_record(
                attempt=attempt,
                agent=request.user,
                outcome=data["outcome"],
                root_cause=data["root_cause"],
                note=data["note"],
                promise_amount_cents=data["promise_amount"],
                promise_due_on=data["promise_due_on"],
                callback_at=data["callback_at"],
                contact_corrections={"phone": data["new_phone"], "email": data["new_email"]},
            )
        except calls.CallNotYours:
            raise PermissionDenied from None
        except calls.CallError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The outcome of the call is recorded."))
            if request.POST.get("then") == "next":
                # 307: the browser repeats this POST (with its CSRF token) at "next case".
                return redirect("workspace:queue_next", preserve_request=True)
            return redirect("workspace:call_detail", pk=attempt.pk)
    return _page(request, attempt, outcome_form=form)


@back_office_required
@require_POST
def call_payment_link(request, pk: int):
    """Send a payment link at once, while the customer is on the line."""
    attempt = _recordable(request, pk)
    form = LinkForm(request.POST, prefix="link")
    if form.is_valid():
        channel = form.cleaned_data["channel"]
        try:
            link, message = calls.payment_link_during_call(
                attempt=attempt,
                agent=request.user,
                amount_cents=form.cleaned_data["amount"],
                channel=channel,
            )
        except calls.CallNotYours:
            raise PermissionDenied from None
        except calls.CallError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("A payment link for %(amount)s is sent by %(channel)s.")
                % {
                    "amount": _amount_eur(link.amount_cents),
                    "channel": Channel(channel).label,
                },
            )
            return redirect("workspace:call_detail", pk=attempt.pk)
    return _page(request, attempt, link_form=form)


def _amount_eur(cents: int) -> str:
    return format_eur(cents, language=(get_language() or "nl")[:2])


@back_office_required
@require_POST
def call_release(request, pk: int):
    """Give the call back to the queue without calling (the agent's own call only)."""
    from django.urls import reverse

    from .queue import queue_release

    attempt = _attempt_get(request.user, pk)
    if attempt.agent_id != request.user.pk:
        raise PermissionDenied
    if queue_release(attempt, request.user):
        messages.info(request, _("The customer is back in the queue."))
    else:
        messages.info(request, _("This call had already ended."))
    return redirect(f"{reverse('workspace:queue')}?creditor={attempt.creditor.code}")
