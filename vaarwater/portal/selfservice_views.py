"""Self-service: defer to payday, report a problem, help, my details, callback (the payment
plan pages are in ``plan_views``).

The views parse forms and call the services in ``selfservice``; a service's ValidationError
becomes field errors on the form and nothing is changed. Every POST redirects (POST-redirect-GET)
to the page, which shows the confirmation from what is stored.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from vaarwater.contact.models import TimeBand
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import ContactKind
from vaarwater.ledger.selectors import debtor_position

from . import selfservice as ss
from .access import portal_view
from .models import CantPayReason, ProblemKind

# -- forms -----------------------------------------------------------------------------------


class PaydayForm(forms.Form):
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


class DeferForm(forms.Form):
    due_on = forms.ChoiceField(label=_("Pay on"), error_messages={"required": _("Choose a date.")})

    def __init__(self, *args, dates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].choices = [(d.isoformat(), d.isoformat()) for d in dates]
        self.fields["due_on"].error_messages["invalid_choice"] = _("Choose one of the dates shown.")


class ProblemForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is the problem?"),
        choices=ProblemKind.choices,
        error_messages={
            "required": _("Choose what the problem is."),
            "invalid_choice": _("Choose what the problem is."),
        },
    )
    invoice = forms.CharField(label=_("Which invoice?"), required=False)
    reason = forms.CharField(label=_("Why can't you pay?"), required=False)
    text = forms.CharField(label=_("Tell us more"), required=False, strip=True)


class LookupForm(forms.Form):
    postcode = forms.CharField(label=_("Postcode"), max_length=12, required=False)


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I agree"),
        error_messages={"required": _("Tick the box if you agree.")},
    )


class BreathingForm(forms.Form):
    organisation = forms.CharField(label=_("Who helps you with your debts?"), required=False)
    contact_person = forms.CharField(label=_("Contact person (optional)"), required=False)


class PreferencesForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        label=_("How would you like to hear from us?"),
        required=False,
        choices=[("", "")] + [(c, c) for c in ss.PREFERRED_CHANNELS],
        error_messages={"invalid_choice": _("Choose one of the ways shown.")},
    )
    preferred_time = forms.ChoiceField(
        label=_("When is the best time to reach you?"),
        required=False,
        choices=[("", "")] + list(TimeBand.choices),
        error_messages={"invalid_choice": _("Choose one of the times shown.")},
    )


class ContactForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you want to add?"),
        choices=[(ContactKind.EMAIL, ContactKind.EMAIL), (ContactKind.PHONE, ContactKind.PHONE)],
        error_messages={
            "required": _("Choose email address or phone number."),
            "invalid_choice": _("Choose email address or phone number."),
        },
    )
    value = forms.CharField(
        label=_("New email address or mobile number"),
        max_length=254,
        error_messages={
            "required": _("Enter the new email address or mobile number."),
            "max_length": _("Enter an email address like name@example.nl."),
        },
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        error_messages={"required": _("Type the 6 digits of the code.")},
    )


class CallbackForm(forms.Form):
    day = forms.ChoiceField(label=_("Which day?"), error_messages={"required": _("Choose a day.")})
    band = forms.ChoiceField(
        label=_("At what time?"), error_messages={"required": _("Choose a time.")}
    )
    phone = forms.CharField(
        label=_("On which number shall we call you?"),
        max_length=32,
        error_messages={"required": _("Enter the phone number we should call.")},
    )
    note = forms.CharField(label=_("Anything we should know? (optional)"), required=False)

    def __init__(self, *args, days=(), windows=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].choices = [(d.isoformat(), d.isoformat()) for d in days]
        self.fields["day"].error_messages["invalid_choice"] = _("Choose one of the days shown.")
        self.fields["band"].choices = [(b, b) for b in (windows or {})]
        self.fields["band"].error_messages["invalid_choice"] = _("Choose one of the times shown.")


def _apply(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: per field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _back(request, name: str, **query):
    url = reverse(f"portal:{name}", args=[request.portal.token])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return redirect(url)


def _page(request, template: str, context: dict):
    p = request.portal
    return TemplateResponse(
        request,
        template,
        {"debtor": p.debtor, "creditor": p.creditor, "case": p.case, **context},
    )


# -- defer to payday ------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def defer(request):
    """Move the demand to just after the debtor's payday, within the creditor's limits."""
    p = request.portal
    today = timezone.localdate()
    options = ss.deferral_options(debtor=p.debtor, case=p.case, today=today)
    payday_form = PaydayForm(prefix="payday")
    defer_form = DeferForm(prefix="defer", dates=options.dates)
    refused = False
    action = request.POST.get("action")
    if request.method == "POST" and action == "payday":
        payday_form = PaydayForm(request.POST, prefix="payday")
        if payday_form.is_valid():
            try:
                ss.debtor_payday_set(
                    debtor=p.debtor,
                    day=payday_form.cleaned_data["payday_day"],
                    actor=p.actor,
                    on=today,
                )
                return _back(request, "defer", betaaldag=1)
            except ValidationError as exc:
                _apply(payday_form, exc)
    elif request.method == "POST":
        defer_form = DeferForm(request.POST, prefix="defer", dates=options.dates)
        refused = not options.allowed
        if options.allowed and defer_form.is_valid():
            try:
                ss.deferral_request(
                    debtor=p.debtor,
                    case=p.case,
                    due_on=date.fromisoformat(defer_form.cleaned_data["due_on"]),
                    actor=p.actor,
                )
                return _back(request, "defer", ok=1)
            except ValidationError as exc:
                _apply(defer_form, exc)
    choices = [
        {"value": d.isoformat(), "day": d, "payday": payday}
        for d, payday in zip(options.dates, options.paydays, strict=True)
    ]
    return _page(
        request,
        "portal/defer.html",
        {
            "options": options,
            "choices": choices,
            "payday_form": payday_form,
            "defer_form": defer_form,
            "done": request.GET.get("ok") == "1" and options.active is not None,
            "payday_saved": request.GET.get("betaaldag") == "1",
            "refused": refused,
        },
    )


# -- report a problem -------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def problem(request):
    """Dispute an invoice, report wrong contact details, or say you can't pay (and why)."""
    p = request.portal
    language = p.language
    invoices = [
        {"invoice": invoice, "open": format_eur(cents, language=language)}
        for invoice, cents in ss.open_invoices(p.debtor)
    ]
    initial_kind = request.GET.get("soort", "")
    form = ProblemForm(initial={"kind": initial_kind if initial_kind in ProblemKind.values else ""})
    if request.method == "POST":
        form = ProblemForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = ss.problem_report(
                    debtor=p.debtor,
                    case=p.case,
                    kind=data["kind"],
                    invoice_id=data["invoice"] or None,
                    reason=data["reason"],
                    text=data["text"],
                    actor=p.actor,
                )
                return _back(request, "problem", melding=report.pk)
            except ValidationError as exc:
                _apply(form, exc)
    report = ss.problem_for(p.debtor, request.GET.get("melding"))
    area = None
    if report is not None and report.kind == ProblemKind.CANT_PAY:
        area = ss.debt_help_for_postcode(p.debtor.postcode)
    return _page(
        request,
        "portal/problem.html",
        {
            "form": form,
            "invoices": invoices,
            "kinds": ProblemKind.choices,
            "reasons": CantPayReason.choices,
            "report": report,
            "area": area,
            "area_fallback": ss.is_fallback(area),
            "geldfit": ss.GELDFIT,
            "text_max": ss.TEXT_MAX,
        },
    )


