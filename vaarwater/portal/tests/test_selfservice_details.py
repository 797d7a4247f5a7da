"""My details: preferences, WhatsApp yes or no, and a new email address or phone number that
only counts once the debtor types the code sent to it."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from vaarwater.contact.models import Message, OptOut
from vaarwater.contact.rendering import message_content
from vaarwater.contact.services import opt_out_record
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import ContactPoint, Debtor
from vaarwater.portal.models import ContactChange
from vaarwater.portal.selfservice import (
    contact_change_confirm,
    contact_change_start,
    whatsapp_on,
)
from vaarwater.portal.tests.test_selfservice import (  # noqa: F401
    debtor,
    errors_of,
    link,
    url,
)
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TZ = ZoneInfo("Europe/Amsterdam")
ACTOR = Actor("debtor", "Klant")
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=TZ)


def code_of(change: ContactChange) -> str:
    """The code as the debtor reads it in the message that was sent."""
    return change.message.context["code"]


def start(client, token, kind, value):
    return client.post(
        url(token, "details"), {"action": "contact", "nieuw-kind": kind, "nieuw-value": value}
    )


def confirm(client, token, code):
    return client.post(url(token, "details", "code/"), {"code-code": code})


def test_preferences_are_saved_with_an_event(client, debtor):
    token = link(debtor)
    response = client.post(
        url(token, "details"),
        {
            "action": "preferences",
            "pref-preferred_channel": "whatsapp",
            "pref-preferred_time": "evening",
        },
    )
    assert response.status_code == 302
    debtor.refresh_from_db()
    assert (debtor.preferred_channel, debtor.preferred_time) == ("whatsapp", "evening")
    event = Event.objects.get(verb="debtor.changed", debtor=debtor)
    assert "WhatsApp" in event.reason and "avond" in event.reason
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page and 'value="whatsapp" checked' in page


def test_bad_preferences_change_nothing(client, debtor):
    response = client.post(
        url(link(debtor), "details"),
        {"action": "preferences", "pref-preferred_channel": "pigeon", "pref-preferred_time": "x"},
    )
    assert response.status_code == 200
    errors = errors_of(response)
    assert "Choose one of the ways shown." in errors and "Choose one of the times shown." in errors
    debtor.refresh_from_db()
    assert debtor.preferred_channel == "" and debtor.preferred_time == ""
    assert not Event.objects.filter(verb="debtor.changed").exists()


def test_whatsapp_opt_in_and_out(client, debtor):
    """Opting in adds the mobile number as a WhatsApp point and ends an earlier opt-out;
    unticking records an opt-out."""
    opt_out_record(debtor=debtor, channel="whatsapp", source="sms-stop")
    token = link(debtor)
    response = client.post(url(token, "details"), {"action": "whatsapp", "wa-whatsapp": "on"})
    assert response.status_code == 302
    point = ContactPoint.objects.get(debtor=debtor, kind="whatsapp")
    assert point.value == "+31612345678" and point.source == "portal"
    assert not OptOut.objects.filter(debtor=debtor, ended_at__isnull=True).exists()
    assert whatsapp_on(debtor)
    assert Event.objects.filter(verb="contact.opt_in", debtor=debtor).exists()
    client.post(url(token, "details"), {"action": "whatsapp"})
    assert OptOut.objects.filter(debtor=debtor, channel="whatsapp", ended_at__isnull=True).exists()
    assert not whatsapp_on(debtor)


def test_whatsapp_needs_a_mobile_number(client, make_debtor):
    landline = make_debtor(phone="+31201234567")
    response = client.post(
        url(link(landline), "details"), {"action": "whatsapp", "wa-whatsapp": "on"}
    )
    assert response.status_code == 200
    assert "Add your mobile number first" in response.content.decode()
    assert not ContactPoint.objects.filter(debtor=landline, kind="whatsapp").exists()


def test_a_new_email_address_is_confirmed_with_a_code(client, debtor):
    """The code goes to the new address (never onto the page); the right code makes it a
    confirmed contact point from the portal; the old address stays."""
    token = link(debtor)
    response = start(client, token, "email", "  Nieuw@Example.NL ")
    assert response.status_code == 302
    change = ContactChange.objects.get()
    assert change.value == "Nieuw@example.nl" and change.kind == "email"
    message = change.message
    assert (message.purpose, message.channel, message.template) == (
        "verify",
        "email",
        "verificatiecode",
    )
    assert message.context["to"] == "Nieuw@example.nl"
    assert message.idempotency_key == f"verify-change-{change.pk}"
    code = code_of(change)
    assert len(code) == 6 and code.isdigit() and change.code_hash != code
    page = client.get(response["Location"]).content.decode()
    assert code not in page and "Nieuw@example.nl" in page
    assert 'autocomplete="one-time-code"' in page
    assert Event.objects.filter(verb="contact_change.started", debtor=debtor).exists()
    response = confirm(client, token, f"{code[:3]} {code[3:]}")
    assert response.status_code == 302
    point = ContactPoint.objects.get(debtor=debtor, value="Nieuw@example.nl")
    assert point.kind == "email" and point.source == "portal" and point.verified_at
    assert ContactPoint.objects.filter(debtor=debtor, kind="email").count() == 2
    assert Event.objects.filter(verb="debtor.contact_added", debtor=debtor).exists()
    change.refresh_from_db()
    assert change.confirmed_at is not None
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page and "Nieuw@example.nl" in page


def test_the_code_message_renders_the_code_for_the_new_address(debtor):
    change = contact_change_start(debtor=debtor, kind="email", value="a@example.nl", actor=ACTOR)
    content = message_content(message=change.message)
    assert code_of(change) in content.text


def test_a_wrong_code_says_how_many_tries_are_left(client, debtor):
    token = link(debtor)
    start(client, token, "email", "nieuw@example.nl")
    change = ContactChange.objects.get()
    wrong = "000000" if code_of(change) != "000000" else "111111"
    response = confirm(client, token, wrong)
    assert response.status_code == 200
    assert "You can try 4 more times." in errors_of(response)
    change.refresh_from_db()
    assert change.attempts == 1
    assert not ContactPoint.objects.filter(value="nieuw@example.nl").exists()


def test_five_wrong_codes_end_the_change(debtor):
    """After the fifth wrong code even the right one no longer works: ask for a new one."""
    change = contact_change_start(
        debtor=debtor, kind="email", value="nieuw@example.nl", actor=ACTOR, now=NOW
    )
    right = code_of(change)
    wrong = "000000" if right != "000000" else "111111"
    for attempt in range(1, 6):
        with pytest.raises(ValidationError) as error:
            contact_change_confirm(debtor=debtor, code=wrong, actor=ACTOR, now=NOW)
        if attempt < 5:
            assert f"{5 - attempt} more time" in str(error.value)
    assert "no tries left" in str(error.value)
    change.refresh_from_db()
    assert change.attempts == 5 and change.cancelled_at is not None
    assert Event.objects.filter(verb="contact_change.failed").exists()
    with pytest.raises(ValidationError, match="no code waiting"):
        contact_change_confirm(debtor=debtor, code=right, actor=ACTOR, now=NOW)
    assert not ContactPoint.objects.filter(value="nieuw@example.nl").exists()


def test_an_expired_code_does_not_work(debtor):
    change = contact_change_start(
        debtor=debtor, kind="email", value="nieuw@example.nl", actor=ACTOR, now=NOW
    )
    later = NOW + timedelta(minutes=31)
    with pytest.raises(ValidationError, match="expired"):
        contact_change_confirm(debtor=debtor, code=code_of(change), actor=ACTOR, now=later)
    assert not ContactPoint.objects.filter(value="nieuw@example.nl").exists()


def test_a_new_mobile_number_gets_its_code_by_sms(client, debtor):
    start(client, link(debtor), "phone", "06 87654321")
    change = ContactChange.objects.get()
    assert change.value == "+31687654321"
    assert change.message.channel == "sms" and change.message.context["to"] == "+31687654321"
    contact_change_confirm(debtor=debtor, code=code_of(change), actor=ACTOR)
    point = ContactPoint.objects.get(debtor=debtor, value="+31687654321")
    assert point.kind == "phone" and point.verified_at


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("email", "geen-adres", "Enter an email address like name@example.nl."),
        ("phone", "12345", "Enter a phone number like 06 12345678."),
        ("phone", "020 123 4567", "it must be a mobile number"),
        ("email", "k1@example.nl", "This is already your email address."),
        ("phone", "0612345678", "This is already your phone number."),
        ("fax", "x", "Choose email address or phone number."),
        ("email", "", "Enter the new email address or mobile number."),
    ],
)
def test_a_bad_new_address_is_refused(client, debtor, kind, value, error):
    response = start(client, link(debtor), kind, value)
    assert response.status_code == 200
    assert error in errors_of(response)
    assert not ContactChange.objects.exists() and not Message.objects.exists()


def test_at_most_three_codes_an_hour(debtor):
    for n in range(3):
        contact_change_start(
            debtor=debtor, kind="email", value=f"n{n}@example.nl", actor=ACTOR, now=NOW
        )
    with pytest.raises(ValidationError, match="3 codes in the last hour"):
        contact_change_start(
            debtor=debtor, kind="email", value="n9@example.nl", actor=ACTOR, now=NOW
        )
    assert ContactChange.objects.count() == 3
    later = NOW + timedelta(hours=1, minutes=1)
    contact_change_start(debtor=debtor, kind="email", value="n9@example.nl", actor=ACTOR, now=later)


def test_a_new_code_replaces_the_old_one_and_can_be_cancelled(client, debtor):
    token = link(debtor)
    start(client, token, "email", "een@example.nl")
    start(client, token, "email", "twee@example.nl")
    first, second = ContactChange.objects.order_by("pk")
    assert first.cancelled_at is not None and second.cancelled_at is None
    with pytest.raises(ValidationError):
        contact_change_confirm(debtor=debtor, code=code_of(first), actor=ACTOR)
    client.post(url(token, "details"), {"action": "cancel"})
    second.refresh_from_db()
    assert second.cancelled_at is not None
    assert Event.objects.filter(verb="contact_change.cancelled").exists()


def test_a_code_that_is_not_six_digits_is_not_an_attempt(client, debtor):
    token = link(debtor)
    start(client, token, "email", "nieuw@example.nl")
    response = confirm(client, token, "12ab")
    assert "Type the 6 digits of the code." in errors_of(response)
    assert ContactChange.objects.get().attempts == 0


def test_the_page_shows_only_valid_contact_details(client, debtor):
    ContactPoint.objects.filter(debtor=debtor, kind="email").update(invalid_since=timezone.now())
    page = client.get(url(link(debtor), "details")).content.decode()
    assert "k1@example.nl" not in page
    Debtor.objects.filter(pk=debtor.pk).update(preferred_time="morning")
    page = client.get(url(link(debtor), "details")).content.decode()
    assert 'value="morning" checked' in page
