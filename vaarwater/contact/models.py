"""Contact: the outbox of messages and the call tasks the strategy engine plans.

The daily run writes rows here; the senders (email, SMS, WhatsApp, letters) and the agent
workspace take them from here.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    LETTER = "letter", _("letter")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    READ = "read", _("read")
    FAILED = "failed", _("failed")
    BOUNCED = "bounced", _("bounced")
    CANCELLED = "cancelled", _("cancelled")


class Message(models.Model):
    """One outgoing message. ``idempotency_key`` makes planning and sending it happen once."""

    creditor = models.ForeignKey(
        "ledger.Creditor",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="messages")
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    template = models.CharField(_("template"), max_length=64)
    language = models.CharField(_("language"), max_length=2, default="nl")
    purpose = models.CharField(_("purpose"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    not_before = models.DateTimeField(_("not before"), help_text="the earliest allowed moment")
    idempotency_key = models.CharField(max_length=200, unique=True)
    context = models.JSONField(default=dict, blank=True, help_text="amounts, dates, references")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-not_before", "-id"]
        indexes = [
            models.Index(fields=["debtor", "not_before"], name="message_debtor_idx"),
            models.Index(
                fields=["not_before"], condition=Q(status="queued"), name="message_queued_idx"
            ),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self):
        return f"{self.channel} {self.template} → {self.debtor_id} ({self.status})"


class CallTaskStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class CallTask(models.Model):
    """A call an agent should make, within the window in which calling is allowed."""

    creditor = models.ForeignKey(
        "ledger.Creditor",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="calls")
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    window_start = models.DateTimeField(_("call from"))
    window_end = models.DateTimeField(_("call until"))
    priority = models.PositiveSmallIntegerField(_("priority"), default=50)
    reason = models.TextField(_("why"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CallTaskStatus.choices, default=CallTaskStatus.OPEN
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "window_start"]
        indexes = [models.Index(fields=["debtor", "window_start"], name="call_debtor_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="call_window"
            )
        ]
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")

    def __str__(self):
        return f"call {self.debtor_id} {self.window_start:%Y-%m-%d %H:%M}"
