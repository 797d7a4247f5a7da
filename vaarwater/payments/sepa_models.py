"""SEPA direct debit: mandates, collections (one per instalment) and pain.008 batches.

A ``Mandate`` is the debtor's signed permission (IBAN validated, a mandate id unique per
creditor, the signature date). A ``Collection`` is one debit of one amount on one day; a
``CollectionBatch`` is one pain.008 file holding collections. A collection is booked in the
ledger when the creditor's bank statement shows it credited; a return (storno after settlement,
reject before it) reverses or prevents that booking.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MandateStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    REVOKED = "revoked", _("revoked")


class Mandate(models.Model):
    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="mandates")
    mandate_id = models.CharField(_("mandate id"), max_length=35)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("account holder"), max_length=70)
    signed_on = models.DateField(_("signed on"))
    signed_via = models.CharField(_("signed through"), max_length=16)  # portal | agent | paper
    status = models.CharField(
        _("status"), max_length=16, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    # The first collection under a mandate is FRST, every later one RCUR.
    first_collected = models.BooleanField(default=False)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "mandate_id"], name="mandate_id_uniq"),
        ]
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")

    def __str__(self):
        return self.mandate_id


class CollectionStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    SUBMITTED = "submitted", _("in a batch sent to the bank")
    SETTLED = "settled", _("collected")
    REJECTED = "rejected", _("rejected before collection")
    RETURNED = "returned", _("returned (storno)")
    CANCELLED = "cancelled", _("cancelled")


class CollectionBatch(models.Model):
    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    schema = models.CharField(_("format"), max_length=20)  # pain.008.001.02 | pain.008.001.08
    collection_date = models.DateField(_("collection date"))
    count = models.PositiveIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    xml = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("direct debit batch")
        verbose_name_plural = _("direct debit batches")

    def __str__(self):
        return self.message_id


class Collection(models.Model):
    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.PROTECT, related_name="collections"
    )
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="collections")
    batch = models.ForeignKey(
        CollectionBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collections",
    )
    # What asked for it, e.g. "instalment:12" (payments does not depend on arrangements).
    purpose = models.CharField(max_length=64)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, unique=True)
    description = models.CharField(_("description"), max_length=140)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    due_on = models.DateField(_("collection date"))
    sequence = models.CharField(max_length=4, blank=True)  # FRST | RCUR, set when batched
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CollectionStatus.choices,
        default=CollectionStatus.PLANNED,
    )
    prenotified_on = models.DateField(_("pre-notified on"), null=True, blank=True)
    payment = models.OneToOneField(
        "ledger.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_code = models.CharField(_("return reason code"), max_length=8, blank=True)
    return_reason = models.TextField(blank=True)
    returned_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["creditor", "status", "due_on"], name="coll_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="coll_amount_pos"),
        ]
        verbose_name = _("direct debit")
        verbose_name_plural = _("direct debits")

    def __str__(self):
        return self.end_to_end_id
