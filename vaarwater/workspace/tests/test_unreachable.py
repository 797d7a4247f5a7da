"""The worklist of debtors whom no channel reaches."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from vaarwater.contact.models import OptOut
from vaarwater.ledger.models import ContactPoint
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.testing import login_verified

from .factories import agent_for

pytestmark = pytest.mark.django_db


def test_only_debtors_without_any_valid_channel_are_listed(
    client,
    creditor,
    other_creditor,
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
):
    load_strategy()
    due = date(2026, 10, 1)
    reachable = make_debtor(due=due)
    no_channel = make_debtor(due=due, email=False, phone=None, street="")
    bounced = make_debtor(due=due, phone=None, street="")
    ContactPoint.objects.filter(debtor=bounced).update(invalid_since=timezone.now())
    opted = make_debtor(due=due, phone="+31201234567", street="")  # landline: no SMS
    OptOut.objects.create(
        creditor=creditor, debtor=opted, channel="email", source="t", since=timezone.now()
    )
    daily_run(run_date=due + timedelta(days=5))
    login_verified(client, agent_for(creditor))
    page = client.get("/contact/unreachable/")
    assert page.status_code == 200
    names = {d.name for d in page.context["page"]}
    assert names == {no_channel.name, bounced.name, opted.name}
    assert reachable.name not in page.content.decode()
    assert client.get("/contact/unreachable/?creditor=WONEN").status_code == 404


def test_the_worklist_needs_a_login(client):
    assert client.get("/contact/unreachable/").status_code == 302


def test_a_sent_message_shows_its_words_on_the_case_timeline(
    client,
    creditor,
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
):
    from vaarwater.contact.models import Message
    from vaarwater.contact.services import message_transition

    load_strategy()
    due = date(2026, 10, 1)
    make_debtor(due=due)
    daily_run(run_date=due + timedelta(days=5))
    message = Message.objects.get()
    Message.objects.filter(pk=message.pk).update(
        subject="Herinnering", body_text="Beste klant, betaal € 100,00.", rendered_at=timezone.now()
    )
    message.refresh_from_db()
    message_transition(message=message, to="sending", source="t", at=timezone.now())
    message_transition(message=message, to="sent", source="t", at=timezone.now())
    login_verified(client, agent_for(creditor))
    page = client.get(f"/cases/{message.case_id}/").content.decode()
    timeline = page[page.index('id="timeline"') : page.index('id="transitions"')]
    assert "Beste klant, betaal € 100,00." in timeline


def test_a_letter_pdf_is_shown_to_its_own_creditor_only(
    client,
    creditor,
    other_creditor,
    make_debtor,  # noqa: F811
    settings,
    tmp_path,
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from vaarwater.contact.models import Message

    settings.VAR_DIR = tmp_path
    sent_at = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    letter = Message.objects.create(
        creditor=creditor,
        debtor=make_debtor(),
        channel="letter",
        template="herinnering",
        not_before=sent_at,
        sent_at=sent_at,
        status="sent",
        idempotency_key="l1",
        provider_id="letter-1",
    )
    folder = tmp_path / "letters" / "2026-11-24"
    folder.mkdir(parents=True)
    (folder / f"{letter.pk}.pdf").write_bytes(b"%PDF-1.7 test")
    login_verified(client, agent_for(creditor))
    page = client.get(f"/messages/{letter.pk}/letter.pdf")
    assert page.status_code == 200 and page["Content-Type"] == "application/pdf"
    login_verified(client, agent_for(other_creditor, username="other"))
    assert client.get(f"/messages/{letter.pk}/letter.pdf").status_code == 404
