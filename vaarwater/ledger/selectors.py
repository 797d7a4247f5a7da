"""Reads of the ledger: balances and open items, always derived from entries and allocations."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from vaarwater.core.money import from_cents, to_cents
from vaarwater.law import OpenItem, allocate

from .models import Allocation, Component, Debtor, EntryKind, Invoice, LedgerEntry

CLAIM_COMPONENTS = (Component.COSTS, Component.INTEREST, Component.PRINCIPAL)


@dataclass
class InvoiceOpen:
    """What is still open on one invoice, per component, in cents."""

    invoice_id: int
    due_date: date
    costs: int = 0
    interest: int = 0
    principal: int = 0

    @property
    def total(self) -> int:
        return self.costs + self.interest + self.principal

    def as_open_item(self) -> OpenItem:
        return OpenItem(
            key=str(self.invoice_id),
            date=self.due_date,
            costs=from_cents(self.costs),
            interest=from_cents(self.interest),
            principal=from_cents(self.principal),
        )


@dataclass
class DebtorPosition:
    """A debtor's derived position: open items per invoice and unallocated credit."""

    debtor_id: int
    items: dict[int, InvoiceOpen] = field(default_factory=dict)
    credit: int = 0

    @property
    def open_total(self) -> int:
        return sum(item.total for item in self.items.values())

    @property
    def balance(self) -> int:
        """What the debtor owes: open claims minus credit (negative = creditor owes)."""
        return self.open_total - self.credit


def debtor_positions(debtor_ids) -> dict[int, DebtorPosition]:
    """Derive open items and credit for the given debtors from entries and allocations."""
    debtor_ids = list(debtor_ids)
    positions = {debtor_id: DebtorPosition(debtor_id) for debtor_id in debtor_ids}
    if not debtor_ids:
        return positions
    due = dict(Invoice.objects.filter(debtor_id__in=debtor_ids).values_list("id", "due_date"))

    def item(debtor_id, invoice_id):
        items = positions[debtor_id].items
        if invoice_id not in items:
            items[invoice_id] = InvoiceOpen(invoice_id, due[invoice_id])
        return items[invoice_id]

    charged = (
        LedgerEntry.objects.filter(debtor_id__in=debtor_ids)
        .values("debtor_id", "invoice_id", "component")
        .annotate(total=Sum("amount_cents"))
    )
    for row in charged:
        if row["component"] == Component.PAYMENT:
            positions[row["debtor_id"]].credit -= row["total"]
        else:
            target = item(row["debtor_id"], row["invoice_id"])
            setattr(target, row["component"], getattr(target, row["component"]) + row["total"])
    allocated = (
        Allocation.objects.filter(debtor_id__in=debtor_ids)
        .values("debtor_id", "invoice_id", "component")
        .annotate(total=Sum("amount_cents"))
    )
    for row in allocated:
        target = item(row["debtor_id"], row["invoice_id"])
        setattr(target, row["component"], getattr(target, row["component"]) - row["total"])
        positions[row["debtor_id"]].credit -= row["total"]
    for position in positions.values():
        position.items = {k: v for k, v in position.items.items() if v.total != 0}
    return positions


def debtor_position(debtor) -> DebtorPosition:
    return debtor_positions([debtor.pk])[debtor.pk]


def debtor_balance(debtor) -> int:
    """The debtor's balance in cents: the plain sum of its ledger entries."""
    return LedgerEntry.objects.filter(debtor=debtor).aggregate(s=Sum("amount_cents"))["s"] or 0


def debtors_with_balances(creditor, *, search: str = "", only_open: bool = False):
    """Debtors of one creditor annotated with balance (cents), overdue count and oldest due date."""
    today = date.today()
    qs = Debtor.objects.for_creditor(creditor)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(external_id__icontains=search)
            | Q(postcode__icontains=search.replace(" ", "").upper())
        )
    balance = (
        LedgerEntry.objects.filter(debtor_id=OuterRef("pk"))
        .values("debtor_id")
        .annotate(s=Sum("amount_cents"))
        .values("s")
    )
    qs = qs.annotate(
        balance_cents=Coalesce(Subquery(balance, output_field=BigIntegerField()), Value(0)),
        last_due=Subquery(
            Invoice.objects.filter(debtor_id=OuterRef("pk"), due_date__lte=today)
            .order_by("-due_date")
            .values("due_date")[:1]
        ),
    )
    if only_open:
        qs = qs.filter(balance_cents__gt=0)
    return qs


