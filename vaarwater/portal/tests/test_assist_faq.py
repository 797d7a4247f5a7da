"""The FAQ per creditor: shipped by default, a creditor's own from a JSON file, searchable,
exported in the same format; loader errors name the file, the entry and the field."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from vaarwater.core.models import Event
from vaarwater.portal.chat import chat_answer
from vaarwater.portal.faq import FaqInvalid, faq_export, faq_for, faq_parse, shipped_items
from vaarwater.portal.models import FaqEntry
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401

pytestmark = pytest.mark.django_db

OWN = {
    "language": "nl",
    "entries": [
        {
            "intent": "opening_hours",
            "question": "Wanneer is de klantenservice open?",
            "answer": "Wij zijn op werkdagen open van 8 tot 18 uur.",
            "keywords": ["openingstijden", "wanneer zijn jullie open", "bereikbaar"],
        },
        {
            "intent": "how_to_pay",
            "question": "Hoe betaal ik aan Energie Noord?",
            "answer": "Betaal met iDEAL of maak het over.",
            "keywords": ["hoe betaal ik"],
        },
    ],
}


def write(tmp_path, data, name="faq.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_the_shipped_faq_is_loaded_once_when_first_needed(creditor):
    """No rows at first; the first look stores the shipped file's entries (creditor empty),
    and later looks reuse them."""
    assert not FaqEntry.objects.exists()
    entries = faq_for(creditor, "nl")
    assert [e.question for e in entries] == [i.question for i in shipped_items("nl")]
    count = FaqEntry.objects.filter(creditor__isnull=True, language="nl").count()
    assert count == len(entries)
    faq_for(creditor, "nl")
    assert FaqEntry.objects.count() == count  # not loaded twice


@pytest.mark.parametrize(
    ("language", "query", "intent"),
    [
        ("nl", "incasso", "why_costs"),
        ("nl", "termijnen", "plan"),
        ("nl", "gemeente", "municipality"),
        ("en", "instalments", "plan"),
        ("en", "phishing", "phishing"),
        ("en", "collection costs", "why_costs"),
    ],
)
def test_the_faq_is_searchable(creditor, language, query, intent):
    """A search finds the entry about it first, in the page's language."""
    hits = faq_for(creditor, language, query)
    assert hits and hits[0].intent == intent
    assert all(hit.language == language for hit in hits)


def test_a_search_for_something_else_finds_nothing(creditor):
    assert faq_for(creditor, "nl", "pizzabezorging") == []


def test_a_creditors_own_faq_replaces_the_shipped_one(tmp_path, creditor, other_creditor):
    """Loaded with the command, a creditor's own Dutch FAQ is what its debtors see in Dutch;
    English and the other creditor keep the shipped FAQ; an event records the load."""
    out = StringIO()
    call_command("faq", "load", str(write(tmp_path, OWN)), "--creditor", "energie", stdout=out)
    assert "loaded 2 question(s) for ENERGIE (nl)" in out.getvalue()
    assert [e.intent for e in faq_for(creditor, "nl")] == ["opening_hours", "how_to_pay"]
    assert len(faq_for(creditor, "en")) == len(shipped_items("en"))
    assert len(faq_for(other_creditor, "nl")) == len(shipped_items("nl"))
    assert Event.objects.filter(verb="faq.loaded", creditor=creditor).count() == 1
    # Loading again replaces, it does not add.
    call_command("faq", "load", str(write(tmp_path, OWN)), "--creditor", "ENERGIE", stdout=out)
    assert FaqEntry.objects.filter(creditor=creditor).count() == 2
    # Removing brings the shipped FAQ back.
    call_command("faq", "remove", "--creditor", "ENERGIE", "--language", "nl", stdout=out)
    assert len(faq_for(creditor, "nl")) == len(shipped_items("nl"))


def test_the_chat_answers_from_the_creditors_own_faq(tmp_path, creditor, make_debtor):  # noqa: F811
    """An intent of the creditor's own FAQ is answered with its own words."""
    call_command(
        "faq", "load", str(write(tmp_path, OWN)), "--creditor", "ENERGIE", stdout=StringIO()
    )
    debtor = make_debtor()
    answer = chat_answer(
        debtor=debtor, case=None, text="wat zijn jullie openingstijden?", language="nl"
    )
    assert answer.intent == "opening_hours"
    assert answer.text == "Wij zijn op werkdagen open van 8 tot 18 uur."


