"""The message-template pages: the list per creditor, a preview with a sample customer, saving
an own text (checked in the sandbox), restoring the default, tenant isolation."""

import html

import pytest

from vaarwater.contact.models import MessageTemplate
from vaarwater.contact.rendering import CHANNELS, LANGUAGES, TEMPLATE_KEYS
from vaarwater.core.models import Event
from vaarwater.testing import login_verified

from .factories import agent_for

pytestmark = pytest.mark.django_db

DETAIL = "/templates/veertiendagenbrief/letter/nl/"


@pytest.fixture
def agent(creditor):
    """Changing templates is for the creditor's administrators."""
    return agent_for(creditor, role="administrator")


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})


def test_login_required(client):
    """Anonymous visitors are sent to the login page, and can change nothing."""
    for url in ("/templates/", DETAIL):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    response = client.post(DETAIL, {"body": "x", "action": "save"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(DETAIL + "restore/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not MessageTemplate.objects.exists()


def test_list_shows_every_key_channel_and_language(client, agent, creditor):
    """The list has a link for every key × channel × language, marking the creditor's own."""
    MessageTemplate.objects.create(
        creditor=creditor, key="herinnering", channel="sms", language="en", body="Hi {{ name }}"
    )
    login_verified(client, agent)
    english(client)
    page = client.get("/templates/").content.decode()
    assert "<h1>Message templates</h1>" in page
    for key in TEMPLATE_KEYS:
        for channel in CHANNELS:
            for language in LANGUAGES:
                assert f"/templates/{key}/{channel}/{language}/?creditor=ENERGIE" in page
    assert page.count('<span class="badge">own text</span>') == 1
    assert page.count(">shipped default<") == len(TEMPLATE_KEYS) * 4 * 2 - 1
    assert 'href="/templates/" aria-current="page"' in page


def test_preview_of_the_14_day_letter(client, agent):
    """The page previews the letter for a sample customer with the legal wording and the exact
    costs, lists the variables, and offers the shipped text for editing."""
    login_verified(client, agent)
    response = client.get(DETAIL)
    assert response.status_code == 200
    page = response.content.decode()
    preview = html.unescape(page)
    assert "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief" in preview
    assert "Die kosten zijn € 40,00." in preview
    assert '<iframe title="' in page and 'sandbox=""' in page
    assert "{{ costs_incl_vat }}" in preview and "{{ term_wording }}" in preview
    assert 'name="body"' in page and "Betaal {{ principal }} {{ term_wording }}." in preview


def test_sms_preview_counts_parts(client, agent):
    """An SMS preview shows the text and how many SMS parts it needs."""
    login_verified(client, agent)
    english(client)
    page = html.unescape(client.get("/templates/herinnering/sms/en/").content.decode())
    assert "Energie Noord BV: Dear Jan de Vries, you still have to pay EUR 245.50." in page
    assert "SMS parts (GSM-7)" in page
    assert 'name="subject"' not in page


def test_other_creditor_is_404(client, agent, other_creditor):
    """Another creditor's templates cannot be seen, saved or restored."""
    login_verified(client, agent)
    assert client.get("/templates/?creditor=WONEN").status_code == 404
    assert client.get(DETAIL + "?creditor=WONEN").status_code == 404
    response = client.post(
        "/templates/herinnering/sms/nl/",
        {"creditor": "WONEN", "body": "Hoi {{ name }}", "action": "save"},
    )
    assert response.status_code == 404
    MessageTemplate.objects.create(
        creditor=other_creditor, key="herinnering", channel="sms", language="nl", body="Hoi"
    )
    response = client.post("/templates/herinnering/sms/nl/restore/", {"creditor": "WONEN"})
    assert response.status_code == 404
    assert MessageTemplate.objects.filter(creditor=other_creditor).count() == 1


def test_unknown_template_is_404(client, agent):
    """Only the listed keys, channels and languages have a page."""
    login_verified(client, agent)
    assert client.get("/templates/bestaat-niet/sms/nl/").status_code == 404
    assert client.get("/templates/herinnering/fax/nl/").status_code == 404
    assert client.get("/templates/herinnering/sms/de/").status_code == 404


def test_save_and_restore_default(client, agent, creditor):
    """Saving stores the creditor's own text with an event and shows it in the preview;
    restoring deletes it and the shipped default shows again."""
    login_verified(client, agent)
    english(client)
    url = "/templates/herinnering/email/nl/"
    response = client.post(
        url,
        {
            "creditor": "ENERGIE",
            "subject": "Even herinneren: {{ claim }}",
            "body": "Hallo {{ name }},\r\n\r\nBetaal {{ claim }} via {{ payment_url }}",
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url + "?creditor=ENERGIE"
    row = MessageTemplate.objects.get(creditor=creditor)
    assert (row.key, row.channel, row.language) == ("herinnering", "email", "nl")
    assert row.subject == "Even herinneren: {{ claim }}" and row.updated_by == "agent"
    event = Event.objects.get(verb="message_template.saved")
    assert event.actor_user_id == agent.pk and event.creditor_id == creditor.pk
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "Your own text is saved" in page
    assert "Even herinneren: € 245,50" in page
    assert "Hallo Jan de Vries," in page
    assert "Restore the shipped default" in page

    response = client.post(url + "restore/", {"creditor": "ENERGIE"})
    assert response.status_code == 302
    assert not MessageTemplate.objects.exists()
    assert Event.objects.filter(verb="message_template.restored").count() == 1
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "Herinnering: wilt u € 245,50 betalen?" in page
    assert "Restore the shipped default" not in page


def test_forbidden_tag_is_shown_next_to_the_field(client, agent):
    """A refused text is not stored; the reason is shown next to the text field."""
    login_verified(client, agent)
    english(client)
    response = client.post(
        "/templates/herinnering/sms/nl/",
        {"creditor": "ENERGIE", "body": "{% load static %}{{ name }}", "action": "save"},
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'id="id_body-errors"' in page
    assert "{% load %} is not allowed" in page
    assert 'aria-invalid="true"' in page
    assert "{% load static %}{{ name }}</textarea>" in page
    assert not MessageTemplate.objects.exists()


def test_preview_draft_does_not_save(client, agent):
    """'Preview draft' renders the edited text for the sample customer without storing it."""
    login_verified(client, agent)
    english(client)
    response = client.post(
        "/templates/herinnering/whatsapp/en/",
        {"creditor": "ENERGIE", "body": "Hi {{ name }}, see {{ portal_url }}", "action": "preview"},
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Preview of your draft (not saved)" in page
    assert "Hi Jan de Vries, see http" in page
    assert not MessageTemplate.objects.exists()


def test_an_agent_cannot_change_templates(client, creditor):
    """Agents read the templates; saving or restoring one is for administrators (403)."""
    login_verified(client, agent_for(creditor, "gewoon"))
    url = DETAIL
    assert client.get(url).status_code == 200
    response = client.post(url, {"subject": "x", "body": "y", "action": "save"})
    assert response.status_code == 403
    assert client.post(url + "restore/").status_code == 403
