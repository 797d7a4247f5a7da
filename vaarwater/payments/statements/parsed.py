"""What a bank-statement parser returns, whatever the format: plain dataclasses, no Django.

A file holds one or more statements; a statement holds entries. Amounts are integer cents,
negative for a debit. A parser refuses what it cannot read with a ``StatementError`` that
names the file, the line, the field and the reason.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation


class StatementError(ValueError):
    """A statement file that cannot be read: names the file, line, field and reason."""

    def __init__(self, reason: str, *, file_name: str = "", line: int | None = None, field=""):
        self.reason = reason
        self.file_name = file_name
        self.line = line
        self.field = field
        super().__init__(self.message())

    def message(self) -> str:
        where = self.file_name or "statement"
        if self.line:
            where += f", line {self.line}"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.reason}"

    def __str__(self) -> str:
        return self.message()


@dataclass
class ParsedEntry:
    """One booked line of a statement (a batch split into its transactions is several)."""

    line: int | None
    amount_cents: int  # negative for a debit
    booking_date: date
    value_date: date | None = None
    currency: str = "EUR"
    reversal: bool = False
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""  # the description: unstructured text and structured references
    structured_reference: str = ""  # e.g. the SCOR creditor reference or an invoice number
    end_to_end_id: str = ""
    bank_reference: str = ""  # the bank's own reference (AcctSvcrRef, :61: //ref)
    return_code: str = ""  # why a payment came back (RtrInf/Rsn/Cd, /RTRN/)
    bank_code: str = ""  # the bank transaction code, e.g. PMNT/RCDT/ESCT or NTRF
    mandate_id: str = ""
    batch_id: str = ""  # payment information id (or message id) of a batch booking
    batch_count: int | None = None


@dataclass
class ParsedStatement:
    """One account statement: the account, its balances and its entries."""

    account: str  # an IBAN, compact and upper-case; else the account as the bank wrote it
    statement_id: str = ""
    line: int | None = None
    currency: str = "EUR"
    opening_cents: int | None = None
    closing_cents: int | None = None
    from_date: date | None = None
    to_date: date | None = None
    entries: list[ParsedEntry] = field(default_factory=list)
    skipped: int = 0  # entries not booked yet (pending, information only): left out
    # Every balance as (type code, cents, date, currency): CAMT has more than opening/closing.
    balances: list[tuple] = field(default_factory=list)


@dataclass
class ParsedFile:
    file_name: str
    file_format: str  # camt.053.001.02 | camt.053.001.04 | camt.053.001.08 | mt940
    statements: list[ParsedStatement] = field(default_factory=list)


# -- small helpers shared by the parsers -------------------------------------------------------

IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
IBAN_IN_TEXT_RE = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b")


def iban_compact(value: str) -> str:
    """``'nl91 abna 0417 1643 00'`` → ``'NL91ABNA0417164300'`` (no check).

    >>> iban_compact(" nl91 abna 0417 1643 00 ")
    'NL91ABNA0417164300'
    """
    return re.sub(r"[\s.-]", "", value or "").upper()


def is_iban(value: str) -> bool:
    """Whether a compact string is an IBAN with a valid mod-97 check.

    >>> is_iban("NL91ABNA0417164300"), is_iban("NL91ABNA0417164301"), is_iban("0517852257")
    (True, False, False)
    """
    if not IBAN_RE.match(value or ""):
        return False
    moved = value[4:] + value[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def account_normalise(value: str) -> str:
    """An account as stored: a valid IBAN compact, anything else stripped as written.

    >>> account_normalise("nl91 abna 0417 1643 00"), account_normalise(" 1291.99.348EUR ")
    ('NL91ABNA0417164300', '1291.99.348EUR')
    """
    compact = iban_compact(value)
    return compact if is_iban(compact) else (value or "").strip()


# No bank statement holds an amount this large; refusing it keeps sums of many entries far
# from the 64-bit limit of the database (and a typo of many digits out of the ledger).
MAX_CENTS = 10**13  # € 100,000,000,000.00
AMOUNT_RE = re.compile(r"^\+?(?:\d+(?:\.\d*)?|\.\d+)$")


def decimal_to_cents(text: str) -> int:
    """``'8.85'`` → ``885``; refuses a minus, an exponent, more than two decimals, an amount of
    € 100 billion or more, and anything not a number (the sign is in CdtDbtInd).

    >>> decimal_to_cents("8.85"), decimal_to_cents("2700"), decimal_to_cents("0.5")
    (885, 270000, 50)
    >>> decimal_to_cents("-10.00")
    Traceback (most recent call last):
    ...
    ValueError: '-10.00' is not an amount (an amount has no sign: CdtDbtInd says credit or debit)
    >>> decimal_to_cents("1E+30")
    Traceback (most recent call last):
    ...
    ValueError: '1E+30' is not an amount
    """
    value = (text or "").strip()
    if value.startswith("-"):
        raise ValueError(
            f"{text!r} is not an amount (an amount has no sign: CdtDbtInd says credit or debit)"
        )
    if not AMOUNT_RE.match(value):
        raise ValueError(f"{text!r} is not an amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if amount * 100 >= MAX_CENTS:
        cents_checked(MAX_CENTS, text)  # raises, naming the amount
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{text!r} has more than two decimals")
    return int(amount * 100)


def cents_checked(cents: int, text: str = "") -> int:
    """``cents`` if it is below ``MAX_CENTS`` (in absolute value); ValueError otherwise."""
    if abs(cents) >= MAX_CENTS:
        raise ValueError(
            f"{(text or str(cents))!r} is too large for a bank statement amount "
            "(at most 99,999,999,999.99)"
        )
    return cents


def clean_text(value: str) -> str:
    """Collapse runs of whitespace (and soft hyphens, tabs, line breaks) to one space."""
    return " ".join((value or "").replace("\xad", "-").split())
