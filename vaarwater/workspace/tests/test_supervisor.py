"""The supervisor's view: exact queue sizes, reach, promises and work per agent on hand-made
calls, reassigning work (with events), and who may see and move what."""

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from vaarwater.arrangements.models import Arrangement, Promise, PromiseStatus
from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus
from vaarwater.core.models import Event
from vaarwater.ledger.models import CreditorMembership, Role
from vaarwater.payments.models import PaymentLink
from vaarwater.testing import login_verified
from vaarwater.workspace.models import CallAttempt, CallOutcome
from vaarwater.workspace.supervision import (
    Period,
    QueueRow,
    ReassignError,
    promises,
    queue_sizes,
    reach,
    supervision_overview,
    tasks_reassign,
    tasks_reassign_all,
    work_per_agent,
)

from .factories import case_create, version_create

pytestmark = pytest.mark.django_db


def member(creditor, username, role=Role.AGENT, name=""):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        first, _, last = name.partition(" ")
        user = get_user_model().objects.create_user(
            username, password="pw-12345-abc", first_name=first, last_name=last
        )
    CreditorMembership.objects.create(user=user, creditor=creditor, role=role)
    return user


def task_make(case, key, *, start, hours=3, kind=CallTaskKind.STRATEGY, **over):
    return CallTask.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        window_start=start,
        window_end=start + timedelta(hours=hours),
        kind=kind,
        reason=f"reden {key}",
        idempotency_key=key,
        **over,
    )


def attempt_make(task, agent, *, at, minutes=None, outcome="", **over):
    return CallAttempt.objects.create(
        creditor=task.creditor,
        debtor=task.debtor,
        case=task.case,
        task=task,
        agent=agent,
        started_at=at,
        ended_at=at + timedelta(minutes=minutes) if minutes is not None else None,
        outcome=outcome,
        **over,
    )


def promise_make(case, *, made_on, source="call", status=PromiseStatus.OPEN):
    return Promise.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        amount_cents=5000,
        due_on=made_on + timedelta(days=7),
        source=source,
        status=status,
        made_on=made_on,
        made_by="test",
    )


