"""Understand a debtor's question: local, deterministic intent matching in Dutch and English.

No external AI service and no machine-learning library: a question is normalised (lower case,
no accents or punctuation, no stop words, a light stemmer for both languages), then compared
with the example phrasings of every intent. Two measures are combined:

* word overlap, weighted by how rare a word is among all phrasings (an IDF weight), where a
  word also counts (partly) when it is a typo of a known word or part of a compound
  (``regeling`` in ``betalingsregeling``);
* the overlap of character trigrams of the whole question, which forgives typos and spelling.

The best intent wins when its score reaches ``THRESHOLD``; below it the assistant says it does
not know. Nothing here touches the database: the callers pass the intents in.

>>> matcher = Matcher([Intent("balance", ("hoeveel moet ik betalen", "how much do I owe")),
...                    Intent("how_to_pay", ("hoe kan ik betalen", "how do I pay"))])
>>> matcher.best("Hoevel moet ik nog betalen?").intent
'balance'
>>> matcher.best("how can i pay").intent
'how_to_pay'
>>> matcher.best("Wat is de hoofdstad van Frankrijk?") is None
True
"""

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Below this score the assistant does not answer (and offers a callback instead).
THRESHOLD = 0.5
# How much more it counts that the question's words are understood than that a phrasing's
# words are all in the question (the beta of an F-measure).
RECALL_BETA = 1.5
# Share of the score from word overlap; the rest is character-trigram overlap.
WORD_SHARE = 0.75

