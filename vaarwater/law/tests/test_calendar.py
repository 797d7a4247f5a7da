from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaarwater.law import (
    add_business_days,
    business_days_between,
    holiday_name,
    is_business_day,
    is_public_holiday,
    roll_forward,
)


def test_koningsdag_2026_is_a_monday_holiday():
    """Koningsdag 2026-04-27 falls on a Monday and is not a business day."""
    day = date(2026, 4, 27)
    assert day.weekday() == 0
    assert is_public_holiday(day)
    assert holiday_name(day) == "Koningsdag"
    assert not is_business_day(day)


def test_koningsdag_on_sunday_moves_to_saturday():
    """When 27 April is a Sunday, Koningsdag is on Saturday 26 April (as in 2025)."""
    assert holiday_name(date(2025, 4, 26)) == "Koningsdag"
    assert holiday_name(date(2025, 4, 27)) is None


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "Nieuwjaarsdag"),
        (date(2026, 4, 6), "Tweede paasdag"),
        (date(2026, 5, 14), "Hemelvaartsdag"),
        (date(2026, 5, 25), "Tweede pinksterdag"),
        (date(2025, 12, 25), "Eerste kerstdag"),
        (date(2025, 12, 26), "Tweede kerstdag"),
        (date(2026, 5, 5), "Bevrijdingsdag"),  # every year, as in the Algemene termijnenwet
        (date(2026, 4, 3), "Goede vrijdag"),
    ],
)
def test_weekday_holidays_are_not_business_days(day, name):
    """Christmas, Easter Monday, Ascension and the other holidays are not business days."""
    assert day.weekday() < 5
    assert holiday_name(day) == name
    assert not is_business_day(day)


def test_ordinary_days():
    """A plain weekday is a business day; weekends are not; no holiday has no name."""
    assert is_business_day(date(2026, 4, 28))
    assert not is_business_day(date(2026, 4, 25))  # Saturday
    assert not is_business_day(date(2026, 4, 26))  # Sunday
    assert holiday_name(date(2026, 4, 28)) is None
    assert not is_public_holiday(date(2026, 4, 28))


def test_friday_plus_one_is_monday():
    """One business day after a Friday is the Monday."""
    assert add_business_days(date(2026, 1, 9), 1) == date(2026, 1, 12)


def test_across_christmas():
    """Business days skip Christmas, Boxing Day and the weekend."""
    # Thu 24 Dec 2026 → Fri 25 and Sat 26 are holidays, Sun 27 → Mon 28
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_business_days(date(2026, 12, 24), 2) == date(2026, 12, 29)
    assert add_business_days(date(2026, 12, 28), -1) == date(2026, 12, 24)
    assert business_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1


def test_zero_days_rolls_forward():
    """Adding zero business days keeps a business day and rolls a non-business day forward."""
    assert add_business_days(date(2026, 4, 28), 0) == date(2026, 4, 28)
    assert add_business_days(date(2026, 4, 25), 0) == date(2026, 4, 28)  # Sat → Tue
    assert roll_forward(date(2026, 4, 25)) == date(2026, 4, 28)
    assert roll_forward(date(2026, 4, 28)) == date(2026, 4, 28)


def test_negative_days_go_back():
    """A negative count goes back over weekends and holidays."""
    assert add_business_days(date(2026, 4, 28), -1) == date(2026, 4, 24)  # over Koningsdag
    assert add_business_days(date(2026, 4, 25), -1) == date(2026, 4, 24)


def test_business_days_between():
    """Count business days after the start up to and including the end."""
    assert business_days_between(date(2026, 4, 24), date(2026, 4, 24)) == 0
    assert business_days_between(date(2026, 4, 24), date(2026, 4, 28)) == 1
    assert business_days_between(date(2026, 4, 28), date(2026, 4, 24)) == -1
    assert business_days_between(date(2026, 1, 5), date(2026, 1, 12)) == 5


def test_datetime_is_refused():
    """A datetime is not a date here: TypeError."""
    with pytest.raises(TypeError):
        is_business_day(datetime(2026, 1, 1, 12))


@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=-40, max_value=40),
)
def test_add_and_count_agree(day, n):
    """From a business day, counting to add_business_days(d, n) gives back n."""
    start = roll_forward(day)
    end = add_business_days(start, n)
    assert is_business_day(end)
    assert business_days_between(start, end) == n
