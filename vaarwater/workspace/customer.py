"""The customer view: everything about one debtor an agent needs during a call (issue 7,
part 3): one timeline of everything, the contact points with their quality, household and
affordability, the balance, and the risk with its reasons. Used by the case page and the call
screen (``{% customer_view case %}`` or an include of ``workspace/_customer_view.html``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from vaarwater.arrangements.models import (
    Arrangement,
    ArrangementStatus,
    Assessment,
    InstalmentStatus,
    Promise,
    PromiseStatus,
)
from vaarwater.arrangements.services import payday_of
from vaarwater.contact.models import Channel, Message, MessageStatus, OptOut
from vaarwater.core.money import format_eur
from vaarwater.law.payday import next_payday
from vaarwater.ledger.models import ContactKind, ContactPoint, Debtor, Invoice
from vaarwater.ledger.selectors import DebtorPosition, debtor_position
from vaarwater.payments.sepa_models import Collection, CollectionStatus
from vaarwater.strategy.models import Case, CaseStatus, Hold, HoldKind

from .models import CallAttempt, CallOutcome
from .timeline import (
    CATEGORY_LABELS,
    FILTERS,
    category_counts,
    category_q,
    debtor_timeline,
    timeline_rows,
)

# The newest events the view shows at most; the counts above the timeline tell the rest.
TIMELINE_LIMIT = 500
# Contact evidence younger than this confirms a contact point; older evidence says it worked.
RECENT_DAYS = 180
# Messages read for the contact evidence, newest first: enough for years of reminders.
EVIDENCE_MESSAGES = 1000

SCOPES = {
    "case": gettext_lazy("This case"),
    "all": gettext_lazy("Everything for this customer"),
}
FILTER_LABELS = {"all": gettext_lazy("All"), **CATEGORY_LABELS}

# Which channel uses a contact point of each kind (an opt-out of that channel concerns it).
KIND_CHANNELS = {
    ContactKind.EMAIL: (Channel.EMAIL,),
    ContactKind.PHONE: (Channel.SMS,),
    ContactKind.WHATSAPP: (Channel.WHATSAPP,),
}
QUALITY_LABELS = {
    "confirmed": gettext_lazy("confirmed"),
    "works": gettext_lazy("works"),
    "unknown": gettext_lazy("unknown"),
    "invalid": gettext_lazy("invalid"),
}
DELIVERED = (MessageStatus.DELIVERED, MessageStatus.READ)
UNDELIVERED = (MessageStatus.FAILED, MessageStatus.BOUNCED)


def customer_view(case: Case, *, show: str = "all", scope: str = "case", today=None) -> dict:
    """The template context of ``workspace/_customer_view.html`` for one case.

    ``show`` filters the timeline on a category (all, money, contact, calls, decisions);
    ``scope`` is "case" (what happened while the case ran) or "all" (everything ever recorded
    for the debtor at this creditor). Unknown values fall back to all and case. The number of
    queries does not grow with the number of events, contact points or messages."""
    today = today or timezone.localdate()
    show = show if show in FILTERS else "all"
    scope = scope if scope in SCOPES else "case"
    debtor = case.debtor
    scoped = debtor_timeline(case, scope=scope)
    counts = category_counts(scoped)
    shown = scoped.filter(category_q(show)) if show != "all" else scoped
    events = timeline_rows(shown[:TIMELINE_LIMIT], creditor_id=case.creditor_id)
    position = debtor_position(debtor)
    contacts = contact_qualities(debtor, now=timezone.now())
    household = household_of(case, today=today)
    risk = risk_of(case, today=today, position=position, contacts=contacts)
    return {
        "case": case,
        "debtor": debtor,
        "today": today,
        "events": events,
        "show": show,
        "scope": scope,
        "filters": [
            {"code": code, "label": FILTER_LABELS[code], "count": counts[code]} for code in FILTERS
        ],
        "scopes": [{"code": code, "label": label} for code, label in SCOPES.items()],
        "event_count": counts[show],
        "limited": counts[show] > len(events),
        "contacts": contacts,
        "opted_out": sorted(contacts.opted_out_labels),
        **household,
        "balance": balance_of(position),
        "open_invoices": open_invoices(position, today=today),
        "risk": risk,
        "risk_label": RISK_LEVEL_LABELS[risk.level],
    }


# -- balance -----------------------------------------------------------------------------------


def balance_of(position: DebtorPosition) -> dict[str, int]:
    """The balance and its parts in cents: principal, costs, interest, less any credit."""
    items = position.items.values()
    return {
        "principal": sum(item.principal for item in items),
        "costs": sum(item.costs for item in items),
        "interest": sum(item.interest for item in items),
        "credit": max(position.credit, 0),
        "total": position.balance,
    }


def open_invoices(position: DebtorPosition, *, today: date) -> list[dict]:
    """The invoices with something open, oldest due first, with their days past due."""
    items = sorted(position.items.values(), key=lambda it: (it.due_date, it.invoice_id))
    items = [item for item in items if item.total > 0]
    numbers = dict(
        Invoice.objects.filter(pk__in=[item.invoice_id for item in items]).values_list(
            "pk", "external_id"
        )
        if items
        else ()
    )
    return [
        {
            "number": numbers.get(item.invoice_id, ""),
            "due_date": item.due_date,
            "days_past_due": max((today - item.due_date).days, 0),
            "principal": item.principal,
            "costs": item.costs,
            "interest": item.interest,
            "total": item.total,
        }
        for item in items
    ]


# -- contact points and their quality ------------------------------------------------------------


@dataclass
class PointQuality:
    """One contact point with what the messages and calls to it show, and a verdict."""

    point: ContactPoint
    quality: str = "unknown"  # confirmed | works | unknown | invalid
    reason: str = ""
    last_delivered: datetime | None = None
    last_delivered_channel: str = ""
    last_failed: datetime | None = None
    last_failed_status: str = ""
    last_failed_error: str = ""
    right_party: int = 0
    reached: int = 0
    no_answer: int = 0
    wrong_number: int = 0
    last_right_party: datetime | None = None
    last_reached: datetime | None = None
    last_wrong_number: datetime | None = None
    opted_out: list[str] = field(default_factory=list)  # channel codes

    @property
    def opted_out_labels(self) -> list[str]:
        return [str(Channel(code).label) for code in self.opted_out]

    @property
    def quality_label(self) -> str:
        return str(QUALITY_LABELS[self.quality])

    @property
    def usable(self) -> bool:
        """Not invalid, and its channel is not opted out (a phone can still be called)."""
        if self.quality == "invalid":
            return False
        return self.point.kind == ContactKind.PHONE or not self.opted_out


class ContactQualities(list):
    """The debtor's contact points with their quality, and the channels opted out of."""

    opted_out: set[str]
    opted_out_labels: set[str]

    @property
    def reachable(self) -> bool:
        """At least one phone number or email address that may work."""
        return any(q.usable for q in self)