# Words that carry no meaning for matching. Question words (hoe, waarom, how, why …), negations
# (niet, geen, not, no) and "al"/"already" are deliberately kept: they decide the intent.
_STOP_WORDS = """
    de het een en of ik je jij u uw mijn me mij m mn wij we ze zij hij haar hem is ben bent
    zijn was waren wordt worden word heb hebt heeft hebben had om te van voor op in aan met
    bij naar dat die dit deze er nog dan als maar ook wel toch even graag kan kun kunt kunnen
    mag moet moeten wil wilt willen zou zouden ga gaat gaan doe doet doen hier daar dus zo
    heel erg alstublieft aub svp jullie hun hen iets ons onze nu
    the a an and or i you your my me mine we us our it its is am are was were be been being
    have has had do does did to of for on in at with by from that this these those there then
    than but also just please can could may might must will would shall should want wants
    which im ive id get got so very really about into up out any some
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

# English contractions, expanded before anything else so that "can't" keeps its "not".
CONTRACTIONS = (
    ("can't", "can not"),
    ("cannot", "can not"),
    ("won't", "will not"),
    ("n't", " not"),
    ("'m", " am"),
    ("'ve", " have"),
    ("'re", " are"),
    ("'ll", " will"),
    ("'d", " would"),
    ("'s", ""),
)
# Words written without their apostrophe, and a few that mean the same for matching.
WORD_MAP = {
    "cant": "can not",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "wont": "will not",
    "havent": "have not",
    "hasnt": "has not",
    "no": "not",
    "geen": "niet",
    "whats": "what",
    "hows": "how",
}
# Suffixes stripped by the stemmer, longest first; Dutch and English together.
SUFFIXES = (
    "heden",
    "ingen",
    "ments",
    "ment",
    "tjes",
    "ing",
    "tje",
    "jes",
    "je",
    "en",
    "es",
    "ed",
    "ly",
    "s",
    "e",
)
MIN_STEM = 3


def normalise(text: str) -> str:
    """Lower case, English contractions expanded, accents and punctuation removed.

    >>> normalise("Ik kán 't niet betalen!")
    'ik kan t niet betalen'
    >>> normalise("I can't pay, sorry")
    'i can not pay sorry'
    """
    text = (text or "").lower().replace("\u2019", "'").replace("`", "'")
    for short, long in CONTRACTIONS:
        text = text.replace(short, long)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(WORD_MAP.get(word, word) for word in text.split())


def stem(word: str) -> str:
    """A light stemmer for Dutch and English: at most two suffixes off, doubled letters single.

    Doubled letters collapse so that Dutch spelling changes meet: ``betaal`` and ``betalen``.

    >>> [stem(w) for w in ("betalen", "betaal", "betalingen", "kosten", "payments", "owe")]
    ['betal', 'betal', 'betal', 'kost', 'pay', 'owe']
    """
    for _ in range(2):
        for suffix in SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
                word = word[: -len(suffix)]
                break
        else:
            break
    return re.sub(r"(.)\1+", r"\1", word)


# Question words decide between intents ("hoe betaal ik" or "wat moet ik betalen") but say
# little on their own: they weigh less, and a question of only these is not understood.
QUESTION_WORDS = frozenset(
    stem(word)
    for word in (
        "hoe",
        "wat",
        "waarom",
        "wanneer",
        "hoeveel",
        "waar",
        "wie",
        "welk",
        "how",
        "what",
        "why",
        "when",
        "much",
        "many",
        "where",
        "who",
    )
)
QUESTION_WEIGHT = 0.5


def tokens(text: str) -> tuple[str, ...]:
    """The stems of the meaningful words of a text, in order.

    >>> tokens("Waarom zijn er incassokosten bijgekomen?")
    ('warom', 'incasokost', 'bijgekom')
    """
    return tuple(stem(w) for w in normalise(text).split() if w not in STOP_WORDS)


def trigrams(words: Iterable[str]) -> frozenset[str]:
    """Character trigrams of the words, each padded with spaces.

    >>> sorted(trigrams(["pay"]))
    ['  p', ' pa', 'ay ', 'pay']
    """
    grams = set()
    for word in words:
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (a swap of two letters counts once), capped at
    ``limit + 1``.

    >>> edit_distance("betaal", "betala"), edit_distance("kosten", "kosen")
    (1, 1)
    >>> edit_distance("a", "xyz")
    3
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def word_credit(a: str, b: str) -> float:
    """How much word ``a`` counts as word ``b``: 1 the same, 0.85 a typo, 0.7 a compound part.

    >>> word_credit("betal", "betal"), word_credit("incasokost", "incasokst")
    (1.0, 0.85)
    >>> word_credit("betalingsregel", "regel"), word_credit("pay", "day")
    (0.7, 0.0)
    """
    if a == b:
        return 1.0
    shorter = min(len(a), len(b))
    if shorter >= 4:
        allowed = 2 if shorter >= 8 else 1
        if edit_distance(a, b, allowed) <= allowed:
            return 0.85
        short, long = (a, b) if len(a) <= len(b) else (b, a)
        if shorter >= 5 and (long.startswith(short) or long.endswith(short)):
            return 0.7
    return 0.0


@dataclass(frozen=True)
class Intent:
    """Something a debtor may ask, with example phrasings (any language) and keywords."""

    name: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    intent: str
    score: float
    phrase: str


@dataclass
class _Phrase:
    intent: str
    text: str
    words: tuple[str, ...]
    grams: frozenset[str] = field(default_factory=frozenset)


class Matcher:
    """Scores a question against every intent's phrasings; build once per set of intents."""

    def __init__(self, intents: Iterable[Intent]):
        self.phrases: list[_Phrase] = []
        for intent in intents:
            for text in intent.phrases:
                words = tokens(text)
                if words:
                    self.phrases.append(_Phrase(intent.name, text, words, trigrams(words)))
        documents = len(self.phrases) or 1
        counts: dict[str, int] = {}
        for phrase in self.phrases:
            for word in set(phrase.words):
                counts[word] = counts.get(word, 0) + 1
        self.idf = {
            w: math.log(1 + documents / n) * (QUESTION_WEIGHT if w in QUESTION_WORDS else 1)
            for w, n in counts.items()
        }
        # A word no phrasing knows weighs as much as the rarest: it makes a match less likely.
        self.unknown = math.log(1 + documents)
        self._credits: dict[tuple[str, str], float] = {}

    def _credit(self, a: str, b: str) -> float:
        key = (a, b) if a <= b else (b, a)
        if key not in self._credits:
            self._credits[key] = word_credit(a, b)
        return self._credits[key]

    def _weight(self, word: str) -> float:
        if word in self.idf:
            return self.idf[word]
        best = max(
            ((self._credit(word, known), known) for known in self.idf),
            default=(0.0, ""),
        )
        return self.idf[best[1]] if best[0] > 0 else self.unknown

    def _similarity(self, words, grams, weights, phrase: _Phrase) -> float:
        credits = [max(self._credit(word, other) for other in phrase.words) for word in words]
        if not any(c for word, c in zip(words, credits, strict=True) if word not in QUESTION_WORDS):
            return 0.0  # only question words in common: "hoe gaat het" is not "hoe betaal ik"
        found = sum(weight * c for weight, c in zip(weights, credits, strict=True))
        recall = found / sum(weights)
        phrase_weights = [self.idf[w] for w in phrase.words]
        covered = sum(
            weight * max(self._credit(word, asked) for asked in words)
            for word, weight in zip(phrase.words, phrase_weights, strict=True)
        )
        precision = covered / sum(phrase_weights)
        beta2 = RECALL_BETA**2
        overlap = (
            0.0
            if recall + precision == 0
            else (1 + beta2) * recall * precision / (beta2 * precision + recall)
        )
        dice = 2 * len(grams & phrase.grams) / (len(grams) + len(phrase.grams))
        return WORD_SHARE * overlap + (1 - WORD_SHARE) * dice

    def rank(self, text: str) -> list[Match]:
        """The best match per intent, best first (ties by intent name: deterministic)."""
        words = tokens(text)
        if not words:
            return []
        grams = trigrams(words)
        weights = [self._weight(word) for word in words]
        best: dict[str, Match] = {}
        for phrase in self.phrases:
            score = round(self._similarity(words, grams, weights, phrase), 4)
            current = best.get(phrase.intent)
            if current is None or score > current.score:
                best[phrase.intent] = Match(phrase.intent, score, phrase.text)
        return sorted(best.values(), key=lambda m: (-m.score, m.intent))

    def best(self, text: str, threshold: float = THRESHOLD) -> Match | None:
        """The intent the question is about, or None when no intent scores ``threshold``."""
        ranked = self.rank(text)
        if ranked and ranked[0].score >= threshold:
            return ranked[0]
        return None
