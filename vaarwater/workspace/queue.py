"""The call queue: which customer an agent should call next, and why (issue 7, part 2).

**Who is in the queue.** The open call tasks (``contact.CallTask``) of the creditors the agent
may see that may be called *now*:

- the window has started (``window_start <= now``). A task keeps its place after its first
  day's window ends: it is carried over until it is done, cancelled or its attempts are used up;
- nobody else has it open: a claim (``claimed_by``/``claimed_at``) lapses after
  ``CLAIM_MINUTES``, and no other task of the same customer is claimed (a colleague is on the
  phone with them);
- it is given to nobody, or to this agent (``assigned_to``): a task assigned to a colleague is
  not offered;
- its own spread has passed (``next_attempt_at``), the customer's last call is long enough ago
  (``calls.min_hours_between``, and not again in the same part of the day after no answer), and
  the customer had fewer than ``calls.max_attempts_per_week`` calls in the last 7 days; a task
  whose ``calls.max_attempts`` are used up is not offered;
- now is an allowed moment for contact: the strategy's contact hours (never outside
  07:00-20:00), no Sunday, no public holiday (``contact.services.next_allowed_moment`` with the
  rules of the case's strategy version, else the creditor's current version);
- the customer has a valid phone number;
- the case is not closed and no hold forbids the call. What we chose, kept simple:

  - a *deceased* hold stops every call;
  - dispute, debt help, breathing space (adempauze), deferral to payday, review of a reported
    problem and a manual pause stop the strategy's calls (``kind == strategy``). A request the
    customer made themselves (a portal callback, problem or chat question) is still answered:
    the portal pauses the case *and* asks for that call when the customer reports a dispute or
    asks for breathing space, and the call is how the agent handles it, not collection pressure;
  - an active payment plan (``arrangement`` hold) stops the strategy's calls unless an
    instalment was missed in the last ``RECENT_DAYS``;
  - a promise to pay (``promise`` hold) does not stop calls.

Only the ``CANDIDATES`` best tasks by kind, priority and window are looked at (a large
portfolio has far more open tasks than an agent can call in a day); a task beyond them waits
until the ones above it are done. One customer appears once, with their most urgent task; the
others are mentioned in its reasons.

**Order, best first.**

1. Urgency tier. Tier 3: a request from the portal (callback, problem, chat question) or a
   task assigned to this agent (their own callback, a supervisor's reassignment). Tier 2: a
   legal deadline within ``DEADLINE_DAYS`` (the 14-day letter's term ends), a promise to pay
   broken or an instalment missed in the last ``RECENT_DAYS``. Tier 1: the rest.
2. Within a tier, the expected value of calling now: the open balance (ledger position) × the
   chance that a call reaches the customer (``call_chance``) × the best-time factor (1.0 when
   now falls in the customer's best part of the day or none is known, ``OFF_BAND_FACTOR``
   otherwise).
3. Ties: the task's priority (higher first), the oldest window start, the task id.

The best part of the day is, in this order: the part of the day a portal callback was asked
for, the customer's stated preference (``Debtor.preferred_time``), the part of the day with the
most calls that reached them, the part of the day of their last reply to a message or visit to
the portal.

Building the queue takes a fixed number of queries (about fifteen) whatever the number of
tasks: everything per customer is read for all candidates at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case as Switch
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext, override
from django.utils.translation import gettext as _

from vaarwater.arrangements.models import Instalment, InstalmentStatus, Promise, PromiseStatus
from vaarwater.contact.learning import BANDS, TZ, band_of
from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus, Message
from vaarwater.contact.rendering import format_day
from vaarwater.contact.services import next_allowed_moment
from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import ContactKind, ContactPoint, Creditor
from vaarwater.ledger.selectors import open_positions
from vaarwater.portal.models import AccessToken
from vaarwater.strategy.documents import version_strategy
from vaarwater.strategy.models import CaseStatus, Hold, HoldKind, LegalNotice, StrategyVersion
from vaarwater.strategy.schema import Settings

from .models import CallAttempt, CallOutcome

# A claimed task whose agent did nothing for this long returns to the queue.
CLAIM_MINUTES = 30
# Open tasks looked at per queue: the best by kind, priority and window. Each one costs a few
# rows in the fixed set of queries; 500 is more than a team calls in a day.
CANDIDATES = 500
# A 14-day letter whose term ends within this many days makes the call urgent.
DEADLINE_DAYS = 3
# A broken promise or missed instalment makes the call urgent this many days.
RECENT_DAYS = 14
# The chance of reaching a customer: the creditor's calls of this many days are the prior,
# worth PRIOR_STRENGTH of the customer's own calls; without calls the prior is DEFAULT_CHANCE.
PRIOR_DAYS = 180
PRIOR_STRENGTH = 4
DEFAULT_CHANCE = 0.3
# A wrong number counts as this many unanswered calls.
WRONG_NUMBER_WEIGHT = 3
# Calling outside the customer's best part of the day is worth this share.
OFF_BAND_FACTOR = 0.6
WEEK = timedelta(days=7)

TIER_PORTAL, TIER_URGENT, TIER_REST = 3, 2, 1
TIER_NAMES = {
    TIER_PORTAL: gettext_lazy("request or own callback"),
    TIER_URGENT: gettext_lazy("urgent"),
    TIER_REST: gettext_lazy("regular"),
}
BAND_WORDS = {
    "morning": gettext_lazy("in the morning"),
    "afternoon": gettext_lazy("in the afternoon"),
    "evening": gettext_lazy("in the evening"),
}
BAND_NAMES = tuple(name for name, _start, _end in BANDS)
KIND_WORDS = {
    CallTaskKind.CALLBACK: gettext_lazy("callback asked for in the portal"),
    CallTaskKind.PROBLEM: gettext_lazy("problem reported in the portal"),
    CallTaskKind.CHAT: gettext_lazy("question the chat could not answer"),
}
# Why an open task is not offered now (the queue page counts them).
WAIT_WORDS = {
    "hours": gettext_lazy("outside the contact hours (evening, Sunday or public holiday)"),
    "week": gettext_lazy("weekly maximum of calls reached"),
    "spread": gettext_lazy("called recently: calls are spread over the day and the week"),
    "later": gettext_lazy("window not started yet"),
    "claimed": gettext_lazy("open with a colleague"),
    "busy": gettext_lazy("a colleague is calling this customer"),
    "assigned": gettext_lazy("assigned to a colleague"),
    "hold": gettext_lazy("case paused (dispute, debt help, plan, …)"),
    "no_phone": gettext_lazy("no valid phone number"),
    "exhausted": gettext_lazy("all attempts used"),
    "released": gettext_lazy("you gave it back to the queue a moment ago"),
    "paid": gettext_lazy("nothing owed any more"),
}
# Holds that stop the strategy's calls; DECEASED stops every call.
STRATEGY_HOLDS = {
    HoldKind.DISPUTE,
    HoldKind.DEBT_HELP,
    HoldKind.BREATHING_SPACE,
    HoldKind.DECEASED,
    HoldKind.DEFERRAL,
    HoldKind.REVIEW,
    HoldKind.MANUAL,
}
ALL_CALLS_HOLDS = {HoldKind.DECEASED}
UNANSWERED = (CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL)


@dataclass
class QueueItem:
    """One task in the queue with the parts of its score; ``reasons`` explains it in the active
    language."""

    task: CallTask
    tier: int
    balance_cents: int
    chance: float
    own: dict[str, int]
    prior: tuple[int, int]
    band: str  # the customer's best part of the day, "" when unknown
    band_basis: str  # "asked", "preferred", "calls", "response" or ""
    band_factor: float
    expected: float  # cents, unrounded: the sort key
    attempts_week: int
    max_attempts: int
    phone: str
    facts: list[tuple[str, dict]] = field(default_factory=list)
    others: int = 0  # more open tasks of this customer, merged into this one

    @property
    def expected_cents(self) -> int:
        return round(self.expected)

    @property
    def tier_label(self) -> str:
        return str(TIER_NAMES[self.tier])

    @property
    def band_label(self) -> str:
        return str(BAND_WORDS.get(self.band, ""))

    def sort_key(self) -> tuple:
        task = self.task
        return (-self.tier, -self.expected, -task.priority, task.window_start, task.pk)

    @property
    def reasons(self) -> list[str]:
        return item_reasons(self)


@dataclass
class QueueOverview:
    """What the queue page shows: the items, why other open tasks wait, the agent's own call."""

    items: list[QueueItem]
    waiting: dict[str, int]
    open_attempt: CallAttempt | None = None

    @property
    def waiting_rows(self) -> list[tuple[str, int]]:
        return [(str(WAIT_WORDS[code]), n) for code, n in self.waiting.items() if n]


