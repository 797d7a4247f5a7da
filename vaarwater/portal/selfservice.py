"""Self-service in the portal: what a debtor can arrange without an agent.

Defer the demand to just after payday, report a problem, ask for a priority callback, find the
municipality's debt help, give (or withdraw) consent to share data with the municipality, ask
for breathing space, confirm a new email address or phone number with a code, and set how and
when to be contacted.

Every verb checks its input first and raises ``ValidationError`` keyed by form field (a plain
message, English msgid) without changing anything. What it changes it records as an event with a
plain-Dutch reason, so that an agent can explain it later. Where an agent must follow up, it
makes a ``CallTask`` for the agents' queue. Confirmations to the debtor are one-off outbox
messages (``message_queue``), worded in the debtor's language.

The debt-help table (four-digit postcode ranges → a municipality's debt help) is loaded from a
CSV file (``vaarwater debt-help load``); the shipped ``data/schuldhulp.csv`` is loaded the first
time a postcode is looked up while the table is empty.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from vaarwater.contact.learning import CHANNEL_NAMES
from vaarwater.contact.models import (
    CallTask,
    CallTaskKind,
    CallTaskStatus,
    Channel,
    OptOut,
    TimeBand,
)
from vaarwater.contact.rendering import DEBT_HELP, SIGNAL_CUSTOMER_NUMBER, format_day
from vaarwater.contact.services import (
    call_task_create,
    follow_up_window,
    message_queue,
    opt_out_record,
    opted_out,
)
from vaarwater.core.events import Actor, event_record
from vaarwater.law import add_business_days, is_business_day, is_public_holiday
from vaarwater.law.payday import next_payday
from vaarwater.ledger.models import (
    ContactKind,
    ContactPoint,
    ContactSource,
    Debtor,
    Invoice,
    PaydayCycle,
)
from vaarwater.ledger.selectors import debtor_position
from vaarwater.ledger.validation import validate_email, validate_phone, validate_postcode
from vaarwater.strategy.documents import creditor_settings
from vaarwater.strategy.models import Case, CaseStatus, Hold, HoldKind
from vaarwater.strategy.services import hold_place

from .models import (
    CantPayReason,
    Consent,
    ContactChange,
    DebtHelpArea,
    ProblemKind,
    ProblemReport,
)

TZ = ZoneInfo("Europe/Amsterdam")
ONE_DAY = timedelta(days=1)

# Agents' queue: a callback the debtor asked for comes first, then reported problems.
CALLBACK_PRIORITY = 90
PROBLEM_PRIORITY = 80
# A reported problem is picked up on the next business day, during office hours.
# The strategy settings have no breathing-space term yet: the usual two months.
BREATHING_SPACE_DAYS = 60
# The same report sent again this soon (a double click, a reload) is the same report.
DUPLICATE_WINDOW = timedelta(minutes=10)
TEXT_MAX = 2000
NOTE_MAX = 500
NAME_MAX = 200
# Deferral: at most this many paydays are offered; the reminder leaves the day before at 10:00.
DEFERRAL_OPTIONS = 2
REMINDER_AT = time(10, 0)
# Codes that confirm a new email address or phone number.
CODE_VALID = timedelta(minutes=30)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3
# Callback: the windows a debtor can choose (clipped to the strategy's contact hours) and how
# many business days ahead; a window today needs this much time left.
CALLBACK_WINDOWS: dict[str, tuple[time, time]] = {
    TimeBand.MORNING: (time(9, 0), time(12, 0)),
    TimeBand.AFTERNOON: (time(12, 0), time(17, 0)),
    TimeBand.EVENING: (time(17, 0), time(20, 0)),
}
CALLBACK_DAYS = 5
CALLBACK_LEAD = timedelta(hours=1)

CANT_PAY_WORDS = {
    CantPayReason.INCOME_DROP: "inkomen gedaald",
    CantPayReason.ILLNESS: "ziekte",
    CantPayReason.SEPARATION: "scheiding",
    CantPayReason.OTHER: "iets anders",
}
BAND_WORDS = {"morning": "ochtend", "afternoon": "middag", "evening": "avond"}


def _words(language: str, *, nl: str, en: str) -> str:
    """A sentence for a message to the debtor, in their language (messages are not gettext:
    they must be right in Dutch whatever the translation files hold)."""
    return en if language == "en" else nl


def _d(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def _clean(text: str) -> str:
    """Strip and drop control characters (keep new lines and tabs)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text or "").strip()


def _too_long(text: str, limit: int):
    def number(n: int) -> str:
        return number_format(n, use_l10n=True, force_grouping=True)

    return _("Write at most %(max)s characters (you wrote %(count)s).") % {
        "max": number(limit),
        "count": number(len(text)),
    }


def _lock(debtor: Debtor) -> Debtor:
    """Lock the debtor's row: two clicks of the same button run one after the other."""
    return Debtor.objects.select_for_update().get(pk=debtor.pk)


def active_case(case: Case | None) -> Case | None:
    """The case when it can still be paused (not closed), else None."""
    if case is None or case.status == CaseStatus.CLOSED:
        return None
    return case


def portal_policy(debtor: Debtor, case: Case | None, today: date):
    """The portal policy that applies: the case's strategy version, else the creditor's."""
    return creditor_settings(debtor.creditor, case=case, on=today).portal


def _hold_until(today: date, days: int) -> date:
    """A pause of ``days`` days starting today, inclusive (as the strategy's pause step)."""
    return today + timedelta(days=days - 1)


def _task_create(**fields) -> CallTask:
    return call_task_create(**fields)[0]


def _problem_task(*, debtor, case, reason: str, key: str, today: date, actor) -> CallTask:
    """A task for an agent on the next business day, 09:00-17:00 Dutch time."""
    start, end = follow_up_window(today)
    return _task_create(
        debtor=debtor,
        case=case,
        kind=CallTaskKind.PROBLEM,
        priority=PROBLEM_PRIORITY,
        start=start,
        end=end,
        reason=reason,
        key=key,
        actor=actor,
    )


def _confirm(*, debtor, case, key: str, summary: str, next_step: str, actor, **context):
    """Queue the 'we received it' message (leaves at once: the debtor is waiting for it)."""
    return message_queue(
        debtor=debtor,
        case=case,
        template="melding-ontvangen",
        purpose="confirmation",
        key=key,
        context={"summary": summary, "next_step": next_step, **context},
        why="bevestiging van wat de klant in het portaal deed",
        actor=actor,
    )


# -- defer to payday -----------------------------------------------------------------------

