"""The call queue: who may be called now, in which order, and taking and finishing a call.

Every test builds its cases by hand and asks the queue at a fixed moment (Dutch time); nothing
depends on the wall clock. 24 November 2026 is a Tuesday.
"""

import hashlib
import json
from copy import deepcopy
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vaarwater.arrangements.models import (
    Arrangement,
    Instalment,
    InstalmentStatus,
    Promise,
    PromiseStatus,
)
from vaarwater.contact.learning import band_of
from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus
from vaarwater.core.models import Event
from vaarwater.ledger.models import ContactPoint
from vaarwater.strategy.models import CaseStatus, Hold, HoldKind, LegalNotice
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401
from vaarwater.workspace import queue
from vaarwater.workspace.models import CallAttempt, CallOutcome
from vaarwater.workspace.queue import (
    TIER_PORTAL,
    TIER_REST,
    TIER_URGENT,
    attempt_finished,
    call_chance,
    call_queue,
    queue_next,
    queue_overview,
    queue_release,
)

from .factories import DOCUMENT, agent_for, case_create, version_create

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Europe/Amsterdam")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


TUESDAY_10 = at(24, 10)
TODAY = date(2026, 11, 24)


def policy_version(creditor, **calls):
    """A strategy version with its own ``calls`` policy (and its own hash: parsed documents
    are cached by id and hash, and ids come back after a test's rollback)."""
    doc = deepcopy(DOCUMENT)
    doc["settings"]["calls"] = {
        "max_attempts_per_week": 3,
        "min_hours_between": 4,
        "max_attempts": 6,
        **calls,
    }
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    return version_create(creditor, document=doc, sha256=digest)


@pytest.fixture
def version(creditor):
    return version_create(creditor)


@pytest.fixture
def agent(creditor):
    return agent_for(creditor, "anna")


_keys = iter(range(1, 10_000))


def task_make(debtor, *, case=None, kind=CallTaskKind.STRATEGY, priority=50, start=None, **over):
    start = start or at(24, 8)
    return CallTask.objects.create(
        creditor_id=debtor.creditor_id,
        debtor=debtor,
        case=case,
        window_start=start,
        window_end=start + timedelta(hours=9),
        priority=priority,
        kind=kind,
        reason="bellen",
        idempotency_key=f"test-{next(_keys)}",
        **over,
    )


def call_made(task, agent, started, outcome, *, minutes=3):
    return CallAttempt.objects.create(
        creditor_id=task.creditor_id,
        debtor_id=task.debtor_id,
        case_id=task.case_id,
        task=task,
        agent=agent,
        started_at=started,
        ended_at=started + timedelta(minutes=minutes),
        band=band_of(started),
        outcome=outcome,
    )


def order(user, now=TUESDAY_10, **kw) -> list[int]:
    return [item.task.pk for item in call_queue(user, now=now, **kw)]


# -- order --------------------------------------------------------------------------------------


