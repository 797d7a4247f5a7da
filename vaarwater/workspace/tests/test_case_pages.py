"""The case pages: the list with filters, the case's header and its timeline, tenant isolation."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from vaarwater.contact.models import CallTask, Message
from vaarwater.ledger.models import Debtor
from vaarwater.strategy.models import CaseStatus, CaseTransition, Hold, HoldKind, LegalNotice
from vaarwater.testing import login_verified

from .factories import agent_for, case_create, event_create, version_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def agent(creditor):
    return agent_for(creditor)


@pytest.fixture
def version(creditor):
    return version_create(creditor)


@pytest.fixture
def case(version):
    """An open case, opened 20 days ago, with a hold, a letter, a message, a call and events."""
    case = case_create(version, step_index=1, last_decision_on=timezone.localdate())
    d0 = case.opened_on
    debtor = case.debtor
    Hold.objects.create(
        case=case,
        kind=HoldKind.DISPUTE,
        reason="Klant betwist de jaarafrekening",
        starts_on=d0 + timedelta(days=10),
        until=d0 + timedelta(days=40),
    )
    Hold.objects.create(
        case=case,
        kind=HoldKind.PROMISE,
        reason="Oude belofte, al afgelopen",
        starts_on=d0,
        until=d0 + timedelta(days=2),
        released_on=d0 + timedelta(days=2),
    )
    LegalNotice.objects.create(
        case=case,
        sent_on=d0 + timedelta(days=3),
        channel="letter",
        receipt_on=d0 + timedelta(days=5),
        term_ends_on=d0 + timedelta(days=19),
        principal_cents=100000,
        costs_cents=15000,
        wording="binnen 14 dagen na de dag van ontvangst",
    )
    CaseTransition.objects.create(
        case=case,
        from_status="",
        to_status=CaseStatus.OPEN,
        code="opened",
        reason="vervaldatum verstreken",
        on_date=d0,
        actor_label="vaarwater",
    )
    Message.objects.create(
        creditor=case.creditor,
        debtor=debtor,
        case=case,
        channel="email",
        template="herinnering-1",
        status="sent",
        not_before=datetime.combine(d0 + timedelta(days=1), time(9, 0), tzinfo=AMS),
        idempotency_key="m1",
    )
    CallTask.objects.create(
        creditor=case.creditor,
        debtor=debtor,
        case=case,
        window_start=datetime.combine(d0 + timedelta(days=6), time(9, 0), tzinfo=AMS),
        window_end=datetime.combine(d0 + timedelta(days=6), time(17, 0), tzinfo=AMS),
        reason="stap 3 van pad standaard",
        idempotency_key="c1",
    )
    event_create(debtor, "invoice.created", "VOOR-DE-ZAAK", on=d0 - timedelta(days=1))
    event_create(debtor, "case.opened", "REDEN-OPEN", on=d0)
    event_create(debtor, "decision.made", "REDEN-BESLUIT stap 1", on=d0 + timedelta(days=5))
    # No occurred_on: 23:30 UTC is already the next day in Amsterdam.
    late = datetime.combine(d0 + timedelta(days=7), time(23, 30), tzinfo=UTC)
    event_create(debtor, "portal.visited", "REDEN-KLOK", created_at=late, actor_label="")
    event_create(debtor, "hold.placed", "REDEN-PAUZE", on=d0 + timedelta(days=10))
    event_create(debtor, "payment.booked", "REDEN-MORGEN", on=timezone.localdate() + timedelta(1))
    other = Debtor.objects.create(creditor=case.creditor, external_id="X9", name="Ander")
    event_create(other, "decision.made", "ANDERE-KLANT", on=d0 + timedelta(days=5))
    return case


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})


def test_login_required(client):
    """Anonymous visitors are sent to the login page from every case page."""
    for url in ("/cases/", "/cases/1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_case_list_in_dutch(client, agent, case):
    """The list shows reference, debtor, status, segment, path, variant and steps, in Dutch."""
    login_verified(client, agent)
    html = client.get("/cases/").content.decode()
    assert "<h1>Dossiers</h1>" in html
    assert f'href="/cases/{case.pk}/"' in html and case.reference in html
    assert "Jan de Vries" in html and case.debtor.external_id in html
    assert "<td>open</td>" in html
    assert "overig" in html and "standaard" in html and "champion" in html
    assert '<td class="num">2</td>' in html  # step index 1 is the second step
    assert case.opened_on.isoformat() in html


def test_case_list_in_english(client, agent, case):
    login_verified(client, agent)
    english(client)
    html = client.get("/cases/").content.decode()
    assert "<h1>Cases</h1>" in html and "Next step" in html


def test_case_list_filters(client, agent, version, case):
    """Status and segment filters narrow the list; an unknown status is ignored."""
    closed = case_create(
        version,
        segment="kwetsbaar",
        path="zacht",
        status=CaseStatus.CLOSED,
        closed_on=timezone.localdate(),
        close_reason="paid",
    )
    login_verified(client, agent)
    html = client.get("/cases/?status=closed").content.decode()
    assert closed.reference in html and case.reference not in html
    html = client.get("/cases/?segment=overig").content.decode()
    assert case.reference in html and closed.reference not in html
    html = client.get("/cases/?status=nonsense").content.decode()
    assert case.reference in html and closed.reference in html
    assert '<option value="kwetsbaar">' in html


def test_case_list_paginates(client, agent, version):
    """Fifty cases to a page; the next page keeps the filters."""
    for _ in range(51):
        case_create(version)
    login_verified(client, agent)
    html = client.get("/cases/?status=open").content.decode()
    assert html.count('<td class="nowrap"><a href="/cases/') == 50
    assert "?status=open&amp;page=2" in html
    html = client.get("/cases/?status=open&page=2").content.decode()
    assert html.count('<td class="nowrap"><a href="/cases/') == 1


def test_case_list_is_scoped(client, agent, case, other_creditor):
    """An agent sees only their creditor's cases, and asking for another creditor is a 404."""
    hidden = case_create(version_create(other_creditor), segment="geheim-segment")
    login_verified(client, agent)
    html = client.get("/cases/").content.decode()
    assert f'href="/cases/{hidden.pk}/"' not in html and "geheim-segment" not in html
    assert client.get("/cases/?creditor=WONEN").status_code == 404


