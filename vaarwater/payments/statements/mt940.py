"""Read SWIFT MT940 statements with the ``mt-940`` library (import name ``mt940``).

The library parses the tags (``:61:`` lines, balances). Around it this module does what it
does not: it splits a file into statements at each ``:20:`` and keeps the line number of
every tag (for errors and for each entry), unwraps the SWIFT envelope
(``{1:...}{2:...}{4:`` ... ``-}``), keeps a statement-level ``:86:`` after the closing
balance away from the last transaction, and reads the Dutch banks' ``:86:`` habits for the
other party and the description:

- structured ``/TRTP/.../IBAN/.../NAME/.../REMI/.../EREF/...`` (ABN AMRO, ING, Rabobank
  SEPA; Rabobank ``/CNTP/iban/bic/name/city/``),
- Knab ``REK: <iban>/NAAM: <name>``, SNS and ASN ``<iban or account> <name>`` on the first
  line (the name again on the ``:61:`` line), Triodos ``>20..>29`` description and
  ``>31`` account, ``>32``/``>33`` name,
- the old Rabobank ``:61:`` that carries the other party's account and name itself.

The account in ``:25:`` may be an old account number (``517852257``, ``1291.99.348EUR``):
it is kept as the bank wrote it.
"""

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import mt940 as mt940_lib
from mt940.tags import StatementASNB

from .parsed import (
    IBAN_IN_TEXT_RE,
    IBAN_RE,
    ParsedEntry,
    ParsedFile,
    ParsedStatement,
    StatementError,
    account_normalise,
    cents_checked,
    clean_text,
    iban_compact,
    is_iban,
)

TAG_RE = re.compile(r"^:(\d{2}[A-Z]?|NS):(.*)$")
END_RE = re.compile(r"^-[A-Z]{0,3}\}?$")  # end of a message: "-", "-}", ING's "-XXX"
OPTIONS = mt940_lib.Options.all()
# A line of :86: is at most 65 characters; a full line continues on the next without a space.
LINE_WIDTH = 65
NO_REFERENCE = {"NONREF", "NOTPROVIDED", "EREF", ""}

STRUCTURED_KEYS = [
    "TRTP",
    "IBAN",
    "BIC",
    "NAME",
    "REMI",
    "EREF",
    "ORDP",
    "BENM",
    "ID",
    "ADDR",
    "CSID",
    "MARF",
    "RTRN",
    "ISDT",
    "CNTP",
    "PREF",
    "SVCL",
    "ULTC",
    "ULTD",
    "ULTB",
    "PURP",
    "CDTRREFTP",
    "CDTRREF",
    "ISSR",
    "ACCW",
    "BUSP",
    "RTYP",
    "EXCH",
    "CHGS",
    "OCMT",
    "FX",
]
STRUCTURED_RE = re.compile(
    "/(" + "|".join(sorted(STRUCTURED_KEYS, key=len, reverse=True)) + ")/", re.IGNORECASE
)
KNAB_RE = re.compile(r"REK:\s*([A-Z0-9 ]+?)\s*/\s*NAAM:\s*(.*)$", re.IGNORECASE | re.DOTALL)
TRIODOS_RE = re.compile(r">(\d{2})")


@dataclass
class Tag:
    code: str  # "20", "61", "60F", ...
    line: int
    lines: list[str] = field(default_factory=list)  # the first without ":XX:"

    @property
    def value(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines).strip()


def _lines(text: str) -> list[tuple[int, str]]:
    """The file's lines with their numbers, the SWIFT envelope taken off."""
    out = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if line.startswith("{"):
            # {1:F01...}{2:O940...}{3:}{4: opens the text block (the rest of the line is in it).
            start = line.find("{4:")
            line = line[start + 3 :] if start >= 0 else ""
        if line.startswith("-}"):
            line = "-"
        out.append((number, line))
    return out


