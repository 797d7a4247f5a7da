"""The strategy pages: versions per creditor, one version in readable form, tenant isolation."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from vaarwater.testing import login_verified

from .factories import SOURCE, agent_for, case_create, version_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(creditor):
    return agent_for(creditor)


@pytest.fixture
def versions(creditor):
    """Version 1 applies since long ago, version 2 from today, version 3 only from next week."""
    today = timezone.localdate()
    v1 = version_create(creditor, tag="A", valid_from=today - timedelta(days=100), shipped=True)
    v2 = version_create(creditor, tag="B", valid_from=today)
    v3 = version_create(creditor, tag="C", valid_from=today + timedelta(days=7))
    case_create(v1)
    case_create(v1)
    case_create(v2)
    return v1, v2, v3


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})


def row_of(html: str, marker: str) -> str:
    """The table row of the page that contains ``marker``."""
    start = html.rindex("<tr", 0, html.index(marker))
    return html[start : html.index("</tr>", start)]


def test_login_required(client):
    """Anonymous visitors are sent to the login page from every strategy page."""
    for url in ("/strategies/", "/strategies/1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_list_newest_first_marks_current_in_dutch(client, agent, versions):
    """Versions are listed newest first with their case counts; the one for today is current."""
    v1, v2, v3 = versions
    login_verified(client, agent)
    html = client.get("/strategies/").content.decode()
    assert "<h1>Strategieën</h1>" in html
    assert "<h2" in html and "Energie Noord BV" in html
    assert html.index("Energie standaard C") < html.index("Energie standaard B")
    assert html.index("Energie standaard B") < html.index("Energie standaard A")
    current = row_of(html, "Energie standaard B")
    assert "huidige" in current
    assert "huidige" not in row_of(html, "Energie standaard C")
    assert "huidige" not in row_of(html, "Energie standaard A")
    assert "meegeleverd" in row_of(html, "Energie standaard A")
    assert '<td class="num">2</td>' in row_of(html, "Energie standaard A")
    assert "beheerder" in current


def test_list_in_english(client, agent, versions):
    """With English chosen, the list's headings and marks are English."""
    login_verified(client, agent)
    english(client)
    html = client.get("/strategies/").content.decode()
    assert "<h1>Strategies</h1>" in html
    assert "current" in row_of(html, "Energie standaard B")
    assert "Applies from" in html


def test_list_shows_only_own_creditor(client, agent, versions, other_creditor):
    """An agent never sees another creditor's versions; a superuser sees every creditor."""
    version_create(other_creditor, title="Wonen geheim")
    login_verified(client, agent)
    html = client.get("/strategies/").content.decode()
    assert "Wonen geheim" not in html and "Woonstichting Zuid" not in html
    boss = get_user_model().objects.create_superuser("boss", password="pw-boss-123")
    login_verified(client, boss)
    html = client.get("/strategies/").content.decode()
    assert "Wonen geheim" in html and "Energie standaard B" in html


def test_detail_renders_document_in_dutch(client, agent, versions):
    """One version shows settings, segments with readable conditions, steps, challengers, YAML."""
    v1, v2, _ = versions
    login_verified(client, agent)
    html = client.get(f"/strategies/{v2.pk}/").content.decode()
    assert "Energie standaard B" in html and "huidige" in html
    # settings
    assert "Contactlimiet" in html and "1 per dag, 2 per week" in html
    assert "€ 50,00" in html  # handover_min_balance, 5000 cents
    # segments, conditions in words
    assert "Kwetsbare klanten" in html
    assert "dagen achterstand van 10 tot en met 30" in html
    assert "saldo minstens € 500,00" in html
    assert "kwetsbaar" in html
    assert "elk dossier (geen voorwaarden)" in html
    assert 'href="#path-zacht"' in html
    # steps in order, with kind, offset and anchor, channel/template and label
    standard = html[html.index('id="path-standaard"') :]
    assert standard.index("Eerste herinnering") < standard.index("Veertiendagenbrief")
    assert standard.index("Veertiendagenbrief") < standard.index("Bellen")
    assert "3 dagen na de vervaldatum" in standard
    assert "7 dagen na de vorige stap" in standard
    assert "<code>herinnering-1</code>" in standard
    assert "tussen 09:00 en 17:00" in standard
    assert "Incassokosten in rekening brengen" in standard
    assert "14 dagen" in html and "reden: rust voor de klant" in html
    # challengers and the champion's share
    assert "sms-eerst" in html and "12.5%" in html and "87.5%" in html
    assert "herinnering-sms" in html
    # the source as loaded
    assert "<pre><code>" in html and "# bron-yaml-markering" in html
    assert SOURCE.splitlines()[0] in html


def test_detail_in_english(client, agent, versions):
    """With English chosen, the readable document is English."""
    _, v2, _ = versions
    login_verified(client, agent)
    english(client)
    html = client.get(f"/strategies/{v2.pk}/").content.decode()
    assert "1 a day, 2 a week" in html
    assert "days past due from 10 to 30" in html
    assert "balance at least €500.00" in html
    assert "3 days after the due date" in html
    assert "14-day letter" in html
    assert "every case (no conditions)" in html


def test_detail_of_other_creditor_is_404(client, agent, other_creditor):
    """A version of another creditor is not found, even by its exact URL."""
    hidden = version_create(other_creditor)
    login_verified(client, agent)
    assert client.get(f"/strategies/{hidden.pk}/").status_code == 404
    assert client.get("/strategies/999999/").status_code == 404


def test_detail_survives_unknown_keys(client, agent, creditor):
    """A document with a field this page does not know still renders, showing it as is."""
    document = {
        "strategy": "nieuw",
        "title": "Nieuw",
        "settings": {"toekomst_instelling": 7},
        "segments": [
            {"name": "alles", "label": "Alles", "when": {"nieuw_feit": True}, "path": "p"}
        ],
        "paths": {"p": [{"step": "teleport", "day": 1, "label": "Straal"}]},
    }
    version = version_create(creditor, document=document)
    login_verified(client, agent)
    html = client.get(f"/strategies/{version.pk}/").content.decode()
    assert "toekomst_instelling" in html and "nieuw_feit: ja" in html
    assert "Teleport" in html and "Straal" in html
