"""Payment arrangements: accept a plan, cancel it; record and cancel promises to pay.

A plan covers what the case owes when it is agreed (``debt_of``): every open item of the
debtor at the creditor, minus any credit. When the creditor's policy waives the collection
costs of a kept plan (``waive_costs_when_kept``), the plan covers principal and interest only
and the costs are set aside as ``waived_costs_cents``: they stay in the ledger, and are written
off only when the plan is completed (``followup.py``); a broken plan leaves them due.

Every verb checks its input first and raises ``ArrangementError`` (an English message, shown
translated; ``field`` names the form field) without changing anything. What it changes it
records as an event with a plain-Dutch reason, in the same transaction.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur
from vaarwater.ledger.selectors import debtor_position
from vaarwater.strategy.documents import creditor_settings
from vaarwater.strategy.models import Case, CaseStatus, HoldKind
from vaarwater.strategy.services import hold_place, hold_release

from . import proposals
from .models import (
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    Instalment,
    InstalmentStatus,
    PayMethod,
    Promise,
    PromiseStatus,
)
from .proposals import Debt, Option, Payday
from .selectors import (
    active_arrangement,
    arrangement_replaceable,
    open_promise,
    plan_reference,
)

# The plan's hold lasts until the last due date, its grace days and this margin: the daily
# follow-up ends the plan (completed or broken) well before the hold would run out by itself.
HOLD_MARGIN_DAYS = 7
# A promise to pay is for soon: at most this many days ahead.
PROMISE_MAX_DAYS = 30
CHANNELS = ("portal", "agent")
PROMISE_SOURCES = ("call", "portal", "agent")
METHOD_WORDS = {
    PayMethod.TRANSFER: "per overboeking met het betalingskenmerk",
    PayMethod.LINK: "met een betaallink (iDEAL) voor elke termijn",
    PayMethod.SEPA: "per automatische incasso",
}


class ArrangementError(ValueError):
    """A plan or promise that cannot be agreed; ``field`` is the form field the message is for,
    ``reasons`` why an option does not fit (the capacity, the policy)."""

    def __init__(self, message: str, *, field: str = "form", reasons: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.field = field
        self.reasons = tuple(reasons)


def _d(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def problem_dutch(problem: proposals.Problem) -> str:
    """Why an option does not fit, in Dutch (for the reason of an event).

    >>> problem_dutch(proposals.Problem("too_long", (("count", 20), ("max_months", 12))))
    '20 termijnen is langer dan de langste regeling van 12 maanden'
    """
    v = dict(problem.values)
    words = {
        "no_payments": lambda: "de regeling heeft geen betalingen",
        "mismatch": lambda: f"de regeling heeft {v['amounts']} bedragen maar {v['dates']} data",
        "not_positive": lambda: "elke betaling moet meer dan nul zijn",
        "order": lambda: "de betaaldata moeten na elkaar komen",
        "capacity": lambda: (
            f"{format_eur(v['largest'])} is meer dan de maandruimte van {format_eur(v['capacity'])}"
        ),
        "too_long": lambda: (
            f"{v['count']} termijnen is langer dan de langste regeling van "
            f"{v['max_months']} maand{'en' if v['max_months'] != 1 else ''}"
        ),
        "too_small": lambda: (
            f"een termijn van {format_eur(v['smallest'])} is minder dan de "
            f"kleinste termijn van {format_eur(v['minimum'])}"
        ),
        "no_custom": lambda: "deze schuldeiser biedt geen regeling met een eigen bedrag",
        "late_start": lambda: f"de eerste betaling is pas over {v['days']} dagen",
    }
    return words[problem.code]() if problem.code in words else problem.code


# -- what a plan is about ----------------------------------------------------------------------


def policy_of(case):
    """The arrangement policy that applies to a case (its strategy version's settings)."""
    return creditor_settings(case.creditor, case=case).arrangements


def debt_of(case) -> Debt:
    """What the case's debtor owes now: the open items' principal, interest and costs.

    Credit (money received that paid nothing yet) lowers the principal first, then the
    interest, then the costs: the debtor keeps the full benefit of a costs waiver.
    """
    position = debtor_position(case.debtor)
    principal = sum(item.principal for item in position.items.values())
    interest = sum(item.interest for item in position.items.values())
    costs = sum(item.costs for item in position.items.values())
    credit = max(position.credit, 0)
    parts = [principal, interest, costs]
    for i, part in enumerate(parts):
        used = min(part, credit)
        parts[i] -= used
        credit -= used
    return Debt(principal_cents=parts[0], interest_cents=parts[1], costs_cents=parts[2])


def plan_cover(debt: Debt, policy) -> tuple[int, int]:
    """(cents the plan covers, costs set aside to waive when it is kept)."""
    if policy.waive_costs_when_kept:
        return debt.principal_cents + debt.interest_cents, debt.costs_cents
    return debt.total_cents, 0


def payday_of(debtor, assessment=None) -> Payday:
    """When the debtor's income arrives: the assessment's payday, else the debtor's own."""
    if assessment is not None:
        # Bank data may show four-weekly pay: its cycle and a known payday are in the summary.
        found = (assessment.data or {}).get("psd2", {}).get("payday") or {}
        if found.get("cycle") == "four_weekly" and found.get("anchor"):
            return Payday(day=None, cycle="four_weekly", anchor=date.fromisoformat(found["anchor"]))
        if assessment.payday_day:
            return Payday(day=assessment.payday_day, cycle="monthly", anchor=None)
    return Payday(
        day=debtor.payday_day,
        cycle=debtor.payday_cycle or "monthly",
        anchor=debtor.payday_anchor,
    )


def case_options(*, case, assessment, on: date) -> list[Option]:
    """The plans to offer for a case: those that fit the assessment's capacity and the policy."""
    return proposals.proposals(
        debt=debt_of(case),
        capacity_cents=assessment.capacity_cents if assessment is not None else None,
        payday=payday_of(case.debtor, assessment),
        policy=policy_of(case),
        on=on,
    )


def policy_snapshot(policy) -> dict:
    return policy.model_dump(mode="json")


# -- accepting a plan ----------------------------------------------------------------------------


def _option_check_shape(option: Option, on: date) -> None:
    if not option.amounts or len(option.amounts) != len(option.due_dates):
        raise ArrangementError(_("This plan has no payments."), field="option")
    if any(amount <= 0 for amount in option.amounts):
        raise ArrangementError(_("Every payment of a plan must be above zero."), field="option")
    if sum(option.amounts) != option.total_cents:
        raise ArrangementError(
            _("The payments of this plan do not add up to its total."), field="option"
        )
    if list(option.due_dates) != sorted(set(option.due_dates)):
        raise ArrangementError(_("The payment dates must follow one another."), field="option")
    if option.due_dates[0] < on:
        raise ArrangementError(
            _("The first payment date has passed; choose again."), field="option"
        )
    if option.kind not in ArrangementKind.values:
        raise ArrangementError(_("Unknown kind of plan."), field="option")


def _mandate_for(debtor, mandate):
    """The active SEPA mandate of this debtor to collect with (the one given, or the latest)."""
    from vaarwater.payments.sepa_models import Mandate, MandateStatus

    if mandate is None:
        mandate = (
            Mandate.objects.filter(debtor=debtor, status=MandateStatus.ACTIVE)
            .order_by("-signed_on", "-id")
            .first()
        )
    if mandate is None or mandate.status != MandateStatus.ACTIVE:
        raise ArrangementError(
            _("Direct debit needs a signed mandate for this customer first."), field="method"
        )
    if mandate.debtor_id != debtor.pk:
        raise ArrangementError(_("This mandate belongs to another customer."), field="method")
    return mandate


def _plan_status(arrangement: Arrangement, *, status: str, reason: str, on: date) -> None:
    arrangement.status = status
    arrangement.ended_on = on
    arrangement.end_reason = reason
    arrangement.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])