def clock() -> datetime:
    """The moment the queue is built for when none is given (tests set a fixed one here)."""
    return timezone.now()


# -- the parts of the score --------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def call_chance(own: dict[str, int], prior: tuple[int, int]) -> tuple[float, list[str]]:
    """The chance that a call reaches the customer themselves, and why.

    A Beta-Bernoulli estimate, as ``contact.learning`` does for messages. The prior is the
    creditor's share of calls that reached the right person over the last ``PRIOR_DAYS``
    (``prior`` = (right-party calls, calls)), pulled towards ``DEFAULT_CHANCE`` while it has few
    calls, and worth ``PRIOR_STRENGTH`` calls. The customer's own calls (``own``: count per
    outcome) update it: spoke with them counts as a success; no answer, voicemail or someone
    else on the line as a failure; a wrong number as ``WRONG_NUMBER_WEIGHT`` failures.

    >>> round(call_chance({}, (0, 0))[0], 2)
    0.3
    >>> round(call_chance({}, (40, 100))[0], 2)  # the creditor reaches 40% of its customers
    0.4
    >>> round(call_chance({"right_party": 2, "no_answer": 1}, (0, 0))[0], 2)
    0.46
    >>> round(call_chance({"wrong_number": 1}, (0, 0))[0], 2)
    0.17
    """
    right, total = prior
    rate = (right + DEFAULT_CHANCE * PRIOR_STRENGTH) / (total + PRIOR_STRENGTH)
    alpha, beta = PRIOR_STRENGTH * rate, PRIOR_STRENGTH * (1 - rate)
    success = own.get(CallOutcome.RIGHT_PARTY, 0)
    wrong = own.get(CallOutcome.WRONG_NUMBER, 0)
    failure = sum(n for outcome, n in own.items() if outcome != CallOutcome.RIGHT_PARTY) - wrong
    calls = success + failure + wrong
    chance = (alpha + success) / (alpha + beta + success + failure + WRONG_NUMBER_WEIGHT * wrong)
    if total:
        basis = _("%(right)s of %(total)s calls of this creditor reached the customer") % {
            "right": right,
            "total": total,
        }
    else:
        basis = _("no calls of this creditor yet: assumed %(pct)s") % {"pct": _pct(DEFAULT_CHANCE)}
    if calls:
        mine = _("this customer: spoken %(right)s of %(calls)s times") % {
            "right": success,
            "calls": calls,
        }
        if wrong:
            mine += ", " + _("wrong number %(n)s times") % {"n": wrong}
        reasons = [
            _("chance of reaching them %(pct)s (%(mine)s; %(basis)s)")
            % {"pct": _pct(chance), "mine": mine, "basis": basis}
        ]
    else:
        reasons = [
            _("chance of reaching them %(pct)s (not called before; %(basis)s)")
            % {"pct": _pct(chance), "basis": basis}
        ]
    return chance, reasons