REFUSALS = {
    "no_case": _("There is nothing to defer: you have no open file with us."),
    "closed": _("Your file is closed, so there is nothing to defer."),
    "nothing_owed": _("You have nothing left to pay, so there is nothing to defer."),
    "not_offered": _(
        "Deferring a payment is not possible on this page. Call us or ask us to call you back."
    ),
    "used": _("You have already deferred the payment for this file. You cannot do it again here."),
    "no_dates": _(
        "Your next payday is too far away to defer to. Ask us for a payment plan or to call "
        "you back."
    ),
}


@dataclass(frozen=True)
class DeferralOptions:
    """What a debtor may choose on the deferral page, or why they may not."""

    refusal: str  # a REFUSALS key, or "" when deferring is possible
    dates: tuple[date, ...]  # the days the demand may move to: the day after a payday
    paydays: tuple[date, ...]  # the paydays those days follow
    payday_known: bool
    latest: date | None  # the last day the policy allows
    used: int
    limit: int
    active: Hold | None  # the deferral now running, if any

    @property
    def allowed(self) -> bool:
        return not self.refusal

    @property
    def refusal_text(self) -> str:
        return REFUSALS.get(self.refusal, "")


def deferral_active(case: Case | None) -> Hold | None:
    """The case's running deferral hold, if any."""
    if case is None:
        return None
    return (
        Hold.objects.filter(case=case, kind=HoldKind.DEFERRAL, released_on__isnull=True)
        .order_by("-until")
        .first()
    )


def _paydays(debtor: Debtor, today: date, latest: date) -> list[date]:
    found: list[date] = []
    cursor = today
    while len(found) < DEFERRAL_OPTIONS:
        payday = next_payday(
            cursor,
            day=debtor.payday_day,
            cycle=debtor.payday_cycle,
            anchor=debtor.payday_anchor,
        )
        if payday is None or payday + ONE_DAY > latest:
            break
        found.append(payday)
        cursor = payday + ONE_DAY
    return found


def payday_known(debtor: Debtor, today: date) -> bool:
    return (
        next_payday(
            today, day=debtor.payday_day, cycle=debtor.payday_cycle, anchor=debtor.payday_anchor
        )
        is not None
    )


def deferral_options(*, debtor: Debtor, case: Case | None, today: date) -> DeferralOptions:
    """The days the debtor may defer the demand to: the day after each of their next paydays,
    no later than ``deferral_max_days`` from today, and only while the case has deferrals left
    (``deferrals_per_case``, counting every deferral hold the case ever had)."""
    known = payday_known(debtor, today)

    def refuse(code, **over):
        fields = {
            "dates": (),
            "paydays": (),
            "payday_known": known,
            "latest": None,
            "used": 0,
            "limit": 0,
            "active": None,
        }
        fields.update(over)
        return DeferralOptions(refusal=code, **fields)

    if case is None:
        return refuse("no_case")
    if case.status == CaseStatus.CLOSED:
        return refuse("closed")
    policy = portal_policy(debtor, case, today)
    used = Hold.objects.filter(case=case, kind=HoldKind.DEFERRAL).count()
    common = {"used": used, "limit": policy.deferrals_per_case, "active": deferral_active(case)}
    if debtor_position(debtor).balance <= 0:
        return refuse("nothing_owed", **common)
    if policy.deferral_max_days == 0 or policy.deferrals_per_case == 0:
        return refuse("not_offered", **common)
    if used >= policy.deferrals_per_case:
        return refuse("used", **common)
    latest = today + timedelta(days=policy.deferral_max_days)
    paydays = _paydays(debtor, today, latest) if known else []
    if known and not paydays:
        return refuse("no_dates", latest=latest, **common)
    return DeferralOptions(
        refusal="",
        dates=tuple(p + ONE_DAY for p in paydays),
        paydays=tuple(paydays),
        payday_known=known,
        latest=latest,
        **common,
    )


@transaction.atomic
def debtor_payday_set(*, debtor: Debtor, day: int, actor: Actor, on: date | None = None) -> bool:
    """Store the day of the month the debtor's income arrives, as they told us; False when it
    was already so."""
    if not isinstance(day, int) or not 1 <= day <= 31:
        raise ValidationError({"payday_day": _("Enter a day of the month from 1 to 31.")})
    debtor = _lock(debtor)
    if debtor.payday_day == day and debtor.payday_cycle == PaydayCycle.MONTHLY:
        return False
    old = {"payday_day": debtor.payday_day, "payday_cycle": debtor.payday_cycle}
    debtor.payday_day = day
    debtor.payday_cycle = PaydayCycle.MONTHLY
    debtor.save(update_fields=["payday_day", "payday_cycle", "updated_at"])
    event_record(
        creditor=debtor.creditor_id,
        debtor=debtor,
        verb="debtor.changed",
        actor=actor,
        subject=debtor,
        reason=f"betaaldag volgens de klant (portaal): de {day}e van de maand",
        data={"fields": ["payday_day", "payday_cycle"], "old": old, "new": {"payday_day": day}},
        on=on,
    )
    return True


def _reminder_moment(due_on: date, now: datetime) -> datetime | None:
    """10:00 on the last day before ``due_on`` on which messages may go out (no Sunday or
    public holiday); None when that moment has passed."""
    day = due_on - ONE_DAY
    while day.weekday() == 6 or is_public_holiday(day):
        day -= ONE_DAY
    moment = datetime.combine(day, REMINDER_AT, TZ)
    return moment if moment > now else None


def deferral_request(
    *, debtor: Debtor, case: Case | None, due_on: date, actor: Actor, now: datetime | None = None
) -> Hold:
    """Move the demand to ``due_on`` (the day after a payday): the case is held up to and
    including that day, so the strategy goes on the day after if it is still unpaid. Queues a
    reminder for the day before and a confirmation now."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        debtor = _lock(debtor)
        running = deferral_active(case)
        if running is not None and running.until == due_on and running.starts_on == today:
            return running  # the same request again (a double click)
        options = deferral_options(debtor=debtor, case=case, today=today)
        if not options.allowed:
            raise ValidationError({"due_on": options.refusal_text})
        if due_on not in options.dates:
            raise ValidationError({"due_on": _("Choose one of the dates shown.")})
        payday = options.paydays[options.dates.index(due_on)]
        hold = hold_place(
            case=case,
            kind=HoldKind.DEFERRAL,
            reason=f"uitstel tot na de betaaldag ({_d(payday)}) op verzoek van de klant; "
            f"betalen uiterlijk {_d(due_on)}",
            until=due_on,
            on=today,
            actor=actor,
        )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="deferral.requested",
            actor=actor,
            subject=hold,
            reason=f"klant kiest in het portaal uitstel tot na de betaaldag van {_d(payday)}: "
            f"betalen uiterlijk {_d(due_on)}, herinnering de dag ervoor",
            data={
                "case": case.pk,
                "due_on": due_on.isoformat(),
                "payday": payday.isoformat(),
                "deferral": options.used + 1,
                "limit": options.limit,
            },
            on=today,
        )
        language = debtor.language
        moment = _reminder_moment(due_on, now)
        if moment is not None:
            message_queue(
                debtor=debtor,
                case=case,
                template="uitstel-herinnering",
                purpose="reminder",
                key=f"deferral-{hold.pk}",
                context={"deferred_until": due_on.isoformat()},
                not_before=moment,
                why=f"herinnering de dag voor het einde van het uitstel ({_d(due_on)})",
                actor=actor,
            )
        when = format_day(due_on, language)
        _confirm(
            debtor=debtor,
            case=case,
            key=f"deferral-{hold.pk}",
            summary=_words(
                language,
                nl=f"U heeft uitstel gekregen: u betaalt uiterlijk {when}.",
                en=f"You have been given more time: you pay by {when}.",
            ),
            next_step=_words(
                language,
                nl="Tot die dag sturen wij u geen herinneringen. De dag ervoor herinneren wij u.",
                en="Until then we send you no reminders. The day before, we remind you.",
            ),
            actor=actor,
            deferred_until=due_on.isoformat(),
        )
    return hold


# -- report a problem ---------------------------------------------------------------------


def open_invoices(debtor: Debtor) -> list[tuple[Invoice, int]]:
    """The debtor's invoices that still have something open, with the open amount (cents)."""
    items = debtor_position(debtor).items
    invoices = Invoice.objects.filter(debtor=debtor, pk__in=list(items)).order_by("due_date", "pk")
    return [(invoice, items[invoice.pk].total) for invoice in invoices]


