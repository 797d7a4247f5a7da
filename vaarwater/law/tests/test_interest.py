from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaarwater.law import (
    InterestPeriod,
    InterestRate,
    interest_breakdown,
    load_rates,
    statutory_interest,
)
from vaarwater.law.interest import RATES_FILE_ENV

EUR_1000 = Decimal("1000.00")


def flat_rates(percent: str, *, kind: str = "consumer") -> tuple[InterestRate, ...]:
    return (InterestRate(kind, date(2000, 1, 1), Decimal(percent), "published", "test"),)


def test_shipped_table_has_the_published_rates():
    """The shipped CSV holds the published rates and marks the unconfirmed ones."""
    rates = {(r.kind, r.valid_from): r for r in load_rates()}
    assert rates["consumer", date(2024, 1, 1)].rate_percent == Decimal("7.00")
    assert rates["consumer", date(2025, 1, 1)].rate_percent == Decimal("6.00")
    assert rates["commercial", date(2024, 1, 1)].rate_percent == Decimal("12.50")
    assert rates["commercial", date(2024, 7, 1)].rate_percent == Decimal("12.25")
    assert rates["commercial", date(2025, 1, 1)].rate_percent == Decimal("11.15")
    assert rates["consumer", date(2025, 1, 1)].status == "published"
    assert rates["consumer", date(2026, 1, 1)].status == "to-confirm"
    assert rates["commercial", date(2025, 7, 1)].status == "to-confirm"
    assert len(rates) == 16


def test_across_a_rate_change():
    """€1,000 from 2024-10-01 to 2025-04-01: 92 days at 7% plus 90 days at 6%."""
    rows = interest_breakdown(EUR_1000, start=date(2024, 10, 1), end=date(2025, 4, 1))
    # 1000 × 7% × 92/365 = 17.6438… → 17.64; 1000 × 6% × 90/365 = 14.7945… → 14.79
    assert rows == [
        InterestPeriod(
            date(2024, 10, 1), date(2025, 1, 1), 92, EUR_1000, Decimal("7.00"), Decimal("17.64")
        ),
        InterestPeriod(
            date(2025, 1, 1), date(2025, 4, 1), 90, EUR_1000, Decimal("6.00"), Decimal("14.79")
        ),
    ]
    total = statutory_interest(EUR_1000, start=date(2024, 10, 1), end=date(2025, 4, 1))
    assert total == Decimal("32.43")


def test_commercial_rate_is_higher_than_consumer():
    """Commercial interest uses the 6:119a rates: 12.25% then 11.15% over the same period."""
    # 1000 × 12.25% × 92/365 = 30.8767… → 30.88; 1000 × 11.15% × 90/365 = 27.4932… → 27.49
    commercial = statutory_interest(
        EUR_1000, start=date(2024, 10, 1), end=date(2025, 4, 1), kind="commercial"
    )
    assert commercial == Decimal("58.37")
    assert commercial > statutory_interest(EUR_1000, start=date(2024, 10, 1), end=date(2025, 4, 1))


def test_commercial_mid_year_change():
    """The commercial rate changes on 1 July: 30 days at 12.5% and 31 days at 12.25%."""
    # 1000 × 12.5% × 30/365 = 10.2739… → 10.27; 1000 × 12.25% × 31/365 = 10.4041… → 10.40
    rows = interest_breakdown(
        EUR_1000, start=date(2024, 6, 1), end=date(2024, 8, 1), kind="commercial"
    )
    assert [(r.days, r.rate, r.amount) for r in rows] == [
        (30, Decimal("12.50"), Decimal("10.27")),
        (31, Decimal("12.25"), Decimal("10.40")),
    ]


def test_yearly_capitalisation():
    """On the anniversary of the start the first year's interest is added to the base."""
    rows = interest_breakdown(EUR_1000, start=date(2024, 3, 1), end=date(2025, 9, 1))
    # Year 1: 306 days at 7% = 58.6849… → 58.68, then 59 days at 6% = 9.6986… → 9.70.
    # Year 2 base: 1000 + 58.68 + 9.70 = 1068.38; 184 days at 6% = 32.3148… → 32.31.
    # (The 2025-07-01 row repeats 6%, so it does not split the stretch.)
    assert [(r.start, r.end, r.days, r.base, r.rate, r.amount) for r in rows] == [
        (date(2024, 3, 1), date(2025, 1, 1), 306, EUR_1000, Decimal("7.00"), Decimal("58.68")),
        (date(2025, 1, 1), date(2025, 3, 1), 59, EUR_1000, Decimal("6.00"), Decimal("9.70")),
        (date(2025, 3, 1), date(2025, 9, 1), 184, Decimal("1068.38"), Decimal("6.00"),
         Decimal("32.31")),
    ]  # fmt: skip
    total = statutory_interest(EUR_1000, start=date(2024, 3, 1), end=date(2025, 9, 1))
    assert total == Decimal("100.69")


def test_compounding_with_a_flat_rate():
    """Two full years at 10% give 10% on the principal plus 10% on principal and interest."""
    # 2023-01-01 → 2024-01-01 is 365 days: 100.00; base 1100.00;
    # 2024-01-01 → 2025-01-01 is 366 days (leap year, actual/365): 1100 × 10% × 366/365 = 110.30
    total = statutory_interest(
        EUR_1000, start=date(2023, 1, 1), end=date(2025, 1, 1), rates=flat_rates("10")
    )
    assert total == Decimal("210.30")


