"""The outbox: send one message by id, idempotently, and record what the providers report.

A message moves queued → sending → sent → delivered / read, or to failed / bounced. Sending
happens in three steps so that a crash or a retry never sends twice:

1. claim: in a transaction the row is locked, the send-time rules are checked again (quiet
   hours, Sundays, holidays, caps, opt-out, a valid address), the text is rendered and stored,
   and the row becomes ``sending`` with ``claimed_at``; this commits *before* the provider call;
2. hand over: the adapter is called outside any transaction;
3. record: the answer (``sent`` with the provider's id, a retry with back-off, or a failure) is
   written in a new transaction.

A sender that dies between 2 and 3 leaves the row in ``sending``. ``outbox_recover`` asks the
provider whether it has the message (``Adapter.lookup``): found → ``sent``; not found → queued
again; the provider cannot tell (SMTP, WhatsApp) → ``failed`` with the reason, never resent.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from vaarwater.core.events import Actor, event_record
from vaarwater.law.calendar import add_business_days, is_business_day, is_public_holiday
from vaarwater.ledger.models import ContactKind, ContactPoint, Debtor

from .learning import CHANNEL_NAMES
from .models import (
    TRANSITIONS,
    CallTask,
    Channel,
    DeliveryEvent,
    InboundMessage,
    Message,
    MessageStatus,
    OptOut,
)
from .providers.base import Adapter, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)
TZ = ZoneInfo("Europe/Amsterdam")

# A row in ``sending`` this long was interrupted (a provider call times out well before it).
SEND_LEASE = timedelta(minutes=10)
# Tries before a message is given up; the waits between them grow (minutes).
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
# Messages handed to the senders per dispatch; one dispatch reads this many ids at once.
DISPATCH_BATCH = 500
# A hard bounce or unknown number hands the message to the next channel in this order when the
# strategy gives none; written messages (letters, emails) stay written.
DEFAULT_ORDER = ("email", "sms", "whatsapp", "letter")
WRITTEN = ("letter", "email")
STATUS_NAMES = {
    "queued": "klaargezet",
    "sending": "wordt verstuurd",
    "sent": "verstuurd",
    "delivered": "afgeleverd",
    "read": "gelezen",
    "failed": "mislukt",
    "bounced": "onbestelbaar",
    "cancelled": "geannuleerd",
}
# Messages that answer the debtor's own action (a receipt after paying, a code they asked for, the
# confirmation of what they reported) leave at once: no quiet hours and no caps, because the
# debtor is waiting for them. ``verify`` goes to the address the debtor typed (``context["to"]``),
# so it also ignores opt-outs of the stored address.
TRANSACTIONAL = ("receipt", "verify", "confirmation")
STOP_WORDS = {"stop", "stoppen", "afmelden", "uitschrijven", "unsubscribe", "stop all", "end"}

ADAPTERS = {
    "email": "vaarwater.contact.providers.email.EmailAdapter",
    "sms": "vaarwater.contact.providers.twilio_sms.client.TwilioSmsAdapter",
    "whatsapp": "vaarwater.contact.providers.whatsapp.client.WhatsAppAdapter",
    "letter": "vaarwater.contact.letters.adapter.LetterAdapter",
}


class OutboxError(Exception):
    """An illegal status change or an unusable message."""


# When an agent follows up a request from the portal: office hours on the next business day.
FOLLOW_UP_HOURS = (time(9, 0), time(17, 0))


def follow_up_window(on: date) -> tuple[datetime, datetime]:
    """09:00-17:00 Dutch time on the business day after ``on``."""
    day = add_business_days(on, 1)
    return (
        datetime.combine(day, FOLLOW_UP_HOURS[0], TZ),
        datetime.combine(day, FOLLOW_UP_HOURS[1], TZ),
    )


def call_task_create(
    *,
    debtor: Debtor,
    case,
    kind: str,
    priority: int,
    start: datetime,
    end: datetime,
    reason: str,
    key: str,
    actor: Actor,
    event_reason: str = "",
) -> tuple[CallTask, bool]:
    """Create a task for an agent once per ``key``; return it and whether it is new. A new task
    is a ``call_task.created`` event with the reason (or ``event_reason``)."""
    task, created = CallTask.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "creditor_id": debtor.creditor_id,
            "debtor": debtor,
            "case": case,
            "window_start": start,
            "window_end": end,
            "priority": priority,
            "kind": kind,
            "reason": reason,
        },
    )
    if created:
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="call_task.created",
            actor=actor,
            subject=task,
            reason=event_reason or reason,
            data={"kind": kind, "priority": priority, "case": case.pk if case else None},
        )
    return task, created


def preferred_channel(debtor: Debtor, *, written: bool = False) -> str | None:
    """The channel a one-off message to the debtor takes: their stated preference when it is
    reachable, else the first reachable channel (``written``: email or letter only)."""
    reachable = reachable_channels(debtor)
    order = [c for c in DEFAULT_ORDER if not written or c in WRITTEN]
    preferred = debtor.preferred_channel
    if preferred in reachable and preferred in order:
        return preferred
    return next((c for c in order if c in reachable), None)


def message_queue(
    *,
    debtor: Debtor,
    template: str,
    purpose: str,
    key: str,
    case=None,
    channel: str | None = None,
    context: dict | None = None,
    not_before: datetime | None = None,
    why: str = "",
    to: str = "",
    actor: Actor | None = None,
) -> Message | None:
    """Queue one message outside the daily run (a receipt, a code, a reminder); send it after
    commit when it may leave now. ``key`` makes it happen once: the same key returns the row
    already queued. Without a ``channel`` the debtor's preferred reachable one is used; None
    when the debtor cannot be reached at all. ``to`` sends a ``verify`` message to an address
    that is not (yet) a contact point."""
    if purpose == "verify" and not to:
        raise OutboxError("a verification message needs the address it goes to")
    channel = channel or preferred_channel(debtor)
    if channel is None:
        return None
    idempotency_key = f"{purpose}-{key}"
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    body = dict(context or {})
    if case is not None:
        body.setdefault("case", case.reference)
    if to:
        body["to"] = to
    try:
        with transaction.atomic():
            message = Message.objects.create(
                creditor_id=debtor.creditor_id,
                debtor=debtor,
                case=case,
                channel=channel,
                template=template,
                language=debtor.language or "nl",
                purpose=purpose,
                not_before=not_before or now,
                idempotency_key=idempotency_key,
                context=body,
                why=why,
            )
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="message.queued",
                actor=actor or Actor.system(),
                subject=message,
                reason=why or f"{template} via {CHANNEL_NAMES.get(channel, channel)}",
                data={"channel": channel, "template": template, "purpose": purpose},
            )
    except IntegrityError:  # the same key queued at the same moment (a double click)
        return Message.objects.get(idempotency_key=idempotency_key)
    if message.not_before <= now:
        transaction.on_commit(lambda: _send_soon(message.pk))
    return message


def _send_soon(message_id: int) -> None:
    from .tasks import send_message

    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            message_send(message_id=message_id)
        except Exception:  # the outbox retries it; the debtor's action has succeeded
            log.exception("sending message %s right away failed", message_id)
    else:
        send_message.delay(message_id=message_id)


def adapter_for(channel: str) -> Adapter:
    """The adapter that sends this channel (settings ``CONTACT_ADAPTERS`` may replace one)."""
    path = {**ADAPTERS, **getattr(settings, "CONTACT_ADAPTERS", {})}[channel]
    return import_string(path)()


# -- rules at send time --------------------------------------------------------------------


def contact_settings(message: Message):
    """The contact rules for a message: its case's strategy version, else the creditor's."""
    if message.case_id:
        return message.case.strategy_version.parsed().settings
    from vaarwater.strategy.documents import current_version

    return current_version(message.creditor, timezone.localdate()).parsed().settings


def _clock(text: str) -> time:
    hh, mm = map(int, text.split(":"))
    return time(hh, mm)


def _allowed_day(day: date, channel: str) -> bool:
    if channel == Channel.LETTER:
        return is_business_day(day)  # the print house posts on business days
    return day.weekday() != 6 and not is_public_holiday(day)


def next_allowed_moment(moment: datetime, *, channel: str, start: str, end: str) -> datetime:
    """The first moment at or after ``moment`` at which this channel may reach a debtor.

    >>> from datetime import datetime
    >>> tz = ZoneInfo("Europe/Amsterdam")
    >>> next_allowed_moment(datetime(2026, 11, 24, 20, 1, tzinfo=tz), channel="sms",
    ...                     start="08:00", end="20:00").isoformat()
    '2026-11-25T08:00:00+01:00'
    >>> next_allowed_moment(datetime(2026, 12, 24, 21, 0, tzinfo=tz), channel="sms",
    ...                     start="08:00", end="20:00").isoformat()  # Christmas, Boxing Day, Sunday
    '2026-12-28T08:00:00+01:00'
    """
    local = moment.astimezone(TZ)
    opens, closes = _clock(start), _clock(end)
    day = local.date()
    if local.time() >= closes:
        day += timedelta(days=1)
    elif local.time() < opens:
        pass
    elif _allowed_day(day, channel):
        return local
    while not _allowed_day(day, channel):
        day += timedelta(days=1)
    return datetime.combine(day, opens, TZ)


def _sent_since(debtor_id: int, since: datetime, exclude: int) -> int:
    return (
        Message.objects.filter(debtor_id=debtor_id, sent_at__gte=since)
        .exclude(pk=exclude)
        .exclude(status__in=(MessageStatus.FAILED, MessageStatus.BOUNCED))
        .count()
    )


def send_rules_check(message: Message, now: datetime) -> tuple[datetime, str] | None:
    """None when the message may leave now; else (the next allowed moment, why not now)."""
    rules = contact_settings(message)
    hours = rules.contact_hours
    moment = next_allowed_moment(now, channel=message.channel, start=hours.start, end=hours.end)
    if moment > now:
        local = now.astimezone(TZ)
        if message.channel == Channel.LETTER and not is_business_day(local.date()):
            why = "geen postbezorging vandaag"
        elif local.weekday() == 6 or is_public_holiday(local.date()):
            why = "geen contact op zondag of een feestdag"
        else:
            why = f"buiten de contacttijden {hours.start}-{hours.end}"
        return moment, why
    if message.channel == Channel.LETTER:
        return None  # a letter leaves with the day's print batch; caps were applied at planning
    local = now.astimezone(TZ)
    day_start = datetime.combine(local.date(), time.min, TZ)
    caps = rules.contact_caps
    today = _sent_since(message.debtor_id, day_start, message.pk)
    week = _sent_since(message.debtor_id, day_start - timedelta(days=6), message.pk)
    if today >= caps.per_day:
        why = f"al {today} bericht(en) vandaag verstuurd (maximum {caps.per_day} per dag)"
    elif week >= caps.per_week:
        why = f"al {week} berichten in 7 dagen (maximum {caps.per_week} per week)"
    else:
        return None
    tomorrow = day_start + timedelta(days=1)
    nxt = next_allowed_moment(tomorrow, channel=message.channel, start=hours.start, end=hours.end)
    return nxt, why


# -- where a channel reaches a debtor ------------------------------------------------------


def opted_out(debtor_id: int) -> set[str]:
    """The channels a debtor opted out of (live opt-outs only)."""
    return set(
        OptOut.objects.filter(debtor_id=debtor_id, ended_at__isnull=True).values_list(
            "channel", flat=True
        )
    )


def channel_address(debtor: Debtor, channel: str) -> str | None:
    """The address a channel uses for a debtor (newest valid contact point), or None."""
    if channel == Channel.LETTER:
        if debtor.street and debtor.postcode and debtor.city:
            return f"{debtor.street} {debtor.house_number}, {debtor.postcode} {debtor.city}".strip()
        return None
    kind = {
        Channel.EMAIL: ContactKind.EMAIL,
        Channel.SMS: ContactKind.PHONE,
        Channel.WHATSAPP: ContactKind.WHATSAPP,
    }[channel]
    points = ContactPoint.objects.filter(
        debtor=debtor, kind=kind, invalid_since__isnull=True
    ).order_by("-verified_at", "-created_at")
    for point in points:
        if channel == Channel.SMS and not point.value.startswith("+316"):
            continue  # SMS only to Dutch mobile numbers
        return point.value
    return None


def reachable_channels(debtor: Debtor) -> set[str]:
    """Channels with a valid address that the debtor did not opt out of."""
    blocked = opted_out(debtor.pk)
    return {
        channel
        for channel in DEFAULT_ORDER
        if channel not in blocked and channel_address(debtor, channel) is not None
    }


# -- status changes ------------------------------------------------------------------------


def message_transition(
    *,
    message: Message,
    to: str,
    source: str,
    at: datetime,
    detail: str = "",
    data: dict | None = None,
    provider_event_id: str = "",
    actor: Actor | None = None,
) -> DeliveryEvent:
    """Move a message to a new status with its history row and event. Call in a transaction."""
    if to not in TRANSITIONS[message.status]:
        raise OutboxError(f"message {message.pk}: {message.status} → {to} is not allowed")
    message.status = to
    fields = ["status", "updated_at"]
    stamp = {
        MessageStatus.SENT: "sent_at",
        MessageStatus.DELIVERED: "delivered_at",
        MessageStatus.READ: "read_at",
    }.get(to)
    if stamp and getattr(message, stamp) is None:
        setattr(message, stamp, at)
        fields.append(stamp)
    if to in (MessageStatus.DELIVERED, MessageStatus.READ) and message.sent_at is None:
        message.sent_at = at
        fields.append("sent_at")
    if to in (MessageStatus.FAILED, MessageStatus.BOUNCED) and detail:
        message.error = detail
        fields.append("error")
    message.save(update_fields=fields)
    row = DeliveryEvent.objects.create(
        message=message,
        status=to,
        source=source,
        provider_event_id=provider_event_id,
        detail=detail,
        data=data or {},
        at=at,
    )
    event_record(
        creditor=message.creditor_id,
        debtor=message.debtor_id,
        verb=f"message.{to}",
        actor=actor or Actor.system(source),
        subject=message,
        reason=_reason(message, to, detail),
        data={"channel": message.channel, "template": message.template, **(data or {})},
    )
    return row


def _reason(message: Message, status: str, detail: str) -> str:
    text = f"{CHANNEL_NAMES.get(message.channel, message.channel)} '{message.template}' "
    text += STATUS_NAMES.get(status, status)
    return f"{text}: {detail}" if detail else text


# -- sending ---------------------------------------------------------------------------------


def message_render(*, message: Message, now: datetime | None = None) -> None:
    """Fix what a message says and where it goes; a rendered message keeps its text."""
    if message.rendered_at is not None:
        return
    from .rendering import message_content

    content = message_content(message=message, now=now)
    message.subject = content.subject[:200]
    message.body_text = content.text
    message.body_html = content.html
    for key in ("portal_url", "payment_url", "unsubscribe_url"):
        value = getattr(content, key, None)
        if value:
            message.context[key] = value
    message.rendered_at = now or timezone.now()


def _unsubscribe_url(message: Message) -> str:
    from django.core import signing

    token = signing.dumps(message.pk, salt="vaarwater.unsubscribe")
    return f"{settings.PUBLIC_URL.rstrip('/')}/u/{token}/"


def message_send(*, message_id: int, now: datetime | None = None) -> str:
    """Send one queued message if it may leave now; return what happened, in a few words.

    Safe to call twice, concurrently or after a crash: only the caller that claims the row
    (queued → sending) hands it to the provider.
    """
    now = now or timezone.now()
    claimed = _claim(message_id, now)
    if isinstance(claimed, str):
        return claimed
    message = claimed
    adapter = adapter_for(message.channel)
    started = monotonic()
    try:
        result = adapter.send(message)
    except TemporaryFailure as exc:
        return _record_temporary(message.pk, str(exc) or exc.__class__.__name__, now)
    except PermanentFailure as exc:
        return _record_permanent(message.pk, exc, now)
    except Exception as exc:  # a bug or an unexpected library error: try again later
        log.exception("sending message %s failed", message.pk)
        return _record_temporary(message.pk, f"{exc.__class__.__name__}: {exc}", now)
    # ``now`` may be a simulated moment (the demo, tests): the answer came this much later.
    answered = now + timedelta(seconds=monotonic() - started)
    return _record_sent(message.pk, result.provider_id, result.detail, answered)


def _claim(message_id: int, now: datetime) -> Message | str:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("debtor", "case__strategy_version", "creditor")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "unknown message"
        if message.status != MessageStatus.QUEUED:
            return f"not queued ({message.status})"
        if message.not_before > now:
            return "not yet"
        if (
            message.case_id is not None
            and message.case.status == "closed"
            and message.purpose not in TRANSACTIONAL
        ):
            # Paid (or otherwise closed) since it was planned: a reminder now would be wrong.
            message_transition(
                message=message,
                to=MessageStatus.CANCELLED,
                source="outbox",
                at=now,
                detail="dossier gesloten voordat het bericht weg kon",
            )
            return "case closed"
        verify = message.purpose == "verify"
        if not verify and message.channel in opted_out(message.debtor_id):
            _fall_back(message, now, f"afgemeld voor {CHANNEL_NAMES[message.channel]}")
            return "opted out"
        if verify:
            address = (message.context or {}).get("to") or None
        else:
            address = channel_address(message.debtor, message.channel)
        if address is None:
            _fall_back(message, now, f"geen geldig adres voor {CHANNEL_NAMES[message.channel]}")
            return "no address"
        transactional = message.purpose in TRANSACTIONAL
        wait = None if transactional else send_rules_check(message, now)
        if wait is not None:
            moment, why = wait
            message.not_before = moment
            message.save(update_fields=["not_before", "updated_at"])
            event_record(
                creditor=message.creditor_id,
                debtor=message.debtor_id,
                verb="message.deferred",
                actor=Actor.system("outbox"),
                subject=message,
                reason=f"wacht tot {moment.astimezone(TZ):%d-%m-%Y %H:%M}: {why}",
            )
            return "deferred"
        message.recipient = address
        if message.channel == Channel.EMAIL and "unsubscribe_url" not in message.context:
            message.context["unsubscribe_url"] = _unsubscribe_url(message)
        message_render(message=message, now=now)
        message.attempts += 1
        message.claimed_at = now
        message.provider = adapter_for(message.channel).name
        message.save()
        message_transition(
            message=message,
            to=MessageStatus.SENDING,
            source="outbox",
            at=now,
            detail=f"poging {message.attempts} naar {address}",
        )
    return message


def _locked(message_id: int) -> Message:
    return (
        Message.objects.select_for_update(of=("self",)).select_related("debtor").get(pk=message_id)
    )


def _record_sent(message_id: int, provider_id: str, detail: str, at: datetime) -> str:
    with transaction.atomic():
        message = _locked(message_id)
        message.provider_id = provider_id
        message.error = ""
        message.save(update_fields=["provider_id", "error", "updated_at"])
        if message.status == MessageStatus.SENDING:
            message_transition(
                message=message,
                to=MessageStatus.SENT,
                source="outbox",
                at=at,
                detail=detail,
                data={"provider_id": provider_id},
            )
        elif message.sent_at is None:  # a fast webhook already moved it on
            Message.objects.filter(pk=message.pk).update(sent_at=at)
    return "sent"


def _record_temporary(message_id: int, reason: str, now: datetime) -> str:
    with transaction.atomic():
        message = _locked(message_id)
        if message.status != MessageStatus.SENDING:
            return f"not sending ({message.status})"
        if message.attempts >= MAX_ATTEMPTS:
            message_transition(
                message=message,
                to=MessageStatus.FAILED,
                source="outbox",
                at=now,
                detail=f"opgegeven na {message.attempts} pogingen: {reason}",
            )
            return "failed"
        wait = timedelta(minutes=BACKOFF_MINUTES[message.attempts - 1])
        message.error = reason
        message.not_before = now + wait
        message.save(update_fields=["error", "not_before", "updated_at"])
        message_transition(
            message=message,
            to=MessageStatus.QUEUED,
            source="outbox",
            at=now,
            detail=f"tijdelijke fout, nieuwe poging over {int(wait.total_seconds() // 60)} min: "
            f"{reason}",
        )
    return "retry"


def _record_permanent(message_id: int, exc: PermanentFailure, now: datetime) -> str:
    with transaction.atomic():
        message = _locked(message_id)
        if message.status not in (MessageStatus.SENDING, MessageStatus.SENT):
            return f"not sending ({message.status})"
        to = MessageStatus.BOUNCED if exc.bounced else MessageStatus.FAILED
        message_transition(message=message, to=to, source="outbox", at=now, detail=exc.reason)
        if exc.contact_invalid:
            contact_invalidate(message=message, at=now, reason=exc.reason)
            _fall_back(message, now, exc.reason, cancel=False)
    return to


def contact_invalidate(*, message: Message, at: datetime, reason: str) -> int:
    """Mark the contact point a message went to as invalid; return how many were marked."""
    kind = {
        Channel.EMAIL: ContactKind.EMAIL,
        Channel.SMS: ContactKind.PHONE,
        Channel.WHATSAPP: ContactKind.WHATSAPP,
    }.get(message.channel)
    if kind is None or not message.recipient:
        return 0
    marked = ContactPoint.objects.filter(
        debtor_id=message.debtor_id, kind=kind, value=message.recipient, invalid_since__isnull=True
    ).update(invalid_since=at)
    if marked:
        event_record(
            creditor=message.creditor_id,
            debtor=message.debtor_id,
            verb="contact.invalid",
            actor=Actor.system("outbox"),
            subject=message,
            reason=f"{message.recipient} ongeldig: {reason}",
            data={"kind": kind, "value": message.recipient},
        )
    return marked


def _fall_back(message: Message, now: datetime, why: str, *, cancel: bool = True) -> Message | None:
    """Hand a message that cannot go out on its channel to the next reachable one."""
    if cancel:
        message_transition(
            message=message, to=MessageStatus.CANCELLED, source="outbox", at=now, detail=why
        )
    try:
        order = contact_settings(message).best_channel_order
    except Exception:  # no strategy yet: the default order
        order = DEFAULT_ORDER
    # A code belongs to the address it was asked for: it never moves to another channel.
    reachable = set() if message.purpose == "verify" else reachable_channels(message.debtor)
    root = _root_key(message)
    tried = set(
        Message.objects.filter(
            Q(idempotency_key=root) | Q(idempotency_key__startswith=f"{root}~")
        ).values_list("channel", flat=True)
    )
    candidates = [c for c in order if c in WRITTEN] if message.channel in WRITTEN else order
    nxt = next((c for c in candidates if c in reachable and c not in tried), None)
    if nxt is None:
        event_record(
            creditor=message.creditor_id,
            debtor=message.debtor_id,
            verb="message.no_fallback",
            actor=Actor.system("outbox"),
            subject=message,
            reason=f"{why}; geen ander kanaal bereikbaar",
        )
        return None
    context = {k: v for k, v in message.context.items() if k not in ("unsubscribe_url",)}
    try:
        with transaction.atomic():
            fallback = Message.objects.create(
                creditor_id=message.creditor_id,
                debtor_id=message.debtor_id,
                case_id=message.case_id,
                channel=nxt,
                template=message.template,
                language=message.language,
                purpose=message.purpose,
                not_before=now,
                idempotency_key=f"{_root_key(message)}~{nxt}",
                context=context,
                fallback_of=message,
                why=f"{why}, daarom {CHANNEL_NAMES[nxt]}",
            )
    except IntegrityError:
        return None  # the fallback already exists
    event_record(
        creditor=message.creditor_id,
        debtor=message.debtor_id,
        verb="message.fallback",
        actor=Actor.system("outbox"),
        subject=fallback,
        reason=f"{CHANNEL_NAMES[message.channel]}: {why}; daarom {CHANNEL_NAMES[nxt]}",
        data={"from": message.channel, "to": nxt, "message": message.pk},
    )
    # The dispatcher (each minute) sends it, at the caller's moment, not the wall clock's.
    return fallback


def _root_key(message: Message) -> str:
    return message.idempotency_key.split("~", 1)[0]


# -- recovery and dispatch -----------------------------------------------------------------


def message_recover(*, message_id: int, now: datetime | None = None) -> str:
    """Settle a message whose sender died mid-send, without ever sending it twice."""
    now = now or timezone.now()
    with transaction.atomic():
        message = _locked(message_id)
        if message.status != MessageStatus.SENDING or message.claimed_at > now - SEND_LEASE:
            return "not stale"
    adapter = adapter_for(message.channel)
    try:
        found = adapter.lookup(message) if adapter.can_lookup else None
    except TemporaryFailure:
        return "lookup failed, later"
    with transaction.atomic():
        message = _locked(message_id)
        if message.status != MessageStatus.SENDING:
            return f"settled meanwhile ({message.status})"
        if found:
            message.provider_id = found
            message.save(update_fields=["provider_id", "updated_at"])
            message_transition(
                message=message,
                to=MessageStatus.SENT,
                source="outbox",
                at=now,
                detail="na een onderbreking bij de aanbieder teruggevonden; niet opnieuw verstuurd",
                data={"provider_id": found},
            )
            return "found"
        if found == "":
            message.not_before = now
            message.save(update_fields=["not_before", "updated_at"])
            message_transition(
                message=message,
                to=MessageStatus.QUEUED,
                source="outbox",
                at=now,
                detail="verzending onderbroken; de aanbieder heeft het bericht niet: opnieuw",
            )
            return "requeued"
        message_transition(
            message=message,
            to=MessageStatus.FAILED,
            source="outbox",
            at=now,
            detail="verzending onderbroken en de aanbieder kan niet zeggen of het bericht "
            "aankwam; niet opnieuw verstuurd om dubbel versturen te voorkomen",
        )
        return "failed"


def outbox_dispatch(*, now: datetime | None = None, limit: int = DISPATCH_BATCH) -> dict:
    """Recover interrupted messages and hand every due one to a sender; return the counts."""
    from .tasks import send_message

    now = now or timezone.now()
    counts = {"recovered": 0, "dispatched": 0}
    stale = Message.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - SEND_LEASE
    ).values_list("pk", flat=True)[:limit]
    for pk in list(stale):
        message_recover(message_id=pk, now=now)
        counts["recovered"] += 1
    due = list(
        Message.objects.filter(status=MessageStatus.QUEUED, not_before__lte=now)
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            message_send(message_id=pk, now=now)
        else:
            send_message.delay(message_id=pk)
        counts["dispatched"] += 1
    return counts


# -- what providers and debtors tell us ------------------------------------------------------


def message_by_provider_id(*, provider: str, provider_id: str) -> Message | None:
    """The message a provider's reference belongs to."""
    if not provider_id:
        return None
    return Message.objects.filter(provider=provider, provider_id=provider_id).first()