@pytest.fixture
def world(creditor, other_creditor):
    """Creditor A (ENERGIE) with a supervisor, three agents, tasks, calls and promises;
    creditor B (WONEN) with one of each, which must never count for A."""
    now = timezone.now()
    today = timezone.localdate(now)
    morning = timezone.make_aware(datetime.combine(today, time(10)))
    w = SimpleNamespace(now=now, today=today, morning=morning)
    w.sup = member(creditor, "sup", Role.SUPERVISOR, "Sara Toezicht")
    w.anna = member(creditor, "anna", name="Anna Agent")
    w.bert = member(creditor, "bert", name="Bert Beller")
    w.carla = member(creditor, "carla", name="Carla Claes")
    w.case = case_create(version_create(creditor))
    c = w.case
    hour = timedelta(hours=1)
    w.t1 = task_make(c, "t1", start=now - hour)
    w.t2 = task_make(c, "t2", start=now + timedelta(days=1))
    w.t3 = task_make(c, "t3", start=now - hour, next_attempt_at=now + hour)
    w.t4 = task_make(
        c,
        "t4",
        start=now - hour,
        kind=CallTaskKind.CALLBACK,
        assigned_to=w.anna,
        claimed_by=w.anna,
        claimed_at=now - timedelta(minutes=5),
    )
    w.t5 = task_make(
        c,
        "t5",
        start=now - hour,
        kind=CallTaskKind.CALLBACK,
        assigned_to=w.bert,
        claimed_by=w.bert,
        claimed_at=now - 2 * hour,
    )
    w.t6 = task_make(c, "t6", start=now - 5 * hour, hours=4, kind=CallTaskKind.PROBLEM)
    w.t7 = task_make(c, "t7", start=now - hour, status=CallTaskStatus.DONE, assigned_to=w.anna)

    w.p1 = promise_make(c, made_on=today, status=PromiseStatus.KEPT)
    promise_make(c, made_on=today, status=PromiseStatus.BROKEN)
    promise_make(c, made_on=today, source="portal")
    promise_make(c, made_on=today - timedelta(days=3), status=PromiseStatus.KEPT)
    promise_make(c, made_on=today - timedelta(days=40), status=PromiseStatus.KEPT)
    link = PaymentLink.objects.create(
        creditor=creditor,
        debtor=c.debtor,
        case=c,
        code="link-a",
        amount_cents=5000,
        expires_on=today + timedelta(days=14),
        purpose="agent",
    )
    plan = Arrangement.objects.create(
        creditor=creditor,
        debtor=c.debtor,
        case=c,
        kind="instalments",
        method="transfer",
        reference="RGL-A",
        total_cents=30000,
        debt_cents=30000,
        channel="agent",
        accepted_on=today - timedelta(days=10),
        accepted_by="Bert Beller (bert)",
    )
    minute = timedelta(minutes=1)
    attempt_make(
        w.t1,
        w.anna,
        at=morning,
        minutes=5,
        outcome=CallOutcome.RIGHT_PARTY,
        promise=w.p1,
        payment_link=link,
    )
    attempt_make(w.t1, w.anna, at=morning + 10 * minute, minutes=3, outcome=CallOutcome.REACHED)
    attempt_make(
        w.t1,
        w.anna,
        at=morning + 20 * minute,
        minutes=1,
        outcome=CallOutcome.NO_ANSWER,
        callback=w.t2,
    )
    attempt_make(w.t1, w.anna, at=morning + 30 * minute)  # still going on: not counted
    attempt_make(w.t3, w.bert, at=morning, minutes=2, outcome=CallOutcome.VOICEMAIL)
    attempt_make(
        w.t3,
        w.bert,
        at=morning - timedelta(days=10),
        minutes=4,
        outcome=CallOutcome.RIGHT_PARTY,
        arrangement=plan,
    )

    # Creditor B: the same kinds of things, none of which may show at A.
    w.b_sup = member(other_creditor, "bsup", Role.SUPERVISOR, "Bea Baas")
    w.b_agent = member(other_creditor, "bagent", name="Bas Bel")
    w.b_case = case_create(version_create(other_creditor))
    w.b_task = task_make(w.b_case, "b1", start=now - hour, assigned_to=w.b_agent)
    attempt_make(w.b_task, w.b_agent, at=morning, minutes=9, outcome=CallOutcome.RIGHT_PARTY)
    promise_make(w.b_case, made_on=today, status=PromiseStatus.KEPT)
    return w


def test_the_queue_counts_open_tasks_per_kind(creditor, world):
    """Open tasks per kind: given to an agent, in a call now (a lapsed claim is not), callable
    now, waiting for their window or next attempt, and window passed; done tasks and another
    creditor's are not counted."""
    rows = {row.kind: row for row in queue_sizes(creditor, now=world.now)}
    assert rows[CallTaskKind.STRATEGY] == QueueRow(
        "strategy", rows["strategy"].label, open=3, callable=1, waiting=2
    )
    assert rows[CallTaskKind.CALLBACK] == QueueRow(
        "callback", rows["callback"].label, open=2, assigned=2, claimed=1, callable=1
    )
    assert rows[CallTaskKind.PROBLEM].open == 1 and rows[CallTaskKind.PROBLEM].window_passed == 1
    assert rows[CallTaskKind.CHAT].open == 0
    total = rows[""]
    assert (total.open, total.assigned, total.claimed, total.callable, total.waiting) == (
        6,
        2,
        1,
        2,
        2,
    )
    assert total.window_passed == 1


def test_reach_counts_attempts_with_an_outcome(creditor, world):
    """Today: 4 calls with an outcome, 2 answered, 1 the customer: 50% and 25%. Over 30 days
    one more right-party call: 5, 3, 2 → 60% and 40%. Calls still going on do not count."""
    today = reach(creditor, *Period.days(Period.TODAY, today=world.today))
    assert (today.attempts, today.reached, today.right_party) == (4, 2, 1)
    assert (today.reach_rate, today.right_party_rate) == (50, 25)
    month = reach(creditor, *Period.days(Period.MONTH, today=world.today))
    assert (month.attempts, month.reached, month.right_party) == (5, 3, 2)
    assert (month.reach_rate, month.right_party_rate) == (60, 40)