def test_export_gives_what_load_reads(tmp_path, creditor):
    """The export is the file format: loading it back gives the same FAQ."""
    exported = tmp_path / "out.json"
    call_command(
        "faq",
        "export",
        "--creditor",
        "ENERGIE",
        "--language",
        "en",
        "--output",
        str(exported),
        stdout=StringIO(),
    )
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["language"] == "en" and len(data["entries"]) == len(shipped_items("en"))
    call_command("faq", "load", str(exported), "--creditor", "ENERGIE", stdout=StringIO())
    assert faq_export(creditor, "en") == data
    assert FaqEntry.objects.filter(creditor=creditor, language="en").count() == len(data["entries"])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"entries": [', "line 1, column 14: not valid JSON"),
        ({"entries": []}, "field 'entries': a list with at least one entry is required"),
        (
            {"entries": [{"question": "Waarom?", "answer": "Daarom."}, {"question": "Hoe?"}]},
            "entry 2: field 'answer': required",
        ),
        (
            {"entries": [{"intent": "x", "question": "Q", "anwser": "A", "answer": "A"}]},
            "entry 1 (intent 'x'): field 'anwser': unknown field",
        ),
        (
            {"entries": [{"intent": "Saldo!", "question": "Q", "answer": "A"}]},
            "entry 1 (intent 'Saldo!'): field 'intent': lower-case letters",
        ),
        (
            {"entries": [{"question": "Q", "answer": "A", "keywords": "a\nb", "published": 1}]},
            "entry 1: field 'published': must be true or false",
        ),
        (
            {"entries": [{"question": "Q", "answer": "A", "keywords": [1, 2]}]},
            "entry 1: field 'keywords': must be a list of texts",
        ),
        (
            {
                "entries": [
                    {"intent": "saldo", "question": "Q1", "answer": "A"},
                    {"intent": "saldo", "question": "Q2", "answer": "A"},
                ]
            },
            "entry 2 (intent 'saldo'): field 'intent': already used by entry 1",
        ),
        (
            {"language": "en", "entries": [{"question": "Q", "answer": "A"}]},
            "field 'language': the file is 'en', but 'nl' was asked for",
        ),
        ({"language": "de", "entries": [{"question": "Q", "answer": "A"}]}, "'de' is not one of"),
    ],
)
def test_a_bad_file_is_refused_naming_the_entry_and_field(tmp_path, creditor, content, problem):
    """Nothing is loaded from a file with a problem; each problem names file, entry, field."""
    path = write(tmp_path, content)
    err = StringIO()
    with pytest.raises(CommandError, match="nothing loaded"):
        call_command(
            "faq", "load", str(path), "--creditor", "ENERGIE", "--language", "nl", stderr=err
        )
    assert f"{path}: " in err.getvalue()
    assert problem in err.getvalue()
    assert not FaqEntry.objects.filter(creditor=creditor).exists()


def test_a_missing_or_binary_file_and_an_unknown_creditor_are_refused(tmp_path, creditor):
    with pytest.raises(CommandError, match="nothing loaded"):
        call_command("faq", "load", str(tmp_path / "nope.json"), "--creditor", "ENERGIE")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe{}")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("faq", "load", str(binary), "--creditor", "ENERGIE", stderr=err)
    assert "not UTF-8" in err.getvalue()
    with pytest.raises(CommandError, match="no such creditor"):
        call_command("faq", "load", str(write(tmp_path, OWN)), "--creditor", "NOPE")


def test_a_list_of_entries_is_read_in_the_asked_language():
    """A file may be just a list of entries; the command line's language then applies."""
    language, items = faq_parse(json.dumps(OWN["entries"]), source="x.json", language="en")
    assert language == "en" and [i.intent for i in items] == ["opening_hours", "how_to_pay"]
    with pytest.raises(FaqInvalid) as raised:
        faq_parse("[1]", source="x.json")
    assert raised.value.lines() == ["x.json: entry 1: expected an object with question and answer"]
