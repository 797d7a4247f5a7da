"""Best channel and time per debtor, learned from what earlier messages led to.

The model is deliberately simple so that every choice can be explained in one sentence:

- a message *led to a response* when, within ``RESPONSE_WINDOW`` after it was sent, the debtor
  opened their personal link, paid, replied, or answered a call (the first response is
  attributed to the newest message sent before it);
- per channel × time band (morning, afternoon, evening; letters have no time band) the chance
  of a response is a Beta-Bernoulli estimate: a prior from the debtor's segment (or the
  creditor's whole portfolio) worth ``PRIOR_STRENGTH`` messages, updated with the debtor's own
  history: (α₀ + responses) / (α₀ + β₀ + messages);
- the channel and band with the highest estimate win; ties keep the strategy's order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

TZ = ZoneInfo("Europe/Amsterdam")
BANDS = (
    ("morning", "07:00", "12:00"),
    ("afternoon", "12:00", "17:00"),
    ("evening", "17:00", "20:00"),
)
BAND_NAMES = {"morning": "'s ochtends", "afternoon": "'s middags", "evening": "'s avonds", "": ""}
RESPONSE_WINDOW = timedelta(days=3)
PRIOR_STRENGTH = 4  # the segment's rate counts as much as this many of the debtor's own messages
PRIOR_DAYS = 180
# Channel names as the reasons on the timeline say them (Dutch).
CHANNEL_NAMES = {"email": "e-mail", "sms": "sms", "whatsapp": "WhatsApp", "letter": "brief"}
NO_BAND = ""  # letters: no time of day
# Paying debtors whose messages are read and updated at once (one query of each per batch).
ATTRIBUTE_BATCH = 2000


@dataclass
class Tally:
    sent: int = 0
    responded: int = 0

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.responded += other.responded


@dataclass(frozen=True)
class Choice:
    channel: str
    band: str
    start: str  # the band's first allowed clock time, "HH:MM" ("" for letters)
    chance: float
    why: str


def band_of(moment: datetime) -> str:
    """The time band a moment falls in.

    >>> band_of(datetime(2026, 11, 24, 18, 30, tzinfo=TZ))
    'evening'
    """
    clock = moment.astimezone(TZ).strftime("%H:%M")
    for name, start, end in BANDS:
        if start <= clock < end:
            return name
    return "evening" if clock >= "20:00" else "morning"


def _known(now: datetime) -> Q:
    """Messages whose outcome is known: answered, or sent longer ago than the window."""
    return Q(responded_at__isnull=False) | Q(sent_at__lte=now - RESPONSE_WINDOW)


def debtor_history(debtor_ids, *, now: datetime | None = None) -> dict[int, dict]:
    """Per debtor, per (channel, band): how many messages went out and how many got a response."""
    from .models import Message, MessageStatus

    now = now or timezone.now()
    out: dict[int, dict] = defaultdict(lambda: defaultdict(Tally))
    rows = (
        Message.objects.filter(debtor_id__in=list(debtor_ids), sent_at__isnull=False)
        .filter(_known(now))
        .exclude(status__in=(MessageStatus.FAILED, MessageStatus.BOUNCED))
        .values_list("debtor_id", "channel", "sent_at", "responded_at")
    )
    for debtor_id, channel, sent_at, responded_at in rows:
        band = NO_BAND if channel == "letter" else band_of(sent_at)
        tally = out[debtor_id][(channel, band)]
        tally.sent += 1
        tally.responded += responded_at is not None
    return out


# Priors per (creditor, day): computed once per run and process rather than per chunk (they scan
# the creditor's last 180 days of messages). ``priors_forget`` empties it when a run starts; a
# worker's copy lives at most ``PRIORS_TTL`` seconds.
_PRIORS: dict[tuple, tuple[float, dict]] = {}
PRIORS_TTL = 600.0


def priors_forget() -> None:
    """Drop the cached priors (a new run starts, or the data changed underneath)."""
    _PRIORS.clear()


def segment_priors(creditor_id: int, *, on: date, now: datetime | None = None) -> dict:
    """Response tallies per (segment, channel, band) over the creditor's last ``PRIOR_DAYS``,
    and per (None, channel, band) over all segments. Cached per creditor and day."""
    from .models import Message, MessageStatus

    key = (creditor_id, on)
    cached = _PRIORS.get(key)
    if cached is not None and monotonic() - cached[0] < PRIORS_TTL:
        return cached[1]
    now = now or timezone.now()
    since = datetime.combine(on - timedelta(days=PRIOR_DAYS), time.min, TZ)
    rows = (
        Message.objects.filter(creditor_id=creditor_id, sent_at__gte=since)
        .filter(_known(now))
        .exclude(status__in=(MessageStatus.FAILED, MessageStatus.BOUNCED))
        .values_list("case__segment", "channel", "sent_at", "responded_at")
    )
    priors: dict = defaultdict(Tally)
    for segment, channel, sent_at, responded_at in rows.iterator(chunk_size=5000):
        band = NO_BAND if channel == "letter" else band_of(sent_at)
        one = Tally(1, int(responded_at is not None))
        priors[(segment or None, channel, band)].add(one)
        if segment:
            priors[(None, channel, band)].add(one)
    if len(_PRIORS) > 64:
        _PRIORS.clear()
    _PRIORS[key] = (monotonic(), dict(priors))
    return _PRIORS[key][1]


def _bands_within(start: str, end: str):
    for name, b_start, b_end in BANDS:
        lo, hi = max(b_start, start), min(b_end, end)
        if lo < hi:
            yield name, lo


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def choose(
    *,
    history: dict,
    priors: dict,
    segment: str | None,
    reachable: set[str],
    order,
    hours: tuple[str, str] = ("08:00", "20:00"),
    preferred: tuple[str, str] = ("", ""),
) -> Choice | None:
    """Pick the channel and time band with the best estimated response chance.

    ``preferred`` is what the debtor said in the portal (channel, time band; either may be
    empty): a reachable preferred channel and an allowed preferred band are chosen over what
    was learned, and the reason says so.

    >>> h = {("sms", "evening"): Tally(3, 2), ("email", "morning"): Tally(4, 0)}
    >>> c = choose(history=h, priors={}, segment=None, reachable={"email", "sms"},
    ...            order=("email", "sms"))
    >>> (c.channel, c.band, c.start)
    ('sms', 'evening', '17:00')
    >>> print(c.why.replace("; ", ";\\n"))
    beste kanaal: sms 's avonds: 2 van 3 berichten leidden tot een reactie (verwachte kans 56%);
    e-mail 's middags (50%)
    """
    want_channel, want_band = preferred
    if want_channel not in reachable:
        want_channel = ""
    if want_band not in {name for name, _ in _bands_within(*hours)}:
        want_band = ""
    scored = []
    for rank, channel in enumerate(order):
        if channel not in reachable or (want_channel and channel != want_channel):
            continue
        bands = [(NO_BAND, "")] if channel == "letter" else list(_bands_within(*hours))
        if want_band and channel != "letter":
            bands = [(name, start) for name, start in bands if name == want_band]
        for b_rank, (band, start) in enumerate(bands):
            prior = priors.get((segment, channel, band)) or priors.get((None, channel, band))
            p = (prior.responded + 1) / (prior.sent + 2) if prior else 0.5
            alpha, beta = 1 + PRIOR_STRENGTH * p, 1 + PRIOR_STRENGTH * (1 - p)
            own = history.get((channel, band)) or Tally()
            chance = (alpha + own.responded) / (alpha + beta + own.sent)
            scored.append((-chance, rank, b_rank, channel, band, start, own, prior))
    if not scored:
        return None
    scored.sort(key=lambda row: row[:3])
    _, _, _, channel, band, start, own, prior = scored[0]
    chance = -scored[0][0]
    label = f"{CHANNEL_NAMES[channel]}{' ' + BAND_NAMES[band] if band else ''}"
    if want_channel or want_band:
        why = f"voorkeur van de klant (opgegeven in het portaal): {label}"
        return Choice(channel=channel, band=band, start=start, chance=chance, why=why)
    if own.sent:
        basis = f"{own.responded} van {own.sent} berichten leidden tot een reactie"
    elif prior:
        basis = (
            f"nog geen eigen historie; {'segment' if segment else 'alle klanten'}: "
            f"{prior.responded} van {prior.sent} berichten kregen een reactie"
        )
    else:
        basis = "nog geen historie: volgorde van de strategie"
    others = []
    seen = {channel}
    for row in scored[1:]:
        if row[3] in seen:
            continue
        seen.add(row[3])
        o_own = row[6]
        o_label = f"{CHANNEL_NAMES[row[3]]}{' ' + BAND_NAMES[row[4]] if row[4] else ''}"
        detail = f"{o_own.responded} van {o_own.sent} " if o_own.sent else ""
        others.append(f"{o_label} {detail}({_pct(-row[0])})")
    why = f"beste kanaal: {label}: {basis} (verwachte kans {_pct(chance)})"
    if others and (own.sent or prior):
        why += "; " + ", ".join(others)
    return Choice(channel=channel, band=band, start=start, chance=chance, why=why)


def response_record(*, debtor_id: int, kind: str, at: datetime) -> int:
    """Attribute a response to the newest message sent to the debtor in the window before it.

    Returns 1 when a message got it, 0 when none was waiting (or it already had one).
    """
    from .models import Message

    message = (
        Message.objects.filter(
            debtor_id=debtor_id,
            sent_at__isnull=False,
            sent_at__lte=at,
            sent_at__gte=at - RESPONSE_WINDOW,
        )
        .order_by("-sent_at")
        .first()
    )
    if message is None or message.responded_at is not None:
        return 0
    return Message.objects.filter(pk=message.pk, responded_at__isnull=True).update(
        responded_at=at, response_kind=kind
    )


def payments_attribute(*, on: date) -> int:
    """Count the payments booked on ``on`` as responses to the messages before them: the newest
    message sent to each paying debtor in the window gets the response, unless it has one.

    Set-based: one read of the candidate messages and one update per batch of debtors.
    """
    from vaarwater.ledger.models import EntryKind, LedgerEntry

    from .models import Message

    moment = datetime.combine(on, time(23, 59), TZ)
    debtors = list(
        LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, booked_on=on)
        .values_list("debtor_id", flat=True)
        .distinct()
    )
    answered = 0
    for start in range(0, len(debtors), ATTRIBUTE_BATCH):
        newest: dict[int, tuple[int, bool]] = {}
        rows = (
            Message.objects.filter(
                debtor_id__in=debtors[start : start + ATTRIBUTE_BATCH],
                sent_at__isnull=False,
                sent_at__lte=moment,
                sent_at__gte=moment - RESPONSE_WINDOW,
            )
            .order_by("debtor_id", "-sent_at", "-pk")
            .values_list("debtor_id", "pk", "responded_at")
        )
        for debtor_id, pk, responded_at in rows:
            newest.setdefault(debtor_id, (pk, responded_at is None))
        waiting = [pk for pk, open_ in newest.values() if open_]
        answered += Message.objects.filter(pk__in=waiting, responded_at__isnull=True).update(
            responded_at=moment, response_kind="payment"
        )
    return answered
