from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaarwater.law.affordability import (
    FLOOR_FILE_ENV,
    HOUSEHOLDS,
    LINE_CAPACITY,
    LINE_NOTHING_LEFT,
    FloorRow,
    load_floors,
    monthly_capacity,
    protected_floor,
    table_outdated,
)

JULY_2025 = date(2025, 7, 1)
D = Decimal


def two_rows() -> tuple[FloorRow, ...]:
    return (
        FloorRow(JULY_2025, D("2093.67"), D("2264.67"), D("2771.07"), D("2888.00")),
        FloorRow(date(2026, 1, 1), D("2100.00"), D("2270.00"), D("2780.00"), D("2900.00")),
    )


@pytest.mark.parametrize(
    ("household", "amount"),
    [
        ("single", "2093.67"),
        ("single_parent", "2264.67"),
        ("couple", "2771.07"),
        ("couple_children", "2888.00"),
    ],
)
def test_floor_per_household_from_july_2025(household, amount):
    """The shipped table holds the maxima from 2025-07-01 for each household type."""
    assert protected_floor(household, JULY_2025) == D(amount)
    assert protected_floor(household, date(2025, 12, 31)) == D(amount)


def test_shipped_table_has_only_the_given_row():
    """Only the row given in the design is shipped; no other years are invented."""
    assert [row.valid_from for row in load_floors()] == [JULY_2025]


def test_row_boundaries():
    """A row applies from its first day on; the day before, the previous row applies."""
    table = two_rows()
    assert protected_floor("single", date(2025, 12, 31), table=table) == D("2093.67")
    assert protected_floor("single", date(2026, 1, 1), table=table) == D("2100.00")
    assert protected_floor("couple", date(2030, 1, 1), table=table) == D("2780.00")


def test_before_the_first_row_is_an_error():
    """Before the table starts no floor is known: a clear error, not a guess."""
    with pytest.raises(ValueError, match="no beslagvrije voet known on 2025-06-30"):
        protected_floor("single", date(2025, 6, 30))


def test_unknown_household_is_an_error():
    """A household outside the four types is refused, naming the allowed ones."""
    with pytest.raises(ValueError, match="household must be one of single, single_parent"):
        protected_floor("family", JULY_2025)
    with pytest.raises(ValueError, match="household must be one of"):
        monthly_capacity(
            net_income=D("1"),
            household="",
            fixed_costs=D("0"),
            other_instalments=D("0"),
            on=JULY_2025,
        )


def test_table_outdated_after_six_months():
    """The newest row from 1 July is outdated from the next 1 January (new amounts are due)."""
    assert not table_outdated(JULY_2025)
    assert not table_outdated(date(2025, 12, 31))
    assert table_outdated(date(2026, 1, 1))
    assert not table_outdated(date(2026, 1, 1), table=two_rows())
    capacity = monthly_capacity(
        net_income=D("3000.00"),
        household="single",
        fixed_costs=D("0"),
        other_instalments=D("0"),
        on=date(2026, 2, 1),
    )
    assert capacity.table_outdated
    assert capacity.floor_valid_from == JULY_2025


def test_capacity_uses_the_floor_when_fixed_costs_are_lower():
    """Net income − floor − other instalments, with each step explained."""
    capacity = monthly_capacity(
        net_income=D("2600.00"),
        household="couple_children",
        fixed_costs=D("1500.00"),
        other_instalments=D("0.00"),
        on=date(2025, 10, 1),
    )
    # 2600.00 − 2888.00 < 0: nothing left.
    assert capacity.capacity == D("0.00")
    assert capacity.lines[-1] == (LINE_NOTHING_LEFT, D("0.00"))

    capacity = monthly_capacity(
        net_income=D("3200.00"),
        household="couple_children",
        fixed_costs=D("1500.00"),
        other_instalments=D("50.00"),
        on=date(2025, 10, 1),
    )
    assert capacity.capacity == D("262.00")  # 3200 − 2888 − 50
    assert capacity.need == D("2888.00")
    assert capacity.lines[-1] == (LINE_CAPACITY, D("262.00"))
    signed = [amount for label, amount in capacity.lines if label != LINE_CAPACITY]
    assert signed[0] + signed[3] + signed[4] == capacity.capacity


