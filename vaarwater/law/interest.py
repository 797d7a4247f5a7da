"""Statutory interest (wettelijke rente): art. 6:119 BW for consumers, 6:119a BW for businesses.

The rates are data: ``data/statutory_interest_rates.csv`` (columns
``kind,valid_from,rate_percent,status,source``), replaceable without a code change by pointing
the environment variable ``VAARWATER_INTEREST_RATES_FILE`` at another file.

Conventions (not fixed by law, chosen here and shown in the breakdown):

* interest runs from ``start`` (inclusive) to ``end`` (exclusive), day count actual/365;
* every stretch between a rate change or capitalisation date is one row, its interest rounded
  to cents half up, so the rows add up exactly to the total;
* on each anniversary of ``start`` the year's interest is added to the base (a 29 February
  start has its anniversary on 28 February in non-leap years).
"""

import csv
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from vaarwater.law._money import check_amount, round_cents

KINDS = ("consumer", "commercial")
STATUSES = ("published", "to-confirm")
RATES_FILE_ENV = "VAARWATER_INTEREST_RATES_FILE"
DEFAULT_RATES_FILE = Path(__file__).parent / "data" / "statutory_interest_rates.csv"
DAYS_IN_YEAR = 365


@dataclass(frozen=True)
class InterestRate:
    """One row of the rate table: the rate in percent that applies from ``valid_from``."""

    kind: str
    valid_from: date
    rate_percent: Decimal
    status: str
    source: str


@dataclass(frozen=True)
class InterestPeriod:
    """One stretch of the interest calculation, at one rate on one base."""

    start: date
    end: date  # exclusive
    days: int
    base: Decimal
    rate: Decimal  # percent per year
    amount: Decimal  # rounded to cents


