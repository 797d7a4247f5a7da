"""Help: the municipality's debt help by postcode and Geldfit, consent to share data with the
municipality, and a breathing-space request."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

from datetime import timedelta

import pytest
from django.utils import timezone

from vaarwater.contact.models import CallTask, CallTaskKind, Message
from vaarwater.core.models import Event
from vaarwater.portal.models import Consent
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


def test_the_page_shows_geldfit_and_the_municipality_of_the_postcode(client, debtor):
    page = client.get(url(link(debtor), "help")).content.decode()
    assert "0800-8115" in page and 'href="https://www.geldfit.nl"' in page
    assert "The municipality of Utrecht" in page
    assert "Schuldhulpverlening gemeente Utrecht" in page and 'href="tel:14030"' in page


def test_another_postcode_can_be_looked_up(client, debtor):
    """A postcode typed as '1011 AB' or '9711ab' finds Amsterdam or Groningen."""
    token = link(debtor)
    page = client.get(url(token, "help") + "?zoek-postcode=1011+AB").content.decode()
    assert "Postcode 1011AB: municipality of Amsterdam." in page
    page = client.get(url(token, "help") + "?zoek-postcode=9711ab").content.decode()
    assert "municipality of Groningen" in page


def test_a_postcode_in_a_region_without_a_row_says_so(client, debtor):
    page = client.get(url(link(debtor), "help") + "?zoek-postcode=4051AB").content.decode()
    assert "we do not know the debt help of the municipality" in page


@pytest.mark.parametrize("bad", ["12AB", "ABCD12", "0123 AB", "1234 SS", "1234-AB"])
def test_a_bad_postcode_gets_an_error(client, debtor, bad):
    response = client.get(url(link(debtor), "help"), {"zoek-postcode": bad})
    assert response.status_code == 200
    assert "Enter a postcode like 1234 AB." in errors_of(response)
    assert 'aria-invalid="true"' in response.content.decode()


def test_consent_is_stored_with_the_words_shown_and_can_be_withdrawn(client, debtor):
    """Ticking the box stores the exact text on the page; withdrawing ends it; both events."""
    token = link(debtor)
    page = client.get(url(token, "help")).content.decode()
    response = client.post(url(token, "help"), {"action": "consent", "consent-agree": "on"})
    assert response.status_code == 302
    consent = Consent.objects.get(debtor=debtor)
    assert consent.kind == Consent.MUNICIPALITY and consent.withdrawn_at is None
    assert consent.text in page
    assert "the municipality of Utrecht" in consent.text and debtor.creditor.name in consent.text
    assert Event.objects.filter(verb="consent.given", debtor=debtor).exists()
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page and "Withdraw my consent" in page
    client.post(url(token, "help"), {"action": "consent", "consent-agree": "on"})
    assert Consent.objects.count() == 1  # already given: no second row
    response = client.post(url(token, "help"), {"action": "withdraw"})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert Event.objects.filter(verb="consent.withdrawn", debtor=debtor).exists()


def test_consent_needs_the_box_ticked(client, debtor):
    response = client.post(url(link(debtor), "help"), {"action": "consent"})
    assert response.status_code == 200
    assert "Tick the box if you agree." in errors_of(response)
    assert not Consent.objects.exists()


def test_breathing_space_pauses_the_case_and_asks_an_agent_to_check(client, debtor, case):
    """Breathing space: a hold of 60 days, a task for an agent to check it with the
    organisation, an event and a confirmation."""
    token = link(debtor, case)
    response = client.post(
        url(token, "help"),
        {
            "action": "breathing",
            "adem-organisation": "Schuldhulp gemeente Utrecht",
            "adem-contact_person": "mevrouw De Boer",
        },
    )
    assert response.status_code == 302
    hold = Hold.objects.get(case=case)
    assert hold.kind == HoldKind.BREATHING_SPACE
    assert hold.until == timezone.localdate() + timedelta(days=59)
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    task = CallTask.objects.get(debtor=debtor)
    assert task.kind == CallTaskKind.PROBLEM and task.priority == 80
    assert "Schuldhulp gemeente Utrecht" in task.reason and "De Boer" in task.reason
    event = Event.objects.get(verb="breathing_space.requested", debtor=debtor)
    assert "adempauze" in event.reason and event.data["organisation"]
    assert Message.objects.filter(template="melding-ontvangen", purpose="confirmation").exists()
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page
    again = client.post(
        url(token, "help"), {"action": "breathing", "adem-organisation": "Iemand anders"}
    )
    assert again.status_code == 302
    assert Hold.objects.count() == 1 and CallTask.objects.count() == 1


def test_breathing_space_needs_the_organisation(client, debtor, case):
    response = client.post(url(link(debtor, case), "help"), {"action": "breathing"})
    assert "Tell us which municipality or organisation helps you." in errors_of(response)
    assert not Hold.objects.exists() and not CallTask.objects.exists()


def test_breathing_space_without_a_case_still_makes_a_task(client, debtor):
    client.post(
        url(link(debtor), "help"), {"action": "breathing", "adem-organisation": "Plangroep"}
    )
    assert not Hold.objects.exists()
    assert CallTask.objects.get(debtor=debtor).kind == CallTaskKind.PROBLEM


def test_an_unknown_action_changes_nothing(client, debtor):
    response = client.post(url(link(debtor), "help"), {"action": "dance"})
    assert response.status_code == 302
    assert not Consent.objects.exists() and not CallTask.objects.exists()