def _plan_end(arrangement: Arrangement, *, status: str, reason: str, on: date, actor: Actor):
    """End a plan: its status, end date and reason; its hold and planned debits end too.

    Trusted: the caller holds the transaction (and the case lock where it matters)."""
    _plan_status(arrangement, status=status, reason=reason, on=on)
    _plan_release(arrangement, reason=reason, on=on, actor=actor)


def _plan_release(arrangement: Arrangement, *, reason: str, on: date, actor: Actor) -> None:
    if arrangement.hold_id is not None:
        hold = arrangement.hold
        hold.refresh_from_db()
        if hold.released_on is None:
            hold_release(hold=hold, reason=reason, on=on, actor=actor)
    if arrangement.method == PayMethod.SEPA:
        collections_cancel_for(arrangement, reason=reason, actor=actor)


def collections_cancel_for(arrangement: Arrangement, *, reason: str, actor: Actor) -> None:
    """Cancel the planned direct debits of a plan's unpaid instalments (SEPA part)."""
    from vaarwater.payments import sepa

    cancel = getattr(sepa, "collections_cancel", None)
    if cancel is None:  # pragma: no cover - the SEPA part is not installed
        return
    for instalment in arrangement.instalments.exclude(status=InstalmentStatus.PAID):
        cancel(purpose_prefix=f"instalment:{instalment.pk}", reason=reason, actor=actor)