def _tags(text: str, file_name: str) -> list[list[Tag]]:
    """The file's tags, grouped per statement (each starts at :20:)."""
    statements: list[list[Tag]] = []
    current: Tag | None = None
    for number, line in _lines(text):
        match = TAG_RE.match(line)
        if match:
            code = match.group(1)
            current = Tag(code, number, [match.group(2)])
            if code == "20":
                statements.append([])
            elif not statements:
                raise StatementError(
                    f"tag :{code}: comes before the :20: that starts a statement",
                    file_name=file_name,
                    line=number,
                    field=f":{code}:",
                )
            statements[-1].append(current)
        elif END_RE.match(line.strip()):
            current = None  # what follows up to the next :20: is envelope or header
        elif current is not None:
            current.lines.append(line)
    return statements


def _join_86(tags: list[Tag]) -> str:
    """The description of one transaction from its :86: tag(s), unwrapped.

    Structured text (``/KEY/value``) is cut at the line width anywhere, so its lines join
    without a space. Free text joins with a space, except after a full-width line that does
    not end in a space (a word cut in two).
    """
    parts = []
    for tag in tags:
        lines = tag.lines
        if lines and lines[0].lstrip().startswith("/"):
            parts.append("".join(lines))
            continue
        text = ""
        for i, line in enumerate(lines):
            piece = line.strip()
            if i and piece:
                previous = lines[i - 1]
                full = len(previous) >= LINE_WIDTH and not previous.endswith(" ")
                glue = "" if full or piece.startswith(">") else " "
                text = f"{text}{glue}{piece}" if text else piece
            elif piece:
                text = piece
        parts.append(text)
    return " ".join(part for part in parts if part.strip())


