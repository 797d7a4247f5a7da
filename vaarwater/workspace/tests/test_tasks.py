"""Requests from the portal wait for agents of the same creditor only, and can be handled."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus
from vaarwater.core.models import Event
from vaarwater.ledger.models import CreditorMembership
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.testing import login_verified

pytestmark = pytest.mark.django_db


def agent(creditor, name):
    user = get_user_model().objects.create_user(name, password="pw-12345-abc")
    CreditorMembership.objects.create(user=user, creditor=creditor)
    return user


def task(debtor, kind, priority, key):
    start = timezone.now() + timedelta(hours=1)
    return CallTask.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        window_start=start,
        window_end=start + timedelta(hours=3),
        priority=priority,
        kind=kind,
        reason=f"reden {key}",
        idempotency_key=key,
    )


def test_agents_see_their_creditors_requests_most_urgent_first(
    client,
    creditor,
    other_creditor,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor(due=date.today())
    task(debtor, CallTaskKind.PROBLEM, 80, "p1")
    task(debtor, CallTaskKind.CALLBACK, 90, "c1")
    task(debtor, CallTaskKind.STRATEGY, 50, "s1")  # the strategy's calls are not requests
    login_verified(client, agent(creditor, "a"))
    text = client.get("/tasks/").content.decode()
    assert text.index("reden c1") < text.index("reden p1") and "reden s1" not in text
    login_verified(client, agent(other_creditor, "b"))
    text = client.get("/tasks/").content.decode()
    assert "reden c1" not in text
    assert client.get("/tasks/?creditor=ENERGIE").status_code == 404


def test_handling_a_request_needs_a_note_and_is_an_event(
    client,
    creditor,
    other_creditor,
    make_debtor,  # noqa: F811
):
    debtor = make_debtor(due=date.today())
    callback = task(debtor, CallTaskKind.CALLBACK, 90, "c1")
    login_verified(client, agent(other_creditor, "b"))
    assert client.post(f"/tasks/{callback.pk}/done/", {"note": "x"}).status_code == 404
    login_verified(client, agent(creditor, "a"))
    client.post(f"/tasks/{callback.pk}/done/", {"note": ""})
    callback.refresh_from_db()
    assert callback.status == CallTaskStatus.OPEN
    client.post(f"/tasks/{callback.pk}/done/", {"note": "Teruggebeld, betaalt vrijdag"})
    callback.refresh_from_db()
    assert callback.status == CallTaskStatus.DONE
    event = Event.objects.get(verb="call_task.done")
    assert event.reason == "Teruggebeld, betaalt vrijdag" and event.actor_label == "a"


def test_an_agent_ends_the_personal_links_of_a_case(
    client,
    creditor,
    other_creditor,
    load_strategy,
    make_debtor,  # noqa: F811
):
    """The links stop working at once, with the agent's reason on the timeline; an agent of
    another creditor cannot."""
    from vaarwater.portal.tokens import access_token_issue
    from vaarwater.strategy.models import Case
    from vaarwater.strategy.run import daily_run

    load_strategy()
    debtor = make_debtor(due=date.today() - timedelta(days=10))
    daily_run(run_date=date.today())
    case = Case.objects.get(debtor=debtor)
    token = access_token_issue(creditor_id=creditor.pk, debtor_id=debtor.pk, case_id=case.pk)
    login_verified(client, agent(other_creditor, "b"))
    url = f"/cases/{case.pk}/links/revoke/"
    assert client.post(url, {"reason": "x"}).status_code == 404
    login_verified(client, agent(creditor, "a"))
    assert "1 persoonlijke link" in client.get(f"/cases/{case.pk}/").content.decode()
    client.post(url, {"reason": "  "})  # no reason: nothing ends
    assert client.get(f"/p/{token}/").status_code == 200
    client.post(url, {"reason": "telefoon kwijt"})
    assert client.get(f"/p/{token}/").status_code == 404
    event = Event.objects.get(verb="portal.links_revoked")
    assert "telefoon kwijt" in event.reason and event.actor_label == "a"