def plan_context(arrangement: Arrangement, instalments: list[Instalment] | None = None) -> dict:
    """What a message about a plan needs to know (see contact/rendering.py ``VARIABLES``)."""
    if instalments is None:
        instalments = list(arrangement.instalments.order_by("number"))
    context = {
        "plan_reference": arrangement.reference,
        "plan_method": arrangement.method,
        "plan_count": len(instalments),
        "plan_instalment_cents": instalments[0].amount_cents if instalments else 0,
        "plan_first_due": instalments[0].due_on.isoformat() if instalments else "",
        "plan_total_cents": arrangement.total_cents,
        "plan_waived_costs_cents": arrangement.waived_costs_cents,
        "plan_schedule": [[i.due_on.isoformat(), i.amount_cents] for i in instalments],
        "plan_paid_count": sum(1 for i in instalments if i.status == InstalmentStatus.PAID),
    }
    if arrangement.method == PayMethod.SEPA and arrangement.mandate_id:
        context["plan_iban"] = arrangement.mandate.iban
    return context


def arrangement_accept(
    *,
    case: Case,
    option: Option,
    method: str,
    actor: Actor,
    channel: str,
    assessment=None,
    mandate=None,
    override_reason: str = "",
    on: date | None = None,
) -> Arrangement:
    """Agree a payment plan for a case: its instalments, a hold on the case, a confirmation.

    Refused: a closed case; a case with an active plan (unless that plan missed an instalment:
    the new plan replaces it); a way to pay the policy does not offer; direct debit without an
    active mandate of the debtor; an option made for another balance than the one open now;
    an option beyond the capacity or the policy, unless an agent agrees it with a reason.
    """
    on = on or timezone.localdate()
    override_reason = (override_reason or "").strip()
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    _option_check_shape(option, on)
    with transaction.atomic():
        case = (
            Case.objects.select_for_update()
            .select_related("debtor", "creditor", "strategy_version")
            .get(pk=case.pk)
        )
        debtor = case.debtor
        if case.status == CaseStatus.CLOSED:
            raise ArrangementError(_("This case is closed; there is nothing to plan."))
        current = active_arrangement(case)
        if current is not None and not arrangement_replaceable(current):
            raise ArrangementError(_("This case already has a payment plan."))
        policy = policy_of(case)
        if method not in PayMethod.values or method not in policy.methods:
            raise ArrangementError(_("This way of paying is not offered."), field="method")
        mandate = _mandate_for(debtor, mandate) if method == PayMethod.SEPA else None
        if assessment is not None and assessment.debtor_id != debtor.pk:
            raise ValueError(f"assessment {assessment.pk} is not about debtor {debtor.pk}")
        debt = debt_of(case)
        covered, waived = plan_cover(debt, policy)
        if covered <= 0:
            raise ArrangementError(_("There is nothing left to pay in instalments."))
        if option.total_cents != covered or option.waived_costs_cents != waived:
            raise ArrangementError(
                _("The balance changed since this plan was made; choose again."),
                field="option",
            )
        capacity = assessment.capacity_cents if assessment is not None else None
        found = proposals.option_problems(option, capacity_cents=capacity, policy=policy, on=on)
        problems = tuple(proposals.problem_text(problem) for problem in found)
        if problems and not (channel == "agent" and override_reason):
            message = (
                _("This plan does not fit; an agent can agree it only with a reason.")
                if channel == "agent"
                else _("This plan does not fit what you can pay each month; choose another.")
            )
            raise ArrangementError(message, field="option", reasons=problems)
        if not problems:
            override_reason = ""
        number = Arrangement.objects.filter(case=case).count() + 1
        replaced_why = ""
        if current is not None:  # one active plan per case: the old one ends first
            replaced_why = (
                f"vervangen door regeling {plan_reference(case, number)} na een gemiste termijn"
            )
            _plan_status(current, status=ArrangementStatus.REPLACED, reason=replaced_why, on=on)
        arrangement = Arrangement.objects.create(
            creditor_id=case.creditor_id,
            debtor=debtor,
            case=case,
            assessment=assessment,
            kind=option.kind,
            method=method,
            mandate=mandate,
            reference=plan_reference(case, number),
            total_cents=covered,
            waived_costs_cents=waived,
            debt_cents=debt.total_cents,
            capacity_cents=capacity,
            override_reason=override_reason,
            channel=channel,
            accepted_on=on,
            accepted_by=actor.label[:200],
            policy=policy_snapshot(policy),
            replaces=current,
        )
        Instalment.objects.bulk_create(
            [
                Instalment(arrangement=arrangement, number=n, due_on=due, amount_cents=amount)
                for n, (amount, due) in enumerate(
                    zip(option.amounts, option.due_dates, strict=True), 1
                )
            ]
        )
        instalments = list(arrangement.instalments.order_by("number"))  # with their ids
        last_due = instalments[-1].due_on
        until = last_due + timedelta(days=policy.grace_days + HOLD_MARGIN_DAYS)
        count, first = len(instalments), instalments[0]
        words = (
            f"{count} termijn{'en' if count > 1 else ''} van {format_eur(first.amount_cents)}"
            if len({i.amount_cents for i in instalments}) == 1
            else f"{count} termijnen, de eerste van {format_eur(first.amount_cents)}"
        )
        # The new hold first, then the old ones end: the case stays held throughout.
        arrangement.hold = hold_place(
            case=case,
            kind=HoldKind.ARRANGEMENT,
            reason=f"betalingsregeling {arrangement.reference}: {words}, laatste op {_d(last_due)}",
            until=until,
            on=on,
            actor=actor,
        )
        arrangement.save(update_fields=["hold", "updated_at"])
        if current is not None:
            _plan_release(current, reason=replaced_why, on=on, actor=actor)
            event_record(
                creditor=case.creditor,
                debtor=debtor,
                verb="arrangement.replaced",
                actor=actor,
                subject=current,
                reason=f"regeling {current.reference} vervangen door {arrangement.reference}",
                data={"case": case.pk, "by": arrangement.pk},
                on=on,
            )
        promise = open_promise(case)
        if promise is not None:
            _promise_end(
                promise,
                status=PromiseStatus.CANCELLED,
                reason=f"vervangen door betalingsregeling {arrangement.reference}",
                on=on,
                actor=actor,
            )
        reason = (
            f"betalingsregeling {arrangement.reference} afgesproken "
            f"{'via het portaal' if channel == 'portal' else 'door ' + actor.label}: {words} "
            f"(samen {format_eur(covered)}), eerste op {_d(first.due_on)}, laatste op "
            f"{_d(last_due)}; betaalt {METHOD_WORDS[method]}"
            + (
                f"; maandruimte {format_eur(capacity)}"
                if capacity is not None
                else "; geen betaalruimte berekend"
            )
            + (
                f"; de incassokosten van {format_eur(waived)} vervallen als de regeling "
                "wordt nagekomen"
                if waived
                else ""
            )
            + (
                f"; buiten de ruimte of het beleid afgesproken "
                f"({'; '.join(problem_dutch(problem) for problem in found)}), "
                f"omdat: {override_reason}"
                if override_reason
                else ""
            )
        )
        event_record(
            creditor=case.creditor,
            debtor=debtor,
            verb="arrangement.accepted",
            actor=actor,
            subject=arrangement,
            reason=reason,
            data={
                "case": case.pk,
                "reference": arrangement.reference,
                "kind": option.kind,
                "method": method,
                "channel": channel,
                "amounts": list(option.amounts),
                "due_dates": [day.isoformat() for day in option.due_dates],
                "total_cents": covered,
                "waived_costs_cents": waived,
                "debt_cents": debt.total_cents,
                "capacity_cents": capacity,
                "override_reason": override_reason,
                "problems": list(problems),
                "problem_codes": [problem.code for problem in found],
                "replaces": current.pk if current else None,
            },
            on=on,
        )
        if method == PayMethod.SEPA:
            from vaarwater.payments.sepa import collections_plan

            collections_plan(
                mandate=mandate,
                items=[
                    (
                        f"instalment:{inst.pk}",
                        inst.amount_cents,
                        inst.due_on,
                        f"Termijn {inst.number} van {count} regeling {arrangement.reference}",
                    )
                    for inst in instalments
                ],
                actor=actor,
            )
        extra = {}
        if method == PayMethod.LINK:
            extra = _first_link(arrangement, instalments[0], policy, on, actor)
        _confirmation_queue(arrangement, instalments, actor, extra)
    return arrangement


