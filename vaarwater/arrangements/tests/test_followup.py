"""The daily follow-up of plans: reconciling payments, reminders, thanks, misses, breach,
completion with the costs waiver, and the hook in the daily run."""

from datetime import date

import pytest
from django.db.models import Sum

from vaarwater.arrangements.followup import arrangement_reconcile, arrangements_follow_up
from vaarwater.arrangements.models import ArrangementStatus, InstalmentStatus
from vaarwater.arrangements.services import arrangement_accept
from vaarwater.contact.models import Message
from vaarwater.contact.rendering import message_content
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import EntryKind, LedgerEntry
from vaarwater.ledger.selectors import debtor_position
from vaarwater.ledger.services import entry_reverse, payment_book
from vaarwater.payments.models import PaymentLink
from vaarwater.strategy.models import CaseStatus, CloseReason, Decision
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.services import case_close

from .conftest import COSTS, ON, days

pytestmark = pytest.mark.django_db

DEBTOR = Actor("debtor", "klant (portaal)")


def accept(case, option, **kwargs):
    kwargs.setdefault("method", "transfer")
    return arrangement_accept(
        case=case, option=option, actor=DEBTOR, channel="portal", on=ON, **kwargs
    )


def pay(case, day, cents, ref=""):
    return payment_book(
        debtor=case.debtor,
        external_id=f"P-{day.isoformat()}-{cents}-{ref}",
        date=day,
        amount_cents=cents,
        reference=ref,
    )


def follow(start, end, payments=None):
    """Follow up every day from start to end, booking ``payments`` {day: cents} on their day."""
    payments = payments or {}
    total = {}
    for day in days(start, end):
        for case, cents in payments.get(day, ()):
            pay(case, day, cents)
        for key, value in arrangements_follow_up(on=day).items():
            total[key] = total.get(key, 0) + value
    return total


def statuses(plan):
    return list(plan.instalments.order_by("number").values_list("status", "paid_cents"))


def written_off(debtor):
    total = LedgerEntry.objects.filter(debtor=debtor, kind=EntryKind.WRITE_OFF).aggregate(
        s=Sum("amount_cents")
    )["s"]
    return -(total or 0)


def paid_since(plan):
    return sum(
        p.amount_cents for p in plan.debtor.payments.all() if p.created_at >= plan.created_at
    )


# -- reconciling -------------------------------------------------------------------------------


