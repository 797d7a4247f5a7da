"""A creditor's letterhead: the logo, sender block and contact details a printed letter shows.

``creditor_letterhead_set`` checks every value at the edge and stores it normalised; a bad
value raises ``LetterheadError`` naming the option, the value and the reason.
"""

import io
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from PIL import Image, UnidentifiedImageError
from schwifty import BIC
from schwifty.exceptions import SchwiftyException

from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.validation import (
    validate_email,
    validate_phone,
    validate_sepa_creditor_id,
    validate_text,
)

MAX_LOGO_BYTES = 1024 * 1024
MAX_ADDRESS_LINES = 5
MAX_ADDRESS_LINE = 60
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
_url = URLValidator(schemes=["http", "https"])


class LetterheadError(ValueError):
    """A bad letterhead value: ``option`` (``--logo``), the ``value`` given, and why."""

    def __init__(self, option: str, value: str, reason: str):
        super().__init__(f"{option} {value}: {reason}")
        self.option, self.value, self.reason = option, value, reason


def logo_check(data: bytes, *, filename: str = "") -> str:
    """Return the logo's media type (``image/svg+xml`` or ``image/png``) or raise ValueError.

    The content decides, not the name; an SVG may not declare a DOCTYPE or entities (no
    entity expansion, no external files), and the letter renderer fetches nothing it links.
    """
    if not data:
        raise ValueError("the file is empty")
    if len(data) >= MAX_LOGO_BYTES:
        raise ValueError(f"{len(data):,} bytes; a logo must be smaller than 1 MB")
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if data.startswith(PNG_SIGNATURE):
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValueError(f"not a readable PNG image ({exc})") from None
        media_type = "image/png"
    else:
        head = data[:4096].lower()
        if b"<!doctype" in data.lower() or b"<!entity" in data.lower():
            raise ValueError("an SVG with a DOCTYPE or entities is refused")
        if b"<svg" not in head:
            raise ValueError("not an SVG or PNG image")
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            raise ValueError(f"not a well-formed SVG ({exc})") from None
        if root.tag not in (f"{SVG_NAMESPACE}svg", "svg"):
            raise ValueError("not an SVG or PNG image")
        media_type = "image/svg+xml"
    expected = {"svg": "image/svg+xml", "png": "image/png"}.get(suffix)
    if suffix and expected is None:
        raise ValueError("the file must be .svg or .png")
    if expected and expected != media_type:
        raise ValueError(f"the file is named .{suffix} but holds {media_type}")
    return media_type


def address_check(text: str) -> str:
    """Return the sender address block, one line each (a literal ``\\n`` also breaks a line)."""
    lines = [line.strip() for line in text.replace("\\n", "\n").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > MAX_ADDRESS_LINES:
        raise ValueError(f"at most {MAX_ADDRESS_LINES} lines ({len(lines)})")
    for line in lines:
        validate_text(line, max_length=MAX_ADDRESS_LINE)
    return "\n".join(lines)


def website_check(text: str) -> str:
    """Return the website as given (``www.example.nl`` or a full http(s) URL) if it is one."""
    value = validate_text(text, max_length=200)
    if not value:
        return ""
    try:
        _url(value if "://" in value else f"https://{value}")
    except ValidationError:
        raise ValueError("not a website address") from None
    return value


def bic_check(text: str) -> str:
    """Return the BIC compact and upper-case if it is a valid BIC."""
    if not text.strip():
        return ""
    try:
        return BIC(text.strip()).compact
    except SchwiftyException as exc:
        raise ValueError(f"not a valid BIC ({exc})") from None


@transaction.atomic
def creditor_letterhead_set(
    *,
    creditor,
    logo: bytes | None = None,
    logo_name: str = "",
    remove_logo: bool = False,
    address: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    website: str | None = None,
    bic: str | None = None,
    sepa_creditor_id: str | None = None,
    actor: Actor | None = None,
) -> list[str]:
    """Set the given letterhead values (None leaves a value as it is; "" clears it).

    Return the names of the fields that changed; write one event when any did.
    """
    changes: dict = {}

    def check(option, value, checker):
        try:
            return checker(value)
        except ValueError as exc:
            raise LetterheadError(option, value, str(exc)) from None

    if logo is not None:
        changes["logo_type"] = check(
            "--logo", logo_name or "(logo)", lambda _: logo_check(logo, filename=logo_name)
        )
        changes["logo"] = logo
    elif remove_logo:
        changes["logo"], changes["logo_type"] = b"", ""
    if address is not None:
        changes["address"] = check("--address", address, address_check)
    if phone is not None:
        changes["phone"] = check("--phone", phone, lambda v: validate_phone(v) if v else "")
    if email is not None:
        changes["email"] = check("--email", email, lambda v: validate_email(v) if v else "")
    if website is not None:
        changes["website"] = check("--website", website, website_check)
    if bic is not None:
        changes["bic"] = check("--bic", bic, bic_check)
    if sepa_creditor_id is not None:
        changes["sepa_creditor_id"] = check(
            "--sepa-creditor-id",
            sepa_creditor_id,
            lambda v: validate_sepa_creditor_id(v) if v else "",
        )
    changed = [name for name, value in changes.items() if _stored(getattr(creditor, name)) != value]
    if not changed:
        return []
    for name in changed:
        setattr(creditor, name, changes[name])
    creditor.save(update_fields=changed)
    event_record(
        creditor=creditor,
        verb="creditor.letterhead_changed",
        actor=actor or Actor.system(),
        subject=creditor,
        data={
            name: (f"{len(changes[name])} bytes" if name == "logo" else changes[name])
            for name in changed
        },
    )
    return changed


def _stored(value):
    return bytes(value) if isinstance(value, memoryview) else value


def letterhead_lines(creditor) -> list[str]:
    """The letterhead as text, for the command's report."""
    logo = f"{creditor.logo_type}, {len(bytes(creditor.logo)):,} bytes" if creditor.logo else "-"
    address = " / ".join(creditor.address.splitlines()) or "-"
    return [
        f"logo: {logo}",
        f"address: {address}",
        f"phone: {creditor.phone or '-'}",
        f"email: {creditor.email or '-'}",
        f"website: {creditor.website or '-'}",
        f"iban: {creditor.iban or '-'}",
        f"bic: {creditor.bic or '-'}",
        f"SEPA creditor id: {creditor.sepa_creditor_id or '-'}",
    ]
