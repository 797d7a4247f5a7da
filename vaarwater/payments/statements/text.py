"""Reading payment descriptions and names: tokens and a fuzzy name match (no Django here).

A reference matches a *whole token* of the description, never part of a longer one: invoice
``2026001`` is not found in ``20260012``. Names are compared after normalising away what
banks and people add or drop: titles, initials, "en"/"&", punctuation, accents, word order.
"""

import re
import unicodedata
from difflib import SequenceMatcher

# Letters and digits, with - _ . / inside a token kept (F-2026-001, 000012-7, 2026/0001).
TOKEN_RE = re.compile(r"[A-Z0-9]+(?:[-_./][A-Z0-9]+)*")
CASE_REFERENCE_RE = re.compile(r"^(\d{6,})-(\d)$")
# Words in front of a number that say what it is: a short number needs one to count alone.
REFERENCE_WORDS = frozenset(
    [
        "FACTUUR",
        "FACTUURNR",
        "FACTUURNUMMER",
        "FACT",
        "FACTNR",
        "NOTA",
        "INVOICE",
        "INV",
        "KLANT",
        "KLANTNR",
        "KLANTNUMMER",
        "DEBITEUR",
        "DEBITEURNR",
        "DEBITEURNUMMER",
        "CUSTOMER",
        "DOSSIER",
        "DOSSIERNR",
        "ZAAK",
        "KENMERK",
        "REF",
        "REFERENTIE",
        "BETALINGSKENMERK",
        "NR",
        "NUMMER",
        "REGELING",
    ]
)

# Name normalisation. Titles and forms of address banks print in front of a name.
TITLES = frozenset(
    [
        "dhr",
        "heer",
        "de_heer",
        "hr",
        "mevr",
        "mevrouw",
        "mw",
        "mr",
        "mrs",
        "ms",
        "fam",
        "familie",
        "fa",
        "firma",
        "ir",
        "ing",
        "drs",
        "dr",
        "mr_",
        "prof",
        "jhr",
        "wed",
        "weduwe",
        "erven",
        "bv",
        "nv",
        "vof",
        "cv",
        "stichting",
        "vereniging",
    ]
)
JOINERS = frozenset({"en", "and", "e/o", "eo", "of"})
# Dutch surname particles (tussenvoegsels): kept for display, not a name on their own.
PARTICLES = frozenset(
    [
        "van",
        "de",
        "der",
        "den",
        "het",
        "ten",
        "ter",
        "te",
        "op",
        "in",
        "'t",
        "d'",
        "la",
        "le",
        "du",
        "von",
        "vd",
        "v/d",
    ]
)
TOKEN_MATCH = 0.85  # difflib ratio for two name words to count as the same word
NAME_MATCH = 0.5  # share of the shorter name's words that must match


def tokens(text: str) -> list[str]:
    """The description's tokens, upper-case, in order (with the parts of a ``/`` or ``.``
    token as well).

    >>> tokens("Factuur F-2026-001, klant 12345; 2026/0007 dossier 000012-7.")
    ['FACTUUR', 'F-2026-001', 'KLANT', '12345', '2026/0007', '2026', '0007', 'DOSSIER', '000012-7']
    """
    out: list[str] = []
    for token in TOKEN_RE.findall((text or "").upper()):
        out.append(token)
        if "/" in token or "." in token:
            out.extend(part for part in re.split(r"[/.]", token) if part)
    return out


def is_weak(token: str) -> bool:
    """A token too short or too plain to name a customer on its own (``2026``, ``12345``).

    >>> is_weak("12345"), is_weak("123456"), is_weak("F-101"), is_weak("AB1")
    (True, False, False, True)
    """
    if len(token) < 4:
        return True
    return token.isdigit() and len(token) < 6


def case_reference_pk(token: str) -> int | None:
    """The case id in a case reference (``000012-7`` → 12) if its check digit holds.

    >>> case_reference_pk("000012-7"), case_reference_pk("000012-8"), case_reference_pk("12-7")
    (12, None, None)
    """
    match = CASE_REFERENCE_RE.match(token)
    if not match:
        return None
    digits = match.group(1)
    total = sum((i + 2) * int(d) for i, d in enumerate(reversed(digits)))
    if total % 11 % 10 != int(match.group(2)):
        return None
    return int(digits)


def compact(text: str) -> str:
    """Upper-case letters and digits only: how references are compared when spaced out.

    >>> compact("rg-0012 34")
    'RG001234'
    """
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _words(text: str) -> list[str]:
    text = _ascii(text or "").lower()
    text = re.sub(r"\bde heer\b", " ", text)
    text = text.replace("&", " en ")
    keep = []
    for word in re.split(r"[^a-z0-9']+", text):
        word = word.strip("'")
        if len(word) <= 1 or word in TITLES or word in JOINERS or word in PARTICLES:
            continue
        keep.append(word)
    return keep


def surname_words(name: str) -> frozenset[str]:
    """The words of a customer's name that are the family name: all but the first given
    name, or what comes before a comma.

    >>> sorted(surname_words("Jan de Vries")), sorted(surname_words("Vries, Jan de"))
    (['vries'], ['vries'])
    >>> sorted(surname_words("Anna Jansen-de Vries")), sorted(surname_words("Fam. Bakker"))
    (['jansen', 'vries'], ['bakker'])
    """
    if "," in (name or ""):
        return frozenset(_words(name.split(",", 1)[0]))
    words = _words(name)
    return frozenset(words[1:] if len(words) > 1 else words)


def name_words(name: str) -> frozenset[str]:
    """The words of a name that identify a person: no titles, initials, particles or "en".

    >>> sorted(name_words("Dhr. J.P. de Vries-Bakker"))
    ['bakker', 'vries']
    >>> sorted(name_words("Fam. Jansen en mevr. Öztürk"))
    ['jansen', 'ozturk']
    >>> sorted(name_words("hr gjlm paulissen"))
    ['gjlm', 'paulissen']
    """
    return frozenset(_words(name))


def _word_match(word: str, others: frozenset[str]) -> bool:
    if word in others:
        return True
    if len(word) < 4:
        return False
    return any(
        len(other) >= 4 and SequenceMatcher(None, word, other).ratio() >= TOKEN_MATCH
        for other in others
    )


def name_score(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the shorter name's words found (exactly or nearly) in the other name.

    >>> name_score(name_words("J. de Vries"), name_words("Jan de Vries"))
    1.0
    >>> name_score(name_words("J. de Vris"), name_words("Jan de Vries"))  # a typo
    1.0
    >>> name_score(name_words("P. Jansen"), name_words("Jan de Vries"))
    0.0
    """
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    found = [word for word in short if _word_match(word, long_)]
    if not any(len(word) >= 3 for word in found):
        return 0.0
    return len(found) / len(short)


def names_similar(
    payer: frozenset[str], customer: frozenset[str], surname: frozenset[str] | None = None
) -> bool:
    """Whether two normalised names are the same person's, as far as a name can tell: half
    the shorter name's words match, and one of them is the customer's family name (a shared
    first name alone is not enough).

    >>> names_similar(name_words("VRIES J DE"), name_words("Jan de Vries"), frozenset({"vries"}))
    True
    >>> names_similar(name_words("Jan Onbekend"), name_words("Jan de Vries"), frozenset({"vries"}))
    False
    >>> names_similar(name_words("MMS Online Nederland B.V."), name_words("Jan de Vries"))
    False
    """
    if name_score(payer, customer) < NAME_MATCH:
        return False
    if surname is None:
        return True
    return any(_word_match(word, payer) for word in surname)
