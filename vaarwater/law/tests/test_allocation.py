from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaarwater.law import Allocation, AllocationLine, OpenItem, allocate
from vaarwater.law.allocation import COMPONENTS

JAN = date(2025, 1, 1)
FEB = date(2025, 2, 1)
MAR = date(2025, 3, 1)


def d(value: str) -> Decimal:
    return Decimal(value)


def lines(allocation: Allocation) -> list[tuple[str, str, Decimal]]:
    return [(ln.key, ln.component, ln.amount) for ln in allocation.lines]


def test_costs_then_interest_then_principal():
    """Within one item the payment goes to costs, then interest, then principal."""
    item = OpenItem("F-1", JAN, costs=d("40"), interest=d("5"), principal=d("100"))
    result = allocate(d("50.00"), [item])
    assert lines(result) == [
        ("F-1", "costs", d("40")),
        ("F-1", "interest", d("5")),
        ("F-1", "principal", d("5")),
    ]
    assert result.credit == d("0.00")


def test_all_costs_before_any_interest_before_any_principal():
    """Across items, all costs come first, then all interest, then all principal, oldest first."""
    items = [
        OpenItem("new", MAR, costs=d("10"), interest=d("2"), principal=d("30")),
        OpenItem("old", JAN, costs=d("20"), interest=d("1"), principal=d("50")),
    ]
    result = allocate(d("100.00"), items)
    assert lines(result) == [
        ("old", "costs", d("20")),
        ("new", "costs", d("10")),
        ("old", "interest", d("1")),
        ("new", "interest", d("2")),
        ("old", "principal", d("50")),
        ("new", "principal", d("17")),
    ]
    assert result.credit == 0


def test_oldest_first_and_ties_keep_given_order():
    """Older items are paid first; items of the same date in the order given."""
    items = [
        OpenItem("b", FEB, principal=d("10")),
        OpenItem("c", JAN, principal=d("10")),
        OpenItem("a", FEB, principal=d("10")),
    ]
    assert [ln.key for ln in allocate(d("25.00"), items).lines] == ["c", "b", "a"]


def test_designated_item_first_but_its_costs_and_interest_before_its_principal():
    """A designated invoice is paid first, and within it costs and interest before principal."""
    items = [
        OpenItem("old", JAN, costs=d("40"), principal=d("100")),
        OpenItem("chosen", FEB, costs=d("15"), interest=d("3"), principal=d("60")),
    ]
    result = allocate(d("100.00"), items, designated="chosen")
    assert lines(result) == [
        ("chosen", "costs", d("15")),
        ("chosen", "interest", d("3")),
        ("chosen", "principal", d("60")),
        ("old", "costs", d("22")),
    ]


def test_designation_smaller_than_the_item():
    """A payment smaller than the designated item goes to that item only."""
    items = [
        OpenItem("old", JAN, costs=d("40"), principal=d("100")),
        OpenItem("chosen", FEB, costs=d("15"), principal=d("60")),
    ]
    result = allocate(d("20.00"), items, designated="chosen")
    assert lines(result) == [("chosen", "costs", d("15")), ("chosen", "principal", d("5"))]


def test_overpayment_stays_as_credit():
    """What is left after everything is paid becomes credit for the debtor."""
    item = OpenItem("F-1", JAN, costs=d("40"), principal=d("100"))
    result = allocate(d("150.25"), [item])
    assert result.credit == d("10.25")
    assert sum(ln.amount for ln in result.lines) + result.credit == d("150.25")


def test_no_open_items_is_all_credit():
    """With nothing open, the whole payment is credit."""
    assert allocate(d("12.34"), []) == Allocation(lines=(), credit=d("12.34"))


def test_zero_components_give_no_lines():
    """Components with nothing owed produce no allocation line."""
    result = allocate(d("5.00"), [OpenItem("F-1", JAN, principal=d("10"))])
    assert result.lines == (AllocationLine("F-1", "principal", d("5.00")),)


@pytest.mark.parametrize(
    "amount", [d("0"), d("-1.00"), d("1.001"), 10.0, 10, d("Infinity")]
)  # fmt: skip
def test_bad_amount_is_refused(amount):
    """A payment that is not a positive cent-exact Decimal raises ValueError."""
    with pytest.raises(ValueError):
        allocate(amount, [])


def test_negative_or_float_component_is_refused():
    """An open item with a negative or float component raises ValueError."""
    with pytest.raises(ValueError, match="more"):
        allocate(d("1.00"), [OpenItem("F-1", JAN, principal=d("-1"))])
    with pytest.raises(ValueError, match="float"):
        allocate(d("1.00"), [OpenItem("F-1", JAN, costs=1.0)])


def test_unknown_designation_is_refused():
    """Designating an invoice that is not open raises ValueError."""
    with pytest.raises(ValueError, match="not among"):
        allocate(d("1.00"), [OpenItem("F-1", JAN, principal=d("1"))], designated="F-2")


def test_duplicate_keys_are_refused():
    """Two open items with the same key raise ValueError."""
    items = [OpenItem("F-1", JAN, principal=d("1")), OpenItem("F-1", FEB, principal=d("1"))]
    with pytest.raises(ValueError, match="unique"):
        allocate(d("1.00"), items)


cents = st.integers(min_value=0, max_value=100_000).map(lambda c: Decimal(c) / 100)
item_lists = st.lists(
    st.tuples(st.dates(min_value=JAN, max_value=date(2025, 3, 31)), cents, cents, cents),
    max_size=6,
).map(
    lambda rows: [
        OpenItem(f"F-{i}", day, costs=c, interest=n, principal=p)
        for i, (day, c, n, p) in enumerate(rows)
    ]
)


@given(
    items=item_lists,
    amount=st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c) / 100),
    data=st.data(),
)
def test_no_cent_is_created_lost_or_misordered(items, amount, data):
    """Allocation conserves every cent, never over-allocates, and never skips an open component."""
    designated = data.draw(st.sampled_from([None] + [item.key for item in items]))
    result = allocate(amount, items, designated=designated)

    assert sum((ln.amount for ln in result.lines), result.credit) == amount
    assert result.credit >= 0
    assert all(ln.amount > 0 for ln in result.lines)

    # Rank every component independently of the implementation: designated item first.
    by_age = sorted(items, key=lambda item: item.date)
    rank = [(item, c) for c in COMPONENTS for item in by_age]
    if designated is not None:
        chosen = next(item for item in items if item.key == designated)
        rank = [(chosen, c) for c in COMPONENTS] + [r for r in rank if r[0] is not chosen]
    paid = {(ln.key, ln.component): ln.amount for ln in result.lines}
    assert len(paid) == len(result.lines)  # each component in at most one line
    still_open = False
    for item, component in rank:
        owed = getattr(item, component)
        got = paid.get((item.key, component), Decimal(0))
        assert got <= owed
        if still_open:
            assert got == 0, f"{item.key} {component} paid while an earlier one is open"
        if got < owed:
            still_open = True
    if result.credit > 0:
        assert not still_open
    ordered = [(ln.key, ln.component) for ln in result.lines]
    ranked = [(item.key, c) for item, c in rank if (item.key, c) in paid]
    assert ordered == ranked
