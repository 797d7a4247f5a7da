"""The chat assistant's answers from the debtor's own case, its log per letter, and the
callback it plans when it cannot answer."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from vaarwater.contact.models import CallTask, Message, MessageStatus
from vaarwater.contact.rendering import format_day
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.core.money import format_eur
from vaarwater.law.calendar import add_business_days
from vaarwater.ledger.selectors import debtor_position
from vaarwater.ledger.services import payment_book
from vaarwater.portal.chat import chat_answer
from vaarwater.portal.models import ChatQuestion
from vaarwater.strategy.models import Case, CostCharge, HoldKind
from vaarwater.strategy.services import hold_place
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.strategy.tests.test_run import run_days

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def case(creditor, load_strategy, make_debtor):  # noqa: F811
    """A case whose 14-day letter ran out unpaid: costs and interest are booked."""
    creditor.iban = "NL91ABNA0417164300"
    creditor.phone = "050-1234567"
    creditor.save()
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=23456, due=today - timedelta(days=40), invoices=2)
    run_days(today - timedelta(days=36), today)
    return Case.objects.get(debtor=debtor)


@pytest.fixture
def fresh_case(creditor, load_strategy, make_debtor):  # noqa: F811
    """A case that has just opened: its first reminder is still to come."""
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=12345, due=today - timedelta(days=4))
    run_days(today - timedelta(days=1), today)
    return Case.objects.get(debtor=debtor)


def ask(case, text, language="nl", **kwargs):
    return chat_answer(debtor=case.debtor, case=case, text=text, language=language, **kwargs)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_balance_is_answered_from_the_debtors_own_ledger(case, language):
    """Asked what they owe, the debtor hears the balance of their ledger, formatted for their
    language, with its parts, and links to pay or choose a plan."""
    question = "hoeveel moet ik nog betalen" if language == "nl" else "How much do I owe?"
    answer = ask(case, question, language)
    balance = debtor_position(case.debtor).balance
    assert answer.intent == "balance" and answer.answered
    assert format_eur(balance, language=language) in answer.text
    costs = CostCharge.objects.get(case=case).amount_cents
    assert format_eur(costs, language=language) in answer.text
    assert [page for _, page in answer.links] == ["pay", "plan", "defer"]
    assert answer.link_urls("tok")[0][1] == "/p/tok/betalen/"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_why_costs_names_the_charge_and_the_letter_with_their_dates(case, language):
    """Asked why costs were added, the answer gives the amount booked, the day it was booked,
    and the 14-day letter that announced it: sent when, and when its term ended."""
    question = "waarom incassokosten" if language == "nl" else "why were costs added"
    answer = ask(case, question, language)
    charge = CostCharge.objects.select_related("notice").get(case=case)
    assert answer.intent == "why_costs"
    assert format_eur(charge.amount_cents, language=language) in answer.text
    assert format_day(charge.charged_on, language) in answer.text
    assert format_day(charge.notice.sent_on, language) in answer.text
    assert format_day(charge.notice.term_ends_on, language) in answer.text


def test_without_costs_the_answer_says_so(fresh_case):
    """No letter, no charge: the debtor hears that no collection costs were charged."""
    answer = ask(fresh_case, "waarom zijn er kosten bijgekomen?")
    assert answer.intent == "why_costs"
    assert "geen incassokosten" in answer.text


def test_the_next_step_comes_from_the_strategy_path(fresh_case):
    """The next step is the case's next step on its path, with its day, in plain words."""
    answer = ask(fresh_case, "wat is de volgende stap")
    assert answer.intent == "next_step"
    due = fresh_case.anchor_due + timedelta(days=5)  # BASIC: a reminder 5 days after the due date
    assert "herinnering per e-mail" in answer.text
    assert format_day(due, "nl") in answer.text or "binnenkort" in answer.text
    english = ask(fresh_case, "what happens next?", "en")
    assert "a reminder by email" in english.text


def test_a_paused_case_says_until_when_and_why(fresh_case):
    """On hold, the next step is: nothing until the hold ends, and why, without internal notes."""
    until = date.today() + timedelta(days=10)
    hold_place(
        case=fresh_case,
        kind=HoldKind.DEFERRAL,
        reason="interne notitie",
        until=until,
        on=date.today(),
        actor=Actor.system(),
    )
    answer = ask(fresh_case, "wat gebeurt er nu")
    assert format_day(until, "nl") in answer.text
    assert "uitstel" in answer.text
    assert "interne notitie" not in answer.text


