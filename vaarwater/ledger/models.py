"""Ledger: creditors (tenants), debtors, contact points, contracts, invoices, payments.

Money is integer cents. Balances are never stored: they are sums of append-only
``LedgerEntry`` rows (what is owed) and ``Allocation`` rows (what paid what).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vaarwater.core.models import AppendOnlyModel

# TENANT_COLUMN_NOTE: rows below a debtor carry ``creditor`` as well, so that every read can
# be scoped to a tenant without a join. The database does not re-check that column with a
# foreign key: the debtor's own foreign key already ties the row to a real creditor, the
# services and the importer copy the debtor's creditor, and a deferred check per row would
# double the cost of a bulk import on PostgreSQL.


class Sector(models.TextChoices):
    ENERGY = "energy", _("energy supplier")
    WATER = "water", _("drinking-water company")
    HOUSING = "housing", _("housing corporation")
    HEALTH_INSURANCE = "health_insurance", _("health insurer")
    TELECOM = "telecom", _("telecom")
    MUNICIPALITY = "municipality", _("municipality")
    OTHER = "other", _("other consumer creditor")


class Language(models.TextChoices):
    NL = "nl", "Nederlands"
    EN = "en", "English"


class PaydayCycle(models.TextChoices):
    MONTHLY = "monthly", _("monthly")
    FOUR_WEEKLY = "four_weekly", _("four-weekly")


class CreditorQuerySet(models.QuerySet):
    def for_user(self, user, role: str = "agent"):
        """Creditors a back-office user may see: all for superusers, else their memberships.

        With ``role``, only the creditors where the user holds at least that role
        (agent < supervisor < administrator)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(
            memberships__user=user, memberships__role__in=Role.at_least(role)
        ).distinct()


class Creditor(models.Model):
    """An organisation that uses Vaarwater to collect its arrears: a tenant."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=32, choices=Sector.choices)
    can_reclaim_vat = models.BooleanField(
        _("can reclaim VAT"),
        default=True,
        help_text=_("If not, 21% VAT may be added to collection costs (WIK)."),
    )
    iban = models.CharField(_("collection account IBAN"), max_length=34, blank=True)
    # Letterhead: what a printed letter shows about the sender (see ``creditor letterhead``).
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    sepa_creditor_id = models.CharField(
        _("SEPA creditor identifier (incassant-ID)"), max_length=35, blank=True
    )
    logo = models.BinaryField(_("logo"), blank=True, default=b"")
    logo_type = models.CharField(
        _("logo type"),
        max_length=16,
        blank=True,
        choices=[("image/svg+xml", "SVG"), ("image/png", "PNG")],
    )
    address = models.TextField(
        _("postal address"), blank=True, help_text=_("The sender block of a letter, one line each.")
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CreditorQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("creditor")
        verbose_name_plural = _("creditors")

    def __str__(self):
        return f"{self.code} — {self.name}"


class Role(models.TextChoices):
    """What a back-office user may do at one creditor; each role includes the ones before it."""

    AGENT = "agent", _("agent")
    SUPERVISOR = "supervisor", _("supervisor")
    ADMINISTRATOR = "administrator", _("administrator")

    @classmethod
    def at_least(cls, role: str) -> list[str]:
        """The roles that include ``role``: ``at_least("supervisor")`` is supervisor and admin."""
        order = [cls.AGENT, cls.SUPERVISOR, cls.ADMINISTRATOR]
        return [r.value for r in order[order.index(cls(role)) :]]


class CreditorMembership(models.Model):
    """A back-office user's access to one creditor's data, with their role there."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creditor_memberships"
    )
    creditor = models.ForeignKey(Creditor, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.AGENT, db_default=Role.AGENT
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "creditor"], name="membership_unique")
        ]
        verbose_name = _("creditor membership")

    def __str__(self):
        return f"{self.user} @ {self.creditor.code}"


class ScopedQuerySet(models.QuerySet):
    """Reads are always scoped to one creditor (tenant)."""

    def for_creditor(self, creditor):
        return self.filter(creditor=creditor)


class Debtor(models.Model):
    """A person or household that owes a creditor money."""

    creditor = models.ForeignKey(
        Creditor, on_delete=models.PROTECT, related_name="debtors", db_index=False
    )  # indexed by debtor_unique_ext
    external_id = models.CharField(_("customer number"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street"), max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=16, blank=True)
    postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    payday_day = models.PositiveSmallIntegerField(_("payday (day of month)"), null=True, blank=True)
    payday_cycle = models.CharField(
        _("payday cycle"), max_length=16, choices=PaydayCycle.choices, default=PaydayCycle.MONTHLY
    )
    payday_anchor = models.DateField(_("a known payday"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.NL
    )
    # Facts the strategy's segments read. db_default: bulk imports leave these columns out.
    vulnerable = models.BooleanField(
        _("vulnerable"),
        default=False,
        db_default=False,
        help_text=_("Needs a gentler treatment (illness, care, known debt problems)."),
    )
    risk_score = models.PositiveSmallIntegerField(
        _("risk score"),
        null=True,
        blank=True,
        help_text=_("0-100, from the early-warning model; empty until it has scored."),
    )
    # What the debtor said in the portal: the channel and part of the day they prefer.
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, blank=True, default="", db_default=""
    )
    preferred_time = models.CharField(
        _("preferred time of day"), max_length=16, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "external_id"], name="debtor_unique_ext"),
            models.CheckConstraint(
                condition=Q(payday_day__isnull=True) | Q(payday_day__gte=1, payday_day__lte=31),
                name="debtor_payday_day_range",
            ),
        ]
        verbose_name = _("debtor")
        verbose_name_plural = _("debtors")

    def __str__(self):
        return f"{self.external_id} {self.name}"


