"""Recording a call's outcome and sending a payment link during a call (``workspace.calls``):
each outcome, a promise through the arrangements service, a wrong number, corrected contact
data, a callback within the contact hours, the call as a response for the channel learning,
and a payment link that really leaves by SMS (the provider simulator) and email (SMTP)."""

# ruff: noqa: F811 - fixtures imported from other test modules

import inspect
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from vaarwater.arrangements.models import Promise
from vaarwater.contact.learning import band_of
from vaarwater.contact.models import (
    CallTask,
    CallTaskKind,
    Channel,
    Message,
    OptOut,
)
from vaarwater.contact.services import call_task_create, next_allowed_moment
from vaarwater.contact.tests.simulator_fixtures import simulator  # noqa: F401
from vaarwater.contact.tests.smtp_fixtures import smtp_server  # noqa: F401
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import ContactPoint, CreditorMembership, Role
from vaarwater.payments.models import PaymentLink
from vaarwater.strategy.models import HoldKind
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.workspace import calls, queue
from vaarwater.workspace.models import CallAttempt, CallOutcome

from .factories import agent_for, case_create, version_create

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Europe/Amsterdam")
PHONE = "+31612345678"


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def finished(monkeypatch):
    """Record every ``queue.attempt_finished`` call. Until the queue's own version (with its
    ``close`` argument) is in place, the stub is replaced; after that the real one runs too."""
    seen = []
    real = queue.attempt_finished
    has_close = "close" in inspect.signature(real).parameters

    def record(*, task, attempt, now, close):
        seen.append({"task": task, "attempt": attempt, "now": now, "close": close})
        if has_close:
            real(task=task, attempt=attempt, now=now, close=close)

    monkeypatch.setattr(queue, "attempt_finished", record)
    return seen


@pytest.fixture
def agent(creditor):
    user = agent_for(creditor)
    user.first_name, user.last_name = "Anna", "de Vries"
    user.save()
    return user


@pytest.fixture
def case(creditor, make_debtor):
    """A case of € 600 overdue; the debtor has an email address and one mobile number and is
    paid on the 25th."""
    debtor = make_debtor(amount=60000, due=timezone.localdate() - timedelta(days=30), payday_day=25)
    return case_create(version_create(creditor), debtor=debtor)


def attempt_for(case, agent, *, phone=PHONE, started=None):
    started = started or timezone.now() - timedelta(minutes=5)
    task, _ = call_task_create(
        debtor=case.debtor,
        case=case,
        kind=CallTaskKind.STRATEGY,
        priority=60,
        start=started - timedelta(hours=1),
        end=started + timedelta(hours=8),
        reason="Bellen volgens de strategie",
        key=f"test-{case.pk}-{CallTask.objects.count()}",
        actor=Actor.system(),
    )
    return CallAttempt.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        task=task,
        agent=agent,
        started_at=started,
        band=band_of(started),
        phone=phone,
    )


@pytest.fixture
def attempt(case, agent):
    return attempt_for(case, agent)