def test_how_to_pay_gives_ideal_and_the_bank_transfer_with_the_reference(case):
    """How to pay: iDEAL through the pay page, or a transfer to the creditor's IBAN with the
    case reference."""
    answer = ask(case, "How can I pay?", "en")
    assert answer.intent == "how_to_pay"
    assert "NL91 ABNA 0417 1643 00" in answer.text
    assert case.reference in answer.text
    assert ("Pay", "pay") in answer.links


def test_payment_received_gives_the_latest_payment(case):
    """After a payment, 'I already paid' is answered with its date and amount."""
    paid_on = date.today() - timedelta(days=1)
    payment_book(
        debtor=case.debtor,
        external_id="B1",
        date=paid_on,
        amount_cents=5000,
        reference=case.reference,
        actor=Actor.system(),
    )
    answer = ask(case, "ik heb al betaald")
    assert answer.intent == "payment_received"
    assert format_day(paid_on, "nl") in answer.text and "€ 50,00" in answer.text


def test_an_unknown_question_is_logged_unanswered_and_offers_a_callback(case):
    """A question it cannot answer: it says so, offers a callback, logs it as not answered."""
    answer = ask(case, "Wat is de hoofdstad van Frankrijk?")
    assert not answer.answered and answer.offer_callback
    assert ("Bel mij terug", "callback") in answer.links
    assert answer.callback is None
    logged = ChatQuestion.objects.get()
    assert (logged.answered, logged.intent, logged.text) == (
        False,
        "",
        "Wat is de hoofdstad van Frankrijk?",
    )
    assert Event.objects.filter(verb="portal.chat_question", debtor=case.debtor).count() == 1


def test_two_unanswered_questions_plan_a_priority_call_for_the_next_business_day(case):
    """The second question it cannot answer in a conversation plans a chat call task: priority
    70, the next business day 09:00-17:00 in Amsterdam, once per debtor per day, with the
    questions in its reason; the debtor is told."""
    first = ask(case, "mijn hond is ziek")
    second = ask(
        case, "kunnen jullie mijn auto repareren", earlier_unanswered=[first.question.text]
    )
    task = second.callback
    assert task is not None and task.kind == "chat" and task.priority == 70
    day = add_business_days(timezone.localdate(), 1)
    assert task.window_start == datetime.combine(day, time(9), TZ)
    assert task.window_end == datetime.combine(day, time(17), TZ)
    assert "mijn hond is ziek" in task.reason and "auto repareren" in task.reason
    assert format_day(day, "nl") in second.text
    third = ask(
        case,
        "ik wil een pizza bestellen",
        earlier_unanswered=["mijn hond is ziek", "kunnen jullie mijn auto repareren"],
    )
    assert third.callback.pk == task.pk
    assert CallTask.objects.filter(kind="chat").count() == 1
    assert "pizza" in CallTask.objects.get(kind="chat").reason
    events = Event.objects.filter(verb="call_task.created", subject_id=task.pk)
    assert events.filter(subject_type="contact.calltask").count() == 1


def test_the_question_is_logged_with_the_last_message_sent_before_it(case):
    """The log keeps the newest message sent to the debtor before the question (not one still
    queued, not a verification code), so the creditor sees which letter caused it."""
    now = timezone.now()
    Message.objects.all().delete()

    def message(template, sent_minutes_ago, **extra):
        sent = now - timedelta(minutes=sent_minutes_ago) if sent_minutes_ago is not None else None
        return Message.objects.create(
            creditor=case.creditor,
            debtor=case.debtor,
            case=case,
            channel=extra.pop("channel", "email"),
            template=template,
            not_before=now - timedelta(days=1),
            sent_at=sent,
            status=MessageStatus.SENT if sent else MessageStatus.QUEUED,
            idempotency_key=f"t-{template}",
            **extra,
        )

    message("herinnering", 600)
    letter = message("veertiendagenbrief", 60, channel="letter")
    message("verificatiecode", 5, purpose="verify")
    message("aanmaning", None)  # still queued
    ask(case, "waarom incassokosten")
    logged = ChatQuestion.objects.get()
    assert (logged.message_id, logged.template) == (letter.pk, "veertiendagenbrief")
    assert logged.intent == "why_costs" and logged.answered


def test_a_debtor_without_messages_is_logged_without_a_template(fresh_case):
    Message.objects.all().delete()
    ask(fresh_case, "saldo")
    assert ChatQuestion.objects.get().template == ""


def test_greetings_and_thanks_are_answered_politely(case):
    assert ask(case, "hallo").intent == "greeting"
    assert "Graag gedaan" in ask(case, "dank je wel").text
