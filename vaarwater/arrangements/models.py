"""Payment arrangements: affordability assessments, plans with instalments, promises to pay.

An ``Assessment`` is what a household can afford each month, with its explanation: from the
debtor's own answers, from bank data shared through PSD2, or from an agent's questions.

An ``Arrangement`` is an agreed plan for one case: its ``Instalment`` rows sum exactly to the
amount the plan covers. Payments are never booked *on* an instalment: they are booked in the
ledger as any payment, and the plan's follow-up reconciles the debtor's payments since the plan
began against its instalments, oldest first. A returned direct debit (a ledger reversal) makes
an instalment unpaid again by the same reckoning.

A ``Promise`` is a promise to pay an amount by a date (from a call or the portal), tracked as
kept or broken.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Household(models.TextChoices):
    SINGLE = "single", _("single")
    SINGLE_PARENT = "single_parent", _("single parent")
    COUPLE = "couple", _("couple")
    COUPLE_CHILDREN = "couple_children", _("couple with children")


class AssessmentSource(models.TextChoices):
    ANSWERS = "answers", _("the customer's own answers")
    PSD2 = "psd2", _("bank data shared through PSD2")
    AGENT = "agent", _("asked by an agent")


class Assessment(models.Model):
    """A household's monthly capacity to pay, with how it was reckoned."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.PROTECT, related_name="assessments"
    )
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=16, choices=AssessmentSource.choices)
    household = models.CharField(_("household"), max_length=16, choices=Household.choices)
    net_income_cents = models.BigIntegerField(_("net income per month (cents)"))
    fixed_costs_cents = models.BigIntegerField(_("fixed costs per month (cents)"), default=0)
    other_instalments_cents = models.BigIntegerField(
        _("instalments to other creditors per month (cents)"), default=0
    )
    other_debts_cents = models.BigIntegerField(_("other debts (cents)"), default=0)
    floor_cents = models.BigIntegerField(_("protected income (beslagvrije voet, cents)"))
    capacity_cents = models.BigIntegerField(_("monthly capacity (cents)"))
    payday_day = models.PositiveSmallIntegerField(_("payday (day of month)"), null=True, blank=True)
    # One line per step of the reckoning, in the order it was made: [{"label", "cents"}...].
    explanation = models.JSONField(default=list)
    # The answers given, or a summary of the PSD2 data (never the raw transactions).
    data = models.JSONField(default=dict, blank=True)
    created_by = models.CharField(_("made by"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("affordability assessment")
        verbose_name_plural = _("affordability assessments")

    def __str__(self):
        return f"assessment {self.pk}: {self.capacity_cents} cents a month"


class ArrangementStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    COMPLETED = "completed", _("completed")
    BREACHED = "breached", _("broken off")
    CANCELLED = "cancelled", _("cancelled")
    REPLACED = "replaced", _("replaced by a new plan")


class ArrangementKind(models.TextChoices):
    FULL_ON_PAYDAY = "full_on_payday", _("pay in full on payday")
    INSTALMENTS = "instalments", _("monthly instalments")
    CUSTOM = "custom", _("custom plan")


class PayMethod(models.TextChoices):
    TRANSFER = "transfer", _("bank transfer with the payment reference")
    LINK = "link", _("payment link (iDEAL)")
    SEPA = "sepa", _("SEPA direct debit")


class Arrangement(models.Model):
    """An agreed payment plan for one case."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.PROTECT, related_name="arrangements"
    )
    case = models.ForeignKey("strategy.Case", on_delete=models.PROTECT, related_name="arrangements")
    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="arrangements"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ArrangementStatus.choices,
        default=ArrangementStatus.ACTIVE,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ArrangementKind.choices)
    method = models.CharField(_("paid by"), max_length=16, choices=PayMethod.choices)
    mandate = models.ForeignKey(
        "payments.Mandate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The payment reference for transfers, unique per creditor (printed in every message).
    reference = models.CharField(_("payment reference"), max_length=32)
    total_cents = models.BigIntegerField(_("the plan covers (cents)"))
    # Collection costs left out of the plan: waived when it is kept, due again when broken.
    waived_costs_cents = models.BigIntegerField(_("costs waived when kept (cents)"), default=0)
    debt_cents = models.BigIntegerField(_("open balance at the start (cents)"))
    capacity_cents = models.BigIntegerField(_("monthly capacity (cents)"), null=True, blank=True)
    override_reason = models.TextField(
        _("why an agent agreed a plan beyond the capacity or the policy"), blank=True
    )
    channel = models.CharField(_("agreed through"), max_length=16)  # portal | agent
    accepted_on = models.DateField(_("agreed on"))
    accepted_by = models.CharField(_("agreed by"), max_length=200)
    # The creditor's policy as it was when the plan was agreed (settings.arrangements).
    policy = models.JSONField(default=dict)
    misses = models.PositiveSmallIntegerField(_("missed instalments"), default=0)
    paid_cents = models.BigIntegerField(_("paid so far (cents)"), default=0)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.TextField(blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hold = models.ForeignKey(
        "strategy.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-accepted_on", "-id"]
        indexes = [models.Index(fields=["status", "creditor"], name="arr_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "reference"], name="arr_reference_uniq"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="active"), name="arr_one_active_per_case"
            ),
            models.CheckConstraint(condition=Q(total_cents__gt=0), name="arr_total_pos"),
        ]
        verbose_name = _("payment arrangement")
        verbose_name_plural = _("payment arrangements")

    def __str__(self):
        return f"{self.reference} ({self.get_status_display()})"


class InstalmentStatus(models.TextChoices):
    OPEN = "open", _("to pay")
    PAID = "paid", _("paid")
    MISSED = "missed", _("missed")


class Instalment(models.Model):
    """One payment of a plan; ``paid_cents`` is the reckoning's result, not a booking."""

    arrangement = models.ForeignKey(
        Arrangement, on_delete=models.CASCADE, related_name="instalments"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    paid_cents = models.BigIntegerField(_("paid (cents)"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=InstalmentStatus.choices, default=InstalmentStatus.OPEN
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    thanked_on = models.DateField(null=True, blank=True)
    missed_on = models.DateField(null=True, blank=True)
    # The payment link sent for this instalment (method link), if any.
    payment_link = models.ForeignKey(
        "payments.PaymentLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["arrangement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["arrangement", "number"], name="inst_number_uniq"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="inst_amount_pos"),
        ]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")

    def __str__(self):
        return f"{self.arrangement.reference} #{self.number} {self.due_on}"


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("open")
    KEPT = "kept", _("kept")
    BROKEN = "broken", _("broken")
    CANCELLED = "cancelled", _("cancelled")


class Promise(models.Model):
    """A promise to pay an amount by a date (betaalbelofte)."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="promises")
    case = models.ForeignKey("strategy.Case", on_delete=models.PROTECT, related_name="promises")
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    due_on = models.DateField(_("pay by"))
    source = models.CharField(_("made in"), max_length=16)  # call | portal | agent
    status = models.CharField(
        _("status"), max_length=16, choices=PromiseStatus.choices, default=PromiseStatus.OPEN
    )
    made_on = models.DateField(_("made on"))
    made_by = models.CharField(_("recorded by"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    paid_cents = models.BigIntegerField(_("paid towards it (cents)"), default=0)
    settled_on = models.DateField(_("kept or broken on"), null=True, blank=True)
    hold = models.ForeignKey(
        "strategy.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-made_on", "-id"]
        indexes = [models.Index(fields=["status", "due_on"], name="promise_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="promise_amount_pos"),
        ]
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")

    def __str__(self):
        return f"{self.amount_cents} cents by {self.due_on} ({self.get_status_display()})"
