"""Priority callback: 'I have arrears, call me back' on a chosen day and window, as the
highest-priority task in the agents' queue; one callback per debtor at a time."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from vaarwater.contact.models import CallTask, CallTaskKind, Message
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.portal.selfservice import callback_days, callback_request, callback_windows
from vaarwater.portal.tests.test_selfservice import (  # noqa: F401
    case,
    debtor,
    errors_of,
    link,
    open_case,
    url,
)
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TZ = ZoneInfo("Europe/Amsterdam")
ACTOR = Actor("debtor", "Klant")


def choices(debtor, case=None):
    now = timezone.now()
    windows = callback_windows(debtor=debtor, case=case, today=timezone.localdate(now))
    return callback_days(windows=windows, now=now), windows


def test_the_days_are_business_days_and_today_only_while_a_window_is_left():
    """Christmas Eve 2026 (Thursday) at 19:30: not today (the evening ends within the hour);
    then Monday 28 December onwards (Christmas, Boxing Day and Sunday are left out)."""
    windows = {"morning": (time(9), time(12)), "evening": (time(17), time(20))}
    days = callback_days(windows=windows, now=datetime(2026, 12, 24, 19, 30, tzinfo=TZ))
    assert days == [
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 4),
    ]
    days = callback_days(windows=windows, now=datetime(2026, 12, 24, 10, 0, tzinfo=TZ))
    assert days[0] == date(2026, 12, 24) and len(days) == 5


def test_the_windows_keep_within_the_contact_hours(debtor, open_case):
    """Contact hours 09:30-17:00: the morning starts at 09:30 and there is no evening."""
    case = open_case(debtor, start="09:30", end="17:00")
    windows = callback_windows(debtor=debtor, case=case, today=date(2026, 11, 24))
    assert windows == {
        "morning": (time(9, 30), time(12)),
        "afternoon": (time(12), time(17)),
    }


def test_a_callback_is_a_priority_task(client, debtor, case):
    """The chosen day and window make a callback task with priority 90 and the number and
    note in its reason; an event and a confirmation; the page shows the planned call."""
    days, windows = choices(debtor, case)
    token = link(debtor, case)
    response = client.post(
        url(token, "callback"),
        {
            "bel-day": days[1].isoformat(),
            "bel-band": "morning",
            "bel-phone": "06 11122233",
            "bel-note": "Graag over een regeling praten",
        },
    )
    assert response.status_code == 302
    task = CallTask.objects.get(debtor=debtor)
    assert task.kind == CallTaskKind.CALLBACK and task.priority == 90
    assert task.window_start == datetime.combine(days[1], time(9), TZ)
    assert task.window_end == datetime.combine(days[1], time(12), TZ)
    assert "+31611122233" in task.reason and "Graag over een regeling praten" in task.reason
    assert task.case == case
    event = Event.objects.get(verb="callback.requested", debtor=debtor)
    assert "terugbellen" in event.reason and event.data["phone"] == "+31611122233"
    message = Message.objects.get(template="melding-ontvangen")
    assert "06 11122233" in message.context["next_step"]
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page and "We will call you on" in page and "09:00" in page


def test_asking_again_moves_the_one_callback(client, debtor, case):
    days, windows = choices(debtor, case)
    token = link(debtor, case)
    data = {"bel-day": days[1].isoformat(), "bel-band": "morning", "bel-phone": "0612345678"}
    client.post(url(token, "callback"), data)
    client.post(url(token, "callback"), data)  # a double click: nothing changes
    assert CallTask.objects.count() == 1
    assert not Event.objects.filter(verb="callback.changed").exists()
    client.post(url(token, "callback"), {**data, "bel-band": "afternoon"})
    task = CallTask.objects.get()
    assert task.window_start == datetime.combine(days[1], time(12), TZ)
    assert Event.objects.filter(verb="callback.changed").exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("bel-day", "2020-01-01", "Choose one of the days shown."),
        ("bel-band", "night", "Choose one of the times shown."),
        ("bel-phone", "123", "Enter a phone number like 06 12345678."),
        ("bel-phone", "", "Enter the phone number we should call."),
        ("bel-note", "x" * 501, "at most 500 characters"),
    ],
)
def test_bad_input_makes_no_task(client, debtor, case, field, value, error):
    days, windows = choices(debtor, case)
    data = {"bel-day": days[1].isoformat(), "bel-band": "morning", "bel-phone": "0612345678"}
    data[field] = value
    response = client.post(url(link(debtor, case), "callback"), data)
    assert response.status_code == 200
    assert error in errors_of(response)
    assert not CallTask.objects.exists() and not Event.objects.filter(verb__startswith="callback")


def test_a_window_that_has_passed_today_is_refused(debtor, case):
    """At 16:30 the afternoon (until 17:00) is too late for today; the evening is fine."""
    now = datetime(2026, 11, 24, 16, 30, tzinfo=TZ)
    with pytest.raises(ValidationError, match="passed for today"):
        callback_request(
            debtor=debtor,
            case=case,
            day=now.date(),
            band="afternoon",
            phone="0612345678",
            actor=ACTOR,
            now=now,
        )
    task = callback_request(
        debtor=debtor,
        case=case,
        day=now.date(),
        band="evening",
        phone="0612345678",
        actor=ACTOR,
        now=now,
    )
    assert task.window_start == datetime(2026, 11, 24, 17, 0, tzinfo=TZ)


def test_the_phone_field_starts_with_the_debtors_number(client, debtor):
    page = client.get(url(link(debtor), "callback")).content.decode()
    assert 'value="+31612345678"' in page


def test_a_debtor_without_a_case_can_ask_for_a_callback(debtor):
    now = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    task = callback_request(
        debtor=debtor,
        case=None,
        day=date(2026, 11, 25),
        band="evening",
        phone="0612345678",
        actor=ACTOR,
        now=now,
    )
    assert task.case is None and task.window_end == datetime(2026, 11, 25, 20, 0, tzinfo=TZ)