def band_start_after(started: datetime) -> datetime:
    """The start of the part of the day after the one ``started`` falls in (evening: the next
    morning at 07:00).

    >>> band_start_after(datetime(2026, 11, 24, 10, 0, tzinfo=TZ)).isoformat()
    '2026-11-24T12:00:00+01:00'
    >>> band_start_after(datetime(2026, 11, 24, 18, 0, tzinfo=TZ)).isoformat()
    '2026-11-25T07:00:00+01:00'
    """
    local = started.astimezone(TZ)
    band = band_of(local)
    day = local.date()
    if band == "evening":
        return datetime.combine(day + timedelta(days=1), time(7, 0), TZ)
    end = {name: stop for name, _start, stop in BANDS}[band]
    hh, mm = map(int, end.split(":"))
    return datetime.combine(day, time(hh, mm), TZ)


def next_try_at(*, started: datetime, ended: datetime, outcome: str, settings: Settings):
    """The earliest moment of the next call to a customer after an attempt: at least
    ``calls.min_hours_between`` hours later, after no answer or voicemail not before the next
    part of the day, and at an allowed moment for contact."""
    moment = ended + timedelta(hours=settings.calls.min_hours_between)
    if outcome in UNANSWERED:
        moment = max(moment, band_start_after(started))
    hours = settings.contact_hours
    return next_allowed_moment(moment, channel="sms", start=hours.start, end=hours.end)


def call_allowed(now: datetime, settings: Settings) -> bool:
    """Whether a call may be made at ``now`` (contact hours, no Sunday or public holiday)."""
    hours = settings.contact_hours
    return next_allowed_moment(now, channel="sms", start=hours.start, end=hours.end) == now


def _eur(cents: int) -> str:
    return format_eur(int(cents), language=(get_language() or "nl")[:2])


def _decimal(x: float) -> str:
    text = f"{x:g}"
    return text if (get_language() or "nl")[:2] == "en" else text.replace(".", ",")


def _day(day: date) -> str:
    return format_day(day, (get_language() or "nl")[:2])


def _fact_text(code: str, data: dict) -> str:
    if code == "portal":
        return str(KIND_WORDS.get(data["kind"], data["kind"]))
    if code == "assigned":
        return _("assigned to you")
    if code == "deadline":
        return _("the term of the 14-day letter ends on %(day)s") % {"day": _day(data["day"])}
    if code == "promise":
        return _("promise to pay of %(amount)s broken on %(day)s") % {
            "amount": _eur(data["amount"]),
            "day": _day(data["day"]),
        }
    if code == "instalment":
        return _("instalment %(number)s of the payment plan missed on %(day)s") % {
            "number": data["number"],
            "day": _day(data["day"]),
        }
    if code == "carried":
        return _("waiting since %(day)s") % {"day": _day(data["day"])}
    return code


def item_reasons(item: QueueItem) -> list[str]:
    """Why this task has its place, in plain words (the active language)."""
    reasons = [_fact_text(code, data) for code, data in item.facts]
    values = {
        "ev": _eur(item.expected_cents),
        "balance": _eur(item.balance_cents),
        "chance": _pct(item.chance),
        "factor": _decimal(item.band_factor),
    }
    if item.band_factor < 1:
        reasons.append(
            _(
                "expected yield %(ev)s (balance %(balance)s × chance %(chance)s × %(factor)s "
                "outside the best time)"
            )
            % values
        )
    else:
        reasons.append(
            _("expected yield %(ev)s (balance %(balance)s × chance %(chance)s)") % values
        )
    reasons += call_chance(item.own, item.prior)[1]
    if item.band:
        basis = {
            "asked": _("asked for in the portal"),
            "preferred": _("the customer's preference"),
            "calls": _("when calls reached them"),
            "response": _("when they last responded"),
        }[item.band_basis]
        reasons.append(
            _("best time: %(band)s (%(basis)s)") % {"band": item.band_label, "basis": basis}
        )
    reasons.append(
        _("attempt %(next)s of %(max)s")
        % {"next": item.task.attempts + 1, "max": item.max_attempts}
    )
    if item.attempts_week:
        reasons.append(
            ngettext(
                "called %(n)s time in the last 7 days",
                "called %(n)s times in the last 7 days",
                item.attempts_week,
            )
            % {"n": item.attempts_week}
        )
    if item.others:
        reasons.append(
            ngettext(
                "%(n)s more open call task for this customer",
                "%(n)s more open call tasks for this customer",
                item.others,
            )
            % {"n": item.others}
        )
    return reasons


