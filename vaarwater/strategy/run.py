"""The daily run: every open case moves at most one well-explained decision further per day.

The run is set-based and works in chunks of debtors:

1. holds whose until-date has passed are released and their cases resume;
2. the debtors to look at are found with two set-based queries: those with an active case
   and those whose overdue items are not covered by their payments;
3. each chunk (a few thousand debtors) loads all facts it needs with a handful of queries,
   decides in memory and writes everything with bulk inserts, in one transaction.

A chunk either commits whole or not at all, a case gets at most one decision per day (a unique
constraint), messages carry an idempotency key and costs a one-per-case row: running a day
again, or again after a crash halfway, does nothing twice. Chunks run in-process, or on Celery
workers when a broker is configured (``VAARWATER_BROKER_URL``).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import os
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from vaarwater.contact.learning import choose, debtor_history, segment_priors
from vaarwater.contact.models import CallTask, Message, MessageStatus, OptOut
from vaarwater.core.db import instances_insert, rows_update
from vaarwater.core.events import Actor, event_fields
from vaarwater.core.models import Event
from vaarwater.core.money import format_eur, from_cents, to_cents
from vaarwater.law import (
    add_business_days,
    collection_costs,
    is_business_day,
    is_public_holiday,
    roll_forward,
    statutory_interest,
    wki_cap,
)
from vaarwater.law.payday import next_payday
from vaarwater.ledger.models import (
    Component,
    ContactPoint,
    Creditor,
    Debtor,
    EntryKind,
    Invoice,
    LedgerEntry,
)
from vaarwater.ledger.selectors import DebtorPosition, open_positions

from .documents import current_version, version_strategy
from .models import (
    Case,
    CaseStatus,
    CaseTransition,
    CloseReason,
    CostCharge,
    DailyRun,
    Decision,
    Handover,
    Hold,
    HoldKind,
    LegalNotice,
    MunicipalSignal,
    Outcome,
    StrategyVersion,
)
from .schema import Condition, Strategy
from .selectors import step_due
from .services import transition_rows

log = logging.getLogger(__name__)
TZ = ZoneInfo("Europe/Amsterdam")
ONE_DAY = timedelta(days=1)
DEFAULT_CHUNK = 2000
# Events that count as a reply from the debtor for a ``wait_reply`` step.
REPLY_VERBS = (
    "message.replied",
    "portal.visited",
    "payment.booked",
    "call.answered",
    "promise.made",
    "problem.reported",
    "portal.opened",
    "portal.login",
    "portal.chat_question",
    "deferral.requested",
    "callback.requested",
    "breathing_space.requested",
    "payment.started",
)
LETTER_WORDING = "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief"
WRITTEN = ("letter", "email")
# Templates that announce a hand-over: never sent when the hand-over itself would not happen.
HANDOVER_NOTICES = frozenset({"overdracht-aankondiging"})
PARKING_REASONS = (CloseReason.HANDED_OVER, CloseReason.STRATEGY, CloseReason.MANUAL)
PERSONAL = ("sms", "whatsapp", "phone")
STEP_NAMES = {
    "message": "bericht",
    "call_task": "beltaak",
    "fourteen_day_letter": "veertiendagenbrief",
    "charge_costs": "incassokosten",
    "start_interest": "wettelijke rente",
    "offer_arrangement": "regeling aanbieden",
    "municipal_signal": "signaal aan gemeente",
    "hand_over": "overdracht",
    "pause": "pauze",
    "close": "sluiten",
    "wait_promise": "wachten op betaalbelofte",
    "wait_reply": "wachten op reactie",
}
CHANNEL_NAMES = {
    "email": "e-mail",
    "sms": "sms",
    "whatsapp": "WhatsApp",
    "letter": "brief",
    "phone": "telefoon",
}


def _d(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"


@functools.cache
def contact_allowed_on(day: date) -> bool:
    """Contact is allowed Monday to Saturday, except on public holidays."""
    return day.weekday() != 6 and not is_public_holiday(day)


def variant_draw(strategy_name: str, debtor_id: int, opened_on: date) -> Decimal:
    """A stable, uniform draw in [0, 100) for a case: the same case always gets the same one.

    >>> variant_draw("energie", 1, date(2026, 11, 23)) == variant_draw("energie", 1,
    ...     date(2026, 11, 23))
    True
    """
    digest = hashlib.blake2b(
        f"{strategy_name}:{debtor_id}:{opened_on.isoformat()}".encode(), digest_size=8
    ).digest()
    return (Decimal(int.from_bytes(digest, "big")) * 100 / Decimal(2**64)).quantize(
        Decimal("0.0001"), rounding="ROUND_DOWN"
    )


def variant_for(strategy: Strategy, draw: Decimal) -> str:
    """Challengers take consecutive slices of [0, 100); the champion keeps the rest."""
    edge = Decimal(0)
    for name, share in strategy.variant_shares():
        edge += share
        if draw < edge:
            return name
    return "champion"


@dataclass
class Facts:
    """What segments and steps may look at, for one debtor on the run's day."""

    debtor: dict
    position: DebtorPosition
    overdue: list
    claim: int  # overdue open amount minus credit, cents
    reachable: set[str]
    first_time: bool
    sector: str
    broken_promises: int = 0  # promises to pay the debtor broke (arrangements app)

    def days_past_due(self, on: date) -> int:
        return (on - min(item.due_date for item in self.overdue)).days if self.overdue else 0


def condition_matches(cond: Condition, facts: Facts, on: date) -> bool:
    """Whether every condition given holds; structured comparisons only, never ``eval``."""
    dpd = facts.days_past_due(on)
    checks = (
        (cond.days_past_due_min, lambda v: dpd >= v),
        (cond.days_past_due_max, lambda v: dpd <= v),
        (cond.balance_min, lambda v: facts.claim >= v),
        (cond.balance_max, lambda v: facts.claim <= v),
        (cond.open_items_min, lambda v: len(facts.overdue) >= v),
        (cond.open_items_max, lambda v: len(facts.overdue) <= v),
        (cond.first_time, lambda v: facts.first_time == v),
        (cond.vulnerable, lambda v: bool(facts.debtor["vulnerable"]) == v),
        (
            cond.risk_score_min,
            lambda v: facts.debtor["risk_score"] is not None and facts.debtor["risk_score"] >= v,
        ),
        (
            cond.risk_score_max,
            lambda v: facts.debtor["risk_score"] is not None and facts.debtor["risk_score"] <= v,
        ),
    )
    for value, check in checks:
        if value is not None and not check(value):
            return False
    if cond.broken_promises_min is not None and facts.broken_promises < cond.broken_promises_min:
        return False
    if any(channel not in facts.reachable for channel in cond.reachable):
        return False
    if any(channel in facts.reachable for channel in cond.unreachable):
        return False
    return not (cond.sector and facts.sector not in cond.sector)


def segment_for(strategy: Strategy, facts: Facts, on: date):
    for segment in strategy.segments:
        if condition_matches(segment.when, facts, on):
            return segment
    raise AssertionError("the last segment matches every case")  # the schema guarantees it


CASE_FIELDS = (
    "status",
    "closed_on",
    "close_reason",
    "step_index",
    "last_step_on",
    "last_decision_on",
    "interest_from",
    "interest_posted_until",
    "waiting_since",
    "updated_at",
)