def contact_qualities(debtor: Debtor, *, now: datetime) -> ContactQualities:
    """Each contact point of the debtor with its quality: confirmed, works, unknown, invalid.

    Four queries whatever the number of points: the points, the messages sent to them, the call
    outcomes per number and the live opt-outs."""
    points = list(ContactPoint.objects.filter(debtor=debtor).order_by("kind", "-created_at"))
    qualities = ContactQualities(PointQuality(point) for point in points)
    by_value = {}
    for quality in qualities:
        by_value.setdefault(quality.point.value.strip().lower(), []).append(quality)
    opted = set(
        OptOut.objects.filter(debtor=debtor, ended_at__isnull=True).values_list(
            "channel", flat=True
        )
    )
    qualities.opted_out = opted
    qualities.opted_out_labels = {str(Channel(c).label) for c in opted if c in Channel.values}
    if not points:
        return qualities
    sent = (
        Message.objects.filter(
            debtor=debtor, creditor_id=debtor.creditor_id, status__in=(*DELIVERED, *UNDELIVERED)
        )
        .exclude(recipient="")
        .order_by("-id")
        .annotate(delivered=Coalesce("read_at", "delivered_at", "sent_at", "updated_at"))
        .values("recipient", "channel", "status", "error", "delivered", "updated_at")[
            :EVIDENCE_MESSAGES
        ]
    )
    for row in sent:
        for quality in by_value.get(row["recipient"].strip().lower(), ()):
            if row["status"] in DELIVERED:
                if quality.last_delivered is None or row["delivered"] > quality.last_delivered:
                    quality.last_delivered = row["delivered"]
                    quality.last_delivered_channel = row["channel"]
            elif quality.last_failed is None or row["updated_at"] > quality.last_failed:
                quality.last_failed = row["updated_at"]
                quality.last_failed_status = row["status"]
                quality.last_failed_error = row["error"]
    calls = (
        CallAttempt.objects.filter(debtor=debtor, creditor_id=debtor.creditor_id)
        .exclude(phone="")
        .exclude(outcome="")
        .values("phone", "outcome")
        .annotate(n=Count("id"), last=Max("started_at"))
    )
    for row in calls:
        for quality in by_value.get(row["phone"].strip().lower(), ()):
            outcome = row["outcome"]
            if outcome in (CallOutcome.VOICEMAIL, CallOutcome.NO_ANSWER):
                quality.no_answer += row["n"]
                continue
            if outcome not in (
                CallOutcome.RIGHT_PARTY,
                CallOutcome.REACHED,
                CallOutcome.WRONG_NUMBER,
            ):
                continue
            setattr(quality, outcome, getattr(quality, outcome) + row["n"])
            last = getattr(quality, f"last_{outcome}")
            if last is None or row["last"] > last:
                setattr(quality, f"last_{outcome}", row["last"])
    for quality in qualities:
        quality.opted_out = [c for c in KIND_CHANNELS.get(quality.point.kind, ()) if c in opted]
        quality.quality, quality.reason = _verdict(quality, now=now)
    return qualities


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).date().isoformat()


