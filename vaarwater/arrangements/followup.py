"""The daily follow-up of payment plans and promises to pay.

Every day, before the strategy's own run, each active plan is looked at on its own:

1. **Reconcile.** The debtor's payments booked since the plan was agreed, minus the reversals
   of those payments (a returned direct debit), are laid over the instalments, oldest first:
   that gives each instalment its ``paid_cents``, status and ``paid_on``. An overpayment
   covers the next instalments. Payments are never booked *on* an instalment.
2. **Completed** when every instalment is paid: the costs the plan set aside are written off
   (the waiver), the plan ends COMPLETED and the case closes as ``arrangement_fulfilled``.
3. **Thanks** after an instalment is paid, with the progress ("3 van 6 betaald"), once.
4. **Missed** when an instalment is still unpaid ``grace_days`` after its due date: a gentle
   nudge, with an offer to choose a new plan when the policy allows it.
5. **Broken** when ``breach_after_misses`` instalments are missed and still unpaid, or when the
   last instalment's grace has passed with money still unpaid: the plan's hold ends, so the case
   goes on with its strategy; the set-aside costs stay due (they were never written off).
6. **Reminder** ``reminder_days_before`` days before each unpaid instalment, once, on the
   debtor's preferred channel; with a payment link for plans paid by link. Plans paid by
   direct debit get no reminder here: the SEPA pre-notification tells them.

The rules are the plan's own: the policy as it was when the plan was agreed (``policy``).

Promises to pay are kept when the payments since the promise reach its amount, and broken
when its date and ``promise_grace_days`` have passed without that; either way its hold ends.
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q, Sum

from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import Component, Invoice, LedgerEntry, Payment
from vaarwater.ledger.selectors import debtor_position
from vaarwater.strategy.models import Case, CaseStatus, CloseReason
from vaarwater.strategy.schema import ArrangementPolicy
from vaarwater.strategy.services import case_close

from .models import (
    Arrangement,
    ArrangementStatus,
    Instalment,
    InstalmentStatus,
    PayMethod,
    Promise,
    PromiseStatus,
)
from .services import _plan_cancel, _plan_end, _promise_end, plan_context, policy_of

log = logging.getLogger(__name__)
ACTOR = Actor.system("regelingen")
WAIVER_REASON = "incassokosten kwijtgescholden: de betalingsregeling {reference} is nagekomen"
MOVE_REASON = (
    "betalingsregeling {reference} nagekomen: de betalingen tellen voor de schuld zelf (zo "
    "afgesproken); wat naar de incassokosten ging, gaat naar rente en hoofdsom"
)


def _d(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def plan_policy(arrangement: Arrangement):
    """The rules of a plan: the policy as agreed, else (an unreadable snapshot) the current."""
    try:
        return ArrangementPolicy.model_validate(arrangement.policy or {})
    except ValueError:
        log.warning("plan %s: policy snapshot unreadable; using the current policy", arrangement.pk)
        return policy_of(arrangement.case)


# -- reconciling -------------------------------------------------------------------------------


def _net_payments(entries) -> list[tuple[date, int]]:
    """(payment date, net cents) per payment, oldest first; reversed payments net to zero."""
    rows = (
        entries.filter(component=Component.PAYMENT)
        .values("payment_id", "payment__date")
        .annotate(total=Sum("amount_cents"))
        .order_by("payment__date", "payment_id")
    )
    return [(row["payment__date"], -int(row["total"])) for row in rows if row["total"] < 0]


def plan_payments(arrangement: Arrangement) -> list[tuple[date, int]]:
    """The payments that count for a plan: booked after it was agreed, net of reversals.

    Booked after, not dated after: what was booked before is already out of the debt the plan
    was made for; a transfer dated the day before but booked later is not. A payment the
    debtor designated to an invoice made after the plan (a new bill) does not count.
    """
    entries = LedgerEntry.objects.filter(
        debtor_id=arrangement.debtor_id, payment__created_at__gte=arrangement.created_at
    ).exclude(payment__designated_invoice__created_at__gt=arrangement.created_at)
    return _net_payments(entries)


def arrangement_reconcile(arrangement: Arrangement, *, on: date) -> list[Instalment]:
    """Lay the plan's net payments over its instalments, oldest first; save what changed.

    Returns the instalments in order. An instalment that was paid and whose payment was
    reversed is open again (or missed, if it was missed before).
    """
    payments = plan_payments(arrangement)
    running, cumulative = 0, []
    for _day, cents in payments:
        running += cents
        cumulative.append(running)
    left = running
    instalments = list(arrangement.instalments.order_by("number"))
    threshold, changed = 0, []
    for inst in instalments:
        paid = min(inst.amount_cents, max(left, 0))
        left -= paid
        threshold += inst.amount_cents
        if paid == inst.amount_cents:
            status = InstalmentStatus.PAID
            paid_on = payments[bisect.bisect_left(cumulative, threshold)][0]
        else:
            status = InstalmentStatus.MISSED if inst.missed_on else InstalmentStatus.OPEN
            paid_on = None
        if (inst.paid_cents, inst.status, inst.paid_on) != (paid, status, paid_on):
            inst.paid_cents, inst.status, inst.paid_on = paid, status, paid_on
            changed.append(inst)
    if changed:
        Instalment.objects.bulk_update(changed, ["paid_cents", "status", "paid_on"])
    paid_total = min(running, arrangement.total_cents)
    if arrangement.paid_cents != paid_total:
        arrangement.paid_cents = paid_total
        arrangement.save(update_fields=["paid_cents", "updated_at"])
    return instalments


# -- messages ----------------------------------------------------------------------------------


def _queue(arrangement, *, template, purpose, key, context, why, actor, case=True):
    from vaarwater.contact.services import message_queue

    body = {**context}
    if not case:
        body["case"] = arrangement.case.reference
    return message_queue(
        debtor=arrangement.debtor,
        template=template,
        purpose=purpose,
        key=key,
        case=arrangement.case if case else None,
        context=body,
        why=why,
        actor=actor,
    )


def _remind(arrangement, inst, instalments, policy, on, actor) -> bool:
    context = {
        **plan_context(arrangement, instalments),
        "instalment_number": inst.number,
        "instalment_cents": inst.amount_cents - inst.paid_cents,
        "instalment_due": inst.due_on.isoformat(),
        "amount_cents": inst.amount_cents - inst.paid_cents,
    }
    if arrangement.method == PayMethod.LINK:
        url = _instalment_link(arrangement, inst, policy, actor)
        if url:
            context["payment_url"] = url
    inst.reminded_on = on
    inst.save(update_fields=["reminded_on", "payment_link"])
    message = _queue(
        arrangement,
        template="termijn-herinnering",
        purpose="reminder",
        key=f"instalment-{inst.pk}-reminder",
        context=context,
        why=f"herinnering: termijn {inst.number} van regeling {arrangement.reference} "
        f"({format_eur(inst.amount_cents - inst.paid_cents)}) op {_d(inst.due_on)}",
        actor=actor,
    )
    return message is not None


def _instalment_link(arrangement, inst, policy, actor) -> str:
    """A payment link for what is unpaid of an instalment (method link); '' when not possible."""
    from vaarwater.payments.selectors import link_url
    from vaarwater.payments.services import PaymentError, payment_link_create

    amount = min(inst.amount_cents - inst.paid_cents, debtor_position(arrangement.debtor).balance)
    if amount <= 0:
        return ""
    days = max(1, min(90, policy.reminder_days_before + policy.grace_days + 1))
    try:
        link = payment_link_create(
            debtor=arrangement.debtor,
            amount_cents=amount,
            actor=actor,
            days=days,
            case=arrangement.case,
            description=f"termijn {inst.number} regeling {arrangement.reference}",
            purpose="instalment",
        )
    except PaymentError as exc:
        log.info("no payment link for instalment %s: %s", inst.pk, exc.message)
        return ""
    inst.payment_link = link
    return link_url(link)


def _thank(arrangement, inst, instalments, actor) -> bool:
    paid_count = sum(1 for i in instalments if i.status == InstalmentStatus.PAID)
    context = {
        **plan_context(arrangement, instalments),
        "instalment_number": inst.number,
        "paid_cents": inst.amount_cents,
        "paid_on": inst.paid_on.isoformat() if inst.paid_on else "",
        "remaining_cents": max(arrangement.total_cents - arrangement.paid_cents, 0),
    }
    message = _queue(
        arrangement,
        template="termijn-bedankt",
        purpose="plan_thanks",
        key=f"instalment-{inst.pk}-thanks",
        context=context,
        why=f"bedankt voor termijn {inst.number} van regeling {arrangement.reference}: "
        f"{paid_count} van {len(instalments)} betaald",
        actor=actor,
    )
    return message is not None


# -- ending a plan -----------------------------------------------------------------------------


def _waive(arrangement: Arrangement, *, on: date, actor: Actor) -> int:
    """Write off what is still open of the plan's debt, up to the costs it set aside.

    Payments are allocated costs first (art. 6:44 BW), so by the end of a kept plan the costs
    are usually paid and what is open is principal. As the plan agreed, its payments count
    towards the debt itself: what they paid on costs is moved to interest and principal
    (``ledger.services.allocation_move``), and then what remains open on the invoices the plan
    was made for is written off, costs first (then interest, then principal, should any be
    left), oldest invoice first, never more than ``waived_costs_cents`` in all. Returns the
    cents written off.
    """
    from vaarwater.ledger.services import allocation_move, write_off

    left = arrangement.waived_costs_cents
    if left <= 0:
        return 0
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.filter(
            debtor_id=arrangement.debtor_id, created_at__lte=arrangement.created_at
        )
    }
    reason = WAIVER_REASON.format(reference=arrangement.reference)
    # By the plan's agreement its payments count towards the debt itself: what they paid on
    # costs (art. 6:44 BW puts them there first) moves to interest and principal, and the
    # costs, open again, are what is written off.
    allocation_move(
        debtor=arrangement.debtor,
        payments=list(
            Payment.objects.filter(
                debtor_id=arrangement.debtor_id, created_at__gte=arrangement.created_at
            )
        ),
        from_component=Component.COSTS,
        amount_cents=left,
        invoice_ids=set(invoices),
        reason=MOVE_REASON.format(reference=arrangement.reference),
        actor=actor,
    )
    items = sorted(
        (item for item in debtor_position(arrangement.debtor).items.values()),
        key=lambda item: (item.due_date, item.invoice_id),
    )
    done = 0
    for component in (Component.COSTS, Component.INTEREST, Component.PRINCIPAL):
        for item in items:
            if left <= 0 or item.invoice_id not in invoices:
                continue
            cents = min(getattr(item, component), left)
            if cents <= 0:
                continue
            write_off(
                invoice=invoices[item.invoice_id],
                component=component,
                amount_cents=cents,
                reason=reason,
                actor=actor,
            )
            setattr(item, component, getattr(item, component) - cents)
            left -= cents
            done += cents
    return done


def _complete(arrangement, instalments, *, on, actor) -> None:
    waived = _waive(arrangement, on=on, actor=actor)
    case = Case.objects.select_for_update().get(pk=arrangement.case_id)
    count = len(instalments)
    reason = (
        f"betalingsregeling {arrangement.reference} nagekomen: alle {count} "
        f"termijn{'en' if count > 1 else ''} betaald (samen {format_eur(arrangement.total_cents)})"
        + (f"; incassokosten van {format_eur(waived)} kwijtgescholden" if waived else "")
    )
    if case.status != CaseStatus.CLOSED:
        case_close(
            case=case,
            reason_code=CloseReason.ARRANGEMENT_FULFILLED,
            reason=reason,
            on=on,
            actor=actor,
        )
    Instalment.objects.filter(arrangement=arrangement, thanked_on__isnull=True).update(
        thanked_on=on
    )
    _plan_end(arrangement, status=ArrangementStatus.COMPLETED, reason=reason, on=on, actor=actor)
    event_record(
        creditor=arrangement.creditor_id,
        debtor=arrangement.debtor_id,
        verb="arrangement.completed",
        actor=actor,
        subject=arrangement,
        reason=reason,
        data={
            "case": arrangement.case_id,
            "paid_cents": arrangement.paid_cents,
            "waived_cents": waived,
            "debt_cents": arrangement.debt_cents,
        },
        on=on,
    )
    # Sent without the case, which is closed now: the contact hours and caps still apply,
    # but the outbox does not cancel it as a reminder for a closed case.
    _queue(
        arrangement,
        template="regeling-voltooid",
        purpose="plan_completed",
        key=f"arrangement-{arrangement.pk}-completed",
        context={
            **plan_context(arrangement, instalments),
            "plan_waived_costs_cents": waived,
            "remaining_cents": max(debtor_position(arrangement.debtor).balance, 0),
        },
        why=f"regeling {arrangement.reference} nagekomen: bedankt"
        + (f", {format_eur(waived)} kosten kwijtgescholden" if waived else ""),
        actor=actor,
        case=False,
    )


def _breach(arrangement, instalments, policy, *, on, actor, ran_out: bool) -> None:
    unpaid = [i for i in instalments if i.status == InstalmentStatus.MISSED]
    listed = ", ".join(
        f"{i.number} ({format_eur(i.amount_cents - i.paid_cents)}, {_d(i.due_on)})" for i in unpaid
    )
    reason = f"betalingsregeling {arrangement.reference} verbroken: " + (
        f"de laatste termijn is voorbij en termijn {listed} is niet (helemaal) betaald"
        if ran_out and len(unpaid) < policy.breach_after_misses
        else f"{len(unpaid)} termijnen niet betaald ({listed}); de regeling stopt na "
        f"{policy.breach_after_misses} gemiste termijnen"
    )
    if arrangement.waived_costs_cents:
        reason += (
            f"; de incassokosten van {format_eur(arrangement.waived_costs_cents)} "
            "zijn weer verschuldigd"
        )
    reason += "; het dossier gaat verder met de strategie"
    _plan_end(arrangement, status=ArrangementStatus.BREACHED, reason=reason, on=on, actor=actor)
    event_record(
        creditor=arrangement.creditor_id,
        debtor=arrangement.debtor_id,
        verb="arrangement.breached",
        actor=actor,
        subject=arrangement,
        reason=reason,
        data={
            "case": arrangement.case_id,
            "missed": [i.number for i in unpaid],
            "paid_cents": arrangement.paid_cents,
            "misses": arrangement.misses,
        },
        on=on,
    )
    balance = max(debtor_position(arrangement.debtor).balance, 0)
    _queue(
        arrangement,
        template="regeling-beeindigd",
        purpose="plan_ended",
        key=f"arrangement-{arrangement.pk}-breached",
        context={
            **plan_context(arrangement, instalments),
            "claim_cents": balance,
            "amount_cents": balance,
            "replan": policy.replan_after_miss,
        },
        why=f"regeling {arrangement.reference} gestopt na gemiste termijnen",
        actor=actor,
    )


def _miss(arrangement, inst, *, on, actor, grace: int) -> None:
    inst.status = InstalmentStatus.MISSED
    inst.missed_on = on
    inst.save(update_fields=["status", "missed_on"])
    arrangement.misses += 1
    arrangement.save(update_fields=["misses", "updated_at"])
    unpaid = inst.amount_cents - inst.paid_cents
    event_record(
        creditor=arrangement.creditor_id,
        debtor=arrangement.debtor_id,
        verb="instalment.missed",
        actor=actor,
        subject=arrangement,
        reason=f"termijn {inst.number} van regeling {arrangement.reference} "
        f"({format_eur(inst.amount_cents)} op {_d(inst.due_on)}) is {grace} dagen later nog "
        f"niet betaald: {format_eur(unpaid)} open; {arrangement.misses}e gemiste termijn",
        data={
            "case": arrangement.case_id,
            "instalment": inst.pk,
            "number": inst.number,
            "unpaid_cents": unpaid,
            "misses": arrangement.misses,
        },
        on=on,
    )


def _nudge(arrangement, inst, instalments, policy, actor) -> bool:
    unpaid = inst.amount_cents - inst.paid_cents
    message = _queue(
        arrangement,
        template="termijn-gemist",
        purpose="reminder",
        key=f"instalment-{inst.pk}-missed",
        context={
            **plan_context(arrangement, instalments),
            "instalment_number": inst.number,
            "instalment_cents": unpaid,
            "instalment_due": inst.due_on.isoformat(),
            "amount_cents": unpaid,
            "replan": policy.replan_after_miss,
        },
        why=f"termijn {inst.number} van regeling {arrangement.reference} gemist"
        + ("; met het aanbod een nieuwe regeling te kiezen" if policy.replan_after_miss else ""),
        actor=actor,
    )
    return message is not None


# -- the daily follow-up -----------------------------------------------------------------------


def arrangement_follow_up(arrangement: Arrangement, *, on: date, actor: Actor = ACTOR) -> Counter:
    """Follow one plan up on a day (see the module's docstring); return what it did."""
    counts: Counter = Counter()
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=arrangement.case_id).first()
        arrangement = (
            Arrangement.objects.select_for_update(of=("self",))
            .select_related("case", "debtor", "creditor", "mandate")
            .get(pk=arrangement.pk)
        )
        if arrangement.status != ArrangementStatus.ACTIVE:
            return counts
        policy = plan_policy(arrangement)
        instalments = arrangement_reconcile(arrangement, on=on)
        if all(inst.status == InstalmentStatus.PAID for inst in instalments):
            _complete(arrangement, instalments, on=on, actor=actor)
            counts["plans completed"] += 1
            return counts
        if arrangement.case.status == CaseStatus.CLOSED:
            reason = f"het dossier is gesloten ({arrangement.case.get_close_reason_display()})"
            _plan_cancel(arrangement, reason=reason, on=on, actor=actor)
            counts["plans stopped (case closed)"] += 1
            return counts
        # Thanks: one message for the latest instalment newly paid, however many it was.
        fresh = [i for i in instalments if i.status == InstalmentStatus.PAID and not i.thanked_on]
        if fresh:
            if _thank(arrangement, fresh[-1], instalments, actor):
                counts["plan thanks"] += 1
            Instalment.objects.filter(pk__in=[i.pk for i in fresh]).update(thanked_on=on)
        grace = timedelta(days=policy.grace_days)
        missed = [
            i for i in instalments if i.status == InstalmentStatus.OPEN and on > i.due_on + grace
        ]
        for inst in missed:
            _miss(arrangement, inst, on=on, actor=actor, grace=policy.grace_days)
            counts["plan instalments missed"] += 1
        unpaid = [i for i in instalments if i.status == InstalmentStatus.MISSED]
        ran_out = on > instalments[-1].due_on + grace
        if unpaid and (len(unpaid) >= policy.breach_after_misses or ran_out):
            _breach(arrangement, instalments, policy, on=on, actor=actor, ran_out=ran_out)
            counts["plans broken"] += 1
            return counts
        for inst in missed:
            if _nudge(arrangement, inst, instalments, policy, actor):
                counts["plan nudges"] += 1
        if arrangement.method == PayMethod.SEPA:
            return counts  # the direct debit's pre-notification is the reminder
        ahead = timedelta(days=policy.reminder_days_before)
        for inst in instalments:
            if (
                inst.status == InstalmentStatus.OPEN
                and inst.reminded_on is None
                and inst.due_on - ahead <= on <= inst.due_on
                and inst.due_on - ahead > arrangement.accepted_on
                and _remind(arrangement, inst, instalments, policy, on, actor)
            ):
                counts["plan reminders"] += 1
    return counts