def test_reach_without_calls_has_no_rate(other_creditor, db):
    nothing = reach(other_creditor, *Period.days(Period.WEEK, today=timezone.localdate()))
    assert nothing.attempts == 0 and nothing.reach_rate is None


def test_promises_made_and_kept(creditor, world):
    """Promises by the day they were made: today 3 (2 in a call), one kept and one broken:
    50% kept of those due; over 7 days 4 (3 in a call), 2 kept, 1 broken: 67%."""
    today = promises(creditor, *Period.days(Period.TODAY, today=world.today))
    assert (today.overall.made, today.overall.kept, today.overall.broken) == (3, 1, 1)
    assert today.overall.open == 1 and today.overall.kept_rate == 50
    assert (today.call.made, today.call.kept, today.call.broken, today.call.open) == (2, 1, 1, 0)
    week = promises(creditor, *Period.days(Period.WEEK, today=world.today))
    assert (week.overall.made, week.overall.kept, week.overall.broken) == (4, 2, 1)
    assert week.overall.kept_rate == 67
    assert (week.call.made, week.call.kept_rate) == (3, 67)
    month = promises(creditor, *Period.days(Period.MONTH, today=world.today))
    assert month.overall.made == 4  # the one of 40 days ago is outside


def test_work_per_agent(creditor, world):
    """Per agent: calls, right-party contacts, promises, links, plans, callbacks, the average
    finished call and the open tasks given to them now; every member is listed."""
    agents = {a.user_id: a for a in work_per_agent(creditor, world.today, world.today)}
    assert set(agents) == {world.sup.pk, world.anna.pk, world.bert.pk, world.carla.pk}
    anna = agents[world.anna.pk]
    assert (anna.attempts, anna.right_party, anna.promises, anna.payment_links) == (3, 1, 1, 1)
    assert (anna.plans, anna.callbacks, anna.finished) == (0, 1, 3)
    assert anna.average_seconds == 180 and anna.average_minutes == "3:00"
    assert anna.open_tasks == 1  # t4; the done t7 does not count
    bert = agents[world.bert.pk]
    assert (bert.attempts, bert.right_party, bert.plans, bert.average_seconds) == (1, 0, 0, 120)
    assert bert.open_tasks == 1
    carla = agents[world.carla.pk]
    assert (carla.attempts, carla.open_tasks, carla.average_seconds) == (0, 0, None)
    first, last = Period.days(Period.MONTH, today=world.today)
    bert = next(a for a in work_per_agent(creditor, first, last) if a.user_id == world.bert.pk)
    assert (bert.attempts, bert.right_party, bert.plans, bert.average_seconds) == (2, 1, 1, 180)


def test_the_page_shows_the_numbers(client, creditor, world):
    login_verified(client, world.sup)
    response = client.get("/supervisor/", {"period": "today"})
    assert response.status_code == 200
    overview = response.context["overview"]
    assert overview.reach.attempts == 4 and overview.queue_total.open == 6
    assert overview == supervision_overview(creditor, period="today", now=timezone.now())
    assert {t.pk for t in response.context["tasks"]} == {
        world.t1.pk,
        world.t2.pk,
        world.t3.pk,
        world.t4.pk,
        world.t5.pk,
        world.t6.pk,
    }
    text = response.content.decode()
    assert f'id="agent-{world.anna.pk}"' in text and f'value="{world.t4.pk}"' in text
    assert "Bas Bel" not in text and f'value="{world.b_task.pk}"' not in text
    assert client.get("/supervisor/", {"period": "nonsense"}).context["period"] == "today"
    week = client.get("/supervisor/", {"period": "30d"}).context["overview"]
    assert week.reach.attempts == 5


def test_an_agent_may_not_supervise(client, world):
    login_verified(client, world.anna)
    assert client.get("/supervisor/").status_code == 403
    response = client.post(
        "/supervisor/reassign/",
        {"creditor": "ENERGIE", "tasks": [world.t1.pk], "to_user": world.anna.pk, "reason": "x"},
    )
    assert response.status_code == 403
    assert CallTask.objects.get(pk=world.t1.pk).assigned_to is None


