"""Reads for payments: what is open per invoice, a debtor's own requests, links and their state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from vaarwater.ledger.models import Debtor, Invoice
from vaarwater.ledger.selectors import debtor_position

from .models import PaymentLink, PaymentRequest, PaymentRequestStatus


@dataclass(frozen=True)
class OpenInvoice:
    """One invoice with something still open, for the pay page."""

    number: str
    description: str
    due_date: date
    open_cents: int


def open_invoices(debtor: Debtor) -> tuple[int, list[OpenInvoice]]:
    """The debtor's balance and the invoices with something open (oldest due first)."""
    position = debtor_position(debtor)
    numbers = dict(Invoice.objects.filter(pk__in=position.items).values_list("pk", "external_id"))
    texts = dict(Invoice.objects.filter(pk__in=position.items).values_list("pk", "description"))
    rows = [
        OpenInvoice(
            number=numbers.get(item.invoice_id, ""),
            description=texts.get(item.invoice_id, ""),
            due_date=item.due_date,
            open_cents=item.total,
        )
        for item in sorted(position.items.values(), key=lambda i: (i.due_date, i.invoice_id))
        if item.total > 0
    ]
    return position.balance, rows


def debtor_request(debtor: Debtor, pk: int) -> PaymentRequest | None:
    """One of the debtor's own payment requests, or None (another debtor's is never shown)."""
    return PaymentRequest.objects.filter(debtor=debtor, pk=pk).first()


def link_by_code(code: str) -> PaymentLink | None:
    """The payment link with this code, or None."""
    if not code or len(code) > 16:
        return None
    return (
        PaymentLink.objects.select_related("creditor", "debtor", "case")
        .filter(code=code.lower())
        .first()
    )


def link_request(link: PaymentLink, pk: int) -> PaymentRequest | None:
    """A payment request made through this link, or None."""
    return PaymentRequest.objects.filter(link=link, pk=pk).first()


def link_state(link: PaymentLink, *, today: date | None = None) -> str:
    """``live``, ``paid``, ``revoked`` or ``expired``: what the link page does."""
    today = today or timezone.localdate()
    if link.requests.filter(status=PaymentRequestStatus.PAID).exists():
        return "paid"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_on < today:
        return "expired"
    return "live"


def link_amount(link: PaymentLink) -> int:
    """What paying through a link asks now: its amount, never more than the balance."""
    return max(min(link.amount_cents, debtor_position(link.debtor).balance), 0)


def link_url(link: PaymentLink) -> str:
    """The short link as a debtor sees it: ``PUBLIC_URL/b/<code>/``."""
    return settings.PUBLIC_URL.rstrip("/") + reverse("payments:link", args=[link.code])


def debtor_links(debtor: Debtor):
    """The debtor's payment links, newest first."""
    return PaymentLink.objects.filter(debtor=debtor).order_by("-created_at", "-id")
