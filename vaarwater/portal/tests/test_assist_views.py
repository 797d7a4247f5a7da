"""The FAQ page with its search and the chat, without JavaScript, in Dutch and English."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from vaarwater.contact.models import CallTask
from vaarwater.core.money import format_eur
from vaarwater.ledger.selectors import debtor_position
from vaarwater.portal.models import ChatQuestion
from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.strategy.tests.test_run import run_days

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(load_strategy, make_debtor):  # noqa: F811
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=23456, due=today - timedelta(days=40))
    run_days(today - timedelta(days=36), today)
    return Case.objects.get(debtor=debtor)


@pytest.fixture
def token(case):
    return access_token_issue(
        creditor_id=case.creditor_id, debtor_id=case.debtor_id, case_id=case.pk
    )


def page(client, token, query="", language=None):
    if language:
        client.cookies["django_language"] = language
    url = reverse("portal:faq", args=[token]) + (f"?q={query}" if query else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "question"),
    [("nl", "Wat zijn incassokosten"), ("en", "What are collection costs")],
)
def test_the_faq_page_lists_the_questions_in_the_page_language(client, token, language, question):
    text = page(client, token, language=language)
    assert f'lang="{language}"' in text
    assert question in text
    assert 'role="search"' in text and 'for="faq-q"' in text
    assert 'for="chat-question"' in text


def test_a_search_shows_the_matching_questions_first_and_open(client, token):
    text = page(client, token, query="termijnen")
    assert 'role="status"' in text
    first = text.index("<details")
    assert "Kan ik in termijnen betalen?" in text[first : text.index("</details>", first)]
    assert text[first:].startswith("<details id=") and " open>" in text[first : first + 60]


def test_a_question_is_answered_on_the_faq_page_after_a_redirect(client, token, case):
    """Post, redirect, get: the conversation shows the question and an answer with the
    balance and real links to the portal's pages."""
    url = reverse("portal:chat", args=[token])
    response = client.post(url, {"question": "hoeveel moet ik nog betalen"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:faq", args=[token]) + "#antwoord"
    text = page(client, token)
    balance = format_eur(debtor_position(case.debtor).balance, language="nl")
    assert "hoeveel moet ik nog betalen" in text and balance in text
    assert f'<a href="{reverse("portal:pay", args=[token])}"' in text
    assert ChatQuestion.objects.get().intent == "balance"


def test_the_conversation_answers_in_english_on_the_english_page(client, token, case):
    client.cookies["django_language"] = "en"
    client.post(reverse("portal:chat", args=[token]), {"question": "How much do I owe?"})
    text = page(client, token)
    assert format_eur(debtor_position(case.debtor).balance, language="en") in text
    assert ChatQuestion.objects.get().language == "en"


def test_the_question_is_escaped(client, token):
    """A question with markup is shown as text, never run."""
    client.post(
        reverse("portal:chat", args=[token]),
        {"question": '<script>alert("x")</script><img src=x onerror=alert(1)>'},
    )
    text = page(client, token)
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert ChatQuestion.objects.get().answered is False


def test_an_empty_question_gets_an_error_linked_to_the_field(client, token):
    response = client.post(reverse("portal:chat", args=[token]), {"question": "   "})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'role="alert"' in text and 'id="chat-question-error"' in text
    assert 'aria-describedby="chat-question-help chat-question-error"' in text
    assert 'aria-invalid="true"' in text
    assert not ChatQuestion.objects.exists()


def test_two_unanswered_questions_plan_a_callback_and_the_debtor_is_told(client, token):
    url = reverse("portal:chat", args=[token])
    client.post(url, {"question": "mijn hond is ziek"})
    assert not CallTask.objects.filter(kind="chat").exists()
    text = page(client, token)
    assert reverse("portal:callback", args=[token]) in text
    client.post(url, {"question": "wie heeft de wereldcup gewonnen"})
    task = CallTask.objects.get(kind="chat")
    assert "mijn hond is ziek" in task.reason and "wereldcup" in task.reason
    assert "belt u op" in page(client, token)


def test_the_conversation_can_start_again(client, token):
    url = reverse("portal:chat", args=[token])
    client.post(url, {"question": "saldo"})
    assert 'class="chat"' in page(client, token)
    client.post(url, {"action": "clear"})
    assert 'class="chat"' not in page(client, token)
    assert client.get(url).status_code == 302  # the chat's address is only for posting


def test_a_bad_link_gets_the_calm_404(client):
    assert client.get(reverse("portal:faq", args=["x" * 32])).status_code == 404
    assert (
        client.post(reverse("portal:chat", args=["x" * 32]), {"question": "a"}).status_code == 404
    )