def creditor_totals(creditor) -> dict[str, Decimal]:
    """Totals per entry kind for one creditor, in euros (reporting and the demo page)."""
    rows = (
        LedgerEntry.objects.filter(creditor=creditor)
        .values("kind")
        .annotate(total=Sum("amount_cents"))
    )
    totals = {kind: Decimal("0.00") for kind in EntryKind.values}
    for row in rows:
        totals[row["kind"]] = from_cents(row["total"])
    totals["balance"] = sum(totals.values(), Decimal("0.00"))
    totals["paid"] = -totals[EntryKind.PAYMENT]
    return totals


def position_allocate(
    position: DebtorPosition, amount_cents: int, designated: int | None = None
) -> list[tuple[int, str, int]]:
    """Allocate cents against a debtor's open items by art. 6:44 BW; update the position.

    Returns (invoice id, component, cents) per line; what is left becomes credit. Only the
    items that can receive money go to ``vaarwater.law.allocate``: every item with costs or
    interest, the designated one, and the oldest principals up to the amount.
    """
    items = sorted(position.items.values(), key=lambda it: (it.due_date, it.invoice_id))
    if designated not in position.items:
        designated = None
    candidates, principal_room = [], amount_cents
    for item in items:
        if item.costs or item.interest or item.invoice_id == designated:
            candidates.append(item)
    principal_room -= sum(it.costs + it.interest for it in candidates)
    for item in items:
        if principal_room <= 0:
            break
        if item in candidates:
            principal_room -= item.principal
        else:
            candidates.append(item)
            principal_room -= item.principal
    candidates.sort(key=lambda it: (it.due_date, it.invoice_id))
    if not candidates:
        position.credit += amount_cents
        return []
    if designated is None and not any(it.costs or it.interest for it in candidates):
        # Only principal is open: art. 6:44 reduces to oldest first, done in integer cents.
        lines, left = [], amount_cents
        for item in candidates:
            cents = min(left, item.principal)
            item.principal -= cents
            left -= cents
            if item.total == 0:
                del position.items[item.invoice_id]
            lines.append((item.invoice_id, Component.PRINCIPAL.value, cents))
        position.credit += left
        return lines
    result = allocate(
        from_cents(amount_cents),
        [it.as_open_item() for it in candidates],
        designated=str(designated) if designated is not None else None,
    )
    lines = []
    for line in result.lines:
        cents = to_cents(line.amount)
        item = position.items[int(line.key)]
        setattr(item, line.component, getattr(item, line.component) - cents)
        if item.total == 0:
            del position.items[item.invoice_id]
        lines.append((item.invoice_id, line.component, cents))
    position.credit += to_cents(result.credit)
    return lines


def open_positions(debtor_ids) -> dict[int, DebtorPosition]:
    """``debtor_positions`` in one SQL statement that returns only what is still open.

    The same result for the same ledger, but the database does the sums and sends back only
    non-zero components, not every invoice: what the daily run needs for thousands of debtors.
    """
    from django.db import connection

    debtor_ids = list(debtor_ids)
    positions = {debtor_id: DebtorPosition(debtor_id) for debtor_id in debtor_ids}
    if not debtor_ids:
        return positions
    entries, allocations = LedgerEntry._meta.db_table, Allocation._meta.db_table
    invoices = Invoice._meta.db_table
    marks = ", ".join(["%s"] * len(debtor_ids))
    payment = Component.PAYMENT.value
    sql = f"""
        SELECT t.debtor_id, t.invoice_id, t.component, SUM(t.amount_cents), MAX(i.due_date)
        FROM (
            SELECT debtor_id, invoice_id, component, amount_cents
              FROM {entries} WHERE debtor_id IN ({marks})
            UNION ALL
            SELECT debtor_id, invoice_id, component, -amount_cents
              FROM {allocations} WHERE debtor_id IN ({marks})
            UNION ALL
            SELECT debtor_id, NULL, '{payment}', amount_cents
              FROM {allocations} WHERE debtor_id IN ({marks})
        ) t LEFT JOIN {invoices} i ON i.id = t.invoice_id
        GROUP BY t.debtor_id, t.invoice_id, t.component
        HAVING SUM(t.amount_cents) <> 0
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, debtor_ids * 3)
        rows = cursor.fetchall()
    for debtor_id, invoice_id, component, total, due in rows:
        total = int(total)  # PostgreSQL sums bigints as numeric
        position = positions[debtor_id]
        if component == payment:
            position.credit -= total
            continue
        if isinstance(due, str):  # SQLite returns MAX() of a date column as text
            due = date.fromisoformat(due)
        item = position.items.get(invoice_id)
        if item is None:
            item = position.items[invoice_id] = InvoiceOpen(invoice_id, due)
        setattr(item, component, getattr(item, component) + total)
    for position in positions.values():
        if position.items:
            position.items = {k: v for k, v in position.items.items() if v.total != 0}
    return positions
