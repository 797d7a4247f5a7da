"""Personal links: an unguessable, signed, expiring and revocable token per debtor (and case)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessToken(models.Model):
    """One personal link. Only the token's SHA-256 is stored; the link itself is in the message."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.CASCADE, related_name="access_tokens"
    )
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["debtor", "expires_at"], name="token_debtor_idx")]
        verbose_name = _("personal link")
        verbose_name_plural = _("personal links")

    def __str__(self):
        return f"link for debtor {self.debtor_id} until {self.expires_at:%Y-%m-%d}"
