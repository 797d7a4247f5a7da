"""Back-office pages for a creditor's staff."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.models import Creditor
from vaarwater.ledger.selectors import creditor_totals, debtors_with_balances
from vaarwater.portal.tokens import access_token_revoke, live_links
from vaarwater.strategy.models import CaseStatus, HoldKind
from vaarwater.strategy.services import CaseError, hold_place, hold_release

from .access import back_office_required
from .selectors import (
    case_file,
    case_get,
    case_segments,
    cases_for,
    strategy_version_get,
    strategy_versions_by_creditor,
    visible_creditors,
    with_case,
)
from .strategy_display import document_view, path_steps, step_rows

PAGE_SIZE = 50


@back_office_required
def debtor_list(request):
    """List one creditor's debtors with their balances, searchable, 50 to a page."""
    creditors = Creditor.objects.for_user(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    context = {"creditors": creditors, "creditor": creditor, "page": None}
    if creditor is not None:
        search = request.GET.get("q", "").strip()[:100]
        only_open = request.GET.get("open") == "1"
        debtors = with_case(debtors_with_balances(creditor, search=search, only_open=only_open))
        paginator = Paginator(debtors, PAGE_SIZE)
        context.update(
            page=paginator.get_page(request.GET.get("page")),
            q=search,
            only_open=only_open,
            totals=creditor_totals(creditor),
        )
    return TemplateResponse(request, "workspace/debtor_list.html", context)


@back_office_required
def strategy_list(request):
    """List the strategy versions of the user's creditors, newest first, marking the current."""
    groups = strategy_versions_by_creditor(visible_creditors(request.user))
    return TemplateResponse(request, "workspace/strategy_list.html", {"groups": groups})


@back_office_required
def strategy_detail(request, pk: int):
    """Show one strategy version: settings, segments, paths, challengers and its YAML."""
    version = strategy_version_get(visible_creditors(request.user), pk)
    context = {"version": version, "doc": document_view(version.document or {})}
    return TemplateResponse(request, "workspace/strategy_detail.html", context)


@back_office_required
def case_list(request):
    """List the cases of the user's creditors, filtered by status and segment, 50 to a page."""
    creditors = visible_creditors(request.user)
    code = request.GET.get("creditor", "")
    if code:
        creditors = creditors.filter(code=code)
        if not creditors.exists():
            raise Http404("unknown creditor")
    status = request.GET.get("status", "")
    if status not in CaseStatus.values:
        status = ""
    segment = request.GET.get("segment", "").strip()[:64]
    cases = cases_for(creditors, status=status, segment=segment)
    all_creditors = visible_creditors(request.user)
    context = {
        "page": Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page")),
        "creditors": all_creditors,
        "many_creditors": all_creditors.count() > 1,
        "creditor_code": code,
        "statuses": CaseStatus.choices,
        "status": status,
        "segments": case_segments(creditors),
        "segment": segment,
    }
    return TemplateResponse(request, "workspace/case_list.html", context)


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=HoldKind.choices)
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    until = forms.DateField(
        label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )


@back_office_required
@require_POST
def case_hold(request, pk: int):
    """Pause a case until a date, for a reason; the daily run skips it until then."""
    case = case_get(visible_creditors(request.user), pk)
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            hold_place(
                case=case,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
                on=timezone.localdate(),
                actor=Actor.for_user(request.user),
            )
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The case is on hold."))
            return redirect("workspace:case_detail", pk=case.pk)
    return case_detail(request, pk, hold_form=form)


@back_office_required
@require_POST
def case_hold_end(request, pk: int, hold_pk: int):
    """End a hold early; the case resumes when no other hold is active."""
    case = case_get(visible_creditors(request.user), pk)
    hold = get_object_or_404(case.holds, pk=hold_pk, released_on__isnull=True)
    reason = request.POST.get("reason", "").strip() or str(_("ended by hand"))
    try:
        hold_release(
            hold=hold, reason=reason, on=timezone.localdate(), actor=Actor.for_user(request.user)
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The hold has ended."))
    return redirect("workspace:case_detail", pk=case.pk)


@back_office_required
def case_detail(request, pk: int, hold_form=None):
    """Show one case: its header, active holds, 14-day letter and its whole timeline."""
    case = case_get(visible_creditors(request.user), pk)
    steps = step_rows(path_steps(case.strategy_version.document or {}, case.path, case.variant))
    context = {
        "case": case,
        "live_links": live_links(case.debtor_id),
        "next_step": steps[case.step_index] if case.step_index < len(steps) else None,
        "step_count": len(steps),
        "hold_form": hold_form or HoldForm(),
        **case_file(case),
    }
    return TemplateResponse(request, "workspace/case_detail.html", context)


@back_office_required
@require_POST
def case_links_revoke(request, pk: int):
    """End every personal link of the case's debtor (a lost phone, a link in the wrong hands);
    the next message carries a new one."""
    case = case_get(visible_creditors(request.user), pk)
    reason = request.POST.get("reason", "").strip()[:500]
    if not reason:
        messages.error(request, _("Say why the links end."))
        return redirect("workspace:case_detail", pk=case.pk)
    with transaction.atomic():
        count = access_token_revoke(debtor_id=case.debtor_id)
        event_record(
            creditor=case.creditor_id,
            debtor=case.debtor_id,
            verb="portal.links_revoked",
            actor=Actor.for_user(request.user),
            subject=case,
            reason=f"{count} persoonlijke link(s) beëindigd: {reason}",
            data={"count": count},
        )
    messages.success(request, _("The personal links no longer work."))
    return redirect("workspace:case_detail", pk=case.pk)
