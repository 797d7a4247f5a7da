"""Ledger services: one function per business verb. Views, commands and tasks call these."""

import re
from datetime import date

from django.db import transaction
from django.db.models import Sum

from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import from_cents

from .models import (
    Allocation,
    Component,
    Creditor,
    Debtor,
    EntryKind,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentSource,
    Sector,
)
from .selectors import debtor_position, position_allocate

PAYMENT_ALLOCATION_REASON = "art. 6:44 BW: costs, then interest, then principal, oldest first"
CREDITOR_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


class LedgerError(ValueError):
    """A ledger operation that would break a rule (money created or lost, illegal reversal)."""


def creditor_create(
    *,
    code: str,
    name: str,
    sector: str,
    can_reclaim_vat: bool = True,
    iban: str = "",
    sepa_creditor_id: str = "",
    actor: Actor | None = None,
) -> Creditor:
    """Create a creditor (tenant); refuse bad codes, unknown sectors and duplicates."""
    code = code.strip().upper()
    if not CREDITOR_CODE_RE.match(code):
        raise LedgerError(
            f"code {code!r}: 2-32 characters, letters, digits, '-' or '_', starting with a letter "
            "or digit"
        )
    if sector not in Sector.values:
        raise LedgerError(f"sector {sector!r}: expected one of {', '.join(Sector.values)}")
    if not name.strip():
        raise LedgerError("name: must not be empty")
    if iban:
        from .validation import validate_iban

        iban = validate_iban(iban)
    if sepa_creditor_id:
        from .validation import validate_sepa_creditor_id

        sepa_creditor_id = validate_sepa_creditor_id(sepa_creditor_id)
    with transaction.atomic():
        if Creditor.objects.filter(code=code).exists():
            raise LedgerError(f"creditor {code} already exists")
        creditor = Creditor.objects.create(
            code=code,
            name=name.strip(),
            sector=sector,
            can_reclaim_vat=can_reclaim_vat,
            iban=iban,
            sepa_creditor_id=sepa_creditor_id,
        )
        event_record(
            creditor=creditor,
            verb="creditor.created",
            actor=actor or Actor.system(),
            subject=creditor,
            data={"code": code, "sector": sector, "can_reclaim_vat": can_reclaim_vat},
        )
    return creditor


def _book(debtor: Debtor, **fields) -> LedgerEntry:
    return LedgerEntry.objects.create(creditor_id=debtor.creditor_id, debtor=debtor, **fields)


def invoice_create(
    *,
    debtor: Debtor,
    external_id: str,
    issue_date: date,
    due_date: date,
    amount_cents: int,
    description: str = "",
    actor: Actor | None = None,
) -> Invoice:
    """Create an invoice and book its principal; any credit the debtor has is applied to it."""
    if amount_cents <= 0:
        raise LedgerError("amount: must be positive")
    actor = actor or Actor.system()
    with transaction.atomic():
        invoice = Invoice.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            external_id=external_id,
            issue_date=issue_date,
            due_date=due_date,
            amount_cents=amount_cents,
            description=description,
        )
        _book(
            debtor,
            kind=EntryKind.INVOICE,
            component=Component.PRINCIPAL,
            amount_cents=amount_cents,
            booked_on=issue_date,
            invoice=invoice,
            description=description,
        )
        event_record(
            creditor=debtor.creditor,
            debtor=debtor,
            verb="invoice.created",
            actor=actor,
            subject=invoice,
            data={"external_id": external_id, "amount_cents": amount_cents},
        )
        credit_apply(debtor=debtor, actor=actor)
    return invoice


def charge_book(
    *,
    invoice: Invoice,
    kind: str,
    amount_cents: int,
    booked_on: date,
    reason: str,
    actor: Actor | None = None,
) -> LedgerEntry:
    """Book collection costs or statutory interest on an invoice, with the reason for it."""
    component = {EntryKind.COST: Component.COSTS, EntryKind.INTEREST: Component.INTEREST}.get(kind)
    if component is None:
        raise LedgerError(f"kind {kind!r}: only costs or interest are charged")
    if amount_cents <= 0:
        raise LedgerError("amount: must be positive")
    if not reason:
        raise LedgerError("reason: every charge needs one")
    actor = actor or Actor.system()
    debtor = invoice.debtor
    with transaction.atomic():
        entry = _book(
            debtor,
            kind=kind,
            component=component,
            amount_cents=amount_cents,
            booked_on=booked_on,
            invoice=invoice,
            description=reason,
        )
        event_record(
            creditor=debtor.creditor,
            debtor=debtor,
            verb=f"{kind}.charged",
            actor=actor,
            subject=entry,
            reason=reason,
            data={"invoice": invoice.external_id, "amount_cents": amount_cents},
        )
        credit_apply(debtor=debtor, actor=actor)
    return entry


