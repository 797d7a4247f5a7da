"""Tenant isolation: an agent of creditor A gets a 404 for anything of creditor B, by URL, API
or search, and never gets B's work in the queue.

The URL checks walk ``workspace/urls.py`` itself: every back-office route that takes an id (or
another parameter) is requested with B's object of the right kind, by GET and by POST. A new
route fails ``test_every_route_with_a_parameter_is_a_404_for_another_creditor`` until it is
added to ``ROUTES`` below, with the kind of object its id names, so no page escapes the check.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from vaarwater.arrangements.models import Arrangement, Promise
from vaarwater.contact.models import CallTask, CallTaskStatus, Message, MessageStatus
from vaarwater.core.models import Event
from vaarwater.ledger.models import (
    ContactKind,
    ContactPoint,
    ContactSource,
    CreditorMembership,
    Debtor,
    Role,
)
from vaarwater.ledger.services import invoice_create
from vaarwater.payments.models import PaymentLink
from vaarwater.payments.statement_models import (
    EntryStatus,
    Statement,
    StatementEntry,
    StatementStatus,
)
from vaarwater.strategy.models import Hold, HoldKind
from vaarwater.testing import login_verified
from vaarwater.workspace import queue as call_queues
from vaarwater.workspace import urls as workspace_urls
from vaarwater.workspace.models import CallAttempt, CallOutcome

from .factories import agent_for, case_create, version_create

pytestmark = pytest.mark.django_db

MISSING = 999_999

# Per route name: the URL's arguments for one creditor's objects (``o``, see ``tenant``) and
# the creditor code the page is asked for (query string and form), if it takes one.
TEMPLATE = {"key": "herinnering", "channel": "sms", "language": "nl"}
ROUTES = {
    "case_detail": lambda o: ({"pk": o.case.pk}, None),
    "case_hold": lambda o: ({"pk": o.case.pk}, None),
    "case_hold_end": lambda o: ({"pk": o.case.pk, "hold_pk": o.hold.pk}, None),
    "case_links_revoke": lambda o: ({"pk": o.case.pk}, None),
    "case_plan": lambda o: ({"pk": o.case.pk}, None),
    "call_detail": lambda o: ({"pk": o.attempt.pk}, None),
    "call_outcome": lambda o: ({"pk": o.attempt.pk}, None),
    "call_payment_link": lambda o: ({"pk": o.attempt.pk}, None),
    "call_release": lambda o: ({"pk": o.attempt.pk}, None),
    "task_done": lambda o: ({"pk": o.task.pk}, None),
    "statement_assign": lambda o: ({"pk": o.statement.pk}, o.creditor.code),
    "statement_entry": lambda o: ({"pk": o.entry.pk}, None),
    "statement_entry_ignore": lambda o: ({"pk": o.entry.pk}, None),
    "message_letter": lambda o: ({"pk": o.letter.pk}, None),
    "strategy_detail": lambda o: ({"pk": o.version.pk}, None),
    "template_detail": lambda o: (TEMPLATE, o.creditor.code),
    "template_restore": lambda o: (TEMPLATE, o.creditor.code),
}
# Routes whose positive check (A's own object is no 404) cannot run for an agent: why.
NOT_FOR_AN_AGENT = {
    "statement_assign": "only superusers assign statements of unknown accounts",
    "message_letter": "renders the letter's PDF (tested in contact)",
}

# Routes without parameters: which choose the creditor by ``?creditor=CODE`` (B's code must be
# a 404), and which do not, with where their isolation is tested instead.
CHOSEN_BY_CODE = {
    "debtor_list",
    "case_list",
    "task_list",
    "questions",
    "statements",
    "unreachable",
    "template_list",
    "supervisor",
}
NOT_CHOSEN_BY_CODE = {
    "login": "no data",
    "logout": "no data",
    "strategy_list": "lists every creditor the user may see (test_views)",
    "inbound": "searches the user's creditors (test_searches_never_find_...)",
    "queue": "the user's own queue (test_the_queue_never_offers_...)",
    "queue_next": "the user's own queue (test_the_queue_never_offers_...)",
    "supervisor_reassign": "POST with a code (test_a_supervisor_of_a_sees_nothing_of_b)",
}


def workspace_routes():
    return [(p.name, dict(p.pattern.converters)) for p in workspace_urls.urlpatterns]


def tenant(creditor, tag: str, *, name: str, phone: str, agent):
    """One creditor's things of every kind a back-office URL can name."""
    now = timezone.now()
    today = timezone.localdate()
    o = SimpleNamespace(creditor=creditor, name=name, phone=phone, number=f"{tag}-1")
    o.version = version_create(creditor)
    o.debtor = Debtor.objects.create(
        creditor=creditor, external_id=o.number, name=name, postcode=f"{tag}999ZZ"[-6:]
    )
    ContactPoint.objects.create(
        debtor=o.debtor, kind=ContactKind.PHONE, value=phone, source=ContactSource.IMPORT
    )
    o.invoice = invoice_create(
        debtor=o.debtor,
        external_id=f"INV-{tag}",
        issue_date=today - timedelta(days=30),
        due_date=today - timedelta(days=20),
        amount_cents=12345,
    )
    o.case = case_create(o.version, debtor=o.debtor)
    o.hold = Hold.objects.create(
        case=o.case,
        kind=HoldKind.MANUAL,
        reason="even wachten",
        starts_on=today,
        until=today + timedelta(days=14),
    )
    o.task = CallTask.objects.create(
        creditor=creditor,
        debtor=o.debtor,
        case=o.case,
        window_start=now - timedelta(hours=1),
        window_end=now + timedelta(hours=6),
        reason=f"bellen {tag}",
        idempotency_key=f"iso-{tag}",
    )
    o.promise = Promise.objects.create(
        creditor=creditor,
        debtor=o.debtor,
        case=o.case,
        amount_cents=5000,
        due_on=today + timedelta(days=7),
        source="call",
        made_on=today,
        made_by=str(agent),
    )
    o.plan = Arrangement.objects.create(
        creditor=creditor,
        debtor=o.debtor,
        case=o.case,
        kind="instalments",
        method="transfer",
        reference=f"RGL-{tag}",
        total_cents=12345,
        debt_cents=12345,
        channel="agent",
        accepted_on=today,
        accepted_by=str(agent),
    )
    o.link = PaymentLink.objects.create(
        creditor=creditor,
        debtor=o.debtor,
        case=o.case,
        code=f"iso-{tag}",
        amount_cents=5000,
        expires_on=today + timedelta(days=14),
        purpose="agent",
    )
    o.attempt = CallAttempt.objects.create(
        creditor=creditor,
        debtor=o.debtor,
        case=o.case,
        task=o.task,
        agent=agent,
        started_at=now - timedelta(minutes=10),
        ended_at=now - timedelta(minutes=5),
        outcome=CallOutcome.RIGHT_PARTY,
        promise=o.promise,
        arrangement=o.plan,
        payment_link=o.link,
    )
    o.statement = Statement.objects.create(
        creditor=creditor,
        status=StatementStatus.IMPORTED,
        file_format="camt.053.001.02",
        file_name=f"{tag}.xml",
        file_sha256=tag * 64,
        account_iban="NL91ABNA0417164300",
    )
    o.entry = StatementEntry.objects.create(
        creditor=creditor,
        statement=o.statement,
        key=f"key-{tag}",
        booking_date=today,
        amount_cents=5000,
        counterparty_name=name,
        remittance=f"klant {o.number}",
        status=EntryStatus.UNMATCHED,
    )
    o.letter = Message.objects.create(
        creditor=creditor,
        debtor=o.debtor,
        case=o.case,
        channel="letter",
        template="herinnering",
        status=MessageStatus.SENT,
        not_before=now,
        sent_at=now,
        idempotency_key=f"letter-{tag}",
    )
    return o


