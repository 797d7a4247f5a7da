"""Reads for the API, always scoped to the creditors the caller may see."""

from django.db.models import F, QuerySet

from vaarwater.ledger.selectors import debtor_positions, debtors_with_balances
from vaarwater.strategy.models import Case
from vaarwater.workspace.inbound import caller_debtors
from vaarwater.workspace.selectors import case_get, cases_for

MAX_RESULTS = 100


def search_debtor_ids(creditors, text: str, *, limit: int = MAX_RESULTS) -> list[int]:
    """Debtors the text names: a phone number, file or plan reference, customer or invoice
    number (read as at an incoming call), else a part of their name, customer number or
    postcode (as the debtor list searches)."""
    text = (text or "").strip()[:100]
    if not text:
        return []
    ids, _how = caller_debtors(creditors, text)
    if ids:
        return ids[:limit]
    found: list[int] = []
    for creditor in creditors:
        rows = debtors_with_balances(creditor, search=text).order_by("name", "pk")
        found += rows.values_list("pk", flat=True)[: limit - len(found)]
        if len(found) >= limit:
            break
    return found


def cases_search(creditors, text: str = "", *, limit: int = 50) -> list[Case]:
    """Cases of the debtors the text names (all of them without text), open ones first,
    newest first; each with ``balance_cents``, its debtor's balance."""
    limit = max(1, min(limit, MAX_RESULTS))
    cases: QuerySet[Case] = cases_for(creditors)
    if (text or "").strip():
        cases = cases.filter(debtor_id__in=search_debtor_ids(creditors, text, limit=limit))
    found = list(cases.order_by(F("closed_on").asc(nulls_first=True), "-opened_on", "-id")[:limit])
    return with_balances(found)


def case_of(creditors, pk: int) -> Case:
    """One case of the caller's creditors with ``balance_cents``; 404 for any other."""
    return with_balances([case_get(creditors, pk)])[0]


def with_balances(cases: list[Case]) -> list[Case]:
    """Set ``balance_cents`` on each case: what its debtor owes (negative: a credit)."""
    positions = debtor_positions({case.debtor_id for case in cases})
    for case in cases:
        case.balance_cents = positions[case.debtor_id].balance
    return cases