class ContactKind(models.TextChoices):
    EMAIL = "email", _("email")
    PHONE = "phone", _("phone")
    WHATSAPP = "whatsapp", _("WhatsApp")


class ContactSource(models.TextChoices):
    IMPORT = "import", _("import")
    PORTAL = "portal", _("portal")
    AGENT = "agent", _("agent")
    BANK = "bank", _("bank data")


class ContactPoint(models.Model):
    """One way to reach a debtor, stored normalised (E.164 phone, lower-case email)."""

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="contact_points", db_index=False
    )  # indexed by contact_unique
    kind = models.CharField(_("kind"), max_length=16, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=254)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    invalid_since = models.DateTimeField(_("invalid since"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ContactSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["debtor", "kind", "value"], name="contact_unique")
        ]
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")

    def __str__(self):
        return f"{self.kind}: {self.value}"


class Contract(models.Model):
    """A contract (supply address, tenancy, policy) that invoices belong to."""

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        related_name="contracts",
        db_index=False,
        db_constraint=False,  # the debtor's own creditor; see TENANT_COLUMN_NOTE
    )  # indexed by contract_unique_ext
    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="contracts")
    external_id = models.CharField(_("contract number"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["creditor", "external_id"], name="contract_unique_ext")
        ]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self):
        return self.external_id


class Invoice(models.Model):
    """A bill from the creditor's billing system; its amount is the principal (hoofdsom)."""

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        related_name="invoices",
        db_index=False,
        db_constraint=False,  # the debtor's own creditor; see TENANT_COLUMN_NOTE
    )  # indexed by invoice_unique_ext
    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="invoices")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    external_id = models.CharField(_("invoice number"), max_length=64)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"), db_index=True)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    description = models.CharField(_("description"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "external_id"], name="invoice_unique_ext"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="invoice_amount_pos"),
        ]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")

    def __str__(self):
        return self.external_id


class PaymentSource(models.TextChoices):
    IMPORT = "import", _("billing-system import")
    BANK = "bank", _("bank statement")
    PSP = "psp", _("payment provider")
    MANUAL = "manual", _("manual")


class Payment(models.Model):
    """Money received from a debtor; what it paid is in its allocations."""

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
        db_constraint=False,  # the debtor's own creditor; see TENANT_COLUMN_NOTE
    )  # indexed by payment_unique_ext
    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="payments")
    external_id = models.CharField(_("payment id"), max_length=64)
    date = models.DateField(_("date"))
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    designated_invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The invoice the debtor said this payment is for (art. 6:43 BW)."),
    )
    source = models.CharField(_("source"), max_length=16, choices=PaymentSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "external_id"], name="payment_unique_ext"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_pos"),
        ]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self):
        return self.external_id


class EntryKind(models.TextChoices):
    INVOICE = "invoice", _("invoice")
    PAYMENT = "payment", _("payment")
    COST = "cost", _("collection costs")
    INTEREST = "interest", _("statutory interest")
    WRITE_OFF = "write_off", _("write-off")
    REVERSAL = "reversal", _("reversal")


class Component(models.TextChoices):
    """What part of a claim an entry or allocation concerns (art. 6:44 BW order)."""

    COSTS = "costs", _("costs")
    INTEREST = "interest", _("interest")
    PRINCIPAL = "principal", _("principal")
    PAYMENT = "payment", _("payment")


class ImportRun(models.Model):
    """One run of ``vaarwater import``: the file, its fingerprint and what it did."""

    creditor = models.ForeignKey(Creditor, on_delete=models.PROTECT, related_name="import_runs")
    kind = models.CharField(max_length=16)
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import run")

    def __str__(self):
        return f"{self.kind} {self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class LedgerEntry(AppendOnlyModel):
    """One append-only booking. Positive = the debtor owes more; negative = owes less.

    A correction is a new ``reversal`` entry pointing at the entry it reverses.
    """

    # Fewer indexes make bulk imports faster: debtor is covered by entry_debtor_idx; creditor
    # totals are reporting queries that may scan.
    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,  # the debtor's own creditor; see TENANT_COLUMN_NOTE
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    component = models.CharField(_("component"), max_length=16, choices=Component.choices)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    booked_on = models.DateField(_("booked on"))
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    # Most entries are invoices, with no payment and reversing nothing: partial indexes
    # (see Meta) leave those NULLs out, which makes a bulk import of invoices cheaper.
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
    )
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_index=False,
    )
    import_run = models.ForeignKey(
        ImportRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,  # an audit link, checked by the importer that writes it
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["booked_on", "id"]
        indexes = [
            models.Index(fields=["debtor", "booked_on"], name="entry_debtor_idx"),
            models.Index(
                fields=["payment"], condition=Q(payment__isnull=False), name="entry_payment_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="entry_amount_nonzero"),
            # An entry is reversed at most once.
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="entry_reversed_once"
            ),
        ]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self):
        return f"{self.booked_on} {self.kind} {self.amount_cents}"


class Allocation(AppendOnlyModel):
    """The part of a payment that went to one component of one invoice (art. 6:44 BW).

    Negative amounts undo an earlier allocation (when a payment is reversed).
    """

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,  # the debtor's own creditor; see TENANT_COLUMN_NOTE
    )
    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    component = models.CharField(_("component"), max_length=16, choices=Component.choices)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="allocation_nonzero"),
        ]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")

    def __str__(self):
        return f"{self.payment_id} → {self.invoice_id} {self.component} {self.amount_cents}"