@pytest.fixture
def tenants(creditor, other_creditor):
    """A: its agent and its things; B: its own agent and things of every kind."""
    a_agent = agent_for(creditor, "a-agent")
    b_agent = agent_for(other_creditor, "b-agent")
    a = tenant(creditor, "A", name="Jan de Vries", phone="+31612345678", agent=a_agent)
    b = tenant(other_creditor, "B", name="Anna Anders", phone="+31687654321", agent=b_agent)
    return SimpleNamespace(a=a, b=b, a_agent=a_agent, b_agent=b_agent)


def request(client, method: str, name: str, kwargs: dict, code: str | None):
    url = reverse(f"workspace:{name}", kwargs=kwargs)
    data = {"creditor": code} if code else {}
    if method == "get":
        return client.get(url, data)
    query = f"?{urlencode(data)}" if data else ""
    return client.post(url + query, data)


def missing(kwargs: dict, code: str | None) -> tuple[dict, str | None]:
    """The same arguments naming nothing: ids that do not exist, a code no creditor has."""
    kwargs = {k: MISSING if isinstance(v, int) else v for k, v in kwargs.items()}
    return kwargs, ("NOPE" if code else None)


def b_unchanged(tenants):
    b = tenants.b
    assert Hold.objects.get(pk=b.hold.pk).released_on is None
    assert CallTask.objects.get(pk=b.task.pk).status == CallTaskStatus.OPEN
    assert StatementEntry.objects.get(pk=b.entry.pk).status == EntryStatus.UNMATCHED
    assert Statement.objects.get(pk=b.statement.pk).creditor_id == b.creditor.pk
    assert not Event.objects.filter(actor_user=tenants.a_agent).exists()


