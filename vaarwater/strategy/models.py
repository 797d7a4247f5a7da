"""Strategy engine: versioned strategies, cases and their state machine, holds, decisions.

A ``Case`` is one debtor's open collection process at one creditor. The daily run moves it
one ``Decision`` further per day, following the ``StrategyVersion`` it was opened under.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vaarwater.core.models import AppendOnlyModel


class StrategyVersion(models.Model):
    """One stored strategy document. Versions are numbered per creditor and never change."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="strategy_versions"
    )
    name = models.CharField(_("strategy"), max_length=64)
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    valid_from = models.DateField(_("applies from"))
    document = models.JSONField(help_text="the validated document, as loaded")
    source_text = models.TextField(help_text="the YAML exactly as loaded")
    source_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    shipped = models.BooleanField(default=False, help_text="a shipped default for the sector")
    loaded_by = models.CharField(max_length=200, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["creditor", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "number"], name="strategy_version_unique")
        ]
        verbose_name = _("strategy version")
        verbose_name_plural = _("strategy versions")

    def __str__(self):
        return f"{self.name} v{self.number}"

    @property
    def label(self) -> str:
        return f"{self.name} v{self.number}"

    def parsed(self):
        from .documents import version_strategy

        return version_strategy(self)


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    HELD = "held", _("on hold")
    CLOSED = "closed", _("closed")


class CloseReason(models.TextChoices):
    PAID = "paid", _("paid")
    ARRANGEMENT_FULFILLED = "arrangement_fulfilled", _("arrangement fulfilled")
    WRITTEN_OFF = "written_off", _("written off")
    HANDED_OVER = "handed_over", _("handed over")
    STRATEGY = "strategy", _("closed by the strategy")
    MANUAL = "manual", _("closed by hand")


# The state machine. Every change of status goes through ``case_transition`` and leaves a
# ``CaseTransition`` row; any pair not listed here is refused.
TRANSITIONS: dict[tuple[str | None, str], tuple[str, ...]] = {
    (None, CaseStatus.OPEN): ("opened",),
    (CaseStatus.OPEN, CaseStatus.HELD): ("hold",),
    (CaseStatus.HELD, CaseStatus.OPEN): ("hold_ended",),
    (CaseStatus.OPEN, CaseStatus.CLOSED): tuple(CloseReason.values),
    (CaseStatus.HELD, CaseStatus.CLOSED): (
        CloseReason.PAID,
        CloseReason.ARRANGEMENT_FULFILLED,
        CloseReason.WRITTEN_OFF,
        CloseReason.MANUAL,
    ),
}


class CaseQuerySet(models.QuerySet):
    def for_creditor(self, creditor):
        return self.filter(creditor=creditor)

    def active(self):
        return self.exclude(status=CaseStatus.CLOSED)


class Case(models.Model):
    """A debtor's collection case at one creditor (dossier)."""

    creditor = models.ForeignKey(
        "ledger.Creditor",
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
        db_constraint=False,  # the debtor's own creditor; see ledger TENANT_COLUMN_NOTE
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.CharField(
        _("close reason"), max_length=32, choices=CloseReason.choices, blank=True
    )
    strategy_version = models.ForeignKey(
        StrategyVersion, on_delete=models.PROTECT, related_name="cases"
    )
    variant = models.CharField(_("variant"), max_length=64, default="champion")
    variant_draw = models.DecimalField(
        max_digits=7, decimal_places=4, help_text="the stable draw in [0, 100) that chose it"
    )
    segment = models.CharField(_("segment"), max_length=64)
    path = models.CharField(_("path"), max_length=64)
    anchor_due = models.DateField(_("oldest due date"), help_text="oldest overdue item at opening")
    step_index = models.PositiveIntegerField(_("next step"), default=0)
    last_step_on = models.DateField(_("last step on"), null=True, blank=True)
    last_decision_on = models.DateField(null=True, blank=True)
    interest_from = models.DateField(_("statutory interest from"), null=True, blank=True)
    interest_posted_until = models.DateField(null=True, blank=True)
    waiting_since = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-id"]
        indexes = [
            models.Index(fields=["creditor", "status"], name="case_creditor_status_idx"),
        ]
        constraints = [
            # One open (or held) case per debtor per creditor.
            models.UniqueConstraint(
                fields=["creditor", "debtor"],
                condition=~Q(status="closed"),
                name="case_one_active_per_debtor",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_on__isnull=False)
                | (~Q(status="closed") & Q(closed_on__isnull=True)),
                name="case_closed_has_date",
            ),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self):
        return f"{self.reference} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        """The case reference printed on letters: the id with a check digit (mod 11)."""
        return case_reference(self.pk)


def case_reference(pk: int) -> str:
    """``12`` → ``'000012-7'``: zero-padded id and a mod-11 check digit (10 → 0).

    >>> case_reference(12)
    '000012-7'
    """
    digits = f"{pk:06d}"
    total = sum((i + 2) * int(d) for i, d in enumerate(reversed(digits)))
    return f"{digits}-{total % 11 % 10}"


class CaseTransition(AppendOnlyModel):
    """One change of a case's status, with its reason: the state machine's history."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    code = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    on_date = models.DateField()
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "id"]
        verbose_name = _("case transition")


