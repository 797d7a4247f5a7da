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


class LoginAttempt(models.Model):
    """A fallback login try (case reference + postcode + house number), for rate limiting.

    Only hashes are kept: of the client's address and of the reference that was typed."""

    client_hash = models.CharField(max_length=64, db_index=True)
    reference_hash = models.CharField(max_length=64, db_index=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")

    def __str__(self):
        return f"login attempt at {self.at:%Y-%m-%d %H:%M}"


class ContactChange(models.Model):
    """A new email address or phone number the debtor typed, confirmed with a code sent to it."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.CASCADE, related_name="contact_changes"
    )
    kind = models.CharField(_("kind"), max_length=16)  # a ContactKind value
    value = models.CharField(_("value"), max_length=254)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(_("expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "contact.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["debtor", "created_at"], name="contact_change_idx")]
        verbose_name = _("contact change")
        verbose_name_plural = _("contact changes")

    def __str__(self):
        return f"{self.kind} {self.value} for debtor {self.debtor_id}"


class ProblemKind(models.TextChoices):
    DISPUTE = "dispute", _("I disagree with an invoice")
    CONTACT = "contact", _("My address or contact details are wrong")
    CANT_PAY = "cant_pay", _("I can't pay")


class CantPayReason(models.TextChoices):
    INCOME_DROP = "income_drop", _("My income went down")
    ILLNESS = "illness", _("Illness")
    SEPARATION = "separation", _("Separation or divorce")
    OTHER = "other", _("Something else")


class ProblemReport(models.Model):
    """A problem the debtor reported in the portal; an agent follows it up (``task``)."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.PROTECT, related_name="problems")
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="problems"
    )
    kind = models.CharField(_("problem"), max_length=16, choices=ProblemKind.choices)
    reason = models.CharField(
        _("reason"), max_length=16, choices=CantPayReason.choices, blank=True, default=""
    )
    invoice = models.ForeignKey(
        "ledger.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("in the customer's words"), blank=True, default="")
    hold = models.ForeignKey(
        "strategy.Hold", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.ForeignKey(
        "contact.CallTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("reported problem")
        verbose_name_plural = _("reported problems")

    def __str__(self):
        return f"{self.get_kind_display()} ({self.debtor_id})"


class Consent(models.Model):
    """A permission the debtor gave in the portal, with the words they agreed to."""

    MUNICIPALITY = "municipality"

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey("ledger.Debtor", on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=32)
    text = models.TextField(help_text="what the debtor agreed to, as shown")
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["debtor", "kind"], name="consent_debtor_idx")]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self):
        return f"{self.kind} by debtor {self.debtor_id}"


class DebtHelpArea(models.Model):
    """A range of four-digit postcodes and the municipality's debt help that serves it.

    Loaded from a CSV file (``vaarwater debt-help load``); the shipped file is the default."""

    postcode_from = models.PositiveSmallIntegerField()
    postcode_to = models.PositiveSmallIntegerField()
    municipality = models.CharField(_("municipality"), max_length=100)
    municipality_code = models.CharField(max_length=8, blank=True, default="")
    name = models.CharField(_("debt help"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    url = models.CharField(_("website"), max_length=300, blank=True, default="")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["postcode_from"]
        indexes = [models.Index(fields=["postcode_from", "postcode_to"], name="debthelp_range")]
        verbose_name = _("debt-help area")
        verbose_name_plural = _("debt-help areas")

    def __str__(self):
        return f"{self.postcode_from}-{self.postcode_to} {self.municipality}"


class FaqEntry(models.Model):
    """A question and answer in the portal's FAQ; ``creditor`` empty: shipped for everyone.

    ``intent`` names what the chat assistant answers with it; ``keywords`` help it match."""

    creditor = models.ForeignKey(
        "ledger.Creditor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="faq",
        db_constraint=False,
    )
    language = models.CharField(_("language"), max_length=2, default="nl")
    intent = models.CharField(_("intent"), max_length=64, blank=True, default="")
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    keywords = models.TextField(_("keywords"), blank=True, default="")
    position = models.PositiveSmallIntegerField(default=100)
    published = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["creditor", "language"], name="faq_creditor_idx")]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self):
        return self.question


class ChatQuestion(models.Model):
    """A question asked in the portal's chat, what it was understood as, and the answer.

    ``template`` is the last message the debtor had received: which letters cause questions."""

    creditor = models.ForeignKey(
        "ledger.Creditor", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    debtor = models.ForeignKey(
        "ledger.Debtor", on_delete=models.CASCADE, related_name="chat_questions"
    )
    case = models.ForeignKey(
        "strategy.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("question"))
    language = models.CharField(max_length=2, default="nl")
    intent = models.CharField(_("understood as"), max_length=64, blank=True, default="")
    score = models.FloatField(default=0)
    answered = models.BooleanField(_("answered"), default=False)
    answer = models.TextField(_("answer"), blank=True, default="")
    message = models.ForeignKey(
        "contact.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.CharField(_("after message"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["creditor", "template"], name="chat_template_idx")]
        verbose_name = _("chat question")
        verbose_name_plural = _("chat questions")

    def __str__(self):
        return self.text[:60]