# -- settings and facts, read for all candidates at once --------------------------------------


def _settings_by_version(tasks, today: date) -> tuple[dict, dict]:
    """The strategy settings per version id (of the tasks' cases) and per creditor id (its
    current version, for tasks without a case; the defaults when it has none)."""
    version_ids = {t.case.strategy_version_id for t in tasks if t.case_id}
    by_version = {
        v.pk: version_strategy(v).settings
        for v in StrategyVersion.objects.filter(pk__in=version_ids)
    }
    by_creditor = {}
    for creditor_id in {t.creditor_id for t in tasks if not t.case_id}:
        version = (
            StrategyVersion.objects.filter(creditor_id=creditor_id, valid_from__lte=today)
            .order_by("-valid_from", "-number")
            .first()
        )
        by_creditor[creditor_id] = version_strategy(version).settings if version else Settings()
    return by_version, by_creditor


def task_settings(task: CallTask, *, on: date | None = None) -> Settings:
    """The strategy settings that apply to one task: its case's version, else the creditor's
    current one (the defaults when it has none). Never stores a shipped version."""
    on = on or timezone.localdate()
    by_version, by_creditor = _settings_by_version([task], on)
    if task.case_id:
        return by_version[task.case.strategy_version_id]
    return by_creditor[task.creditor_id]


def _best_phones(debtor_ids) -> dict[int, str]:
    """Per customer the number to call: a valid phone number, the newest verified first."""
    rows = (
        ContactPoint.objects.filter(
            debtor_id__in=debtor_ids, kind=ContactKind.PHONE, invalid_since__isnull=True
        )
        .order_by(F("verified_at").desc(nulls_last=True), "-created_at", "-pk")
        .values_list("debtor_id", "value")
    )
    phones: dict[int, str] = {}
    for debtor_id, value in rows:
        phones.setdefault(debtor_id, value)
    return phones


def best_phone(debtor) -> str:
    """The number an agent calls a customer on ("" when there is none)."""
    debtor_id = debtor if isinstance(debtor, int) else debtor.pk
    return _best_phones([debtor_id]).get(debtor_id, "")


def _last_responses(debtor_ids, now: datetime) -> dict[int, datetime]:
    """Per customer the last moment they replied to a message or used their personal link."""
    last: dict[int, datetime] = {}
    if not debtor_ids:
        return last
    replies = (
        Message.objects.filter(debtor_id__in=debtor_ids, responded_at__lte=now)
        .values("debtor_id")
        .annotate(at=Max("responded_at"))
    )
    visits = (
        AccessToken.objects.filter(debtor_id__in=debtor_ids, last_used_at__lte=now)
        .values("debtor_id")
        .annotate(at=Max("last_used_at"))
    )
    for row in [*replies, *visits]:
        debtor_id, at = row["debtor_id"], row["at"]
        if at is not None and (debtor_id not in last or at > last[debtor_id]):
            last[debtor_id] = at
    return last


def _visible_creditor_ids(user, creditor) -> list[int]:
    ids = list(Creditor.objects.for_user(user).values_list("pk", flat=True))
    if creditor is not None:
        ids = [pk for pk in ids if pk == creditor.pk]
    return ids


def _lapsed(now: datetime) -> datetime:
    return now - timedelta(minutes=CLAIM_MINUTES)


def _free(now: datetime) -> Q:
    """Nobody has the task open (or their claim lapsed)."""
    return Q(claimed_by__isnull=True) | Q(claimed_at__isnull=True) | Q(claimed_at__lt=_lapsed(now))


def _held(kinds, today: date) -> Exists:
    """The task's case has an active hold of one of ``kinds``."""
    return Exists(
        Hold.objects.filter(
            case_id=OuterRef("case_id"),
            kind__in=kinds,
            released_on__isnull=True,
            starts_on__lte=today,
            until__gte=today,
        )
    )


