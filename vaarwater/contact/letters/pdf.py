"""Render one letter as an A4 PDF with WeasyPrint.

The letter carries the creditor's letterhead (logo, sender block), the debtor's address where
a Dutch window envelope shows it, date and reference, the message's text exactly as the outbox
rendered it, and a payment box with an EPC QR code for a bank app and a QR code of the
debtor's personal portal link.

WeasyPrint fetches nothing from outside: only ``data:`` URLs (the logo and the QR codes) are
allowed, so a logo or message that points elsewhere cannot make the renderer read a file or
call a server.
"""

import base64
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
import segno
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from vaarwater.core.money import format_eur

from .epc import MAX_NAME, epc_qr

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TEMPLATE = "contact/letter.html"
# Pixels per module of the QR images (the page scales them to 32 mm); 4 modules of quiet
# zone around them, as ISO 18004 asks.
QR_SCALE = 4
QR_BORDER = 4
BODY_RE = re.compile(r"<body[^>]*>(.*)</body\s*>", re.IGNORECASE | re.DOTALL)
UNSAFE_BLOCK_RE = re.compile(
    r"<(script|style|head|title)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)


def postal_address_lines(debtor) -> list[str]:
    """The debtor's address as a Dutch envelope shows it, or [] when a part is missing.

    The last line is ``1234 AB  PLAATS``: postcode, two spaces, the place in capitals
    (PostNL's addressing guideline).
    """
    parts = (debtor.name, debtor.street, debtor.house_number, debtor.postcode, debtor.city)
    if not all(part and part.strip() for part in parts):
        return []
    postcode = debtor.postcode.replace(" ", "").upper()
    if len(postcode) == 6:
        postcode = f"{postcode[:4]} {postcode[4:]}"
    return [
        debtor.name.strip(),
        f"{debtor.street.strip()} {debtor.house_number.strip()}",
        f"{postcode}  {debtor.city.strip().upper()}",
    ]


def letter_amount_cents(message) -> int | None:
    """The amount the payment box asks for: the principal in a veertiendagenbrief (paying it
    within the term avoids the costs), otherwise the whole claim; None when there is none."""
    context = message.context or {}
    if "principal_cents" in context and "term_ends_on" in context:
        cents = context["principal_cents"]
    else:
        cents = context.get("claim_cents")
    if cents is None:
        return None
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise ValueError(f"message {message.pk}: amount {cents!r} is not integer cents")
    return cents if cents > 0 else None


def _css_string(text: str) -> str:
    """Quote text as a CSS string that cannot end the string or the style element."""
    out = []
    for ch in text:
        if ch in '\\"<>&' or ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return mark_safe('"' + "".join(out) + '"')


def _html_text(message) -> str:
    """The message text as HTML: the rendered HTML's body, or the plain text in paragraphs."""
    if message.body_html.strip():
        html = message.body_html
        match = BODY_RE.search(html)
        if match:
            html = match.group(1)
        # The outbox rendered this HTML from our own templates; scripts and style sheets of an
        # email layout have no place on paper.
        return mark_safe(UNSAFE_BLOCK_RE.sub("", html))
    return mark_safe(linebreaks(message.body_text, autoescape=True))


def _qr_uri(qr: segno.QRCode) -> str:
    # A small PNG, drawn without smoothing (image-rendering: pixelated), keeps the modules
    # sharp at any size. An SVG code looks the same but costs WeasyPrint about 1 MB of
    # memory per letter while a print batch is laid out; a PNG costs next to nothing.
    return qr.png_data_uri(scale=QR_SCALE, border=QR_BORDER)


def _phone(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    if parsed.country_code == 31:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _iban_display(iban: str) -> str:
    try:
        return IBAN(iban).formatted
    except SchwiftyException:
        return iban


def letter_context(*, message, now: datetime | None = None) -> dict:
    """Everything the letter template shows. Call inside the message's language."""
    creditor, debtor = message.creditor, message.debtor
    context = message.context or {}
    reference = str(context.get("case") or "")
    moment = message.sent_at or now or timezone.now()
    letter_date = moment.astimezone(AMSTERDAM).date()
    amount_cents = letter_amount_cents(message)
    portal_url = str(context.get("portal_url") or "")

    logo_uri = ""
    if creditor.logo and creditor.logo_type in ("image/svg+xml", "image/png"):
        encoded = base64.b64encode(bytes(creditor.logo)).decode("ascii")
        logo_uri = f"data:{creditor.logo_type};base64,{encoded}"

    epc_uri, epc_note = "", ""
    if amount_cents is not None:
        if not creditor.iban:
            epc_note = _(
                "Deze brief heeft geen betaal-QR-code: ons rekeningnummer ontbreekt nog. "
                "Betaal via uw persoonlijke link of neem contact met ons op."
            )
        else:
            try:
                qr = epc_qr(
                    name=creditor.name[:MAX_NAME],
                    iban=creditor.iban,
                    bic=creditor.bic,
                    amount_cents=amount_cents,
                    reference=reference or f"brief {message.pk}",
                )
            except ValueError:
                epc_note = _(
                    "Deze brief heeft geen betaal-QR-code. Maak het bedrag over met de "
                    "gegevens hierboven."
                )
            else:
                epc_uri = _qr_uri(qr)
    portal_uri = _qr_uri(segno.make_qr(portal_url, error="m")) if portal_url else ""

    sender_lines = [line.strip() for line in creditor.address.splitlines() if line.strip()]
    iban = _iban_display(creditor.iban) if creditor.iban else ""
    footer = " · ".join(
        part
        for part in (
            creditor.name,
            f"IBAN {iban}" if iban else "",
            f"BIC {creditor.bic}" if creditor.bic else "",
        )
        if part
    )
    return {
        "language": message.language or "nl",
        "creditor": creditor,
        "debtor": debtor,
        "subject": message.subject,
        "reference": reference,
        "letter_date": letter_date,
        "logo_uri": logo_uri,
        "sender_lines": sender_lines,
        "phone": _phone(creditor.phone) if creditor.phone else "",
        "return_line": (
            _("Retouradres: %(address)s") % {"address": ", ".join(sender_lines)}
            if sender_lines
            else ""
        ),
        "address_lines": postal_address_lines(debtor),
        "text": _html_text(message),
        "show_payment": bool(amount_cents or portal_url),
        "amount": format_eur(amount_cents, language=message.language) if amount_cents else "",
        "iban": iban,
        "epc_uri": epc_uri,
        "epc_note": epc_note,
        "portal_uri": portal_uri,
        "portal_url": portal_url,
        "css_footer_left": _css_string(footer),
        "css_page_before": _css_string(
            f"{reference} · {_('pagina')} " if reference else f"{_('pagina')} "
        ),
        "css_page_of": _css_string(f" {_('van')} "),
    }


def letter_html(*, message, now: datetime | None = None) -> str:
    """Return the letter as an HTML document (the input of ``letter_pdf``)."""
    with translation.override(message.language or "nl"):
        return render_to_string(TEMPLATE, letter_context(message=message, now=now))


def letter_document(*, message, now: datetime | None = None, font_config=None):
    """Lay the letter out as a WeasyPrint ``Document`` (pages not yet written).

    Pass one ``font_config`` to documents that will be merged, so they share their fonts.
    """
    html = HTML(
        string=letter_html(message=message, now=now),
        url_fetcher=URLFetcher(allowed_protocols=("data",)),
        base_url="data:,",
    )
    return html.render(font_config=font_config)


def letter_pdf(*, message, now: datetime | None = None) -> bytes:
    """Render one A4 letter as PDF bytes.

    The letter is dated ``message.sent_at`` (or ``now``) in Amsterdam, so rendering a sent
    letter again gives the same letter.
    """
    return letter_document(message=message, now=now).write_pdf()