def _verdict(q: PointQuality, *, now: datetime) -> tuple[str, str]:
    """The quality of one point and why, from the strongest evidence.

    Invalid: marked so (a bounce, the customer, an agent), or the last call that got through
    to the number found a wrong number. Confirmed: verified, delivered to or answered by the
    customer in the last ``RECENT_DAYS`` days. Works: the same, longer ago, or someone else
    answered. Unknown: nothing is known yet."""
    point = q.point
    if point.invalid_since is not None:
        return "invalid", _("marked invalid on %(day)s") % {"day": _day(point.invalid_since)}
    answered = max((d for d in (q.last_right_party, q.last_reached) if d), default=None)
    if q.last_wrong_number is not None and (answered is None or q.last_wrong_number > answered):
        return "invalid", _("wrong number on the call of %(day)s") % {
            "day": _day(q.last_wrong_number)
        }
    recent = now - timedelta(days=RECENT_DAYS)
    evidence = []  # (moment, text): what shows the point reaches the customer
    if point.verified_at is not None:
        evidence.append((point.verified_at, _("confirmed on %(day)s")))
    if q.last_delivered is not None:
        evidence.append((q.last_delivered, _("message delivered on %(day)s")))
    if q.last_right_party is not None:
        evidence.append((q.last_right_party, _("spoke with the customer on %(day)s")))
    if evidence:
        moment, text = max(evidence, key=lambda pair: pair[0])
        reason = text % {"day": _day(moment)}
        return ("confirmed" if moment >= recent else "works"), reason
    if q.last_reached is not None:
        return "works", _("someone else answered on %(day)s") % {"day": _day(q.last_reached)}
    if q.last_failed is not None:
        return "unknown", _("nothing delivered yet; the last message failed on %(day)s") % {
            "day": _day(q.last_failed)
        }
    return "unknown", _("never confirmed and nothing delivered yet")


# -- household, affordability, plan and promise --------------------------------------------------


