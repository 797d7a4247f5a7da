"""The payment plan page of a case in the back office (``/cases/<pk>/plan/``).

An agent records what the household can afford (the same questions as the portal, or a PSD2
file the customer shared), sees the plans that fit, agrees one of them or a plan of their own
(a number of instalments or an amount, from a first due date), chooses how the customer pays
(with a direct-debit mandate signed on paper or by phone), records a promise to pay, or stops a
plan. A plan beyond the capacity or the policy can only be agreed with a written reason, which
the plan and its event keep. Everything is scoped to the agent's creditors: another creditor's
case is a 404.
"""

from dataclasses import replace
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from vaarwater.arrangements import selectors as plans
from vaarwater.arrangements import services as plan_services
from vaarwater.arrangements.affordability import AffordabilityError, assessment_from_answers
from vaarwater.arrangements.models import Assessment, AssessmentSource, Household, PayMethod
from vaarwater.arrangements.proposals import (
    Option,
    Problem,
    covered,
    option_problems,
    problem_text,
    split_evenly,
)
from vaarwater.arrangements.psd2 import Psd2Error, assessment_from_psd2
from vaarwater.arrangements.selectors import arrangement_replaceable as replaceable
from vaarwater.core.events import Actor
from vaarwater.core.money import format_eur
from vaarwater.ledger.validation import validate_iban
from vaarwater.payments.sepa import SepaError, creditor_sepa, mandate_create
from vaarwater.portal.plan_forms import (
    DEBTS_MAX_CENTS,
    FIXED_COSTS,
    PSD2_MAX_BYTES,
    AmountField,
    answers_of,
    apply_error,
    language,
    psd2_message,
)
from vaarwater.portal.plan_views import explanation_rows

from .access import back_office_required
from .selectors import case_get, visible_creditors

MAX_COUNT = 60  # the policy schema's longest plan
# An agent's own plan starts within this many days; later is a typo (a year, a month). Within
# it, a start later than a month after the policy's first due date needs a reason
# (``proposals.option_problems`` ``late_start``), as any plan beyond the policy.
FIRST_DUE_MAX_DAYS = 366
# How a mandate taken by an agent was signed (payments.sepa.SIGNED_VIA).
SIGNED_VIA = (
    ("paper", gettext_lazy("on paper")),
    ("agent", gettext_lazy("by phone with an agent (recorded)")),
)
PROMISE_SOURCES = (
    ("call", gettext_lazy("in a phone call")),
    ("agent", gettext_lazy("otherwise (email, letter, desk)")),
)
# How a plan was agreed and where a promise was made, in words (the stored codes).
CHANNEL_LABELS = {"portal": gettext_lazy("in the portal"), "agent": gettext_lazy("by an agent")}
SOURCE_LABELS = {**dict(PROMISE_SOURCES), "portal": gettext_lazy("in the portal")}


# -- forms -------------------------------------------------------------------------------------


class AnswersForm(forms.Form):
    """The affordability questions, asked by the agent."""

    household = forms.ChoiceField(label=gettext_lazy("Household"), choices=Household.choices)
    net_income = AmountField(label=gettext_lazy("Net income per month"))
    rent = AmountField(label=FIXED_COSTS[0][1], required=False)
    energy = AmountField(label=FIXED_COSTS[1][1], required=False)
    water = AmountField(label=FIXED_COSTS[2][1], required=False)
    insurance = AmountField(label=FIXED_COSTS[3][1], required=False)
    phone = AmountField(label=FIXED_COSTS[4][1], required=False)
    other_costs = AmountField(label=FIXED_COSTS[5][1], required=False)
    other_instalments = AmountField(
        label=gettext_lazy("Instalments to other creditors per month"), required=False
    )
    other_debts = AmountField(
        label=gettext_lazy("Other debts in total"), required=False, max_cents=DEBTS_MAX_CENTS
    )
    payday_day = forms.IntegerField(
        label=gettext_lazy("Payday (day of the month)"), min_value=1, max_value=31
    )

    def clean_net_income(self):
        cents = self.cleaned_data["net_income"]
        if cents is not None and cents <= 0:
            raise ValidationError(gettext_lazy("Enter a net income above zero."))
        return cents