# -- help -----------------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def help_page(request):
    """Debt help by postcode, Geldfit, consent to share data with the municipality, and a
    breathing-space request."""
    p = request.portal
    debtor = p.debtor
    own_area = ss.debt_help_for_postcode(debtor.postcode) if debtor.postcode else None
    lookup = LookupForm(request.GET or None, prefix="zoek")
    looked_up, looked_up_postcode = None, ""
    if lookup.is_bound and lookup.is_valid() and lookup.cleaned_data["postcode"]:
        try:
            looked_up_postcode = ss.postcode_check(lookup.cleaned_data["postcode"])
            looked_up = ss.debt_help_for_postcode(looked_up_postcode)
        except ValidationError as exc:
            _apply(lookup, exc)
    consent_form = ConsentForm(prefix="consent")
    breathing_form = BreathingForm(prefix="adem")
    text = ss.consent_text(debtor=debtor, area=own_area)
    action = request.POST.get("action")
    if request.method == "POST" and action == "consent":
        consent_form = ConsentForm(request.POST, prefix="consent")
        if consent_form.is_valid():
            ss.consent_give(debtor=debtor, text=text, actor=p.actor)
            return _back(request, "help", toestemming="gegeven")
    elif request.method == "POST" and action == "withdraw":
        ss.consent_withdraw(debtor=debtor, actor=p.actor)
        return _back(request, "help", toestemming="ingetrokken")
    elif request.method == "POST" and action == "breathing":
        breathing_form = BreathingForm(request.POST, prefix="adem")
        if breathing_form.is_valid():
            try:
                ss.breathing_space_request(
                    debtor=debtor,
                    case=p.case,
                    organisation=breathing_form.cleaned_data["organisation"],
                    contact_person=breathing_form.cleaned_data["contact_person"],
                    actor=p.actor,
                )
                return _back(request, "help", adempauze=1)
            except ValidationError as exc:
                _apply(breathing_form, exc)
    elif request.method == "POST":
        return _back(request, "help")  # an unknown action: show the page again
    return _page(
        request,
        "portal/help.html",
        {
            "geldfit": ss.GELDFIT,
            "own_area": own_area,
            "own_fallback": ss.is_fallback(own_area),
            "lookup": lookup,
            "looked_up": looked_up,
            "looked_up_fallback": ss.is_fallback(looked_up),
            "looked_up_postcode": looked_up_postcode,
            "consent": ss.consent_active(debtor),
            "consent_text": text,
            "consent_form": consent_form,
            "consent_done": request.GET.get("toestemming", ""),
            "breathing_form": breathing_form,
            "breathing": ss.breathing_space_active(p.case),
            "breathing_done": request.GET.get("adempauze") == "1",
            "breathing_days": ss.BREATHING_SPACE_DAYS,
        },
    )


