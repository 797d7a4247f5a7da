"""(a) The per-case ORM loop: how classic dunning modules do a daily run.

One debtor at a time, in its own transaction: read the debtor, its invoices, ledger entries,
allocations and contact points through the ORM; work out the overdue claim in Python; if a
case is due, ``Case.objects.get_or_create`` it, decide its first step with the same strategy
(segment, variant, channel, contact and payday rules as the engine) and save every row on its
own: the opening transition and event, the ``Decision``, its ``Event``, the ``Message`` or
``CallTask``, and the case again. No bulk reads, no bulk writes.

It writes the same kinds of rows the engine writes for a new case, so the comparison is
about the way of working, not about doing less. It handles the step kinds a path can start
with (a message, a plan offer, a call task); it is timed on a sample of the candidate
debtors and extrapolated, because running it for all of them takes too long.
"""

import time
from datetime import date, datetime, timedelta
from datetime import time as clock

from django.db import connection, transaction

STEP_KINDS = ("message", "offer_arrangement", "call_task")


def candidates(run_date: date) -> list[int]:
    """The debtors to look at: the engine's own set-based query (also what (a) starts with)."""
    from vaarwater.strategy.run import debtors_to_look_at

    return debtors_to_look_at(run_date)


def orm_run(*, run_date: date, creditor, version, sample: int, log) -> dict:
    from vaarwater.core.events import Actor
    from vaarwater.strategy.documents import version_strategy

    strategy = version_strategy(version)
    actor = Actor.system("dagelijkse run (ORM-lus)")
    started = time.perf_counter()
    ids = candidates(run_date)
    query_seconds = time.perf_counter() - started
    chosen = ids[:sample]
    counts: dict[str, int] = {}
    decided: dict[str, list] = {}
    loop = Loop(run_date, creditor, version, strategy, actor, counts, decided)
    queries = [0]

    def counted(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    cpu0 = time.process_time()
    started = time.perf_counter()
    with connection.execute_wrapper(counted):
        for n, debtor_id in enumerate(chosen, 1):
            with transaction.atomic():
                loop.debtor(debtor_id)
            if n % 5000 == 0:
                log(f"  {n:,} debtors, {time.perf_counter() - started:,.1f} s")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    per_debtor = seconds / len(chosen) if chosen else 0.0
    extrapolated = query_seconds + per_debtor * len(ids)
    result = {
        "candidates": len(ids),
        "sample": len(chosen),
        "candidate_query_seconds": round(query_seconds, 2),
        "sample_seconds": round(seconds, 2),
        "sample_process_cpu_seconds": round(cpu, 2),
        "ms_per_debtor": round(per_debtor * 1000, 3),
        "extrapolated_seconds": round(extrapolated, 1),
        "extrapolated": len(chosen) < len(ids),
        "cases_opened": counts.get("cases opened", 0),
        "decisions": loop.decisions,
        "queries_per_debtor": round(queries[0] / len(chosen), 1) if chosen else 0,
        "counts": dict(sorted(counts.items())),
        "decided": decided,
    }
    log(
        f"  {len(chosen):,} of {len(ids):,} candidates in {seconds:,.1f} s "
        f"({per_debtor * 1000:.2f} ms each): {result['cases_opened']:,} cases opened, "
        f"{loop.decisions:,} decisions; all {len(ids):,}: {extrapolated:,.0f} s "
        f"(extrapolated)"
    )
    return result


def agreement(engine: dict, orm: dict) -> dict:
    """How many sample debtors got the same (step, outcome, channel) from both."""
    keys = set(engine) | set(orm)
    same = sum(1 for k in keys if engine.get(k) == orm.get(k))
    differ = sorted(k for k in keys if engine.get(k) != orm.get(k))
    return {
        "debtors_with_a_decision": len(keys),
        "same": same,
        "different": len(differ),
        "examples": [[k, engine.get(k), orm.get(k)] for k in differ[:5]],
    }


class Loop:
    """One debtor at a time, each read and write its own query."""

    def __init__(self, on, creditor, version, strategy, actor, counts, decided):
        self.on = on
        self.creditor = creditor
        self.version = version
        self.strategy = strategy
        self.settings = strategy.settings
        self.actor = actor
        self.counts = counts
        self.decided = decided
        self.decisions = 0

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def debtor(self, debtor_id: int) -> None:
        from vaarwater.ledger.models import Component, Debtor
        from vaarwater.ledger.selectors import DebtorPosition, InvoiceOpen
        from vaarwater.strategy.models import Case, CaseStatus
        from vaarwater.strategy.run import Facts

        on = self.on
        debtor = Debtor.objects.get(pk=debtor_id)
        position = DebtorPosition(debtor_id)
        due = {}
        for invoice in debtor.invoices.all():
            due[invoice.pk] = invoice.due_date
        for entry in debtor.entries.all():
            if entry.component == Component.PAYMENT:
                position.credit -= entry.amount_cents
                continue
            item = position.items.setdefault(
                entry.invoice_id, InvoiceOpen(entry.invoice_id, due[entry.invoice_id])
            )
            setattr(item, entry.component, getattr(item, entry.component) + entry.amount_cents)
        for allocation in debtor.allocations.all():
            item = position.items.setdefault(
                allocation.invoice_id,
                InvoiceOpen(allocation.invoice_id, due[allocation.invoice_id]),
            )
            setattr(
                item,
                allocation.component,
                getattr(item, allocation.component) - allocation.amount_cents,
            )
            position.credit -= allocation.amount_cents
        overdue = sorted(
            (i for i in position.items.values() if i.total != 0 and i.due_date < on),
            key=lambda i: (i.due_date, i.invoice_id),
        )
        claim = sum(i.total for i in overdue) - position.credit
        if claim <= 0 or not overdue:
            self.count("nothing overdue")
            return
        grace = self.settings.grace_days
        late = [i for i in overdue if (on - i.due_date).days > grace]
        if not late:
            self.count("within the grace days")
            return
        reachable = set()
        for point in debtor.contact_points.filter(invalid_since__isnull=True):
            if point.kind == "email":
                reachable.add("email")
            elif point.kind == "phone":
                reachable.add("phone")
                if point.value.startswith("+316"):
                    reachable.add("sms")
            elif point.kind == "whatsapp":
                reachable.add("whatsapp")
        if debtor.street and debtor.postcode and debtor.city:
            reachable.add("letter")
        first_time = not Case.objects.filter(debtor=debtor, status=CaseStatus.CLOSED).exists()
        fields = {
            f: getattr(debtor, f)
            for f in ("id", "external_id", "vulnerable", "risk_score", "language")
            + ("payday_day", "payday_cycle", "payday_anchor")
        }
        facts = Facts(
            debtor=fields,
            position=position,
            overdue=overdue,
            claim=claim,
            reachable=reachable,
            first_time=first_time,
            sector=self.creditor.sector,
        )
        self.case(debtor, facts, late[0].due_date)

    def case(self, debtor, facts, anchor_due: date) -> None:
        from vaarwater.core.events import event_record
        from vaarwater.strategy.models import Case, CaseStatus
        from vaarwater.strategy.run import segment_for, variant_draw, variant_for
        from vaarwater.strategy.services import transition_rows

        on, strategy = self.on, self.strategy
        segment = segment_for(strategy, facts, on)
        draw = variant_draw(strategy.strategy, debtor.pk, on)
        case, created = Case.objects.filter(
            status__in=(CaseStatus.OPEN, CaseStatus.HELD)
        ).get_or_create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            defaults={
                "status": CaseStatus.OPEN,
                "opened_on": on,
                "strategy_version": self.version,
                "variant": variant_for(strategy, draw),
                "variant_draw": draw,
                "segment": segment.name,
                "path": segment.path,
                "anchor_due": anchor_due,
            },
        )
        if created:
            self.count("cases opened")
            reason = (
                f"{facts.claim / 100:.2f} achterstand, oudste vervaldatum {anchor_due}; "
                f"strategie {self.version.label}, segment '{segment.label}', pad {case.path}"
            )
            transition, event = transition_rows(
                case, None, CaseStatus.OPEN, "opened", reason, on, self.actor
            )
            transition.save()
            event.save()
        if case.status != CaseStatus.OPEN or case.last_decision_on == on:
            return
        steps = strategy.path_steps(case.path, case.variant)
        if case.step_index >= len(steps):
            return
        step = steps[case.step_index]
        anchor = case.anchor_due if step.after == "due_date" else (case.last_step_on or on)
        if on < anchor + timedelta(days=step.day):
            self.count("waiting for their next step")
            return
        if step.step not in STEP_KINDS:
            self.count(f"not a first step: {step.step}")
            return
        self.step = step
        self.facts = facts
        self.the_case = case
        self.event_record = event_record
        if step.step == "call_task":
            self.call_task()
        else:
            purpose = "plan_offer" if step.step == "offer_arrangement" else step.purpose
            self.message(step.channel, step.template, purpose, step.at)

    # -- the step, as the engine decides it --------------------------------------------------

    def contacts(self) -> tuple[int, int]:
        """Contacts planned for the debtor this week and today: two more queries."""
        from vaarwater.contact.models import CallTask, Message
        from vaarwater.strategy.run import TZ

        day_start = datetime.combine(self.on, clock.min, TZ)
        week_start = day_start - timedelta(days=6)
        day_end = day_start + timedelta(days=1)
        debtor_id = self.the_case.debtor_id
        moments = list(
            Message.objects.filter(
                debtor_id=debtor_id, not_before__gte=week_start, not_before__lt=day_end
            )
            .exclude(status__in=("cancelled", "failed"))
            .values_list("not_before", flat=True)
        ) + list(
            CallTask.objects.filter(
                debtor_id=debtor_id, window_start__gte=week_start, window_start__lt=day_end
            )
            .exclude(status="cancelled")
            .values_list("window_start", flat=True)
        )
        return len(moments), sum(1 for m in moments if m >= day_start)

    def gate(self, channel: str) -> bool:
        from vaarwater.law import is_business_day
        from vaarwater.strategy.run import contact_allowed_on

        if not contact_allowed_on(self.on):
            self.count("contact waits: Sunday or holiday")
            return False
        if channel == "letter" and not is_business_day(self.on):
            self.count("letter waits: no post today")
            return False
        week, today = self.contacts()
        caps = self.settings.contact_caps
        if today >= caps.per_day or week >= caps.per_week:
            self.decide(
                "deferred", "uitgesteld: contactmaximum", data={"cause": "cap"}, advance=False
            )
            return False
        return True

    def payday_ok(self, channel: str) -> bool:
        from vaarwater.law import add_business_days
        from vaarwater.law.payday import next_payday

        window = self.settings.payday_window_days
        if not window:
            return True
        if channel == "letter":
            lands = add_business_days(self.on, self.settings.letter_receipt_business_days)
        elif channel == "email":
            lands = self.on + timedelta(days=self.settings.email_receipt_days)
        else:
            lands = self.on
        debtor = self.facts.debtor
        payday = next_payday(
            lands,
            day=debtor["payday_day"],
            cycle=debtor["payday_cycle"],
            anchor=debtor["payday_anchor"],
        )
        if payday is None or (payday - lands).days > window:
            return True
        self.decide(
            "deferred",
            f"uitgesteld tot na de betaaldag {payday}: zou aankomen op {lands}",
            data={"cause": "payday"},
            advance=False,
        )
        return False

    def resolve(self, wanted: str) -> tuple[str | None, str]:
        reachable, order = self.facts.reachable, self.settings.best_channel_order
        if wanted == "best":
            for channel in order:
                if channel in reachable:
                    return channel, f"beste kanaal: {channel}"
            return None, "geen bereikbaar kanaal"
        if wanted in reachable:
            return wanted, ""
        for channel in order:
            if channel in reachable:
                return channel, f"{wanted} niet bereikbaar, daarom {channel}"
        return None, f"{wanted} niet bereikbaar en geen ander kanaal"

    def message(self, wanted, template, purpose, at) -> None:
        from vaarwater.contact.models import Message
        from vaarwater.strategy.run import TZ

        channel, why = self.resolve(wanted)
        if channel is None:
            self.decide("skipped", why, template=template, data={"purpose": purpose})
            return
        if not self.gate(channel):
            return
        if purpose in ("reminder", "demand") and not self.payday_ok(channel):
            return
        case, hours = self.the_case, self.settings.contact_hours
        start = max(at or hours.start, hours.start)
        if start >= hours.end:
            start = hours.start
        hh, mm = map(int, start.split(":"))
        Message.objects.create(
            creditor_id=case.creditor_id,
            debtor_id=case.debtor_id,
            case=case,
            channel=channel,
            template=template,
            language=self.facts.debtor["language"],
            purpose=purpose,
            not_before=datetime.combine(self.on, clock(hh, mm), TZ),
            idempotency_key=f"case-{case.pk}-{self.on.isoformat()}-{case.step_index}",
            context={
                "case": case.reference,
                "claim_cents": int(self.facts.claim),
                "oldest_due": case.anchor_due.isoformat(),
            },
        )
        self.decide(
            "done",
            f"{channel} '{template}' klaargezet" + (f" ({why})" if why else ""),
            channel=channel,
            template=template,
            data={"purpose": purpose},
        )

    def call_task(self) -> None:
        from vaarwater.contact.models import CallTask
        from vaarwater.strategy.run import TZ

        if "phone" not in self.facts.reachable:
            self.decide("skipped", "geen geldig telefoonnummer")
            return
        if not self.gate("phone"):
            return
        s, case, hours = self.step, self.the_case, self.settings.contact_hours
        start, end = max(s.start, hours.start), min(s.end, hours.end)
        if end <= start:
            start, end = hours.start, hours.end
        CallTask.objects.create(
            creditor_id=case.creditor_id,
            debtor_id=case.debtor_id,
            case=case,
            window_start=datetime.combine(self.on, clock(*map(int, start.split(":"))), TZ),
            window_end=datetime.combine(self.on, clock(*map(int, end.split(":"))), TZ),
            priority=s.priority,
            reason=f"stap {case.step_index + 1}: {s.label or s.step}",
            idempotency_key=f"case-{case.pk}-{self.on.isoformat()}-{case.step_index}",
        )
        self.decide("done", f"beltaak {start}-{end}", channel="phone")

    def decide(self, outcome, detail, *, channel="", template="", data=None, advance=True):
        from vaarwater.strategy.models import Decision

        case, step = self.the_case, self.step
        label = step.label or step.step
        variant = f", variant {case.variant}" if case.variant != "champion" else ""
        reason = (
            f"strategie {self.version.label}{variant}, segment '{case.segment}', "
            f"stap {case.step_index + 1}: {label}, {step.day} dagen; {detail}"
        )
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
        Decision.objects.create(
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
        self.event_record(
            creditor=case.creditor_id,
            debtor=case.debtor_id,
            verb="decision.made",
            actor=self.actor,
            reason=reason,
            data={"case": case.pk, **data},
            on=self.on,
        )
        case.last_decision_on = self.on
        if advance:
            case.step_index += 1
            case.last_step_on = self.on
            case.waiting_since = None
        else:
            case.waiting_since = self.on
        case.save()
        self.decisions += 1
        self.count(f"{outcome}: {step.step}" + (f" {channel}" if channel else ""))
        self.decided[str(case.debtor_id)] = [step.step, outcome, channel]