def _problem_check(debtor, kind, invoice_id, reason, text) -> Invoice | None:
    errors: dict[str, list] = {}
    invoice = None
    if kind not in ProblemKind.values:
        errors["kind"] = [_("Choose what the problem is.")]
    if len(text) > TEXT_MAX:
        errors["text"] = [_too_long(text, TEXT_MAX)]
    if kind == ProblemKind.DISPUTE:
        if invoice_id in (None, ""):
            errors["invoice"] = [_("Choose the invoice you disagree with.")]
        else:
            try:
                wanted = int(invoice_id)
            except (TypeError, ValueError):
                wanted = None
            invoice = next((i for i, _open in open_invoices(debtor) if i.pk == wanted), None)
            if invoice is None:
                errors["invoice"] = [_("Choose one of your open invoices.")]
        if not text and "text" not in errors:
            errors["text"] = [_("Tell us why you disagree with the invoice.")]
    elif kind == ProblemKind.CONTACT:
        if not text:
            errors["text"] = [_("Tell us what is wrong.")]
    elif kind == ProblemKind.CANT_PAY and reason not in CantPayReason.values:
        errors["reason"] = [_("Choose why you can't pay.")]
    if errors:
        raise ValidationError(errors)
    return invoice


def _problem_words(report: ProblemReport, invoice: Invoice | None) -> str:
    if report.kind == ProblemKind.DISPUTE:
        return f"klant betwist factuur {invoice.external_id}"
    if report.kind == ProblemKind.CONTACT:
        return "klant meldt dat adres of contactgegevens niet kloppen"
    return f"klant kan niet betalen: {CANT_PAY_WORDS.get(report.reason, report.reason)}"


def problem_report(
    *,
    debtor: Debtor,
    case: Case | None,
    kind: str,
    actor: Actor,
    invoice_id=None,
    reason: str = "",
    text: str = "",
    now: datetime | None = None,
) -> ProblemReport:
    """Record a problem the debtor reports: pause the case as the policy says (a dispute for a
    disputed invoice, a review otherwise; 0 days: no pause), make a task for an agent on the
    next business day and confirm to the debtor what happens next. The same report sent again
    within a few minutes returns the first one."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    text = _clean(text)
    reason = reason if kind == ProblemKind.CANT_PAY else ""
    with transaction.atomic():
        debtor = _lock(debtor)
        invoice = _problem_check(debtor, kind, invoice_id, reason, text)
        same = ProblemReport.objects.filter(
            debtor=debtor,
            kind=kind,
            reason=reason,
            invoice=invoice,
            text=text,
            created_at__gte=now - DUPLICATE_WINDOW,
        ).first()
        if same is not None:
            return same
        report = ProblemReport.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            case=case,
            kind=kind,
            reason=reason,
            invoice=invoice,
            text=text,
        )
        what = _problem_words(report, invoice)
        quoted = f': "{text[:300]}"' if text else ""
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="problem.reported",
            actor=actor,
            subject=report,
            reason=f"via het portaal: {what}{quoted}",
            data={
                "kind": kind,
                "reason": reason,
                "invoice": invoice.external_id if invoice else None,
                "case": case.pk if case else None,
            },
            on=today,
        )
        pausable = active_case(case)
        days = getattr(portal_policy(debtor, case, today).problem_holds, kind)
        if pausable is not None and days > 0:
            report.hold = hold_place(
                case=pausable,
                kind=HoldKind.DISPUTE if kind == ProblemKind.DISPUTE else HoldKind.REVIEW,
                reason=f"{what} (melding {report.pk} via het portaal)",
                until=_hold_until(today, days),
                on=today,
                actor=actor,
            )
        task_reason = f"Melding via het portaal: {what}."
        if text:
            task_reason += f' In de woorden van de klant: "{text}"'
        if report.hold is not None:
            task_reason += f" Dossier gepauzeerd tot en met {_d(report.hold.until)}."
        report.task = _problem_task(
            debtor=debtor,
            case=case,
            reason=task_reason,
            key=f"portal-problem-{report.pk}",
            today=today,
            actor=actor,
        )
        report.save(update_fields=["hold", "task"])
        summary, next_step = problem_words(report, debtor.language)
        _confirm(
            debtor=debtor,
            case=case,
            key=f"problem-{report.pk}",
            summary=summary,
            next_step=next_step,
            actor=actor,
        )
    return report


def problem_words(report: ProblemReport, language: str) -> tuple[str, str]:
    """What the debtor reported and what happens next, in a sentence each (for the message)."""
    contact_by = format_day(report.task.window_start.astimezone(TZ).date(), language)
    until = format_day(report.hold.until, language) if report.hold else ""
    if report.kind == ProblemKind.DISPUTE:
        summary = _words(
            language,
            nl=f"U bent het niet eens met factuur {report.invoice.external_id}.",
            en=f"You disagree with invoice {report.invoice.external_id}.",
        )
    elif report.kind == ProblemKind.CONTACT:
        summary = _words(
            language,
            nl="U meldt dat uw adres of contactgegevens niet kloppen.",
            en="You told us your address or contact details are wrong.",
        )
    else:
        summary = _words(
            language,
            nl="U meldt dat u nu niet kunt betalen.",
            en="You told us you cannot pay now.",
        )
    next_step = _words(
        language,
        nl=f"Een medewerker neemt uiterlijk {contact_by} contact met u op.",
        en=f"An employee will contact you by {contact_by}.",
    )
    if until:
        next_step += _words(
            language,
            nl=f" Tot en met {until} sturen wij geen herinneringen.",
            en=f" Until {until} we send no reminders.",
        )
    return summary, next_step


def problem_for(debtor: Debtor, pk) -> ProblemReport | None:
    """The debtor's own report with this id (for the confirmation page), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        ProblemReport.objects.filter(debtor=debtor, pk=pk)
        .select_related("hold", "task", "invoice")
        .first()
    )


