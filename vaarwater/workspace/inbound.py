"""Inbound calls: find a caller's case by phone number, file reference or customer number.

A caller with arrears gets priority: the agent types what the caller says (or what the phone
shows) and opens the case. Only the creditors the agent may see are searched.
"""

import re

from django.db.models import Case as Switch
from django.db.models import IntegerField, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from vaarwater.ledger.models import ContactKind, ContactPoint, Debtor, Invoice
from vaarwater.ledger.validation import validate_phone
from vaarwater.strategy.models import Case, CaseStatus, case_reference

from .access import back_office_required
from .selectors import visible_creditors

REFERENCE_RE = re.compile(r"^\s*0*(\d{1,9})-(\d)\s*$")
PLAN_RE = re.compile(r"^\s*RGL(\d{6})(\d)\d{2}\s*$", re.IGNORECASE)
MAX_RESULTS = 20


def caller_debtors(creditors, query: str) -> tuple[list[int], str]:
    """The ids of debtors the query names, and how it was read (phone, file, customer, …)."""
    query = (query or "").strip()[:100]
    if not query:
        return [], ""
    debtors = Debtor.objects.filter(creditor__in=creditors)
    match = REFERENCE_RE.match(query)
    if match:
        pk = int(match.group(1))
        if case_reference(pk) == f"{pk:06d}-{match.group(2)}":
            ids = Case.objects.filter(pk=pk, creditor__in=creditors).values_list("debtor_id")
            return [row[0] for row in ids], "file"
    match = PLAN_RE.match(query)
    if match:
        pk = int(match.group(1))
        if case_reference(pk) == f"{pk:06d}-{match.group(2)}":
            ids = Case.objects.filter(pk=pk, creditor__in=creditors).values_list("debtor_id")
            return [row[0] for row in ids], "plan"
    if re.search(r"\d{6,}", re.sub(r"[\s().-]", "", query)):
        try:
            phone = validate_phone(query)
        except ValueError:
            phone = ""
        if phone:
            ids = ContactPoint.objects.filter(
                debtor__creditor__in=creditors,
                kind__in=[ContactKind.PHONE, ContactKind.WHATSAPP],
                value=phone,
            ).values_list("debtor_id", flat=True)
            found = sorted(set(ids))
            if found:
                return found, "phone"
    ids = list(debtors.filter(external_id__iexact=query).values_list("pk", flat=True))
    if ids:
        return ids, "customer"
    ids = Invoice.objects.filter(creditor__in=creditors, external_id__iexact=query).values_list(
        "debtor_id", flat=True
    )
    ids = sorted(set(ids))
    if ids:
        return ids, "invoice"
    return [], ""


def caller_cases(creditors, query: str) -> tuple[list[Case], str]:
    """The cases of the debtors the query names: open ones first, newest first."""
    ids, how = caller_debtors(creditors, query)
    if not ids:
        return [], how
    cases = (
        Case.objects.filter(creditor__in=creditors, debtor_id__in=ids[:MAX_RESULTS])
        .select_related("debtor", "creditor")
        .annotate(
            closed=Switch(
                When(status=CaseStatus.CLOSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-opened_on", "-pk")
    )
    return list(cases[:MAX_RESULTS]), how


@back_office_required
def inbound(request):
    """Look a caller up; one open case opens at once."""
    creditors = visible_creditors(request.user)
    query = request.GET.get("q", "").strip()[:100]
    cases, how = caller_cases(creditors, query) if query else ([], "")
    open_cases = [case for case in cases if case.status != CaseStatus.CLOSED]
    if len(open_cases) == 1 and not request.GET.get("list"):
        return redirect("workspace:case_detail", open_cases[0].pk)
    return TemplateResponse(
        request,
        "workspace/inbound.html",
        {"q": query, "cases": cases, "how": how, "searched": bool(query)},
    )