def test_capacity_uses_fixed_costs_when_higher_than_the_floor():
    """Fixed costs above the protected floor are what the household needs."""
    capacity = monthly_capacity(
        net_income=D("3000.00"),
        household="single",
        fixed_costs=D("2500.00"),
        other_instalments=D("100.00"),
        on=JULY_2025,
    )
    assert capacity.need == D("2500.00")
    assert capacity.capacity == D("400.00")


@pytest.mark.parametrize("bad", [D("-1.00"), D("1.005"), 12.5, D("NaN")])
def test_bad_amounts_are_refused(bad):
    """Negative, sub-cent, float or non-finite amounts are refused, naming the field."""
    with pytest.raises(ValueError, match="fixed_costs"):
        monthly_capacity(
            net_income=D("1000.00"),
            household="single",
            fixed_costs=bad,
            other_instalments=D("0"),
            on=JULY_2025,
        )


@given(
    income=st.integers(0, 10_000_000),
    fixed=st.integers(0, 10_000_000),
    other=st.integers(0, 10_000_000),
    household=st.sampled_from(HOUSEHOLDS),
    on=st.dates(JULY_2025, date(2030, 12, 31)),
)
def test_capacity_is_never_negative_and_never_above_income(income, fixed, other, household, on):
    """Whatever the amounts, 0 ≤ capacity ≤ net income − floor."""
    cents = D("0.01")
    capacity = monthly_capacity(
        net_income=income * cents,
        household=household,
        fixed_costs=fixed * cents,
        other_instalments=other * cents,
        on=on,
    )
    assert capacity.capacity >= 0
    assert capacity.capacity <= max(D(0), income * cents - capacity.floor)
    assert capacity.capacity == max(D(0), income * cents - capacity.need - other * cents)


def write(tmp_path, text: str):
    path = tmp_path / "voet.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_custom_file_through_the_environment(tmp_path, monkeypatch):
    """A newer table can be used without a code change, through the environment."""
    path = write(
        tmp_path,
        "valid_from;single;single_parent;couple;couple_children\n"
        "2025-07-01;2093.67;2264.67;2771.07;2888.00\n"
        "2026-01-01;2110.00;2280.00;2790.00;2910.00\n",
    )
    monkeypatch.setenv(FLOOR_FILE_ENV, str(path))
    assert protected_floor("single", date(2026, 2, 1)) == D("2110.00")
    assert not table_outdated(date(2026, 2, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("valid_from;single;couple\n2025-07-01;1;2\n", "line 1: missing column"),
        (
            "valid_from;single;single_parent;couple;couple_children\n"
            "2025-07-01;2093.67;2264.67;2771.07;2888.00\n"
            "1-7-2026;1;1;1;1\n",
            "line 3, field valid_from: '1-7-2026' is not a date",
        ),
        (
            "valid_from;single;single_parent;couple;couple_children\n"
            "2025-07-01;2093,67;2264.67;2771.07;2888.00\n",
            "line 2, field single: '2093,67' is not an amount",
        ),
        (
            "valid_from;single;single_parent;couple;couple_children\n"
            "2025-07-01;2093.67;-1;2771.07;2888.00\n",
            "line 2, field single_parent: '-1' must be more than zero",
        ),
        (
            "valid_from;single;single_parent;couple;couple_children\n"
            "2025-07-01;2093.67;2264.67;2771.07;\n",
            "line 2, field couple_children: '' is not an amount",
        ),
        (
            "valid_from;single;single_parent;couple;couple_children\n"
            "2025-07-01;1;1;1;1\n2025-07-01;2;2;2;2\n",
            "two rows valid from 2025-07-01",
        ),
        ("valid_from;single;single_parent;couple;couple_children\n", "no rows"),
    ],
)
def test_bad_table_names_file_line_and_field(tmp_path, text, message):
    """A bad row is refused with the file, the line and the field."""
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as caught:
        load_floors(path)
    assert str(path) in str(caught.value)
