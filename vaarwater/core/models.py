"""Core models: the append-only event log every state change writes to."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an append-only row."""


class AppendOnlyModel(models.Model):
    """A row that is written once and never updated or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class ActorKind(models.TextChoices):
    SYSTEM = "system", _("system")
    USER = "user", _("user")
    DEBTOR = "debtor", _("debtor")
    IMPORT = "import", _("import")


class EventQuerySet(models.QuerySet):
    def for_creditor(self, creditor):
        return self.filter(creditor=creditor)

    def for_debtor(self, debtor):
        return self.filter(debtor=debtor)


class Event(AppendOnlyModel):
    """Something that happened or was decided: who, what, why, on which subject."""

    creditor = models.ForeignKey("ledger.Creditor", on_delete=models.PROTECT, related_name="+")
    debtor = models.ForeignKey(
        "ledger.Debtor", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    verb = models.CharField(_("what"), max_length=64, db_index=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("who"), max_length=200, blank=True)
    reason = models.TextField(_("why"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The business day the event belongs to when it differs from the clock: the daily run
    # for a given --date, a simulated demo day. Timelines sort on it first.
    occurred_on = models.DateField(_("day"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="event_subject_idx")]

    def __str__(self):
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.verb} ({self.actor_label or self.actor_kind})"
        )