@pytest.mark.parametrize(
    "name,params",
    [(n, sorted(p)) for n, p in workspace_routes() if p],
    ids=[n for n, p in workspace_routes() if p],
)
def test_every_route_with_a_parameter_is_a_404_for_another_creditor(client, tenants, name, params):
    """B's object answers as an object that does not exist: 404 (405 where the method is not
    the route's, for any id alike), and A's own object of that kind is found, so the mapping
    names the right kind of object."""
    if name not in ROUTES:
        pytest.fail(
            f"workspace route {name!r} takes {sorted(params)}: add it to ROUTES in "
            "test_isolation.py with the kind of object its parameters name"
        )
    login_verified(client, tenants.a_agent)
    kwargs, code = ROUTES[name](tenants.b)
    statuses = {}
    for method in ("get", "post"):
        theirs = request(client, method, name, kwargs, code)
        nothing = request(client, method, name, *missing(kwargs, code))
        assert theirs.status_code == nothing.status_code, (name, method)
        assert theirs.status_code in (404, 405), (name, method, theirs.status_code)
        assert tenants.b.name.encode() not in theirs.content
        statuses[method] = theirs.status_code
    assert 404 in statuses.values(), name
    b_unchanged(tenants)

    if name in NOT_FOR_AN_AGENT:
        return
    kwargs, code = ROUTES[name](tenants.a)
    own = request(client, "get", name, kwargs, code)
    if own.status_code == 405:
        own = request(client, "post", name, kwargs, code)
    assert own.status_code != 404, f"{name}: A's own object is not found; is the mapping right?"


def test_every_page_without_parameters_is_classified():
    """A new page must say whether it takes ``?creditor=CODE`` (then it is checked below)."""
    names = {name for name, params in workspace_routes() if not params}
    unclassified = names - CHOSEN_BY_CODE - set(NOT_CHOSEN_BY_CODE)
    assert not unclassified, f"add {sorted(unclassified)} to CHOSEN_BY_CODE or NOT_CHOSEN_BY_CODE"


@pytest.mark.parametrize("name", sorted(CHOSEN_BY_CODE))
def test_another_creditors_code_is_a_404(client, tenants, name):
    """B's code answers as a code no creditor has: 404 (403 on a page for a higher role,
    alike for every code)."""
    login_verified(client, tenants.a_agent)
    theirs = client.get(reverse(f"workspace:{name}"), {"creditor": tenants.b.creditor.code})
    nothing = client.get(reverse(f"workspace:{name}"), {"creditor": "NOPE"})
    assert theirs.status_code == nothing.status_code
    assert theirs.status_code in (403, 404)
    if name != "supervisor":
        assert theirs.status_code == 404
        own = client.get(reverse(f"workspace:{name}"), {"creditor": tenants.a.creditor.code})
        assert own.status_code == 200