# -- debt help ------------------------------------------------------------------------------

SHIPPED_DEBT_HELP = Path(__file__).resolve().parent / "data" / "schuldhulp.csv"
DEBT_HELP_COLUMNS = (
    "postcode_from",
    "postcode_to",
    "municipality",
    "municipality_code",
    "name",
    "phone",
    "email",
    "url",
)
GELDFIT = DEBT_HELP  # the national, free and anonymous helpline: name, phone, url
_MUNICIPALITY_CODE = re.compile(r"^GM[0-9]{4}$")
_PHONE_CHARS = re.compile(r"^[0-9 +()\-]{3,32}$")
_email_check = EmailValidator()
_url_check = URLValidator(schemes=["https", "http"])


class DebtHelpInvalid(ValueError):
    """A debt-help file that cannot be loaded; ``problems`` are (line, field, reason)."""

    def __init__(self, source: str, problems: list[tuple[int, str, str]]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.source}: line {line}: {field}: {why}" for line, field, why in self.problems]


@dataclass(frozen=True)
class DebtHelpFile:
    """A parsed debt-help file: the areas to store and the postcode ranges nobody covers."""

    areas: list[DebtHelpArea]
    gaps: list[tuple[int, int]]


def _postcode_field(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{4}", raw):
        raise ValueError(f"{raw!r} is not four digits")
    number = int(raw)
    if number < 1000:
        raise ValueError(f"{raw} is below 1000 (Dutch postcodes run from 1000 to 9999)")
    return number


def _row_area(values: dict[str, str], line: int, problems: list) -> DebtHelpArea | None:
    before = len(problems)

    def bad(field, why):
        problems.append((line, field, why))

    numbers = {}
    for field in ("postcode_from", "postcode_to"):
        try:
            numbers[field] = _postcode_field(values[field])
        except ValueError as exc:
            bad(field, str(exc))
    if len(numbers) == 2 and numbers["postcode_to"] < numbers["postcode_from"]:
        bad(
            "postcode_to",
            f"{numbers['postcode_to']} is before postcode_from {numbers['postcode_from']}",
        )
    for field, limit in (("municipality", 100), ("name", 200)):
        if not values[field]:
            bad(field, "required")
        elif len(values[field]) > limit:
            bad(field, f"longer than {limit} characters")
    code = values["municipality_code"]
    if code and not _MUNICIPALITY_CODE.match(code):
        bad("municipality_code", f"{code!r} is not a CBS code like GM0344 (or leave it empty)")
    phone = values["phone"]
    if phone and not _PHONE_CHARS.match(phone):
        bad("phone", f"{phone!r} is not a phone number (digits, spaces, +, - and brackets)")
    email = values["email"]
    if email:
        try:
            _email_check(email)
        except ValidationError:
            bad("email", f"{email!r} is not an email address")
    url = values["url"]
    if url:
        if len(url) > 300:
            bad("url", "longer than 300 characters")
        else:
            try:
                _url_check(url)
            except ValidationError:
                bad("url", f"{url!r} is not a web address starting with https://")
    if len(problems) > before:
        return None
    return DebtHelpArea(
        postcode_from=numbers["postcode_from"],
        postcode_to=numbers["postcode_to"],
        municipality=values["municipality"],
        municipality_code=code,
        name=values["name"],
        phone=phone,
        email=email,
        url=url,
    )


def _nesting_problems(rows: list[tuple[int, DebtHelpArea]]) -> list[tuple[int, str, str]]:
    """Ranges may nest (a municipality inside its region's fallback) but not cross or repeat."""
    problems = []
    ordered = sorted(rows, key=lambda r: (r[1].postcode_from, -r[1].postcode_to, r[0]))
    stack: list[tuple[int, DebtHelpArea]] = []
    for line, area in ordered:
        while stack and stack[-1][1].postcode_to < area.postcode_from:
            stack.pop()
        if stack:
            outer_line, outer = stack[-1]
            same = (outer.postcode_from, outer.postcode_to) == (
                area.postcode_from,
                area.postcode_to,
            )
            if same:
                problems.append(
                    (
                        line,
                        "postcode_from",
                        f"the range {area.postcode_from}-"
                        f"{area.postcode_to} is also on line {outer_line}",
                    )
                )
                continue
            if outer.postcode_to < area.postcode_to:
                problems.append(
                    (
                        line,
                        "postcode_to",
                        f"{area.postcode_from}-{area.postcode_to} overlaps "
                        f"{outer.postcode_from}-{outer.postcode_to} (line {outer_line}) without "
                        "lying inside it",
                    )
                )
                continue
        stack.append((line, area))
    return sorted(problems)


def _gaps(areas: list[DebtHelpArea]) -> list[tuple[int, int]]:
    gaps = []
    cursor = 1000
    for area in sorted(areas, key=lambda a: a.postcode_from):
        if area.postcode_from > cursor:
            gaps.append((cursor, area.postcode_from - 1))
        cursor = max(cursor, area.postcode_to + 1)
    if cursor <= 9999:
        gaps.append((cursor, 9999))
    return gaps


def debt_help_parse(text: str, *, source: str) -> DebtHelpFile:
    """Read a debt-help CSV (``;`` or ``,`` separated; lines starting with ``#`` are comments;
    a header with ``DEBT_HELP_COLUMNS``). Raises DebtHelpInvalid naming every problem."""
    problems: list[tuple[int, str, str]] = []
    header: list[str] | None = None
    delimiter = ";"
    rows: list[tuple[int, DebtHelpArea]] = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if header is None:
            delimiter = ";" if ";" in raw else ","
            header = [cell.strip().lower() for cell in next(csv.reader([raw], delimiter=delimiter))]
            missing = [c for c in DEBT_HELP_COLUMNS if c not in header]
            unknown = [c for c in header if c not in DEBT_HELP_COLUMNS]
            if missing:
                problems.append((number, "(header)", f"missing column(s): {', '.join(missing)}"))
            if unknown:
                problems.append((number, "(header)", f"unknown column(s): {', '.join(unknown)}"))
            if missing or unknown:
                break
            continue
        cells = [cell.strip() for cell in next(csv.reader([raw], delimiter=delimiter))]
        if len(cells) != len(header):
            problems.append(
                (number, "(row)", f"{len(cells)} fields; expected {len(header)} ({delimiter!r})")
            )
            continue
        area = _row_area(dict(zip(header, cells, strict=True)), number, problems)
        if area is not None:
            rows.append((number, area))
    if header is None:
        problems.append((1, "(file)", "no header line and no rows"))
    elif not rows and not problems:
        problems.append((1, "(file)", "no rows: the table would be empty"))
    problems += _nesting_problems(rows)
    if problems:
        raise DebtHelpInvalid(source, sorted(problems))
    areas = [area for _line, area in rows]
    return DebtHelpFile(areas=areas, gaps=_gaps(areas))


def debt_help_load(*, text: str, source: str) -> DebtHelpFile:
    """Replace the debt-help table by the file's rows in one transaction; on any problem raise
    DebtHelpInvalid and keep the table as it was."""
    parsed = debt_help_parse(text, source=source)
    with transaction.atomic():
        DebtHelpArea.objects.all().delete()
        DebtHelpArea.objects.bulk_create(parsed.areas, batch_size=500)
    return parsed


def debt_help_load_shipped() -> DebtHelpFile:
    """Load the shipped table (``data/schuldhulp.csv``)."""
    return debt_help_load(
        text=SHIPPED_DEBT_HELP.read_text(encoding="utf-8"), source=SHIPPED_DEBT_HELP.name
    )


def postcode_digits(postcode: str) -> int | None:
    """The four digits of a Dutch postcode (``3511 AB``, ``3511AB`` or ``3511``), or None."""
    match = re.match(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})?\s*$", postcode or "")
    return int(match.group(1)) if match else None