def _first_link(arrangement: Arrangement, first, policy, on: date, actor: Actor) -> dict:
    """A link plan whose first payment falls before its reminder would go gets the link in the
    confirmation (the follow-up sends no reminder that close to it). Trusted: in the
    transaction that agrees the plan."""
    if first.due_on - timedelta(days=policy.reminder_days_before) > on:
        return {}
    from .followup import _instalment_link

    url = _instalment_link(arrangement, first, policy, actor)
    if not url:
        return {}
    first.reminded_on = on  # the confirmation is its reminder
    first.save(update_fields=["reminded_on", "payment_link"])
    return {"payment_url": url, "plan_first_link": True}


def _confirmation_queue(
    arrangement: Arrangement, instalments, actor: Actor, extra: dict | None = None
) -> None:
    from vaarwater.contact.services import message_queue

    message_queue(
        debtor=arrangement.debtor,
        template="regeling-bevestiging",
        purpose="confirmation",
        key=f"arrangement-{arrangement.pk}",
        case=arrangement.case,
        context={
            **plan_context(arrangement, instalments),
            "claim_cents": arrangement.total_cents,
            **(extra or {}),
        },
        why=f"bevestiging van betalingsregeling {arrangement.reference} met het schema",
        actor=actor,
    )


def arrangement_cancel(
    *, arrangement: Arrangement, reason: str, actor: Actor, on: date | None = None
) -> Arrangement:
    """Stop an active plan (by an agent, or because the case ended otherwise).

    The hold ends, so the case goes on with its strategy; waived costs stay due."""
    on = on or timezone.localdate()
    reason = (reason or "").strip()
    if not reason:
        raise ArrangementError(_("Say why the plan stops."), field="reason")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=arrangement.case_id).first()
        arrangement = Arrangement.objects.select_for_update().get(pk=arrangement.pk)
        if arrangement.status != ArrangementStatus.ACTIVE:
            raise ArrangementError(_("This plan has already ended."))
        _plan_cancel(arrangement, reason=reason, on=on, actor=actor)
    return arrangement