def _candidates(user, creditor_ids, now: datetime):
    """The open tasks that may be callable now, best first by kind, priority and window. What
    SQL can rule out is ruled out here (claims, assignments, spacing, closed cases, holds that
    stop the call), so that blocked tasks never crowd callable ones out of the candidates."""
    today = timezone.localdate(now)
    return (
        CallTask.objects.filter(
            creditor_id__in=creditor_ids, status=CallTaskStatus.OPEN, window_start__lte=now
        )
        .filter(Q(assigned_to__isnull=True) | Q(assigned_to=user))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(_free(now))
        .exclude(case__status=CaseStatus.CLOSED)
        .exclude(_held(ALL_CALLS_HOLDS, today))
        .exclude(Q(kind=CallTaskKind.STRATEGY) & _held(STRATEGY_HOLDS, today))
        .annotate(
            first=Switch(
                When(~Q(kind=CallTaskKind.STRATEGY) | Q(assigned_to=user), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("debtor", "case")
        .order_by("first", "-priority", "window_start", "pk")[:CANDIDATES]
    )


@dataclass
class _Facts:
    """What the queue knows about the candidates' customers and cases, read at once."""

    holds: dict[int, set]  # case id → kinds of the active holds
    deadlines: dict[int, date]  # case id → last day of the 14-day letter's term
    broken: dict[int, tuple[date, int]]  # debtor id → (broken on, amount)
    missed: dict[int, tuple[date, int, int]]  # debtor id → (missed on, number, case id)
    own: dict[int, Counter]  # debtor id → their calls per outcome (last PRIOR_DAYS)
    week: Counter  # debtor id → calls in the last 7 days
    last_call: dict[int, tuple]  # debtor id → (started, ended, outcome) of their last call
    reached_in: dict[int, Counter]  # debtor id → right-party calls per part of the day
    priors: dict[int, tuple[int, int]]  # creditor id → (right-party calls, calls)
    balances: dict  # debtor id → DebtorPosition
    phones: dict[int, str]
    busy: set[int]  # debtors with a task a colleague (or this agent) has open
    released: set[int]  # tasks this agent gave back a moment ago
    responses: dict[int, datetime]  # debtor id → last reply or portal visit


def _facts_load(user, tasks, now: datetime) -> _Facts:
    """Everything per customer and case for all candidates: a fixed number of queries."""
    today = timezone.localdate(now)
    debtor_ids = sorted({t.debtor_id for t in tasks})
    case_ids = sorted({t.case_id for t in tasks if t.case_id})
    since = now - timedelta(days=PRIOR_DAYS)
    recent = today - timedelta(days=RECENT_DAYS)

    holds = defaultdict(set)
    for case_id, kind in Hold.objects.filter(
        case_id__in=case_ids, released_on__isnull=True, starts_on__lte=today, until__gte=today
    ).values_list("case_id", "kind"):
        holds[case_id].add(kind)
    deadlines = dict(
        LegalNotice.objects.filter(
            case_id__in=case_ids,
            term_ends_on__gte=today,
            term_ends_on__lte=today + timedelta(days=DEADLINE_DAYS),
        ).values_list("case_id", "term_ends_on")
    )
    broken: dict[int, tuple[date, int]] = {}
    for debtor_id, day, amount in Promise.objects.filter(
        debtor_id__in=debtor_ids,
        status=PromiseStatus.BROKEN,
        settled_on__gte=recent,
        settled_on__lte=today,
    ).values_list("debtor_id", "settled_on", "amount_cents"):
        if debtor_id not in broken or day > broken[debtor_id][0]:
            broken[debtor_id] = (day, amount)
    missed: dict[int, tuple[date, int, int]] = {}
    for debtor_id, case_id, number, day in Instalment.objects.filter(
        arrangement__debtor_id__in=debtor_ids,
        status=InstalmentStatus.MISSED,
        missed_on__gte=recent,
        missed_on__lte=today,
    ).values_list("arrangement__debtor_id", "arrangement__case_id", "number", "missed_on"):
        if debtor_id not in missed or day > missed[debtor_id][0]:
            missed[debtor_id] = (day, number, case_id)

    # The customers' own calls (an attempt given back without calling has no outcome).
    own: dict[int, Counter] = defaultdict(Counter)
    week: Counter = Counter()
    last_call: dict[int, tuple] = {}
    reached_in: dict[int, Counter] = defaultdict(Counter)
    for debtor_id, started, ended, band, outcome in (
        CallAttempt.objects.filter(
            debtor_id__in=debtor_ids, started_at__gte=since, started_at__lte=now
        )
        .exclude(outcome="")
        .values_list("debtor_id", "started_at", "ended_at", "band", "outcome")
    ):
        own[debtor_id][outcome] += 1
        if started > now - WEEK:
            week[debtor_id] += 1
        if debtor_id not in last_call or started > last_call[debtor_id][0]:
            last_call[debtor_id] = (started, ended or started, outcome)
        if outcome == CallOutcome.RIGHT_PARTY:
            reached_in[debtor_id][band or band_of(started)] += 1
    priors = {
        row["creditor_id"]: (row["right"], row["total"])
        for row in CallAttempt.objects.filter(
            creditor_id__in={t.creditor_id for t in tasks},
            started_at__gte=since,
            started_at__lte=now,
        )
        .exclude(outcome="")
        .values("creditor_id")
        .annotate(total=Count("pk"), right=Count("pk", filter=Q(outcome=CallOutcome.RIGHT_PARTY)))
    }
    busy = set(
        CallTask.objects.filter(
            debtor_id__in=debtor_ids,
            status=CallTaskStatus.OPEN,
            claimed_by__isnull=False,
            claimed_at__gte=_lapsed(now),
        ).values_list("debtor_id", flat=True)
    )
    released = set(
        CallAttempt.objects.filter(
            agent=user, outcome="", ended_at__gte=_lapsed(now), ended_at__lte=now
        ).values_list("task_id", flat=True)
    )
    return _Facts(
        holds=holds,
        deadlines=deadlines,
        broken=broken,
        missed=missed,
        own=own,
        week=week,
        last_call=last_call,
        reached_in=reached_in,
        priors=priors,
        balances=open_positions(debtor_ids),
        phones=_best_phones(debtor_ids),
        busy=busy,
        released=released,
        # Customers never reached by phone: their last reply or visit tells the best time.
        responses=_last_responses([d for d in debtor_ids if not reached_in.get(d)], now),
    )


def _why_not_now(task: CallTask, facts: _Facts, settings: Settings, now: datetime) -> str:
    """The reason (a ``WAIT_WORDS`` code) a candidate may not be called now, or ""."""
    policy = settings.calls
    held = facts.holds.get(task.case_id, set())
    missed = facts.missed.get(task.debtor_id)
    plan_missed = missed is not None and missed[2] == task.case_id
    if not call_allowed(now, settings):
        return "hours"
    if task.pk in facts.released:
        return "released"
    if held & ALL_CALLS_HOLDS or (
        task.kind == CallTaskKind.STRATEGY
        and (held & STRATEGY_HOLDS or (HoldKind.ARRANGEMENT in held and not plan_missed))
    ):
        return "hold"
    if not facts.phones.get(task.debtor_id):
        return "no_phone"
    if task.debtor_id in facts.busy:
        return "busy"
    if task.attempts >= policy.max_attempts:
        return "exhausted"
    if facts.week[task.debtor_id] >= policy.max_attempts_per_week:
        return "week"
    last = facts.last_call.get(task.debtor_id)
    if last is not None:
        started, ended, outcome = last
        if next_try_at(started=started, ended=ended, outcome=outcome, settings=settings) > now:
            return "spread"
    return ""


def _urgency(task: CallTask, facts: _Facts, user) -> tuple[int, list[tuple[str, dict]]]:
    """The task's tier and the facts that put it there."""
    found: list[tuple[str, dict]] = []
    if task.kind != CallTaskKind.STRATEGY:
        found.append(("portal", {"kind": task.kind}))
    if task.assigned_to_id is not None and task.assigned_to_id == user.pk:
        found.append(("assigned", {}))
    if task.case_id in facts.deadlines:
        found.append(("deadline", {"day": facts.deadlines[task.case_id]}))
    if task.debtor_id in facts.broken:
        day, amount = facts.broken[task.debtor_id]
        found.append(("promise", {"day": day, "amount": amount}))
    if task.debtor_id in facts.missed:
        day, number, _case = facts.missed[task.debtor_id]
        found.append(("instalment", {"day": day, "number": number}))
    codes = {code for code, _data in found}
    if codes & {"portal", "assigned"}:
        return TIER_PORTAL, found
    if codes & {"deadline", "promise", "instalment"}:
        return TIER_URGENT, found
    return TIER_REST, found


def _best_band(task: CallTask, facts: _Facts) -> tuple[str, str]:
    """The customer's best part of the day and what it is based on ("", "" when unknown)."""
    if task.kind == CallTaskKind.CALLBACK:
        return band_of(task.window_start), "asked"
    if task.debtor.preferred_time in BAND_NAMES:
        return task.debtor.preferred_time, "preferred"
    counts = facts.reached_in.get(task.debtor_id)
    if counts:
        # Most calls that reached them; ties: the earlier part of the day.
        return max(BAND_NAMES, key=lambda b: (counts[b], -BAND_NAMES.index(b))), "calls"
    if task.debtor_id in facts.responses:
        return band_of(facts.responses[task.debtor_id]), "response"
    return "", ""


def _build(user, *, now: datetime, creditor=None) -> tuple[list[QueueItem], Counter]:
    """Score the callable candidates; return them best first and why the others wait."""
    skipped: Counter = Counter()
    creditor_ids = _visible_creditor_ids(user, creditor)
    if not creditor_ids:
        return [], skipped
    tasks = list(_candidates(user, creditor_ids, now))
    if not tasks:
        return [], skipped
    by_version, by_creditor = _settings_by_version(tasks, timezone.localdate(now))
    facts = _facts_load(user, tasks, now)
    now_band = band_of(now)
    items: list[QueueItem] = []
    for task in tasks:
        if task.case_id:
            settings = by_version[task.case.strategy_version_id]
        else:
            settings = by_creditor[task.creditor_id]
        wait = _why_not_now(task, facts, settings, now)
        # A collection call for someone who owes nothing is not made; what a customer asked
        # for in the portal (a question, a problem, a callback) still is.
        owes_nothing = facts.balances[task.debtor_id].balance <= 0
        if not wait and task.kind == CallTaskKind.STRATEGY and owes_nothing:
            wait = "paid"
        if wait:
            skipped[wait] += 1
            continue
        tier, found = _urgency(task, facts, user)
        if task.window_end < now:
            found.append(("carried", {"day": task.window_start.astimezone(TZ).date()}))
        prior = facts.priors.get(task.creditor_id, (0, 0))
        own = dict(facts.own.get(task.debtor_id, {}))
        chance = call_chance(own, prior)[0]
        band, basis = _best_band(task, facts)
        factor = 1.0 if not band or band == now_band else OFF_BAND_FACTOR
        balance = max(facts.balances[task.debtor_id].balance, 0)
        items.append(
            QueueItem(
                task=task,
                tier=tier,
                balance_cents=balance,
                chance=chance,
                own=own,
                prior=prior,
                band=band,
                band_basis=basis,
                band_factor=factor,
                expected=balance * chance * factor,
                attempts_week=facts.week[task.debtor_id],
                max_attempts=settings.calls.max_attempts,
                phone=facts.phones[task.debtor_id],
                facts=found,
            )
        )
    items.sort(key=QueueItem.sort_key)
    # One customer once: their most urgent task; the others are mentioned.
    first: dict[int, QueueItem] = {}
    result = []
    for item in items:
        top = first.get(item.task.debtor_id)
        if top is None:
            first[item.task.debtor_id] = item
            result.append(item)
        else:
            top.others += 1
    return result, skipped


# -- public reads ------------------------------------------------------------------------------


def call_queue(user, *, now: datetime | None = None, creditor=None) -> list[QueueItem]:
    """The open call tasks of the user's creditors that may be called now, best first (see the
    module docstring for who is in it and the order). ``creditor`` limits it to one creditor
    (one the user may see; any other gives an empty queue)."""
    return _build(user, now=now or clock(), creditor=creditor)[0]


def open_attempt(user) -> CallAttempt | None:
    """The agent's call that is still going on: started, no outcome, its task still theirs."""
    creditor_ids = _visible_creditor_ids(user, None)
    return (
        CallAttempt.objects.filter(
            agent=user,
            creditor_id__in=creditor_ids,
            ended_at__isnull=True,
            outcome="",
            task__status=CallTaskStatus.OPEN,
            task__claimed_by=user,
        )
        .select_related("task", "debtor")
        .order_by("-started_at", "-pk")
        .first()
    )


def queue_overview(user, *, now: datetime | None = None, creditor=None) -> QueueOverview:
    """The queue, and per reason how many other open tasks wait (for the queue page)."""
    now = now or clock()
    items, skipped = _build(user, now=now, creditor=creditor)
    creditor_ids = _visible_creditor_ids(user, creditor)
    lapsed = _lapsed(now)
    today = timezone.localdate(now)
    counts = CallTask.objects.filter(
        creditor_id__in=creditor_ids, status=CallTaskStatus.OPEN
    ).aggregate(
        later=Count("pk", filter=Q(window_start__gt=now)),
        spread=Count("pk", filter=Q(window_start__lte=now, next_attempt_at__gt=now)),
        claimed=Count(
            "pk",
            filter=Q(window_start__lte=now, claimed_by__isnull=False, claimed_at__gte=lapsed)
            & ~Q(claimed_by=user),
        ),
        assigned=Count("pk", filter=Q(assigned_to__isnull=False) & ~Q(assigned_to=user)),
        # Paused cases never reach the candidates (see _candidates); counted here.
        hold=Count(
            "pk",
            filter=Q(window_start__lte=now)
            & ~Q(case__status=CaseStatus.CLOSED)
            & (
                Q(_held(ALL_CALLS_HOLDS, today))
                | (Q(kind=CallTaskKind.STRATEGY) & Q(_held(STRATEGY_HOLDS, today)))
            ),
        ),
    )
    waiting = Counter({code: n for code, n in counts.items() if n})
    waiting.update(skipped)
    ordered = {code: waiting[code] for code in WAIT_WORDS if waiting.get(code)}
    return QueueOverview(items=items, waiting=ordered, open_attempt=open_attempt(user))


# -- taking, finishing and giving back a call --------------------------------------------------


def _locked_task(pk: int) -> CallTask | None:
    if connection.features.has_select_for_update_skip_locked:
        # Two agents pressing "next" at once: the second skips the row the first has locked.
        rows = CallTask.objects.select_for_update(skip_locked=True)
    else:
        rows = CallTask.objects.select_for_update()
    return rows.filter(pk=pk).first()


def _still_free(task: CallTask, user, now: datetime) -> bool:
    lapsed = _lapsed(now)
    return (
        task.status == CallTaskStatus.OPEN
        and task.window_start <= now
        and task.assigned_to_id in (None, user.pk)
        and (task.next_attempt_at is None or task.next_attempt_at <= now)
        and (task.claimed_by_id is None or task.claimed_at is None or task.claimed_at < lapsed)
    )


def queue_next(user, *, now: datetime | None = None, creditor=None) -> CallAttempt | None:
    """Take the best task of the queue: claim it and start a call attempt.

    An agent finishes one call before taking another: when they have a call still going on,
    that one is returned (its claim renewed). Otherwise, in one transaction, the top task is
    locked (``SKIP LOCKED`` where the database has it, so two agents never get the same task),
    checked again, claimed, and a ``CallAttempt`` is started on the customer's best phone
    number; the event ``call.started`` says why this customer came first. None when there is
    nobody to call now."""
    now = now or clock()
    with transaction.atomic():
        # One agent's double click takes one task: their own row serialises the two requests.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        current = open_attempt(user)
        if current is not None:
            CallTask.objects.filter(pk=current.task_id).update(claimed_at=now)
            return current
        for item in call_queue(user, now=now, creditor=creditor):
            task = _locked_task(item.task.pk)
            if task is None or not _still_free(task, user, now):
                continue
            # Compare-and-set as well: databases without row locks (SQLite) stay correct.
            taken = (
                CallTask.objects.filter(pk=task.pk, status=CallTaskStatus.OPEN)
                .filter(_free(now))
                .update(claimed_by=user, claimed_at=now)
            )
            if not taken:
                continue
            attempt = CallAttempt.objects.create(
                creditor_id=task.creditor_id,
                debtor_id=task.debtor_id,
                case_id=task.case_id,
                task=task,
                agent=user,
                started_at=now,
                band=band_of(now),
                phone=item.phone,
            )
            with override("nl"):
                why = "; ".join(item.reasons)
                tier = item.tier_label
            event_record(
                creditor=task.creditor_id,
                debtor=task.debtor_id,
                verb="call.started",
                actor=Actor.for_user(user),
                subject=attempt,
                reason=f"{tier}: {why}",
                data={
                    "task": task.pk,
                    "tier": item.tier,
                    "balance_cents": item.balance_cents,
                    "chance": round(item.chance, 4),
                    "band_factor": item.band_factor,
                    "expected_cents": item.expected_cents,
                    "best_band": item.band,
                    "phone": item.phone,
                },
                on=timezone.localdate(now),
            )
            return attempt
    return None


def attempt_finished(*, task, attempt, now: datetime, close: bool) -> None:
    """Book a finished attempt on its task: count it, release the claim, and either close the
    task (``close``: the call helper decided it is done, e.g. the customer was spoken to) or set
    when the next attempt may be made: at least ``calls.min_hours_between`` hours later, after
    no answer or voicemail in a later part of the day (a morning try: not before the afternoon;
    an evening try: the next day), at an allowed moment for contact. When ``calls.max_attempts``
    are used without closing, the task is closed as ``done`` with the event
    ``call_task.exhausted``.

    Called by the call helper inside its transaction, with the task row locked, after it set
    the attempt's ``outcome`` and ``ended_at``; it records the outcome's own event."""
    settings = task_settings(task, on=timezone.localdate(now))
    policy = settings.calls
    task.attempts += 1
    task.last_attempt_at = now
    task.claimed_by = None
    task.claimed_at = None
    fields = ["attempts", "last_attempt_at", "claimed_by", "claimed_at", "next_attempt_at"]
    if close:
        task.status = CallTaskStatus.DONE
        task.next_attempt_at = None
        fields.append("status")
    else:
        task.next_attempt_at = next_try_at(
            started=attempt.started_at, ended=now, outcome=attempt.outcome, settings=settings
        )
        if task.attempts >= policy.max_attempts:
            task.status = CallTaskStatus.DONE
            fields.append("status")
            outcomes = Counter(
                CallAttempt.objects.filter(task=task)
                .exclude(outcome="")
                .values_list("outcome", flat=True)
            )
            with override("nl"):
                words = ", ".join(
                    f"{CallOutcome(o).label} {n}×" for o, n in sorted(outcomes.items())
                )
            event_record(
                creditor=task.creditor_id,
                debtor=task.debtor_id,
                verb="call_task.exhausted",
                actor=Actor.system(),
                subject=task,
                reason=(
                    f"belopdracht gesloten na {task.attempts} pogingen (maximum "
                    f"{policy.max_attempts} van de strategie) zonder de klant te spreken"
                    + (f"; {words}" if words else "")
                ),
                data={
                    "attempts": task.attempts,
                    "max_attempts": policy.max_attempts,
                    "outcomes": dict(outcomes),
                    "case": task.case_id,
                },
                on=timezone.localdate(now),
            )
    task.save(update_fields=fields)


def queue_release(attempt, user, *, now: datetime | None = None) -> bool:
    """Give a claimed task back to the queue without calling ("back to queue"): the attempt
    ends without an outcome (it counts for nothing) and the claim is released; the event
    ``call.released``. False when the attempt is not this agent's call going on."""
    now = now or clock()
    with transaction.atomic():
        task = CallTask.objects.select_for_update().get(pk=attempt.task_id)
        attempt = CallAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.agent_id != user.pk or attempt.ended_at is not None or attempt.outcome:
            return False
        attempt.ended_at = now
        attempt.save(update_fields=["ended_at"])
        if task.claimed_by_id == user.pk:
            task.claimed_by = None
            task.claimed_at = None
            task.save(update_fields=["claimed_by", "claimed_at"])
        event_record(
            creditor=task.creditor_id,
            debtor=task.debtor_id,
            verb="call.released",
            actor=Actor.for_user(user),
            subject=attempt,
            reason="teruggezet in de belwachtrij zonder te bellen",
            data={"task": task.pk},
            on=timezone.localdate(now),
        )
    return True