def test_case_detail_header_in_dutch(client, agent, case):
    """The header shows the case, its strategy, the active hold only and the 14-day letter."""
    login_verified(client, agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"Dossier {case.reference}: Jan de Vries" in html
    version = case.strategy_version
    assert version.label in html and f'href="/strategies/{version.pk}/' in html
    assert "champion" in html and "overig" in html and "standaard" in html
    assert "2 van 4: Veertiendagenbrief" in html
    # holds: the active one with kind, reason and until; not the released one
    assert "<td>betwisting</td>" in html and "Klant betwist de jaarafrekening" in html
    assert (case.opened_on + timedelta(days=40)).isoformat() in html
    assert "Oude belofte" not in html
    # the 14-day letter
    assert "Veertiendagenbrief" in html
    assert (case.opened_on + timedelta(days=19)).isoformat() in html
    assert "€ 150,00" in html
    # transitions, messages and call tasks
    assert "vervaldatum verstreken" in html
    assert "<code>herinnering-1</code>" in html and "verstuurd" in html
    assert "09:00–17:00" in html and "stap 3 van pad standaard" in html


def test_timeline_newest_first_within_the_case(client, agent, case):
    """Every event of the case, newest first with its reason; none from before or elsewhere."""
    login_verified(client, agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    timeline = html[html.index('id="timeline"') : html.index('id="transitions"')]
    # An open case shows what is dated after today too (days run ahead with run-day --date).
    order = ["REDEN-MORGEN", "REDEN-PAUZE", "REDEN-KLOK", "REDEN-BESLUIT stap 1", "REDEN-OPEN"]
    positions = [timeline.index(reason) for reason in order]
    assert positions == sorted(positions)
    assert "VOOR-DE-ZAAK" not in timeline
    assert "ANDERE-KLANT" not in timeline
    # created_at 23:30 UTC counts as the next day in Amsterdam
    clock_day = (case.opened_on + timedelta(days=8)).isoformat()
    assert clock_day in timeline[: timeline.index("REDEN-KLOK")][-400:]
    # verbs are humanised in Dutch; an unknown verb is shown as it is
    assert "Beslissing van de dagelijkse run" in timeline
    assert "Dossier geopend" in timeline
    assert "portal.visited" in timeline


def test_timeline_in_english(client, agent, case):
    login_verified(client, agent)
    english(client)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"Case {case.reference}: Jan de Vries" in html
    assert "Decision by the daily run" in html and "Case opened" in html
    assert "2 of 4: 14-day letter" in html
    assert "<td>dispute</td>" in html
    assert "€150.00" in html


def test_case_of_other_creditor_is_404(client, agent, other_creditor):
    """A case of another creditor is not found, even by its exact URL."""
    hidden = case_create(version_create(other_creditor))
    login_verified(client, agent)
    assert client.get(f"/cases/{hidden.pk}/").status_code == 404
    assert client.get("/cases/999999/").status_code == 404


def test_debtor_list_links_to_case(client, agent, case, creditor):
    """The debtor list links a debtor to their case; a debtor without one has none."""
    Debtor.objects.create(creditor=creditor, external_id="D99", name="Zonder Zaak")
    login_verified(client, agent)
    html = client.get("/").content.decode()
    assert f'<a href="/cases/{case.pk}/">{case.reference}</a>' in html
    row = html[html.index("Zonder Zaak") :]
    assert "<td>—</td>" in row[: row.index("</tr>")]


def test_agent_puts_a_case_on_hold_and_ends_it(client, creditor):
    """A member places a hold with a reason and until-date; it shows, then ends by hand."""
    case = case_create(version_create(creditor))
    user = agent_for(creditor)
    login_verified(client, user)
    until = timezone.localdate() + timedelta(days=10)
    response = client.post(
        f"/cases/{case.pk}/hold/",
        {"kind": "dispute", "reason": "factuur betwist", "until": until.isoformat()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    hold = Hold.objects.get(case=case)
    assert case.status == CaseStatus.HELD and hold.created_by == user.username
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "factuur betwist" in page
    response = client.post(f"/cases/{case.pk}/hold/{hold.pk}/end/", {"reason": "opgelost"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert CaseTransition.objects.filter(case=case).count() == 2


def test_hold_form_errors_are_shown_and_other_creditors_get_404(client, creditor, other_creditor):
    case = case_create(version_create(creditor))
    login_verified(client, agent_for(creditor))
    response = client.post(
        f"/cases/{case.pk}/hold/", {"kind": "dispute", "reason": "x", "until": "2000-01-01"}
    )
    assert response.status_code == 200
    assert "must not be before" in response.content.decode()
    other = case_create(version_create(other_creditor))
    response = client.post(
        f"/cases/{other.pk}/hold/", {"kind": "manual", "reason": "x", "until": "2030-01-01"}
    )
    assert response.status_code == 404
