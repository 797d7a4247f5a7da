"""Forms and labels of the payment plan pages (portal and back office): amounts as people type
them, the affordability questions, the bank-data upload, the choice of plan and of the way to
pay, a promise to pay; the words for the lines of a reckoning and of a bank-data summary.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from vaarwater.arrangements.models import Household, PayMethod
from vaarwater.contact.rendering import format_day
from vaarwater.core.money import format_eur, parse_typed_amount
from vaarwater.ledger.validation import validate_iban

# A bank-data export of a year of transactions is well under this size.
PSD2_MAX_BYTES = 5 * 1024 * 1024
# Amounts typed above these are typos (the affordability check's own limits).
MONTHLY_MAX_CENTS = 10_000_000
DEBTS_MAX_CENTS = 1_000_000_000

HOUSEHOLD_LABELS = {
    Household.SINGLE: _("I live alone"),
    Household.SINGLE_PARENT: _("I live alone with my child or children"),
    Household.COUPLE: _("I live together with a partner"),
    Household.COUPLE_CHILDREN: _("I live together with a partner and child or children"),
}
FIXED_COSTS = (
    ("rent", _("Rent or mortgage")),
    ("energy", _("Energy (gas and electricity)")),
    ("water", _("Water")),
    ("insurance", _("Insurance (including health insurance)")),
    ("phone", _("Phone and internet")),
    ("other_costs", _("Other fixed costs")),
)
# The lines of the reckoning (vaarwater.law.affordability), for the translation catalogue.
EXPLANATION_LABELS = {
    "net income": _("Net income"),
    "protected income (beslagvrije voet)": _("Protected income (beslagvrije voet)"),
    "fixed costs": _("Fixed costs"),
    "kept for living: the higher of the two": _("Kept for living: the higher of the two"),
    "instalments to other creditors": _("Instalments to other creditors"),
    "capacity per month": _("What you can pay each month"),
    "capacity per month (nothing left, so zero)": _(
        "What you can pay each month (nothing is left, so zero)"
    ),
}
# What the bank data showed (vaarwater.arrangements.psd2 KIND_LABELS), per kind.
PSD2_KINDS = {
    "salary": _("Salary"),
    "benefit": _("Benefit, allowance or pension"),
    "recurring_income": _("Recurring income"),
    "rent": _("Rent or housing"),
    "mortgage": _("Mortgage"),
    "energy": _("Energy"),
    "water": _("Water"),
    "insurance": _("Insurance"),
    "telecom": _("Phone and internet"),
    "taxes": _("Taxes and municipal charges"),
    "instalment": _("Instalment to another creditor"),
}
PSD2_COUNTED = ("income", "fixed_costs", "other_instalments")
# Why a bank-data file was refused (vaarwater.arrangements.psd2 Psd2Error.code), in words.
PSD2_PROBLEMS = {
    "too_large": _("the file is too large"),
    "not_text": _("it is not a text file"),
    "empty": _("the file is empty"),
    "not_json": _("it is not a JSON file"),
    "shape": _("it is not bank data in the PSD2 format"),
    "date": _("a date in it is missing or is not a date"),
    "iban": _("an account number (IBAN) in it is not valid"),
    "currency": _("it has amounts in another currency than euros"),
    "amount": _("an amount in it is not a number"),
    "no_transactions": _("it has no booked transactions"),
}
METHOD_TEXT = {
    PayMethod.TRANSFER: (
        _("Bank transfer"),
        _("You transfer each amount yourself, with the payment reference."),
    ),
    PayMethod.LINK: (
        _("Payment link"),
        _("Before each payment we send you a link. You pay with iDEAL in your banking app."),
    ),
    PayMethod.SEPA: (
        _("Direct debit"),
        _("We collect each amount from your bank account on the day it is due."),
    ),
}


# -- helpers -------------------------------------------------------------------------------------


def language() -> str:
    """The visitor's language: 'en' or 'nl'."""
    return "en" if (get_language() or "nl").startswith("en") else "nl"


def day_text(day: date, lang: str) -> str:
    return format_day(day, lang)


