"""The supervisor's numbers and the reassigning of work (issue 7, part 5).

Everything here is about one creditor and, for the numbers, one period of days (today, the
last 7 or the last 30 days, counted in Dutch business days up to and including today):

- the queue: open call tasks per kind, how many are given to an agent, in a call now, can be
  called now or wait (their window has not begun, or the next attempt is not yet allowed);
- reach: call attempts with an outcome, how many were answered and how many were the customer
  themselves (right-party contact), as whole percentages;
- promises to pay made in the period, overall and made in a call, and how they ended;
- work per agent: attempts, right-party contacts, promises, payment links, plans, callbacks,
  the average length of a finished call and the open tasks given to them now.

Each number comes from one or two aggregate (GROUP BY) queries, so the page costs the same at
ten agents or a thousand, and at a hundred tasks or a million (the ``call_queue_idx`` and
``attempt_creditor_idx`` indexes carry the filters).

A supervisor moves work with :func:`tasks_reassign` (chosen tasks) or
:func:`tasks_reassign_all` (everything given to one agent): each moved task is a
``call_task.reassigned`` event with the supervisor's name and reason.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vaarwater.arrangements.models import Promise, PromiseStatus
from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus
from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.models import CreditorMembership, Role

from .access import has_role
from .models import CallAttempt, CallOutcome
from .queue import CLAIM_MINUTES

# An agent's claim on a task lapses as the queue's does (the call screen left without an
# outcome): the task may then be given to someone else.
CLAIM_STALE_AFTER = timedelta(minutes=CLAIM_MINUTES)

# How many open tasks the supervisor's page lists (the earliest windows first).
TASKS_SHOWN = 100


class Period:
    """The periods the numbers cover: today, the last 7 days, the last 30 days."""

    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"
    DAYS = {TODAY: 1, WEEK: 7, MONTH: 30}
    CHOICES = (
        (TODAY, _("today")),
        (WEEK, _("last 7 days")),
        (MONTH, _("last 30 days")),
    )
    DEFAULT = TODAY

    @classmethod
    def parse(cls, value: str | None) -> str:
        """The period a query string asks for; the default for anything unknown."""
        return value if value in cls.DAYS else cls.DEFAULT

    @classmethod
    def days(cls, period: str, *, today: date) -> tuple[date, date]:
        """First and last day (inclusive) of ``period`` ending ``today``.

        >>> Period.days("7d", today=date(2026, 3, 10))
        (datetime.date(2026, 3, 4), datetime.date(2026, 3, 10))
        """
        return today - timedelta(days=cls.DAYS[period] - 1), today


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` as a whole percentage, rounded half up; None when nothing to count.

    >>> percent(2, 3), percent(1, 8), percent(0, 0)
    (67, 13, None)
    """
    if not whole:
        return None
    return (200 * part + whole) // (2 * whole)


def _moments(first: date, last: date) -> tuple[datetime, datetime]:
    """The period as aware moments in the business time zone: [first 00:00, day after last)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


# -- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """Open tasks of one kind (or all kinds, ``kind=""``)."""

    kind: str
    label: str
    open: int = 0
    assigned: int = 0
    claimed: int = 0
    callable: int = 0
    waiting: int = 0
    window_passed: int = 0


QUEUE_COUNTS = ("open", "assigned", "claimed", "callable", "waiting", "window_passed")


def queue_sizes(creditor, *, now: datetime) -> list[QueueRow]:
    """The open tasks per kind, then a total row: given to an agent, in a call now, callable
    now (in its window, not in a call, next attempt allowed) or waiting (window not begun, or
    the next attempt not yet allowed), and those whose window has passed unanswered."""
    claimed = Q(claimed_by__isnull=False, claimed_at__gte=now - CLAIM_STALE_AFTER)
    allowed = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    in_window = Q(window_start__lte=now, window_end__gt=now)
    rows = (
        CallTask.objects.filter(creditor=creditor, status=CallTaskStatus.OPEN)
        .values("kind")
        .annotate(
            open=Count("pk"),
            assigned=Count("pk", filter=Q(assigned_to__isnull=False)),
            claimed=Count("pk", filter=claimed),
            callable=Count("pk", filter=in_window & allowed & ~claimed),
            waiting=Count(
                "pk",
                filter=Q(window_end__gt=now)
                & (Q(window_start__gt=now) | Q(next_attempt_at__gt=now)),
            ),
            window_passed=Count("pk", filter=Q(window_end__lte=now)),
        )
        .order_by("kind")
    )
    found = {row["kind"]: row for row in rows}
    result = []
    for kind, label in CallTaskKind.choices:
        row = found.get(kind, {})
        result.append(QueueRow(kind, label, **{name: row.get(name, 0) for name in QUEUE_COUNTS}))
    total = {name: sum(getattr(row, name) for row in result) for name in QUEUE_COUNTS}
    result.append(QueueRow("", str(_("all kinds")), **total))
    return result


# -- reach -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Call attempts with an outcome in a period and how many reached someone."""

    attempts: int
    reached: int
    right_party: int

    @property
    def reach_rate(self) -> int | None:
        """Answered (the customer or someone else) out of all attempts, in whole percent."""
        return percent(self.reached, self.attempts)

    @property
    def right_party_rate(self) -> int | None:
        """The customer themselves out of all attempts, in whole percent."""
        return percent(self.right_party, self.attempts)


