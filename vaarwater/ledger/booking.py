"""Book many payments at once: what ``ledger.services.payment_book`` does, in bulk.

A statement can hold 100,000 payments. ``payment_book`` costs about ten queries each (lock,
designated invoice, position, inserts, event): minutes for one statement. This books the same
rows, with the same allocation (``position_allocate``, art. 6:44 BW) and the same
``payment.booked`` event, reading the debtors' positions once and writing with bulk inserts.
It is the ledger's bulk verb (the statement import uses it); ``tests/test_bulk_booking`` checks
that both give identical ledgers, so a change to ``payment_book`` must be made here too.
"""

from dataclasses import dataclass
from datetime import date

from vaarwater.core.events import Actor, event_fields
from vaarwater.core.models import Event
from vaarwater.ledger.models import (
    Allocation,
    Component,
    Debtor,
    EntryKind,
    Invoice,
    LedgerEntry,
    Payment,
)
from vaarwater.ledger.selectors import debtor_positions, position_allocate
from vaarwater.ledger.services import PAYMENT_ALLOCATION_REASON as REASON

CHUNK = 900  # ids per IN (...) query: below SQLite's variable limit
BULK_SIZE = 1000


@dataclass
class Booking:
    debtor_id: int
    external_id: str
    date: date
    amount_cents: int
    reference: str = ""


def _chunks(values, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def payments_book(*, creditor, bookings: list[Booking], source: str, actor: Actor) -> list[Payment]:
    """Book and allocate payments of one creditor's debtors, in the order given.

    Trusted: the caller holds the transaction; every debtor is the creditor's; amounts are
    positive; external ids are new. Returns the payments in the order of ``bookings``.
    """
    if not bookings:
        return []
    debtor_ids = sorted({b.debtor_id for b in bookings})
    positions = {}
    numbers: dict[int, str] = {}
    by_number: dict[tuple[int, str], int] = {}
    for chunk in _chunks(debtor_ids):
        # The same lock payment_book takes, for all of them at once.
        list(Debtor.objects.select_for_update().filter(pk__in=chunk).values_list("pk"))
        positions.update(debtor_positions(chunk))
        for pk, debtor_id, number in Invoice.objects.filter(debtor_id__in=chunk).values_list(
            "pk", "debtor_id", "external_id"
        ):
            numbers[pk] = number
            by_number.setdefault((debtor_id, number.upper()), pk)
    payments = [
        Payment(
            creditor_id=creditor.pk,
            debtor_id=b.debtor_id,
            external_id=b.external_id,
            date=b.date,
            amount_cents=b.amount_cents,
            reference=b.reference,
            # The invoice whose number is the reference (art. 6:43 BW), as payment_book does.
            designated_invoice_id=by_number.get((b.debtor_id, b.reference.strip().upper()))
            if b.reference.strip()
            else None,
            source=source,
        )
        for b in bookings
    ]
    Payment.objects.bulk_create(payments, batch_size=BULK_SIZE)
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                creditor_id=creditor.pk,
                debtor_id=p.debtor_id,
                kind=EntryKind.PAYMENT,
                component=Component.PAYMENT,
                amount_cents=-p.amount_cents,
                booked_on=p.date,
                payment=p,
                description=p.reference,
            )
            for p in payments
        ],
        batch_size=BULK_SIZE,
    )
    allocations, events = [], []
    for payment in payments:
        lines = position_allocate(
            positions[payment.debtor_id], payment.amount_cents, payment.designated_invoice_id
        )
        allocations += [
            Allocation(
                creditor_id=creditor.pk,
                debtor_id=payment.debtor_id,
                payment=payment,
                invoice_id=invoice_id,
                component=component,
                amount_cents=cents,
            )
            for invoice_id, component, cents in lines
        ]
        named = [[numbers[invoice_id], component, cents] for invoice_id, component, cents in lines]
        designated = numbers.get(payment.designated_invoice_id)
        events.append(
            Event(
                **event_fields(
                    creditor=creditor.pk,
                    debtor=payment.debtor_id,
                    verb="payment.booked",
                    actor=actor,
                    subject=payment,
                    reason=REASON + (f"; designated invoice {designated}" if designated else ""),
                    data={
                        "amount_cents": payment.amount_cents,
                        "allocations": named,
                        "credit_cents": payment.amount_cents - sum(line[2] for line in lines),
                    },
                )
            )
        )
    Allocation.objects.bulk_create(allocations, batch_size=BULK_SIZE)
    Event.objects.bulk_create(events, batch_size=BULK_SIZE)
    return payments
