"""Intent matching for the chat: Dutch and English, typos, nonsense, and the shipped FAQ files."""

import json

import pytest

from vaarwater.portal.assist import THRESHOLD, Intent, Matcher, normalise, tokens
from vaarwater.portal.chat import BUILTIN, CASE_INTENTS, INTENT_LINKS, LINK_LABELS, TEXTS
from vaarwater.portal.faq import DATA_DIR, shipped_items


@pytest.fixture(scope="module")
def matcher():
    """The intents the chat knows with the shipped FAQ: both languages and the built-ins."""
    intents = [
        Intent(item.intent, (item.question, *item.keywords))
        for language in ("nl", "en")
        for item in shipped_items(language)
    ]
    return Matcher(intents + list(BUILTIN))


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("hoeveel moet ik nog betalen", "balance"),
        ("Hoevel moet ik nog betalen?", "balance"),  # typo
        ("wat moet ik betalen", "balance"),
        ("saldo", "balance"),
        ("How much do I owe?", "balance"),
        ("whats my balance", "balance"),
        ("waarom incassokosten", "why_costs"),
        ("waarom incasokosten?", "why_costs"),  # typo
        ("Waarom zijn er extra kosten?", "why_costs"),
        ("why were costs added", "why_costs"),
        ("Why is the amount higher?", "why_costs"),
        ("ik heb al betaald", "payment_received"),
        ("ik heb al betaalt", "payment_received"),  # d/t mistake
        ("I already paid", "payment_received"),
        ("i have allready paid", "payment_received"),  # typo
        ("kan ik in termijnen betalen", "plan"),
        ("kan ik in termijne betalen", "plan"),  # typo
        ("Can I pay in instalments?", "plan"),
        ("can i pay in installments", "plan"),
        ("betalingsregeling", "plan"),
        ("ik kan niet betalen", "cant_pay"),
        ("I can't pay", "cant_pay"),
        ("I dont have money", "cant_pay"),
        ("hoe kan ik betalen", "how_to_pay"),
        ("How can I pay?", "how_to_pay"),
        ("wat is jullie rekeningnummer", "how_to_pay"),
        ("wat is de volgende stap", "next_step"),
        ("what happens next?", "next_step"),
        ("ik wil iemand spreken", "talk_to_person"),
        ("can I talk to a human", "talk_to_person"),
        ("krijgt de gemeente mijn gegevens", "municipality"),
        ("is dit bericht echt of nep?", "phishing"),
        ("ik heb hulp nodig bij mijn schulden", "debt_help"),
        ("ik wil geen sms meer", "stop_messages"),
        ("wat is wettelijke rente", "interest"),
        ("kan ik volgende maand betalen", "defer"),
        ("de factuur klopt niet", "dispute"),
        ("ik ben het hier niet mee eens", "dispute"),
        ("waarom krijg ik deze brief", "why_letter"),
        ("ik ben verhuisd", "change_details"),
        ("hallo", "greeting"),
        ("dank je wel", "thanks"),
    ],
)
def test_questions_in_dutch_and_english_are_understood(matcher, question, intent):
    """Given the shipped intents, when a debtor asks in their own words (typos included),
    then the question is understood as the intended one."""
    match = matcher.best(question)
    assert match is not None, matcher.rank(question)[:3]
    assert match.intent == intent, matcher.rank(question)[:3]
    assert match.score >= THRESHOLD


@pytest.mark.parametrize(
    "question",
    [
        "Wat is de hoofdstad van Frankrijk?",
        "ik wil een pizza bestellen",
        "asdfghjkl",
        "what's the weather in Paris",
        "mijn hond is ziek",
        "kunnen jullie mijn auto repareren",
        "hoe gaat het met je",  # only question words in common with "hoe betaal ik"
        "?",
        "de",
        "",
    ],
)
def test_what_it_does_not_know_it_does_not_answer(matcher, question):
    """A question about something else scores below the threshold: no answer, no guess."""
    assert matcher.best(question) is None


def test_matching_is_deterministic():
    """The same question gets the same ranking and scores every time, whatever the order in
    which the intents were given."""
    intents = list(BUILTIN) + [
        Intent(item.intent, (item.question, *item.keywords))
        for language in ("nl", "en")
        for item in shipped_items(language)
    ]
    question = "waarom zijn er kosten bij gekomen?"

    def ranking(matcher):
        return [(m.intent, m.score) for m in matcher.rank(question)]

    forward = Matcher(intents)
    assert ranking(forward) == ranking(forward)
    assert ranking(forward) == ranking(Matcher(reversed(intents)))


def test_ties_are_broken_by_intent_name():
    """Two intents with the same phrasing: the first by name wins, always."""
    matcher = Matcher([Intent("b_second", ("saldo",)), Intent("a_first", ("saldo",))])
    assert matcher.best("saldo").intent == "a_first"


def test_text_is_normalised_for_both_languages():
    """Accents, punctuation and contractions go; stop words go; question words stay."""
    assert normalise("Één vraag: can't I PAY?") == "een vraag can not i pay"
    assert tokens("Waarom moet ik kosten betalen?") == ("warom", "kost", "betal")
    assert tokens("I don't have money") == ("not", "money")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_shipped_faq_is_complete(language):
    """Each shipped file has 15–25 entries with question, answer and keywords; both languages
    have the same intents; the debt-help line and the 14-day rule are there."""
    items = shipped_items(language)
    assert 15 <= len(items) <= 25
    assert all(item.intent and item.question and item.answer and item.keywords for item in items)
    intents = {item.intent for item in items}
    other = {item.intent for item in shipped_items("en" if language == "nl" else "nl")}
    assert intents == other
    # Every case-aware intent (besides small talk) has an entry to show in the FAQ too.
    assert CASE_INTENTS - {"greeting", "thanks"} <= intents
    assert set(INTENT_LINKS) <= intents
    text = json.dumps([item.answer for item in items], ensure_ascii=False)
    assert "0800-8115" in text
    assert "BSN" in text
    costs = next(item for item in items if item.intent == "why_costs").answer
    assert "14" in costs and ("ontvangen" in costs or "received" in costs)


def test_every_language_has_every_text_and_link_label():
    """The chat's own texts and link labels exist in Dutch and English alike."""
    assert set(TEXTS["nl"]) == set(TEXTS["en"])
    assert set(LINK_LABELS["nl"]) == set(LINK_LABELS["en"])
    assert {p for pages in INTENT_LINKS.values() for p in pages} <= set(LINK_LABELS["nl"])
    assert sorted(p.name for p in DATA_DIR.glob("faq.*.json")) == ["faq.en.json", "faq.nl.json"]