def test_leap_day_start():
    """A 29 February start capitalises on 28 February, or on 29 February in leap years."""
    rows = interest_breakdown(EUR_1000, start=date(2024, 2, 29), end=date(2025, 3, 31))
    # 307 days at 7% = 58.8767… → 58.88; 58 days at 6% = 9.5342… → 9.53;
    # base 1068.41 from 2025-02-28; 31 days at 6% = 5.4445… → 5.44
    assert [(r.start, r.days, r.base, r.amount) for r in rows] == [
        (date(2024, 2, 29), 307, EUR_1000, Decimal("58.88")),
        (date(2025, 1, 1), 58, EUR_1000, Decimal("9.53")),
        (date(2025, 2, 28), 31, Decimal("1068.41"), Decimal("5.44")),
    ]
    long = interest_breakdown(
        EUR_1000, start=date(2024, 2, 29), end=date(2028, 3, 1), rates=flat_rates("10")
    )
    assert [r.start for r in long] == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_empty_period_is_zero():
    """Interest from a day to the same day is zero, with no breakdown rows."""
    assert statutory_interest(EUR_1000, start=date(2025, 1, 1), end=date(2025, 1, 1)) == Decimal(
        "0.00"
    )
    assert interest_breakdown(EUR_1000, start=date(2025, 1, 1), end=date(2025, 1, 1)) == []


def test_end_before_start_is_refused():
    """An end before the start raises ValueError."""
    with pytest.raises(ValueError, match="before start"):
        statutory_interest(EUR_1000, start=date(2025, 1, 2), end=date(2025, 1, 1))


def test_unknown_kind_is_refused():
    """A kind other than consumer or commercial raises ValueError."""
    with pytest.raises(ValueError, match="kind must be one of"):
        statutory_interest(EUR_1000, start=date(2025, 1, 1), end=date(2025, 2, 1), kind="b2b")


def test_date_before_the_table_is_refused():
    """A period starting before the first known rate raises ValueError naming the date."""
    with pytest.raises(ValueError, match="2014-12-31"):
        statutory_interest(EUR_1000, start=date(2014, 12, 31), end=date(2015, 2, 1))


@pytest.mark.parametrize("principal", [1000.0, Decimal("-1.00"), Decimal("1.005")])
def test_bad_principal_is_refused(principal):
    """A float, negative or sub-cent principal raises ValueError."""
    with pytest.raises(ValueError):
        statutory_interest(principal, start=date(2025, 1, 1), end=date(2025, 2, 1))


def test_datetime_is_refused():
    """Start and end are dates; a datetime raises ValueError."""
    with pytest.raises(ValueError, match="must be a date"):
        statutory_interest(EUR_1000, start=datetime(2025, 1, 1), end=date(2025, 2, 1))


def test_rates_file_from_environment(tmp_path, monkeypatch):
    """VAARWATER_INTEREST_RATES_FILE replaces the shipped table without a code change."""
    path = tmp_path / "rates.csv"
    path.write_text(
        "kind,valid_from,rate_percent,status,source\n"
        "consumer,2020-01-01,10.00,published,test\n"
        "commercial,2020-01-01,20.00,published,test\n"
    )
    monkeypatch.setenv(RATES_FILE_ENV, str(path))
    # 1000 × 10% × 365/365
    total = statutory_interest(EUR_1000, start=date(2021, 1, 1), end=date(2022, 1, 1))
    assert total == Decimal("100.00")
    assert load_rates(path) == load_rates()


def test_bad_rates_file_is_refused(tmp_path):
    """A rate file with an unknown kind or a duplicate date raises ValueError."""
    path = tmp_path / "rates.csv"
    path.write_text("kind,valid_from,rate_percent,status,source\nb2b,2020-01-01,1,published,x\n")
    with pytest.raises(ValueError, match="unknown kind"):
        load_rates(path)
    path.write_text(
        "kind,valid_from,rate_percent,status,source\n"
        "consumer,2020-01-01,1,published,x\n"
        "consumer,2020-01-01,2,published,x\n"
    )
    with pytest.raises(ValueError, match="two consumer rates"):
        load_rates(path)


@given(
    cents=st.integers(min_value=0, max_value=10**9),
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2027, 12, 31)),
    days=st.integers(min_value=0, max_value=4000),
    kind=st.sampled_from(["consumer", "commercial"]),
)
def test_total_is_the_sum_of_the_breakdown(cents, start, days, kind):
    """The rows tile the period, each is base × rate × days/365 in cents, summing to the total."""
    principal = Decimal(cents) / 100
    end = start + timedelta(days=days)
    rows = interest_breakdown(principal, start=start, end=end, kind=kind)
    total = statutory_interest(principal, start=start, end=end, kind=kind)
    assert total == sum((r.amount for r in rows), Decimal("0.00"))
    assert sum(r.days for r in rows) == days
    cursor = start
    for row in rows:
        assert row.start == cursor < row.end
        assert row.days == (row.end - row.start).days
        exact = row.base * row.rate * row.days / 36500
        assert abs(row.amount - exact) <= Decimal("0.005")
        cursor = row.end
    assert cursor == end or not rows
    assert all(a.base <= b.base for a, b in zip(rows, rows[1:], strict=False))
