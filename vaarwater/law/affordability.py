"""Affordability: the beslagvrije voet (protected income) and a household's monthly capacity.

The beslagvrije voet is the part of a household's income that must be left to live on (95% of the
applicable social-assistance norm plus a compensation for benefits). Its maxima per household type
change every half year (1 January and 1 July), so they are data, not code:
``data/beslagvrije_voet.csv`` with the columns ``valid_from;single;single_parent;couple;
couple_children`` (amounts in euros, a point for decimals), replaceable without a code change by
pointing the environment variable ``VAARWATER_BESLAGVRIJE_VOET_FILE`` at another file.

Capacity per month = net income − max(protected floor, actual fixed costs) − instalments to other
creditors, never below zero. Amounts are ``Decimal`` euros with at most two decimals.
"""

import csv
import functools
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from vaarwater.law._money import check_amount

HOUSEHOLDS = ("single", "single_parent", "couple", "couple_children")
FLOOR_FILE_ENV = "VAARWATER_BESLAGVRIJE_VOET_FILE"
DEFAULT_FLOOR_FILE = Path(__file__).parent / "data" / "beslagvrije_voet.csv"
COLUMNS = ("valid_from", *HOUSEHOLDS)
# The amounts are republished every half year; a table whose newest row is this many months old
# is probably missing a newer row.
OUTDATED_AFTER_MONTHS = 6

# The labels of the explanation lines (English; translated where they are shown).
LINE_NET_INCOME = "net income"
LINE_FLOOR = "protected income (beslagvrije voet)"
LINE_FIXED_COSTS = "fixed costs"
LINE_NEED = "kept for living: the higher of the two"
LINE_OTHER_INSTALMENTS = "instalments to other creditors"
LINE_CAPACITY = "capacity per month"
LINE_NOTHING_LEFT = "capacity per month (nothing left, so zero)"


@dataclass(frozen=True)
class FloorRow:
    """One row of the table: the beslagvrije voet per household from ``valid_from`` on."""

    valid_from: date
    single: Decimal
    single_parent: Decimal
    couple: Decimal
    couple_children: Decimal

    def amount(self, household: str) -> Decimal:
        return getattr(self, _check_household(household))


@dataclass(frozen=True)
class Capacity:
    """What a household can pay each month, and how it was reckoned.

    ``lines`` are (label, amount) in the order of the reckoning: net income, the floor and the
    fixed costs (for information), then the signed steps, and last the capacity. The signed steps
    (net income, −need, −other instalments) add up to the capacity unless it was raised to zero.
    """

    capacity: Decimal
    floor: Decimal
    need: Decimal  # max(floor, fixed costs)
    lines: tuple[tuple[str, Decimal], ...]
    household: str = ""
    floor_valid_from: date | None = None
    table_outdated: bool = False  # the newest amounts are old: check for newer ones


def load_floors(path: str | os.PathLike[str] | None = None) -> tuple[FloorRow, ...]:
    """Read the table from ``path``, the environment's file, or the shipped file (oldest first).

    >>> rows = load_floors()
    >>> rows[0].valid_from, rows[0].single
    (datetime.date(2025, 7, 1), Decimal('2093.67'))
    """
    if path is None:
        path = os.environ.get(FLOOR_FILE_ENV) or DEFAULT_FLOOR_FILE
    path = Path(path).resolve()
    stat = path.stat()
    return _read_floors(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_floors(path: Path, mtime_ns: int, size: int) -> tuple[FloorRow, ...]:
    """Parse and check a table file; cached per file version (mtime and size)."""
    rows: list[FloorRow] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=";")
        fields = [name.strip() for name in reader.fieldnames or ()]
        missing = [name for name in COLUMNS if name not in fields]
        if missing:
            raise ValueError(
                f"{path}, line 1: missing column(s) {', '.join(missing)} "
                f"(expected {';'.join(COLUMNS)})"
            )
        reader.fieldnames = fields
        for line, raw in enumerate(reader, start=2):
            if not any((value or "").strip() for value in raw.values() if isinstance(value, str)):
                continue  # an empty line
            rows.append(_parse_row(raw, path=path, line=line))
    if not rows:
        raise ValueError(f"{path}: no rows; the table needs at least one")
    rows.sort(key=lambda r: r.valid_from)
    for before, after in zip(rows, rows[1:], strict=False):
        if before.valid_from == after.valid_from:
            raise ValueError(f"{path}: two rows valid from {after.valid_from}")
    return tuple(rows)


def _parse_row(raw: dict, *, path: Path, line: int) -> FloorRow:
    where = f"{path}, line {line}"
    if raw.get(None):
        raise ValueError(f"{where}: more fields than the {len(COLUMNS)} columns")
    text = (raw.get("valid_from") or "").strip()
    try:
        valid_from = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{where}, field valid_from: {text!r} is not a date (YYYY-MM-DD)"
        ) from None
    amounts = {}
    for household in HOUSEHOLDS:
        text = (raw.get(household) or "").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(
                f"{where}, field {household}: {text!r} is not an amount in euros (such as 2093.67)"
            ) from None
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError(
                f"{where}, field {household}: {text!r} must be more than zero, "
                "with at most two decimals"
            )
        amounts[household] = amount.quantize(Decimal("0.01"))
    return FloorRow(valid_from=valid_from, **amounts)