def allowed_moment(days_ahead=1, clock=time(10, 0)) -> datetime:
    """A moment the contact hours (08:00-20:00, no Sundays or holidays) allow, in the future."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    return next_allowed_moment(
        datetime.combine(day, clock, TZ), channel="sms", start="08:00", end="20:00"
    )


def outcome_event(attempt) -> Event:
    return Event.objects.get(verb="call.outcome", subject_id=attempt.pk)


# -- each outcome --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outcome, words, close",
    [
        (CallOutcome.RIGHT_PARTY, "Gesproken met klant", True),
        (CallOutcome.REACHED, "Iemand anders gesproken", False),
        (CallOutcome.NO_ANSWER, "Geen gehoor", False),
        (CallOutcome.VOICEMAIL, "Voicemail", False),
        (CallOutcome.WRONG_NUMBER, "Verkeerd nummer", True),  # the only number was wrong
    ],
)
def test_each_outcome_is_recorded_with_an_event(attempt, agent, finished, outcome, words, close):
    """Given a call in progress, when the agent records the outcome, the attempt ends with it,
    one ``call.outcome`` event by the agent explains it, and the queue hears whether the task is
    done: when the customer was reached, or the only number was wrong."""
    now = timezone.now()
    done = calls.call_outcome_record(
        attempt=attempt, agent=agent, outcome=outcome, note="kort gesprek", now=now
    )
    done.refresh_from_db()
    assert done.outcome == outcome and done.ended_at == now and done.note == "kort gesprek"
    event = outcome_event(done)
    assert event.reason.startswith(words)
    assert event.actor_label == "Anna de Vries (agent)" and event.actor_user_id == agent.pk
    assert event.data["outcome"] == outcome and event.data["task_closed"] is close
    assert event.data["answered"] is (outcome in CallOutcome.answered())
    [call] = finished
    assert call["close"] is close and call["attempt"].pk == done.pk and call["now"] == now
    assert call["task"].pk == done.task_id


def test_the_event_reason_reads_as_a_sentence(attempt, agent, finished):
    """Outcome, cause, promise and callback in one Dutch line, all fields in the data."""
    due = timezone.localdate() + timedelta(days=5)
    back = allowed_moment(2)
    calls.call_outcome_record(
        attempt=attempt,
        agent=agent,
        outcome=CallOutcome.RIGHT_PARTY,
        root_cause="income_drop",
        promise_amount_cents=5000,
        promise_due_on=due,
        callback_at=back,
    )
    event = outcome_event(attempt)
    assert event.reason == (
        f"Gesproken met klant; oorzaak: inkomen gedaald; belofte € 50,00 op {due:%d-%m-%Y}; "
        f"terugbellen {back:%d-%m %H:%M}"
    )
    assert event.data["root_cause"] == "income_drop"
    assert event.data["promise_amount_cents"] == 5000
    assert event.data["promise_due_on"] == due.isoformat()
    assert event.data["callback_at"] == back.isoformat()


# -- promise -------------------------------------------------------------------------------------


def test_a_promise_in_a_call_is_recorded_with_its_hold(attempt, agent, finished, case):
    """A promise made in the call goes through the arrangements service: source "call", a
    PROMISE hold on the case, the agent's name on the promise and its event."""
    due = timezone.localdate() + timedelta(days=7)
    done = calls.call_outcome_record(
        attempt=attempt,
        agent=agent,
        outcome=CallOutcome.RIGHT_PARTY,
        promise_amount_cents=15000,
        promise_due_on=due,
    )
    promise = Promise.objects.get(case=case)
    assert done.promise == promise
    assert (promise.source, promise.amount_cents, promise.due_on) == ("call", 15000, due)
    assert promise.made_by == "Anna de Vries (agent)"
    assert promise.hold is not None and promise.hold.kind == HoldKind.PROMISE
    made = Event.objects.get(verb="promise.made")
    assert made.actor_label == "Anna de Vries (agent)" and "in een gesprek" in made.reason


def test_a_promise_over_the_balance_is_refused_and_nothing_is_stored(attempt, agent, finished):
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt,
            agent=agent,
            outcome=CallOutcome.RIGHT_PARTY,
            root_cause="forgot",
            promise_amount_cents=60001,
            promise_due_on=timezone.localdate() + timedelta(days=3),
            contact_corrections={"email": "nieuw@example.nl"},
        )
    assert refused.value.field == "promise_amount"
    attempt.refresh_from_db()
    assert attempt.ended_at is None and attempt.outcome == ""
    assert not Promise.objects.exists() and not finished
    assert not Event.objects.filter(verb__in=["call.outcome", "debtor.contact_added"]).exists()
    assert not ContactPoint.objects.filter(value="nieuw@example.nl").exists()


def test_a_promise_too_far_ahead_is_an_error_on_the_date(attempt, agent, finished):
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt,
            agent=agent,
            outcome=CallOutcome.RIGHT_PARTY,
            promise_amount_cents=5000,
            promise_due_on=timezone.localdate() + timedelta(days=60),
        )
    assert refused.value.field == "promise_due_on"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"promise_amount_cents": 5000}, "promise_amount"),
        ({"root_cause": "forgot"}, "root_cause"),
    ],
)
def test_a_promise_or_cause_needs_the_customer_on_the_line(attempt, agent, finished, fields, field):
    due = {"promise_due_on": timezone.localdate() + timedelta(days=3)} if "promise" in field else {}
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt, agent=agent, outcome=CallOutcome.VOICEMAIL, **fields, **due
        )
    assert refused.value.field == field
    assert not finished


