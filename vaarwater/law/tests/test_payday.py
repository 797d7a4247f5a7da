"""Paydays move to the business day before a weekend or a public holiday."""

from datetime import date

from vaarwater.law.payday import next_payday


def test_a_payday_on_a_public_holiday_is_the_business_day_before():
    assert next_payday(date(2026, 12, 1), day=25) == date(2026, 12, 24)  # Christmas (Friday)
    assert next_payday(date(2026, 12, 26), day=1) == date(2026, 12, 31)  # New Year's Day
    assert next_payday(date(2027, 4, 20), day=27) == date(2027, 4, 26)  # King's Day (Tuesday)


def test_a_payday_on_a_weekend_is_the_friday_before():
    assert next_payday(date(2026, 10, 1), day=25) == date(2026, 10, 23)