def debt_help_for_postcode(postcode: str) -> DebtHelpArea | None:
    """The debt help for a postcode: the narrowest range that holds it (a municipality before
    its region's fallback). Loads the shipped table when the table is empty."""
    number = postcode_digits(postcode)
    if number is None:
        return None
    if not DebtHelpArea.objects.exists():
        debt_help_load_shipped()
    return (
        DebtHelpArea.objects.filter(postcode_from__lte=number, postcode_to__gte=number)
        .annotate(width=F("postcode_to") - F("postcode_from"))
        .order_by("width", "postcode_from", "pk")
        .first()
    )


def is_fallback(area: DebtHelpArea | None) -> bool:
    """A region's fallback row names no municipality (no CBS code)."""
    return area is None or not area.municipality_code


def postcode_check(raw: str) -> str:
    """A postcode typed by a person as ``1234AB``; ValidationError otherwise."""
    try:
        return validate_postcode(raw or "")
    except ValueError:
        raise ValidationError(
            {"postcode": _("Enter a postcode like 1234 AB.")}, code="postcode"
        ) from None


# -- consent to share data with the municipality ---------------------------------------------


def consent_text(*, debtor: Debtor, area: DebtHelpArea | None) -> str:
    """The words the debtor agrees to, in the active language (stored as shown)."""
    creditor = debtor.creditor
    if area is not None and not is_fallback(area):
        municipality = _("the municipality of %(name)s") % {"name": area.municipality}
    else:
        municipality = _("my municipality")
    if creditor.sector in SIGNAL_CUSTOMER_NUMBER:
        data = _(
            "my name, address, phone number, email address, customer number and the amount I owe"
        )
    else:
        data = _("my name, address, phone number, email address and the amount I owe")
    return str(
        _(
            "I agree that %(creditor)s shares %(data)s with %(municipality)s, so that the "
            "municipality can offer me help with money worries. Help from the municipality is "
            "free and I decide myself whether I accept it. I can withdraw this consent at any "
            "time on this page."
        )
        % {"creditor": creditor.name, "data": data, "municipality": municipality}
    )


def consent_active(debtor: Debtor) -> Consent | None:
    return (
        Consent.objects.filter(debtor=debtor, kind=Consent.MUNICIPALITY, withdrawn_at__isnull=True)
        .order_by("-given_at")
        .first()
    )


def consent_give(
    *, debtor: Debtor, text: str, actor: Actor, now: datetime | None = None
) -> Consent:
    """Record that the debtor agrees to share data with the municipality, with the words they
    saw. A consent already given stays as it is."""
    now = now or timezone.now()
    if not text.strip():
        raise ValidationError({"agree": _("The consent text is missing.")})
    with transaction.atomic():
        debtor = _lock(debtor)
        existing = consent_active(debtor)
        if existing is not None:
            return existing
        consent = Consent.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            kind=Consent.MUNICIPALITY,
            text=text,
            given_at=now,
        )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="consent.given",
            actor=actor,
            subject=consent,
            reason="klant geeft in het portaal toestemming om gegevens te delen met de gemeente "
            "(vroegsignalering, hulp bij geldzorgen)",
            data={"kind": Consent.MUNICIPALITY},
        )
    return consent


def consent_withdraw(*, debtor: Debtor, actor: Actor, now: datetime | None = None) -> int:
    """Withdraw the debtor's consent to share data with the municipality; 0 when there was none."""
    now = now or timezone.now()
    with transaction.atomic():
        debtor = _lock(debtor)
        rows = list(
            Consent.objects.filter(
                debtor=debtor, kind=Consent.MUNICIPALITY, withdrawn_at__isnull=True
            )
        )
        for consent in rows:
            consent.withdrawn_at = now
            consent.save(update_fields=["withdrawn_at"])
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="consent.withdrawn",
                actor=actor,
                subject=consent,
                reason="klant trekt in het portaal de toestemming in om gegevens te delen met de "
                "gemeente",
                data={"kind": Consent.MUNICIPALITY},
            )
    return len(rows)


# -- breathing space (adempauze) --------------------------------------------------------------


@dataclass(frozen=True)
class BreathingSpace:
    """What a breathing-space request did: the hold (None without an open case) and the task."""

    hold: Hold | None
    task: CallTask | None
    until: date | None
    already: bool = False


def breathing_space_active(case: Case | None) -> Hold | None:
    if active_case(case) is None:
        return None
    return (
        Hold.objects.filter(case=case, kind=HoldKind.BREATHING_SPACE, released_on__isnull=True)
        .order_by("-until")
        .first()
    )