def test_a_bad_outcome_or_cause_is_refused(attempt, agent, finished):
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(attempt=attempt, agent=agent, outcome="busy")
    assert refused.value.field == "outcome"
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt, agent=agent, outcome=CallOutcome.RIGHT_PARTY, root_cause="aliens"
        )
    assert refused.value.field == "root_cause"


# -- who may record, and once --------------------------------------------------------------------


def test_a_finished_call_is_not_recorded_twice(attempt, agent, finished):
    calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.NO_ANSWER)
    with pytest.raises(calls.CallError):
        calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.RIGHT_PARTY)
    attempt.refresh_from_db()
    assert attempt.outcome == CallOutcome.NO_ANSWER and len(finished) == 1


def test_another_agents_call_is_refused_but_a_supervisor_may_record(attempt, creditor, finished):
    colleague = agent_for(creditor, "collega")
    with pytest.raises(calls.CallNotYours):
        calls.call_outcome_record(attempt=attempt, agent=colleague, outcome=CallOutcome.NO_ANSWER)
    with pytest.raises(calls.CallNotYours):
        calls.payment_link_during_call(
            attempt=attempt, agent=colleague, amount_cents=1000, channel="email"
        )
    CreditorMembership.objects.filter(user=colleague).update(role=Role.SUPERVISOR)
    done = calls.call_outcome_record(
        attempt=attempt, agent=colleague, outcome=CallOutcome.NO_ANSWER
    )
    assert done.outcome == CallOutcome.NO_ANSWER
    assert outcome_event(done).actor_user_id == colleague.pk


# -- contact data --------------------------------------------------------------------------------


def test_a_wrong_number_is_marked_invalid(attempt, agent, finished, case):
    """The number called is not the customer's: it is invalid from now (also as a WhatsApp
    number), with a ``contact.invalid`` event; with no other number left the task is done."""
    ContactPoint.objects.create(debtor=case.debtor, kind="whatsapp", value=PHONE, source="portal")
    calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.WRONG_NUMBER)
    points = ContactPoint.objects.filter(debtor=case.debtor, value=PHONE)
    assert points.count() == 2 and all(p.invalid_since is not None for p in points)
    events = Event.objects.filter(verb="contact.invalid")
    assert events.count() == 2
    assert all("verkeerd nummer volgens medewerker" in e.reason for e in events)
    assert events.first().actor_label == "Anna de Vries (agent)"
    assert finished[0]["close"] is True


def test_a_wrong_number_with_another_number_left_keeps_the_task_open(
    attempt, agent, finished, case
):
    ContactPoint.objects.create(
        debtor=case.debtor, kind="phone", value="+31201234567", source="import"
    )
    calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.WRONG_NUMBER)
    assert finished[0]["close"] is False


def test_a_corrected_phone_number_is_added_with_an_event(attempt, agent, finished, case):
    """The right number the customer gives is added (normalised, source agent, confirmed by
    the customer on the line); the wrong one is marked invalid; the task stays open to call the
    new number."""
    calls.call_outcome_record(
        attempt=attempt,
        agent=agent,
        outcome=CallOutcome.WRONG_NUMBER,
        contact_corrections={"phone": "06 87654321", "email": ""},
    )
    point = ContactPoint.objects.get(debtor=case.debtor, value="+31687654321")
    assert point.kind == "phone" and point.source == "agent" and point.invalid_since is None
    assert point.verified_at is None  # someone else gave it, not the customer
    event = Event.objects.get(verb="debtor.contact_added")
    assert "+31687654321" in event.reason and event.data["source"] == "agent"
    assert "nieuw telefoonnummer +31687654321" in outcome_event(attempt).reason
    assert finished[0]["close"] is False


def test_the_customer_confirms_a_new_email_address(attempt, agent, finished, case):
    calls.call_outcome_record(
        attempt=attempt,
        agent=agent,
        outcome=CallOutcome.RIGHT_PARTY,
        contact_corrections={"email": "Jan@Voorbeeld.NL"},
    )
    point = ContactPoint.objects.get(debtor=case.debtor, kind="email", value="Jan@voorbeeld.nl")
    assert point.verified_at is not None and point.source == "agent"


