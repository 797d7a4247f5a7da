"""Bank statements (CAMT.053, MT940) and their entries, matched to debtors.

A ``Statement`` is one account statement from one file. It belongs to the creditor whose
collection account it is; a statement for an account no creditor has is kept (with the file's
bytes) in a worklist until someone assigns it, never dropped. Each ``StatementEntry`` carries a
key that is the same however often the file is imported, so a second import changes nothing.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatementStatus(models.TextChoices):
    IMPORTED = "imported", _("imported")
    UNKNOWN_ACCOUNT = "unknown_account", _("account of no known creditor")


class Statement(models.Model):
    creditor = models.ForeignKey(
        "ledger.Creditor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=StatementStatus.choices)
    file_format = models.CharField(_("format"), max_length=20)  # camt.053.001.02 ... | mt940
    file_name = models.CharField(_("file"), max_length=500)
    file_sha256 = models.CharField(max_length=64)
    # The file itself, kept for statements of an unknown account so nothing is lost.
    raw = models.BinaryField(blank=True, default=b"")
    account_iban = models.CharField(_("account"), max_length=34)
    statement_id = models.CharField(_("statement id"), max_length=64, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)  # position in the file
    currency = models.CharField(max_length=3, default="EUR")
    opening_cents = models.BigIntegerField(null=True, blank=True)
    closing_cents = models.BigIntegerField(null=True, blank=True)
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    entries_count = models.PositiveIntegerField(default=0)
    imported_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["file_sha256", "sequence"], name="statement_file_seq_uniq"
            ),
        ]
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")

    def __str__(self):
        return f"{self.account_iban} {self.statement_id}"


class EntryStatus(models.TextChoices):
    BOOKED = "booked", _("matched and booked")
    UNMATCHED = "unmatched", _("not matched: in the worklist")
    IGNORED = "ignored", _("not a customer payment")
    RETURN = "return", _("a direct debit returned")
    COLLECTION = "collection", _("direct debits collected")


class StatementEntry(models.Model):
    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="entries")
    # Stable across imports of the same statement: account, dates, amount, references and
    # the entry's position among identical ones.
    key = models.CharField(max_length=64)
    line = models.PositiveIntegerField(_("line in the file"), null=True, blank=True)
    booking_date = models.DateField(_("booking date"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    amount_cents = models.BigIntegerField(_("amount (cents); negative for a debit"))
    currency = models.CharField(max_length=3, default="EUR")
    counterparty_name = models.CharField(_("name"), max_length=140, blank=True)
    counterparty_iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    remittance = models.TextField(_("description"), blank=True)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=64, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    return_code = models.CharField(_("return reason code"), max_length=8, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=EntryStatus.choices)
    match_method = models.CharField(_("matched by"), max_length=16, blank=True)
    match_reason = models.TextField(_("why"), blank=True)
    debtor = models.ForeignKey(
        "ledger.Debtor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.OneToOneField(
        "ledger.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["statement", "line", "id"]
        indexes = [models.Index(fields=["creditor", "status"], name="stmt_entry_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "key"], name="stmt_entry_key_uniq"),
        ]
        verbose_name = _("statement entry")
        verbose_name_plural = _("statement entries")

    def __str__(self):
        return f"{self.booking_date} {self.amount_cents} {self.counterparty_name}"
