"""Bank statements in the back office: the worklist of incoming payments the matching could
not place (book one on a customer, or ignore it with a reason), and, for administrators, the
statements of accounts no creditor has (assign one to a creditor).

Entries are scoped to the user's creditors; an entry of another creditor is a 404. Statements
of an unknown account belong to no creditor yet, so only superusers see and assign them.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Role
from vaarwater.payments.statements.importing import StatementImportError, statement_assign
from vaarwater.payments.statements.selectors import (
    debtor_of,
    debtor_search,
    entry_for,
    recent_statements,
    unknown_statement,
    unknown_statements,
    unmatched_entries,
)
from vaarwater.payments.statements.worklist import WorklistError, entry_assign, entry_ignore

from .access import back_office_required, has_role
from .selectors import visible_creditors

PAGE_SIZE = 50


class IgnoreForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it is not a customer payment"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(forms.Form):
    debtor = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Why this customer"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _must_supervise(user, creditor) -> None:
    """Booking money by hand, or setting it aside, is for supervisors and administrators."""
    if not has_role(user, creditor, Role.SUPERVISOR):
        raise PermissionDenied


def _worklist_url(entry) -> str:
    return f"{reverse('workspace:statements')}?creditor={entry.creditor.code}"


@back_office_required
def statements(request):
    """The unmatched incoming payments of one of the user's creditors, and the statements
    of unknown accounts (superusers)."""
    creditors = visible_creditors(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    context = {
        "creditors": creditors,
        "creditor": creditor,
        "page": None,
        "ignore_form": IgnoreForm(),
        "unknown": [],
        "all_creditors": [],
    }
    if creditor is not None:
        entries = unmatched_entries([creditor])
        context["page"] = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        context["recent"] = recent_statements([creditor], limit=10)
    if request.user.is_superuser:
        context["unknown"] = list(unknown_statements()[:100])
        context["all_creditors"] = creditors
    return TemplateResponse(request, "workspace/statements.html", context)


@back_office_required
def statement_entry(request, pk: int):
    """One unmatched payment: find the customer it is from and book it on them."""
    entry = entry_for(visible_creditors(request.user), pk)
    if entry is None:
        raise Http404("no such entry")
    if request.method == "POST":
        _must_supervise(request.user, entry.creditor)
    form = AssignForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        messages.error(request, _("Say why the payment is this customer's."))
    elif request.method == "POST":
        debtor = debtor_of(entry.creditor, form.cleaned_data["debtor"])
        if debtor is None:
            raise Http404("no such customer")
        try:
            entry_assign(
                entry=entry,
                debtor=debtor,
                actor=Actor.for_user(request.user),
                note=form.cleaned_data["note"],
            )
        except WorklistError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("The payment is booked on %(name)s (%(number)s).")
                % {"name": debtor.name, "number": debtor.external_id},
            )
            return redirect(_worklist_url(entry))
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "entry": entry,
        "q": query,
        "results": list(debtor_search(entry.creditor, query)) if query else [],
        "form": form,
        "ignore_form": IgnoreForm(),
    }
    return TemplateResponse(request, "workspace/statement_entry.html", context)


@back_office_required
@require_POST
def statement_entry_ignore(request, pk: int):
    """Take a payment off the worklist: it is not a customer's (with the reason)."""
    entry = entry_for(visible_creditors(request.user), pk)
    if entry is None:
        raise Http404("no such entry")
    _must_supervise(request.user, entry.creditor)
    form = IgnoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the payment is ignored."))
        return redirect(_worklist_url(entry))
    try:
        entry_ignore(
            entry=entry, reason=form.cleaned_data["reason"], actor=Actor.for_user(request.user)
        )
    except WorklistError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The payment is off the worklist."))
    return redirect(_worklist_url(entry))


@back_office_required
@require_POST
def statement_assign_view(request, pk: int):
    """Give a statement of an unknown account to a creditor (superusers only)."""
    if not request.user.is_superuser:
        raise Http404("no such statement")
    statement = unknown_statement(pk)
    creditor = visible_creditors(request.user).filter(code=request.POST.get("creditor")).first()
    if statement is None or creditor is None:
        raise Http404("no such statement or creditor")
    try:
        new, known, counts = statement_assign(
            statement=statement,
            creditor=creditor,
            actor=Actor.for_user(request.user),
            note=request.POST.get("note", "").strip()[:500],
        )
    except StatementImportError as exc:
        messages.error(request, str(exc))
        return redirect("workspace:statements")
    messages.success(
        request,
        _(
            "The statement is %(creditor)s's now: %(new)s new entries, %(booked)s booked, "
            "%(unmatched)s in the worklist."
        )
        % {
            "creditor": creditor.code,
            "new": new,
            "booked": counts.get("booked", 0),
            "unmatched": counts.get("unmatched", 0),
        },
    )
    return redirect(f"{reverse('workspace:statements')}?creditor={creditor.code}")