def test_requests_first_then_urgent_cases_then_the_rest(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """Tier 3 (portal request, own callback) before tier 2 (legal deadline, broken promise)
    before tier 1, whatever the balances."""
    rich = make_debtor(amount=500_000)
    plain = task_make(rich, case=case_create(version, debtor=rich))
    deadline_debtor = make_debtor(amount=20_000)
    deadline_case = case_create(version, debtor=deadline_debtor)
    LegalNotice.objects.create(
        case=deadline_case,
        sent_on=date(2026, 11, 5),
        channel="letter",
        receipt_on=date(2026, 11, 9),
        term_ends_on=date(2026, 11, 26),  # in two days
        principal_cents=20_000,
        costs_cents=4_000,
        wording="binnen 14 dagen na de dag van ontvangst",
    )
    deadline = task_make(deadline_debtor, case=deadline_case)
    promiser = make_debtor(amount=10_000)
    promise_case = case_create(version, debtor=promiser)
    Promise.objects.create(
        creditor=creditor,
        debtor=promiser,
        case=promise_case,
        amount_cents=5_000,
        due_on=date(2026, 11, 20),
        source="call",
        status=PromiseStatus.BROKEN,
        made_on=date(2026, 11, 13),
        made_by="anna",
        settled_on=date(2026, 11, 23),
    )
    broken = task_make(promiser, case=promise_case)
    asker = make_debtor(amount=1_000)
    callback = task_make(asker, kind=CallTaskKind.CALLBACK, priority=10)
    mine = make_debtor(amount=2_000)
    own = task_make(mine, case=case_create(version, debtor=mine), assigned_to=agent)

    items = call_queue(agent, now=TUESDAY_10)
    tiers = {item.task.pk: item.tier for item in items}
    assert tiers == {
        callback.pk: TIER_PORTAL,
        own.pk: TIER_PORTAL,
        deadline.pk: TIER_URGENT,
        broken.pk: TIER_URGENT,
        plain.pk: TIER_REST,
    }
    ranked = [item.task.pk for item in items]
    assert ranked == [own.pk, callback.pk, deadline.pk, broken.pk, plain.pk]
    facts = {item.task.pk: [code for code, _ in item.facts] for item in items}
    assert facts[deadline.pk] == ["deadline"] and facts[broken.pk] == ["promise"]
    assert facts[callback.pk] == ["portal"] and facts[own.pk] == ["assigned"]
    assert all(item.reasons for item in items)


def test_within_a_tier_balance_times_chance_decides(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """Expected value = balance × chance of reaching them: a large balance of someone who never
    answers can lose to a smaller one of someone who does."""
    colleague = agent_for(creditor, "bert")
    never = make_debtor(amount=100_000)  # € 1000, two unanswered calls a month ago
    never_task = task_make(never, case=case_create(version, debtor=never))
    answers = make_debtor(amount=30_000)  # € 300, reached once a month ago
    answers_task = task_make(answers, case=case_create(version, debtor=answers))
    fresh = make_debtor(amount=40_000)  # € 400, never called
    fresh_task = task_make(fresh, case=case_create(version, debtor=fresh))
    call_made(never_task, colleague, at(20, 10, month=10), CallOutcome.NO_ANSWER)
    call_made(never_task, colleague, at(21, 10, month=10), CallOutcome.VOICEMAIL)
    call_made(answers_task, colleague, at(22, 10, month=10), CallOutcome.RIGHT_PARTY)

    items = {item.task.pk: item for item in call_queue(agent, now=TUESDAY_10)}
    prior = (1, 3)  # the creditor's calls: 1 of 3 reached the customer
    for item in items.values():
        assert item.prior == prior and item.tier == TIER_REST and item.band_factor == 1.0
    assert items[never_task.pk].chance == pytest.approx(
        call_chance({"no_answer": 1, "voicemail": 1}, prior)[0]
    )
    assert items[answers_task.pk].chance == pytest.approx(call_chance({"right_party": 1}, prior)[0])
    assert items[fresh_task.pk].chance == pytest.approx(call_chance({}, prior)[0])
    for item in items.values():
        assert item.expected == pytest.approx(item.balance_cents * item.chance)
    assert order(agent) == [never_task.pk, answers_task.pk, fresh_task.pk]
    # The same people with the large balance halved: the one who answers goes first.
    never_value = items[never_task.pk].chance * 50_000
    assert never_value < items[answers_task.pk].expected


def test_chance_counts_own_calls_over_the_creditors_prior():
    """Spoken = success; no answer / voicemail / someone else = failure; a wrong number weighs
    three; without any history the chance is 30%."""
    assert call_chance({}, (0, 0))[0] == pytest.approx(0.3)
    assert call_chance({}, (50, 100))[0] == pytest.approx((50 + 1.2) / 104)
    assert call_chance({"right_party": 1}, (0, 0))[0] == pytest.approx(2.2 / 5)
    assert call_chance({"no_answer": 1}, (0, 0))[0] == pytest.approx(1.2 / 5)
    assert call_chance({"reached": 1}, (0, 0))[0] == pytest.approx(1.2 / 5)
    assert call_chance({"wrong_number": 1}, (0, 0))[0] == pytest.approx(1.2 / 7)
    assert call_chance({"right_party": 1}, (0, 0))[1]  # and says why


def test_the_best_time_of_day_changes_the_order(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """Two otherwise equal customers: the one reached in the mornings first in the morning,
    the one reached in the evenings first in the evening."""
    colleague = agent_for(creditor, "bert")
    morning = make_debtor(amount=30_000)
    morning_task = task_make(morning, case=case_create(version, debtor=morning))
    evening = make_debtor(amount=30_000)
    evening_task = task_make(evening, case=case_create(version, debtor=evening))
    call_made(morning_task, colleague, at(1, 9, month=10), CallOutcome.RIGHT_PARTY)
    call_made(evening_task, colleague, at(1, 18, month=10), CallOutcome.RIGHT_PARTY)

    assert order(agent, now=at(24, 10)) == [morning_task.pk, evening_task.pk]
    assert order(agent, now=at(24, 18)) == [evening_task.pk, morning_task.pk]
    first = call_queue(agent, now=at(24, 18))[0]
    assert (first.band, first.band_basis, first.band_factor) == ("evening", "calls", 1.0)
    second = call_queue(agent, now=at(24, 18))[1]
    assert second.band == "morning" and second.band_factor == queue.OFF_BAND_FACTOR
    # A stated preference from the portal counts too.
    evening.preferred_time = "morning"
    evening.save(update_fields=["preferred_time"])
    assert call_queue(agent, now=at(24, 10))[0].band_factor == 1.0
    assert {i.band_basis for i in call_queue(agent, now=at(24, 10))} == {"calls", "preferred"}


def test_ties_go_to_priority_then_the_oldest_window(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    a, b, c = (make_debtor(amount=10_000) for _ in range(3))
    late = task_make(a, case=case_create(version, debtor=a), start=at(24, 9))
    early = task_make(b, case=case_create(version, debtor=b), start=at(23, 9))
    urgent = task_make(c, case=case_create(version, debtor=c), priority=90, start=at(24, 9))
    assert order(agent) == [urgent.pk, early.pk, late.pk]
    early_item = call_queue(agent, now=TUESDAY_10)[1]
    assert ("carried", {"day": date(2026, 11, 23)}) in early_item.facts


# -- who may be called now ----------------------------------------------------------------------


def test_no_calls_in_quiet_hours_on_sundays_and_holidays(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor()
    task_make(debtor, case=case_create(version, debtor=debtor), start=at(20, 8))
    assert order(agent, now=at(24, 10)) != []
    assert order(agent, now=at(24, 21)) == []  # 21:00
    assert order(agent, now=at(24, 7, 30)) == []  # before the strategy's 08:00
    assert order(agent, now=at(29, 11)) == []  # Sunday
    assert order(agent, now=at(25, 11, month=12)) == []  # Christmas Day
    assert queue_overview(agent, now=at(24, 21)).waiting == {"hours": 1}
    assert queue_next(agent, now=at(29, 11)) is None


def test_the_weekly_maximum(
    creditor,
    agent,
    make_debtor,  # noqa: F811
):
    """A customer called max_attempts_per_week times in the last 7 days waits until the
    oldest of those calls is a week old."""
    version = policy_version(creditor, max_attempts_per_week=2)
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor), start=at(16, 8))
    call_made(task, agent, at(19, 10), CallOutcome.NO_ANSWER)
    call_made(task, agent, at(21, 15), CallOutcome.VOICEMAIL)
    assert order(agent, now=at(24, 10)) == []
    assert queue_overview(agent, now=at(24, 10)).waiting == {"week": 1}
    assert order(agent, now=at(26, 10, 5)) == [task.pk]  # the 19th is 7 days ago


def test_after_no_answer_the_next_try_is_later_and_in_another_part_of_the_day(
    creditor,
    agent,
    make_debtor,  # noqa: F811
):
    version = policy_version(creditor, min_hours_between=1)
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor), start=at(24, 8))
    attempt = queue_next(agent, now=at(24, 9))
    attempt.outcome, attempt.ended_at = CallOutcome.NO_ANSWER, at(24, 9, 2)
    attempt.save()
    attempt_finished(
        task=CallTask.objects.get(pk=task.pk), attempt=attempt, now=at(24, 9, 2), close=False
    )
    task.refresh_from_db()
    assert (task.attempts, task.claimed_by, task.status) == (1, None, CallTaskStatus.OPEN)
    assert task.next_attempt_at == at(24, 12)  # one hour is enough, but not the same morning
    assert order(agent, now=at(24, 11)) == []
    assert queue_overview(agent, now=at(24, 11)).waiting == {"spread": 1}
    assert order(agent, now=at(24, 12)) == [task.pk]

    # An evening try without an answer: the next day, at the start of the contact hours.
    attempt = queue_next(agent, now=at(24, 18))
    attempt.outcome, attempt.ended_at = CallOutcome.VOICEMAIL, at(24, 18, 1)
    attempt.save()
    attempt_finished(
        task=CallTask.objects.get(pk=task.pk), attempt=attempt, now=at(24, 18, 1), close=False
    )
    task.refresh_from_db()
    assert task.next_attempt_at == at(25, 8)


def test_the_minimum_hours_between_calls_count_for_the_customer(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """Also another task of the same customer waits min_hours_between (4) after a call."""
    debtor = make_debtor()
    case = case_create(version, debtor=debtor)
    first = task_make(debtor, case=case)
    call_made(first, agent, at(24, 9), CallOutcome.REACHED)
    first.status = CallTaskStatus.DONE
    first.save()
    second = task_make(debtor, case=case, start=at(24, 9, 30))
    assert order(agent, now=at(24, 12)) == []
    assert order(agent, now=at(24, 13, 5)) == [second.pk]


def test_attempts_used_up_close_the_task(
    creditor,
    agent,
    make_debtor,  # noqa: F811
):
    version = policy_version(creditor, max_attempts=2, min_hours_between=1)
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor))
    for now in (at(24, 9), at(24, 13)):
        attempt = queue_next(agent, now=now)
        assert attempt is not None and attempt.task_id == task.pk
        attempt.outcome, attempt.ended_at = CallOutcome.NO_ANSWER, now
        attempt.save()
        attempt_finished(
            task=CallTask.objects.get(pk=task.pk), attempt=attempt, now=now, close=False
        )
    task.refresh_from_db()
    assert (task.status, task.attempts) == (CallTaskStatus.DONE, 2)
    event = Event.objects.get(verb="call_task.exhausted")
    assert event.subject_id == task.pk and event.data["attempts"] == 2
    assert event.data["outcomes"] == {"no_answer": 2}
    assert order(agent, now=at(25, 10)) == []