class HoldKind(models.TextChoices):
    DISPUTE = "dispute", _("dispute")
    ARRANGEMENT = "arrangement", _("active arrangement")
    PROMISE = "promise", _("promise to pay")
    DEBT_HELP = "debt_help", _("debt help")
    BREATHING_SPACE = "breathing_space", _("breathing space (adempauze)")
    DECEASED = "deceased", _("deceased")
    DEFERRAL = "deferral", _("deferred to payday")
    REVIEW = "review", _("under review (reported by the customer)")
    MANUAL = "manual", _("manual")


class Hold(models.Model):
    """A pause on a case, with its reason and until-date. The run skips held cases."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(_("kind"), max_length=32, choices=HoldKind.choices)
    reason = models.TextField(_("reason"))
    starts_on = models.DateField(_("from"))
    until = models.DateField(_("until"))
    released_on = models.DateField(_("released on"), null=True, blank=True)
    release_reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [
            models.Index(
                fields=["until"], condition=Q(released_on__isnull=True), name="hold_active_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(until__gte=models.F("starts_on")), name="hold_dates")
        ]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")

    def __str__(self):
        return f"{self.get_kind_display()} {self.starts_on}–{self.until}"


class Outcome(models.TextChoices):
    DONE = "done", _("done")
    DEFERRED = "deferred", _("deferred")
    SKIPPED = "skipped", _("skipped")


class Decision(AppendOnlyModel):
    """What the daily run decided for a case on a day, and why. At most one per case per day."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    creditor = models.ForeignKey(
        "ledger.Creditor",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    debtor = models.ForeignKey(
        "ledger.Debtor",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    run_date = models.DateField(_("day"))
    strategy_version = models.ForeignKey(
        StrategyVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    variant = models.CharField(max_length=64)
    segment = models.CharField(max_length=64)
    path = models.CharField(max_length=64)
    step_index = models.PositiveIntegerField()
    step_kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, blank=True)
    template = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.TextField(_("why"))
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-run_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "run_date"], name="decision_once_per_day")
        ]
        indexes = [models.Index(fields=["creditor", "run_date"], name="decision_creditor_day_idx")]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return f"{self.run_date} {self.step_kind} {self.outcome}"


class LegalNotice(AppendOnlyModel):
    """A sent 14-day letter (art. 6:96 lid 6 BW): when, the assumed receipt, the term, the costs.

    Costs may be charged only after ``term_ends_on`` has passed unpaid, and only once.
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="legal_notice")
    sent_on = models.DateField()
    channel = models.CharField(max_length=16)
    receipt_on = models.DateField(help_text="assumed day of receipt")
    term_ends_on = models.DateField(help_text="last day of the 14 days after receipt")
    principal_cents = models.BigIntegerField()
    costs_cents = models.BigIntegerField(help_text="the exact amount the letter states")
    vat_cents = models.BigIntegerField(default=0)
    wording = models.TextField(help_text="the term as the letter words it")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("14-day letter")


class CostCharge(AppendOnlyModel):
    """The one WIK charge a case's 14-day letter allows (the unique case makes it once)."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="cost_charge")
    notice = models.OneToOneField(LegalNotice, on_delete=models.PROTECT, related_name="charge")
    entry = models.ForeignKey("ledger.LedgerEntry", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()
    charged_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)


class MunicipalSignal(AppendOnlyModel):
    """An early signal to the municipality (vroegsignalering). Never holds a BSN."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="signals")
    creditor = models.ForeignKey("ledger.Creditor", on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField()
    arrears_cents = models.BigIntegerField()
    payload = models.JSONField(help_text="contact details, arrears, customer number; no BSN")
    exported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        verbose_name = _("municipal signal")


class Handover(AppendOnlyModel):
    """A case handed over to a collection agency or bailiff, with the export file written."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="handover")
    to = models.CharField(max_length=16)
    party = models.CharField(max_length=120)
    handed_on = models.DateField()
    balance_cents = models.BigIntegerField()
    file = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)


class DailyRun(models.Model):
    """One ``vaarwater run-day``: which day, when, how far it got and what it did."""

    run_date = models.DateField()
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    chunks = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    started_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("daily run")

    def __str__(self):
        return f"{self.run_date} ({'dry' if self.dry_run else 'real'})"


__all__ = [
    "TRANSITIONS",
    "Case",
    "CaseStatus",
    "CaseTransition",
    "CloseReason",
    "CostCharge",
    "DailyRun",
    "Decision",
    "Handover",
    "Hold",
    "HoldKind",
    "LegalNotice",
    "MunicipalSignal",
    "Outcome",
    "StrategyVersion",
]
