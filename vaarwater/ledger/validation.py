"""Validate identifiers at the edge and return them normalised; raise ValueError(reason)."""

import re
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

POSTCODE_RE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
ISO_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
WHITESPACE_RE = re.compile(r"\s")
_email = EmailValidator()


def validate_text(value: str, *, max_length: int, required: bool = False) -> str:
    """Strip; refuse control characters, over-long and (when required) empty text."""
    value = value.strip()
    if required and not value:
        raise ValueError("required")
    if len(value) > max_length:
        raise ValueError(f"longer than {max_length} characters ({len(value)})")
    if CONTROL_RE.search(value):
        raise ValueError("contains control characters")
    return value


def validate_external_id(value: str) -> str:
    value = validate_text(value, max_length=64, required=True)
    if WHITESPACE_RE.search(value):
        raise ValueError(f"{value!r} contains whitespace")
    return value


def validate_iban(value: str) -> str:
    """Return the IBAN compact and upper-case (``NL91ABNA0417164300``) if its checksum holds."""
    try:
        return IBAN(value.strip()).compact
    except SchwiftyException as exc:
        raise ValueError(f"invalid IBAN {value.strip()!r}: {exc}") from None


SEPA_CREDITOR_ID_RE = re.compile(r"^([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")
SEPA_ID_MAX = 35


def sepa_creditor_id_check_digits(country: str, national_id: str) -> str:
    """The two check digits of a SEPA creditor identifier (ISO 7064 mod 97-10).

    They are computed over the national identifier and the country code; the three-character
    business code (usually ``ZZZ``) between them is left out.

    >>> sepa_creditor_id_check_digits("DE", "09999999999")
    '98'
    >>> sepa_creditor_id_check_digits("NL", "123456780000")
    '69'
    """
    digits = "".join(str(int(ch, 36)) for ch in f"{national_id}{country}00")
    return f"{98 - int(digits) % 97:02d}"


def validate_sepa_creditor_id(value: str) -> str:
    """Return a SEPA creditor identifier (incassant-ID) compact and upper-case, if valid.

    The shape is country (2 letters), check digits (2), business code (3, not part of the
    check), national id; a Dutch one has a 12-digit national id (the KvK number and four
    digits).

    >>> validate_sepa_creditor_id("nl 68 zzz 012345670001")
    'NL68ZZZ012345670001'
    >>> validate_sepa_creditor_id("NL70ZZZ123456780000")
    Traceback (most recent call last):
    ...
    ValueError: SEPA creditor identifier 'NL70ZZZ123456780000': check digits 70 are wrong (69)
    """
    compact = re.sub(r"[\s-]", "", value or "").upper()
    if not compact:
        raise ValueError("SEPA creditor identifier: missing")
    match = SEPA_CREDITOR_ID_RE.match(compact)
    if not match or len(compact) > SEPA_ID_MAX:
        raise ValueError(
            f"SEPA creditor identifier {compact!r}: expected country, 2 check digits, a "
            "3-character business code and the national id, such as NL69ZZZ123456780000"
        )
    country, check, _business, national = match.groups()
    if country == "NL" and not re.fullmatch(r"[0-9]{12}", national):
        raise ValueError(
            f"SEPA creditor identifier {compact!r}: a Dutch one ends in 12 digits "
            "(KvK number and 4 digits), such as NL69ZZZ123456780000"
        )
    expected = sepa_creditor_id_check_digits(country, national)
    if check != expected:
        raise ValueError(
            f"SEPA creditor identifier {compact!r}: check digits {check} are wrong ({expected})"
        )
    return compact


def validate_postcode(value: str) -> str:
    """Return a Dutch postcode as ``1234AB``; SA, SD and SS are never issued."""
    match = POSTCODE_RE.match(value.strip())
    if not match:
        raise ValueError(f"{value.strip()!r} is not a Dutch postcode (1234 AB)")
    letters = match.group(2).upper()
    if letters in {"SA", "SD", "SS"}:
        raise ValueError(
            f"{value.strip()!r} is not a Dutch postcode (letters {letters} are not used)"
        )
    return match.group(1) + letters


def validate_phone(value: str) -> str:
    """Return a valid phone number in E.164 (Dutch numbers may be written nationally)."""
    raw = value.strip()
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_email(value: str) -> str:
    raw = value.strip()
    if len(raw) > 254:
        raise ValueError("email longer than 254 characters")
    try:
        _email(raw)
    except ValidationError:
        raise ValueError(f"{raw!r} is not an email address") from None
    local, _, domain = raw.rpartition("@")
    return f"{local}@{domain.lower()}"


def validate_iso_date(value: str) -> date:
    raw = value.strip()
    if not ISO_DATE_RE.match(raw):
        raise ValueError(f"{raw!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a real date") from None
