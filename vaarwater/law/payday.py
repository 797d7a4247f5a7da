"""Paydays: when a household's income arrives, so that payment demands land just after it.

Monthly salaries and benefits are paid on a day of the month (the month's last day when it is
shorter), on the business day before when that day falls on a weekend or a public holiday.
Four-weekly pay repeats every 28 days from a known payday.
"""

import calendar
from datetime import date, timedelta

from .calendar import is_business_day


def _monthly(year: int, month: int, day: int) -> date:
    payday = date(year, month, min(day, calendar.monthrange(year, month)[1]))
    while not is_business_day(payday):  # a weekend or a public holiday: paid the day before
        payday -= timedelta(days=1)
    return payday


def next_payday(
    on: date, *, day: int | None = None, cycle: str = "monthly", anchor: date | None = None
) -> date | None:
    """Return the first payday on or after ``on``, or None when the payday is unknown.

    >>> next_payday(date(2026, 11, 20), day=25)
    datetime.date(2026, 11, 25)
    >>> next_payday(date(2026, 10, 20), day=25)  # the 25th is a Sunday: paid on Friday 23rd
    datetime.date(2026, 10, 23)
    >>> next_payday(date(2026, 11, 26), day=25)  # Christmas: paid on the 24th
    datetime.date(2026, 12, 24)
    >>> next_payday(date(2026, 11, 20), cycle="four_weekly", anchor=date(2026, 1, 16))
    datetime.date(2026, 11, 20)
    >>> next_payday(date(2026, 11, 20)) is None
    True
    """
    if cycle == "four_weekly":
        if anchor is None:
            return None
        steps = -((anchor - on).days // 28)  # ceil((on - anchor) / 28), also before the anchor
        return anchor + timedelta(days=28 * steps)
    if day is None:
        if anchor is None:
            return None
        day = anchor.day
    year, month = on.year, on.month
    for _ in range(3):
        payday = _monthly(year, month, day)
        if payday >= on:
            return payday
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None  # pragma: no cover - three months always contain a later payday