def breathing_space_request(
    *,
    debtor: Debtor,
    case: Case | None,
    organisation: str,
    actor: Actor,
    contact_person: str = "",
    now: datetime | None = None,
) -> BreathingSpace:
    """The debtor says they are in (or starting) a debt-help trajectory: pause the case for
    ``BREATHING_SPACE_DAYS``, ask an agent to check it with the organisation, confirm."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    organisation, contact_person = _clean(organisation), _clean(contact_person)
    errors = {}
    if not organisation:
        errors["organisation"] = [_("Tell us which municipality or organisation helps you.")]
    elif len(organisation) > NAME_MAX:
        errors["organisation"] = [_too_long(organisation, NAME_MAX)]
    if len(contact_person) > NAME_MAX:
        errors["contact_person"] = [_too_long(contact_person, NAME_MAX)]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        debtor = _lock(debtor)
        running = breathing_space_active(case)
        if running is not None:
            return BreathingSpace(hold=running, task=None, until=running.until, already=True)
        who = organisation + (f" (contactpersoon: {contact_person})" if contact_person else "")
        pausable = active_case(case)
        hold = None
        if pausable is not None:
            hold = hold_place(
                case=pausable,
                kind=HoldKind.BREATHING_SPACE,
                reason=f"adempauze gevraagd door de klant: schuldhulp bij {who}; nog te "
                "controleren",
                until=_hold_until(today, BREATHING_SPACE_DAYS),
                on=today,
                actor=actor,
            )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="breathing_space.requested",
            actor=actor,
            subject=hold or debtor,
            reason=f"klant vraagt in het portaal om adempauze: schuldhulptraject bij {who}",
            data={
                "organisation": organisation,
                "contact_person": contact_person,
                "case": case.pk if case else None,
                "until": hold.until.isoformat() if hold else None,
            },
            on=today,
        )
        paused = f" Dossier gepauzeerd tot en met {_d(hold.until)}." if hold else ""
        task = _problem_task(
            debtor=debtor,
            case=case,
            reason=f"Adempauze gevraagd via het portaal: de klant zegt hulp te krijgen (of te "
            f"gaan krijgen) bij {who}. Controleer dit bij de organisatie en pas de pauze zo "
            f"nodig aan.{paused}",
            key=f"portal-breathing-{debtor.pk}-{now:%Y%m%d%H%M%S%f}",
            today=today,
            actor=actor,
        )
        language = debtor.language
        until = format_day(hold.until, language) if hold else ""
        _confirm(
            debtor=debtor,
            case=case,
            key=f"breathing-{task.pk}",
            summary=_words(
                language,
                nl="U vraagt om adempauze omdat u hulp krijgt bij uw schulden.",
                en="You asked for breathing space because you get help with your debts.",
            ),
            next_step=_words(
                language,
                nl=(f"Tot en met {until} sturen wij geen herinneringen. " if until else "")
                + "Een medewerker controleert uw aanvraag.",
                en=(f"Until {until} we send no reminders. " if until else "")
                + "An employee will check your request.",
            ),
            actor=actor,
        )
    return BreathingSpace(hold=hold, task=task, until=hold.until if hold else None)


# -- my details: preferences -----------------------------------------------------------------

PREFERRED_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.LETTER)


def preferences_update(*, debtor: Debtor, channel: str, time_of_day: str, actor: Actor) -> bool:
    """Store the channel and part of the day the debtor prefers ('' = no preference); False
    when nothing changed."""
    errors = {}
    if channel not in ("", *PREFERRED_CHANNELS):
        errors["preferred_channel"] = [_("Choose one of the ways shown.")]
    if time_of_day not in ("", *TimeBand.values):
        errors["preferred_time"] = [_("Choose one of the times shown.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        debtor = _lock(debtor)
        old = {
            "preferred_channel": debtor.preferred_channel,
            "preferred_time": debtor.preferred_time,
        }
        new = {"preferred_channel": channel, "preferred_time": time_of_day}
        if old == new:
            return False
        debtor.preferred_channel, debtor.preferred_time = channel, time_of_day
        debtor.save(update_fields=["preferred_channel", "preferred_time", "updated_at"])
        channel_words = CHANNEL_NAMES.get(channel, channel) if channel else "geen voorkeur"
        time_words = BAND_WORDS.get(time_of_day, "geen voorkeur")
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="debtor.changed",
            actor=actor,
            subject=debtor,
            reason=f"voorkeur van de klant (portaal): kanaal {channel_words}, tijd {time_words}",
            data={"fields": list(new), "old": old, "new": new},
        )
    return True


# -- my details: WhatsApp ---------------------------------------------------------------------


def valid_points(debtor: Debtor) -> list[ContactPoint]:
    """The debtor's contact points that are not known to be wrong, confirmed ones first."""
    return list(
        ContactPoint.objects.filter(debtor=debtor, invalid_since__isnull=True).order_by(
            "kind", F("verified_at").desc(nulls_last=True), "-created_at"
        )
    )


def mobile_number(debtor: Debtor) -> ContactPoint | None:
    """The debtor's Dutch mobile number for WhatsApp: a valid phone point starting +316,
    a confirmed one first."""
    return next(
        (
            point
            for point in valid_points(debtor)
            if point.kind == ContactKind.PHONE and point.value.startswith("+316")
        ),
        None,
    )


def whatsapp_on(debtor: Debtor) -> bool:
    """True when messages may go to the debtor on WhatsApp (a valid number, no opt-out)."""
    if Channel.WHATSAPP in opted_out(debtor.pk):
        return False
    return ContactPoint.objects.filter(
        debtor=debtor, kind=ContactKind.WHATSAPP, invalid_since__isnull=True
    ).exists()


def whatsapp_opt_in(*, debtor: Debtor, actor: Actor, now: datetime | None = None) -> ContactPoint:
    """The debtor wants messages on WhatsApp at their mobile number: add it as a WhatsApp
    contact point and end a WhatsApp opt-out."""
    now = now or timezone.now()
    with transaction.atomic():
        debtor = _lock(debtor)
        mobile = mobile_number(debtor)
        if mobile is None:
            raise ValidationError(
                {"whatsapp": _("Add your mobile number first; then you can choose WhatsApp.")}
            )
        point, created = ContactPoint.objects.get_or_create(
            debtor=debtor,
            kind=ContactKind.WHATSAPP,
            value=mobile.value,
            defaults={"source": ContactSource.PORTAL, "verified_at": mobile.verified_at},
        )
        changed = created
        if point.invalid_since is not None:
            point.invalid_since = None
            point.save(update_fields=["invalid_since", "updated_at"])
            changed = True
        ended = OptOut.objects.filter(
            debtor=debtor, channel=Channel.WHATSAPP, ended_at__isnull=True
        ).update(ended_at=now)
        if changed or ended:
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="contact.opt_in",
                actor=actor,
                subject=point,
                reason=f"klant kiest in het portaal voor berichten via WhatsApp op {point.value}"
                + ("; afmelding voor WhatsApp beëindigd" if ended else ""),
                data={"channel": Channel.WHATSAPP, "opt_out_ended": bool(ended)},
            )
    return point