class BankForm(forms.Form):
    household = forms.ChoiceField(label=gettext_lazy("Household"), choices=Household.choices)
    file = forms.FileField(label=gettext_lazy("PSD2 transactions file (JSON)"))
    agree = forms.BooleanField(
        label=gettext_lazy("The customer agreed that we read this file once.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > PSD2_MAX_BYTES:
            raise ValidationError(
                _("This file is too large (at most %(max)s MB).")
                % {"max": PSD2_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class AcceptForm(forms.Form):
    """A plan to agree: one of the options, or the agent's own; how the customer pays."""

    assessment = forms.IntegerField(required=False, widget=forms.HiddenInput)
    choice = forms.CharField(label=gettext_lazy("Plan"))
    custom_count = forms.IntegerField(
        label=gettext_lazy("Number of instalments"),
        required=False,
        min_value=1,
        max_value=MAX_COUNT,
    )
    custom_amount = AmountField(label=gettext_lazy("Or an amount per instalment"), required=False)
    first_due = forms.DateField(
        label=gettext_lazy("First due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Why agree a plan beyond the capacity or the policy"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    method = forms.ChoiceField(label=gettext_lazy("Paid by"), choices=PayMethod.choices)
    iban = forms.CharField(label=gettext_lazy("IBAN"), required=False, max_length=42)
    account_holder = forms.CharField(
        label=gettext_lazy("Account holder"), required=False, max_length=70
    )
    signed_on = forms.DateField(
        label=gettext_lazy("Mandate signed on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    signed_via = forms.ChoiceField(label=gettext_lazy("Signed"), choices=SIGNED_VIA, required=False)

    def clean(self):
        data = super().clean()
        if data.get("choice") == "custom":
            if not data.get("first_due"):
                self.add_error("first_due", _("Enter the first due date."))
            elif data["first_due"] > timezone.localdate() + timedelta(days=FIRST_DUE_MAX_DAYS):
                self.add_error(
                    "first_due",
                    _("The first due date is more than a year away. Check the date."),
                )
            count, amount = data.get("custom_count"), data.get("custom_amount")
            if not count and not amount:
                self.add_error(
                    "custom_count", _("Enter a number of instalments or an amount per instalment.")
                )
            elif count and amount:
                self.add_error(
                    "custom_amount", _("Enter a number of instalments or an amount, not both.")
                )
            elif amount is not None and amount <= 0:
                self.add_error("custom_amount", _("Enter an amount above zero."))
        if data.get("method") == PayMethod.SEPA:
            raw = (data.get("iban") or "").strip()
            if not raw:
                self.add_error("iban", _("Enter the IBAN of the mandate."))
            else:
                try:
                    data["iban"] = validate_iban(raw)
                except ValueError:
                    self.add_error("iban", _("This is not a valid IBAN."))
            if not (data.get("account_holder") or "").strip():
                self.add_error("account_holder", _("Enter the account holder."))
            if not data.get("signed_on"):
                self.add_error("signed_on", _("Enter the date the mandate was signed."))
            elif data["signed_on"] > timezone.localdate():
                self.add_error("signed_on", _("A mandate cannot be signed in the future."))
            if not data.get("signed_via"):
                self.add_error("signed_via", _("Say how the mandate was signed."))
        return data


class PromiseForm(forms.Form):
    amount = AmountField(label=gettext_lazy("Amount"))
    due_on = forms.DateField(
        label=gettext_lazy("Pay by"), widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ChoiceField(label=gettext_lazy("Made"), choices=PROMISE_SOURCES)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the plan stops"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# -- the plan an agent makes ------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter).

    >>> add_months(date(2027, 1, 31), 1)
    datetime.date(2027, 2, 28)
    """
    import calendar

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def agent_plan(
    *, debt, policy, capacity_cents, first_due: date, count=None, amount_cents=None, today=None
) -> Option:
    """A plan the agent sets: ``count`` equal instalments, or instalments of ``amount_cents``
    (the last one smaller), monthly from ``first_due``; ``fits`` says whether it is within the
    capacity and the policy (``reason`` lists why not)."""
    total, waived = covered(debt, policy)
    if count:
        amounts = split_evenly(total, count)
    else:
        amount = min(amount_cents, total)
        count = -(-total // amount)
        amounts = (amount,) * (count - 1) + (total - amount * (count - 1),)
    dates = tuple(add_months(first_due, n) for n in range(count))
    option = Option(
        kind="custom",
        amounts=tuple(amounts),
        due_dates=dates,
        total_cents=total,
        waived_costs_cents=waived,
        fits=True,
        reason="",
    )
    problems = option_problems(
        option, capacity_cents=capacity_cents, policy=policy, on=today or timezone.localdate()
    )
    return replace(option, fits=not problems, reason="; ".join(problem_text(p) for p in problems))


def problem_words(problem: Problem) -> str:
    """Why a plan does not fit, in the agent's language."""
    v = dict(problem.values)
    lang = language()
    if problem.code == "capacity":
        return _("%(largest)s is more than the capacity of %(capacity)s a month") % {
            "largest": format_eur(v["largest"], language=lang),
            "capacity": format_eur(v["capacity"], language=lang),
        }
    if problem.code == "too_long":
        return _("%(count)s instalments is longer than the longest plan of %(max)s months") % {
            "count": v["count"],
            "max": v["max_months"],
        }
    if problem.code == "too_small":
        return _("an instalment of %(amount)s is less than the smallest instalment of %(min)s") % {
            "amount": format_eur(v["smallest"], language=lang),
            "min": format_eur(v["minimum"], language=lang),
        }
    if problem.code == "late_start":
        return _("the first payment is %(days)s days away") % {"days": v["days"]}
    if problem.code == "no_custom":
        return _("the policy offers no plan of one's own")
    if problem.code == "not_positive":
        return _("every payment must be above zero")
    return _("the payment dates must follow one another")


# -- the page ----------------------------------------------------------------------------------


def _assessment_of(case, raw) -> Assessment | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return Assessment.objects.filter(case=case, pk=pk).first()


def _back(case, **query):
    url = reverse("workspace:case_plan", args=[case.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return redirect(url)


@back_office_required
@require_http_methods(["GET", "POST"])
def case_plan(request, pk: int):
    """The plan page of a case: assessment, options, agree, promise, stop."""
    case = case_get(visible_creditors(request.user), pk)
    actor = Actor.for_user(request.user)
    today = timezone.localdate()
    policy = plan_services.policy_of(case)
    assessment = _assessment_of(case, request.GET.get("beoordeling"))
    if assessment is None and "beoordeling" not in request.GET:
        assessment = Assessment.objects.filter(case=case).order_by("-created_at", "-id").first()
    forms_ = {
        "answers": AnswersForm(prefix="antw", initial={"payday_day": case.debtor.payday_day}),
        "bank": BankForm(prefix="bank"),
        "accept": AcceptForm(
            prefix="plan",
            initial={
                "assessment": assessment.pk if assessment else None,
                "account_holder": case.debtor.name,
                "signed_on": today,
                "method": policy.methods[0],
            },
        ),
        "promise": PromiseForm(prefix="belofte"),
        "cancel": CancelForm(prefix="stop"),
    }
    action = request.POST.get("action") if request.method == "POST" else None
    if case.status == "closed" and action:
        messages.error(request, _("This case is closed."))
        return _back(case)
    if action == "answers":
        form = forms_["answers"] = AnswersForm(request.POST, prefix="antw")
        if form.is_valid():
            made = _answers_record(case, form, actor)
            if made is not None:
                messages.success(request, _("The assessment is recorded."))
                return _back(case, beoordeling=made.pk)
    elif action == "bank":
        form = forms_["bank"] = BankForm(request.POST, request.FILES, prefix="bank")
        if form.is_valid():
            made = _bank_record(case, form, actor)
            if made is not None:
                messages.success(request, _("The assessment is recorded from the bank data."))
                return _back(case, beoordeling=made.pk)
    elif action == "accept":
        form = forms_["accept"] = AcceptForm(request.POST, prefix="plan")
        if form.is_valid():
            made = _accept(case, form, policy=policy, actor=actor, today=today)
            if made is not None:
                messages.success(
                    request,
                    _("Payment plan %(ref)s is agreed; the customer gets a confirmation.")
                    % {"ref": made.reference},
                )
                return _back(case)
        assessment = _assessment_of(case, request.POST.get("plan-assessment"))
    elif action == "promise":
        form = forms_["promise"] = PromiseForm(request.POST, prefix="belofte")
        if form.is_valid():
            try:
                plan_services.promise_record(
                    case=case,
                    amount_cents=form.cleaned_data["amount"],
                    due_on=form.cleaned_data["due_on"],
                    source=form.cleaned_data["source"],
                    note=form.cleaned_data["note"],
                    actor=actor,
                )
            except (plan_services.ArrangementError, ValueError) as exc:
                apply_error(form, exc, {"amount_cents": "amount"})
            else:
                messages.success(request, _("The promise to pay is recorded."))
                return _back(case)
    elif action == "cancel":
        form = forms_["cancel"] = CancelForm(request.POST, prefix="stop")
        active = plans.active_arrangement(case)
        if active is None:
            messages.error(request, _("This case has no active payment plan."))
            return _back(case)
        if form.is_valid():
            try:
                plan_services.arrangement_cancel(
                    arrangement=active, reason=form.cleaned_data["reason"], actor=actor
                )
            except plan_services.ArrangementError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("The payment plan is stopped."))
                return _back(case)
    elif action:
        return _back(case)
    context = _context(case, assessment=assessment, policy=policy, today=today, forms_=forms_)
    hidden = {"accept": not context["can_plan"], "promise": context["active"] is not None}
    if hidden.get(action):
        # The form is not on the page (a plan is active now): say why it was refused.
        for errors in forms_[action].errors.values():
            for error in errors:
                messages.error(request, error)
    return TemplateResponse(request, "workspace/arrangement.html", context)


def _context(case, *, assessment, policy, today, forms_) -> dict:
    debt = plan_services.debt_of(case)
    total, waived = covered(debt, policy)
    active = plans.active_arrangement(case)
    options = []
    if case.status != "closed" and total > 0:
        options = [
            o
            for o in plan_services.case_options(case=case, assessment=assessment, on=today)
            if o.fits
        ]
    progress = plans.arrangement_progress(active) if active else None
    arrangements = list(plans.case_arrangements(case))
    for plan in [active, *arrangements]:
        if plan is not None:
            plan.channel_label = CHANNEL_LABELS.get(plan.channel, plan.channel)
    promises = list(case.promises.order_by("-made_on", "-id"))
    for promise in promises:
        promise.source_label = SOURCE_LABELS.get(promise.source, promise.source)
    return {
        "case": case,
        "debt": debt,
        "covered_cents": total,
        "waived_cents": waived,
        "policy": policy,
        "active": active,
        "instalments": list(active.instalments.order_by("number")) if active else [],
        "progress": progress,
        "can_plan": case.status != "closed"
        and total > 0
        and (active is None or replaceable(active)),
        "arrangements": arrangements,
        "promises": promises,
        "method_labels": [PayMethod(m).label for m in policy.methods if m in PayMethod.values],
        "open_promise": plans.open_promise(case),
        "assessment": assessment,
        "lines": explanation_rows(assessment) if assessment else [],
        "assessments": list(
            Assessment.objects.filter(case=case).order_by("-created_at", "-id")[:10]
        ),
        "options": options,
        "forms": forms_,
        "today": today,
    }


def _answers_record(case, form: AnswersForm, actor) -> Assessment | None:
    try:
        return assessment_from_answers(
            debtor=case.debtor,
            case=case,
            source=AssessmentSource.AGENT,
            actor=actor,
            **answers_of(form),
        )
    except AffordabilityError as exc:
        apply_error(
            form,
            exc,
            {
                "net_income_cents": "net_income",
                "other_instalments_cents": "other_instalments",
                "other_debts_cents": "other_debts",
            },
        )
        return None


def _bank_record(case, form: BankForm, actor) -> Assessment | None:
    try:
        return assessment_from_psd2(
            debtor=case.debtor,
            case=case,
            household=form.cleaned_data["household"],
            raw=form.cleaned_data["file"].read(),
            actor=actor,
        )
    except Psd2Error as exc:
        form.add_error("file", psd2_message(exc))
        return None
    except AffordabilityError as exc:
        form.add_error("file", str(exc))
        return None


def _accept(case, form: AcceptForm, *, policy, actor, today):
    """Agree the plan the form describes; None (with the errors on the form) when refused."""
    data = form.cleaned_data
    assessment = None
    if data.get("assessment"):
        assessment = _assessment_of(case, data["assessment"])
        if assessment is None:
            form.add_error(None, _("This assessment is not about this case."))
            return None
    capacity = assessment.capacity_cents if assessment is not None else None
    choice = data["choice"]
    if choice == "custom":
        option = agent_plan(
            debt=plan_services.debt_of(case),
            policy=policy,
            capacity_cents=capacity,
            first_due=data["first_due"],
            count=data.get("custom_count"),
            amount_cents=data.get("custom_amount"),
            today=today,
        )
    else:
        offered = {
            o.key: o for o in plan_services.case_options(case=case, assessment=assessment, on=today)
        }
        option = offered.get(choice)
        if option is None or not option.fits:
            form.add_error("choice", _("Choose one of the plans shown, or your own plan."))
            return None
    reason = data.get("override_reason", "").strip()
    if not option.fits and not reason:
        form.add_error(
            "override_reason",
            _("This plan does not fit (%(why)s). Write why you agree it anyway.")
            % {"why": _problems_text(option, capacity_cents=capacity, policy=policy, on=today)},
        )
        return None
    method = data["method"]
    if method == PayMethod.SEPA:
        try:
            creditor_sepa(case.creditor)
        except SepaError as exc:
            form.add_error("method", sepa_message(exc))
            return None
    try:
        with transaction.atomic():
            mandate = None
            if method == PayMethod.SEPA:
                mandate = mandate_create(
                    debtor=case.debtor,
                    iban=data["iban"],
                    account_holder=data["account_holder"].strip(),
                    signed_on=data["signed_on"],
                    signed_via=data["signed_via"],
                    actor=actor,
                )
            return plan_services.arrangement_accept(
                case=case,
                option=option,
                method=method,
                actor=actor,
                channel="agent",
                assessment=assessment,
                mandate=mandate,
                override_reason=reason if not option.fits else "",
                on=today,
            )
    except plan_services.ArrangementError as exc:
        message = exc.message
        if exc.reasons:
            why = _problems_text(option, capacity_cents=capacity, policy=policy, on=today)
            message = f"{message} ({why})"
        field = {"option": "choice"}.get(exc.field, exc.field)
        form.add_error(field if field in form.fields else None, message)
    except (ValueError, ValidationError) as exc:  # the mandate refused (SepaError)
        field = {"bic": "iban"}.get(getattr(exc, "field", ""), getattr(exc, "field", ""))
        form.add_error(field if field in form.fields else None, sepa_message(exc))
    return None


def _problems_text(option: Option, *, capacity_cents, policy, on) -> str:
    """Why an option does not fit, in the agent's language."""
    problems = option_problems(option, capacity_cents=capacity_cents, policy=policy, on=on)
    return "; ".join(str(problem_words(problem)) for problem in problems)


def sepa_message(exc: Exception) -> str:
    """A SEPA error's message without the field name it starts with."""
    text = str(exc)
    field = getattr(exc, "field", "")
    return text.removeprefix(f"{field}: ") if field else text