@dataclass
class Writes:
    """Everything one chunk writes, gathered and then inserted in bulk."""

    holds: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    events: list = field(default_factory=list)
    transitions: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    charges: list = field(default_factory=list)  # (CostCharge, entry index)
    signals: list = field(default_factory=list)
    handovers: list = field(default_factory=list)
    files: list = field(default_factory=list)  # (path, text) written before commit
    changed: dict = field(default_factory=dict)  # case id -> case
    closed: list = field(default_factory=list)  # case ids whose open holds end with them
    credit_debtors: set = field(default_factory=set)


class Chunk:
    """Decides for one chunk of debtors on one day."""

    def __init__(self, run_date: date, debtor_ids: list[int], *, dry_run: bool, actor: Actor):
        self.on = run_date
        self.ids = sorted(debtor_ids)
        self.dry_run = dry_run
        self.actor = actor
        self.counts: Counter = Counter()
        self.detail: list[list] = []
        self.w = Writes()
        self.versions: dict[int, StrategyVersion] = {}
        self.creditors: dict[int, Creditor] = {}

    # -- loading -----------------------------------------------------------------------------

    def load(self):
        ids = self.ids
        self.debtors = {
            row["id"]: row
            for row in Debtor.objects.filter(id__in=ids).values(
                "id",
                "creditor_id",
                "external_id",
                "name",
                "street",
                "house_number",
                "postcode",
                "city",
                "language",
                "payday_day",
                "payday_cycle",
                "payday_anchor",
                "vulnerable",
                "risk_score",
                "preferred_channel",
                "preferred_time",
            )
        }
        self.positions = open_positions(ids)
        self.points: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for debtor_id, kind, value in ContactPoint.objects.filter(
            debtor_id__in=ids, invalid_since__isnull=True
        ).values_list("debtor_id", "kind", "value"):
            self.points[debtor_id].append((kind, value))
        self.opted_out: dict[int, set[str]] = defaultdict(set)
        for debtor_id, channel in OptOut.objects.filter(
            debtor_id__in=ids, ended_at__isnull=True
        ).values_list("debtor_id", "channel"):
            self.opted_out[debtor_id].add(channel)
        # What earlier messages led to, as known at the start of the run's day.
        self.history = debtor_history(ids, now=datetime.combine(self.on, time.min, TZ))
        cases = Case.objects.filter(debtor_id__in=ids).exclude(status=CaseStatus.CLOSED)
        if connection.features.has_select_for_update:
            cases = cases.select_for_update()
        self.cases = {case.debtor_id: case for case in cases}
        self.closed_before = set()
        # Debts a closed case left open on purpose (handed over, closed by the strategy or by
        # hand) do not open a new case by themselves; a newer overdue item does.
        self.parked: dict[int, date] = {}
        for debtor_id, reason, closed_on in Case.objects.filter(
            debtor_id__in=ids, status=CaseStatus.CLOSED
        ).values_list("debtor_id", "close_reason", "closed_on"):
            self.closed_before.add(debtor_id)
            if reason in PARKING_REASONS:
                self.parked[debtor_id] = max(closed_on, self.parked.get(debtor_id, closed_on))
        creditor_ids = {row["creditor_id"] for row in self.debtors.values()}
        self.creditors = {c.pk: c for c in Creditor.objects.filter(pk__in=creditor_ids)}
        self._load_case_facts()
        from vaarwater.arrangements.selectors import broken_promise_counts

        self.broken_promises = broken_promise_counts(ids)
        self.contacts = Counter()
        self.contacts_today = Counter()
        week_start = datetime.combine(self.on - timedelta(days=6), time.min, TZ)
        day_start = datetime.combine(self.on, time.min, TZ)
        day_end = day_start + ONE_DAY
        for model, column in ((Message, "not_before"), (CallTask, "window_start")):
            rows = (
                model.objects.filter(
                    debtor_id__in=ids,
                    **{f"{column}__gte": week_start, f"{column}__lt": day_end},
                )
                .exclude(status__in=("cancelled", MessageStatus.FAILED))
                .values_list("debtor_id", column)
            )
            for debtor_id, moment in rows:
                self.contacts[debtor_id] += 1
                if moment >= day_start:
                    self.contacts_today[debtor_id] += 1

    def _load_case_facts(self):
        case_ids = [case.pk for case in self.cases.values()]
        self.notices = {n.case_id: n for n in LegalNotice.objects.filter(case_id__in=case_ids)}
        self.charged = set(
            CostCharge.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True)
        )
        from vaarwater.arrangements.models import Arrangement, ArrangementStatus

        # Cases with a running payment plan: the plan, not "nothing overdue", ends them.
        self.planned = set(
            Arrangement.objects.filter(
                case_id__in=case_ids, status=ArrangementStatus.ACTIVE
            ).values_list("case_id", flat=True)
        )

    def version(self, version_id: int) -> StrategyVersion:
        if version_id not in self.versions:
            self.versions[version_id] = StrategyVersion.objects.get(pk=version_id)
        return self.versions[version_id]

    def facts(self, debtor_id: int) -> Facts:
        debtor = self.debtors[debtor_id]
        position = self.positions[debtor_id]
        overdue = sorted(
            (item for item in position.items.values() if item.due_date < self.on),
            key=lambda item: (item.due_date, item.invoice_id),
        )
        reachable = set()
        for kind, value in self.points.get(debtor_id, ()):
            if kind == "email":
                reachable.add("email")
            elif kind == "phone":
                reachable.add("phone")
                if value.startswith("+316"):
                    reachable.add("sms")
            elif kind == "whatsapp":
                reachable.add("whatsapp")
        if debtor["street"] and debtor["postcode"] and debtor["city"]:
            reachable.add("letter")
        reachable -= self.opted_out.get(debtor_id, set())
        creditor = self.creditors[debtor["creditor_id"]]
        return Facts(
            debtor=debtor,
            position=position,
            overdue=overdue,
            claim=sum(item.total for item in overdue) - position.credit,
            reachable=reachable,
            first_time=debtor_id not in self.closed_before,
            sector=creditor.sector,
            broken_promises=self.broken_promises.get(debtor_id, 0),
        )

    # -- deciding ----------------------------------------------------------------------------

    def run(self):
        self.load()
        facts = {
            debtor_id: self.facts(debtor_id) for debtor_id in self.ids if debtor_id in self.debtors
        }
        self.open_new(facts)
        for debtor_id, fact in facts.items():
            case = self.cases.get(debtor_id)
            if case is None:
                continue
            if fact.claim <= 0:
                if case.pk in self.planned and fact.position.balance > 0:
                    # A plan with money still to come keeps its case: the items it covers that
                    # are not overdue yet would close it as paid and stop the plan.
                    self.counts["plan running, nothing overdue"] += 1
                    continue
                self.close_paid(case)
                continue
            if case.status == CaseStatus.HELD:
                self.counts["held, skipped"] += 1
                continue
            self.post_interest(case, fact)
            self.advance(case, fact)
        self.write()
        return self.counts

    def open_new(self, facts: dict[int, Facts]):
        new = []
        for debtor_id, fact in facts.items():
            if debtor_id in self.cases or fact.claim <= 0 or not fact.overdue:
                continue
            creditor = self.creditors[fact.debtor["creditor_id"]]
            version = self._current(creditor)
            strategy = version_strategy(version)
            grace = strategy.settings.grace_days
            parked = self.parked.get(debtor_id)
            late = [
                item
                for item in fact.overdue
                if (self.on - item.due_date).days > grace
                and (parked is None or item.due_date > parked)
            ]
            if not late:
                continue
            segment = segment_for(strategy, fact, self.on)
            draw = variant_draw(strategy.strategy, debtor_id, self.on)
            new.append(
                (
                    Case(
                        creditor_id=creditor.pk,
                        debtor_id=debtor_id,
                        status=CaseStatus.OPEN,
                        opened_on=self.on,
                        strategy_version=version,
                        variant=variant_for(strategy, draw),
                        variant_draw=draw,
                        segment=segment.name,
                        path=segment.path,
                        anchor_due=late[0].due_date,
                    ),
                    fact,
                    segment,
                    grace,
                )
            )
        if not new:
            return
        Case.objects.bulk_create([row[0] for row in new], batch_size=1000)
        for case, fact, segment, grace in new:
            self.cases[case.debtor_id] = case
            version = self.version(case.strategy_version_id)
            reason = (
                f"{format_eur(fact.claim)} achterstand, oudste vervaldatum "
                f"{_d(case.anchor_due)} ({fact.days_past_due(self.on)} dagen, meer dan "
                f"{grace} dagen coulance); strategie {version.label}, segment "
                f"'{segment.label}', pad {case.path}"
                + (f", variant {case.variant}" if case.variant != "champion" else "")
            )
            transition, event = transition_rows(
                case, None, CaseStatus.OPEN, "opened", reason, self.on, self.actor
            )
            event.data.update(
                {
                    "segment": case.segment,
                    "path": case.path,
                    "variant": case.variant,
                    "variant_draw": str(case.variant_draw),
                    "strategy_version": version.pk,
                    "claim_cents": fact.claim,
                }
            )
            self.w.transitions.append(transition)
            self.w.events.append(event)
            self.counts["cases opened"] += 1
            self.detail.append(self._detail_row(case, "open", "", "", "done", reason))

    def _current(self, creditor) -> StrategyVersion:
        key = ("current", creditor.pk)
        if key not in self.versions:
            version = current_version(creditor, self.on)
            self.versions[key] = version
            self.versions[version.pk] = version
        return self.versions[key]

    def close_paid(self, case: Case):
        if case.status == CaseStatus.CLOSED:
            return
        last = self.last_write_off(case.debtor_id)
        written_off = last is not None and last >= case.opened_on
        code = CloseReason.WRITTEN_OFF if written_off else CloseReason.PAID
        reason = (
            "het openstaande bedrag is afgeboekt"
            if written_off
            else "alles wat te laat was, is betaald"
        )
        self.close(case, code, reason)

    def last_write_off(self, debtor_id: int) -> date | None:
        """The day of a debtor's last write-off; one query for the whole chunk."""
        if not hasattr(self, "_write_offs"):
            rows = (
                LedgerEntry.objects.filter(debtor_id__in=self.ids, kind=EntryKind.WRITE_OFF)
                .values("debtor_id")
                .annotate(last=Max("booked_on"))
                .values_list("debtor_id", "last")
            )
            self._write_offs = dict(rows)
        return self._write_offs.get(debtor_id)

    def recent_costs(self, debtor_id: int) -> int:
        """Costs booked for a debtor in the last six months (the Wki cap); one query a chunk."""
        if not hasattr(self, "_recent_costs"):
            rows = (
                LedgerEntry.objects.filter(
                    debtor_id__in=self.ids,
                    kind=EntryKind.COST,
                    component=Component.COSTS,
                    booked_on__gt=self.on - timedelta(days=183),
                )
                .values("debtor_id")
                .annotate(s=Sum("amount_cents"))
                .values_list("debtor_id", "s")
            )
            self._recent_costs = {debtor_id: int(total) for debtor_id, total in rows}
        return self._recent_costs.get(debtor_id, 0)

    def interest_booked(self, invoice_id: int) -> int:
        """Interest booked on an invoice so far, reversals included; one query a chunk."""
        if not hasattr(self, "_interest"):
            rows = (
                LedgerEntry.objects.filter(debtor_id__in=self.ids, component=Component.INTEREST)
                .values("invoice_id")
                .annotate(s=Sum("amount_cents"))
                .values_list("invoice_id", "s")
            )
            self._interest = {invoice: int(total) for invoice, total in rows}
        return self._interest.get(invoice_id, 0)

    def invoice_number(self, invoice_id: int) -> str:
        """The number of an open invoice of the chunk; one query for all of them."""
        if not hasattr(self, "_numbers"):
            open_ids = [i for position in self.positions.values() for i in position.items]
            self._numbers = dict(
                Invoice.objects.filter(pk__in=open_ids).values_list("pk", "external_id")
            )
        return self._numbers[invoice_id]

    def close(self, case: Case, code: str, reason: str):
        transition, event = transition_rows(
            case, case.status, CaseStatus.CLOSED, code, reason, self.on, self.actor
        )
        self.w.transitions.append(transition)
        self.w.events.append(event)
        case.status = CaseStatus.CLOSED
        case.closed_on = self.on
        case.close_reason = code
        self.w.changed[case.pk] = case
        self.counts[f"cases closed ({code})"] += 1
        self.w.closed.append(case.pk)
        self.detail.append(self._detail_row(case, "close", "", "", code, reason))

    def advance(self, case: Case, fact: Facts):
        if case.last_decision_on == self.on:
            return  # at most one decision per case per day; a rerun stops here
        version = self.version(case.strategy_version_id)
        strategy = version_strategy(version)
        steps = strategy.path_steps(case.path, case.variant)
        if case.step_index >= len(steps):
            self.counts["at the end of their path"] += 1
            return
        step = steps[case.step_index]
        notice = self.notices.get(case.pk) if step.step == "charge_costs" else None
        anchor, due = step_due(case, step, notice.term_ends_on if notice is not None else None)
        if self.on < due:
            self.counts["waiting for their next step"] += 1
            return
        ctx = StepContext(self, case, fact, version, strategy, step, anchor)
        getattr(ctx, f"do_{step.step}")()

    # -- interest ----------------------------------------------------------------------------

    def post_interest(self, case: Case, fact: Facts):
        """Book statutory interest to date every 30 days once a case's interest has started."""
        if case.interest_posted_until is None or (self.on - case.interest_posted_until).days < 30:
            return
        strategy = version_strategy(self.version(case.strategy_version_id))
        lines = self.interest_lines(case, fact, strategy.settings.interest_kind)
        if not lines:
            return
        total = sum(cents for _, cents, _ in lines)
        reason = f"wettelijke rente bijgeboekt tot {_d(self.on)}: {format_eur(total)}"
        for invoice_id, cents, text in lines:
            self.book(case, EntryKind.INTEREST, Component.INTEREST, invoice_id, cents, text)
        self.w.events.append(self.event(case, "interest.charged", reason, {"cents": total}))
        case.interest_posted_until = self.on
        self.w.changed[case.pk] = case
        self.counts["interest posted"] += 1

    def interest_lines(self, case: Case, fact: Facts, kind: str) -> list[tuple[int, int, str]]:
        """Interest per overdue invoice from the day after its due date, minus what is booked."""
        lines = []
        for item in fact.overdue:
            if item.principal <= 0:
                continue
            start = item.due_date + ONE_DAY
            if start >= self.on:
                continue
            due = to_cents(
                statutory_interest(from_cents(item.principal), start=start, end=self.on, kind=kind)
            )
            cents = due - self.interest_booked(item.invoice_id)
            if cents > 0:
                text = (
                    f"wettelijke rente ({kind}) over {format_eur(item.principal)} "
                    f"van factuur {self.invoice_number(item.invoice_id)}, "
                    f"{_d(start)} t/m {_d(self.on - ONE_DAY)}"
                )
                lines.append((item.invoice_id, cents, text))
        return lines

    # -- writing -----------------------------------------------------------------------------

    def book(self, case, kind, component, invoice_id, cents, description) -> int:
        self.w.entries.append(
            LedgerEntry(
                creditor_id=case.creditor_id,
                debtor_id=case.debtor_id,
                kind=kind,
                component=component,
                amount_cents=cents,
                booked_on=self.on,
                invoice_id=invoice_id,
                description=description[:500],
            )
        )
        if self.positions[case.debtor_id].credit > 0:
            self.w.credit_debtors.add(case.debtor_id)
        return len(self.w.entries) - 1

    def event(self, case, verb, reason, data=None, subject=None) -> Event:
        fields = event_fields(
            creditor=case.creditor_id,
            debtor=case.debtor_id,
            verb=verb,
            actor=self.actor,
            reason=reason,
            data={"case": case.pk, **(data or {})},
            on=self.on,
        )
        return Event(**fields)

    def _detail_row(self, case, step_kind, channel, template, outcome, reason):
        if not self.dry_run:
            return None  # the detail is only written for a dry run
        debtor = self.debtors[case.debtor_id]
        return [
            self.on.isoformat(),
            self.creditors[case.creditor_id].code,
            debtor["external_id"],
            case.reference if case.pk else "",
            case.segment,
            case.path,
            case.variant,
            step_kind,
            channel,
            template,
            outcome,
            reason,
        ]

    def write(self):
        w = self.w
        for path, text in w.files:
            if not self.dry_run:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
        # Rows nothing else in this write refers to by id go in without reading ids back.
        for model, objs in (
            (Hold, w.holds),
            (LegalNotice, w.notices),
            (Message, w.messages),
            (CallTask, w.calls),
            (Decision, w.decisions),
            (CaseTransition, w.transitions),
            (MunicipalSignal, w.signals),
            (Handover, w.handovers),
            (Event, w.events),
        ):
            instances_insert(model, objs)
        LedgerEntry.objects.bulk_create(w.entries, batch_size=1000)
        for charge, index in w.charges:
            charge.entry = w.entries[index]
        CostCharge.objects.bulk_create([charge for charge, _ in w.charges], batch_size=1000)
        if w.changed:
            now = timezone.now()
            rows_update(
                Case,
                CASE_FIELDS,
                [
                    (case.pk, *(getattr(case, name) for name in CASE_FIELDS[:-1]), now)
                    for case in w.changed.values()
                ],
            )
        if w.closed:
            Hold.objects.filter(case_id__in=w.closed, released_on__isnull=True).update(
                released_on=self.on, release_reason="dossier gesloten"
            )
        if w.credit_debtors:
            from vaarwater.ledger.services import credit_apply

            for debtor in Debtor.objects.filter(pk__in=w.credit_debtors):
                credit_apply(debtor=debtor, actor=self.actor)