def whatsapp_opt_out(*, debtor: Debtor, actor: Actor, now: datetime | None = None) -> OptOut:
    """The debtor wants no more messages on WhatsApp."""
    return opt_out_record(
        debtor=debtor,
        channel=Channel.WHATSAPP,
        source="portal",
        reason="via het portaal",
        at=now,
        actor=actor,
    )


# -- my details: a new email address or phone number, confirmed with a code ------------------


def _code_hash(change_debtor_id: int, value: str, code: str) -> str:
    message = f"contact-change:{change_debtor_id}:{value}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def contact_value_check(kind: str, value: str) -> str:
    """A new email address or mobile number, normalised (E.164); ValidationError otherwise."""
    value = (value or "").strip()
    if kind == ContactKind.EMAIL:
        try:
            return validate_email(value)
        except ValueError:
            raise ValidationError(
                {"value": _("Enter an email address like name@example.nl.")}
            ) from None
    if kind == ContactKind.PHONE:
        try:
            number = validate_phone(value)
        except ValueError:
            raise ValidationError({"value": _("Enter a phone number like 06 12345678.")}) from None
        kind_of = phonenumbers.number_type(phonenumbers.parse(number))
        if kind_of not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise ValidationError(
                {
                    "value": _(
                        "We confirm a number with a text message, so it must be a mobile "
                        "number. For a landline number, call us."
                    )
                }
            )
        return number
    raise ValidationError({"kind": _("Choose email address or phone number.")})


def contact_change_open(debtor: Debtor, now: datetime | None = None) -> ContactChange | None:
    """The change waiting for its code (not confirmed, cancelled, expired or used up)."""
    now = now or timezone.now()
    return (
        ContactChange.objects.filter(
            debtor=debtor,
            confirmed_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=now,
            attempts__lt=CODE_ATTEMPTS,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def contact_change_start(
    *, debtor: Debtor, kind: str, value: str, actor: Actor, now: datetime | None = None
) -> ContactChange:
    """Send a six-digit code to a new email address (email) or mobile number (SMS); the change
    takes effect when the debtor types the code (``contact_change_confirm``). At most
    ``CODES_PER_HOUR`` codes per debtor per hour; a new code ends any earlier one."""
    now = now or timezone.now()
    value = contact_value_check(kind, value)
    with transaction.atomic():
        debtor = _lock(debtor)
        mine = ContactPoint.objects.filter(
            debtor=debtor, kind=kind, invalid_since__isnull=True, value__iexact=value
        )
        if mine.exists():
            raise ValidationError(
                {
                    "value": _("This is already your email address.")
                    if kind == ContactKind.EMAIL
                    else _("This is already your phone number.")
                }
            )
        recent = ContactChange.objects.filter(
            debtor=debtor, created_at__gte=now - timedelta(hours=1)
        ).count()
        if recent >= CODES_PER_HOUR:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: ngettext_lazy(
                        "You asked for %(count)d code in the last hour. Wait an hour and try "
                        "again, or call us.",
                        "You asked for %(count)d codes in the last hour. Wait an hour and try "
                        "again, or call us.",
                        "count",
                    )
                    % {"count": recent}
                }
            )
        ContactChange.objects.filter(
            debtor=debtor, confirmed_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now)
        code = f"{secrets.randbelow(1_000_000):06d}"
        change = ContactChange.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            kind=kind,
            value=value,
            code_hash=_code_hash(debtor.pk, value, code),
            expires_at=now + CODE_VALID,
        )
        # ``created_at`` is the database's clock; the hourly limit counts by ``now``.
        ContactChange.objects.filter(pk=change.pk).update(created_at=now)
        what = "e-mailadres" if kind == ContactKind.EMAIL else "telefoonnummer"
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="contact_change.started",
            actor=actor,
            subject=change,
            reason=f"klant geeft in het portaal een nieuw {what} op ({value}); "
            "bevestigingscode verstuurd",
            data={"kind": kind},
        )
        change.message = message_queue(
            debtor=debtor,
            template="verificatiecode",
            purpose="verify",
            key=f"change-{change.pk}",
            channel=Channel.EMAIL if kind == ContactKind.EMAIL else Channel.SMS,
            to=value,
            context={"code": code},
            why=f"code om een nieuw {what} te bevestigen",
            actor=actor,
        )
        change.save(update_fields=["message"])
    return change


def contact_change_confirm(
    *, debtor: Debtor, code: str, actor: Actor, now: datetime | None = None
) -> ContactPoint:
    """Check the code of the debtor's newest change: right → the address becomes a confirmed
    contact point (older ones stay); wrong → one attempt used; after ``CODE_ATTEMPTS`` wrong
    codes, or after ``CODE_VALID``, the debtor must ask for a new code."""
    now = now or timezone.now()
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValidationError({"code": _("Type the 6 digits of the code.")})
    problem = None
    with transaction.atomic():
        debtor = _lock(debtor)
        change = (
            ContactChange.objects.select_for_update()
            .filter(debtor=debtor, confirmed_at__isnull=True, cancelled_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if change is None:
            raise ValidationError({"code": _("There is no code waiting. Ask for a new code.")})
        if change.expires_at <= now:
            raise ValidationError({"code": _("This code has expired. Ask for a new code.")})
        if change.attempts >= CODE_ATTEMPTS:
            raise ValidationError({"code": _("Too many wrong codes. Ask for a new code.")})
        right = hmac.compare_digest(change.code_hash, _code_hash(debtor.pk, change.value, code))
        if not right:
            change.attempts += 1
            left = CODE_ATTEMPTS - change.attempts
            fields = ["attempts"]
            if left <= 0:
                change.cancelled_at = now
                fields.append("cancelled_at")
                event_record(
                    creditor=debtor.creditor_id,
                    debtor=debtor,
                    verb="contact_change.failed",
                    actor=actor,
                    subject=change,
                    reason=f"bevestigingscode {CODE_ATTEMPTS} keer fout getypt: de wijziging "
                    f"naar {change.value} gaat niet door",
                    data={"kind": change.kind},
                )
                problem = _(
                    "This code is not right, and you have no tries left. Ask for a new code."
                )
            else:
                problem = ngettext_lazy(
                    "This code is not right. You can try %(count)d more time.",
                    "This code is not right. You can try %(count)d more times.",
                    "count",
                ) % {"count": left}
            change.save(update_fields=fields)
        else:
            point = ContactPoint.objects.filter(
                debtor=debtor, kind=change.kind, value=change.value
            ).first()
            if point is None:
                point = ContactPoint.objects.create(
                    debtor=debtor,
                    kind=change.kind,
                    value=change.value,
                    source=ContactSource.PORTAL,
                    verified_at=now,
                )
            else:
                point.verified_at, point.invalid_since = now, None
                point.save(update_fields=["verified_at", "invalid_since", "updated_at"])
            change.confirmed_at = now
            change.save(update_fields=["confirmed_at"])
            what = "e-mailadres" if change.kind == ContactKind.EMAIL else "telefoonnummer"
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="debtor.contact_added",
                actor=actor,
                subject=point,
                reason=f"nieuw {what} {point.value} bevestigd met een code in het portaal",
                data={"kind": change.kind, "source": ContactSource.PORTAL},
            )
    if problem is not None:  # the attempt is counted (committed) before the error is shown
        raise ValidationError({"code": problem})
    return point


def contact_change_cancel(*, debtor: Debtor, actor: Actor, now: datetime | None = None) -> int:
    """Stop waiting for a code (the debtor typed a wrong address, say)."""
    now = now or timezone.now()
    with transaction.atomic():
        changes = list(
            ContactChange.objects.select_for_update().filter(
                debtor=debtor, confirmed_at__isnull=True, cancelled_at__isnull=True
            )
        )
        for change in changes:
            change.cancelled_at = now
            change.save(update_fields=["cancelled_at"])
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="contact_change.cancelled",
                actor=actor,
                subject=change,
                reason=f"klant stopt de wijziging naar {change.value} (portaal)",
                data={"kind": change.kind},
            )
    return len(changes)


