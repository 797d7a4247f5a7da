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


SEPA_CREDITOR_ID_RE = re.compile(r"^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


def _mod97(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def validate_sepa_creditor_id(value: str) -> str:
    """Return a SEPA creditor identifier (incassant-ID) compact and upper-case if it is valid.

    Country, two check digits, a three-character business code (not part of the check) and
    the national identifier; the check digits are ISO 7064 mod 97-10 over the national
    identifier, the country and ``00``, as for an IBAN.

    >>> validate_sepa_creditor_id("nl 68 zzz 012345670001")
    'NL68ZZZ012345670001'
    """
    compact = re.sub(r"[\s-]", "", value or "").upper()
    match = SEPA_CREDITOR_ID_RE.match(compact)
    if not match:
        raise ValueError(
            f"invalid SEPA creditor identifier {value.strip()!r}: expected country, two check "
            "digits, a three-character business code and the national id, e.g. "
            "NL68ZZZ012345670001"
        )
    country, check, _business, national = match.groups()
    if _mod97(f"{national}{country}{check}") != 1:
        raise ValueError(f"invalid SEPA creditor identifier {value.strip()!r}: check digits")
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