def arrangements_follow_up(*, on: date, creditor=None, actor: Actor | None = None) -> Counter:
    """Follow up every active plan (of one creditor, or all) on a day; return the counts.

    One transaction per plan: a plan that fails is logged and left for the next day, the
    others go on.
    """
    actor = actor or ACTOR
    plans = Arrangement.objects.filter(status=ArrangementStatus.ACTIVE, accepted_on__lte=on)
    if creditor is not None:
        plans = plans.filter(creditor=creditor)
    counts: Counter = Counter()
    for arrangement in plans.order_by("id"):
        try:
            counts.update(arrangement_follow_up(arrangement, on=on, actor=actor))
        except Exception:
            log.exception("following up plan %s on %s failed", arrangement.pk, on)
            counts["plan follow-ups failed"] += 1
    return counts


# -- promises ----------------------------------------------------------------------------------


def promise_paid(promise: Promise) -> int:
    """What the debtor paid since the promise: payments dated on or after the day it was made,
    or booked after it was recorded, net of reversals."""
    entries = LedgerEntry.objects.filter(debtor_id=promise.debtor_id).filter(
        Q(payment__date__gte=promise.made_on) | Q(payment__created_at__gte=promise.created_at)
    )
    return sum(cents for _day, cents in _net_payments(entries))


