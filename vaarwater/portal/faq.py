"""The portal's FAQ: per creditor and language, with the shipped questions as the default.

A creditor without entries of its own in a language gets the shipped ones (rows with an empty
``creditor``, loaded from ``portal/data/faq.<language>.json`` the first time they are needed).
A creditor loads its own FAQ from a JSON file (``vaarwater faq load``); it then replaces the
shipped FAQ in that language for its debtors.

The file format (the shipped files are examples)::

    {"language": "nl",
     "entries": [{"intent": "balance", "question": "...", "answer": "...",
                  "keywords": ["saldo", "hoeveel moet ik betalen"]}]}

``intent`` names what the chat assistant answers with the entry; some names are answered from
the debtor's own case (see ``chat.CASE_INTENTS``). ``keywords`` are words and example
phrasings in the entry's language: they help both the search and the chat find the entry.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import Count

from vaarwater.contact.models import Message
from vaarwater.core.events import Actor, event_record

from .assist import Intent, Matcher, normalise, tokens
from .models import ChatQuestion, FaqEntry

DATA_DIR = Path(__file__).resolve().parent / "data"
LANGUAGES = ("nl", "en")
INTENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
ENTRY_FIELDS = {"intent", "question", "answer", "keywords", "published"}
MAX_ENTRIES = 200
MAX_ANSWER = 5000
MAX_KEYWORD = 200
# A search hit needs this score (lower than the chat's: a list may show near misses).
SEARCH_THRESHOLD = 0.3


class FaqInvalid(ValueError):
    """A FAQ file that cannot be loaded; ``problems`` say where (entry, field) and why."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)")

    def lines(self) -> list[str]:
        return [f"{self.source}: {problem}" for problem in self.problems]


@dataclass(frozen=True)
class FaqItem:
    """One validated entry, ready to store."""

    intent: str
    question: str
    answer: str
    keywords: tuple[str, ...]
    published: bool = True


def _entry_problems(number: int, raw) -> tuple[list[str], FaqItem | None]:
    where = f"entry {number}"
    if not isinstance(raw, dict):
        return [f"{where}: expected an object with question and answer"], None
    if isinstance(raw.get("intent"), str) and raw["intent"]:
        where += f" (intent {raw['intent']!r})"
    problems = [
        f"{where}: field {name!r}: unknown field" for name in sorted(set(raw) - ENTRY_FIELDS)
    ]
    intent = raw.get("intent", "")
    if not isinstance(intent, str) or (intent and not INTENT_RE.match(intent)):
        problems.append(
            f"{where}: field 'intent': lower-case letters, digits and _ only, starting with a"
            " letter, at most 64"
        )
    texts = {}
    for name, limit in (("question", 300), ("answer", MAX_ANSWER)):
        value = raw.get(name)
        if value is None:
            problems.append(f"{where}: field {name!r}: required")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: field {name!r}: must be text, not empty")
        elif len(value.strip()) > limit:
            problems.append(f"{where}: field {name!r}: longer than {limit} characters")
        else:
            texts[name] = value.strip()
    keywords = raw.get("keywords", [])
    if isinstance(keywords, str):
        keywords = [k for k in keywords.splitlines() if k.strip()]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        problems.append(f"{where}: field 'keywords': must be a list of texts")
        keywords = []
    elif any(len(k) > MAX_KEYWORD or "\n" in k for k in keywords):
        problems.append(
            f"{where}: field 'keywords': one line each, at most {MAX_KEYWORD} characters"
        )
    published = raw.get("published", True)
    if not isinstance(published, bool):
        problems.append(f"{where}: field 'published': must be true or false")
    if problems:
        return problems, None
    item = FaqItem(
        intent=intent,
        question=texts["question"],
        answer=texts["answer"],
        keywords=tuple(k.strip() for k in keywords if k.strip()),
        published=published,
    )
    return [], item