def payment_book(
    *,
    debtor: Debtor,
    external_id: str,
    date: date,
    amount_cents: int,
    reference: str = "",
    source: str = PaymentSource.MANUAL,
    actor: Actor | None = None,
) -> Payment:
    """Book a payment and allocate it: costs, then interest, then principal (art. 6:44 BW).

    An invoice whose number appears as the payment reference is the designated claim
    (art. 6:43 BW). What is left over stays as credit on the debtor.
    """
    if amount_cents <= 0:
        raise LedgerError("amount: must be positive")
    actor = actor or Actor.system()
    with transaction.atomic():
        Debtor.objects.select_for_update().filter(pk=debtor.pk).first()
        designated = designated_invoice(debtor, reference)
        payment = Payment.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            external_id=external_id,
            date=date,
            amount_cents=amount_cents,
            reference=reference,
            designated_invoice=designated,
            source=source,
        )
        _book(
            debtor,
            kind=EntryKind.PAYMENT,
            component=Component.PAYMENT,
            amount_cents=-amount_cents,
            booked_on=date,
            payment=payment,
            description=reference,
        )
        lines = payment_allocate(payment=payment, amount_cents=amount_cents)
        event_record(
            creditor=debtor.creditor,
            debtor=debtor,
            verb="payment.booked",
            actor=actor,
            subject=payment,
            reason=PAYMENT_ALLOCATION_REASON
            + (f"; designated invoice {designated.external_id}" if designated else ""),
            data={
                "amount_cents": amount_cents,
                "allocations": lines,
                "credit_cents": amount_cents - sum(line[2] for line in lines),
            },
        )
    return payment


def designated_invoice(debtor: Debtor, reference: str) -> Invoice | None:
    """The debtor's invoice whose number is the payment reference, if any."""
    reference = (reference or "").strip()
    if not reference:
        return None
    return Invoice.objects.filter(debtor=debtor, external_id__iexact=reference).first()


def payment_allocate(*, payment: Payment, amount_cents: int) -> list[tuple[str, str, int]]:
    """Allocate up to ``amount_cents`` of a payment to the debtor's open items.

    Trusted: the caller holds the transaction and the debtor's lock.
    Returns (invoice number, component, cents) per allocation line.
    """
    if amount_cents <= 0:
        return []
    lines = position_allocate(
        debtor_position(payment.debtor), amount_cents, payment.designated_invoice_id
    )
    Allocation.objects.bulk_create(
        [
            Allocation(
                creditor_id=payment.creditor_id,
                debtor_id=payment.debtor_id,
                payment=payment,
                invoice_id=invoice_id,
                component=component,
                amount_cents=cents,
            )
            for invoice_id, component, cents in lines
        ]
    )
    numbers = dict(
        Invoice.objects.filter(pk__in={line[0] for line in lines}).values_list("pk", "external_id")
    )
    return [(numbers[invoice_id], component, cents) for invoice_id, component, cents in lines]


def payment_unallocated(payment: Payment) -> int:
    """Cents of a payment not (or no longer) allocated: its credit."""
    booked = -(
        LedgerEntry.objects.filter(payment=payment).aggregate(s=Sum("amount_cents"))["s"] or 0
    )
    allocated = payment.allocations.aggregate(s=Sum("amount_cents"))["s"] or 0
    return booked - allocated


