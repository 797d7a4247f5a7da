"""Defer to payday: the demand moves to the day after the debtor's payday, within the
creditor's limits; the case is held until then, with a reminder the day before."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from vaarwater.contact.models import Message
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import Debtor
from vaarwater.portal.selfservice import (
    _reminder_moment,
    deferral_options,
    deferral_request,
)
from vaarwater.portal.tests.test_selfservice import (  # noqa: F401
    case,
    debtor,
    errors_of,
    link,
    open_case,
    url,
)
from vaarwater.strategy.models import CaseStatus, Hold, HoldKind
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TZ = ZoneInfo("Europe/Amsterdam")
ACTOR = Actor("debtor", "Klant")


def with_payday(debtor, day=25):
    Debtor.objects.filter(pk=debtor.pk).update(payday_day=day)
    debtor.refresh_from_db()
    return debtor


def test_the_offered_dates_are_the_days_after_the_next_paydays(debtor, case):
    """Payday the 25th, deferral up to 35 days: on 1 November the offer is 26 November
    (the day after Wednesday the 25th); 26 December is too late."""
    with_payday(debtor)
    options = deferral_options(debtor=debtor, case=case, today=date(2026, 11, 1))
    assert options.allowed and options.payday_known
    assert options.paydays == (date(2026, 11, 25),)
    assert options.dates == (date(2026, 11, 26),)
    assert options.latest == date(2026, 12, 6)


def test_two_paydays_fit_in_a_long_window(debtor, open_case):
    """With 60 days allowed, the next two paydays are offered (a payday on a Sunday is paid on
    the Friday before: 25 October 2026 → Friday 23 October)."""
    with_payday(debtor)
    case = open_case(debtor, max_days=60)
    options = deferral_options(debtor=debtor, case=case, today=date(2026, 10, 1))
    assert options.paydays == (date(2026, 10, 23), date(2026, 11, 25))
    assert options.dates == (date(2026, 10, 24), date(2026, 11, 26))


def test_a_payday_beyond_the_limit_offers_nothing(debtor, open_case):
    """When the next payday is further away than deferral_max_days, there is nothing to pick."""
    with_payday(debtor)
    case = open_case(debtor, max_days=10)
    options = deferral_options(debtor=debtor, case=case, today=date(2026, 11, 1))
    assert options.refusal == "no_dates" and not options.dates
    with pytest.raises(ValidationError):
        deferral_request(
            debtor=debtor,
            case=case,
            due_on=date(2026, 11, 26),
            actor=ACTOR,
            now=datetime(2026, 11, 1, 12, tzinfo=TZ),
        )
    assert not Hold.objects.exists()


def test_deferring_holds_the_case_and_plans_a_reminder(debtor, case):
    """The case is held up to and including the chosen day; a reminder leaves at 10:00 the day
    before; a confirmation leaves now; the debtor's choice is an event."""
    with_payday(debtor)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=TZ)
    hold = deferral_request(
        debtor=debtor, case=case, due_on=date(2026, 11, 26), actor=ACTOR, now=now
    )
    assert hold.kind == HoldKind.DEFERRAL and hold.until == date(2026, 11, 26)
    assert hold.starts_on == date(2026, 11, 1)
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    reminder = Message.objects.get(template="uitstel-herinnering")
    assert reminder.purpose == "reminder"
    assert reminder.not_before == datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    assert reminder.context["deferred_until"] == "2026-11-26"
    assert reminder.idempotency_key == f"reminder-deferral-{hold.pk}"
    confirmation = Message.objects.get(template="melding-ontvangen")
    assert confirmation.purpose == "confirmation"
    assert "26 november 2026" in confirmation.context["summary"]
    event = Event.objects.get(verb="deferral.requested", debtor=debtor)
    assert "26-11-2026" in event.reason and "betaaldag" in event.reason
    assert event.data["payday"] == "2026-11-25"


def test_a_second_deferral_is_refused(debtor, case):
    """One deferral per case (the default policy): a second one is refused, also after the
    first one has ended."""
    with_payday(debtor)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=TZ)
    first = deferral_request(
        debtor=debtor, case=case, due_on=date(2026, 11, 26), actor=ACTOR, now=now
    )
    Hold.objects.filter(pk=first.pk).update(released_on=date(2026, 11, 27))
    later = datetime(2026, 11, 28, 12, 0, tzinfo=TZ)
    options = deferral_options(debtor=debtor, case=case, today=later.date())
    assert options.refusal == "used" and options.used == 1
    with pytest.raises(ValidationError) as error:
        deferral_request(
            debtor=debtor, case=case, due_on=date(2026, 12, 26), actor=ACTOR, now=later
        )
    assert "already deferred" in str(error.value)
    assert Hold.objects.filter(kind=HoldKind.DEFERRAL).count() == 1


def test_the_same_request_twice_is_one_deferral(debtor, case):
    """A double click defers once."""
    with_payday(debtor)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=TZ)
    one = deferral_request(
        debtor=debtor, case=case, due_on=date(2026, 11, 26), actor=ACTOR, now=now
    )
    two = deferral_request(
        debtor=debtor, case=case, due_on=date(2026, 11, 26), actor=ACTOR, now=now
    )
    assert one.pk == two.pk
    assert Hold.objects.count() == 1


