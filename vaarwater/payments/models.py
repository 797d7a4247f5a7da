"""Payments: iDEAL payments started from the portal or a payment link, and payment links.

A ``PaymentRequest`` is one payment a debtor started at the provider (Mollie). Its status
always comes from the provider; when the provider says ``paid`` it is booked in the ledger once
(``payment`` is set, and the ledger's payment id is the provider's id, unique per creditor).

A ``PaymentLink`` is a short link for a set amount that works until a date: a message or an
agent sends it, the debtor opens ``/b/<code>/`` and pays with iDEAL.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PaymentRequestStatus(models.TextChoices):
    OPEN = "open", _("open")
    PENDING = "pending", _("processing")
    PAID = "paid", _("paid")
    FAILED = "failed", _("failed")
    CANCELED = "canceled", _("canceled")
    EXPIRED = "expired", _("expired")


# Every status a request may move to from its current one (the provider's own state machine);
# anything else is refused. Paid, failed, canceled and expired are final.
TRANSITIONS: dict[str, set[str]] = {
    PaymentRequestStatus.OPEN: {
        PaymentRequestStatus.PENDING,
        PaymentRequestStatus.PAID,
        PaymentRequestStatus.FAILED,
        PaymentRequestStatus.CANCELED,
        PaymentRequestStatus.EXPIRED,
    },
    PaymentRequestStatus.PENDING: {
        PaymentRequestStatus.PAID,
        PaymentRequestStatus.FAILED,
        PaymentRequestStatus.CANCELED,
        PaymentRequestStatus.EXPIRED,
    },
    PaymentRequestStatus.PAID: set(),
    PaymentRequestStatus.FAILED: set(),
    PaymentRequestStatus.CANCELED: set(),
    PaymentRequestStatus.EXPIRED: set(),
}
FINAL = (
    PaymentRequestStatus.PAID,
    PaymentRequestStatus.FAILED,
    PaymentRequestStatus.CANCELED,
    PaymentRequestStatus.EXPIRED,
)


class PaymentLinkQuerySet(models.QuerySet):
    def for_creditor(self, creditor):
        return self.filter(creditor=creditor)


class PaymentLink(models.Model):
    """A short payment link for a set amount, valid through ``expires_on`` (like a Tikkie)."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.PROTECT, related_name="payment_links"
    )
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    expires_on = models.DateField(_("works through"))
    purpose = models.CharField(
        _("purpose"), max_length=32, blank=True, help_text=_("why it was made: message, agent")
    )
    created_by = models.CharField(_("made by"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = PaymentLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["debtor", "expires_on"], name="paylink_debtor_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="paylink_amount_pos"),
        ]
        verbose_name = _("payment link")
        verbose_name_plural = _("payment links")

    def __str__(self):
        return f"/b/{self.code}/"


class PaymentRequestQuerySet(models.QuerySet):
    def for_creditor(self, creditor):
        return self.filter(creditor=creditor)

    def paid(self):
        return self.filter(status=PaymentRequestStatus.PAID)


class PaymentRequest(models.Model):
    """One iDEAL payment a debtor started; ``idempotency_key`` makes a double click one."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.PROTECT, related_name="payment_requests"
    )
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    link = models.ForeignKey(
        PaymentLink, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    description = models.CharField(_("description"), max_length=255)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PaymentRequestStatus.choices,
        default=PaymentRequestStatus.OPEN,
    )
    provider = models.CharField(_("provider"), max_length=16, default="mollie")
    # Set once the provider has the payment; null while the first call is under way.
    provider_id = models.CharField(
        _("provider reference"), max_length=64, null=True, blank=True, unique=True
    )
    checkout_url = models.URLField(_("checkout"), max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    # The ledger payment this request was booked as: set once, never twice.
    payment = models.OneToOneField(
        "ledger.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_request",
    )
    started_by = models.CharField(_("started by"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    objects = PaymentRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["debtor", "status"], name="payreq_debtor_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payreq_amount_pos"),
            models.CheckConstraint(
                condition=Q(payment__isnull=True) | Q(status="paid"), name="payreq_booked_paid"
            ),
        ]
        verbose_name = _("iDEAL payment")
        verbose_name_plural = _("iDEAL payments")

    def __str__(self):
        return self.provider_id or f"payment request {self.pk}"

    @property
    def final(self) -> bool:
        return self.status in FINAL


# SEPA direct debit and bank statements live in their own modules; Django finds them here.
from .sepa_models import (  # noqa: E402,F401
    Collection,
    CollectionBatch,
    CollectionStatus,
    Mandate,
    MandateStatus,
)
from .statement_models import (  # noqa: E402,F401
    EntryStatus,
    Statement,
    StatementEntry,
    StatementStatus,
)
