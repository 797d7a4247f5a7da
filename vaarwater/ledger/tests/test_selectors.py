"""position_allocate: the shortcut over candidate items allocates exactly as the law does."""

import copy
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from vaarwater.core.money import from_cents, to_cents
from vaarwater.law import allocate
from vaarwater.ledger.selectors import DebtorPosition, InvoiceOpen, position_allocate

item = st.tuples(
    st.integers(0, 60),
    st.sampled_from([0, 0, 0, 4000, 777]),
    st.sampled_from([0, 0, 0, 123, 5]),
    st.integers(0, 30_000),
)


@given(
    items=st.lists(item, max_size=12), amount=st.integers(1, 120_000), designate=st.integers(-1, 12)
)
def test_position_allocate_matches_full_allocation(items, amount, designate):
    """Allocating over only the candidate items gives the same lines and credit."""
    position = DebtorPosition(debtor_id=1)
    for n, (days, costs, interest, principal) in enumerate(items, start=1):
        if costs + interest + principal:
            position.items[n] = InvoiceOpen(
                n, date(2026, 1, 1) + timedelta(days=days), costs, interest, principal
            )
    designated = designate if designate in position.items else None
    full_items = sorted(position.items.values(), key=lambda it: (it.due_date, it.invoice_id))
    expected = allocate(
        from_cents(amount),
        [it.as_open_item() for it in full_items],
        designated=str(designated) if designated else None,
    )
    before = copy.deepcopy(position)
    lines = position_allocate(position, amount, designated)
    assert lines == [(int(x.key), x.component, to_cents(x.amount)) for x in expected.lines]
    assert position.credit == before.credit + to_cents(expected.credit)
    assert before.open_total - position.open_total == sum(c for _, _, c in lines)


def test_open_positions_equal_debtor_positions_on_a_generated_portfolio(tmp_path, creditor):
    from datetime import date

    from vaarwater.ledger.generator import generate_portfolio
    from vaarwater.ledger.importing import csv_import
    from vaarwater.ledger.models import Debtor
    from vaarwater.ledger.selectors import debtor_positions, open_positions

    generate_portfolio(debtors=150, seed=11, as_of=date(2026, 11, 1), out=tmp_path)
    for kind in ("debtors", "invoices", "payments"):
        csv_import(kind=kind, path=tmp_path / f"{kind}.csv", creditor=creditor)
    from vaarwater.ledger.services import payment_book

    ids = list(Debtor.objects.values_list("pk", flat=True))
    payment_book(  # an overpayment: credit
        debtor=Debtor.objects.get(pk=ids[0]),
        external_id="OVER",
        date=date(2026, 11, 2),
        amount_cents=10_000_000,
    )
    slow, fast = debtor_positions(ids), open_positions(ids)
    assert fast == slow
    assert any(position.items for position in fast.values())
    assert any(position.credit for position in fast.values())