def test_a_date_that_was_not_offered_is_refused(debtor, case):
    """Only the offered days: not a day of one's own choosing, not beyond the limit."""
    with_payday(debtor)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=TZ)
    for day in (date(2026, 11, 20), date(2026, 12, 26)):
        with pytest.raises(ValidationError, match="Choose one of the dates shown"):
            deferral_request(debtor=debtor, case=case, due_on=day, actor=ACTOR, now=now)
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("policy", "refusal"),
    [({"max_days": 0}, "not_offered"), ({"per_case": 0}, "not_offered")],
)
def test_a_creditor_can_switch_deferral_off(debtor, open_case, policy, refusal):
    with_payday(debtor)
    case = open_case(debtor, **policy)
    assert deferral_options(debtor=debtor, case=case, today=date(2026, 11, 1)).refusal == refusal


def test_without_a_case_there_is_nothing_to_defer(client, debtor):
    """No open file: the page says so and posting defers nothing."""
    with_payday(debtor)
    token = link(debtor)
    page = client.get(url(token, "defer")).content.decode()
    assert "nothing to defer" in page
    response = client.post(url(token, "defer"), {"action": "defer", "defer-due_on": "2026-11-26"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not Hold.objects.exists()


def test_a_closed_case_has_nothing_to_defer(debtor, case):
    from vaarwater.strategy.models import Case

    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_on=date(2026, 11, 1))
    case.refresh_from_db()
    assert deferral_options(debtor=debtor, case=case, today=date(2026, 11, 2)).refusal == "closed"


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(2026, 11, 26), datetime(2026, 11, 25, 10, 0, tzinfo=TZ)),  # a Wednesday
        (date(2026, 11, 30), datetime(2026, 11, 28, 10, 0, tzinfo=TZ)),  # not on Sunday
        (date(2026, 12, 26), datetime(2026, 12, 24, 10, 0, tzinfo=TZ)),  # not on Christmas Day
    ],
)
def test_the_reminder_leaves_on_the_last_allowed_day_before(due, expected):
    assert _reminder_moment(due, datetime(2026, 11, 1, tzinfo=TZ)) == expected


def test_no_reminder_when_the_day_before_has_passed(debtor, case):
    """Deferring to tomorrow after 10:00 today: the confirmation says it all, no reminder."""
    assert _reminder_moment(date(2026, 11, 26), datetime(2026, 11, 25, 11, tzinfo=TZ)) is None


def test_the_page_flow_unknown_payday_then_choose_a_date(client, debtor, case):
    """A debtor whose payday we do not know first tells it (stored with an event), then picks
    one of the offered days; the page confirms the date with role=status."""
    token = link(debtor, case)
    page = client.get(url(token, "defer")).content.decode()
    assert "When does your income arrive?" in page
    assert 'name="defer-due_on"' not in page
    response = client.post(url(token, "defer"), {"action": "payday", "payday-payday_day": "25"})
    assert response.status_code == 302 and response["Location"].endswith("?betaaldag=1")
    debtor.refresh_from_db()
    assert debtor.payday_day == 25
    changed = Event.objects.get(verb="debtor.changed", debtor=debtor)
    assert "25e van de maand" in changed.reason
    today = timezone.localdate()
    options = deferral_options(debtor=debtor, case=case, today=today)
    page = client.get(url(token, "defer") + "?betaaldag=1").content.decode()
    assert f'value="{options.dates[0].isoformat()}"' in page
    response = client.post(
        url(token, "defer"), {"action": "defer", "defer-due_on": options.dates[0].isoformat()}
    )
    assert response.status_code == 302
    hold = Hold.objects.get(case=case, kind=HoldKind.DEFERRAL)
    assert hold.until == options.dates[0]
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page
    assert str(options.dates[0].year) in page and "You pay by" in page


@pytest.mark.parametrize("bad", ["", "0", "32", "abc", "2.5"])
def test_a_bad_payday_is_refused(client, debtor, case, bad):
    """The income day must be a day of the month; a wrong one shows an error by the field and
    changes nothing."""
    token = link(debtor, case)
    response = client.post(url(token, "defer"), {"action": "payday", "payday-payday_day": bad})
    assert response.status_code == 200
    assert "from 1 to 31" in errors_of(response)
    assert 'aria-invalid="true"' in response.content.decode()
    debtor.refresh_from_db()
    assert debtor.payday_day is None
    assert not Event.objects.filter(verb="debtor.changed").exists()


def test_a_crafted_date_is_refused_on_the_page(client, debtor, case):
    with_payday(debtor)
    token = link(debtor, case)
    far = (timezone.localdate() + timedelta(days=200)).isoformat()
    response = client.post(url(token, "defer"), {"action": "defer", "defer-due_on": far})
    assert response.status_code == 200
    assert "Choose one of the dates shown." in errors_of(response)
    assert not Hold.objects.exists()


def test_the_page_explains_a_used_deferral_and_offers_other_help(client, debtor, case):
    """After the one deferral: the running deferral is shown, and no form to defer again."""
    with_payday(debtor)
    token = link(debtor, case)
    options = deferral_options(debtor=debtor, case=case, today=timezone.localdate())
    client.post(url(token, "defer"), {"action": "defer", "defer-due_on": options.dates[0]})
    page = client.get(url(token, "defer")).content.decode()
    assert "Your payment is deferred" in page
    assert 'name="defer-due_on"' not in page
    assert f"/p/{token}/regeling/" in page