def attempts_in(creditor, first: date, last: date) -> QuerySet[CallAttempt]:
    """The creditor's call attempts that started in the period and have an outcome."""
    start, end = _moments(first, last)
    return CallAttempt.objects.filter(
        creditor=creditor, started_at__gte=start, started_at__lt=end
    ).exclude(outcome="")


def reach(creditor, first: date, last: date) -> Reach:
    """Attempts, answered and right-party contacts in the period (one query)."""
    counts = attempts_in(creditor, first, last).aggregate(
        attempts=Count("pk"),
        reached=Count("pk", filter=Q(outcome__in=CallOutcome.answered())),
        right_party=Count("pk", filter=Q(outcome=CallOutcome.RIGHT_PARTY)),
    )
    return Reach(**counts)


# -- promises --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseCounts:
    """Promises to pay made in a period and what became of them (so far)."""

    made: int = 0
    kept: int = 0
    broken: int = 0
    open: int = 0
    cancelled: int = 0

    @property
    def kept_rate(self) -> int | None:
        """Kept out of those that fell due: kept or broken (a promise is broken only when its
        date and the grace days have passed unpaid, so an open one is not yet due)."""
        return percent(self.kept, self.kept + self.broken)


@dataclass(frozen=True)
class Promises:
    overall: PromiseCounts
    call: PromiseCounts


def promises(creditor, first: date, last: date) -> Promises:
    """Promises made in the period (``made_on``), all and those made in a call (one query)."""
    statuses = {
        "kept": PromiseStatus.KEPT,
        "broken": PromiseStatus.BROKEN,
        "open": PromiseStatus.OPEN,
        "cancelled": PromiseStatus.CANCELLED,
    }
    aggregates = {"made": Count("pk"), "call_made": Count("pk", filter=Q(source="call"))}
    for name, status in statuses.items():
        aggregates[name] = Count("pk", filter=Q(status=status))
        aggregates[f"call_{name}"] = Count("pk", filter=Q(status=status, source="call"))
    counts = Promise.objects.filter(
        creditor=creditor, made_on__gte=first, made_on__lte=last
    ).aggregate(**aggregates)
    names = ("made", *statuses)
    return Promises(
        overall=PromiseCounts(**{name: counts[name] for name in names}),
        call=PromiseCounts(**{name: counts[f"call_{name}"] for name in names}),
    )


# -- work per agent --------------------------------------------------------------------------


@dataclass
class AgentWork:
    """What one agent did in the period, and the open tasks given to them now."""

    user_id: int
    name: str
    role: str = ""
    attempts: int = 0
    right_party: int = 0
    promises: int = 0
    payment_links: int = 0
    plans: int = 0
    callbacks: int = 0
    finished: int = 0
    talk_seconds: int = 0
    open_tasks: int = 0

    @property
    def average_seconds(self) -> int | None:
        """The average length of a finished call, in whole seconds."""
        if not self.finished:
            return None
        return (2 * self.talk_seconds + self.finished) // (2 * self.finished)

    @property
    def average_minutes(self) -> str:
        """The average length of a finished call as ``m:ss`` (empty without finished calls)."""
        seconds = self.average_seconds
        return "" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}"

    @property
    def right_party_rate(self) -> int | None:
        return percent(self.right_party, self.attempts)


