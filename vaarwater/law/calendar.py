"""Dutch business days: Monday to Friday, except public holidays.

Holidays come from ``holidays.NL`` with its public and optional categories: the days of the
Algemene termijnenwet (including Bevrijdingsdag, 5 May, every year rather than only every fifth
year) plus Goede Vrijdag, on which banks (TARGET2) do not settle. Counting a day too many as a
holiday only makes a term end later, which is the safe side for the debtor.
"""

import functools
from datetime import date, datetime, timedelta

import holidays

ONE_DAY = timedelta(days=1)


@functools.cache
def _holidays_in(year: int) -> holidays.HolidayBase:
    """Return the Dutch holidays of one year (cached; ``expand=False`` keeps it unchanged)."""
    return holidays.NL(
        years=year,
        categories=(holidays.PUBLIC, holidays.OPTIONAL),
        language="nl",
        expand=False,
    )


def _check(d: object, name: str = "d") -> date:
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"{name} must be a date, got {d!r}")
    return d


def is_public_holiday(d: date) -> bool:
    """Tell whether ``d`` is a Dutch public holiday.

    >>> is_public_holiday(date(2026, 4, 27))
    True
    """
    return _check(d) in _holidays_in(d.year)


def holiday_name(d: date) -> str | None:
    """Return the Dutch name of the holiday on ``d``, or None.

    >>> holiday_name(date(2026, 4, 27))
    'Koningsdag'
    """
    return _holidays_in(_check(d).year).get(d)


def is_business_day(d: date) -> bool:
    """Tell whether ``d`` is a weekday that is not a public holiday.

    >>> is_business_day(date(2026, 4, 28)), is_business_day(date(2026, 4, 25))
    (True, False)
    """
    return _check(d).weekday() < 5 and not is_public_holiday(d)


def roll_forward(d: date) -> date:
    """Return ``d`` when it is a business day, else the next business day.

    >>> roll_forward(date(2026, 12, 25))  # Christmas Friday → Monday 28th
    datetime.date(2026, 12, 28)
    """
    while not is_business_day(d):
        d += ONE_DAY
    return d


def add_business_days(d: date, n: int) -> date:
    """Return the date ``n`` business days after ``d`` (before it when ``n`` is negative).

    ``n == 0`` rolls forward to the first business day on or after ``d``.

    >>> add_business_days(date(2026, 1, 9), 1)  # Friday → Monday
    datetime.date(2026, 1, 12)
    >>> add_business_days(date(2026, 4, 24), 1)  # Friday → Tuesday, Koningsdag is Monday
    datetime.date(2026, 4, 28)
    """
    _check(d)
    if n == 0:
        return roll_forward(d)
    step = ONE_DAY if n > 0 else -ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if is_business_day(d):
            remaining -= 1
    return d


def business_days_between(start: date, end: date) -> int:
    """Count the business days after ``start`` up to and including ``end``.

    Negative when ``end`` is before ``start``; so for a business day ``d``,
    ``business_days_between(d, add_business_days(d, n)) == n``.

    >>> business_days_between(date(2026, 12, 24), date(2026, 12, 31))  # across Christmas
    4
    """
    _check(start, "start")
    _check(end, "end")
    if end < start:
        return -business_days_between(end, start)
    count = 0
    d = start
    while d < end:
        d += ONE_DAY
        count += is_business_day(d)
    return count