def load_rates(path: str | os.PathLike[str] | None = None) -> tuple[InterestRate, ...]:
    """Read the rate table from ``path``, the environment's file, or the shipped file.

    >>> rates = load_rates()
    >>> [r.rate_percent for r in rates if r.kind == "consumer" and r.valid_from.year == 2024]
    [Decimal('7.00')]
    """
    if path is None:
        path = os.environ.get(RATES_FILE_ENV) or DEFAULT_RATES_FILE
    path = Path(path).resolve()
    stat = path.stat()
    return _read_rates(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_rates(path: Path, mtime_ns: int, size: int) -> tuple[InterestRate, ...]:
    """Parse and check a rate file; cached per file version (mtime and size)."""
    rows: list[InterestRate] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        expected = {"kind", "valid_from", "rate_percent", "status", "source"}
        missing = expected - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, raw in enumerate(reader, start=2):
            try:
                row = InterestRate(
                    kind=raw["kind"].strip(),
                    valid_from=date.fromisoformat(raw["valid_from"].strip()),
                    rate_percent=Decimal(raw["rate_percent"].strip()),
                    status=raw["status"].strip(),
                    source=(raw["source"] or "").strip(),
                )
            except (ValueError, InvalidOperation, AttributeError) as exc:
                raise ValueError(f"{path}, line {line}: cannot read {raw}: {exc}") from exc
            if row.kind not in KINDS:
                raise ValueError(f"{path}, line {line}: unknown kind {row.kind!r}")
            if row.status not in STATUSES:
                raise ValueError(f"{path}, line {line}: unknown status {row.status!r}")
            if not row.rate_percent.is_finite() or row.rate_percent < 0:
                raise ValueError(f"{path}, line {line}: bad rate {row.rate_percent}")
            rows.append(row)
    seen = set()
    for row in rows:
        if (row.kind, row.valid_from) in seen:
            raise ValueError(f"{path}: two {row.kind} rates valid from {row.valid_from}")
        seen.add((row.kind, row.valid_from))
    return tuple(sorted(rows, key=lambda r: (r.kind, r.valid_from)))


def statutory_interest(
    principal: Decimal,
    *,
    start: date,
    end: date,
    kind: str = "consumer",
    rates: Sequence[InterestRate] | None = None,
) -> Decimal:
    """Return the compound statutory interest on ``principal`` from ``start`` up to ``end``.

    92 days at 7% and 90 days at 6% on €1,000: 17.64 + 14.79 (consumer);
    92 days at 12.25% and 90 days at 11.15%: 30.88 + 27.49 (commercial).

    >>> statutory_interest(Decimal("1000.00"), start=date(2024, 10, 1), end=date(2025, 4, 1))
    Decimal('32.43')
    >>> statutory_interest(Decimal("1000.00"), start=date(2024, 10, 1), end=date(2025, 4, 1),
    ...                    kind="commercial")
    Decimal('58.37')
    """
    periods = interest_breakdown(principal, start=start, end=end, kind=kind, rates=rates)
    return round_cents(sum((p.amount for p in periods), Decimal("0.00")))


def interest_breakdown(
    principal: Decimal,
    *,
    start: date,
    end: date,
    kind: str = "consumer",
    rates: Sequence[InterestRate] | None = None,
) -> list[InterestPeriod]:
    """Explain the statutory interest: one row per stretch between rate changes and anniversaries.

    >>> for p in interest_breakdown(Decimal("1000.00"), start=date(2024, 3, 1),
    ...                             end=date(2025, 9, 1)):
    ...     print(p.start, p.end, p.days, p.base, p.rate, p.amount)
    2024-03-01 2025-01-01 306 1000.00 7.00 58.68
    2025-01-01 2025-03-01 59 1000.00 6.00 9.70
    2025-03-01 2025-09-01 184 1068.38 6.00 32.31
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    principal = check_amount(principal, name="principal")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError(f"{name} must be a date, got {value!r}")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if end == start:
        return []
    schedule = _schedule(kind, load_rates() if rates is None else rates)
    if not schedule or start < schedule[0][0]:
        first = f"; the table starts on {schedule[0][0]}" if schedule else ""
        raise ValueError(f"no {kind} statutory interest rate known for {start}{first}")

    periods: list[InterestPeriod] = []
    base = principal
    year_start = start
    year = 1
    while year_start < end:
        year_end = min(_anniversary(start, year), end)
        accrued = Decimal("0.00")
        for seg_start, seg_end, rate in _split(year_start, year_end, schedule):
            days = (seg_end - seg_start).days
            amount = round_cents(base * rate * days / (100 * DAYS_IN_YEAR))
            periods.append(InterestPeriod(seg_start, seg_end, days, base, rate, amount))
            accrued += amount
        base += accrued  # capitalise on the anniversary
        year_start = year_end
        year += 1
    return periods


def _schedule(kind: str, rates: Sequence[InterestRate]) -> list[tuple[date, Decimal]]:
    """Return (valid_from, rate) for ``kind``, oldest first, keeping only real changes."""
    schedule: list[tuple[date, Decimal]] = []
    for row in sorted((r for r in rates if r.kind == kind), key=lambda r: r.valid_from):
        if not schedule or schedule[-1][1] != row.rate_percent:
            schedule.append((row.valid_from, row.rate_percent))
    return schedule


def _split(
    start: date, end: date, schedule: list[tuple[date, Decimal]]
) -> list[tuple[date, date, Decimal]]:
    """Cut [start, end) at the rate changes in ``schedule``."""
    pieces = []
    cursor = start
    while cursor < end:
        index = max(i for i, (valid_from, _) in enumerate(schedule) if valid_from <= cursor)
        rate = schedule[index][1]
        upto = schedule[index + 1][0] if index + 1 < len(schedule) else end
        upto = min(upto, end)
        pieces.append((cursor, upto, rate))
        cursor = upto
    return pieces


def _anniversary(start: date, years: int) -> date:
    """Return the ``years``-th anniversary of ``start``; 29 February falls back to the 28th."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)
