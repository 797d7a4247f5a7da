"""The statement import books many payments at once; the ledger must be exactly what
``payment_book`` would have made of the same payments, one by one."""

from datetime import date

import pytest

from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.booking import Booking, payments_book
from vaarwater.ledger.models import Allocation, Debtor, EntryKind, LedgerEntry, Payment
from vaarwater.ledger.services import charge_book, invoice_create, payment_book

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
PAYMENTS = [  # (amount, reference): partial, designated, overpaying, plain text
    (5000, ""),
    (2000, "INV-3"),
    (7000, "factuur"),
    (50000, ""),
    (100, "inv-2"),
]


def a_debtor(creditor, number: str) -> Debtor:
    debtor = Debtor.objects.create(creditor=creditor, external_id=number, name="Jan")
    for n, (amount, due) in enumerate(
        [(10000, date(2026, 3, 1)), (4000, date(2026, 5, 1)), (6000, date(2026, 4, 1))], 1
    ):
        invoice = invoice_create(
            debtor=debtor,
            external_id=f"INV-{n}",
            issue_date=due.replace(day=1),
            due_date=due,
            amount_cents=amount,
        )
        if n != 2:
            charge_book(
                invoice=invoice,
                kind=EntryKind.COST,
                amount_cents=1500,
                booked_on=date(2026, 6, 1),
                reason="WIK",
            )
            charge_book(
                invoice=invoice,
                kind=EntryKind.INTEREST,
                amount_cents=123,
                booked_on=date(2026, 6, 1),
                reason="6:119",
            )
    return debtor


def ledger_of(debtor):
    payments = list(Payment.objects.filter(debtor=debtor).order_by("id"))
    return {
        "payments": [
            (p.amount_cents, p.reference, getattr(p.designated_invoice, "external_id", None))
            for p in payments
        ],
        "entries": sorted(
            LedgerEntry.objects.filter(debtor=debtor, kind=EntryKind.PAYMENT).values_list(
                "amount_cents", "component", "booked_on", "description"
            )
        ),
        "allocations": [
            [
                (a.invoice.external_id, a.component, a.amount_cents)
                for a in Allocation.objects.filter(payment=p).order_by("id")
            ]
            for p in payments
        ],
        "events": [
            (e.reason, e.data)
            for e in Event.objects.filter(debtor=debtor, verb="payment.booked").order_by("id")
        ],
    }


def test_bulk_booking_is_payment_book_in_bulk(creditor, other_creditor):
    """Same debtor, invoices, costs and interest at two creditors; the same payments."""
    one_by_one, in_bulk = a_debtor(creditor, "A"), a_debtor(other_creditor, "B")
    for n, (amount, reference) in enumerate(PAYMENTS):
        payment_book(
            debtor=one_by_one,
            external_id=f"a{n}",
            date=date(2026, 7, 1 + n),
            amount_cents=amount,
            reference=reference,
            source="bank",
            actor=ACTOR,
        )
    payments = payments_book(
        creditor=other_creditor,
        bookings=[
            Booking(in_bulk.pk, f"b{n}", date(2026, 7, 1 + n), amount, reference)
            for n, (amount, reference) in enumerate(PAYMENTS)
        ],
        source="bank",
        actor=ACTOR,
    )
    assert [p.external_id for p in payments] == [f"b{n}" for n in range(len(PAYMENTS))]
    expected, got = ledger_of(one_by_one), ledger_of(in_bulk)
    assert got == expected
    assert expected["payments"][1][2] == "INV-3" and expected["payments"][4][2] == "INV-2"
    assert expected["events"][3][1]["credit_cents"] > 0  # the overpayment stays as credit