@pytest.mark.parametrize(
    "corrections, field",
    [({"phone": "12345"}, "new_phone"), ({"email": "geen-adres"}, "new_email")],
)
def test_bad_contact_data_is_refused(attempt, agent, finished, corrections, field):
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt,
            agent=agent,
            outcome=CallOutcome.RIGHT_PARTY,
            contact_corrections=corrections,
        )
    assert refused.value.field == field


# -- callback ------------------------------------------------------------------------------------


def test_a_callback_becomes_a_task_for_the_agent_at_that_time(attempt, agent, finished, case):
    back = allowed_moment(1, time(10, 0))
    done = calls.call_outcome_record(
        attempt=attempt, agent=agent, outcome=CallOutcome.REACHED, callback_at=back
    )
    task = CallTask.objects.get(kind=CallTaskKind.CALLBACK)
    assert done.callback == task
    assert task.assigned_to == agent and task.case == case and task.status == "open"
    assert task.window_start == back and task.window_end == back + timedelta(hours=1)
    assert task.priority >= 80
    assert PHONE in task.reason
    assert Event.objects.filter(verb="call_task.created", subject_id=task.pk).exists()


def test_a_callback_window_ends_with_the_contact_hours(attempt, agent, finished):
    back = allowed_moment(1, time(19, 30))
    if back.astimezone(TZ).time() != time(19, 30):
        back = allowed_moment(2, time(19, 30))
    calls.call_outcome_record(
        attempt=attempt, agent=agent, outcome=CallOutcome.RIGHT_PARTY, callback_at=back
    )
    task = CallTask.objects.get(kind=CallTaskKind.CALLBACK)
    assert task.window_end.astimezone(TZ).time() == time(20, 0)


def _next_sunday_10():
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() != 6:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), TZ)


@pytest.mark.parametrize(
    "moment",
    [
        lambda: datetime.combine(timezone.localdate() + timedelta(days=1), time(21, 0), TZ),
        lambda: datetime.combine(timezone.localdate() + timedelta(days=2), time(7, 30), TZ),
        _next_sunday_10,
        lambda: timezone.now() - timedelta(hours=1),
        lambda: allowed_moment(31),
    ],
    ids=["evening", "early", "sunday", "past", "too-far"],
)
def test_a_callback_outside_the_allowed_moments_is_refused(attempt, agent, finished, moment):
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt, agent=agent, outcome=CallOutcome.RIGHT_PARTY, callback_at=moment()
        )
    assert refused.value.field == "callback_at"
    assert not CallTask.objects.filter(kind=CallTaskKind.CALLBACK).exists()
    attempt.refresh_from_db()
    assert attempt.ended_at is None


def test_no_callback_without_a_number(attempt, agent, finished):
    with pytest.raises(calls.CallError) as refused:
        calls.call_outcome_record(
            attempt=attempt,
            agent=agent,
            outcome=CallOutcome.WRONG_NUMBER,
            callback_at=allowed_moment(1),
        )
    assert refused.value.field == "new_phone"


# -- the call as a response ----------------------------------------------------------------------


def _sent_message(debtor, sent_at):
    return Message.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        channel=Channel.SMS,
        template="herinnering",
        not_before=sent_at,
        sent_at=sent_at,
        status="sent",
        idempotency_key=f"test-{sent_at.timestamp()}",
    )


def test_an_answered_call_counts_as_a_response(attempt, agent, finished, case):
    """The newest message sent in the days before an answered call gets the response."""
    now = timezone.now()
    message = _sent_message(case.debtor, now - timedelta(days=1))
    calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.REACHED, now=now)
    message.refresh_from_db()
    assert message.responded_at == now and message.response_kind == "call"


def test_an_unanswered_call_is_no_response(attempt, agent, finished, case):
    message = _sent_message(case.debtor, timezone.now() - timedelta(days=1))
    calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.VOICEMAIL)
    message.refresh_from_db()
    assert message.responded_at is None


