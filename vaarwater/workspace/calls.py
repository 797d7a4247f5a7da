"""What an agent records about a call, and what they do during it (issue 7, part 4).

``call_outcome_record`` books the outcome of one call attempt in one transaction: how the call
went (spoke with the customer, reached someone else, no answer, voicemail, wrong number), the
root cause the customer gave, a promise to pay, contact data the agent corrected, a callback
that was agreed; a payment plan agreed in the plan flow during the call is linked to it. An
answered call counts as a response for the channel learning, and the attempt is handed to the
queue (``queue.attempt_finished``), which decides when the customer is called again.
``payment_link_during_call`` sends a payment link at once, because the customer asks for it in
the call.

Both check who records (the agent of the call, or a supervisor of the creditor) and raise
``CallError`` naming the form field its message belongs to; nothing is stored then. Messages
are English msgids for the agent's language; the event reasons are Dutch, as on the rest of
the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vaarwater.arrangements.models import Arrangement, ArrangementStatus, Assessment
from vaarwater.arrangements.services import ArrangementError, payday_of, promise_record
from vaarwater.contact.learning import band_of, response_record
from vaarwater.contact.models import CallTask, CallTaskKind, Channel
from vaarwater.contact.services import (
    call_task_create,
    next_allowed_moment,
    opted_out,
    reachable_channels,
)
from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur
from vaarwater.law.payday import next_payday
from vaarwater.ledger.models import ContactKind, ContactPoint, ContactSource, Role
from vaarwater.ledger.validation import validate_email, validate_phone
from vaarwater.payments.services import PaymentError, payment_link_create, payment_link_send
from vaarwater.strategy.documents import creditor_settings

from . import queue
from .access import has_role
from .models import CallAttempt, CallOutcome, RootCause

TZ = ZoneInfo("Europe/Amsterdam")
# A callback the agent agrees comes before the strategy's calls, as one the customer asks for
# in the portal (portal.selfservice.CALLBACK_PRIORITY).
CALLBACK_PRIORITY = 90
CALLBACK_WINDOW = timedelta(hours=1)
CALLBACK_MAX_AHEAD = timedelta(days=30)
NOTE_MAX = 2000
# The channels a payment link can go out on while the customer is on the line.
LINK_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)

OUTCOME_WORDS = {
    CallOutcome.RIGHT_PARTY: "Gesproken met klant",
    CallOutcome.REACHED: "Iemand anders gesproken",
    CallOutcome.NO_ANSWER: "Geen gehoor",
    CallOutcome.VOICEMAIL: "Voicemail",
    CallOutcome.WRONG_NUMBER: "Verkeerd nummer",
}
ROOT_CAUSE_WORDS = {
    RootCause.FORGOT: "vergeten",
    RootCause.ADDRESS_CHANGED: "verhuisd of adres gewijzigd",
    RootCause.NO_USAGE_INSIGHT: "geen inzicht in verbruik of rekening",
    RootCause.INCOME_DROP: "inkomen gedaald",
    RootCause.LIFE_EVENT: "ingrijpende gebeurtenis (ziekte, scheiding, overlijden)",
    RootCause.MULTIPLE_DEBTS: "schulden bij meerdere schuldeisers",
    RootCause.DISPUTE: "betwist de rekening",
    RootCause.PAYMENT_TECHNICAL: "betaling ging mis (incasso, IBAN)",
    RootCause.WONT_PAY: "wil niet betalen",
    RootCause.OTHER: "anders",
}
# The promise service's field names → the call form's.
PROMISE_FIELDS = {"amount": "promise_amount", "due_on": "promise_due_on"}


class CallError(ValueError):
    """A call outcome or payment link that cannot be recorded; ``field`` is the form field the
    message belongs to ("form" for the whole form)."""

    def __init__(self, message: str, *, field: str = "form"):
        super().__init__(message)
        self.message = message
        self.field = field


class CallNotYours(CallError):
    """The user may not record for this call: it is another agent's, and the user is not a
    supervisor of its creditor."""


# -- reads ---------------------------------------------------------------------------------


def may_record(user, attempt: CallAttempt) -> bool:
    """The attempt's own agent, or a supervisor (or administrator) of its creditor."""
    if attempt.agent_id == user.pk:
        return True
    return has_role(user, attempt.creditor, Role.SUPERVISOR)


