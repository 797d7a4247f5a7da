"""What the matching left for a person: book an entry on a debtor by hand, or ignore it."""

from django.db import transaction
from django.utils import timezone

from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.models import Debtor, PaymentSource
from vaarwater.ledger.services import payment_book
from vaarwater.payments.statement_models import EntryStatus, StatementEntry

from .matching import METHOD_MANUAL, payment_id_for


class WorklistError(ValueError):
    """A worklist action that does not fit the entry (already resolved, a debit, ...)."""


def _locked(entry: StatementEntry) -> StatementEntry:
    entry = StatementEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != EntryStatus.UNMATCHED:
        raise WorklistError(
            f"this entry is no longer in the worklist ({entry.get_status_display()})"
        )
    return entry


def entry_assign(
    *, entry: StatementEntry, debtor: Debtor, actor: Actor, note: str = ""
) -> StatementEntry:
    """Book an unmatched incoming payment on a debtor chosen by hand, with why."""
    if debtor.creditor_id != entry.creditor_id:
        raise WorklistError("the debtor is not a customer of this statement's creditor")
    with transaction.atomic():
        entry = _locked(entry)
        if entry.amount_cents <= 0:
            raise WorklistError("only money received can be booked on a customer")
        if entry.currency != "EUR":
            raise WorklistError(f"the amount is in {entry.currency}: book it by hand")
        reason = f"assigned by hand by {actor.label}" + (f": {note}" if note else "")
        entry.payment = payment_book(
            debtor=debtor,
            external_id=payment_id_for(entry),
            date=entry.booking_date,
            amount_cents=entry.amount_cents,
            reference=(entry.remittance or entry.end_to_end_id)[:200],
            source=PaymentSource.BANK,
            actor=actor,
        )
        entry.status = EntryStatus.BOOKED
        entry.debtor = debtor
        entry.match_method = METHOD_MANUAL
        entry.match_reason = reason
        entry.resolved_by = actor.label[:200]
        entry.resolved_at = timezone.now()
        entry.save(
            update_fields=[
                "payment",
                "status",
                "debtor",
                "match_method",
                "match_reason",
                "resolved_by",
                "resolved_at",
            ]
        )
        event_record(
            creditor=entry.creditor_id,
            debtor=debtor,
            verb="statement.entry_assigned",
            actor=actor,
            subject=entry,
            reason=note or reason,
            data={
                "amount_cents": entry.amount_cents,
                "booking_date": entry.booking_date.isoformat(),
                "payment": entry.payment_id,
            },
            on=entry.booking_date,
        )
    return entry


def entry_ignore(*, entry: StatementEntry, reason: str, actor: Actor) -> StatementEntry:
    """Take an entry off the worklist without booking it (not a customer payment), with why."""
    reason = (reason or "").strip()
    if not reason:
        raise WorklistError("say why the entry is ignored")
    with transaction.atomic():
        entry = _locked(entry)
        entry.status = EntryStatus.IGNORED
        entry.match_method = METHOD_MANUAL
        entry.match_reason = f"ignored by {actor.label}: {reason}"
        entry.resolved_by = actor.label[:200]
        entry.resolved_at = timezone.now()
        entry.save(
            update_fields=["status", "match_method", "match_reason", "resolved_by", "resolved_at"]
        )
        event_record(
            creditor=entry.creditor_id,
            verb="statement.entry_ignored",
            actor=actor,
            subject=entry,
            reason=reason,
            data={"amount_cents": entry.amount_cents, "booking_date": str(entry.booking_date)},
            on=entry.booking_date,
        )
    return entry