# -- a payment link during the call --------------------------------------------------------------


def test_a_payment_link_by_sms_reaches_the_provider(
    attempt, agent, simulator, django_capture_on_commit_callbacks
):
    """The link leaves at once (the customer asked for it) through the SMS adapter: the
    simulator receives a text to the customer's mobile number with the short link."""
    with django_capture_on_commit_callbacks(execute=True):
        link, message = calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=5000, channel="sms"
        )
    assert link.purpose == "call" and link.amount_cents == 5000 and link.case_id == attempt.case_id
    attempt.refresh_from_db()
    assert attempt.payment_link == link
    [sms] = simulator.messages
    assert sms["to"] == PHONE and f"/b/{link.code}/" in sms["body"]
    message.refresh_from_db()
    assert message.status in ("sent", "delivered") and message.purpose == "confirmation"
    created = Event.objects.get(verb="payment_link.created")
    assert created.actor_label == "Anna de Vries (agent)"


def test_a_payment_link_by_email_reaches_the_mail_server(
    attempt, agent, smtp_server, django_capture_on_commit_callbacks, case
):
    address = ContactPoint.objects.get(debtor=case.debtor, kind="email").value
    with django_capture_on_commit_callbacks(execute=True):
        link, _message = calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=60000, channel="email"
        )
    [mail] = smtp_server.to(address)
    assert f"/b/{link.code}/" in mail.get_body(("plain",)).get_content()


def test_a_payment_link_to_an_unreachable_channel_is_refused(attempt, agent, case):
    """No WhatsApp number; SMS opted out: a clear error on the channel, no link made."""
    with pytest.raises(calls.CallError) as refused:
        calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=5000, channel="whatsapp"
        )
    assert refused.value.field == "channel"
    OptOut.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        channel=Channel.SMS,
        source="reply",
        since=timezone.now(),
    )
    with pytest.raises(calls.CallError) as refused:
        calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=5000, channel="sms"
        )
    assert refused.value.field == "channel" and "afgemeld" in refused.value.message
    with pytest.raises(calls.CallError):
        calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=5000, channel="letter"
        )
    assert not PaymentLink.objects.exists()


def test_a_payment_link_over_the_balance_is_refused(attempt, agent):
    with pytest.raises(calls.CallError) as refused:
        calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=60001, channel="email"
        )
    assert refused.value.field == "amount"
    assert not PaymentLink.objects.exists() and not Message.objects.exists()


def test_no_payment_link_after_the_call(attempt, agent, finished):
    calls.call_outcome_record(attempt=attempt, agent=agent, outcome=CallOutcome.NO_ANSWER)
    with pytest.raises(calls.CallError):
        calls.payment_link_during_call(
            attempt=attempt, agent=agent, amount_cents=5000, channel="email"
        )


# -- what the agent sees next to the promise ---------------------------------------------------


def test_promise_facts_give_the_payday_and_the_last_capacity(attempt, case):
    from vaarwater.arrangements.models import Assessment

    facts = calls.promise_facts(attempt)
    assert facts.payday_day == 25 and facts.next_payday is not None
    assert facts.assessment is None and facts.capacity_cents is None
    Assessment.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        source="agent",
        household="single",
        net_income_cents=230000,
        floor_cents=150000,
        capacity_cents=20000,
        payday_day=20,
    )
    facts = calls.promise_facts(attempt)
    assert facts.capacity_cents == 20000 and facts.payday_day == 20


def test_a_dispute_on_the_phone_pauses_the_case(attempt, agent, case):
    """A customer who disputes the bill is not chased meanwhile: a dispute hold, as from the
    portal, with the agent's name; a second dispute call does not stack holds."""
    from vaarwater.strategy.models import HoldKind

    calls.call_outcome_record(
        attempt=attempt,
        agent=agent,
        outcome=CallOutcome.RIGHT_PARTY,
        root_cause="dispute",
        note="meterstand klopt niet",
    )
    hold = case.holds.get(kind=HoldKind.DISPUTE)
    assert "telefoongesprek" in hold.reason and "meterstand" in hold.reason
    assert hold.created_by == "Anna de Vries (agent)"
    assert (hold.until - hold.starts_on).days == 30