def apply_error(form: forms.Form, exc: Exception, fields: dict[str, str] | None = None) -> None:
    """Put a service's error on the form: on the field it names (mapped by ``fields`` from the
    service's name to the form's), else above the form."""
    fields = fields or {}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            target = fields.get(name, name)
            for message in messages:
                form.add_error(target if target in form.fields else None, message)
        return
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        for name, message in errors.items():
            target = fields.get(name, name)
            form.add_error(target if target in form.fields else None, str(message))
        return
    name = getattr(exc, "field", None) or ""
    target = fields.get(name, name)
    message = getattr(exc, "message", None) or str(exc)
    form.add_error(target if target in form.fields else None, str(message))


def psd2_message(exc) -> str:
    """Why bank data was refused (a ``Psd2Error``), in the visitor's language, with the place
    in the file when there is one."""
    code = getattr(exc, "code", "shape")
    details = getattr(exc, "details", {}) or {}
    if code == "too_short" and details.get("first") and details.get("last"):
        lang = language()
        return str(
            _(
                "This file has the transactions of %(first)s to %(last)s: less than one full "
                "calendar month. Share the transactions of at least one full month; three "
                "months is better."
            )
            % {
                "first": day_text(details["first"], lang),
                "last": day_text(details["last"], lang),
            }
        )
    why = str(PSD2_PROBLEMS.get(code, PSD2_PROBLEMS["shape"]))
    path = getattr(exc, "path", "")
    if path:
        why = str(_("%(problem)s (at %(where)s)") % {"problem": why, "where": path})
    return str(
        _("We could not read this file: %(why)s. Choose the JSON file your bank gave you.")
        % {"why": why}
    )


# -- forms -------------------------------------------------------------------------------------