def credit_apply(*, debtor: Debtor, actor: Actor | None = None) -> int:
    """Apply a debtor's credit (overpayments) to open items; return the cents applied."""
    position = debtor_position(debtor)
    if position.credit <= 0 or not position.items:
        return 0
    applied = 0
    with transaction.atomic():
        for payment in Payment.objects.filter(debtor=debtor).order_by("date", "id"):
            remaining = payment_unallocated(payment)
            if remaining <= 0:
                continue
            lines = payment_allocate(payment=payment, amount_cents=remaining)
            used = sum(line[2] for line in lines)
            if used:
                applied += used
                event_record(
                    creditor=debtor.creditor,
                    debtor=debtor,
                    verb="credit.applied",
                    actor=actor or Actor.system(),
                    subject=payment,
                    reason="credit from an earlier payment applied to newly open items",
                    data={"allocations": lines},
                )
            if not debtor_position(debtor).items:
                break
    return applied


def entry_reverse(*, entry: LedgerEntry, reason: str, actor: Actor | None = None) -> LedgerEntry:
    """Reverse a ledger entry with a new entry; a reversed payment's allocations are undone.

    A charge (invoice, costs, interest) can only be reversed while it is still open: reverse
    the payments that paid it first, so no euro disappears.
    """
    if not reason:
        raise LedgerError("reason: every reversal needs one")
    if entry.kind == EntryKind.REVERSAL:
        raise LedgerError("a reversal cannot be reversed; book the entry again instead")
    actor = actor or Actor.system()
    debtor = entry.debtor
    with transaction.atomic():
        Debtor.objects.select_for_update().filter(pk=debtor.pk).first()
        if LedgerEntry.objects.filter(reverses=entry).exists():
            raise LedgerError(f"entry {entry.pk} is already reversed")
        undone = []
        if entry.kind == EntryKind.PAYMENT:
            per_target = entry.payment.allocations.values("invoice_id", "component").annotate(
                total=Sum("amount_cents")
            )
            Allocation.objects.bulk_create(
                [
                    Allocation(
                        creditor_id=entry.creditor_id,
                        debtor_id=entry.debtor_id,
                        payment_id=entry.payment_id,
                        invoice_id=row["invoice_id"],
                        component=row["component"],
                        amount_cents=-row["total"],
                    )
                    for row in per_target
                    if row["total"]
                ]
            )
            undone = [(row["invoice_id"], row["component"], row["total"]) for row in per_target]
        elif entry.amount_cents > 0:
            open_item = debtor_position(debtor).items.get(entry.invoice_id)
            still_open = getattr(open_item, entry.component, 0) if open_item else 0
            if still_open < entry.amount_cents:
                raise LedgerError(
                    f"entry {entry.pk}: {from_cents(entry.amount_cents - still_open)} of it has "
                    "been paid; reverse those payments first"
                )
        reversal = _book(
            debtor,
            kind=EntryKind.REVERSAL,
            component=entry.component,
            amount_cents=-entry.amount_cents,
            booked_on=date.today(),
            invoice=entry.invoice,
            payment=entry.payment,
            reverses=entry,
            description=reason,
        )
        event_record(
            creditor=debtor.creditor,
            debtor=debtor,
            verb=f"{entry.kind}.reversed",
            actor=actor,
            subject=reversal,
            reason=reason,
            data={"entry": entry.pk, "amount_cents": entry.amount_cents, "undone": undone},
        )
        if entry.kind == EntryKind.PAYMENT:
            credit_apply(debtor=debtor, actor=actor)
    return reversal