def delivery_record(
    *,
    message: Message,
    status: str,
    source: str,
    at: datetime,
    provider_event_id: str = "",
    detail: str = "",
    data: dict | None = None,
    contact_invalid: bool = False,
) -> bool:
    """Record a provider's report on a message; False when it was already recorded (a replay).

    A report that comes out of order (delivered after read) is kept in the history but does not
    move the status back. A failure with ``contact_invalid`` marks the address invalid and hands
    the message to the next channel.
    """
    with transaction.atomic():
        message = _locked(message.pk)
        if (
            provider_event_id
            and DeliveryEvent.objects.filter(
                source=source, provider_event_id=provider_event_id
            ).exists()
        ):
            return False
        if status in TRANSITIONS.get(message.status, set()):
            message_transition(
                message=message,
                to=status,
                source=source,
                at=at,
                detail=detail,
                data=data,
                provider_event_id=provider_event_id,
            )
        else:
            DeliveryEvent.objects.create(
                message=message,
                status=status,
                source=source,
                provider_event_id=provider_event_id,
                at=at,
                detail=(detail + " " if detail else "")
                + f"(bericht is al {STATUS_NAMES.get(message.status, message.status)})",
                data=data or {},
            )
            return True
        if status in (MessageStatus.FAILED, MessageStatus.BOUNCED) and contact_invalid:
            contact_invalidate(message=message, at=at, reason=detail or status)
            _fall_back(message, at, detail or STATUS_NAMES[status], cancel=False)
    return True