def household_of(case: Case, *, today: date) -> dict:
    """The latest assessment of the debtor with its reckoning, the payday, the active plan with
    its instalments, and the open promise; ``plan_url`` leads to the questions when nothing is
    known."""
    from vaarwater.portal.plan_views import explanation_rows

    debtor = case.debtor
    assessment = (
        Assessment.objects.filter(debtor=debtor, creditor_id=case.creditor_id)
        .order_by("-created_at", "-id")
        .first()
    )
    payday = payday_of(debtor, assessment)
    next_day = next_payday(today, day=payday.day, cycle=payday.cycle, anchor=payday.anchor)
    plan = (
        Arrangement.objects.filter(case=case, status=ArrangementStatus.ACTIVE)
        .prefetch_related("instalments")
        .first()
    )
    instalments = sorted(plan.instalments.all(), key=lambda i: i.number) if plan else []
    promise = (
        Promise.objects.filter(case=case, status=PromiseStatus.OPEN)
        .order_by("-made_on", "-id")
        .first()
    )
    return {
        "assessment": assessment,
        "assessment_lines": explanation_rows(assessment) if assessment else [],
        "payday": {
            "day": payday.day or (payday.anchor.day if payday.anchor else None),
            "cycle": payday.cycle,
            "anchor": payday.anchor,
            "next": next_day,
        },
        "plan": plan,
        "plan_instalments": instalments,
        "plan_paid": sum(1 for i in instalments if i.status == InstalmentStatus.PAID),
        "plan_missed": sum(1 for i in instalments if i.status == InstalmentStatus.MISSED),
        "plan_open": sum(1 for i in instalments if i.status == InstalmentStatus.OPEN),
        "plan_next": next((i for i in instalments if i.status == InstalmentStatus.OPEN), None),
        "promise": promise,
        "household_known": assessment is not None or plan is not None or promise is not None,
        "plan_url": reverse("workspace:case_plan", args=[case.pk]),
    }


# -- risk ------------------------------------------------------------------------------------------


class Risk(NamedTuple):
    """A placeholder risk: rule-based and explainable, until the early-warning model comes."""

    level: str  # low | medium | high
    score: int  # 0-100
    reasons: list[str]  # each with its weight, heaviest first


RISK_LEVEL_LABELS = {
    "low": gettext_lazy("low"),
    "medium": gettext_lazy("medium"),
    "high": gettext_lazy("high"),
}
MEDIUM_FROM, HIGH_FROM = 30, 60
# Days past due of the oldest open invoice: (more than, weight).
OVERDUE_WEIGHTS = ((90, 30), (60, 20), (30, 10), (0, 5))
# Balance in cents: (at least, weight).
BALANCE_WEIGHTS = ((250_000, 15), (100_000, 10), (25_000, 5))
# Repeated facts: (weight each, at most).
BROKEN_PROMISE = (10, 20)
BREACHED_PLAN = (15, 30)
MISSED_INSTALMENT = (5, 15)
RETURNED_DEBIT = (10, 20)
EARLIER_CASE = (5, 15)
UNREACHABLE = 15
HOLD_WEIGHTS = {HoldKind.DISPUTE: 10, HoldKind.DEBT_HELP: 15, HoldKind.BREATHING_SPACE: 15}


def _eur(cents: int) -> str:
    return format_eur(cents, language=(get_language() or "nl")[:2])


def _repeated(count: int, weights: tuple[int, int]) -> int:
    each, most = weights
    return min(count * each, most)