def test_a_supervisor_sees_only_their_creditors(client, creditor, other_creditor, world):
    """A supervisor of A gets a 404 for B; a user who is agent at A and supervisor at B sees
    B only."""
    login_verified(client, world.sup)
    assert client.get("/supervisor/", {"creditor": "WONEN"}).status_code == 404
    assert client.get("/supervisor/", {"creditor": "ENERGIE"}).status_code == 200
    CreditorMembership.objects.create(user=world.anna, creditor=other_creditor, role="supervisor")
    login_verified(client, world.anna)
    response = client.get("/supervisor/")
    assert response.context["creditor"] == other_creditor
    assert client.get("/supervisor/", {"creditor": "ENERGIE"}).status_code == 404


def reassign(client, **data):
    return client.post("/supervisor/reassign/", {"creditor": "ENERGIE", **data})


def test_reassigning_tasks_records_who_and_why(client, world):
    """Chosen tasks go to another agent: one from the pool, one from an agent in a call (the
    call goes on), one whose claim lapsed (released); each an event with the supervisor's
    name and the reason."""
    login_verified(client, world.sup)
    response = reassign(
        client,
        tasks=[world.t1.pk, world.t4.pk, world.t5.pk, world.t7.pk],
        to_user=world.carla.pk,
        reason="Anna en Bert zijn ziek",
        period="7d",
    )
    assert response.status_code == 302
    assert response["Location"] == "/supervisor/?creditor=ENERGIE&period=7d"
    t1, t4, t5, t7 = CallTask.objects.filter(
        pk__in=[world.t1.pk, world.t4.pk, world.t5.pk, world.t7.pk]
    ).order_by("pk")
    assert t1.assigned_to == t4.assigned_to == t5.assigned_to == world.carla
    assert t4.claimed_by == world.anna  # in a call now: not taken away
    assert t5.claimed_by is None and t5.claimed_at is None  # lapsed claim released
    assert t7.assigned_to == world.anna  # a done task does not move
    events = Event.objects.filter(verb="call_task.reassigned").order_by("subject_id")
    assert [e.subject_id for e in events] == [t1.pk, t4.pk, t5.pk]
    for event in events:
        assert event.actor_label == "Sara Toezicht (sup)" and event.actor_user_id == world.sup.pk
        assert "Anna en Bert zijn ziek" in event.reason and "Carla Claes (carla)" in event.reason
        assert event.debtor_id == world.case.debtor_id and event.subject_type == "contact.calltask"
    assert [(e.data["from"], e.data["to"]) for e in events] == [
        (None, world.carla.pk),
        (world.anna.pk, world.carla.pk),
        (world.bert.pk, world.carla.pk),
    ]
    assert [e.data["claim_released"] for e in events] == [False, False, True]


def test_tasks_go_back_to_the_pool(client, world):
    login_verified(client, world.sup)
    reassign(client, tasks=[world.t4.pk], to_user="", reason="iedereen mag hem bellen")
    task = CallTask.objects.get(pk=world.t4.pk)
    assert task.assigned_to is None
    event = Event.objects.get(verb="call_task.reassigned")
    assert event.data["to"] is None and event.data["from"] == world.anna.pk


def test_moving_all_work_of_one_agent(client, world):
    login_verified(client, world.sup)
    extra = task_make(world.case, "t8", start=world.now, assigned_to=world.anna)
    response = reassign(client, from_user=world.anna.pk, to_user=world.bert.pk, reason="verlof")
    assert response.status_code == 302
    assert set(CallTask.objects.filter(assigned_to=world.bert).values_list("pk", flat=True)) == {
        world.t4.pk,
        world.t5.pk,
        extra.pk,
    }
    assert CallTask.objects.get(pk=world.t7.pk).assigned_to == world.anna  # done: stays
    assert Event.objects.filter(verb="call_task.reassigned").count() == 2


