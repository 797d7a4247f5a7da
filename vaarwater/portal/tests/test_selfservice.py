"""Self-service pages in general: every page needs the personal link and renders, in Dutch and
English, also for a debtor without a case or contact details. Fixtures for the other
``test_selfservice_*`` modules live here."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from vaarwater.contact.rendering import sample_render
from vaarwater.ledger.models import Debtor
from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = pytest.mark.django_db

STRATEGY = """
strategy: test
title: Teststrategie
settings:
  grace_days: 3
  payday_window_days: 0
  contact_caps: {{per_day: 1, per_week: 5}}
  contact_hours: {{start: "{start}", end: "{end}"}}
  portal:
    deferral_max_days: {max_days}
    deferrals_per_case: {per_case}
    problem_holds: {{dispute: 30, contact: 0, cant_pay: 14}}
segments:
  - name: alle
    label: Alle klanten
    path: standaard
paths:
  standaard:
    - {{step: message, channel: email, template: herinnering, day: 5, after: due_date}}
"""

PAGES = ["defer", "plan", "problem", "help", "details", "callback"]
PATHS = {
    "defer": "uitstel",
    "plan": "regeling",
    "problem": "probleem",
    "help": "hulp",
    "details": "gegevens",
    "callback": "terugbellen",
}


def strategy_text(*, max_days=35, per_case=1, start="08:00", end="20:00"):
    return STRATEGY.format(max_days=max_days, per_case=per_case, start=start, end=end)


@pytest.fixture
def open_case(load_strategy):  # noqa: F811
    """Open a case for a debtor on a strategy with the given portal policy."""

    def make(debtor, **policy):
        version = load_strategy(strategy_text(**policy))
        today = timezone.localdate()
        return Case.objects.create(
            creditor=debtor.creditor,
            debtor=debtor,
            opened_on=today - timedelta(days=10),
            strategy_version=version,
            variant_draw=Decimal("1.0000"),
            segment="alle",
            path="standaard",
            anchor_due=today - timedelta(days=20),
        )

    return make


@pytest.fixture
def debtor(make_debtor):  # noqa: F811
    """A debtor in Utrecht with an overdue invoice of € 123,45, an email and a mobile number."""
    debtor = make_debtor(amount=12345, due=timezone.localdate() - timedelta(days=20))
    Debtor.objects.filter(pk=debtor.pk).update(postcode="3511AB")
    debtor.refresh_from_db()
    return debtor


@pytest.fixture
def case(debtor, open_case):
    return open_case(debtor)


def link(debtor, case=None):
    return access_token_issue(
        creditor_id=debtor.creditor_id, debtor_id=debtor.pk, case_id=case.pk if case else None
    )


def url(token, page, extra=""):
    return f"/p/{token}/{PATHS[page]}/{extra}"


def errors_of(response) -> str:
    """The text of the error list(s) on a page."""
    html = response.content.decode()
    return " ".join(re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', html, re.S))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_debtor_without_case_or_contact_details(client, creditor, page):
    """A debtor with nothing open, no case, no address and no contact points gets every page."""
    bare = Debtor.objects.create(creditor=creditor, external_id="LEEG", name="Lege Klant")
    token = link(bare)
    for language in ("nl", "en"):
        client.cookies["django_language"] = language
        response = client.get(url(token, page))
        assert response.status_code == 200, (page, language)
        html = response.content.decode()
        assert f'<html lang="{language}">' in html
        assert html.count("<h1>") == 1
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_a_case(client, debtor, case, page):
    """With an open case and contact details every page renders and has a heading."""
    response = client.get(url(link(debtor, case), page))
    assert response.status_code == 200
    assert "<h1>" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_needs_a_valid_personal_link(client, debtor, page):
    """A forged link gets the calm 'link does not work' page, for reading and for posting."""
    token = link(debtor)
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert client.get(url(forged, page)).status_code == 404
    assert client.post(url(forged, page), {"action": "x"}).status_code == 404


def test_ids_on_a_page_are_unique(client, debtor, case):
    """Every id appears once on a page (several forms share the details and help pages)."""
    token = link(debtor, case)
    for page in PAGES:
        html = client.get(url(token, page)).content.decode()
        ids = re.findall(r'\sid="([^"]+)"', html)
        duplicates = {i for i in ids if ids.count(i) > 1}
        assert not duplicates, (page, duplicates)


def test_every_input_has_a_label(client, debtor, case):
    """Each visible input, select and textarea has a label that points at it (or wraps it)."""
    token = link(debtor, case)
    for page in PAGES:
        html = client.get(url(token, page)).content.decode()
        fields = re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
        for field in fields:
            if 'type="hidden"' in field or 'type="submit"' in field:
                continue
            found = re.search(r'\sid="([^"]+)"', field)
            assert found, (page, field)
            wrapped = (
                re.search(r"<label[^>]*>\s*" + re.escape(field), html)
                or f'for="{found.group(1)}"' in html
            )
            assert wrapped, (page, field)


def test_plan_page_explains_how_to_get_a_plan(client, debtor, case):
    """Until the debtor can make a plan in the portal, the page says how to get one and shows
    the creditor's phone and email, with a callback button and the 'I can't pay' form."""
    creditor = debtor.creditor
    creditor.phone, creditor.email = "088-1234567", "incasso@example.nl"
    creditor.save()
    token = link(debtor, case)
    html = client.get(url(token, "plan")).content.decode()
    assert "088-1234567" in html and "mailto:incasso@example.nl" in html
    assert f'href="/p/{token}/terugbellen/"' in html
    assert f'href="/p/{token}/probleem/?soort=cant_pay"' in html
    assert "0800-8115" in html


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "letter"])
def test_the_code_message_carries_no_personal_link(creditor, channel, language):
    """The code goes to an address that is not confirmed yet: it says who sends it and the
    code, but neither the debtor's name nor a link to their personal page."""
    content = sample_render(
        creditor=creditor, key="verificatiecode", channel=channel, language=language
    )
    assert "123456" in content.text
    assert creditor.name in content.text
    assert "/p/" not in content.text and "Jan de Vries" not in content.text


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("key", ["uitstel-herinnering", "melding-ontvangen"])
@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "letter"])
def test_the_portal_messages_render(creditor, key, channel, language):
    """The deferral reminder and the confirmation render with their variables in every channel
    and language, with the personal link."""
    content = sample_render(creditor=creditor, key=key, channel=channel, language=language)
    assert "[[ONGELDIG" not in content.text
    assert content.portal_url in content.text
    if key == "uitstel-herinnering":
        assert re.search(r"\d{1,2} \w+ \d{4}", content.text)  # the day it is due
    else:
        assert "F-1001" in content.text