def test_partial_payment_leaves_the_instalment_open(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    pay(case, date(2026, 11, 20), 6000)
    arrangement_reconcile(plan, on=date(2026, 11, 20))
    assert statuses(plan) == [("open", 6000), ("open", 0), ("open", 0)]
    assert plan.paid_cents == 6000


def test_overpayment_covers_the_next_instalments(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    pay(case, date(2026, 11, 20), 15000)
    instalments = arrangement_reconcile(plan, on=date(2026, 11, 20))
    assert statuses(plan) == [("paid", 10000), ("open", 5000), ("open", 0)]
    assert instalments[0].paid_on == date(2026, 11, 20)


def test_paid_on_is_the_day_the_running_total_reached_it(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    pay(case, date(2026, 11, 20), 4000)
    pay(case, date(2026, 11, 24), 7000)
    pay(case, date(2026, 12, 20), 9000)
    instalments = arrangement_reconcile(plan, on=date(2026, 12, 20))
    assert [i.paid_on for i in instalments] == [date(2026, 11, 24), date(2026, 12, 20), None]


def test_a_reversed_payment_makes_the_instalment_unpaid_again(strategy, make_case, option_for):
    """A returned direct debit (a ledger reversal) undoes the instalment it paid."""
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    payment = pay(case, date(2026, 11, 25), 10000)
    arrangement_reconcile(plan, on=date(2026, 11, 25))
    assert statuses(plan)[0] == ("paid", 10000)
    entry_reverse(entry=payment.entries.get(kind=EntryKind.PAYMENT), reason="storno MD06")
    arrangement_reconcile(plan, on=date(2026, 11, 27))
    assert statuses(plan)[0] == ("open", 0)
    plan.refresh_from_db()
    assert plan.paid_cents == 0


def test_payments_booked_before_the_plan_do_not_count(strategy, make_case, option_for):
    strategy()
    case = make_case()
    pay(case, date(2026, 11, 1), 2000)
    plan = accept(case, option_for(case))
    arrangement_reconcile(plan, on=ON)
    assert plan.paid_cents == 0
    # The earlier payment went to the costs first (art. 6:44 BW): less is left to waive.
    assert (plan.total_cents, plan.waived_costs_cents) == (30000, COSTS - 2000)


# -- the plan kept: reminders, thanks, completion ------------------------------------------------


def test_a_kept_plan_reminds_thanks_waives_and_closes(strategy, make_case, option_for):
    """Three instalments paid on time: a reminder three days before each unpaid one (once),
    thanks with the progress, and at the end the costs written off and the case closed as
    arrangement_fulfilled. Paid + waived is exactly the debt at the start."""
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    counts = follow(
        date(2026, 11, 3),
        date(2027, 1, 31),
        {
            date(2026, 11, 24): [(case, 10000)],
            date(2026, 12, 25): [(case, 10000)],
            date(2027, 1, 20): [(case, 10000)],
        },
    )
    arrangements_follow_up(on=date(2026, 11, 22))  # the same day again: nothing twice
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED and plan.ended_on == date(2027, 1, 20)
    assert case.status == CaseStatus.CLOSED
    assert case.close_reason == CloseReason.ARRANGEMENT_FULFILLED
    assert plan.hold.released_on == date(2027, 1, 20)
    reminders = Message.objects.filter(template="termijn-herinnering").order_by("id")
    assert [m.context["instalment_due"] for m in reminders] == ["2026-11-25", "2026-12-25"]
    assert all(m.purpose == "reminder" for m in reminders)
    thanks = Message.objects.filter(template="termijn-bedankt").order_by("id")
    assert [m.context["plan_paid_count"] for m in thanks] == [1, 2]
    text = message_content(message=thanks[1]).text
    assert "2 van 3 betalingen gedaan" in text
    assert "nog € 100,00 open" in text
    assert counts == {"plan reminders": 2, "plan thanks": 2, "plans completed": 1}
    done = Message.objects.get(template="regeling-voltooid")
    assert done.case_id is None and done.context["case"] == case.reference
    assert done.context["plan_waived_costs_cents"] == COSTS
    text = message_content(message=done).text
    assert "incassokosten van € 45,00 niet meer te betalen" in text
    # Money is never created or lost.
    assert written_off(case.debtor) == COSTS
    assert paid_since(plan) + written_off(case.debtor) == plan.debt_cents == 34500
    # The plan's payments count towards the debt itself; the costs are what is written off.
    offs = LedgerEntry.objects.filter(debtor=case.debtor, kind=EntryKind.WRITE_OFF)
    assert {entry.component for entry in offs} == {"costs"}
    position = debtor_position(case.debtor)
    assert not position.items and position.credit == 0
    moved = Event.objects.get(debtor=case.debtor, verb="allocation.moved")
    assert moved.data["moved_cents"] == COSTS
    assert debtor_position(case.debtor).balance == 0
    write_off = Event.objects.get(verb="write_off.booked")
    assert (
        write_off.reason
        == f"incassokosten kwijtgescholden: de betalingsregeling {plan.reference} is nagekomen"
    )
    assert "€ 45,00 kwijtgescholden" in Event.objects.get(verb="arrangement.completed").reason


def test_paying_everything_early_completes_the_plan(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case, count=6))
    follow(date(2026, 11, 3), date(2026, 11, 10), {date(2026, 11, 5): [(case, 30000)]})
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED
    assert not Message.objects.filter(template="termijn-bedankt").exists()
    assert written_off(case.debtor) == COSTS


def test_no_waiver_when_the_policy_does_not_promise_one(strategy, make_case, option_for):
    strategy(waive_costs_when_kept="false")
    case = make_case()
    plan = accept(case, option_for(case, count=3))
    assert (plan.total_cents, plan.waived_costs_cents) == (34500, 0)
    follow(
        date(2026, 11, 3),
        date(2027, 1, 26),
        {
            day: [(case, 11500)]
            for day in (date(2026, 11, 25), date(2026, 12, 24), date(2027, 1, 25))
        },
    )
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED
    assert written_off(case.debtor) == 0
    text = message_content(message=Message.objects.get(template="regeling-voltooid")).text
    assert "incassokosten" not in text


def test_link_plans_get_a_payment_link_in_the_reminder(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case), method="link")
    follow(date(2026, 11, 22), date(2026, 11, 22))
    first = plan.instalments.get(number=1)
    link = PaymentLink.objects.get()
    assert first.payment_link == link and link.amount_cents == 10000
    reminder = Message.objects.get(template="termijn-herinnering")
    assert reminder.context["payment_url"].endswith(f"/b/{link.code}/")
    assert reminder.context["payment_url"] in message_content(message=reminder).text


def test_a_link_plan_due_soon_has_the_first_link_in_its_confirmation(
    strategy, make_case, option_for
):
    """No reminder goes that close to the first payment: the confirmation carries its link."""
    strategy()
    case = make_case()
    plan = accept(case, option_for(case, first=date(2026, 11, 4)), method="link")
    first = plan.instalments.get(number=1)
    link = PaymentLink.objects.get()
    assert first.payment_link == link and link.amount_cents == first.amount_cents
    confirmation = Message.objects.get(template="regeling-bevestiging")
    assert confirmation.context["plan_first_link"] is True
    text = message_content(message=confirmation).text
    assert confirmation.context["payment_url"].endswith(f"/b/{link.code}/")
    assert confirmation.context["payment_url"] in text
    follow(date(2026, 11, 2), date(2026, 11, 4))
    assert not Message.objects.filter(template="termijn-herinnering").exists()
    assert PaymentLink.objects.count() == 1


def test_a_link_plan_due_later_gets_its_link_with_the_reminder(strategy, make_case, option_for):
    strategy()
    case = make_case()
    accept(case, option_for(case), method="link")
    confirmation = Message.objects.get(template="regeling-bevestiging")
    assert "plan_first_link" not in confirmation.context
    assert not PaymentLink.objects.exists()


def test_direct_debit_plans_get_no_separate_reminder(strategy, make_case, option_for, monkeypatch):
    """The SEPA pre-notification tells the debtor; no second message from the plan."""
    from vaarwater.payments.sepa_models import Mandate

    strategy()
    case = make_case()
    Mandate.objects.create(
        creditor_id=case.creditor_id,
        debtor=case.debtor,
        mandate_id="M-1",
        iban="NL91ABNA0417164300",
        account_holder="Klant",
        signed_on=ON,
        signed_via="portal",
    )
    monkeypatch.setattr("vaarwater.payments.sepa.collections_plan", lambda **kwargs: [])
    accept(case, option_for(case), method="sepa")
    follow(date(2026, 11, 20), date(2026, 11, 25))
    assert not Message.objects.filter(template="termijn-herinnering").exists()


def test_no_reminder_for_a_first_instalment_agreed_inside_the_window(
    strategy, make_case, option_for
):
    """The confirmation just told them; a reminder the same week would be one too many."""
    strategy()
    case = make_case()
    accept(case, option_for(case, first=date(2026, 11, 4)))
    follow(date(2026, 11, 2), date(2026, 11, 4))
    assert not Message.objects.filter(template="termijn-herinnering").exists()


# -- misses and breach ---------------------------------------------------------------------------


def test_miss_nudges_with_a_replan_offer_and_a_late_payment_still_counts(
    strategy, make_case, option_for
):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    follow(date(2026, 11, 3), date(2026, 11, 30))
    assert statuses(plan)[0] == ("open", 0)  # within the five days' grace
    counts = follow(date(2026, 12, 1), date(2026, 12, 1))
    assert counts == {"plan instalments missed": 1, "plan nudges": 1}
    plan.refresh_from_db()
    assert plan.misses == 1 and plan.status == ArrangementStatus.ACTIVE
    assert statuses(plan)[0] == ("missed", 0)
    nudge = Message.objects.get(template="termijn-gemist")
    assert nudge.context["replan"] is True and nudge.context["instalment_cents"] == 10000
    text = message_content(message=nudge).text
    assert "nieuwe regeling kiezen" in text and "/regeling/" in text
    assert "termijn 1 van regeling" in Event.objects.get(verb="instalment.missed").reason
    follow(date(2026, 12, 2), date(2026, 12, 3), {date(2026, 12, 3): [(case, 10000)]})
    assert statuses(plan)[0] == ("paid", 10000)
    assert Message.objects.filter(template="termijn-bedankt").count() == 1


def test_no_replan_offer_when_the_policy_says_so(strategy, make_case, option_for):
    strategy(replan_after_miss="false")
    case = make_case()
    accept(case, option_for(case))
    follow(date(2026, 12, 1), date(2026, 12, 1))
    text = message_content(message=Message.objects.get(template="termijn-gemist")).text
    assert "/regeling/" not in text


def test_breach_after_two_misses_returns_the_case_to_its_strategy(strategy, make_case, option_for):
    """Two instalments missed and unpaid: the plan is broken off, its hold ends, the costs
    are due again, the debtor is told, and the daily run continues the case the same day."""
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    for day in days(date(2026, 11, 3), date(2026, 12, 31)):
        daily_run(run_date=day)
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == ArrangementStatus.BREACHED and plan.ended_on == date(2026, 12, 31)
    assert plan.misses == 2
    assert plan.hold.released_on == date(2026, 12, 31)
    assert case.status == CaseStatus.OPEN
    event = Event.objects.get(verb="arrangement.breached")
    assert "2 termijnen niet betaald" in event.reason
    assert "€ 45,00 zijn weer verschuldigd" in event.reason
    assert Message.objects.filter(template="termijn-gemist").count() == 1  # the first miss only
    ended = Message.objects.get(template="regeling-beeindigd")
    assert ended.context["claim_cents"] == 34500  # costs included again
    assert "€ 345,00 open" in message_content(message=ended).text
    assert debtor_position(case.debtor).balance == 34500
    assert Decision.objects.filter(case=case, run_date=date(2026, 12, 31)).exists()


def test_a_plan_whose_last_date_passed_unpaid_ends(strategy, make_case, option_for):
    strategy(breach_after_misses=3)
    case = make_case()
    plan = accept(case, option_for(case, count=2))
    follow(date(2026, 11, 3), date(2027, 1, 1), {date(2026, 12, 1): [(case, 15000)]})
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.BREACHED
    assert "de laatste termijn is voorbij" in Event.objects.get(verb="arrangement.breached").reason


def test_a_plan_of_a_case_closed_otherwise_stops(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    case_close(case=case, reason_code=CloseReason.WRITTEN_OFF, reason="test", on=ON, actor=DEBTOR)
    assert arrangements_follow_up(on=date(2026, 11, 3)) == {"plans stopped (case closed)": 1}
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.CANCELLED


# -- the daily run ----------------------------------------------------------------------------


def test_daily_run_follows_plans_and_closes_as_fulfilled_not_paid(strategy, make_case, option_for):
    """Without a waiver the last instalment pays everything: the run's follow-up closes the case
    as arrangement_fulfilled before the chunks would close it as paid."""
    strategy(waive_costs_when_kept="false")
    case = make_case()
    plan = accept(case, option_for(case, count=2))
    result = daily_run(run_date=date(2026, 11, 22))
    assert result.counts["plan reminders"] == 1
    for day, cents in ((date(2026, 11, 25), 17250), (date(2026, 12, 24), 17250)):
        pay(case, day, cents)
        daily_run(run_date=day)
    case.refresh_from_db()
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED
    assert case.close_reason == CloseReason.ARRANGEMENT_FULFILLED
    assert [i.status for i in plan.instalments.all()] == [InstalmentStatus.PAID] * 2


def test_a_plan_paid_off_on_a_case_closed_as_paid_still_completes(strategy, make_case, option_for):
    """An iDEAL payment may close the case as paid at once; the plan still ends completed."""
    strategy(waive_costs_when_kept="false")
    case = make_case()
    plan = accept(case, option_for(case, count=2))
    pay(case, date(2026, 11, 20), 34500)
    case_close(case=case, reason_code=CloseReason.PAID, reason="iDEAL", on=ON, actor=DEBTOR)
    assert arrangements_follow_up(on=date(2026, 11, 21)) == {"plans completed": 1}
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED
    assert case.close_reason == CloseReason.PAID
    assert Message.objects.filter(template="regeling-voltooid").count() == 1


def test_a_plan_covering_a_bill_not_yet_due_keeps_its_case_until_the_plan_ends(
    strategy, make_case, option_for
):
    """The plan covers every open item, also a bill that is not due yet. Once the overdue part
    is paid, nothing is overdue: the run must not close the case as paid (which stopped the
    plan, kept the costs the debtor paid and let the strategy start again when the bill fell
    due); the plan runs on and completes, and the case closes as fulfilled."""
    from vaarwater.ledger.services import invoice_create

    strategy()
    case = make_case()
    invoice_create(
        debtor=case.debtor,
        external_id="F-later",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 20),
        amount_cents=6000,
    )
    plan = accept(case, option_for(case, count=2))  # € 300 + € 60, the € 45 costs set aside
    assert plan.total_cents == 36000 and plan.waived_costs_cents == COSTS
    pay(case, date(2026, 11, 3), 34500)  # what was overdue (costs first): nothing overdue now
    daily_run(run_date=date(2026, 11, 3))
    daily_run(run_date=date(2026, 11, 4))
    case.refresh_from_db()
    plan.refresh_from_db()
    assert case.status == CaseStatus.HELD and plan.status == ArrangementStatus.ACTIVE
    pay(case, date(2026, 12, 20), 1500)
    daily_run(run_date=date(2026, 12, 20))
    case.refresh_from_db()
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED
    assert case.close_reason == CloseReason.ARRANGEMENT_FULFILLED
    assert written_off(case.debtor) == COSTS
    assert debtor_position(case.debtor).balance == 0