def contact_hours(attempt: CallAttempt) -> tuple[str, str]:
    """The contact hours ("HH:MM", "HH:MM") of the attempt's case, else of its creditor."""
    hours = creditor_settings(
        attempt.creditor, case=attempt.case, on=timezone.localdate()
    ).contact_hours
    return hours.start, hours.end


def phones_of(debtor_id: int) -> list[str]:
    """The debtor's phone numbers that are not known to be wrong."""
    return list(
        ContactPoint.objects.filter(
            debtor_id=debtor_id, kind=ContactKind.PHONE, invalid_since__isnull=True
        ).values_list("value", flat=True)
    )


@dataclass(frozen=True)
class PromiseFacts:
    """What the agent knows to make a promise realistic: when the income arrives and what the
    household can pay each month (the latest affordability assessment)."""

    payday_day: int | None
    payday_cycle: str
    next_payday: date | None
    assessment: Assessment | None

    @property
    def capacity_cents(self) -> int | None:
        return self.assessment.capacity_cents if self.assessment is not None else None


def promise_facts(attempt: CallAttempt, *, on: date | None = None) -> PromiseFacts:
    """The debtor's known payday and latest assessment (of the case, else of the debtor)."""
    on = on or timezone.localdate()
    assessments = Assessment.objects.filter(debtor_id=attempt.debtor_id).order_by(
        "-created_at", "-id"
    )
    assessment = None
    if attempt.case_id:
        assessment = assessments.filter(case_id=attempt.case_id).first()
    assessment = assessment or assessments.first()
    payday = payday_of(attempt.debtor, assessment)
    return PromiseFacts(
        payday_day=payday.day,
        payday_cycle=payday.cycle,
        next_payday=next_payday(on, day=payday.day, cycle=payday.cycle, anchor=payday.anchor),
        assessment=assessment,
    )


def link_channels(debtor) -> dict[str, str]:
    """Per channel a payment link can take: "" when it reaches the customer, else why not."""
    reachable = reachable_channels(debtor)
    blocked = opted_out(debtor.pk)
    return {channel: _unreachable(channel, reachable, blocked) for channel in LINK_CHANNELS}


def link_channel_preferred(debtor, channels: dict[str, str]) -> str:
    """The channel to suggest for a payment link: the customer's preferred one when it reaches
    them, else the first that does (``channels`` from ``link_channels``); "" when none does."""
    usable = [channel for channel, why_not in channels.items() if not why_not]
    if debtor.preferred_channel in usable:
        return debtor.preferred_channel
    return usable[0] if usable else ""


def _unreachable(channel: str, reachable: set[str], blocked: set[str]) -> str:
    if channel in reachable:
        return ""
    if channel in blocked:
        return {
            Channel.SMS: _("The customer opted out of text messages."),
            Channel.WHATSAPP: _("The customer opted out of WhatsApp."),
            Channel.EMAIL: _("The customer opted out of email."),
        }[channel]
    return {
        Channel.SMS: _("The customer has no valid Dutch mobile number for a text message."),
        Channel.WHATSAPP: _("The customer has no WhatsApp number."),
        Channel.EMAIL: _("The customer has no valid email address."),
    }[channel]


# -- recording the outcome ---------------------------------------------------------------------


