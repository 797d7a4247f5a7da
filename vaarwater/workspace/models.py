"""The agent workspace's own records: every call attempt and what came of it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallOutcome(models.TextChoices):
    """What happened when the agent called."""

    RIGHT_PARTY = "right_party", _("spoke with the customer")
    REACHED = "reached", _("reached someone else")
    NO_ANSWER = "no_answer", _("no answer")
    VOICEMAIL = "voicemail", _("voicemail")
    WRONG_NUMBER = "wrong_number", _("wrong number")

    @classmethod
    def answered(cls) -> tuple[str, ...]:
        """Outcomes where a person picked up (the call counts as a response)."""
        return (cls.RIGHT_PARTY, cls.REACHED)


class RootCause(models.TextChoices):
    """Why the customer did not pay, in their words as the agent heard them."""

    FORGOT = "forgot", _("forgot or overlooked it")
    ADDRESS_CHANGED = "address_changed", _("moved or address changed")
    NO_USAGE_INSIGHT = "no_usage_insight", _("no insight in usage or the bill")
    INCOME_DROP = "income_drop", _("income dropped (job, benefits, hours)")
    LIFE_EVENT = "life_event", _("illness, divorce, death or other life event")
    MULTIPLE_DEBTS = "multiple_debts", _("debts at several creditors")
    DISPUTE = "dispute", _("disputes the bill")
    PAYMENT_TECHNICAL = "payment_technical", _("payment went wrong (direct debit, IBAN)")
    WONT_PAY = "wont_pay", _("does not want to pay")
    OTHER = "other", _("other")


class CallAttempt(models.Model):
    """One call an agent made (or tried) for a call task, with its outcome.

    An attempt starts when the agent takes the case (``started_at``) and ends when the outcome
    is recorded (``ended_at``); an attempt without an outcome is a call still going on, or one
    abandoned (the task's claim lapses and it returns to the queue)."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "contact.CallTask", on_delete=models.PROTECT, related_name="call_attempts"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="call_attempts"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    band = models.CharField(_("time of day"), max_length=16, blank=True)
    phone = models.CharField(_("number called"), max_length=32, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices, blank=True)
    root_cause = models.CharField(
        _("root cause"), max_length=32, choices=RootCause.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    promise = models.ForeignKey(
        "arrangements.Promise", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    arrangement = models.ForeignKey(
        "arrangements.Arrangement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    payment_link = models.ForeignKey(
        "payments.PaymentLink", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    callback = models.ForeignKey(
        "contact.CallTask", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["creditor", "started_at"], name="attempt_creditor_idx"),
            models.Index(fields=["debtor", "started_at"], name="attempt_debtor_idx"),
            models.Index(fields=["agent", "started_at"], name="attempt_agent_idx"),
        ]
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")

    def __str__(self):
        return f"call {self.debtor_id} {self.started_at:%Y-%m-%d %H:%M} {self.outcome or '…'}"
