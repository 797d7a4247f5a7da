"""Which letters cause questions: the chat's questions per template, for the creditor's staff."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vaarwater.contact.models import Message, MessageStatus
from vaarwater.portal.models import ChatQuestion
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401
from vaarwater.testing import login_verified

from .factories import agent_for

pytestmark = pytest.mark.django_db


def sent(debtor, template, channel="letter", n=1):
    now = timezone.now()
    return [
        Message.objects.create(
            creditor=debtor.creditor,
            debtor=debtor,
            channel=channel,
            template=template,
            not_before=now,
            sent_at=now - timedelta(days=1),
            status=MessageStatus.SENT,
            idempotency_key=f"{debtor.pk}-{template}-{channel}-{i}",
        )
        for i in range(n)
    ]


def asked(debtor, text, *, message=None, intent="", answered=None, days_ago=0):
    question = ChatQuestion.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        text=text,
        intent=intent,
        answered=bool(intent) if answered is None else answered,
        message=message,
        template=message.template if message else "",
    )
    if days_ago:
        ChatQuestion.objects.filter(pk=question.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return question


@pytest.fixture
def questions(creditor, other_creditor, make_debtor):  # noqa: F811
    mine = make_debtor()
    letter = sent(mine, "veertiendagenbrief", "letter", n=4)[0]
    email = sent(mine, "herinnering", "email", n=10)[0]
    asked(mine, "waarom incassokosten", message=letter, intent="why_costs")
    asked(mine, "wat kost dit", message=letter, intent="why_costs")
    asked(mine, "kan ik in termijnen", message=letter, intent="plan")
    asked(mine, "mijn hond is ziek", message=letter)
    asked(mine, "saldo", message=email, intent="balance")
    asked(mine, "hallo daar", intent="greeting")
    asked(mine, "heel oude vraag", message=letter, days_ago=200)
    theirs = make_debtor(on=other_creditor)
    their_letter = sent(theirs, "veertiendagenbrief", "letter")[0]
    asked(theirs, "geheime vraag van een ander", message=their_letter)
    return mine


def test_questions_are_counted_per_template_and_channel(client, creditor, questions):
    """Per template and channel: questions, answered, not answered, sent, per 100 sent and
    the top intents (by the FAQ's question); the unanswered list shows the latest."""
    login_verified(client, agent_for(creditor))
    response = client.get("/questions/")
    assert response.status_code == 200
    rows = {(r["template"], r["channel"]): r for r in response.context["rows"]}
    letter = rows[("veertiendagenbrief", "letter")]
    assert (letter["questions"], letter["answered"], letter["unanswered"]) == (4, 3, 1)
    assert letter["sent"] == 4 and letter["per_100"] == 100.0
    assert letter["top_intents"][0] == (
        "Wat zijn incassokosten en wanneer mogen die worden gerekend?",
        2,
    )
    email = rows[("herinnering", "email")]
    assert (email["questions"], email["sent"], email["per_100"]) == (1, 10, 10.0)
    assert rows[("", "")]["questions"] == 1  # asked without a message before it
    assert list(rows)[0] == ("veertiendagenbrief", "letter")  # most questions first
    unanswered = [q.text for q in response.context["unanswered"]]
    assert unanswered == ["mijn hond is ziek"]  # the 200-day-old one is outside 90 days
    text = response.content.decode()
    assert "mijn hond is ziek" in text and "geheime vraag" not in text


def test_a_longer_period_includes_older_questions(client, creditor, questions):
    login_verified(client, agent_for(creditor))
    response = client.get("/questions/?days=365")
    letter = next(r for r in response.context["rows"] if r["template"] == "veertiendagenbrief")
    assert letter["questions"] == 5


def test_an_agent_of_another_creditor_sees_only_their_own(
    client, creditor, other_creditor, questions
):
    """Tenant scoping: another creditor's agent sees their own question only, and cannot ask
    for this creditor's page."""
    login_verified(client, agent_for(other_creditor, username="ander"))
    response = client.get("/questions/")
    rows = response.context["rows"]
    assert [(r["template"], r["questions"]) for r in rows] == [("veertiendagenbrief", 1)]
    assert "waarom incassokosten" not in response.content.decode()
    assert [q.text for q in response.context["unanswered"]] == ["geheime vraag van een ander"]
    assert client.get("/questions/?creditor=ENERGIE").status_code == 404


def test_the_page_needs_a_login_and_escapes_the_questions(client, creditor, make_debtor):  # noqa: F811
    assert client.get("/questions/").status_code == 302
    debtor = make_debtor()
    asked(debtor, "<script>alert(1)</script>")
    login_verified(client, agent_for(creditor))
    text = client.get("/questions/").content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert 'href="/questions/"' in text and 'aria-current="page"' in text
