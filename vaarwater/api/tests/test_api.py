"""The API at /api/v1/: a verified back-office session only, the user's own creditors only,
and another creditor's case answers exactly as a case that does not exist."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from vaarwater.ledger.models import ContactKind, ContactPoint, ContactSource, Debtor
from vaarwater.ledger.services import invoice_create
from vaarwater.testing import login_verified
from vaarwater.workspace import queue as call_queues
from vaarwater.workspace.tests.factories import agent_for, case_create, event_create, version_create

pytestmark = pytest.mark.django_db


def debtor_with_case(creditor, *, number, name, phone, cents):
    debtor = Debtor.objects.create(creditor=creditor, external_id=number, name=name)
    ContactPoint.objects.create(
        debtor=debtor, kind=ContactKind.PHONE, value=phone, source=ContactSource.IMPORT
    )
    today = timezone.localdate()
    invoice_create(
        debtor=debtor,
        external_id=f"F-{number}",
        issue_date=today - timedelta(days=30),
        due_date=today - timedelta(days=20),
        amount_cents=cents,
    )
    return case_create(version_create(creditor), debtor=debtor)


@pytest.fixture
def cases(creditor, other_creditor):
    mine = debtor_with_case(
        creditor, number="D1", name="Jan de Vries", phone="+31612345678", cents=12050
    )
    theirs = debtor_with_case(
        other_creditor, number="Z-1", name="Anna Anders", phone="+31687654321", cents=9900
    )
    return mine, theirs


@pytest.fixture
def agent(client, creditor):
    return login_verified(client, agent_for(creditor))


def test_without_a_verified_session_the_api_is_401(client, creditor, cases):
    mine, _ = cases
    for url in ("/api/v1/cases", f"/api/v1/cases/{mine.pk}", "/api/v1/queue"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "Unauthorized"}
    client.force_login(agent_for(creditor))  # a password, but no second factor
    assert client.get(f"/api/v1/cases/{mine.pk}").status_code == 401


def test_one_case(client, agent, cases):
    mine, _ = cases
    response = client.get(f"/api/v1/cases/{mine.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": mine.pk,
        "reference": mine.reference,
        "status": "open",
        "opened_on": mine.opened_on.isoformat(),
        "closed_on": None,
        "creditor": "ENERGIE",
        "debtor_name": "Jan de Vries",
        "debtor_number": "D1",
        "balance_cents": 12050,
    }


def test_another_creditors_case_is_the_same_404_as_none(client, agent, cases):
    """B's case, its timeline, and an id that does not exist: the same 404 and body."""
    _, theirs = cases
    missing = theirs.pk + 1000
    for path in ("", "/timeline"):
        other = client.get(f"/api/v1/cases/{theirs.pk}{path}")
        none = client.get(f"/api/v1/cases/{missing}{path}")
        assert other.status_code == none.status_code == 404
        assert other.content == none.content
        assert b"Anna" not in other.content


def test_the_timeline(client, agent, cases):
    mine, _ = cases
    event_create(
        mine.debtor,
        "call_task.done",
        "klant belt terug",
        on=timezone.localdate(),
        actor_kind="user",
        actor_label="Anna Agent (anna)",
    )
    events = client.get(f"/api/v1/cases/{mine.pk}/timeline").json()
    assert events[0] == {
        "id": events[0]["id"],
        "day": timezone.localdate().isoformat(),
        "verb": "call_task.done",
        "label": events[0]["label"],
        "who": "Anna Agent (anna)",
        "why": "klant belt terug",
    }
    assert events[0]["label"] != "call_task.done"  # a readable label


@pytest.mark.parametrize(
    "typed", ["de vries", "06-12345678", "+31 6 1234 5678", "D1", "F-D1", "reference"]
)
def test_search_finds_the_case(client, agent, cases, typed):
    """By name, phone (as said), customer number, invoice number and file reference."""
    mine, _ = cases
    typed = mine.reference if typed == "reference" else typed
    found = client.get("/api/v1/cases", {"search": typed}).json()
    assert [case["id"] for case in found] == [mine.pk]
    assert found[0]["balance_cents"] == 12050


@pytest.mark.parametrize("typed", ["anders", "06-87654321", "Z-1", "F-Z-1", "reference"])
def test_search_never_finds_another_creditors_case(client, agent, cases, typed):
    _, theirs = cases
    typed = theirs.reference if typed == "reference" else typed
    assert client.get("/api/v1/cases", {"search": typed}).json() == []


def test_without_search_the_users_cases(client, agent, cases):
    mine, _ = cases
    assert [case["id"] for case in client.get("/api/v1/cases").json()] == [mine.pk]
    assert client.get("/api/v1/cases", {"limit": "many"}).status_code == 422


def test_a_superuser_sees_every_creditor(client, cases):
    boss = get_user_model().objects.create_superuser("boss", password="pw-12345-abc")
    login_verified(client, boss)
    assert {case["creditor"] for case in client.get("/api/v1/cases").json()} == {
        "ENERGIE",
        "WONEN",
    }


def test_the_queue(client, agent, cases):
    """The user's call queue; until the queue exists, a clear 501."""
    response = client.get("/api/v1/queue")
    if not hasattr(call_queues, "call_queue"):
        assert response.status_code == 501
        assert "queue" in response.json()["detail"]
    else:
        assert response.status_code == 200
        assert isinstance(response.json(), list)


def test_the_documentation_needs_a_login(client, creditor):
    for url in ("/api/v1/docs", "/api/v1/openapi.json"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    login_verified(client, agent_for(creditor))
    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/queue"} <= set(schema["paths"])