@pytest.mark.parametrize(
    "data",
    [
        {"to_user": "bagent"},  # a member of B only
        {"to_user": "nobody"},  # no such user
        {"reason": ""},  # no reason
        {"to_user": "inactive"},  # no longer active
    ],
)
def test_reassigning_is_refused_for_bad_input(client, world, data):
    """A target outside the creditor, an unknown user or no reason: nothing moves."""
    inactive = member(world.case.creditor, "inactive", name="Ina Actief")
    inactive.is_active = False
    inactive.save()
    users = {"bagent": world.b_agent.pk, "nobody": 999999, "inactive": inactive.pk}
    login_verified(client, world.sup)
    post = {"tasks": [world.t1.pk], "to_user": world.carla.pk, "reason": "ziek", **data}
    post["to_user"] = users.get(post["to_user"], post["to_user"])
    response = reassign(client, **post)
    assert response.status_code == 302
    assert CallTask.objects.get(pk=world.t1.pk).assigned_to is None
    assert not Event.objects.filter(verb="call_task.reassigned").exists()


def test_another_creditors_tasks_are_a_404(client, world):
    """A task id of creditor B among the chosen ones: 404 and nothing moves; B's code as the
    creditor: 404 too."""
    login_verified(client, world.sup)
    response = reassign(
        client, tasks=[world.t1.pk, world.b_task.pk], to_user=world.carla.pk, reason="x"
    )
    assert response.status_code == 404
    response = client.post(
        "/supervisor/reassign/",
        {"creditor": "WONEN", "tasks": [world.b_task.pk], "to_user": "", "reason": "x"},
    )
    assert response.status_code == 404
    assert CallTask.objects.get(pk=world.b_task.pk).assigned_to == world.b_agent
    assert CallTask.objects.get(pk=world.t1.pk).assigned_to is None
    assert not Event.objects.filter(verb="call_task.reassigned").exists()


def test_the_service_refuses_other_creditors(creditor, other_creditor, world):
    """The service checks too: a supervisor of A cannot move B's tasks, nor A's tasks under
    B's name, nor give A's work to B's agent."""
    with pytest.raises(ReassignError):
        tasks_reassign(
            tasks=[world.b_task.pk],
            to_user=None,
            by_user=world.sup,
            creditor=other_creditor,
            reason="x",
        )
    with pytest.raises(ReassignError) as error:
        tasks_reassign(
            tasks=[world.b_task.pk], to_user=None, by_user=world.sup, creditor=creditor, reason="x"
        )
    assert error.value.field == "tasks"
    with pytest.raises(ReassignError) as error:
        tasks_reassign(
            tasks=[world.t1.pk],
            to_user=world.b_agent,
            by_user=world.sup,
            creditor=creditor,
            reason="x",
        )
    assert error.value.field == "to_user"
    with pytest.raises(ReassignError) as error:
        tasks_reassign_all(
            from_user=world.carla,
            to_user=world.anna,
            by_user=world.sup,
            creditor=creditor,
            reason="x",
        )
    assert error.value.field == "from_user"
    assert CallTask.objects.get(pk=world.b_task.pk).assigned_to == world.b_agent
    assert not Event.objects.filter(verb="call_task.reassigned").exists()


def test_reassigning_tells_no_names_of_another_creditors_people(client, world):
    """Review of issue 7: B's user id as the agent to give work to, or whose work moves, is
    refused with the message an unknown id gets, never B's user's name."""
    login_verified(client, world.sup)
    for field in ("to_user", "from_user"):
        post = {"to_user": world.carla.pk, "reason": "x", field: world.b_agent.pk}
        if field == "to_user":
            post["tasks"] = [world.t1.pk]
        response = reassign(client, **post)
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "Bas Bel" not in page and "bagent" not in page
    assert not Event.objects.filter(verb="call_task.reassigned").exists()


@pytest.mark.parametrize("raw", ["99999999999999999999999", "-1", "1e3", " ", "²"])
def test_an_odd_task_id_is_a_404_not_a_500(client, world, raw):
    """Review of issue 7: a task id the database cannot hold was a server error."""
    login_verified(client, world.sup)
    response = reassign(client, tasks=[raw], to_user="", reason="x")
    assert response.status_code == 404