# -- priority callback ---------------------------------------------------------------------------


def _clock(text: str) -> time:
    hours, minutes = map(int, text.split(":"))
    return time(hours, minutes)


def callback_windows(*, debtor: Debtor, case: Case | None, today: date) -> dict:
    """The windows a debtor may choose, clipped to the strategy's contact hours; a window that
    falls outside them is left out. ``{band: (start, end)}``."""
    hours = creditor_settings(debtor.creditor, case=case, on=today).contact_hours
    opens, closes = _clock(hours.start), _clock(hours.end)
    windows = {}
    for band, (start, end) in CALLBACK_WINDOWS.items():
        start, end = max(start, opens), min(end, closes)
        if start < end:
            windows[band] = (start, end)
    return windows


def _window_usable(day: date, start: time, end: time, now: datetime) -> bool:
    return datetime.combine(day, end, TZ) - CALLBACK_LEAD >= now


def callback_days(*, windows: dict, now: datetime) -> list[date]:
    """Today (when a window is still usable) and the next business days: ``CALLBACK_DAYS``."""
    today = timezone.localdate(now)
    days = []
    if is_business_day(today) and any(
        _window_usable(today, start, end, now) for start, end in windows.values()
    ):
        days.append(today)
    day = today
    while len(days) < CALLBACK_DAYS:
        day = add_business_days(day, 1)
        days.append(day)
    return days


def callback_open(debtor: Debtor, now: datetime | None = None) -> CallTask | None:
    """The debtor's callback that is still to come (open, window not over)."""
    now = now or timezone.now()
    return (
        CallTask.objects.filter(
            debtor=debtor,
            kind=CallTaskKind.CALLBACK,
            status=CallTaskStatus.OPEN,
            window_end__gt=now,
        )
        .order_by("window_start")
        .first()
    )


def phone_check(raw: str, field: str = "phone") -> str:
    try:
        return validate_phone(raw or "")
    except ValueError:
        raise ValidationError({field: _("Enter a phone number like 06 12345678.")}) from None


def callback_request(
    *,
    debtor: Debtor,
    case: Case | None,
    day: date,
    band: str,
    phone: str,
    actor: Actor,
    note: str = "",
    now: datetime | None = None,
) -> CallTask:
    """Ask an agent to call the debtor back on a day, in a window: a task at the top of the
    agents' queue. A debtor has one callback at a time: asking again moves it."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    note = _clean(note)
    windows = callback_windows(debtor=debtor, case=case, today=today)
    errors: dict[str, list] = {}
    number = None
    try:
        number = phone_check(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(note) > NOTE_MAX:
        errors["note"] = [_too_long(note, NOTE_MAX)]
    if day not in callback_days(windows=windows, now=now):
        errors["day"] = [_("Choose one of the days shown.")]
    if band not in windows:
        errors["band"] = [_("Choose one of the times shown.")]
    elif "day" not in errors and not _window_usable(day, *windows[band], now):
        errors["band"] = [_("This time has passed for today. Choose a later time or another day.")]
    if errors:
        raise ValidationError(errors)
    start_clock, end_clock = windows[band]
    start = max(datetime.combine(day, start_clock, TZ), now.astimezone(TZ).replace(microsecond=0))
    end = datetime.combine(day, end_clock, TZ)
    reason = (
        f"Terugbelverzoek via het portaal (achterstand): bel {number} op {_d(day)} tussen "
        f"{start_clock:%H:%M} en {end_clock:%H:%M}."
    )
    if note:
        reason += f' Opmerking van de klant: "{note}"'
    with transaction.atomic():
        debtor = _lock(debtor)
        task = callback_open(debtor, now)
        if task is not None:
            if task.reason == reason and task.window_end == end:
                return task  # the same request again (a double click)
            task.window_start, task.window_end, task.reason = start, end, reason
            task.priority, task.case = CALLBACK_PRIORITY, case
            task.save(update_fields=["window_start", "window_end", "reason", "priority", "case"])
            verb = "callback.changed"
        else:
            task = _task_create(
                debtor=debtor,
                case=case,
                kind=CallTaskKind.CALLBACK,
                priority=CALLBACK_PRIORITY,
                start=start,
                end=end,
                reason=reason,
                key=f"portal-callback-{debtor.pk}-{now:%Y%m%d%H%M%S%f}",
                actor=actor,
            )
            verb = "callback.requested"
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb=verb,
            actor=actor,
            subject=task,
            reason=f"klant vraagt in het portaal om terugbellen op {_d(day)} in de "
            f"{BAND_WORDS.get(band, band)} ({start_clock:%H:%M}-{end_clock:%H:%M}) op {number}"
            + (f': "{note[:200]}"' if note else ""),
            data={
                "day": day.isoformat(),
                "band": band,
                "phone": number,
                "case": case.pk if case else None,
            },
            on=today,
        )
        language = debtor.language
        national = phonenumbers.format_number(
            phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.NATIONAL
        )
        when = format_day(day, language)
        _confirm(
            debtor=debtor,
            case=case,
            key=f"callback-{task.pk}-{start:%Y%m%d%H%M}-{number}",
            summary=_words(
                language,
                nl="U heeft gevraagd of wij u terugbellen.",
                en="You asked us to call you back.",
            ),
            next_step=_words(
                language,
                nl=f"Wij bellen u op {when} tussen {start_clock:%H:%M} en {end_clock:%H:%M} op "
                f"{national}.",
                en=f"We will call you on {when} between {start_clock:%H:%M} and "
                f"{end_clock:%H:%M} on {national}.",
            ),
            actor=actor,
        )
    return task