def _check_household(household: str) -> str:
    if household not in HOUSEHOLDS:
        raise ValueError(f"household must be one of {', '.join(HOUSEHOLDS)}, got {household!r}")
    return household


def floor_row(on: date, *, table: tuple[FloorRow, ...] | None = None) -> FloorRow:
    """Return the row of the table that is valid on ``on``.

    >>> floor_row(date(2025, 12, 31)).valid_from
    datetime.date(2025, 7, 1)
    """
    rows = load_floors() if table is None else table
    valid = [row for row in rows if row.valid_from <= on]
    if not valid:
        first = min(row.valid_from for row in rows) if rows else None
        raise ValueError(
            f"no beslagvrije voet known on {on.isoformat()}: the table starts on "
            f"{first.isoformat() if first else '(empty table)'}"
        )
    return valid[-1]


def protected_floor(
    household: str, on: date, *, table: tuple[FloorRow, ...] | None = None
) -> Decimal:
    """Return the beslagvrije voet (maximum, per month) for ``household`` on ``on``.

    >>> protected_floor("single", date(2025, 7, 1))
    Decimal('2093.67')
    >>> protected_floor("couple_children", date(2026, 3, 1))
    Decimal('2888.00')
    >>> protected_floor("single", date(2025, 6, 30))
    Traceback (most recent call last):
    ...
    ValueError: no beslagvrije voet known on 2025-06-30: the table starts on 2025-07-01
    >>> protected_floor("student", date(2025, 7, 1))
    Traceback (most recent call last):
    ...
    ValueError: household must be one of single, single_parent, couple, couple_children, \
got 'student'
    """
    _check_household(household)
    return floor_row(on, table=table).amount(household)


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, 1)


def table_outdated(on: date, *, table: tuple[FloorRow, ...] | None = None) -> bool:
    """True when on ``on`` the newest row is six months old or more: newer amounts are likely.

    >>> table_outdated(date(2025, 12, 31))
    False
    >>> table_outdated(date(2026, 1, 1))
    True
    """
    rows = load_floors() if table is None else table
    newest = max(row.valid_from for row in rows)
    return on >= _add_months(newest.replace(day=1), OUTDATED_AFTER_MONTHS)


def monthly_capacity(
    *,
    net_income: Decimal,
    household: str,
    fixed_costs: Decimal,
    other_instalments: Decimal,
    on: date,
    table: tuple[FloorRow, ...] | None = None,
) -> Capacity:
    """Reckon what a household can pay each month without going below its protected income.

    A single person with €2,500.00 net income, €1,200.00 fixed costs and €100.00 a month to
    another creditor keeps the beslagvrije voet (€2,093.67, higher than the fixed costs):
    2,500.00 − 2,093.67 − 100.00 = 306.33.

    >>> c = monthly_capacity(net_income=Decimal("2500.00"), household="single",
    ...                      fixed_costs=Decimal("1200.00"), other_instalments=Decimal("100.00"),
    ...                      on=date(2025, 9, 1))
    >>> c.capacity, c.floor, c.need
    (Decimal('306.33'), Decimal('2093.67'), Decimal('2093.67'))
    >>> for label, amount in c.lines:
    ...     print(f"{label}: {amount}")
    net income: 2500.00
    protected income (beslagvrije voet): 2093.67
    fixed costs: 1200.00
    kept for living: the higher of the two: -2093.67
    instalments to other creditors: -100.00
    capacity per month: 306.33

    Fixed costs above the floor count instead; a capacity is never negative:

    >>> monthly_capacity(net_income=Decimal("3000.00"), household="couple",
    ...                  fixed_costs=Decimal("2900.00"), other_instalments=Decimal("0"),
    ...                  on=date(2025, 9, 1)).capacity
    Decimal('100.00')
    >>> c = monthly_capacity(net_income=Decimal("1800.00"), household="single_parent",
    ...                      fixed_costs=Decimal("900.00"), other_instalments=Decimal("0"),
    ...                      on=date(2025, 9, 1))
    >>> c.capacity, c.lines[-1]
    (Decimal('0.00'), ('capacity per month (nothing left, so zero)', Decimal('0.00')))
    """
    net_income = check_amount(net_income, name="net_income")
    fixed_costs = check_amount(fixed_costs, name="fixed_costs")
    other_instalments = check_amount(other_instalments, name="other_instalments")
    _check_household(household)
    rows = load_floors() if table is None else table
    row = floor_row(on, table=rows)
    floor = row.amount(household)
    need = max(floor, fixed_costs)
    left = net_income - need - other_instalments
    capacity = max(left, Decimal("0.00"))
    lines = (
        (LINE_NET_INCOME, net_income),
        (LINE_FLOOR, floor),
        (LINE_FIXED_COSTS, fixed_costs),
        (LINE_NEED, -need),
        (LINE_OTHER_INSTALMENTS, -other_instalments),
        (LINE_CAPACITY if left >= 0 else LINE_NOTHING_LEFT, capacity),
    )
    return Capacity(
        capacity=capacity,
        floor=floor,
        need=need,
        lines=lines,
        household=household,
        floor_valid_from=row.valid_from,
        table_outdated=table_outdated(on, table=rows),
    )
