"""Money: integer euro cents in storage, ``Decimal`` euros at the edges, never ``float``."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """Convert a Decimal amount in euros with at most two decimals to integer cents.

    >>> to_cents(Decimal("12.34"))
    1234
    >>> to_cents(Decimal("-0.5"))
    -50
    """
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    amount = Decimal(amount)
    if amount != amount.quantize(CENT):
        raise ValueError(f"{amount} has more than two decimals")
    return int(amount * 100)


def from_cents(cents: int) -> Decimal:
    """Convert integer cents to a Decimal amount in euros.

    >>> from_cents(1234)
    Decimal('12.34')
    """
    return (Decimal(int(cents)) / 100).quantize(CENT)


def round_cents(amount: Decimal) -> int:
    """Round a Decimal euro amount half-up to integer cents.

    >>> round_cents(Decimal("40.0005"))
    4000
    """
    return int(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def format_eur(cents: int, *, language: str = "nl") -> str:
    """Format cents as euros for people: ``€ 1.234,56`` in Dutch, ``€1,234.56`` in English.

    >>> format_eur(123456)
    '€ 1.234,56'
    >>> format_eur(-5, language="en")
    '-€0.05'
    """
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    if language == "en":
        return f"{sign}€{whole:,}.{part:02d}"
    return f"{sign}€ {whole:,}".replace(",", ".") + f",{part:02d}"


def parse_amount(raw: str, *, decimal_comma: bool | None = None) -> int:
    """Parse a human amount (``1234.56``, ``1.234,56``, ``1234,5``) into cents.

    ``decimal_comma`` forces the decimal separator; ``None`` guesses from the text (a comma
    means a decimal comma). Raises ValueError with a reason for anything else.

    >>> parse_amount("1.234,56")
    123456
    >>> parse_amount("1234.56")
    123456
    >>> parse_amount("12,345")
    Traceback (most recent call last):
    ...
    ValueError: more than two decimals
    """
    text = raw.strip().replace("\u00a0", "").replace(" ", "")
    if text.startswith("€"):
        text = text[1:]
    if not text:
        raise ValueError("empty")
    comma = ("," in text) if decimal_comma is None else decimal_comma
    if comma:
        whole, _, frac = text.partition(",")
        if "," in frac:
            raise ValueError("not a number")
        if "." in whole:
            groups = whole.lstrip("-").split(".")
            if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
                raise ValueError("not a number")
            whole = whole.replace(".", "")
        text = f"{whole}.{frac}" if frac or text.endswith(",") else whole
    elif "," in text:
        raise ValueError("not a number")
    if not all(ch in "0123456789.-" for ch in text) or text.count(".") > 1:
        raise ValueError("not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    try:
        cents = value.quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds (28)
        raise ValueError("not a number") from None
    if value != cents:
        raise ValueError("more than two decimals")
    return int(value * 100)


# "2.500" and "1.000.000": points between groups of three digits, no comma (Dutch thousands).
DUTCH_THOUSANDS = re.compile(r"-?\d{1,3}(\.\d{3})+")
# "2,500.00": commas between groups of three digits and a decimal point (English notation).
ENGLISH_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+\.\d{1,2}")


def typed_amount_text(raw: str) -> str:
    """An amount as a person types it, made ready for ``parse_amount``: without the euro sign
    or "EUR", ",-" or ".-" at the end, and with the thousands separators out.

    A point followed by groups of exactly three digits is a Dutch thousands separator, so
    "2.500" is two thousand five hundred euros (not € 2,50); "2.50" stays € 2,50. Only for what
    a person types in a form: files keep ``parse_amount``'s strict reading.

    >>> typed = ("€ 1.234", "2.500", "1.000.000", "2.50", "2,500.00", "25,-")
    >>> [typed_amount_text(t) for t in typed]
    ['1234', '2500', '1000000', '2.50', '2500.00', '25']
    """
    text = " ".join(raw.replace("\u00a0", " ").split())
    for prefix in ("€", "EUR", "eur"):
        text = text.removeprefix(prefix).strip()
    if text.endswith((",-", ".-")):
        text = text[:-2]
    compact = text.replace(" ", "")
    if DUTCH_THOUSANDS.fullmatch(compact) or ENGLISH_GROUPED.fullmatch(compact):
        separator = "." if "," not in compact else ","
        return compact.replace(separator, "")
    return text


def parse_typed_amount(raw: str) -> int:
    """``parse_amount`` of an amount a person typed (see ``typed_amount_text``).

    >>> parse_typed_amount("€ 2.500"), parse_typed_amount("1.234,56"), parse_typed_amount("25,-")
    (250000, 123456, 2500)
    """
    return parse_amount(typed_amount_text(raw))