def promises_follow_up(*, on: date, creditor=None, actor: Actor | None = None) -> Counter:
    """Settle open promises: kept once the payments since reach the amount; broken when the
    date and its grace have passed without. Either way the case's promise hold ends."""
    actor = actor or ACTOR
    promises = Promise.objects.filter(status=PromiseStatus.OPEN, made_on__lte=on).select_related(
        "case", "case__strategy_version"
    )
    if creditor is not None:
        promises = promises.filter(creditor=creditor)
    counts: Counter = Counter()
    for promise in promises.order_by("id"):
        with transaction.atomic():
            Case.objects.select_for_update().filter(pk=promise.case_id).first()
            promise = (
                Promise.objects.select_for_update(of=("self",))
                .select_related("case", "case__creditor")
                .get(pk=promise.pk)
            )
            if promise.status != PromiseStatus.OPEN:
                continue
            paid = promise_paid(promise)
            promise.paid_cents = min(paid, promise.amount_cents)
            grace = policy_of(promise.case).promise_grace_days
            what = (
                f"betaalbelofte van {format_eur(promise.amount_cents)} "
                f"uiterlijk {_d(promise.due_on)}"
            )
            if paid >= promise.amount_cents:
                _promise_end(
                    promise,
                    status=PromiseStatus.KEPT,
                    reason=f"{what} nagekomen: {format_eur(paid)} betaald",
                    on=on,
                    actor=actor,
                )
                counts["promises kept"] += 1
            elif promise.case.status == CaseStatus.CLOSED:
                _promise_end(
                    promise,
                    status=PromiseStatus.CANCELLED,
                    reason=f"{what} vervallen: het dossier is gesloten",
                    on=on,
                    actor=actor,
                )
                counts["promises cancelled (case closed)"] += 1
            elif on > promise.due_on + timedelta(days=grace):
                _promise_end(
                    promise,
                    status=PromiseStatus.BROKEN,
                    reason=f"{what} niet nagekomen: {format_eur(paid)} betaald na {grace} "
                    "dagen coulance; het dossier gaat verder met de strategie",
                    on=on,
                    actor=actor,
                )
                counts["promises broken"] += 1
            elif promise.paid_cents:
                promise.save(update_fields=["paid_cents"])
    return counts