def _d(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def check_corrections(corrections: dict | None) -> dict[str, str]:
    """The corrected phone number and email address, normalised; CallError otherwise."""
    out = {}
    for kind, raw in (corrections or {}).items():
        raw = (raw or "").strip()
        if not raw:
            continue
        if kind == "phone":
            try:
                out["phone"] = validate_phone(raw)
            except ValueError:
                raise CallError(
                    _("Enter a phone number like 06 12345678."), field="new_phone"
                ) from None
        elif kind == "email":
            try:
                out["email"] = validate_email(raw)
            except ValueError:
                raise CallError(
                    _("Enter an email address like name@example.nl."), field="new_email"
                ) from None
        else:
            raise ValueError(f"contact correction {kind!r}: expected phone or email")
    return out


def _check_callback(attempt: CallAttempt, callback_at: datetime, now: datetime) -> datetime:
    """The callback's window end; CallError when the moment is not one we may call at."""
    if timezone.is_naive(callback_at):
        raise ValueError("callback_at must be an aware datetime")
    if callback_at <= now:
        raise CallError(_("Choose a moment in the future."), field="callback_at")
    if callback_at > now + CALLBACK_MAX_AHEAD:
        raise CallError(_("Choose a moment within 30 days."), field="callback_at")
    start, end = contact_hours(attempt)
    local = callback_at.astimezone(TZ)
    if next_allowed_moment(local, channel="sms", start=start, end=end) != local:
        raise CallError(
            _(
                "We do not call then: only from %(start)s to %(end)s, not on Sundays or "
                "public holidays."
            )
            % {"start": start, "end": end},
            field="callback_at",
        )
    hours_end = datetime.combine(local.date(), datetime.strptime(end, "%H:%M").time(), TZ)
    return min(local + CALLBACK_WINDOW, hours_end)


def _wrong_number_record(attempt: CallAttempt, *, actor: Actor, now: datetime) -> list[str]:
    """Mark the number called as invalid (as a phone and a WhatsApp number): it is not the
    customer's. Return the kinds marked."""
    if not attempt.phone:
        return []
    points = list(
        ContactPoint.objects.select_for_update().filter(
            debtor_id=attempt.debtor_id,
            kind__in=(ContactKind.PHONE, ContactKind.WHATSAPP),
            value=attempt.phone,
            invalid_since__isnull=True,
        )
    )
    for point in points:
        point.invalid_since = now
        point.save(update_fields=["invalid_since", "updated_at"])
        event_record(
            creditor=attempt.creditor_id,
            debtor=attempt.debtor_id,
            verb="contact.invalid",
            actor=actor,
            subject=point,
            reason=f"{point.get_kind_display()} {point.value}: verkeerd nummer volgens medewerker",
            data={
                "kind": point.kind,
                "value": point.value,
                "source": ContactSource.AGENT,
                "attempt": attempt.pk,
            },
            on=timezone.localdate(now),
        )
    return [point.kind for point in points]


def _contact_add(
    attempt: CallAttempt, *, kind: str, value: str, verified: bool, actor: Actor, now: datetime
) -> ContactPoint | None:
    """Add a phone number or email address the agent heard in the call (or use it again when
    it was marked invalid before); None when the customer already has it."""
    point = (
        ContactPoint.objects.select_for_update()
        .filter(debtor_id=attempt.debtor_id, kind=kind, value__iexact=value)
        .first()
    )
    if point is not None and point.invalid_since is None:
        return None
    what = "e-mailadres" if kind == ContactKind.EMAIL else "telefoonnummer"
    if point is None:
        point = ContactPoint.objects.create(
            debtor_id=attempt.debtor_id,
            kind=kind,
            value=value,
            source=ContactSource.AGENT,
            verified_at=now if verified else None,
        )
        why = f"nieuw {what} {value} doorgegeven in een gesprek"
    else:
        point.invalid_since = None
        if verified:
            point.verified_at = now
        point.save(update_fields=["invalid_since", "verified_at", "updated_at"])
        why = f"{what} {value} weer in gebruik, doorgegeven in een gesprek"
    who = "door de klant zelf" if verified else "door iemand anders dan de klant"
    event_record(
        creditor=attempt.creditor_id,
        debtor=attempt.debtor_id,
        verb="debtor.contact_added",
        actor=actor,
        subject=point,
        reason=f"{why} ({who})",
        data={
            "kind": kind,
            "value": value,
            "source": ContactSource.AGENT,
            "attempt": attempt.pk,
            "verified": verified,
        },
        on=timezone.localdate(now),
    )
    return point


def _callback_create(
    attempt: CallAttempt,
    *,
    start: datetime,
    end: datetime,
    phone: str,
    actor: Actor,
    now: datetime,
) -> CallTask:
    local = start.astimezone(TZ)
    reason = (
        f"Terugbellen afgesproken in een gesprek met {actor.label} op {_d(timezone.localdate(now))}"
        f": bel {phone or 'de klant'} op {_d(local.date())} om {local:%H:%M}."
    )
    task, _created = call_task_create(
        debtor=attempt.debtor,
        case=attempt.case,
        kind=CallTaskKind.CALLBACK,
        priority=CALLBACK_PRIORITY,
        start=start,
        end=end,
        reason=reason,
        key=f"call-{attempt.pk}-callback",
        actor=actor,
    )
    # The agent who spoke with the customer calls back (call_task_create does not assign).
    task.assigned_to_id = attempt.agent_id
    task.save(update_fields=["assigned_to"])
    return task


def _outcome_reason(
    *, outcome, root_cause, promise, arrangement, callback_at, added, invalidated, phone, note
) -> str:
    """The event's reason: "Gesproken met klant; oorzaak: inkomen gedaald; belofte € 50,00 op
    28-11-2026; terugbellen 26-11 10:00"."""
    parts = [OUTCOME_WORDS[outcome] + (f" ({phone})" if invalidated and phone else "")]
    if root_cause:
        parts.append(f"oorzaak: {ROOT_CAUSE_WORDS[root_cause]}")
    if promise is not None:
        parts.append(f"belofte {format_eur(promise.amount_cents)} op {_d(promise.due_on)}")
    if arrangement is not None:
        parts.append(f"regeling {arrangement.reference} getroffen")
    if callback_at is not None:
        parts.append(f"terugbellen {callback_at.astimezone(TZ):%d-%m %H:%M}")
    for point in added:
        what = "e-mailadres" if point.kind == ContactKind.EMAIL else "telefoonnummer"
        parts.append(f"nieuw {what} {point.value}")
    if note:
        short = note if len(note) <= 200 else note[:199] + "…"
        parts.append(f'notitie: "{short}"')
    return "; ".join(parts)


def call_outcome_record(
    *,
    attempt: CallAttempt,
    agent,
    outcome: str,
    root_cause: str = "",
    note: str = "",
    promise_amount_cents: int | None = None,
    promise_due_on: date | None = None,
    callback_at: datetime | None = None,
    contact_corrections: dict | None = None,
    now: datetime | None = None,
) -> CallAttempt:
    """Record how a call went, with what came of it, in one transaction.

    A promise or a root cause only when the agent spoke with the customer (``right_party``);
    a wrong number marks the number called invalid; corrected contact data (``{"phone": ...,
    "email": ...}``) is added as the agent's; a callback becomes a callback task for the agent
    who made the call, from ``callback_at`` for an hour (within the contact hours). An answered
    call counts as a response to the newest message. The task is then closed when the customer
    was reached, or when the number was wrong and no other phone number is left; otherwise it
    stays open for a next attempt (``queue.attempt_finished``). Raises ``CallNotYours`` for
    another agent's call (unless ``agent`` supervises the creditor) and ``CallError`` (with the
    form field) for anything else; nothing is stored then.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    note = (note or "").strip()
    if outcome not in CallOutcome.values:
        raise CallError(_("Choose how the call went."), field="outcome")
    if root_cause and root_cause not in RootCause.values:
        raise CallError(_("Choose one of the causes shown."), field="root_cause")
    spoke = outcome == CallOutcome.RIGHT_PARTY
    if root_cause and not spoke:
        raise CallError(
            _("Record a cause only when you spoke with the customer."), field="root_cause"
        )
    promised = promise_amount_cents is not None or promise_due_on is not None
    if promised:
        if not spoke:
            raise CallError(
                _("Record a promise only when you spoke with the customer."),
                field="promise_amount",
            )
        if promise_amount_cents is None:
            raise CallError(_("Enter the amount the customer promises."), field="promise_amount")
        if promise_due_on is None:
            raise CallError(_("Enter the date the customer will pay by."), field="promise_due_on")
        if attempt.case_id is None:
            raise CallError(
                _("This call is not about a case; record the promise on the customer's case."),
                field="promise_amount",
            )
    if len(note) > NOTE_MAX:
        raise CallError(
            _("Keep the note under %(max)s characters.") % {"max": NOTE_MAX}, field="note"
        )
    corrections = check_corrections(contact_corrections)
    actor = Actor.for_user(agent)
    with transaction.atomic():
        task = CallTask.objects.select_for_update().get(pk=attempt.task_id)
        attempt = _attempt_locked(attempt, agent)
        if attempt.ended_at is not None:
            raise CallError(_("The outcome of this call is recorded already."))
        wrong = outcome == CallOutcome.WRONG_NUMBER
        if wrong and corrections.get("phone") == attempt.phone:
            raise CallError(
                _("This is the number that was wrong. Enter the right number."), field="new_phone"
            )
        window_end = None
        if callback_at is not None:
            window_end = _check_callback(attempt, callback_at, now)
            phones = set(phones_of(attempt.debtor_id)) | {corrections.get("phone")}
            if wrong:
                phones.discard(attempt.phone)
            phones.discard(None)
            if not phones:
                raise CallError(
                    _("There is no number to call back on. Enter the right number."),
                    field="new_phone",
                )
        invalidated = _wrong_number_record(attempt, actor=actor, now=now) if wrong else []
        added = [
            point
            for kind, value in corrections.items()
            if (
                point := _contact_add(
                    attempt, kind=kind, value=value, verified=spoke, actor=actor, now=now
                )
            )
            is not None
        ]
        promise = None
        if promised:
            try:
                promise = promise_record(
                    case=attempt.case,
                    amount_cents=promise_amount_cents,
                    due_on=promise_due_on,
                    source="call",
                    actor=actor,
                    note=note,
                    on=today,
                )
            except ArrangementError as exc:
                raise CallError(
                    exc.message, field=PROMISE_FIELDS.get(exc.field, "promise_amount")
                ) from exc
        if root_cause == RootCause.DISPUTE and attempt.case_id is not None:
            _dispute_hold(attempt, note=note, actor=actor, today=today)
        callback = None
        if callback_at is not None:
            if wrong or corrections.get("phone"):
                dial = corrections.get("phone") or next(iter(phones_of(attempt.debtor_id)), "")
            else:
                dial = attempt.phone
            callback = _callback_create(
                attempt, start=callback_at, end=window_end, phone=dial, actor=actor, now=now
            )
        # A plan agreed in the plan flow while the customer was on the line belongs to the call.
        arrangement = None
        if attempt.case_id is not None:
            arrangement = (
                Arrangement.objects.filter(
                    case_id=attempt.case_id,
                    status=ArrangementStatus.ACTIVE,
                    created_at__gte=attempt.started_at,
                )
                .order_by("-created_at")
                .first()
            )
        attempt.ended_at = now
        attempt.outcome = outcome
        attempt.root_cause = root_cause
        attempt.note = note
        attempt.promise = promise
        attempt.callback = callback
        attempt.arrangement = arrangement
        if not attempt.band:
            attempt.band = band_of(attempt.started_at)
        attempt.save(
            update_fields=[
                "ended_at",
                "outcome",
                "root_cause",
                "note",
                "promise",
                "callback",
                "arrangement",
                "band",
            ]
        )
        answered = outcome in CallOutcome.answered()
        if answered:
            response_record(debtor_id=attempt.debtor_id, kind="call", at=now)
        close = spoke or (wrong and not phones_of(attempt.debtor_id))
        event_record(
            creditor=attempt.creditor_id,
            debtor=attempt.debtor_id,
            verb="call.outcome",
            actor=actor,
            subject=attempt,
            reason=_outcome_reason(
                outcome=outcome,
                root_cause=root_cause,
                promise=promise,
                arrangement=arrangement,
                callback_at=callback_at,
                added=added,
                invalidated=invalidated,
                phone=attempt.phone,
                note=note,
            ),
            data={
                "attempt": attempt.pk,
                "task": task.pk,
                "case": attempt.case_id,
                "agent": attempt.agent_id,
                "phone": attempt.phone,
                "band": attempt.band,
                "outcome": outcome,
                "root_cause": root_cause,
                "note": note,
                "promise": promise.pk if promise else None,
                "promise_amount_cents": promise_amount_cents,
                "promise_due_on": promise_due_on.isoformat() if promise_due_on else None,
                "arrangement": arrangement.pk if arrangement else None,
                "callback": callback.pk if callback else None,
                "callback_at": callback_at.isoformat() if callback_at else None,
                "contact_added": {point.kind: point.value for point in added},
                "contact_invalid": invalidated,
                "answered": answered,
                "task_closed": close,
                "seconds": max(int((now - attempt.started_at).total_seconds()), 0),
            },
            on=today,
        )
        queue.attempt_finished(task=task, attempt=attempt, now=now, close=close)
    return attempt


def _attempt_locked(attempt: CallAttempt, agent) -> CallAttempt:
    """The attempt, locked for the rest of the transaction, when ``agent`` may record for it."""
    attempt = (
        CallAttempt.objects.select_for_update(of=("self",))
        .select_related("creditor", "debtor", "case")
        .get(pk=attempt.pk)
    )
    if not may_record(agent, attempt):
        raise CallNotYours(_("This is another agent's call."))
    return attempt


def _dispute_hold(attempt: CallAttempt, *, note: str, actor: Actor, today) -> None:
    """A customer who disputes the bill on the phone is not chased meanwhile: the case pauses
    as when the dispute is reported in the portal (``portal.problem_holds.dispute`` days; 0
    means no pause), unless a dispute hold runs already."""
    from vaarwater.payments.services import portal_policy
    from vaarwater.strategy.models import CaseStatus, HoldKind
    from vaarwater.strategy.services import hold_place

    case = attempt.case
    if case.status == CaseStatus.CLOSED:
        return
    if case.holds.filter(kind=HoldKind.DISPUTE, released_on__isnull=True, until__gte=today):
        return
    days = portal_policy(attempt.debtor, case).problem_holds.dispute
    if days <= 0:
        return
    reason = "klant betwist de rekening (telefoongesprek)" + (f": {note}" if note else "")
    hold_place(
        case=case,
        kind=HoldKind.DISPUTE,
        reason=reason[:500],
        until=today + timedelta(days=days),
        on=today,
        actor=actor,
    )


# -- a payment link while the customer is on the line ------------------------------------------


def payment_link_during_call(*, attempt: CallAttempt, agent, amount_cents: int, channel: str):
    """Make a payment link for the call's case and send it at once on ``channel`` (sms,
    whatsapp, email): the customer asked for it, so the contact rules for reminders do not hold
    it back. Return ``(link, message)``. Raises ``CallNotYours`` as ``call_outcome_record``,
    and ``CallError`` for a finished call, a channel that does not reach the customer (no
    address, opted out) or a wrong amount (``PaymentError``); nothing is made then."""
    if channel not in LINK_CHANNELS:
        raise CallError(_("Choose text message, WhatsApp or email."), field="channel")
    actor = Actor.for_user(agent)
    with transaction.atomic():
        attempt = _attempt_locked(attempt, agent)
        if attempt.ended_at is not None:
            raise CallError(_("This call has ended; send a link from a new call."))
        why_not = link_channels(attempt.debtor)[channel]
        if why_not:
            raise CallError(why_not, field="channel")
        try:
            link = payment_link_create(
                debtor=attempt.debtor,
                amount_cents=amount_cents,
                actor=actor,
                case=attempt.case,
                purpose="call",
            )
            message = payment_link_send(link=link, actor=actor, channel=channel, on_request=True)
        except PaymentError as exc:
            raise CallError(
                exc.message, field="amount" if exc.field in ("amount", "form") else exc.field
            ) from exc
        if message is None:
            raise CallError(
                _("The customer cannot be reached by %(channel)s.")
                % {"channel": Channel(channel).label},
                field="channel",
            )
        attempt.payment_link = link
        attempt.save(update_fields=["payment_link"])
    return link, message