def faq_parse(text: str, *, source: str, language: str | None = None):
    """Validate a FAQ file; return ``(language, items)`` or raise ``FaqInvalid``.

    ``language`` (from the command line) must agree with the file's own, when it has one.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FaqInvalid(
            source, [f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"]
        ) from None
    problems = []
    if isinstance(data, list):
        data = {"entries": data}
    if not isinstance(data, dict):
        raise FaqInvalid(source, ["expected an object with 'entries' (or a list of entries)"])
    unknown = sorted(set(data) - {"language", "entries"})
    problems += [f"field {name!r}: unknown field" for name in unknown]
    own = data.get("language")
    if own is not None and own not in LANGUAGES:
        problems.append(f"field 'language': {own!r} is not one of {', '.join(LANGUAGES)}")
    if language is not None and language not in LANGUAGES:
        problems.append(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    elif language and own in LANGUAGES and own != language:
        problems.append(f"field 'language': the file is {own!r}, but {language!r} was asked for")
    entries = data.get("entries")
    if not isinstance(entries, list) or not entries:
        problems.append("field 'entries': a list with at least one entry is required")
        entries = []
    elif len(entries) > MAX_ENTRIES:
        problems.append(f"field 'entries': at most {MAX_ENTRIES} entries")
    items, seen = [], {}
    for number, raw in enumerate(entries, 1):
        entry_problems, item = _entry_problems(number, raw)
        problems += entry_problems
        if item is None:
            continue
        if item.intent in seen:
            problems.append(
                f"entry {number} (intent {item.intent!r}): field 'intent': already used by "
                f"entry {seen[item.intent]}"
            )
        elif item.intent:
            seen[item.intent] = number
        items.append(item)
    if problems:
        raise FaqInvalid(source, problems)
    return (language or own or "nl"), items


def faq_read(path: str | Path, *, language: str | None = None):
    """Read and validate a FAQ file: ``(language, items)``, or ``FaqInvalid`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise FaqInvalid(str(path), ["no such file"])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FaqInvalid(
            str(path), [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]
        ) from None
    return faq_parse(text, source=str(path), language=language)


def _rows(creditor, language: str, items) -> list[FaqEntry]:
    return [
        FaqEntry(
            creditor=creditor,
            language=language,
            intent=item.intent,
            question=item.question,
            answer=item.answer,
            keywords="\n".join(item.keywords),
            position=(number + 1) * 10,
            published=item.published,
        )
        for number, item in enumerate(items)
    ]


@transaction.atomic
def faq_load(*, creditor, language: str, items, source: str, actor: Actor) -> int:
    """Replace a creditor's own FAQ in one language by ``items``; return how many."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    removed = FaqEntry.objects.filter(creditor=creditor, language=language).delete()[0]
    FaqEntry.objects.bulk_create(_rows(creditor, language, items))
    event_record(
        creditor=creditor,
        verb="faq.loaded",
        actor=actor,
        reason=(
            f"eigen veelgestelde vragen ({language}) geladen uit {source}: {len(items)} vragen"
            + (f", {removed} oude vervangen" if removed else "")
        ),
        data={"language": language, "entries": len(items), "replaced": removed},
    )
    return len(items)


@transaction.atomic
def faq_remove(*, creditor, language: str, actor: Actor) -> int:
    """Remove a creditor's own FAQ in one language: its debtors get the shipped one again."""
    removed = FaqEntry.objects.filter(creditor=creditor, language=language).delete()[0]
    if removed:
        event_record(
            creditor=creditor,
            verb="faq.removed",
            actor=actor,
            reason=f"eigen veelgestelde vragen ({language}) verwijderd; de standaardvragen gelden",
            data={"language": language, "entries": removed},
        )
    return removed


def shipped_items(language: str) -> list[FaqItem]:
    """The FAQ that ships with Vaarwater, straight from its file."""
    return faq_read(DATA_DIR / f"faq.{language}.json", language=language)[1]


@transaction.atomic
def shipped_reload(language: str) -> int:
    """Replace the stored shipped FAQ of a language by the file's (after an upgrade)."""
    FaqEntry.objects.filter(creditor__isnull=True, language=language).delete()
    rows = FaqEntry.objects.bulk_create(_rows(None, language, shipped_items(language)))
    return len(rows)


def _shipped_entries(language: str) -> list[FaqEntry]:
    entries = list(FaqEntry.objects.filter(creditor__isnull=True, language=language))
    if entries:
        return entries
    with transaction.atomic():
        # Lock-free on purpose: a second loader racing this one sees rows on its next read
        # and the duplicate intents collapse in ``faq_for`` (first one wins).
        if not FaqEntry.objects.filter(creditor__isnull=True, language=language).exists():
            shipped_reload(language)
    return list(FaqEntry.objects.filter(creditor__isnull=True, language=language))


def faq_entries(creditor, language: str, *, published_only: bool = True) -> list[FaqEntry]:
    """The FAQ a creditor's debtors see in a language: its own if it has any, else shipped."""
    language = language if language in LANGUAGES else "nl"
    own = FaqEntry.objects.filter(creditor=creditor, language=language)
    entries = list(own) if own.exists() else _shipped_entries(language)
    seen, result = set(), []
    for entry in sorted(entries, key=lambda e: (e.position, e.pk)):
        if entry.intent and entry.intent in seen:
            continue
        seen.add(entry.intent)
        if entry.published or not published_only:
            result.append(entry)
    return result


def entry_phrases(entry: FaqEntry) -> tuple[str, ...]:
    """What an entry may be asked as: its question and its keywords."""
    return (entry.question, *[k for k in entry.keywords.splitlines() if k.strip()])


def entry_key(entry: FaqEntry) -> str:
    """The intent name an entry answers (its own id when it has no intent)."""
    return entry.intent or f"faq-{entry.pk}"


_MATCHERS: dict[tuple, Matcher] = {}


def matcher_for(entries, extra: tuple[Intent, ...] = ()) -> Matcher:
    """A matcher over the entries (and extra intents), kept while the entries stay the same."""
    key = (tuple((e.pk, e.question, e.keywords) for e in entries), extra)
    matcher = _MATCHERS.get(key)
    if matcher is None:
        if len(_MATCHERS) > 64:
            _MATCHERS.clear()
        matcher = Matcher([Intent(entry_key(e), entry_phrases(e)) for e in entries] + list(extra))
        _MATCHERS[key] = matcher
    return matcher


def faq_search(entries: list[FaqEntry], query: str) -> list[FaqEntry]:
    """Entries that answer ``query``, best first: by meaning, or by the words in the text."""
    if not tokens(query):
        return [] if normalise(query) else list(entries)
    ranked = matcher_for(entries).rank(query)
    scores = {m.intent: m.score for m in ranked if m.score >= SEARCH_THRESHOLD}
    wanted = normalise(query)
    for entry in entries:
        text = normalise(f"{entry.question} {entry.answer}")
        if wanted and wanted in text:
            scores[entry_key(entry)] = max(scores.get(entry_key(entry), 0), SEARCH_THRESHOLD)
    hits = [e for e in entries if entry_key(e) in scores]
    return sorted(hits, key=lambda e: (-scores[entry_key(e)], e.position, e.pk))


def faq_for(creditor, language: str, query: str = "") -> list[FaqEntry]:
    """The FAQ for a creditor's debtors in a language; with a query, the entries that fit it."""
    entries = faq_entries(creditor, language)
    return faq_search(entries, query) if query.strip() else entries


def faq_export(creditor, language: str) -> dict:
    """The FAQ a creditor's debtors see, in the file format ``faq load`` reads."""
    entries = faq_entries(creditor, language, published_only=False)
    rows = []
    for entry in entries:
        row = {
            "intent": entry.intent,
            "question": entry.question,
            "answer": entry.answer,
            "keywords": [k for k in entry.keywords.splitlines() if k.strip()],
        }
        if not entry.published:
            row["published"] = False
        rows.append(row)
    return {"language": language, "entries": rows}


# -- which letters cause questions (for the creditor's staff) -------------------------------


def chat_question_stats(creditor, *, since: datetime, language: str = "nl") -> list[dict]:
    """Chat questions per template key and channel of the message before them, most first.

    Each row: ``template``, ``channel``, ``questions``, ``answered``, ``unanswered``,
    ``sent`` (messages of that template sent in the period), ``per_100`` (questions per 100
    sent, or None) and ``top_intents`` (up to three ``(label, count)``). Three aggregate
    queries, whatever the number of questions.
    """
    rows = (
        ChatQuestion.objects.filter(creditor=creditor, created_at__gte=since)
        .values("template", "message__channel", "intent", "answered")
        .annotate(n=Count("id"))
    )
    groups: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["template"], row["message__channel"] or "")
        group = groups.setdefault(
            key,
            {
                "template": key[0],
                "channel": key[1],
                "questions": 0,
                "answered": 0,
                "intents": Counter(),
            },
        )
        group["questions"] += row["n"]
        if row["answered"]:
            group["answered"] += row["n"]
            group["intents"][row["intent"]] += row["n"]
    sent = {
        (row["template"], row["channel"]): row["n"]
        for row in Message.objects.filter(
            creditor=creditor, sent_at__gte=since, sent_at__isnull=False
        )
        .values("template", "channel")
        .annotate(n=Count("id"))
    }
    labels = {e.intent: e.question for e in faq_entries(creditor, language) if e.intent}
    result = []
    for key, group in groups.items():
        intents = group.pop("intents")
        group["unanswered"] = group["questions"] - group["answered"]
        group["sent"] = sent.get(key, 0)
        group["per_100"] = (
            round(100 * group["questions"] / group["sent"], 1) if group["sent"] else None
        )
        group["top_intents"] = [
            (labels.get(name, name), count)
            for name, count in sorted(intents.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        ]
        result.append(group)
    return sorted(result, key=lambda g: (-g["questions"], g["template"], g["channel"]))


def chat_questions_unanswered(creditor, *, since: datetime, limit: int = 20):
    """The latest questions the chat could not answer, newest first."""
    return list(
        ChatQuestion.objects.filter(creditor=creditor, created_at__gte=since, answered=False)
        .select_related("debtor", "message")
        .order_by("-created_at", "-id")[:limit]
    )