class StepContext:
    """One case's step on the run's day: the handlers ``do_<kind>`` decide and record."""

    def __init__(self, chunk: Chunk, case, fact, version, strategy, step, anchor):
        self.chunk = chunk
        self.on = chunk.on
        self.case = case
        self.fact = fact
        self.version = version
        self.strategy = strategy
        self.settings = strategy.settings
        self.step = step
        self.anchor = anchor
        self.w = chunk.w

    # -- recording ---------------------------------------------------------------------------

    def why(self) -> str:
        """The standard reason prefix: strategy, segment, step and timing."""
        case, step = self.case, self.step
        segment = next((s for s in self.strategy.segments if s.name == case.segment), None)
        label = step.label or STEP_NAMES.get(step.step, step.step)
        since = "vervaldatum" if step.after == "due_date" else "vorige stap"
        timing = f"{step.day} {'dag' if step.day == 1 else 'dagen'} na {since}"
        if step.step == "charge_costs":
            timing = "na afloop van de termijn van de veertiendagenbrief"
        variant = f", variant {case.variant}" if case.variant != "champion" else ""
        return (
            f"strategie {self.version.label}{variant}, segment "
            f"'{segment.label if segment else case.segment}', stap {case.step_index + 1}: "
            f"{label}, {timing}"
        )

    def decide(
        self,
        outcome: str,
        detail: str = "",
        *,
        channel: str = "",
        template: str = "",
        data: dict | None = None,
        advance: bool = True,
    ):
        case, step = self.case, self.step
        reason = self.why() + (f"; {detail}" if detail else "")
        data = {
            "step_kind": step.step,
            "outcome": outcome,
            "strategy_version": self.version.pk,
            "variant": case.variant,
            "segment": case.segment,
            "path": case.path,
            "step": case.step_index,
            **(data or {}),
        }
        if channel:
            data["channel"] = channel
        self.w.decisions.append(
            Decision(
                case=case,
                creditor_id=case.creditor_id,
                debtor_id=case.debtor_id,
                run_date=self.on,
                strategy_version_id=self.version.pk,
                variant=case.variant,
                segment=case.segment,
                path=case.path,
                step_index=case.step_index,
                step_kind=step.step,
                channel=channel,
                template=template,
                outcome=outcome,
                reason=reason,
                data=data,
            )
        )
        self.w.events.append(self.chunk.event(case, "decision.made", reason, data))
        case.last_decision_on = self.on
        if advance:
            case.step_index += 1
            case.last_step_on = self.on
            case.waiting_since = None
        self.w.changed[case.pk] = case
        label = step.step + (f" {channel}" if channel else "")
        self.chunk.counts[f"{outcome}: {label}"] += 1
        self.chunk.detail.append(
            self.chunk._detail_row(case, step.step, channel, template, outcome, reason)
        )

    def defer_once(self, detail: str, cause: str):
        """Record why a due step waits, once per wait; later days of the same wait stay quiet."""
        if self.case.waiting_since is not None:
            self.chunk.counts[f"still deferred: {cause}"] += 1
            return
        self.case.waiting_since = self.on
        self.decide(Outcome.DEFERRED, detail, data={"cause": cause}, advance=False)

    # -- contact rules -----------------------------------------------------------------------

    def contact_gate(self, channel: str) -> bool:
        """Whether contact may happen today; records a deferral when a cap or payday says no."""
        if not contact_allowed_on(self.on):
            self.chunk.counts["contact waits: Sunday or holiday"] += 1
            return False
        if channel == "letter" and not is_business_day(self.on):
            self.chunk.counts["letter waits: no post today"] += 1
            return False
        caps = self.settings.contact_caps
        debtor_id = self.case.debtor_id
        if self.chunk.contacts_today[debtor_id] >= caps.per_day:
            self.defer_once(
                f"uitgesteld: al {self.chunk.contacts_today[debtor_id]} contact(en) vandaag "
                f"(maximum {caps.per_day} per dag)",
                "cap",
            )
            return False
        if self.chunk.contacts[debtor_id] >= caps.per_week:
            self.defer_once(
                f"uitgesteld: al {self.chunk.contacts[debtor_id]} contacten in 7 dagen "
                f"(maximum {caps.per_week} per week)",
                "cap",
            )
            return False
        return True

    def receipt(self, channel: str) -> date:
        if channel == "letter":
            return add_business_days(self.on, self.settings.letter_receipt_business_days)
        if channel == "email":
            return self.on + timedelta(days=self.settings.email_receipt_days)
        return self.on

    def payday_gate(self, channel: str) -> bool:
        """A payment demand lands just after payday, never in the days before it."""
        debtor = self.fact.debtor
        window = self.settings.payday_window_days
        if not window:
            return True
        lands = self.receipt(channel)
        payday = next_payday(
            lands,
            day=debtor["payday_day"],
            cycle=debtor["payday_cycle"],
            anchor=debtor["payday_anchor"],
        )
        if payday is None or (payday - lands).days > window:
            return True
        self.defer_once(
            f"uitgesteld tot na de betaaldag {_d(payday)}: zou aankomen op {_d(lands)}, "
            f"in de {window} dagen ervoor",
            "payday",
        )
        return False

    def resolve(self, wanted: str) -> tuple[str | None, str]:
        reachable = self.fact.reachable
        order = self.settings.best_channel_order
        if wanted == "best":
            hours = self.settings.contact_hours
            choice = choose(
                history=self.chunk.history.get(self.case.debtor_id, {}),
                priors=segment_priors(self.case.creditor_id, on=self.on),
                segment=self.case.segment,
                reachable=reachable,
                order=order,
                hours=(hours.start, hours.end),
                preferred=(
                    self.fact.debtor["preferred_channel"],
                    self.fact.debtor["preferred_time"],
                ),
            )
            if choice is None:
                return None, "geen bereikbaar kanaal"
            self.best_start = choice.start or None
            return choice.channel, choice.why
        if wanted in reachable:
            return wanted, ""
        # A written reminder stays written (it counts as one for the municipal signal).
        fallbacks = [c for c in order if c in WRITTEN] if wanted in WRITTEN else order
        for channel in fallbacks:
            if channel in reachable:
                return channel, (
                    f"{CHANNEL_NAMES[wanted]} niet bereikbaar, daarom {CHANNEL_NAMES[channel]}"
                )
        return None, f"{CHANNEL_NAMES[wanted]} niet bereikbaar en geen ander kanaal"

    def not_before(self, at: str | None) -> datetime:
        hours = self.settings.contact_hours
        clock = max(at or hours.start, hours.start)
        if clock >= hours.end:
            clock = hours.start
        hh, mm = map(int, clock.split(":"))
        return datetime.combine(self.on, time(hh, mm), TZ)

    def queue_message(self, channel, template, purpose, at, context=None, why=""):
        case = self.case
        self.w.messages.append(
            Message(
                creditor_id=case.creditor_id,
                debtor_id=case.debtor_id,
                case=case,
                channel=channel,
                template=template,
                language=self.fact.debtor["language"],
                purpose=purpose,
                not_before=self.not_before(at),
                idempotency_key=f"case-{case.pk}-{self.on.isoformat()}-{case.step_index}",
                why=why,
                context={
                    "case": case.reference,
                    "claim_cents": self.fact.claim,
                    "oldest_due": case.anchor_due.isoformat(),
                    **(context or {}),
                },
            )
        )
        self.chunk.contacts[case.debtor_id] += 1
        self.chunk.contacts_today[case.debtor_id] += 1

    # -- step handlers -----------------------------------------------------------------------

    def _message(self, wanted, template, purpose, at):
        self.best_start = None
        channel, why = self.resolve(wanted)
        if channel is None:
            self.decide(Outcome.SKIPPED, why, template=template, data={"purpose": purpose})
            return
        if not self.contact_gate(channel):
            return
        if purpose in ("reminder", "demand") and not self.payday_gate(channel):
            return
        self.queue_message(channel, template, purpose, at or self.best_start, why=why)
        detail = f"{CHANNEL_NAMES[channel]} '{template}' klaargezet" + (f" ({why})" if why else "")
        self.decide(
            Outcome.DONE, detail, channel=channel, template=template, data={"purpose": purpose}
        )

    def do_message(self):
        s = self.step
        if s.template in HANDOVER_NOTICES and self.fact.claim < self.settings.handover_min_balance:
            # Announcing a measure that will not be taken is not allowed (Wki conduct norms).
            self.decide(
                Outcome.SKIPPED,
                f"geen aankondiging van overdracht: {format_eur(self.fact.claim)} is minder dan "
                f"{format_eur(self.settings.handover_min_balance)}, dus er volgt geen overdracht",
                template=s.template,
            )
            return
        self._message(s.channel, s.template, s.purpose, s.at)

    def do_offer_arrangement(self):
        s = self.step
        self._message(s.channel, s.template, "plan_offer", s.at)

    def do_call_task(self):
        s, case = self.step, self.case
        if "phone" not in self.fact.reachable:
            self.decide(Outcome.SKIPPED, "geen geldig telefoonnummer")
            return
        if not self.contact_gate("phone"):
            return
        hours = self.settings.contact_hours
        start = max(s.start, hours.start)
        end = min(s.end, hours.end)
        if end <= start:
            start, end = hours.start, hours.end
        window_start = datetime.combine(self.on, time(*map(int, start.split(":"))), TZ)
        window_end = datetime.combine(self.on, time(*map(int, end.split(":"))), TZ)
        self.w.calls.append(
            CallTask(
                creditor_id=case.creditor_id,
                debtor_id=case.debtor_id,
                case=case,
                window_start=window_start,
                window_end=window_end,
                priority=s.priority,
                reason=self.why(),
                idempotency_key=f"case-{case.pk}-{self.on.isoformat()}-{case.step_index}",
            )
        )
        self.chunk.contacts[case.debtor_id] += 1
        self.chunk.contacts_today[case.debtor_id] += 1
        self.decide(
            Outcome.DONE, f"beltaak {start}-{end}", channel="phone", data={"priority": s.priority}
        )

    def do_fourteen_day_letter(self):
        s, case, fact = self.step, self.case, self.fact
        if case.pk in self.chunk.notices:
            self.decide(Outcome.SKIPPED, "de veertiendagenbrief is al verstuurd")
            return
        principal = sum(item.principal for item in fact.overdue)
        if principal <= 0:
            self.decide(Outcome.SKIPPED, "geen openstaande hoofdsom: geen incassokosten mogelijk")
            return
        channel = s.channel if s.channel in fact.reachable else None
        if channel is None:
            channel = next((c for c in ("letter", "email") if c in fact.reachable), None)
        if channel is None:
            self.decide(Outcome.SKIPPED, "geen adres en geen e-mailadres: brief niet mogelijk")
            return
        if not self.contact_gate(channel) or not self.payday_gate(channel):
            return
        costs, vat, how = self.stated_costs(principal)
        receipt = self.receipt(channel)
        # 14 days starting the day after receipt; a term ending on a weekend or holiday runs
        # on to the next business day (Algemene termijnenwet).
        term_end = roll_forward(receipt + timedelta(days=14))
        self.w.notices.append(
            LegalNotice(
                case=case,
                sent_on=self.on,
                channel=channel,
                receipt_on=receipt,
                term_ends_on=term_end,
                principal_cents=principal,
                costs_cents=costs,
                vat_cents=vat,
                wording=LETTER_WORDING,
            )
        )
        self.queue_message(
            channel,
            s.template,
            "demand",
            s.at,
            {
                "principal_cents": principal,
                "costs_cents": costs,
                "vat_cents": vat,
                "receipt_on": receipt.isoformat(),
                "term_ends_on": term_end.isoformat(),
                "term_wording": LETTER_WORDING,
            },
        )
        detail = (
            f"{CHANNEL_NAMES[channel]} verstuurd; ontvangst aangenomen {_d(receipt)}, "
            f"betaaltermijn {LETTER_WORDING}: tot en met {_d(term_end)}; "
            f"incassokosten bij niet betalen {format_eur(costs)} ({how})"
        )
        self.decide(
            Outcome.DONE,
            detail,
            channel=channel,
            template=s.template,
            data={
                "costs_cents": costs,
                "principal_cents": principal,
                "term_ends_on": term_end.isoformat(),
            },
        )

    def stated_costs(self, principal: int, add_vat: bool | None = None) -> tuple[int, int, str]:
        """WIK costs on a principal, with VAT only where the creditor cannot reclaim it, and
        the Wki cap for small monthly claims. Returns (cents, VAT cents, explanation)."""
        creditor = self.chunk.creditors[self.case.creditor_id]
        if add_vat is None:
            add_vat = not creditor.can_reclaim_vat
        base = collection_costs(from_cents(principal))
        costs = collection_costs(from_cents(principal), add_vat=add_vat)
        how = f"WIK-staffel over {format_eur(principal)}"
        if add_vat:
            how += " plus 21% btw (schuldeiser kan btw niet verrekenen)"
        monthly = max((item.principal for item in self.fact.overdue), default=0)
        if from_cents(monthly) < Decimal("266.67"):
            already = self.chunk.recent_costs(self.case.debtor_id)
            capped = wki_cap(
                costs,
                monthly_amount=from_cents(monthly),
                already_charged_in_six_months=from_cents(already),
            )
            if capped < costs:
                how += (
                    f"; Wki-plafond: maandbedrag onder € 266,67, maximaal € 140 per zes maanden"
                    f" (al {format_eur(already)} in rekening gebracht)"
                )
                costs = capped
        vat = to_cents(costs - base) if add_vat and costs > base else 0
        return to_cents(costs), vat, how

    def do_charge_costs(self):
        case, fact = self.case, self.fact
        notice = self.chunk.notices.get(case.pk)
        if notice is None:
            self.decide(
                Outcome.SKIPPED,
                "geen veertiendagenbrief verstuurd: incassokosten mogen niet worden gerekend",
            )
            return
        if self.on <= notice.term_ends_on:  # pragma: no cover - advance() waits for the term
            return
        if case.pk in self.chunk.charged:
            self.decide(Outcome.SKIPPED, "incassokosten zijn al in rekening gebracht")
            return
        principal = sum(item.principal for item in fact.overdue)
        if principal <= 0:
            self.decide(Outcome.SKIPPED, "de hoofdsom is betaald: geen incassokosten")
            return
        now, _, how = self.stated_costs(principal, add_vat=notice.vat_cents > 0)
        amount = min(notice.costs_cents, now)
        if amount <= 0:
            self.decide(Outcome.SKIPPED, f"geen incassokosten toegestaan ({how})")
            return
        target = next(item for item in fact.overdue if item.principal > 0)
        reason = (
            f"incassokosten {format_eur(amount)}: de termijn van de "
            f"veertiendagenbrief van {_d(notice.sent_on)} liep af op {_d(notice.term_ends_on)} "
            f"zonder volledige betaling ({how}"
            + (
                f"; niet meer dan de {format_eur(notice.costs_cents)} in de brief"
                if amount < now
                else ""
            )
            + ")"
        )
        index = self.chunk.book(
            case, EntryKind.COST, Component.COSTS, target.invoice_id, amount, reason
        )
        self.w.charges.append(
            (
                CostCharge(case=case, notice=notice, amount_cents=amount, charged_on=self.on),
                index,
            )
        )
        self.chunk.charged.add(case.pk)
        self.decide(
            Outcome.DONE,
            reason,
            data={"costs_cents": amount, "notice_sent_on": str(notice.sent_on)},
        )

    def do_start_interest(self):
        case = self.case
        if case.interest_from is not None:
            self.decide(Outcome.SKIPPED, "wettelijke rente loopt al")
            return
        kind = self.settings.interest_kind
        lines = self.chunk.interest_lines(case, self.fact, kind)
        for invoice_id, cents, text in lines:
            self.chunk.book(case, EntryKind.INTEREST, Component.INTEREST, invoice_id, cents, text)
        total = sum(cents for _, cents, _ in lines)
        case.interest_from = self.on
        case.interest_posted_until = self.on
        self.decide(
            Outcome.DONE,
            f"wettelijke rente ({kind}) gestart; tot nu toe {format_eur(total)}, "
            "daarna elke 30 dagen bijgeboekt",
            data={"interest_cents": total},
        )

    def do_municipal_signal(self):
        case, req = self.case, self.step.requires
        history = list(
            Decision.objects.filter(case=case, outcome=Outcome.DONE)
            .order_by("run_date")
            .values("run_date", "step_kind", "channel", "data")
        ) + [
            {"run_date": d.run_date, "step_kind": d.step_kind, "channel": d.channel, "data": d.data}
            for d in self.w.decisions
            if d.case is case and d.outcome == Outcome.DONE
        ]
        written = [
            row["run_date"]
            for row in history
            if row["channel"] in WRITTEN
            and (
                row["step_kind"] == "fourteen_day_letter"
                or row["data"].get("purpose") in ("reminder", "demand")
            )
        ]
        spaced = written[:1]
        for day in written[1:]:
            if (day - spaced[-1]).days >= req.reminder_spacing_days:
                spaced.append(day)
        personal = [row for row in history if row["channel"] in PERSONAL]
        channels = {row["channel"] for row in history if row["channel"]}
        referral = any(row["data"].get("purpose") == "debt_help_referral" for row in history)
        offer = any(
            row["step_kind"] == "offer_arrangement" or row["data"].get("purpose") == "plan_offer"
            for row in history
        )
        missing = []
        if len(spaced) < req.written_reminders:
            missing.append(
                f"{len(spaced)} van {req.written_reminders} schriftelijke herinneringen "
                f"met {req.reminder_spacing_days} dagen ertussen"
            )
        if len(personal) < req.personal_contact_attempts:
            missing.append(
                f"{len(personal)} van {req.personal_contact_attempts} persoonlijke contactpogingen"
            )
        if len(channels) < req.contact_channels:
            missing.append(f"{len(channels)} van {req.contact_channels} kanalen")
        if req.debt_help_referral and not referral:
            missing.append("geen verwijzing naar schuldhulp")
        if req.plan_offer and not offer:
            missing.append("geen betalingsregeling aangeboden")
        if missing:
            self.decide(Outcome.SKIPPED, "geen signaal aan de gemeente: " + "; ".join(missing))
            return
        debtor = self.fact.debtor
        points = dict(self.chunk.points.get(case.debtor_id, ()))
        payload = {
            "customer_number": debtor["external_id"],
            "name": debtor["name"],
            "street": debtor["street"],
            "house_number": debtor["house_number"],
            "postcode": debtor["postcode"],
            "city": debtor["city"],
            "email": points.get("email", ""),
            "phone": points.get("phone", ""),
            "arrears_cents": self.fact.claim,
            "oldest_due": case.anchor_due.isoformat(),
        }
        self.w.signals.append(
            MunicipalSignal(
                case=case,
                creditor_id=case.creditor_id,
                created_on=self.on,
                arrears_cents=self.fact.claim,
                payload=payload,
            )
        )
        self.decide(
            Outcome.DONE,
            f"signaal aan de gemeente klaargezet ({format_eur(self.fact.claim)} "
            f"achterstand; {len(spaced)} herinneringen, {len(personal)} persoonlijke pogingen, "
            "verwezen naar schuldhulp); alleen contactgegevens, achterstand en klantnummer",
        )

    def do_hand_over(self):
        s, case, fact = self.step, self.case, self.fact
        if fact.claim < self.settings.handover_min_balance:
            self.decide(
                Outcome.SKIPPED,
                f"niet overgedragen: {format_eur(fact.claim)} is minder dan "
                f"{format_eur(self.settings.handover_min_balance)}",
            )
            return
        creditor = self.chunk.creditors[case.creditor_id]
        path = (
            Path(settings.VAR_DIR)
            / "handover"
            / creditor.code
            / self.on.isoformat()
            / f"{case.reference}.json"
        )
        export = self.handover_export(s, creditor)
        self.w.files.append((path, json.dumps(export, indent=2, ensure_ascii=False)))
        self.w.handovers.append(
            Handover(
                case=case,
                to=s.to,
                party=s.party,
                handed_on=self.on,
                balance_cents=fact.claim,
                file=str(path),
            )
        )
        who = "incassobureau" if s.to == "agency" else "gerechtsdeurwaarder"
        detail = f"overgedragen aan {who} {s.party}: {format_eur(fact.claim)}"
        self.decide(Outcome.DONE, detail, data={"file": str(path), "party": s.party})
        self.chunk.close(case, CloseReason.HANDED_OVER, detail)

    def handover_export(self, step, creditor) -> dict:
        case, fact = self.case, self.fact
        debtor = fact.debtor
        return {
            "format": "vaarwater-handover/1",
            "creditor": {"code": creditor.code, "name": creditor.name},
            "to": {"kind": step.to, "party": step.party},
            "case": {
                "reference": case.reference,
                "opened_on": case.opened_on.isoformat(),
                "handed_on": self.on.isoformat(),
                "strategy": self.version.label,
                "legal_notice": (
                    {
                        "sent_on": n.sent_on.isoformat(),
                        "term_ends_on": n.term_ends_on.isoformat(),
                        "costs_cents": n.costs_cents,
                    }
                    if (n := self.chunk.notices.get(case.pk))
                    else None
                ),
            },
            "debtor": {
                key: (str(value) if isinstance(value, date) else value)
                for key, value in debtor.items()
                if key not in ("id", "creditor_id", "risk_score", "vulnerable")
            },
            "contact": [
                {"kind": k, "value": v} for k, v in self.chunk.points.get(case.debtor_id, ())
            ],
            "items": [
                {
                    "invoice": self.chunk.invoice_number(item.invoice_id),
                    "due_date": item.due_date.isoformat(),
                    "principal_cents": item.principal,
                    "interest_cents": item.interest,
                    "costs_cents": item.costs,
                }
                for item in fact.overdue
            ],
            "credit_cents": fact.position.credit,
            "balance_cents": fact.claim,
        }

    def do_pause(self):
        s, case = self.step, self.case
        until = self.on + timedelta(days=s.days - 1)
        hold = Hold(
            case=case,
            kind=HoldKind.MANUAL,
            reason=s.reason,
            starts_on=self.on,
            until=until,
            created_by=self.chunk.actor.label,
        )
        self.w.holds.append(hold)
        text = f"pauze tot en met {_d(until)}: {s.reason}"
        self.decide(Outcome.DONE, text, data={"until": until.isoformat()})
        transition, event = transition_rows(
            case, case.status, CaseStatus.HELD, "hold", text, self.on, self.chunk.actor
        )
        self.w.transitions.append(transition)
        self.w.events.append(event)
        case.status = CaseStatus.HELD

    def do_close(self):
        self.decide(Outcome.DONE, self.step.reason)
        self.chunk.close(self.case, CloseReason.STRATEGY, self.step.reason)

    def do_wait_promise(self):
        case, s = self.case, self.step
        if case.waiting_since is None:
            case.waiting_since = self.on
            self.decide(
                Outcome.DEFERRED,
                f"wacht op een betaalbelofte, hoogstens {s.max_days} dagen",
                advance=False,
            )
            return
        promise = (
            Hold.objects.filter(case=case, kind=HoldKind.PROMISE, starts_on__gte=case.waiting_since)
            .order_by("-until")
            .first()
        )
        if promise is not None and promise.released_on is not None:
            # The promise follow-up (arrangements) says why it ended: kept or broken.
            self.decide(
                Outcome.DONE,
                f"de betaalbelofte tot {_d(promise.until)} is afgelopen: {promise.release_reason}"
                if promise.release_reason
                else f"de betaalbelofte tot {_d(promise.until)} is verlopen zonder volledige "
                "betaling",
            )
        elif (self.on - case.waiting_since).days >= s.max_days:
            self.decide(Outcome.DONE, f"geen betaalbelofte binnen {s.max_days} dagen")
        else:
            self.chunk.counts["waiting for a promise"] += 1

    def do_wait_reply(self):
        case, s = self.case, self.step
        if case.waiting_since is None:
            case.waiting_since = self.on
            self.decide(
                Outcome.DEFERRED, f"wacht hoogstens {s.days} dagen op een reactie", advance=False
            )
            return
        since = case.waiting_since
        reply = (
            Event.objects.filter(debtor_id=case.debtor_id, verb__in=REPLY_VERBS)
            .filter(
                Q(occurred_on__gte=since) | Q(occurred_on__isnull=True, created_at__date__gte=since)
            )
            .order_by("id")
            .first()
        )
        if reply is not None:
            self.decide(Outcome.DONE, f"reactie ontvangen ({reply.verb})")
        elif (self.on - since).days >= s.days:
            self.decide(Outcome.DONE, f"geen reactie binnen {s.days} dagen")
        else:
            self.chunk.counts["waiting for a reply"] += 1


