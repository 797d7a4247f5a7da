"""EPC QR codes (EPC069-12, "GiroCode"): a credit transfer a bank app fills in from a scan.

The payload is plain text, one field a line::

    BCD                  service tag
    002                  version (BIC optional inside the EEA)
    1                    character set: 1 = UTF-8
    SCT                  SEPA credit transfer
    ABNANL2A             BIC (may be empty)
    Energie Noord BV     beneficiary name, at most 70 characters
    NL91ABNA0417164300   beneficiary IBAN
    EUR40                amount: EUR0.01 to EUR999999999.99, no trailing zeros
    (empty)              purpose code
    RF18539007547034     structured creditor reference (ISO 11649), or empty
    000012-7             unstructured remittance text, when there is no structured reference

``epc_payload`` builds and checks that text; ``epc_qr`` draws the same payload with
``segno.helpers.make_epc_qr`` (error correction M, at most version 13, as the standard asks).
"""

import re
from decimal import Decimal

import segno
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from segno.helpers import make_epc_qr

MIN_CENTS = 1
MAX_CENTS = 99_999_999_999  # EUR999999999.99
MAX_NAME = 70
MAX_REFERENCE = 35
MAX_TEXT = 140
MAX_PAYLOAD_BYTES = 331
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
RF_RE = re.compile(r"^RF[0-9]{2}[0-9A-Z]{1,21}$")


def rf_reference_valid(reference: str) -> bool:
    """Return True for a valid ISO 11649 creditor reference (``RF`` + check digits + up to 21).

    >>> rf_reference_valid("RF18 5390 0754 7034")
    True
    >>> rf_reference_valid("RF19539007547034")
    False
    >>> rf_reference_valid("000012-7")
    False
    """
    compact = reference.replace(" ", "").upper()
    if not RF_RE.match(compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _amount(amount_cents: int) -> str:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise ValueError(f"amount: integer cents expected, got {amount_cents!r}")
    if not MIN_CENTS <= amount_cents <= MAX_CENTS:
        raise ValueError(f"amount: {amount_cents} cents is outside EUR0.01 to EUR999999999.99")
    # The shortest form, as segno writes it: EUR40, EUR40.5, EUR40.55.
    text = f"{Decimal(amount_cents) / 100:.2f}"
    return "EUR" + (text.rstrip("0").rstrip(".") if "." in text else text)


def _line(field: str, value: str, limit: int) -> str:
    value = value.strip()
    if CONTROL_RE.search(value):
        raise ValueError(f"{field}: contains a line break or control character")
    if len(value) > limit:
        raise ValueError(f"{field}: longer than {limit} characters ({len(value)})")
    return value


def epc_fields(
    *, name: str, iban: str, amount_cents: int, reference: str, bic: str = "", text: str = ""
) -> dict:
    """Check the input and return the payload's fields, normalised (see ``epc_payload``)."""
    name = _line("name", name, MAX_NAME)
    if not name:
        raise ValueError("name: required")
    try:
        iban = IBAN(iban.strip()).compact
    except SchwiftyException as exc:
        raise ValueError(f"iban: invalid IBAN {iban.strip()!r}: {exc}") from None
    if bic.strip():
        try:
            bic = BIC(bic.strip()).compact
        except SchwiftyException as exc:
            raise ValueError(f"bic: invalid BIC {bic.strip()!r}: {exc}") from None
    else:
        bic = ""
    amount = _amount(amount_cents)
    reference = _line("reference", reference, MAX_TEXT)
    text = _line("text", text, MAX_TEXT)
    structured = ""
    if reference.upper().startswith("RF") and reference[2:4].isdigit():
        if not rf_reference_valid(reference):
            raise ValueError(f"reference: {reference!r} is not a valid RF creditor reference")
        if text:
            raise ValueError(
                "text: an RF creditor reference and remittance text cannot both be given"
            )
        structured = reference.replace(" ", "").upper()
        if len(structured) > MAX_REFERENCE:  # pragma: no cover - RF_RE allows 25 at most
            raise ValueError(f"reference: longer than {MAX_REFERENCE} characters")
    else:
        # Anything else (such as a case reference) travels as unstructured text.
        text = " ".join(part for part in (reference, text) if part)
        if not text:
            raise ValueError("reference: a reference or a remittance text is required")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text: longer than {MAX_TEXT} characters ({len(text)})")
    return {
        "name": name,
        "iban": iban,
        "bic": bic,
        "amount": amount,
        "structured": structured,
        "text": text,
    }


def _payload(fields: dict) -> str:
    lines = [
        "BCD",
        "002",
        "1",
        "SCT",
        fields["bic"],
        fields["name"],
        fields["iban"],
        fields["amount"],
        "",  # purpose
        fields["structured"],
    ]
    if fields["text"]:
        lines.append(fields["text"])
    payload = "\n".join(lines)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload: longer than {MAX_PAYLOAD_BYTES} bytes")
    return payload


def epc_payload(
    *, name: str, iban: str, amount_cents: int, reference: str, bic: str = "", text: str = ""
) -> str:
    """Return the EPC069-12 payload (version 002, UTF-8, SCT) of a credit transfer.

    ``reference`` goes in the structured field when it is a valid RF creditor reference, and
    otherwise, followed by ``text``, in the unstructured remittance text. Raise ValueError
    with the reason for a bad IBAN or BIC, an empty or over-long name, an amount outside
    EUR0.01-EUR999999999.99, or a missing or over-long reference.

    >>> print(epc_payload(name="Energie Noord BV", iban="NL91 ABNA 0417 1643 00",
    ...                   amount_cents=4050, reference="000012-7"))
    BCD
    002
    1
    SCT
    <BLANKLINE>
    Energie Noord BV
    NL91ABNA0417164300
    EUR40.5
    <BLANKLINE>
    <BLANKLINE>
    000012-7
    """
    return _payload(
        epc_fields(
            name=name, iban=iban, amount_cents=amount_cents, reference=reference, bic=bic, text=text
        )
    )


def epc_qr(
    *, name: str, iban: str, amount_cents: int, reference: str, bic: str = "", text: str = ""
) -> segno.QRCode:
    """Return the EPC QR code of ``epc_payload`` with the same arguments."""
    fields = epc_fields(
        name=name, iban=iban, amount_cents=amount_cents, reference=reference, bic=bic, text=text
    )
    _payload(fields)  # the size check
    return make_epc_qr(
        name=fields["name"],
        iban=fields["iban"],
        amount=Decimal(amount_cents) / 100,
        text=fields["text"] or None,
        reference=fields["structured"] or None,
        bic=fields["bic"] or None,
        encoding=1,
    )