def _plan_cancel(arrangement: Arrangement, *, reason: str, on: date, actor: Actor) -> None:
    """Stop a plan, with its event. Trusted: the caller holds the transaction and the locks."""
    _plan_end(arrangement, status=ArrangementStatus.CANCELLED, reason=reason, on=on, actor=actor)
    event_record(
        creditor=arrangement.creditor_id,
        debtor=arrangement.debtor_id,
        verb="arrangement.cancelled",
        actor=actor,
        subject=arrangement,
        reason=f"betalingsregeling {arrangement.reference} gestopt: {reason}",
        data={"case": arrangement.case_id, "paid_cents": arrangement.paid_cents},
        on=on,
    )


# -- promises to pay -----------------------------------------------------------------------------


def _promise_end(promise: Promise, *, status: str, reason: str, on: date, actor: Actor) -> None:
    """Settle a promise (kept, broken, cancelled) and end its hold. Trusted: in a transaction."""
    promise.status = status
    promise.settled_on = on
    promise.save(update_fields=["status", "settled_on", "paid_cents"])
    if promise.hold_id is not None:
        hold = promise.hold
        hold.refresh_from_db()
        if hold.released_on is None:
            hold_release(hold=hold, reason=reason, on=on, actor=actor)
    verb = {
        PromiseStatus.KEPT: "promise.kept",
        PromiseStatus.BROKEN: "promise.broken",
        PromiseStatus.CANCELLED: "promise.cancelled",
    }[status]
    event_record(
        creditor=promise.creditor_id,
        debtor=promise.debtor_id,
        verb=verb,
        actor=actor,
        subject=promise,
        reason=reason,
        data={
            "case": promise.case_id,
            "amount_cents": promise.amount_cents,
            "due_on": promise.due_on.isoformat(),
            "paid_cents": promise.paid_cents,
        },
        on=on,
    )