# -- the run as a whole ----------------------------------------------------------------------


def holds_release(run_date: date, *, creditor=None, actor: Actor) -> int:
    """End holds whose until-date has passed; a case with no other hold resumes."""
    expired = Hold.objects.filter(released_on__isnull=True, until__lt=run_date).select_related(
        "case"
    )
    if creditor is not None:
        expired = expired.filter(case__creditor=creditor)
    count = 0
    with transaction.atomic():
        holds = list(expired)
        if not holds:
            return 0
        case_ids = {hold.case_id for hold in holds}
        still = set(
            Hold.objects.filter(
                case_id__in=case_ids, released_on__isnull=True, until__gte=run_date
            ).values_list("case_id", flat=True)
        )
        events, transitions, resumed = [], [], {}
        for hold in holds:
            hold.released_on = run_date
            hold.release_reason = f"tot en met {_d(hold.until)}: de einddatum is voorbij"
            case = hold.case
            events.append(
                Event(
                    **event_fields(
                        creditor=case.creditor_id,
                        debtor=case.debtor_id,
                        verb="hold.ended",
                        actor=actor,
                        reason=f"{HoldKind(hold.kind).label}: {hold.release_reason}",
                        data={"case": case.pk, "kind": hold.kind, "hold": hold.pk},
                        on=run_date,
                    )
                )
            )
            if case.status == CaseStatus.HELD and case.pk not in still and case.pk not in resumed:
                transition, event = transition_rows(
                    case,
                    CaseStatus.HELD,
                    CaseStatus.OPEN,
                    "hold_ended",
                    f"pauze voorbij ({HoldKind(hold.kind).label}); het dossier gaat verder",
                    run_date,
                    actor,
                )
                transitions.append(transition)
                events.append(event)
                case.status = CaseStatus.OPEN
                resumed[case.pk] = case
            count += 1
        Hold.objects.bulk_update(holds, ["released_on", "release_reason"])
        Case.objects.bulk_update(list(resumed.values()), ["status"])
        CaseTransition.objects.bulk_create(transitions)
        Event.objects.bulk_create(events)
    return count