def test_a_reached_customer_closes_the_task_when_the_call_helper_says_so(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor))
    attempt = queue_next(agent, now=TUESDAY_10)
    attempt.outcome, attempt.ended_at = CallOutcome.RIGHT_PARTY, at(24, 10, 8)
    attempt.save()
    attempt_finished(
        task=CallTask.objects.get(pk=task.pk), attempt=attempt, now=at(24, 10, 8), close=True
    )
    task.refresh_from_db()
    assert (task.status, task.attempts, task.claimed_by) == (CallTaskStatus.DONE, 1, None)
    assert not Event.objects.filter(verb="call_task.exhausted").exists()


def test_holds_that_stop_calls(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """A dispute stops the strategy's calls, not the call the customer asked for; a promise
    does not stop calls; a payment plan stops them unless an instalment was missed; a closed
    case has no calls."""
    disputed = make_debtor()
    disputed_case = case_create(version, debtor=disputed, status=CaseStatus.HELD)
    Hold.objects.create(
        case=disputed_case, kind=HoldKind.DISPUTE, reason="betwist", starts_on=TODAY, until=TODAY
    )
    strategy_call = task_make(disputed, case=disputed_case)
    problem_call = task_make(disputed, case=disputed_case, kind=CallTaskKind.PROBLEM)

    promised = make_debtor()
    promised_case = case_create(version, debtor=promised)
    Hold.objects.create(
        case=promised_case,
        kind=HoldKind.PROMISE,
        reason="belofte",
        starts_on=TODAY,
        until=date(2026, 12, 1),
    )
    promise_call = task_make(promised, case=promised_case)

    planned = make_debtor()
    plan_case = case_create(version, debtor=planned)
    Hold.objects.create(
        case=plan_case,
        kind=HoldKind.ARRANGEMENT,
        reason="regeling",
        starts_on=date(2026, 11, 1),
        until=date(2027, 6, 1),
    )
    plan_call = task_make(planned, case=plan_case)

    closed = make_debtor()
    closed_case = case_create(
        version, debtor=closed, status=CaseStatus.CLOSED, closed_on=date(2026, 11, 20)
    )
    task_make(closed, case=closed_case)

    assert sorted(order(agent)) == sorted([problem_call.pk, promise_call.pk])
    assert queue_overview(agent, now=TUESDAY_10).waiting == {"hold": 2}
    assert strategy_call.pk not in order(agent)

    arrangement = Arrangement.objects.create(
        creditor=creditor,
        debtor=planned,
        case=plan_case,
        kind="instalments",
        method="transfer",
        reference="RGL0000011",
        total_cents=10_000,
        debt_cents=10_000,
        channel="portal",
        accepted_on=date(2026, 11, 1),
        accepted_by="klant",
    )
    Instalment.objects.create(
        arrangement=arrangement,
        number=1,
        due_on=date(2026, 11, 15),
        amount_cents=5_000,
        status=InstalmentStatus.MISSED,
        missed_on=date(2026, 11, 20),
    )
    items = {item.task.pk: item for item in call_queue(agent, now=TUESDAY_10)}
    assert plan_call.pk in items and items[plan_call.pk].tier == TIER_URGENT
    assert [code for code, _ in items[plan_call.pk].facts] == ["instalment"]


def test_no_valid_phone_number_no_call(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor()
    task_make(debtor, case=case_create(version, debtor=debtor))
    ContactPoint.objects.filter(debtor=debtor).update(invalid_since=at(1, 9))
    assert order(agent) == []
    assert queue_overview(agent, now=TUESDAY_10).waiting == {"no_phone": 1}


def test_one_customer_appears_once(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor()
    case = case_create(version, debtor=debtor)
    task_make(debtor, case=case)
    callback = task_make(debtor, case=case, kind=CallTaskKind.CALLBACK)
    items = call_queue(agent, now=TUESDAY_10)
    assert [item.task.pk for item in items] == [callback.pk]
    assert items[0].others == 1


# -- claims, assignments, tenants ------------------------------------------------------------


def test_a_claimed_task_is_not_offered_to_a_colleague_until_the_claim_lapses(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    colleague = agent_for(creditor, "bert")
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor))
    taken = queue_next(agent, now=TUESDAY_10)
    assert taken.task_id == task.pk and taken.agent == agent
    assert (taken.band, taken.phone, taken.started_at) == ("morning", "+31612345678", TUESDAY_10)
    task.refresh_from_db()
    assert (task.claimed_by, task.claimed_at) == (agent, TUESDAY_10)
    event = Event.objects.get(verb="call.started")
    assert event.actor_user == agent and event.subject_id == taken.pk and event.reason
    assert event.data["task"] == task.pk

    assert order(colleague, now=at(24, 10, 29)) == []
    assert queue_next(colleague, now=at(24, 10, 29)) is None
    assert order(colleague, now=at(24, 10, 31)) == [task.pk]
    again = queue_next(colleague, now=at(24, 10, 31))
    assert again.agent == colleague and again.task_id == task.pk
    assert queue.open_attempt(agent) is None  # the task is the colleague's now


def test_next_returns_the_call_still_going_on(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """An agent finishes one call before taking another."""
    for _ in range(2):
        debtor = make_debtor()
        task_make(debtor, case=case_create(version, debtor=debtor))
    first = queue_next(agent, now=TUESDAY_10)
    again = queue_next(agent, now=at(24, 10, 45))
    assert again.pk == first.pk
    assert (
        CallAttempt.objects.count() == 1 and Event.objects.filter(verb="call.started").count() == 1
    )
    assert CallTask.objects.get(pk=first.task_id).claimed_at == at(24, 10, 45)  # renewed


def test_back_to_the_queue(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    colleague = agent_for(creditor, "bert")
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor))
    attempt = queue_next(agent, now=TUESDAY_10)
    assert queue_release(attempt, colleague, now=at(24, 10, 1)) is False  # not theirs
    assert queue_release(attempt, agent, now=at(24, 10, 1)) is True
    assert queue_release(attempt, agent, now=at(24, 10, 2)) is False  # already given back
    task.refresh_from_db()
    attempt.refresh_from_db()
    assert (task.claimed_by, task.attempts, attempt.outcome) == (None, 0, "")
    assert attempt.ended_at == at(24, 10, 1)
    assert Event.objects.filter(verb="call.released", subject_id=attempt.pk).count() == 1
    # Not straight back to the same agent; a colleague may take it, and it counts for nothing.
    assert order(agent, now=at(24, 10, 5)) == []
    assert order(colleague, now=at(24, 10, 5)) == [task.pk]
    assert call_queue(colleague, now=at(24, 10, 5))[0].attempts_week == 0


def test_tasks_assigned_to_a_colleague_are_not_offered(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    colleague = agent_for(creditor, "bert")
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor), assigned_to=colleague)
    assert order(agent) == []
    assert queue_overview(agent, now=TUESDAY_10).waiting == {"assigned": 1}
    [item] = call_queue(colleague, now=TUESDAY_10)
    assert item.task.pk == task.pk and item.tier == TIER_PORTAL


def test_an_agent_never_gets_another_creditors_tasks(
    creditor,
    other_creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    ours = make_debtor()
    our_task = task_make(ours, case=case_create(version, debtor=ours))
    theirs = make_debtor(on=other_creditor)
    their_task = task_make(theirs, case=case_create(version_create(other_creditor), debtor=theirs))
    other_agent = agent_for(other_creditor, "carla")
    assert order(agent) == [our_task.pk]
    assert order(other_agent) == [their_task.pk]
    assert order(agent, creditor=other_creditor) == []
    assert queue_next(agent, now=TUESDAY_10, creditor=other_creditor) is None
    assert queue_next(agent, now=TUESDAY_10).task_id == our_task.pk


def test_future_windows_wait(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor()
    task = task_make(debtor, case=case_create(version, debtor=debtor), start=at(25, 9))
    assert order(agent) == []
    assert queue_overview(agent, now=TUESDAY_10).waiting == {"later": 1}
    assert order(agent, now=at(25, 9)) == [task.pk]


def test_the_queue_takes_a_fixed_number_of_queries(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
    django_assert_max_num_queries,
):
    """Building the queue reads everything for all tasks at once (no query per task)."""
    for _ in range(3):
        debtor = make_debtor()
        task_make(debtor, case=case_create(version, debtor=debtor))
    call_queue(agent, now=TUESDAY_10)  # warm the parsed-strategy cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert len(call_queue(agent, now=TUESDAY_10)) == 3
    for _ in range(12):
        debtor = make_debtor()
        task_make(debtor, case=case_create(version, debtor=debtor))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(call_queue(agent, now=TUESDAY_10)) == 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_pressing_next_at_once_get_different_customers(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """The top task is locked with SKIP LOCKED: the second agent gets the next one."""
    import threading

    from django.db import connection

    colleague = agent_for(creditor, "bert")
    for amount in (90_000, 10_000):
        debtor = make_debtor(amount=amount)
        task_make(debtor, case=case_create(version, debtor=debtor))
    start = threading.Barrier(2)
    taken = {}

    def press(user):
        try:
            start.wait()
            taken[user.username] = queue_next(user, now=TUESDAY_10).task_id
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(u,)) for u in (agent, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == ["anna", "bert"]
    assert len(set(taken.values())) == 2
    assert CallAttempt.objects.count() == 2


def test_the_reasons_explain_the_place(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    from django.utils.translation import override

    debtor = make_debtor(amount=41_000)
    debtor.preferred_time = "evening"
    debtor.save(update_fields=["preferred_time"])
    task = task_make(debtor, case=case_create(version, debtor=debtor))
    call_made(task, agent, at(23, 9), CallOutcome.NO_ANSWER)
    [item] = call_queue(agent, now=TUESDAY_10)
    with override("en"):
        reasons = item.reasons
    chance = call_chance({"no_answer": 1}, (0, 1))[0]
    assert reasons == [
        f"expected yield €{41_000 * chance * 0.6 / 100:,.2f} (balance €410.00 × chance "
        f"{round(chance * 100)}% × 0.6 outside the best time)",
        f"chance of reaching them {round(chance * 100)}% (this customer: spoken 0 of 1 times; "
        "0 of 1 calls of this creditor reached the customer)",
        "best time: in the evening (the customer's preference)",
        "attempt 1 of 6",
        "called 1 time in the last 7 days",
    ]


def test_nobody_is_chased_who_owes_nothing(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
):
    """A strategy call for a customer who has paid everything is not offered; a question the
    same customer asked in the portal still is."""
    from datetime import date

    from vaarwater.ledger.services import payment_book

    paid = make_debtor(amount=10000)
    payment_book(debtor=paid, external_id="P-ALL", date=date(2026, 11, 20), amount_cents=10000)
    task_make(paid, case=case_create(version, debtor=paid))
    assert order(agent) == []
    assert queue_overview(agent, now=TUESDAY_10).waiting == {"paid": 1}
    question = task_make(paid, kind=CallTaskKind.CHAT)
    assert order(agent) == [question.pk]


def test_paused_cases_never_crowd_callable_ones_out(
    creditor,
    version,
    agent,
    make_debtor,  # noqa: F811
    monkeypatch,
):
    """Only the best CANDIDATES tasks are scored; tasks of paused cases are left out before
    that cut, so a callable task further down is still offered."""
    from vaarwater.workspace import queue as queue_module

    monkeypatch.setattr(queue_module, "CANDIDATES", 2)
    for _ in range(3):
        debtor = make_debtor()
        held = case_create(version, debtor=debtor, status=CaseStatus.HELD)
        Hold.objects.create(
            case=held, kind=HoldKind.DEBT_HELP, reason="schuldhulp", starts_on=TODAY, until=TODAY
        )
        task_make(debtor, case=held, priority=90)
    callable_debtor = make_debtor()
    callable_task = task_make(
        callable_debtor, case=case_create(version, debtor=callable_debtor), priority=10
    )
    assert order(agent) == [callable_task.pk]
    assert queue_overview(agent, now=TUESDAY_10).waiting == {"hold": 3}
