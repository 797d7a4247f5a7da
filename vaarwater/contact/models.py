"""Contact: the outbox of messages and the call tasks the strategy engine plans.

The daily run writes rows here; the senders (email, SMS, WhatsApp, letters) and the agent
workspace take them from here.
"""

from django.conf import settings
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


# Every status a message may move to from its current one; anything else is refused.
# A provider may report delivery before our own "sent" commit lands (a fast webhook), and a
# late bounce after "delivered" (email), so those moves are allowed too.
TRANSITIONS: dict[str, set[str]] = {
    MessageStatus.QUEUED: {MessageStatus.SENDING, MessageStatus.CANCELLED},
    MessageStatus.SENDING: {
        MessageStatus.SENT,
        MessageStatus.QUEUED,  # a retry after a temporary provider error or an interruption
        MessageStatus.FAILED,
        MessageStatus.BOUNCED,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
    },
    MessageStatus.SENT: {
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.FAILED,
        MessageStatus.BOUNCED,
    },
    MessageStatus.DELIVERED: {MessageStatus.READ, MessageStatus.BOUNCED},
    MessageStatus.READ: set(),
    # A provider may still deliver what we gave up on (an answer lost on the way back).
    MessageStatus.FAILED: {MessageStatus.DELIVERED, MessageStatus.READ},
    MessageStatus.BOUNCED: set(),
    MessageStatus.CANCELLED: set(),
}


class TimeBand(models.TextChoices):
    MORNING = "morning", _("morning (07:00-12:00)")
    AFTERNOON = "afternoon", _("afternoon (12:00-17:00)")
    EVENING = "evening", _("evening (17:00-20:00)")


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
    # Why this channel and time (the "best channel" model's explanation, or a fallback's).
    why = models.TextField(_("why this channel"), blank=True, default="")
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="fallbacks"
    )
    # What was sent, fixed when the message is first rendered (so a retry sends the same).
    recipient = models.CharField(_("to"), max_length=254, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body_text = models.TextField(_("text"), blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    rendered_at = models.DateTimeField(null=True, blank=True)
    # Sending: the claim (queued → sending) commits before the provider is called.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(_("provider"), max_length=32, blank=True, default="")
    provider_id = models.CharField(_("provider reference"), max_length=128, blank=True, default="")
    error = models.TextField(_("last error"), blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # The first response this message led to (link opened, payment, reply, answered call).
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    response_kind = models.CharField(max_length=16, blank=True, default="")
    # Letters: the day's print batch that took this letter to the print house.
    print_batch = models.ForeignKey(
        "contact.PrintBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="letters",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-not_before", "-id"]
        indexes = [
            models.Index(fields=["debtor", "not_before"], name="message_debtor_idx"),
            models.Index(
                fields=["not_before"], condition=Q(status="queued"), name="message_queued_idx"
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="message_sending_idx"
            ),
            models.Index(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="message_provider_idx",
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


class CallTaskKind(models.TextChoices):
    STRATEGY = "strategy", _("call from the strategy")
    CALLBACK = "callback", _("callback asked for in the portal")
    PROBLEM = "problem", _("problem reported in the portal")
    CHAT = "chat", _("question the chat could not answer")


class CallTask(models.Model):
    """A call an agent should make, within the window in which calling is allowed.

    Besides the strategy's calls, the portal makes tasks for agents: a priority callback, a
    reported problem, a question the chat could not answer (``kind``)."""

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
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=CallTaskKind.choices,
        default=CallTaskKind.STRATEGY,
        db_default=CallTaskKind.STRATEGY,
    )
    reason = models.TextField(_("why"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CallTaskStatus.choices, default=CallTaskStatus.OPEN
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The agent workspace's bookkeeping (see workspace.queue): who the task is given to (a
    # supervisor's reassignment, an agent's own callback), who has it open now, and the attempts.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("in a call with"),
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, db_default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt not before"), null=True, blank=True)

    class Meta:
        ordering = ["-priority", "window_start"]
        indexes = [
            models.Index(fields=["debtor", "window_start"], name="call_debtor_idx"),
            models.Index(fields=["creditor", "status", "window_start"], name="call_queue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="call_window"
            )
        ]
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")

    def __str__(self):
        return f"call {self.debtor_id} {self.window_start:%Y-%m-%d %H:%M}"


class DeliveryEvent(models.Model):
    """One status report about a message, from our sender or the provider's webhook.

    ``provider_event_id`` is unique per provider, so a replayed webhook records nothing new.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices)
    source = models.CharField(_("source"), max_length=32)  # "sender", "twilio", "whatsapp", …
    provider_event_id = models.CharField(max_length=200, blank=True, default="")
    detail = models.TextField(_("detail"), blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "provider_event_id"],
                condition=~Q(provider_event_id=""),
                name="delivery_event_once",
            )
        ]
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")

    def __str__(self):
        return f"{self.message_id} {self.status} ({self.source})"


class OptOut(models.Model):
    """A debtor said: no more messages on this channel (STOP, unsubscribe, portal, agent)."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=32)
    reason = models.TextField(_("reason"), blank=True, default="")
    since = models.DateTimeField(_("since"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["debtor", "channel"],
                condition=Q(ended_at__isnull=True),
                name="opt_out_once",
            )
        ]
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")

    def __str__(self):
        return f"{self.debtor_id} {self.channel} opt-out"


class InboundMessage(models.Model):
    """A message a debtor sent us (an SMS or WhatsApp reply), once per provider id."""

    creditor = models.ForeignKey(
        "ledger.Creditor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )  # empty when the sender is unknown
    debtor = models.ForeignKey(
        "ledger.Debtor", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    sender = models.CharField(_("from"), max_length=254)
    body = models.TextField(_("text"), blank=True, default="")
    provider_id = models.CharField(max_length=128)
    in_reply_to = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_id"], name="inbound_once")
        ]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self):
        return f"{self.channel} from {self.sender}"


class MessageTemplate(models.Model):
    """A creditor's own wording for one template, channel and language.

    Without one, the shipped default (files under ``contact/templates/contact/messages``) is used.
    """

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.CASCADE, related_name="message_templates"
    )
    key = models.CharField(_("template"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body = models.TextField(_("text"))
    updated_by = models.CharField(max_length=150, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "key", "channel", "language"], name="template_unique"
            )
        ]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self):
        return f"{self.key} {self.channel} {self.language}"


class PrintBatch(models.Model):
    """One day's letters for the print house: one merged PDF and a CSV manifest."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    day = models.DateField(_("day"))
    pdf_path = models.CharField(max_length=500)
    manifest_path = models.CharField(max_length=500)
    letters_count = models.PositiveIntegerField(default=0)
    pages_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["creditor", "day"], name="print_batch_once")]
        verbose_name = _("print batch")
        verbose_name_plural = _("print batches")

    def __str__(self):
        return f"print batch {self.day}"