def debtors_to_look_at(run_date: date, *, creditor=None) -> list[int]:
    """Debtors with an active case, and debtors whose overdue items their payments don't cover.

    Two set-based queries; payments count in full, invoices only once overdue, so a debtor
    whose only open bill is not yet due is not looked at.
    """
    cases = Case.objects.exclude(status=CaseStatus.CLOSED)
    if creditor is not None:
        cases = cases.filter(creditor=creditor)
    ids = set(cases.values_list("debtor_id", flat=True))
    entries = LedgerEntry._meta.db_table
    invoices = Invoice._meta.db_table
    where, params = "", [run_date]
    if creditor is not None:
        where, params = "AND e.creditor_id = %s", [run_date, creditor.pk]
    sql = f"""
        SELECT e.debtor_id FROM {entries} e
        LEFT JOIN {invoices} i ON i.id = e.invoice_id
        WHERE (e.invoice_id IS NULL OR i.due_date < %s) {where}
        GROUP BY e.debtor_id HAVING SUM(e.amount_cents) > 0
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids.update(row[0] for row in cursor.fetchall())
    return sorted(ids)


def chunk_run(run_date: date, debtor_ids: list[int], *, dry_run=False, actor=None):
    """Decide for one chunk in one transaction; return (counts, detail rows)."""
    actor = actor or Actor.system("dagelijkse run")
    with transaction.atomic():
        chunk = Chunk(run_date, debtor_ids, dry_run=dry_run, actor=actor)
        counts = chunk.run()
    return counts, chunk.detail


@dataclass
class RunResult:
    run_date: date
    dry_run: bool
    debtors: int
    chunks: int
    holds_released: int
    counts: Counter
    detail_file: Path | None = None
    seconds: float = 0.0


DETAIL_HEADER = [
    "run_date",
    "creditor",
    "debtor",
    "case",
    "segment",
    "path",
    "variant",
    "step",
    "channel",
    "template",
    "outcome",
    "reason",
]


RUN_LOCK_KEY = 0x76617277  # 'varw': the PostgreSQL advisory lock of the daily run


class RunRefused(RuntimeError):
    """A daily run that must not start: another holds the lock, or a later day already ran."""


class RunLocked(RunRefused):
    """Another daily run holds the lock."""


@contextmanager
def run_lock():
    """One daily run at a time: a PostgreSQL advisory lock, or a file lock next to SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise RunLocked("another daily run is in progress; try again when it has finished")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
        return
    import fcntl

    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        yield  # no other process can see an in-memory database
        return
    path = Path(name + ".run-day.lock")  # beside the SQLite file: one lock per database
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(
                "another daily run is in progress; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _use_workers() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


def daily_run(
    *,
    run_date: date,
    dry_run: bool = False,
    creditor=None,
    chunk_size: int = DEFAULT_CHUNK,
    actor: Actor | None = None,
    detail_file: Path | None = None,
    after_chunk=None,
) -> RunResult:
    """Run one day. ``dry_run`` decides everything, writes the detail to CSV and rolls back."""
    import time as clock

    started = clock.monotonic()
    actor = actor or Actor.system("dagelijkse run")
    counts: Counter = Counter()
    detail: list = []

    class _DryRunDone(Exception):
        pass

    result = RunResult(run_date, dry_run, 0, 0, 0, counts)

    def body():
        later = (
            DailyRun.objects.filter(run_date__gt=run_date, dry_run=False)
            .order_by("-run_date")
            .values_list("run_date", flat=True)
            .first()
        )
        if later is not None and not dry_run:
            raise RunRefused(
                f"the day {later.isoformat()} has already run; days run in order, so "
                f"{run_date.isoformat()} would act on later facts (a --dry-run is allowed)"
            )
        if not dry_run:
            # Yesterday's payments teach the best-channel model which messages worked.
            from vaarwater.contact.learning import payments_attribute, priors_forget

            priors_forget()
            answered = payments_attribute(on=run_date - timedelta(days=1))
            if answered:
                counts["payments counted as responses"] += answered
        if not dry_run:
            # Payment plans and promises first: a plan paid off closes its case as
            # arrangement_fulfilled before the chunks would close it as paid, and a plan or
            # promise that ended releases its hold before the expired holds are looked at.
            from vaarwater.arrangements.followup import arrangements_follow_up, promises_follow_up

            counts.update(arrangements_follow_up(on=run_date, creditor=creditor, actor=actor))
            counts.update(promises_follow_up(on=run_date, creditor=creditor, actor=actor))
            # Direct debits are announced before they are collected (SEPA pre-notification).
            from vaarwater.payments.sepa import prenotifications_send

            announced = prenotifications_send(on=run_date, creditor=creditor, actor=actor)
            if announced:
                counts["direct debits announced"] += announced
        result.holds_released = holds_release(run_date, creditor=creditor, actor=actor)
        if result.holds_released:
            counts["holds ended"] += result.holds_released
        # Settle each creditor's strategy before the chunks start, so that parallel chunks
        # never each load the shipped default for a creditor that has none yet.
        for each in [creditor] if creditor is not None else Creditor.objects.all():
            current_version(each, run_date)
        ids = debtors_to_look_at(run_date, creditor=creditor)
        chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
        result.debtors, result.chunks = len(ids), len(chunks)
        run = None
        if not dry_run:
            run = DailyRun.objects.create(
                run_date=run_date, chunks=len(chunks), started_by=actor.label
            )
        if chunks and not dry_run and _use_workers():
            from celery import group

            from .tasks import run_chunk

            results = group(
                run_chunk.s(run_date.isoformat(), chunk, run_id=run.pk) for chunk in chunks
            ).apply_async()
            for chunk_counts in results.get(disable_sync_subtasks=False):
                counts.update(chunk_counts)
        else:
            for number, chunk in enumerate(chunks, 1):
                chunk_counts, chunk_detail = chunk_run(
                    run_date, chunk, dry_run=dry_run, actor=actor
                )
                counts.update(chunk_counts)
                if dry_run:
                    detail.extend(chunk_detail)
                if run is not None:
                    DailyRun.objects.filter(pk=run.pk).update(chunks_done=number)
                if after_chunk is not None:
                    after_chunk(number, len(chunks))
        if run is not None:
            DailyRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), chunks_done=len(chunks), counts=dict(counts)
            )

    if dry_run:
        try:
            with run_lock(), transaction.atomic():
                body()
                raise _DryRunDone
        except _DryRunDone:
            pass
        path = detail_file or (
            Path(settings.VAR_DIR) / "runs" / f"dry-run-{run_date.isoformat()}.csv"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(DETAIL_HEADER)
            writer.writerows(detail)
        result.detail_file = path
    else:
        with run_lock():
            body()
    result.seconds = clock.monotonic() - started
    return result


def summary_lines(result: RunResult) -> list[str]:
    head = (
        f"run-day {result.run_date.isoformat()}"
        f"{' (dry run: nothing was saved)' if result.dry_run else ''}: "
        f"{result.debtors:,} debtors looked at in {result.chunks} chunk(s), "
        f"{result.seconds:.1f} s"
    )
    lines = [head]
    for key in sorted(result.counts):
        lines.append(f"  {key:<48} {result.counts[key]:>9,}")
    if result.detail_file:
        lines.append(f"detail: {result.detail_file}")
    return lines


__all__ = [
    "chunk_run",
    "daily_run",
    "debtors_to_look_at",
    "holds_release",
    "summary_lines",
]
