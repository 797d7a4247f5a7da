"""Promises to pay: recorded with a hold, replaced by a newer one, kept or broken, and a broken
promise as a fact the strategy's segments can use."""

from datetime import date

import pytest
from pydantic import ValidationError

from vaarwater.arrangements.followup import promises_follow_up
from vaarwater.arrangements.models import PromiseStatus
from vaarwater.arrangements.selectors import broken_promise_counts, debtor_promises, open_promise
from vaarwater.arrangements.services import (
    ArrangementError,
    arrangement_accept,
    promise_cancel,
    promise_record,
)
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.services import invoice_create, payment_book
from vaarwater.strategy.models import CaseStatus, CloseReason, HoldKind
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.schema import Condition

from .conftest import ON

# The refusals are read in English (the interface is Dutch first).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

AGENT = Actor("user", "medewerker")
DUE = date(2026, 11, 10)


def promise(case, amount=10000, due=DUE, **kwargs):
    kwargs.setdefault("source", "call")
    kwargs.setdefault("on", ON)
    return promise_record(case=case, amount_cents=amount, due_on=due, actor=AGENT, **kwargs)


def pay(case, day, cents):
    payment_book(debtor=case.debtor, external_id=f"P-{day}-{cents}", date=day, amount_cents=cents)


def test_a_promise_holds_the_case_until_its_date_and_grace(strategy, make_case):
    strategy()
    case = make_case()
    made = promise(case, note="belt terug als het niet lukt")
    assert made.status == PromiseStatus.OPEN and made.made_by == "medewerker"
    assert made.hold.kind == HoldKind.PROMISE
    assert made.hold.until == date(2026, 11, 12)  # promise_grace_days: 2
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    event = Event.objects.get(verb="promise.made")
    assert event.reason == (
        "betaalbelofte in een gesprek: € 100,00 uiterlijk 10-11-2026 (belt terug als het niet lukt)"
    )
    assert open_promise(case) == made
    assert list(debtor_promises(case.debtor)) == [made]


@pytest.mark.parametrize(
    ("amount", "due", "field"),
    [
        (0, DUE, "amount"),
        (34501, DUE, "amount"),  # more than is open (principal and costs)
        (10000, date(2026, 11, 1), "due_on"),  # in the past
        (10000, date(2026, 12, 3), "due_on"),  # more than 30 days ahead
    ],
)
def test_a_promise_must_be_possible(strategy, make_case, amount, due, field):
    strategy()
    case = make_case()
    with pytest.raises(ArrangementError) as refused:
        promise(case, amount=amount, due=due)
    assert refused.value.field == field


def test_no_promise_next_to_a_plan(strategy, make_case, option_for):
    strategy()
    case = make_case()
    arrangement_accept(
        case=case, option=option_for(case), method="transfer", actor=AGENT, channel="agent", on=ON
    )
    with pytest.raises(ArrangementError, match="payment plan"):
        promise(case)


def test_a_plan_ends_an_open_promise(strategy, make_case, option_for):
    strategy()
    case = make_case()
    made = promise(case)
    arrangement_accept(
        case=case, option=option_for(case), method="transfer", actor=AGENT, channel="agent", on=ON
    )
    made.refresh_from_db()
    assert made.status == PromiseStatus.CANCELLED
    assert made.hold.released_on == ON
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD  # under the plan's hold now


def test_a_new_promise_replaces_the_old_one(strategy, make_case):
    strategy()
    case = make_case()
    first = promise(case)
    second = promise(case, amount=20000, due=date(2026, 11, 20))
    first.refresh_from_db()
    assert first.status == PromiseStatus.CANCELLED and first.hold.released_on == ON
    assert open_promise(case) == second
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    assert "vervangen door een nieuwe betaalbelofte van € 200,00" in (
        Event.objects.get(verb="promise.cancelled").reason
    )