# -- my details -----------------------------------------------------------------------------


def _details_context(request, **forms_):
    p = request.portal
    debtor = p.debtor
    points = ss.valid_points(debtor)
    return {
        "points": points,
        "emails": [pt for pt in points if pt.kind == ContactKind.EMAIL],
        "phones": [pt for pt in points if pt.kind == ContactKind.PHONE],
        "mobile": ss.mobile_number(debtor),
        "whatsapp_on": ss.whatsapp_on(debtor),
        "change": ss.contact_change_open(debtor),
        "channels": [
            ("email", _("Email")),
            ("sms", _("Text message (SMS)")),
            ("whatsapp", _("WhatsApp")),
            ("letter", _("Letter")),
        ],
        "times": TimeBand.choices,
        "saved": request.GET.get("opgeslagen", ""),
        "code_minutes": int(ss.CODE_VALID.total_seconds() // 60),
        "prefs_form": forms_.get("prefs_form")
        or PreferencesForm(
            prefix="pref",
            initial={
                "preferred_channel": debtor.preferred_channel,
                "preferred_time": debtor.preferred_time,
            },
        ),
        "contact_form": forms_.get("contact_form") or ContactForm(prefix="nieuw"),
        "code_form": forms_.get("code_form") or CodeForm(prefix="code"),
        "whatsapp_form": forms_.get("whatsapp_form") or forms.Form(prefix="wa"),
    }


@portal_view
@require_http_methods(["GET", "POST"])
def details(request):
    """Contact details and preferences: a new email address or phone number (confirmed with a
    code), WhatsApp yes or no, the preferred channel and time of day."""
    p = request.portal
    debtor = p.debtor
    action = request.POST.get("action")
    bound = {}
    if request.method == "POST" and action == "preferences":
        form = PreferencesForm(request.POST, prefix="pref")
        if form.is_valid():
            try:
                ss.preferences_update(
                    debtor=debtor,
                    channel=form.cleaned_data["preferred_channel"],
                    time_of_day=form.cleaned_data["preferred_time"],
                    actor=p.actor,
                )
                return _back(request, "details", opgeslagen="voorkeur")
            except ValidationError as exc:
                _apply(form, exc)
        bound["prefs_form"] = form
    elif request.method == "POST" and action == "whatsapp":
        form = forms.Form(request.POST, prefix="wa")
        wanted = request.POST.get("wa-whatsapp") == "on"
        try:
            if wanted:
                ss.whatsapp_opt_in(debtor=debtor, actor=p.actor)
            elif ss.whatsapp_on(debtor):
                ss.whatsapp_opt_out(debtor=debtor, actor=p.actor)
            return _back(request, "details", opgeslagen="whatsapp")
        except ValidationError as exc:
            form.is_valid()
            form.add_error(None, exc.message_dict.get("whatsapp", exc.messages))
        bound["whatsapp_form"] = form
    elif request.method == "POST" and action == "contact":
        form = ContactForm(request.POST, prefix="nieuw")
        if form.is_valid():
            try:
                ss.contact_change_start(
                    debtor=debtor,
                    kind=form.cleaned_data["kind"],
                    value=form.cleaned_data["value"],
                    actor=p.actor,
                )
                return _back(request, "details", opgeslagen="code")
            except ValidationError as exc:
                _apply(form, exc)
        bound["contact_form"] = form
    elif request.method == "POST" and action == "cancel":
        ss.contact_change_cancel(debtor=debtor, actor=p.actor)
        return _back(request, "details")
    elif request.method == "POST":
        return _back(request, "details")
    return _page(request, "portal/details.html", _details_context(request, **bound))


@portal_view
@require_http_methods(["GET", "POST"])
def details_code(request):
    """Check the code sent to a new email address or phone number."""
    p = request.portal
    if request.method == "GET":
        return _back(request, "details")
    form = CodeForm(request.POST, prefix="code")
    if form.is_valid():
        try:
            ss.contact_change_confirm(
                debtor=p.debtor, code=form.cleaned_data["code"], actor=p.actor
            )
            return _back(request, "details", opgeslagen="bevestigd")
        except ValidationError as exc:
            _apply(form, exc)
    return _page(request, "portal/details.html", _details_context(request, code_form=form))


# -- callback ---------------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def callback(request):
    """'I have arrears, call me back': a day, a window and a number; a priority task."""
    p = request.portal
    debtor = p.debtor
    now = timezone.now()
    today = timezone.localdate(now)
    windows = ss.callback_windows(debtor=debtor, case=p.case, today=today)
    days = ss.callback_days(windows=windows, now=now)
    phones = [pt for pt in ss.valid_points(debtor) if pt.kind == ContactKind.PHONE]
    form = CallbackForm(
        prefix="bel",
        days=days,
        windows=windows,
        initial={"phone": phones[0].value if phones else ""},
    )
    if request.method == "POST":
        form = CallbackForm(request.POST, prefix="bel", days=days, windows=windows)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ss.callback_request(
                    debtor=debtor,
                    case=p.case,
                    day=date.fromisoformat(data["day"]),
                    band=data["band"],
                    phone=data["phone"],
                    note=data["note"],
                    actor=p.actor,
                    now=now,
                )
                return _back(request, "callback", ok=1)
            except ValidationError as exc:
                _apply(form, exc)
    planned = ss.callback_open(debtor, now)
    return _page(
        request,
        "portal/callback.html",
        {
            "form": form,
            "days": [{"value": d.isoformat(), "day": d, "today": d == today} for d in days],
            "windows": [
                {"value": band, "start": start, "end": end}
                for band, (start, end) in windows.items()
            ],
            "planned": planned,
            "done": request.GET.get("ok") == "1" and planned is not None,
            "note_max": ss.NOTE_MAX,
            "owes": debtor_position(debtor).balance > 0,
        },
    )


urlpatterns = [
    path("p/<str:token>/uitstel/", defer, name="defer"),
    path("p/<str:token>/probleem/", problem, name="problem"),
    path("p/<str:token>/hulp/", help_page, name="help"),
    path("p/<str:token>/gegevens/", details, name="details"),
    path("p/<str:token>/gegevens/code/", details_code, name="details_code"),
    path("p/<str:token>/terugbellen/", callback, name="callback"),
]