def risk_of(
    target: Case | Debtor,
    *,
    today: date | None = None,
    position: DebtorPosition | None = None,
    contacts: ContactQualities | None = None,
) -> Risk:
    """How likely the debtor is not to pay without help, as low/medium/high with a score and
    the reasons that add up to it (weights in docs/workspace.md).

    A placeholder until the early-warning issue brings the real model: a sum of explainable
    rules over facts that exist today. ``target`` is a case, or a debtor (their latest open
    case is used, if any). ``position`` and ``contacts`` save their queries when the caller has
    them already."""
    today = today or timezone.localdate()
    if isinstance(target, Case):
        case, debtor = target, target.debtor
    else:
        debtor = target
        case = (
            Case.objects.filter(debtor=debtor)
            .exclude(status=CaseStatus.CLOSED)
            .order_by("-opened_on", "-id")
            .first()
        )
    position = position if position is not None else debtor_position(debtor)
    contacts = contacts if contacts is not None else contact_qualities(debtor, now=timezone.now())
    factors: list[tuple[int, str]] = []

    due_dates = [item.due_date for item in position.items.values() if item.total > 0]
    if due_dates:
        days = (today - min(due_dates)).days
        for more_than, weight in OVERDUE_WEIGHTS:
            if days > more_than:
                factors.append(
                    (
                        weight,
                        ngettext(
                            "the oldest open invoice is %(days)d day past its due date",
                            "the oldest open invoice is %(days)d days past its due date",
                            days,
                        )
                        % {"days": days},
                    )
                )
                break
    for at_least, weight in BALANCE_WEIGHTS:
        if position.balance >= at_least:
            factors.append(
                (
                    weight,
                    _("%(balance)s is open (%(limit)s or more)")
                    % {"balance": _eur(position.balance), "limit": _eur(at_least)},
                )
            )
            break

    promises = Promise.objects.filter(debtor=debtor, status=PromiseStatus.BROKEN).count()
    if promises:
        factors.append(
            (
                _repeated(promises, BROKEN_PROMISE),
                ngettext("%(n)d promise to pay broken", "%(n)d promises to pay broken", promises)
                % {"n": promises},
            )
        )
    plans = Arrangement.objects.filter(debtor=debtor).aggregate(
        breached=Count("id", filter=Q(status=ArrangementStatus.BREACHED)),
        misses=Sum("misses"),
    )
    if plans["breached"]:
        n = plans["breached"]
        factors.append(
            (
                _repeated(n, BREACHED_PLAN),
                ngettext("%(n)d payment plan broken off", "%(n)d payment plans broken off", n)
                % {"n": n},
            )
        )
    if plans["misses"]:
        n = plans["misses"]
        factors.append(
            (
                _repeated(n, MISSED_INSTALMENT),
                ngettext("%(n)d instalment missed", "%(n)d instalments missed", n) % {"n": n},
            )
        )
    returned = Collection.objects.filter(debtor=debtor, status=CollectionStatus.RETURNED).count()
    if returned:
        factors.append(
            (
                _repeated(returned, RETURNED_DEBIT),
                ngettext(
                    "%(n)d direct debit returned (storno)",
                    "%(n)d direct debits returned (storno)",
                    returned,
                )
                % {"n": returned},
            )
        )
    earlier = Case.objects.filter(debtor=debtor)
    if case is not None:
        earlier = earlier.filter(opened_on__lt=case.opened_on).exclude(pk=case.pk)
    else:
        earlier = earlier.filter(status=CaseStatus.CLOSED)
    earlier = earlier.count()
    if earlier:
        factors.append(
            (
                _repeated(earlier, EARLIER_CASE),
                ngettext(
                    "%(n)d earlier case: paid late before",
                    "%(n)d earlier cases: often pays late",
                    earlier,
                )
                % {"n": earlier},
            )
        )
    if not contacts.reachable:
        factors.append((UNREACHABLE, _("no working phone number or email address")))
    holds = set(
        Hold.objects.filter(
            case__debtor=debtor,
            released_on__isnull=True,
            starts_on__lte=today,
            until__gte=today,
            kind__in=list(HOLD_WEIGHTS),
        ).values_list("kind", flat=True)
    )
    for kind, weight in HOLD_WEIGHTS.items():
        if kind in holds:
            factors.append((weight, _("on hold: %(kind)s") % {"kind": HoldKind(kind).label}))

    factors.sort(key=lambda pair: -pair[0])
    score = min(sum(weight for weight, _text in factors), 100)
    level = "high" if score >= HIGH_FROM else "medium" if score >= MEDIUM_FROM else "low"
    return Risk(level, score, [f"{text} (+{weight})" for weight, text in factors])