def allocation_move(
    *,
    debtor: Debtor,
    payments: list[Payment],
    from_component: str,
    amount_cents: int,
    invoice_ids: set[int] | None = None,
    reason: str,
    actor: Actor | None = None,
) -> int:
    """Let (part of) what payments paid on one component count towards interest and principal.

    Art. 6:44 BW puts a payment on costs first to protect the creditor; the creditor may agree
    otherwise. A payment plan whose collection costs are waived when it is kept is such an
    agreement: its payments count towards the debt itself, and the costs they paid become open
    again, to be written off. Up to ``amount_cents`` is taken from the given payments'
    allocations to ``from_component`` (newest payment first) and given to open interest, then
    open principal, oldest item first (of ``invoice_ids`` when given). Money is neither made nor
    lost: every cent taken from one allocation is given to another of the same payment.
    Returns the cents moved.
    """
    if from_component not in (Component.COSTS, Component.INTEREST):
        raise LedgerError(f"component {from_component!r}: only costs or interest can be moved")
    if not reason:
        raise LedgerError("reason: every move needs one")
    if amount_cents <= 0 or not payments:
        return 0
    actor = actor or Actor.system()
    order = [Component.INTEREST, Component.PRINCIPAL]
    if from_component == Component.INTEREST:
        order = [Component.PRINCIPAL]
    with transaction.atomic():
        Debtor.objects.select_for_update().filter(pk=debtor.pk).first()
        position = debtor_position(debtor)
        items = sorted(
            (
                item
                for item in position.items.values()
                if invoice_ids is None or item.invoice_id in invoice_ids
            ),
            key=lambda item: (item.due_date, item.invoice_id),
        )
        targets = [
            [item.invoice_id, component, getattr(item, component)]
            for component in order
            for item in items
            if getattr(item, component) > 0
        ]
        sources = []
        for payment in sorted(payments, key=lambda p: (p.date, p.pk), reverse=True):
            rows = (
                payment.allocations.filter(component=from_component)
                .values("invoice_id")
                .annotate(total=Sum("amount_cents"))
                .order_by("invoice_id")
            )
            sources.extend([payment, row["invoice_id"], row["total"]] for row in rows)
        sources = [source for source in sources if source[2] > 0]
        left, rows, lines = amount_cents, [], []
        while left > 0 and sources and targets:
            source, target = sources[0], targets[0]
            cents = min(left, source[2], target[2])
            payment, from_invoice = source[0], source[1]
            rows += [
                Allocation(
                    creditor_id=payment.creditor_id,
                    debtor_id=payment.debtor_id,
                    payment=payment,
                    invoice_id=from_invoice,
                    component=from_component,
                    amount_cents=-cents,
                ),
                Allocation(
                    creditor_id=payment.creditor_id,
                    debtor_id=payment.debtor_id,
                    payment=payment,
                    invoice_id=target[0],
                    component=target[1],
                    amount_cents=cents,
                ),
            ]
            lines.append((payment.external_id, from_invoice, target[0], target[1], cents))
            left -= cents
            source[2] -= cents
            target[2] -= cents
            if source[2] == 0:
                sources.pop(0)
            if target[2] == 0:
                targets.pop(0)
        moved = amount_cents - left
        if moved:
            Allocation.objects.bulk_create(rows)
            numbers = dict(
                Invoice.objects.filter(
                    pk__in={line[1] for line in lines} | {line[2] for line in lines}
                ).values_list("pk", "external_id")
            )
            event_record(
                creditor=debtor.creditor,
                debtor=debtor,
                verb="allocation.moved",
                actor=actor,
                reason=reason,
                data={
                    "from_component": from_component,
                    "moved_cents": moved,
                    "lines": [
                        [payment_id, numbers[src], numbers[dst], component, cents]
                        for payment_id, src, dst, component, cents in lines
                    ],
                },
            )
    return moved


def write_off(
    *,
    invoice: Invoice,
    component: str,
    amount_cents: int,
    reason: str,
    actor: Actor | None = None,
) -> LedgerEntry:
    """Write off (part of) an open component of an invoice; never more than is open."""
    if component not in (Component.COSTS, Component.INTEREST, Component.PRINCIPAL):
        raise LedgerError(f"component {component!r}: expected costs, interest or principal")
    if amount_cents <= 0:
        raise LedgerError("amount: must be positive")
    if not reason:
        raise LedgerError("reason: every write-off needs one")
    debtor = invoice.debtor
    actor = actor or Actor.system()
    with transaction.atomic():
        Debtor.objects.select_for_update().filter(pk=debtor.pk).first()
        open_item = debtor_position(debtor).items.get(invoice.pk)
        still_open = getattr(open_item, component, 0) if open_item else 0
        if amount_cents > still_open:
            raise LedgerError(
                f"write-off of {from_cents(amount_cents)} exceeds the open {component} "
                f"{from_cents(still_open)}"
            )
        entry = _book(
            debtor,
            kind=EntryKind.WRITE_OFF,
            component=component,
            amount_cents=-amount_cents,
            booked_on=date.today(),
            invoice=invoice,
            description=reason,
        )
        event_record(
            creditor=debtor.creditor,
            debtor=debtor,
            verb="write_off.booked",
            actor=actor,
            subject=entry,
            reason=reason,
            data={
                "invoice": invoice.external_id,
                "component": component,
                "amount_cents": amount_cents,
            },
        )
    return entry
