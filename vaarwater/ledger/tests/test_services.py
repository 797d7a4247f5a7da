"""Ledger services: allocation order, credit, reversals, write-offs — and no cent lost."""

import contextlib
from datetime import date

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaarwater.core.models import AppendOnlyError, Event
from vaarwater.ledger.models import Allocation, Debtor, EntryKind, LedgerEntry, Payment
from vaarwater.ledger.selectors import debtor_balance, debtor_position
from vaarwater.ledger.services import (
    LedgerError,
    charge_book,
    creditor_create,
    entry_reverse,
    invoice_create,
    payment_book,
    write_off,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def debtor(creditor):
    return Debtor.objects.create(creditor=creditor, external_id="D1", name="Jan de Vries")


def make_invoice(debtor, ext, cents, due):
    return invoice_create(
        debtor=debtor, external_id=ext, issue_date=due, due_date=due, amount_cents=cents
    )


def allocations(payment):
    return list(
        payment.allocations.values_list("invoice__external_id", "component", "amount_cents")
    )


def test_payment_goes_to_costs_then_interest_then_principal(debtor):
    """Art. 6:44 BW: costs of every item first, then interest, then principal oldest first."""
    old = make_invoice(debtor, "F1", 10000, date(2026, 1, 15))
    new = make_invoice(debtor, "F2", 10000, date(2026, 2, 15))
    charge_book(
        invoice=new,
        kind=EntryKind.COST,
        amount_cents=4000,
        booked_on=date(2026, 3, 1),
        reason="WIK costs after 14-day letter",
    )
    charge_book(
        invoice=old,
        kind=EntryKind.INTEREST,
        amount_cents=123,
        booked_on=date(2026, 3, 1),
        reason="statutory interest",
    )
    payment = payment_book(
        debtor=debtor, external_id="P1", date=date(2026, 3, 2), amount_cents=15000
    )
    assert allocations(payment) == [
        ("F2", "costs", 4000),
        ("F1", "interest", 123),
        ("F1", "principal", 10000),
        ("F2", "principal", 877),
    ]
    event = Event.objects.get(verb="payment.booked")
    assert "art. 6:44 BW" in event.reason
    assert event.data["credit_cents"] == 0


def test_designated_invoice_first_then_the_rest(debtor):
    """A payment referencing an invoice pays that one first; the rest follows the order."""
    make_invoice(debtor, "F1", 5000, date(2026, 1, 15))
    make_invoice(debtor, "F2", 5000, date(2026, 2, 15))
    payment = payment_book(
        debtor=debtor, external_id="P1", date=date(2026, 3, 1), amount_cents=6000, reference="F2"
    )
    assert allocations(payment) == [("F2", "principal", 5000), ("F1", "principal", 1000)]


def test_overpayment_stays_as_credit_and_pays_the_next_invoice(debtor):
    """An overpayment is credit on the debtor and is applied when a new invoice arrives."""
    make_invoice(debtor, "F1", 5000, date(2026, 1, 15))
    payment_book(debtor=debtor, external_id="P1", date=date(2026, 1, 20), amount_cents=8000)
    assert debtor_position(debtor).credit == 3000
    assert debtor_balance(debtor) == -3000
    make_invoice(debtor, "F2", 5000, date(2026, 2, 15))
    position = debtor_position(debtor)
    assert position.credit == 0
    assert position.items[debtor.invoices.get(external_id="F2").pk].principal == 2000
    assert Event.objects.filter(verb="credit.applied").count() == 1


def test_reversed_payment_undoes_its_allocations(debtor):
    """Reversing a payment reopens what it paid and writes an event with the reason."""
    make_invoice(debtor, "F1", 5000, date(2026, 1, 15))
    payment = payment_book(
        debtor=debtor, external_id="P1", date=date(2026, 1, 20), amount_cents=5000
    )
    assert debtor_balance(debtor) == 0
    entry = payment.entries.get()
    entry_reverse(entry=entry, reason="storno by bank")
    assert debtor_balance(debtor) == 5000
    assert Allocation.objects.filter(payment=payment).aggregate(s=Sum("amount_cents"))["s"] == 0
    with pytest.raises(LedgerError, match="already reversed"):
        entry_reverse(entry=entry, reason="again")


def test_paid_charge_cannot_be_reversed(debtor):
    """A charge that was paid can only be reversed after the payment is."""
    invoice = make_invoice(debtor, "F1", 5000, date(2026, 1, 15))
    payment_book(debtor=debtor, external_id="P1", date=date(2026, 1, 20), amount_cents=1000)
    with pytest.raises(LedgerError, match="reverse those payments first"):
        entry_reverse(entry=invoice.entries.get(), reason="wrong invoice")


def test_write_off_is_limited_to_what_is_open(debtor):
    """A write-off never exceeds the open amount of the component."""
    invoice = make_invoice(debtor, "F1", 5000, date(2026, 1, 15))
    with pytest.raises(LedgerError, match="exceeds the open principal"):
        write_off(invoice=invoice, component="principal", amount_cents=5001, reason="x")
    write_off(invoice=invoice, component="principal", amount_cents=5000, reason="deceased")
    assert debtor_balance(debtor) == 0


def test_entries_are_append_only(debtor):
    """Ledger entries cannot be changed or deleted."""
    invoice = make_invoice(debtor, "F1", 5000, date(2026, 1, 15))
    entry = invoice.entries.get()
    entry.amount_cents = 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_creditor_create_refuses_bad_input(db):
    """Creditor codes, sectors and duplicates are checked."""
    with pytest.raises(LedgerError, match="sector 'bank'"):
        creditor_create(code="X1", name="X", sector="bank")
    with pytest.raises(LedgerError, match="code"):
        creditor_create(code="a b", name="X", sector="energy")
    creditor_create(code="X1", name="X", sector="energy")
    with pytest.raises(LedgerError, match="already exists"):
        creditor_create(code="x1", name="X", sector="energy")


operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(1, 50_000), st.integers(0, 60)),
        st.tuples(st.just("payment"), st.integers(1, 80_000), st.booleans()),
        st.tuples(st.just("cost"), st.integers(1, 5_000), st.integers(0, 10)),
        st.tuples(st.just("interest"), st.integers(1, 2_000), st.integers(0, 10)),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.just(None)),
    ),
    max_size=14,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_any_sequence_keeps_balance_equal_to_entries(creditor, ops):
    """Invoices, payments, costs, interest and reversals in any order: the balance is the sum
    of the entries, allocations never exceed a payment, and no component goes negative."""
    debtor = Debtor.objects.create(
        creditor=creditor, external_id=f"H{Debtor.objects.count()}", name="Hypothesis"
    )
    invoices = []
    for counter, (op, a, b) in enumerate(ops, start=1):
        if op == "invoice":
            invoices.append(
                make_invoice(
                    debtor, f"{debtor.external_id}-F{counter}", a, date(2026, 1, 1 + b % 28)
                )
            )
        elif op == "payment":
            ref = invoices[-1].external_id if (b and invoices) else ""
            payment_book(
                debtor=debtor,
                external_id=f"{debtor.external_id}-P{counter}",
                date=date(2026, 3, 1),
                amount_cents=a,
                reference=ref,
            )
        elif op in ("cost", "interest") and invoices:
            charge_book(
                invoice=invoices[b % len(invoices)],
                kind=EntryKind.COST if op == "cost" else EntryKind.INTEREST,
                amount_cents=a,
                booked_on=date(2026, 3, 1),
                reason="test",
            )
        elif op == "reverse":
            candidates = list(
                LedgerEntry.objects.filter(debtor=debtor, reversed_by__isnull=True).exclude(
                    kind=EntryKind.REVERSAL
                )
            )
            if candidates:
                # A paid charge is refused, and then nothing may have changed.
                with contextlib.suppress(LedgerError):
                    entry_reverse(entry=candidates[a % len(candidates)], reason="test")
    entries_sum = (
        LedgerEntry.objects.filter(debtor=debtor).aggregate(s=Sum("amount_cents"))["s"] or 0
    )
    position = debtor_position(debtor)
    assert debtor_balance(debtor) == entries_sum == position.balance
    assert position.credit >= 0
    for item in position.items.values():
        assert min(item.costs, item.interest, item.principal) >= 0
    for payment in Payment.objects.filter(debtor=debtor):
        booked = -(payment.entries.aggregate(s=Sum("amount_cents"))["s"] or 0)
        allocated = payment.allocations.aggregate(s=Sum("amount_cents"))["s"] or 0
        assert 0 <= allocated <= booked
    paid_in = -(
        LedgerEntry.objects.filter(debtor=debtor, component="payment").aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )
    allocated_all = (
        Allocation.objects.filter(debtor=debtor).aggregate(s=Sum("amount_cents"))["s"] or 0
    )
    assert paid_in == allocated_all + position.credit


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("NL69ZZZ012345670001", "check digits"),
        ("NL68ZZZ", "expected country"),
        ("68NLZZZ012345670001", "expected country"),
    ],
)
def test_sepa_creditor_id_is_checked(db, raw, problem):
    with pytest.raises(ValueError, match=problem):
        creditor_create(code="X1", name="X", sector="energy", sepa_creditor_id=raw)