class AmountField(forms.CharField):
    """An amount in euros as a person types it (``1.234,56``, ``1234.56``, ``25,-``) → cents."""

    default_error_messages = {
        "invalid": _("Enter an amount in euros, for example 1250 or 1.250,00."),
        "negative": _("Enter an amount of zero or more."),
        "too_big": _("This amount is too large. Check the number."),
    }

    def __init__(self, *, max_cents: int = MONTHLY_MAX_CENTS, **kwargs):
        self.max_cents = max_cents
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            cents = parse_typed_amount(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if cents < 0:
            raise ValidationError(self.error_messages["negative"], code="negative")
        if cents > self.max_cents:
            raise ValidationError(self.error_messages["too_big"], code="too_big")
        return cents


def _household_field():
    return forms.ChoiceField(
        label=_("Who lives in your household?"),
        choices=list(HOUSEHOLD_LABELS.items()),
        error_messages={
            "required": _("Choose who lives in your household."),
            "invalid_choice": _("Choose who lives in your household."),
        },
    )


class AnswersForm(forms.Form):
    """The household's own answers: what comes in, what must go out."""

    household = _household_field()
    net_income = AmountField(
        label=_("Net income per month"),
        error_messages={"required": _("Enter your net income per month.")},
    )
    rent = AmountField(label=FIXED_COSTS[0][1], required=False)
    energy = AmountField(label=FIXED_COSTS[1][1], required=False)
    water = AmountField(label=FIXED_COSTS[2][1], required=False)
    insurance = AmountField(label=FIXED_COSTS[3][1], required=False)
    phone = AmountField(label=FIXED_COSTS[4][1], required=False)
    other_costs = AmountField(label=FIXED_COSTS[5][1], required=False)
    other_instalments = AmountField(
        label=_("What you pay each month on other debts"), required=False
    )
    other_debts = AmountField(
        label=_("Other debts in total (optional)"), required=False, max_cents=DEBTS_MAX_CENTS
    )
    payday_day = forms.IntegerField(
        label=_("On which day of the month does your income arrive?"),
        min_value=1,
        max_value=31,
        error_messages={
            "required": _("Enter a day of the month from 1 to 31."),
            "invalid": _("Enter a day of the month from 1 to 31."),
            "min_value": _("Enter a day of the month from 1 to 31."),
            "max_value": _("Enter a day of the month from 1 to 31."),
        },
    )

    def clean_net_income(self):
        cents = self.cleaned_data["net_income"]
        if cents is not None and cents <= 0:
            raise ValidationError(_("Enter your net income per month, more than zero."))
        return cents

    def fixed_costs(self) -> dict[str, int]:
        return {name: self.cleaned_data.get(name) or 0 for name, _label in FIXED_COSTS}


def answers_of(form) -> dict:
    """The cleaned answers of an answers form (the debtor's or the agent's), as the keyword
    arguments of ``assessment_from_answers``."""
    data = form.cleaned_data
    return {
        "household": data["household"],
        "net_income_cents": data["net_income"],
        "fixed_costs": {name: data.get(name) or 0 for name, _label in FIXED_COSTS},
        "other_instalments_cents": data.get("other_instalments") or 0,
        "other_debts_cents": data.get("other_debts") or 0,
        "payday_day": data["payday_day"],
    }


class BankForm(forms.Form):
    """Bank data shared through PSD2: a file, read once; only a summary is kept."""

    household = _household_field()
    file = forms.FileField(
        label=_("File with your bank transactions (JSON)"),
        error_messages={
            "required": _("Choose the file with your bank transactions."),
            "empty": _("This file is empty. Choose the file your bank gave you."),
            "invalid": _("Choose the file with your bank transactions."),
        },
    )
    agree = forms.BooleanField(
        label=_("I agree that you read this file once to work out what I can pay."),
        error_messages={"required": _("Tick the box if you agree that we read the file.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > PSD2_MAX_BYTES:
            raise ValidationError(
                _("This file is too large (at most %(max)s MB).")
                % {"max": PSD2_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class OptionForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Choose a plan"),
        error_messages={
            "required": _("Choose one of the plans."),
            "invalid_choice": _("Choose one of the plans shown."),
        },
    )
    custom_amount = AmountField(label=_("Amount per month"), required=False)

    def __init__(self, *args, keys=(), custom=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = [(k, k) for k in keys] + (
            [("custom", "custom")] if custom else []
        )

    def clean(self):
        data = super().clean()
        wanted = data.get("choice") == "custom" and not data.get("custom_amount")
        if wanted and "custom_amount" not in self.errors:
            self.add_error("custom_amount", _("Enter the amount you can pay each month."))
        return data


class MethodForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How do you want to pay?"),
        error_messages={
            "required": _("Choose how you want to pay."),
            "invalid_choice": _("Choose one of the ways shown."),
        },
    )
    iban = forms.CharField(label=_("Your IBAN (bank account number)"), required=False)
    account_holder = forms.CharField(
        label=_("Name of the account holder"), required=False, max_length=70
    )
    consent = forms.BooleanField(
        label=_("I give permission for this direct debit."), required=False
    )

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(m, m) for m in methods]

    def clean(self):
        data = super().clean()
        if data.get("method") != PayMethod.SEPA:
            return data
        raw = (data.get("iban") or "").strip()
        if not raw:
            self.add_error("iban", _("Enter your IBAN, for example NL91 ABNA 0417 1643 00."))
        else:
            try:
                data["iban"] = validate_iban(raw)
            except ValueError:
                self.add_error(
                    "iban",
                    _("This is not a valid IBAN. Check it, for example NL91 ABNA 0417 1643 00."),
                )
        if not (data.get("account_holder") or "").strip():
            self.add_error("account_holder", _("Enter the name of the account holder."))
        if not data.get("consent"):
            self.add_error("consent", _("Tick the box to give permission for the direct debit."))
        return data


DATE_INVALID = lazy(
    lambda: gettext("Enter a date, for example %(example)s.") % {"example": "2026-11-25"}, str
)()


class PromiseForm(forms.Form):
    amount = AmountField(
        label=_("I will pay"), error_messages={"required": _("Enter the amount you will pay.")}
    )
    due_on = forms.DateField(
        label=_("On"),
        error_messages={
            "required": _("Enter the date you will pay."),
            # Lazy: "%" on a lazy text would fix the language the module was imported in.
            "invalid": DATE_INVALID,
        },
    )

    def __init__(self, *args, today: date, latest: date, balance: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.latest, self.balance = today, latest, balance

    def clean_amount(self):
        cents = self.cleaned_data["amount"]
        if cents is not None and cents <= 0:
            raise ValidationError(_("Enter an amount above zero."))
        if cents is not None and cents > self.balance:
            raise ValidationError(
                _("That is more than you owe. You can promise at most %(max)s.")
                % {"max": format_eur(self.balance, language=language())}
            )
        return cents

    def clean_due_on(self):
        day = self.cleaned_data["due_on"]
        if day < self.today:
            raise ValidationError(_("Choose today or a day after today."))
        if day > self.latest:
            raise ValidationError(
                _("Choose a day no later than %(last)s.")
                % {"last": day_text(self.latest, language())}
            )
        return day
