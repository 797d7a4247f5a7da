"""The queue page and the "next customer" button, through the Django test client.

The queue's clock is fixed (``queue.clock``) at Tuesday 24 November 2026, 10:00 Dutch time.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vaarwater.contact.models import CallTask, CallTaskKind
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401
from vaarwater.testing import login_verified
from vaarwater.workspace import queue
from vaarwater.workspace.models import CallAttempt

from .factories import agent_for, case_create, version_create

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(queue, "clock", lambda: NOW)


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})


def task_make(debtor, key, *, case=None, kind=CallTaskKind.STRATEGY):
    start = NOW - timedelta(hours=2)
    return CallTask.objects.create(
        creditor_id=debtor.creditor_id,
        debtor=debtor,
        case=case,
        window_start=start,
        window_end=start + timedelta(hours=8),
        kind=kind,
        reason="bellen",
        idempotency_key=key,
    )


def test_login_required(client):
    assert "/login/" in client.get("/queue/")["Location"]
    response = client.post("/queue/next/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_lists_the_queue_and_the_button_takes_the_first(
    client,
    creditor,
    make_debtor,  # noqa: F811
):
    version = version_create(creditor)
    small = make_debtor(amount=5_000)
    small_task = task_make(small, "s", case=case_create(version, debtor=small))
    large = make_debtor(amount=90_000)
    large_task = task_make(large, "l", case=case_create(version, debtor=large))
    later = make_debtor()
    CallTask.objects.filter(pk=task_make(later, "w").pk).update(
        window_start=NOW + timedelta(days=1), window_end=NOW + timedelta(days=1, hours=2)
    )
    agent = login_verified(client, agent_for(creditor, "anna"))
    english(client)

    page = client.get("/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'data-task="{large_task.pk}"') < html.index(f'data-task="{small_task.pk}"')
    assert 'id="next-customer"' in html and 'accesskey="n"' in html
    assert "expected yield" in html and "window not started yet: 1" in html
    assert client.get("/queue/?creditor=ENERGIE").status_code == 200
    assert client.get("/queue/next/").status_code == 405

    response = client.post("/queue/next/", {"creditor": "ENERGIE"})
    attempt = CallAttempt.objects.get()
    assert attempt.task_id == large_task.pk and attempt.agent == agent
    assert response.status_code == 302 and response["Location"] == f"/calls/{attempt.pk}/"
    # The page now offers the way back to that call; the button continues it.
    html = client.get("/queue/").content.decode()
    assert f'href="/calls/{attempt.pk}/"' in html and "Continue the call" in html
    again = client.post("/queue/next/", {"creditor": "ENERGIE"})
    assert again["Location"] == f"/calls/{attempt.pk}/" and CallAttempt.objects.count() == 1


def test_nobody_to_call(client, creditor):
    login_verified(client, agent_for(creditor, "anna"))
    english(client)
    response = client.post("/queue/next/", {"creditor": "ENERGIE"})
    assert response.status_code == 302 and response["Location"] == "/queue/?creditor=ENERGIE"
    page = client.get(response["Location"])
    assert "There is nobody to call right now." in page.content.decode()
    assert "Nobody to call right now." in page.content.decode()


def test_another_creditors_queue_is_not_found(
    client,
    creditor,
    other_creditor,
    make_debtor,  # noqa: F811
):
    theirs = make_debtor(on=other_creditor)
    task_make(theirs, "t", case=case_create(version_create(other_creditor), debtor=theirs))
    login_verified(client, agent_for(creditor, "anna"))
    assert client.get("/queue/?creditor=WONEN").status_code == 404
    assert client.post("/queue/next/", {"creditor": "WONEN"}).status_code == 404
    assert client.post("/queue/next/").status_code == 302
    assert not CallAttempt.objects.exists()


def test_the_strategy_page_shows_the_call_policy():
    from django.utils.translation import override

    from vaarwater.workspace.strategy_display import setting_rows

    calls = {"max_attempts_per_week": 2, "min_hours_between": 5, "max_attempts": 4}
    with override("en"):
        [(label, text)] = setting_rows({"calls": calls})
    assert label == "Call attempts"
    assert text == "at most 2 a week per customer, at least 5 hours apart, at most 4 per call task"