def user_label(user) -> str:
    """A user's name as the back office shows it: full name, else username."""
    return user.get_full_name().strip() or user.get_username()


def creditor_members(creditor) -> list[tuple]:
    """The creditor's active back-office users with their role's name, by name:
    ``(user, role label)``."""
    memberships = (
        CreditorMembership.objects.filter(creditor=creditor, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return [(m.user, m.get_role_display()) for m in memberships]


def work_per_agent(creditor, first: date, last: date) -> list[AgentWork]:
    """Per agent: the period's attempts with an outcome and what came of them, the average
    finished call and the open tasks given to them now. Every member is listed, also one who
    made no calls; a user who called without being a member (a superuser) too."""
    talk = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    finished = Q(ended_at__isnull=False)
    rows = (
        attempts_in(creditor, first, last)
        .values("agent_id")
        .annotate(
            attempts=Count("pk"),
            right_party=Count("pk", filter=Q(outcome=CallOutcome.RIGHT_PARTY)),
            promises=Count("promise"),
            payment_links=Count("payment_link"),
            plans=Count("arrangement"),
            callbacks=Count("callback"),
            finished=Count("pk", filter=finished),
            talk=Sum(talk, filter=finished),
        )
        .order_by("agent_id")
    )
    assigned = dict(
        CallTask.objects.filter(
            creditor=creditor, status=CallTaskStatus.OPEN, assigned_to__isnull=False
        )
        .values("assigned_to_id")
        .annotate(n=Count("pk"))
        .order_by("assigned_to_id")
        .values_list("assigned_to_id", "n")
    )
    agents = {
        user.pk: AgentWork(user.pk, user_label(user), role=role)
        for user, role in creditor_members(creditor)
    }
    strangers = {row["agent_id"] for row in rows} | set(assigned)
    strangers -= set(agents)
    for user in get_user_model().objects.filter(pk__in=strangers):
        agents[user.pk] = AgentWork(user.pk, user_label(user))
    for row in rows:
        work = agents[row["agent_id"]]
        for name in ("attempts", "right_party", "promises", "payment_links", "plans"):
            setattr(work, name, row[name])
        work.callbacks = row["callbacks"]
        work.finished = row["finished"]
        work.talk_seconds = int(row["talk"].total_seconds()) if row["talk"] else 0
    for user_id, count in assigned.items():
        agents[user_id].open_tasks = count
    return sorted(agents.values(), key=lambda w: (-w.attempts, -w.open_tasks, w.name.lower()))


# -- the page --------------------------------------------------------------------------------


@dataclass
class Overview:
    """Everything the supervisor's page shows about one creditor and period."""

    period: str
    first: date
    last: date
    queue: list[QueueRow]
    reach: Reach
    promises: Promises
    agents: list[AgentWork] = field(default_factory=list)

    @property
    def queue_total(self) -> QueueRow:
        return self.queue[-1]


def supervision_overview(creditor, *, period: str, now: datetime) -> Overview:
    """The supervisor's numbers for one creditor over ``period`` ending today."""
    period = Period.parse(period)
    first, last = Period.days(period, today=timezone.localdate(now))
    return Overview(
        period=period,
        first=first,
        last=last,
        queue=queue_sizes(creditor, now=now),
        reach=reach(creditor, first, last),
        promises=promises(creditor, first, last),
        agents=work_per_agent(creditor, first, last),
    )


def open_tasks(creditor, *, limit: int = TASKS_SHOWN) -> list[CallTask]:
    """The creditor's open call tasks, earliest window first, for the reassign table."""
    return list(
        CallTask.objects.filter(creditor=creditor, status=CallTaskStatus.OPEN)
        .select_related("debtor", "case", "assigned_to", "claimed_by")
        .order_by("window_start", "-priority", "pk")[:limit]
    )


# -- reassigning -----------------------------------------------------------------------------


class ReassignError(ValueError):
    """Work that cannot be moved as asked; ``field`` names the form field it is about."""

    def __init__(self, message: str, *, field: str = "form"):
        super().__init__(message)
        self.message = message
        self.field = field


def is_member(user, creditor) -> bool:
    """Whether ``user`` is an active back-office user of ``creditor`` (any role)."""
    return bool(
        user is not None
        and user.is_active
        and CreditorMembership.objects.filter(creditor=creditor, user=user).exists()
    )


def tasks_reassign(
    *,
    tasks: list[int],
    to_user,
    by_user,
    creditor,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Give open call tasks of ``creditor`` to ``to_user`` (``None``: back to the pool, for
    whoever takes the next case), for ``reason``; return how many moved.

    ``by_user`` must be at least supervisor at ``creditor`` and ``to_user`` a member of it (any
    role); every task must be the creditor's, else nothing moves. Tasks no longer open, or
    already given to ``to_user``, are left as they are. A claim that has lapsed (the agent left
    the call screen without an outcome) is released; a call going on now is not interrupted.
    Each moved task is a ``call_task.reassigned`` event with ``by_user``'s name and the reason.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not has_role(by_user, creditor, Role.SUPERVISOR):
        raise ReassignError(_("Only a supervisor of this creditor can move its work."))
    if not reason:
        raise ReassignError(_("Say why the work moves."), field="reason")
    if to_user is not None and not is_member(to_user, creditor):
        raise ReassignError(
            _("%(name)s does not work for this creditor.") % {"name": user_label(to_user)},
            field="to_user",
        )
    ids = sorted({int(pk) for pk in tasks})
    if not ids:
        raise ReassignError(_("Choose the tasks to move."), field="tasks")
    actor = Actor.for_user(by_user)
    to_label = Actor.for_user(to_user).label if to_user is not None else ""
    moved = 0
    with transaction.atomic():
        rows = list(
            CallTask.objects.select_for_update(of=("self",))
            .filter(creditor=creditor, pk__in=ids)
            .select_related("assigned_to")
            .order_by("pk")
        )
        if len(rows) != len(ids):
            raise ReassignError(_("Some of these tasks are not this creditor's."), field="tasks")
        for task in rows:
            to_id = to_user.pk if to_user is not None else None
            if task.status != CallTaskStatus.OPEN or task.assigned_to_id == to_id:
                continue
            from_id = task.assigned_to_id
            from_label = Actor.for_user(task.assigned_to).label if task.assigned_to else ""
            task.assigned_to = to_user
            fields = ["assigned_to"]
            lapsed = task.claimed_by_id is not None and (
                task.claimed_at is None or task.claimed_at < now - CLAIM_STALE_AFTER
            )
            if lapsed:
                task.claimed_by = None
                task.claimed_at = None
                fields += ["claimed_by", "claimed_at"]
            task.save(update_fields=fields)
            where = f"aan {to_label}" if to_user is not None else "terug in de gezamenlijke rij"
            event_record(
                creditor=creditor,
                debtor=task.debtor_id,
                verb="call_task.reassigned",
                actor=actor,
                subject=task,
                reason=f"Belopdracht {where}: {reason}",
                data={
                    "kind": task.kind,
                    "case": task.case_id,
                    "from": from_id,
                    "from_label": from_label,
                    "to": to_id,
                    "to_label": to_label,
                    "claim_released": lapsed,
                },
                on=timezone.localdate(now),
            )
            moved += 1
    return moved


def tasks_reassign_all(
    *,
    from_user,
    to_user,
    by_user,
    creditor,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Move every open task of ``creditor`` given to ``from_user`` to ``to_user`` (``None``:
    the pool), as :func:`tasks_reassign` does; return how many moved."""
    if to_user is not None and to_user.pk == from_user.pk:
        raise ReassignError(_("Choose another agent to give the work to."), field="to_user")
    ids = list(
        CallTask.objects.filter(
            creditor=creditor, status=CallTaskStatus.OPEN, assigned_to=from_user
        ).values_list("pk", flat=True)
    )
    if not ids:
        raise ReassignError(
            _("%(name)s has no open tasks here.") % {"name": user_label(from_user)},
            field="from_user",
        )
    return tasks_reassign(
        tasks=ids, to_user=to_user, by_user=by_user, creditor=creditor, reason=reason, now=now
    )