def test_searches_never_find_another_creditors_customer(client, tenants):
    """B's customer by name, phone, file reference, customer or invoice number: nothing in
    the debtor list, the incoming-call lookup, the worklist's customer search or the API."""
    a, b = tenants.a, tenants.b
    login_verified(client, tenants.a_agent)
    said = {
        "name": "Anders",
        "phone": "06-87654321",
        "reference": b.case.reference,
        "number": b.number,
        "invoice": "INV-B",
    }
    for how, typed in said.items():
        page = client.get(reverse("workspace:debtor_list"), {"q": typed}).context["page"]
        assert b.debtor not in page.object_list, how
        response = client.get(reverse("workspace:inbound"), {"q": typed})
        assert response.status_code == 200, how  # not a redirect to B's case
        assert response.context["cases"] == [], how
        entry = client.get(reverse("workspace:statement_entry", args=[a.entry.pk]), {"q": typed})
        assert b.debtor not in entry.context["results"], how
        api = client.get("/api/v1/cases", {"search": typed})
        assert api.status_code == 200 and api.json() == [], how
    cases = client.get(reverse("workspace:case_list")).context["page"].object_list
    assert [case.pk for case in cases] == [a.case.pk]
    # The same searches do find A's own customer (the searches work at all).
    assert client.get(reverse("workspace:inbound"), {"q": "06-12345678"}).status_code == 302
    assert [c["id"] for c in client.get("/api/v1/cases", {"search": "Vries"}).json()] == [a.case.pk]


def test_the_api_answers_another_creditors_case_as_none(client, tenants):
    login_verified(client, tenants.a_agent)
    b = tenants.b
    for path in ("", "/timeline"):
        theirs = client.get(f"/api/v1/cases/{b.case.pk}{path}")
        nothing = client.get(f"/api/v1/cases/{MISSING}{path}")
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.content == nothing.content
    assert client.get(f"/api/v1/cases/{tenants.a.case.pk}").status_code == 200


def test_the_queue_never_offers_another_creditors_tasks(client, tenants):
    """Neither the queue, nor the next-case button, nor the API's queue hands out B's task."""
    login_verified(client, tenants.a_agent)
    b = tenants.b
    if hasattr(call_queues, "call_queue"):
        offered = [getattr(item, "task", item) for item in call_queues.call_queue(tenants.a_agent)]
        assert all(task.creditor_id != b.creditor.pk for task in offered)
        api = client.get("/api/v1/queue").json()
        assert b.task.pk not in [item["id"] for item in api]
    before = set(CallAttempt.objects.values_list("pk", flat=True))
    client.post(reverse("workspace:queue_next"))
    task = CallTask.objects.get(pk=b.task.pk)
    assert task.claimed_by is None and task.assigned_to is None
    new = CallAttempt.objects.exclude(pk__in=before)
    assert not new.filter(creditor=b.creditor).exists()
    assert not new.filter(task=b.task).exists()


def test_a_supervisor_of_a_sees_nothing_of_b(client, tenants):
    """A's supervisor: B's code is a 404, B's task cannot be moved, and A's numbers count
    none of B's calls, promises or tasks."""
    CreditorMembership.objects.filter(user=tenants.a_agent).update(role=Role.SUPERVISOR)
    login_verified(client, tenants.a_agent)
    b = tenants.b
    assert client.get("/supervisor/", {"creditor": b.creditor.code}).status_code == 404
    response = client.get("/supervisor/", {"period": "30d"})
    overview = response.context["overview"]
    assert overview.reach.attempts == 1 and overview.promises.overall.made == 1
    assert overview.queue_total.open == 1
    assert [t.pk for t in response.context["tasks"]] == [tenants.a.task.pk]
    assert tenants.b_agent.pk not in [agent.user_id for agent in overview.agents]
    for data in (
        {"creditor": b.creditor.code, "tasks": [b.task.pk]},
        {"creditor": tenants.a.creditor.code, "tasks": [b.task.pk]},
    ):
        post = client.post("/supervisor/reassign/", {**data, "to_user": "", "reason": "x"})
        assert post.status_code == 404
    b_unchanged(tenants)