def promise_record(
    *,
    case: Case,
    amount_cents: int,
    due_on: date,
    source: str,
    actor: Actor,
    note: str = "",
    on: date | None = None,
) -> Promise:
    """Record a promise to pay an amount by a date; the case waits for it (a PROMISE hold).

    One open promise per case: a new one replaces the old. The amount is at most what is open,
    the date not in the past and at most ``PROMISE_MAX_DAYS`` ahead.
    """
    on = on or timezone.localdate()
    if source not in PROMISE_SOURCES:
        raise ValueError(f"source {source!r}: expected one of {', '.join(PROMISE_SOURCES)}")
    if amount_cents <= 0:
        raise ArrangementError(_("Fill in an amount above zero."), field="amount")
    if due_on < on:
        raise ArrangementError(_("The date has passed; choose today or later."), field="due_on")
    if due_on > on + timedelta(days=PROMISE_MAX_DAYS):
        raise ArrangementError(
            _("A promise to pay is for at most %(days)s days ahead.") % {"days": PROMISE_MAX_DAYS},
            field="due_on",
        )
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("debtor", "creditor").get(pk=case.pk)
        if case.status == CaseStatus.CLOSED:
            raise ArrangementError(_("This case is closed."))
        if active_arrangement(case) is not None:
            raise ArrangementError(_("This case has a payment plan; a promise is not needed."))
        balance = debtor_position(case.debtor).balance
        if amount_cents > balance:
            raise ArrangementError(
                _("That is more than is open (%(max)s).") % {"max": format_eur(balance)},
                field="amount",
            )
        policy = policy_of(case)
        previous = open_promise(case)
        promise = Promise.objects.create(
            creditor_id=case.creditor_id,
            debtor=case.debtor,
            case=case,
            amount_cents=amount_cents,
            due_on=due_on,
            source=source,
            made_on=on,
            made_by=actor.label[:200],
            note=note.strip(),
        )
        promise.hold = hold_place(
            case=case,
            kind=HoldKind.PROMISE,
            reason=f"betaalbelofte: {format_eur(amount_cents)} uiterlijk {_d(due_on)}",
            until=due_on + timedelta(days=policy.promise_grace_days),
            on=on,
            actor=actor,
        )
        promise.save(update_fields=["hold"])
        if previous is not None:
            _promise_end(
                previous,
                status=PromiseStatus.CANCELLED,
                reason=f"vervangen door een nieuwe betaalbelofte van {format_eur(amount_cents)} "
                f"uiterlijk {_d(due_on)}",
                on=on,
                actor=actor,
            )
        where = {
            "call": "in een gesprek",
            "portal": "in het portaal",
            "agent": "bij een medewerker",
        }
        event_record(
            creditor=case.creditor,
            debtor=case.debtor,
            verb="promise.made",
            actor=actor,
            subject=promise,
            reason=f"betaalbelofte {where[source]}: {format_eur(amount_cents)} uiterlijk "
            f"{_d(due_on)}" + (f" ({note.strip()})" if note.strip() else ""),
            data={
                "case": case.pk,
                "amount_cents": amount_cents,
                "due_on": due_on.isoformat(),
                "source": source,
                "replaces": previous.pk if previous else None,
            },
            on=on,
        )
    return promise


def promise_cancel(
    *, promise: Promise, reason: str, actor: Actor, on: date | None = None
) -> Promise:
    """Withdraw an open promise (recorded by mistake, or overtaken); the case goes on."""
    on = on or timezone.localdate()
    reason = (reason or "").strip()
    if not reason:
        raise ArrangementError(_("Say why the promise is withdrawn."), field="reason")
    with transaction.atomic():
        promise = Promise.objects.select_for_update().get(pk=promise.pk)
        if promise.status != PromiseStatus.OPEN:
            raise ArrangementError(_("This promise is no longer open."))
        _promise_end(
            promise,
            status=PromiseStatus.CANCELLED,
            reason=f"betaalbelofte ingetrokken: {reason}",
            on=on,
            actor=actor,
        )
    return promise
