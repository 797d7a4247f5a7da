"""Allocation of a payment over open items (art. 6:43 and 6:44 BW).

A payment goes first to costs, then to interest that has fallen due, then to principal, each
oldest item first. The debtor may designate an invoice (art. 6:43); within that invoice 6:44 still
puts costs and interest before principal. What is left over stays with the debtor as credit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from vaarwater.law._money import check_amount

COMPONENTS = ("costs", "interest", "principal")


@dataclass(frozen=True)
class OpenItem:
    """One open invoice with what is still owed on it per component."""

    key: str  # the invoice's identifier
    date: date  # its age: oldest first (due date)
    costs: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)
    principal: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for component in COMPONENTS:
            value = check_amount(getattr(self, component), name=f"{self.key} {component}")
            object.__setattr__(self, component, value)


@dataclass(frozen=True)
class AllocationLine:
    """An amount of the payment applied to one component of one item."""

    key: str
    component: str  # "costs" | "interest" | "principal"
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """The lines in order of allocation, and the credit left over."""

    lines: tuple[AllocationLine, ...]
    credit: Decimal  # what is left over; stays with the debtor as credit, never vanishes


def allocate(
    amount: Decimal, items: Iterable[OpenItem], *, designated: str | None = None
) -> Allocation:
    """Allocate a payment to costs, then interest, then principal, oldest item first.

    >>> items = [
    ...     OpenItem("F-2", date(2025, 2, 1), costs=Decimal("40"), principal=Decimal("100")),
    ...     OpenItem("F-1", date(2025, 1, 1), interest=Decimal("3.50"), principal=Decimal("50")),
    ... ]
    >>> for line in allocate(Decimal("100.00"), items).lines:
    ...     print(line.key, line.component, line.amount)
    F-2 costs 40.00
    F-1 interest 3.50
    F-1 principal 50.00
    F-2 principal 6.50
    >>> allocate(Decimal("300.00"), items).credit
    Decimal('106.50')
    """
    amount = check_amount(amount, name="amount", allow_zero=False)
    items = tuple(items)
    for item in items:
        if not isinstance(item, OpenItem):
            raise ValueError(f"items must be OpenItem, got {item!r}")
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError(f"item keys must be unique, got {keys}")
    if designated is not None and designated not in keys:
        raise ValueError(f"designated item {designated!r} is not among the open items")

    oldest_first = sorted(items, key=lambda item: item.date)  # stable: ties keep given order
    queue = [(item, component) for component in COMPONENTS for item in oldest_first]
    if designated is not None:
        chosen = items[keys.index(designated)]
        queue = [(chosen, component) for component in COMPONENTS] + queue

    owed = {(item.key, c): getattr(item, c) for item in items for c in COMPONENTS}
    left = amount
    lines: list[AllocationLine] = []
    for item, component in queue:
        if left == 0:
            break
        paid = min(left, owed[item.key, component])
        if paid > 0:
            lines.append(AllocationLine(item.key, component, paid))
            owed[item.key, component] -= paid
            left -= paid
    return Allocation(lines=tuple(lines), credit=left)