def test_a_promise_is_kept_as_soon_as_it_is_paid(strategy, make_case):
    strategy()
    case = make_case()
    made = promise(case)
    pay(case, date(2026, 11, 8), 10000)
    assert promises_follow_up(on=date(2026, 11, 8)) == {"promises kept": 1}
    made.refresh_from_db()
    case.refresh_from_db()
    assert (made.status, made.paid_cents, made.settled_on) == ("kept", 10000, date(2026, 11, 8))
    assert made.hold.released_on == date(2026, 11, 8)
    assert case.status == CaseStatus.OPEN  # the strategy goes on
    assert "nagekomen" in Event.objects.get(verb="promise.kept").reason


def test_a_promise_is_broken_after_its_date_and_grace(strategy, make_case):
    strategy()
    case = make_case()
    made = promise(case)
    pay(case, date(2026, 11, 9), 4000)
    assert promises_follow_up(on=date(2026, 11, 12)) == {}  # still within the grace
    made.refresh_from_db()
    assert made.paid_cents == 4000 and made.status == PromiseStatus.OPEN
    assert promises_follow_up(on=date(2026, 11, 13)) == {"promises broken": 1}
    made.refresh_from_db()
    case.refresh_from_db()
    assert made.status == PromiseStatus.BROKEN and made.settled_on == date(2026, 11, 13)
    assert case.status == CaseStatus.OPEN
    assert "niet nagekomen: € 40,00 betaald" in Event.objects.get(verb="promise.broken").reason
    assert broken_promise_counts([case.debtor_id]) == {case.debtor_id: 1}


def test_cancel_a_promise(strategy, make_case):
    strategy()
    case = make_case()
    made = promise(case)
    promise_cancel(promise=made, reason="verkeerd genoteerd", actor=AGENT, on=ON)
    made.refresh_from_db()
    assert made.status == PromiseStatus.CANCELLED
    with pytest.raises(ArrangementError):
        promise_cancel(promise=made, reason="nogmaals", actor=AGENT)


def test_the_daily_run_settles_promises_before_it_ends_holds(strategy, make_case):
    """The run settles the promise (broken, with the reason) instead of just letting the hold
    expire; the case's next step follows the same day."""
    strategy()
    case = make_case()
    made = promise(case)
    result = daily_run(run_date=date(2026, 11, 13))
    assert result.counts["promises broken"] == 1
    assert result.holds_released == 0  # released by the follow-up, with its reason
    made.refresh_from_db()
    assert made.status == PromiseStatus.BROKEN
    assert "niet nagekomen" in made.hold.release_reason


STRICT = """
strategy: test
title: Teststrategie
settings:
  grace_days: 3
  payday_window_days: 0
segments:
  - name: beloften
    label: Beloften niet nagekomen
    when: {broken_promises_min: 1}
    path: streng
  - name: alle
    label: Alle klanten
    path: standaard
paths:
  standaard:
    - {step: message, channel: email, template: herinnering, day: 5, after: due_date}
  streng:
    - {step: call_task, day: 1, after: due_date}
"""


def test_a_broken_promise_is_visible_to_the_strategy(load_strategy, make_case):
    """A segment with broken_promises_min picks the debtor's next case."""
    load_strategy(STRICT)
    case = make_case(costs=0)
    assert case.segment == "alle"
    promise(case)
    daily_run(run_date=date(2026, 11, 13))  # the promise is broken
    pay(case, date(2026, 11, 14), 30000)
    daily_run(run_date=date(2026, 11, 14))
    case.refresh_from_db()
    assert case.close_reason == CloseReason.PAID
    invoice_create(
        debtor=case.debtor,
        external_id="F-nieuw",
        issue_date=date(2026, 11, 15),
        due_date=date(2026, 12, 1),
        amount_cents=5000,
    )
    daily_run(run_date=date(2026, 12, 5))
    new = case.debtor.cases.exclude(pk=case.pk).get()
    assert (new.segment, new.path) == ("beloften", "streng")


def test_broken_promises_condition_is_validated():
    assert Condition(broken_promises_min=2).broken_promises_min == 2
    with pytest.raises(ValidationError):
        Condition(broken_promises_min=0)
