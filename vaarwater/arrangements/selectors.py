"""Reads of payment plans and promises to pay, always scoped to a case, debtor or creditor."""

from __future__ import annotations

import re

from django.db.models import Count, QuerySet

from vaarwater.strategy.models import case_reference

from .models import (
    Arrangement,
    ArrangementStatus,
    Instalment,
    InstalmentStatus,
    Promise,
    PromiseStatus,
)

REFERENCE_PREFIX = "RGL"
# "RGL" + the case reference's digits (six or more, and its check digit) + a two-digit number
# of the plan within the case: RGL000012701. Typed into a bank transfer it may come back with
# spaces, dots or dashes between the digits, in lower case, or glued to other text.
REFERENCE_RE = re.compile(r"RGL[\s.:\-/]*(\d(?:[\s.\-]?\d){8,})", re.IGNORECASE)


def plan_reference(case, number: int) -> str:
    """The payment reference of a case's ``number``-th plan: short, printable, easy to type.

    >>> from types import SimpleNamespace
    >>> plan_reference(SimpleNamespace(pk=12), 1)
    'RGL000012701'
    """
    if not 1 <= number <= 99:
        raise ValueError(f"plan number {number}: a case has at most 99 plans")
    return f"{REFERENCE_PREFIX}{case_reference(case.pk).replace('-', '')}{number:02d}"


def reference_candidates(text: str) -> list[str]:
    """The plan references that may be in a free text (a transfer's description), checked.

    A candidate's case part must carry the right check digit, so a random number after "RGL"
    is not taken for a reference.

    >>> reference_candidates("Betaling termijn rgl 0000 1270 1 dank u")
    ['RGL000012701']
    >>> reference_candidates("RGL000012801")  # wrong check digit
    []
    >>> reference_candidates("kenmerk RGL-000012-7-01/2")
    ['RGL000012701']
    """
    found: list[str] = []
    for match in REFERENCE_RE.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group(1))
        # The digits may run on into other numbers: try every length from the shortest.
        for length in range(9, len(digits) + 1):
            head = digits[:length]
            case_digits, check = head[:-3], head[-3]
            if case_reference(int(case_digits)) == f"{case_digits}-{check}":
                reference = REFERENCE_PREFIX + head
                if reference not in found:
                    found.append(reference)
    return found


def arrangement_by_reference(creditor, text: str) -> Arrangement | None:
    """The creditor's plan whose payment reference is in ``text``; an active one first.

    A regular expression finds the candidates, one query looks them up.
    """
    candidates = reference_candidates(text)
    if not candidates:
        return None
    rows = list(
        Arrangement.objects.filter(creditor=creditor, reference__in=candidates).select_related(
            "case", "debtor"
        )
    )
    if not rows:
        return None
    rows.sort(key=lambda a: (a.status != ArrangementStatus.ACTIVE, candidates.index(a.reference)))
    return rows[0]


def active_arrangement(case) -> Arrangement | None:
    """The case's active plan, if any (there is at most one)."""
    return Arrangement.objects.filter(case=case, status=ArrangementStatus.ACTIVE).first()


def case_arrangements(case) -> QuerySet[Arrangement]:
    """Every plan of a case, newest first, with its instalments."""
    return (
        Arrangement.objects.filter(case=case)
        .prefetch_related("instalments")
        .order_by("-accepted_on", "-id")
    )


def arrangement_instalments(arrangement) -> list[Instalment]:
    return list(arrangement.instalments.order_by("number"))


def arrangement_progress(arrangement) -> tuple[int, int, int, int]:
    """(instalments paid, instalments, cents paid, cents the plan covers)."""
    rows = arrangement.instalments.values_list("status", flat=True)
    statuses = list(rows)
    paid = sum(1 for status in statuses if status == InstalmentStatus.PAID)
    return paid, len(statuses), arrangement.paid_cents, arrangement.total_cents


def open_promise(case) -> Promise | None:
    """The case's open promise to pay, if any (a new promise replaces the old one)."""
    return (
        Promise.objects.filter(case=case, status=PromiseStatus.OPEN).order_by("-made_on", "-id")
    ).first()


def debtor_promises(debtor) -> QuerySet[Promise]:
    """Every promise of a debtor, newest first."""
    return Promise.objects.filter(debtor=debtor).order_by("-made_on", "-id")


def broken_promise_counts(debtor_ids) -> dict[int, int]:
    """How many promises each debtor broke (all time): a fact the strategy's segments read."""
    rows = (
        Promise.objects.filter(debtor_id__in=list(debtor_ids), status=PromiseStatus.BROKEN)
        .values("debtor_id")
        .annotate(n=Count("id"))
        .values_list("debtor_id", "n")
    )
    return dict(rows)


def arrangement_replaceable(arrangement) -> bool:
    """A plan may be replaced by a new one once an instalment of it was missed."""
    return arrangement.misses > 0 or arrangement.instalments.filter(status="missed").exists()