def test_sepa_creditor_id_is_stored_compact(db):
    creditor = creditor_create(
        code="X2", name="X", sector="water", sepa_creditor_id="nl68 zzz 0123 4567 0001"
    )
    assert creditor.sepa_creditor_id == "NL68ZZZ012345670001"


def test_cli_sets_the_sepa_creditor_id(db):
    from django.core.management import call_command

    creditor_create(code="X3", name="X", sector="water")
    call_command("creditor", "letterhead", "X3", "--sepa-creditor-id", "NL68ZZZ012345670001")
    from vaarwater.ledger.models import Creditor

    assert Creditor.objects.get(code="X3").sepa_creditor_id == "NL68ZZZ012345670001"


def test_allocation_move_lets_payments_count_towards_the_debt_itself(creditor):
    """Costs paid first by art. 6:44 move to principal; no cent is made or lost."""
    from vaarwater.ledger.models import Component
    from vaarwater.ledger.services import allocation_move, charge_book, write_off

    debtor = Debtor.objects.create(creditor=creditor, external_id="M1", name="A. Move")
    invoice = invoice_create(
        debtor=debtor,
        external_id="F-M1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1),
        amount_cents=10000,
    )
    charge_book(
        invoice=invoice,
        kind=EntryKind.COST,
        amount_cents=1500,
        booked_on=date(2026, 3, 1),
        reason="incassokosten",
    )
    payment = payment_book(
        debtor=debtor, external_id="PM1", date=date(2026, 3, 5), amount_cents=10000
    )
    before = debtor_position(debtor).items[invoice.pk]
    assert (before.costs, before.principal) == (0, 1500)
    with pytest.raises(ValueError, match="reason"):
        allocation_move(
            debtor=debtor, payments=[payment], from_component="costs", amount_cents=1, reason=""
        )
    moved = allocation_move(
        debtor=debtor,
        payments=[payment],
        from_component=Component.COSTS,
        amount_cents=5000,
        reason="regeling nagekomen",
    )
    assert moved == 1500  # no more than the payment paid on costs and principal is open
    after = debtor_position(debtor).items[invoice.pk]
    assert (after.costs, after.principal) == (1500, 0)
    assert payment.allocations.aggregate(s=Sum("amount_cents"))["s"] == 10000
    write_off(invoice=invoice, component="costs", amount_cents=1500, reason="kwijtgescholden")
    assert debtor_balance(debtor) == 0 and not debtor_position(debtor).items