def _structured(text: str) -> dict[str, str]:
    """``/EREF/x/BENM//NAME/y/REMI/z`` → {'EREF': 'x', 'BENM': '', 'NAME': 'y', 'REMI': 'z'}.

    >>> _structured("/EREF/01-01 0030/BENM//NAME/CONTRA ACCOUNT HOLDER/REMI//ISDT/2013-07-11")
    {'EREF': '01-01 0030', 'BENM': '', 'NAME': 'CONTRA ACCOUNT HOLDER', 'REMI': '', 'ISDT': '2013-07-11'}
    """  # noqa: E501
    fields: dict[str, str] = {}
    matches = list(STRUCTURED_RE.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[match.end() : end]
        fields.setdefault(match.group(1).upper(), clean_text(value.strip("/")) if value else "")
    return fields


def details_86(text: str, *, extra: str = "", customer_reference: str = "") -> dict[str, str]:
    """Read the other party, the description and references from a :86: text.

    ``extra`` is the :61: line's supplementary details (a name or an IBAN at some banks),
    ``customer_reference`` its reference (an account number at the old Rabobank).

    >>> d = details_86("/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/J DE "
    ...                "VRIES/REMI/Factuur F-2026-001/EREF/NOTPROVIDED")
    >>> d["iban"], d["name"], d["remittance"], d["end_to_end_id"]
    ('NL91ABNA0417164300', 'J DE VRIES', 'Factuur F-2026-001', '')
    >>> d = details_86("REK: NL65INGB0123456789/NAAM: PICQER", extra="")
    >>> d["iban"], d["name"]
    ('NL65INGB0123456789', 'PICQER')
    """
    out = {
        "name": "",
        "iban": "",
        "remittance": "",
        "structured": "",
        "end_to_end_id": "",
        "return_code": "",
        "mandate_id": "",
    }
    text = clean_text(text)
    extra = clean_text(extra)
    ibans: list[str] = []
    names: list[str] = []
    fields = _structured(text) if text.startswith("/") else {}
    if len(fields) >= 2:
        ibans.append(fields.get("IBAN", ""))
        names.append(fields.get("NAME", ""))
        if fields.get("CNTP"):
            parts = fields["CNTP"].split("/")
            ibans.append(parts[0])
            names.append(parts[2] if len(parts) > 2 else "")
        remittance = fields.get("REMI", "")
        upper = remittance.upper()
        if upper.startswith("USTD"):
            remittance = remittance[4:].lstrip("/ ")
        elif upper.startswith("STRD"):
            out["structured"] = remittance.rsplit("/", 1)[-1].strip()
            remittance = out["structured"]
        if fields.get("CDTRREF"):
            out["structured"] = fields["CDTRREF"]
            remittance = clean_text(f"{remittance} {fields['CDTRREF']}")
        out["remittance"] = remittance
        eref = fields.get("EREF", "")
        out["end_to_end_id"] = "" if eref.upper() in NO_REFERENCE else eref
        out["return_code"] = fields.get("RTRN", "").split("/")[0].strip()
        out["mandate_id"] = fields.get("MARF", "")
    elif re.match(r"^\d{3}\s*>\d{2}", text):
        pieces = TRIODOS_RE.split(re.sub(r"\s*>(?=\d{2})", ">", text))
        segments: dict[str, str] = {}
        for code, value in zip(pieces[1::2], pieces[2::2], strict=False):
            segments[code] = segments.get(code, "") + value
        description = "".join(
            segments.get(str(code), "") for code in (*range(20, 30), *range(60, 64))
        )
        out["remittance"] = clean_text(description)
        ibans.append(iban_compact(segments.get("31", "")))
        names.append(clean_text(segments.get("32", "") + segments.get("33", "")))
    else:
        description = text
        knab = KNAB_RE.search(text)
        if knab:
            ibans.append(iban_compact(knab.group(1)))
            names.append(clean_text(knab.group(2)))
            description = text[: knab.start()]
        else:
            first, _, rest = text.partition(" ")
            if IBAN_RE.match(first.upper()):
                # SNS / ASN: "<iban> <name> <description>", the name also on the :61: line.
                ibans.append(first.upper())
                if extra and rest.lower().startswith(extra.lower()):
                    rest = rest[len(extra) :]
                description = rest
        out["remittance"] = clean_text(description)
    # Where the bank puts an account, an IBAN-shaped value is taken (test files use dummy
    # numbers whose check digits fail); in free text only a valid IBAN counts.
    ibans += [iban_compact(extra), iban_compact(customer_reference)]
    shaped = next((i for i in ibans if i and IBAN_RE.match(i)), "")
    found = [i for i in IBAN_IN_TEXT_RE.findall(text.upper()) if is_iban(i)]
    out["iban"] = shaped or (found[0] if found else "")
    if extra and not IBAN_RE.match(iban_compact(extra)) and not extra.replace(" ", "").isdigit():
        names.append(extra)
    out["name"] = next((n for n in names if n), "")
    return out


def _block(tags: list[Tag]) -> str:
    return "\n".join(f":{tag.code}:" + "\n".join(tag.lines) for tag in tags) + "\n"


def _tag_line(tags: list[Tag], exc: RuntimeError) -> tuple[int | None, str]:
    """The line and tag of the value mt-940 could not parse."""
    args = exc.args
    failed_tag = args[1] if len(args) > 1 else None
    value = clean_text(str(args[2])) if len(args) > 2 else ""
    tag_id = str(getattr(failed_tag, "id", ""))
    for tag in tags:
        if tag.code.startswith(tag_id) and clean_text(tag.value) == value:
            return tag.line, f":{tag.code}:"
    for tag in tags:
        if tag_id and tag.code.startswith(tag_id):
            return tag.line, f":{tag.code}:"
    return (tags[0].line if tags else None), f":{tag_id}:" if tag_id else ""


def _cents(amount, *, file_name: str, line: int, field_name: str) -> int:
    value = amount.amount if hasattr(amount, "amount") else amount
    try:
        value = Decimal(value)
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        shown = amount.amount if hasattr(amount, "amount") else amount
        raise StatementError(
            f"{str(shown)!r} is not an amount in cents (at most two decimals)",
            file_name=file_name,
            line=line,
            field=field_name,
        ) from None
    try:
        return cents_checked(int(value * 100), f"{value:f}")
    except ValueError as exc:
        raise StatementError(str(exc), file_name=file_name, line=line, field=field_name) from None


BALANCE_DATE_RE = re.compile(r"^[CD](\d{6})")
ENTRY_DATES_RE = re.compile(r"^(\d{6})(\d{4})?")


def _dates_check(tags: list[Tag], file_name: str) -> None:
    """Refuse a date that does not exist (``260230``) with its line, before mt-940 reads it.

    >>> _dates_check([Tag("61", 7, ["2602300230C12,34NTRFNONREF"])], "x.sta")
    Traceback (most recent call last):
    ...
    vaarwater.payments.statements.parsed.StatementError: x.sta, line 7, :61: value date: '260230' is not a date (YYMMDD)
    """  # noqa: E501
    for tag in tags:
        value = tag.lines[0].strip() if tag.lines else ""
        checks = []
        if tag.code in ("60F", "60M", "62F", "62M", "64", "65"):
            match = BALANCE_DATE_RE.match(value)
            if match:
                checks.append(("date", match.group(1), "YYMMDD"))
        elif tag.code == "61":
            match = ENTRY_DATES_RE.match(value)
            if match:
                checks.append(("value date", match.group(1), "YYMMDD"))
                if match.group(2):
                    # The booking date has no year: a leap year lets 29 February through.
                    checks.append(("booking date", "00" + match.group(2), "MMDD"))
        for name, digits, shape in checks:
            try:
                date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
            except ValueError:
                shown = digits[2:] if shape == "MMDD" else digits
                raise StatementError(
                    f"{shown!r} is not a date ({shape})",
                    file_name=file_name,
                    line=tag.line,
                    field=f":{tag.code}: {name}",
                ) from None


def _statement(tags: list[Tag], file_name: str) -> ParsedStatement:
    by_code = {}
    for tag in tags:
        by_code.setdefault(tag.code, tag)
    start = tags[0]
    account_tag = by_code.get("25")
    if account_tag is None or not account_tag.value:
        raise StatementError(
            "the statement has no account (:25:)",
            file_name=file_name,
            line=start.line,
            field=":25:",
        )
    opening_tag = by_code.get("60F") or by_code.get("60M")
    closing_index = next(
        (i for i, tag in enumerate(tags) if tag.code in ("62F", "62M")),
        None,
    )
    if opening_tag is None:
        raise StatementError(
            "the statement has no opening balance (:60F: or :60M:)",
            file_name=file_name,
            line=start.line,
            field=":60F:",
        )
    if closing_index is None:
        last = tags[-1]
        raise StatementError(
            "the statement ends without a closing balance (:62F: or :62M:): is the file cut off?",
            file_name=file_name,
            line=last.line,
            field=":62F:",
        )
    # Tags after the closing balance: :64:/:65: go to mt-940, a :86: there is statement
    # information (ING), not the last transaction's description. A transaction there would
    # be lost: such a file is refused.
    late = next((tag for tag in tags[closing_index + 1 :] if tag.code == "61"), None)
    if late is not None:
        raise StatementError(
            "a transaction after the closing balance (:62F:/:62M:) of its statement; a new "
            "statement starts with :20:",
            file_name=file_name,
            line=late.line,
            field=":61:",
        )
    body = tags[: closing_index + 1] + [
        tag for tag in tags[closing_index + 1 :] if tag.code in ("64", "65")
    ]
    lines61 = [tag for tag in body if tag.code == "61"]
    details: list[list[Tag]] = []
    for tag in body:
        if tag.code == "61":
            details.append([])
        elif tag.code == "86" and details:
            details[-1].append(tag)
    _dates_check(body, file_name)
    parsed = None
    error = None
    for tag_override in (None, {61: StatementASNB()}):
        transactions = mt940_lib.models.Transactions(tags=tag_override, options=OPTIONS)
        try:
            with _quiet():
                transactions.parse(_block(body))
        except RuntimeError as exc:
            line, tag_name = _tag_line(body, exc)
            value = clean_text(str(exc.args[2]))[:80] if len(exc.args) > 2 else ""
            error = StatementError(
                f"mt-940 cannot read {value!r}: not a form of this tag that MT940 allows",
                file_name=file_name,
                line=line,
                field=tag_name,
            )
            continue
        except (ValueError, InvalidOperation, KeyError, TypeError) as exc:
            raise StatementError(
                f"cannot be read: {exc}",
                file_name=file_name,
                line=start.line,
                field="statement starting here",
            ) from None
        parsed = transactions
        break
    if parsed is None:
        raise error
    if len(parsed.transactions) != len(lines61):
        raise StatementError(
            f"{len(lines61)} :61: lines but mt-940 read {len(parsed.transactions)} transactions",
            file_name=file_name,
            line=start.line,
        )
    data = parsed.data
    number = clean_text(f"{data.get('statement_number') or ''}")
    sequence = data.get("sequence_number")
    reference = clean_text(data.get("transaction_reference") or by_code["20"].value)
    statement = ParsedStatement(
        account=account_normalise(account_tag.value),
        statement_id=" ".join(
            p for p in (reference, f"{number}/{sequence}" if sequence else number) if p
        )[:64],
        line=start.line,
        currency=parsed.currency or "EUR",
    )
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    closing_tag = tags[closing_index]
    if opening is not None:
        statement.opening_cents = _cents(
            opening.amount, file_name=file_name, line=opening_tag.line, field_name=":60F:"
        )
        statement.from_date = _date(opening.date)
    if closing is not None:
        statement.closing_cents = _cents(
            closing.amount, file_name=file_name, line=closing_tag.line, field_name=":62F:"
        )
        statement.to_date = _date(closing.date)
    for tag61, tags86, transaction in zip(lines61, details, parsed.transactions, strict=True):
        statement.entries.append(_entry(tag61, tags86, transaction.data, statement, file_name))
    return statement


@contextmanager
def _quiet():
    """mt-940 logs an error for every line its pattern refuses; the refusal is reported here."""
    logger = logging.getLogger("mt940")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _date(value) -> date | None:
    if value is None:
        return None
    return date(value.year, value.month, value.day)


def _entry(tag61: Tag, tags86: list[Tag], data: dict, statement, file_name: str) -> ParsedEntry:
    amount = data.get("amount")
    cents = _cents(amount, file_name=file_name, line=tag61.line, field_name=":61: amount")
    value_date = _date(data.get("date"))
    booking_date = _date(data.get("entry_date")) or value_date
    if booking_date is None:
        raise StatementError("no date", file_name=file_name, line=tag61.line, field=":61:")
    status = (data.get("status") or "").upper()
    customer_reference = clean_text(data.get("customer_reference") or "")
    extra = clean_text(data.get("extra_details") or "")
    info = details_86(_join_86(tags86), extra=extra, customer_reference=customer_reference)
    bank_reference = clean_text(data.get("bank_reference") or "")
    return ParsedEntry(
        line=tag61.line,
        amount_cents=cents,
        booking_date=booking_date,
        value_date=value_date,
        currency=getattr(amount, "currency", None) or statement.currency,
        reversal=status.startswith("R"),
        counterparty_name=info["name"],
        counterparty_iban=info["iban"],
        remittance=info["remittance"],
        structured_reference=info["structured"],
        end_to_end_id=info["end_to_end_id"],
        bank_reference=bank_reference,
        return_code=info["return_code"],
        bank_code=clean_text(data.get("id") or ""),
        mandate_id=info["mandate_id"],
    )


def parse_mt940(raw: bytes, *, file_name: str = "") -> ParsedFile:
    """Parse an MT940 file into statements and entries; StatementError if it cannot."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    groups = _tags(text, file_name)
    if not groups:
        raise StatementError(
            "no statement in the file (no :20: tag): not an MT940 file",
            file_name=file_name,
            line=1,
        )
    statements = [_statement(tags, file_name) for tags in groups]
    return ParsedFile(file_name=file_name, file_format="mt940", statements=statements)