def opt_out_record(
    *,
    debtor: Debtor,
    channel: str,
    source: str,
    reason: str = "",
    at: datetime | None = None,
    actor: Actor | None = None,
) -> OptOut:
    """Record that a debtor wants no more messages on a channel; queued ones are cancelled."""
    at = at or timezone.now()
    with transaction.atomic():
        existing = OptOut.objects.filter(
            debtor=debtor, channel=channel, ended_at__isnull=True
        ).first()
        if existing:
            return existing
        row = OptOut.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            channel=channel,
            source=source,
            reason=reason,
            since=at,
        )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="contact.opt_out",
            actor=actor or Actor(kind="debtor", label=source),
            subject=row,
            reason=f"afgemeld voor {CHANNEL_NAMES.get(channel, channel)} ({source})"
            + (f": {reason}" if reason else ""),
            data={"channel": channel},
        )
        for queued in Message.objects.select_for_update(of=("self",)).filter(
            debtor=debtor, channel=channel, status=MessageStatus.QUEUED
        ):
            _fall_back(queued, at, f"afgemeld voor {CHANNEL_NAMES.get(channel, channel)}")
    return row


def inbound_record(
    *, channel: str, sender: str, body: str, provider_id: str, received_at: datetime
) -> InboundMessage | None:
    """Record a reply from a debtor once; a STOP word opts them out of that channel.

    The debtor is the one the newest message to this number went to, else the one whose contact
    point has it. Returns None for a replay.
    """
    last = (
        Message.objects.filter(recipient=sender, channel=channel, sent_at__isnull=False)
        .select_related("debtor")
        .order_by("-sent_at")
        .first()
    )
    debtor = last.debtor if last else None
    if debtor is None:
        point = (
            ContactPoint.objects.filter(value=sender)
            .select_related("debtor")
            .order_by("-created_at")
            .first()
        )
        debtor = point.debtor if point else None
    with transaction.atomic():
        if InboundMessage.objects.filter(channel=channel, provider_id=provider_id).exists():
            return None
        row = InboundMessage.objects.create(
            creditor_id=debtor.creditor_id if debtor else None,
            debtor=debtor,
            channel=channel,
            sender=sender,
            body=body[:5000],
            provider_id=provider_id,
            in_reply_to=last,
            received_at=received_at,
        )
        if debtor is None:
            log.warning("reply from unknown sender on %s", channel)
            return row
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="message.replied",
            actor=Actor(kind="debtor", label=sender),
            subject=row,
            reason=f"antwoord via {CHANNEL_NAMES.get(channel, channel)}: {body[:200]}",
            data={"channel": channel},
        )
        if body.strip().lower().rstrip(".!") in STOP_WORDS:
            opt_out_record(
                debtor=debtor,
                channel=channel,
                source=f"{channel}-stop",
                reason=f"antwoordde '{body.strip()[:20]}'",
                at=received_at,
            )
        elif last is not None:
            from .learning import response_record

            response_record(debtor_id=debtor.pk, kind="reply", at=received_at)
    return row
