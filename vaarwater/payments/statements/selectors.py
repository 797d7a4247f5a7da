"""Reads for the statement worklists, always scoped to the creditors a user may see."""

from django.db.models import Q

from vaarwater.ledger.models import Debtor
from vaarwater.payments.statement_models import (
    EntryStatus,
    Statement,
    StatementEntry,
    StatementStatus,
)


def unmatched_entries(creditors):
    """Incoming payments the matching could not place, of the given creditors, newest first."""
    return (
        StatementEntry.objects.filter(creditor__in=creditors, status=EntryStatus.UNMATCHED)
        .select_related("statement")
        .order_by("-booking_date", "-id")
    )


def unknown_statements():
    """Statements of an account no creditor has (not scoped: only for superusers)."""
    return Statement.objects.filter(status=StatementStatus.UNKNOWN_ACCOUNT).defer("raw")


def recent_statements(creditors, limit: int = 20):
    return (
        Statement.objects.filter(creditor__in=creditors)
        .defer("raw")
        .order_by("-created_at", "-id")[:limit]
    )


def entry_for(creditors, pk: int) -> StatementEntry | None:
    return StatementEntry.objects.filter(creditor__in=creditors, pk=pk).first()


def debtor_search(creditor, text: str, limit: int = 20):
    """Debtors of one creditor by customer number (exact) or name (part of it)."""
    text = (text or "").strip()
    if not text:
        return Debtor.objects.none()
    return Debtor.objects.for_creditor(creditor).filter(
        Q(external_id__iexact=text) | Q(name__icontains=text)
    )[:limit]


def debtor_of(creditor, pk) -> Debtor | None:
    """One debtor of this creditor, or None (never another creditor's)."""
    return Debtor.objects.for_creditor(creditor).filter(pk=pk).first()


def unknown_statement(pk: int) -> Statement | None:
    return unknown_statements().filter(pk=pk).first()
