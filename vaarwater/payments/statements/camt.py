"""Read ISO 20022 CAMT.053 bank-to-customer statements (camt.053.001.02, .04 and .08).

The version comes from the XML namespace; any other message (another camt.053 version, a
camt.052 report, a camt.054 notification, a pain file, something else) is refused with an
error naming it. The file is read as a stream (``iterparse``), one ``Ntry`` at a time, so a
statement of 100,000 entries does not need its whole tree in memory. Parsing is lenient
about what the importer does not need and strict about what it does (amount, sign, booking
date, account), with the line of the offending element in every error.
"""

import re
from collections import deque
from datetime import date
from functools import lru_cache
from io import BytesIO

from lxml import etree

from .parsed import (
    ParsedEntry,
    ParsedFile,
    ParsedStatement,
    StatementError,
    account_normalise,
    clean_text,
    decimal_to_cents,
    iban_compact,
)

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
SUPPORTED = ("camt.053.001.02", "camt.053.001.04", "camt.053.001.08")
SUPPORTED_TEXT = "supported: camt.053.001.02, .04, .08 and MT940"
MESSAGE_RE = re.compile(r"^([a-z]{4})\.(\d{3})\.(\d{3})\.(\d{2})$")
NOT_PROVIDED = {"NOTPROVIDED", "NOT PROVIDED", "NONREF"}


def version_of(namespace: str, root: str) -> str:
    """The supported camt.053 version a root element is in; StatementError for anything else.

    >>> version_of("urn:iso:std:iso:20022:tech:xsd:camt.053.001.08", "Document")
    'camt.053.001.08'
    >>> version_of("urn:iso:std:iso:20022:tech:xsd:camt.054.001.02", "Document")
    Traceback (most recent call last):
    ...
    vaarwater.payments.statements.parsed.StatementError: statement: camt.054.001.02 is a debit/credit notification, not a statement (camt.053); supported: camt.053.001.02, .04, .08 and MT940
    """  # noqa: E501
    message = namespace[len(NAMESPACE_PREFIX) :] if namespace.startswith(NAMESPACE_PREFIX) else ""
    if message in SUPPORTED and root == "Document":
        return message
    match = MESSAGE_RE.match(message)
    if match:
        area, number = match.group(1), match.group(2)
        if area == "camt" and number == "053":
            if message in SUPPORTED:
                why = f"the root element is <{root}>, not <Document>"
            else:
                why = "a version of camt.053 this importer does not read"
        elif area == "camt" and number == "052":
            why = "an intraday account report, not a statement (camt.053)"
        elif area == "camt" and number == "054":
            why = "a debit/credit notification, not a statement (camt.053)"
        elif area == "pain":
            why = "a payment initiation message (pain), not a bank statement"
        elif area == "pacs":
            why = "an interbank clearing message (pacs), not a bank statement"
        else:
            why = "not a bank statement (camt.053)"
        raise StatementError(f"{message} is {why}; {SUPPORTED_TEXT}")
    if not namespace:
        raise StatementError(
            f"XML without an ISO 20022 namespace (root element <{root}>) is not a CAMT.053 "
            f"statement; {SUPPORTED_TEXT}"
        )
    raise StatementError(
        f"XML in namespace {namespace!r} (root element <{root}>) is not a CAMT.053 statement; "
        f"{SUPPORTED_TEXT}"
    )


@lru_cache(maxsize=512)
def _path(ns: str, path: str) -> str:
    return "/".join(f"{{{ns}}}{part}" for part in path.split("/"))


class _Reader:
    """Reads one file: knows its namespace and name, for paths and error messages.

    Lookups take an lxml element or, for the many small lookups per entry, an index of the
    element's descendants by path (``index``): a dict lookup instead of an XPath search.
    """

    def __init__(self, ns: str, file_name: str):
        self.ns = ns
        self.file_name = file_name
        self.cut = len(ns) + 2  # "{ns}"

    def q(self, path: str) -> str:
        return _path(self.ns, path)

    def index(self, el, *, stop: str = "") -> dict[str, list]:
        """Every descendant by its path below ``el`` (``'Refs/EndToEndId'``), in document
        order; below ``stop`` (a path) it does not look."""
        found: dict[str, list] = {}
        queue = deque([(el, "")])
        cut = self.cut
        while queue:
            node, prefix = queue.popleft()
            for child in node:
                tag = child.tag
                if not isinstance(tag, str):
                    continue  # a comment or processing instruction
                path = prefix + tag[cut:]
                same = found.get(path)
                if same is None:
                    found[path] = [child]
                else:
                    same.append(child)
                if len(child) and path != stop:
                    queue.append((child, path + "/"))
        return found

    def find(self, node, path: str):
        if isinstance(node, dict):
            found = node.get(path)
            return found[0] if found else None
        return node.find(self.q(path))

    def all(self, node, path: str) -> list:
        if isinstance(node, dict):
            return node.get(path, [])
        return node.findall(self.q(path))

    def text(self, node, path: str) -> str:
        found = self.find(node, path)
        if found is None or found.text is None:
            return ""
        return found.text.strip()

    def error(self, reason: str, el=None, field: str = "") -> StatementError:
        return StatementError(
            reason,
            file_name=self.file_name,
            line=getattr(el, "sourceline", None),
            field=field,
        )

    # -- values ---------------------------------------------------------------------------

    def amount(self, el, field: str, *, required: bool = True, at=None) -> tuple[int | None, str]:
        """Cents and currency; ``at`` is the element an error points at if ``el`` is missing."""
        if el is None or not (el.text or "").strip():
            if required:
                raise self.error("missing", el if el is not None else at, field)
            return None, ""
        try:
            return decimal_to_cents(el.text), el.get("Ccy", "")
        except ValueError as exc:
            raise self.error(str(exc), el, field) from None

    def sign(self, node, path: str, field: str, *, default: int | None = None, at=None) -> int:
        """+1 for CRDT, -1 for DBIT; ``at`` is the element an error points at if it is missing."""
        value = self.text(node, path)
        if value == "CRDT":
            return 1
        if value == "DBIT":
            return -1
        if not value and default is not None:
            return default
        found = self.find(node, path)
        raise self.error(
            f"expected CRDT or DBIT, found {value!r}" if value else "missing",
            found if found is not None else (at if at is not None else node),
            field,
        )

    def day(self, node, path: str, field: str, *, required: bool, at=None) -> date | None:
        """A date from ``<X><Dt>`` or ``<X><DtTm>`` (the date part, as the bank wrote it)."""
        holder = self.find(node, path)
        if holder is None:
            if required:
                raise self.error("missing", at if at is not None else node, field)
            return None
        raw = self.text(holder, "Dt") or self.text(holder, "DtTm")
        if not raw:
            if required:
                raise self.error("missing (no Dt or DtTm)", holder, field)
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise self.error(f"{raw!r} is not a date", holder, field) from None

    def party(self, node, role: str) -> tuple[str, str]:
        """Name and account (IBAN, or other id) of the ``Dbtr`` or ``Cdtr`` in RltdPties."""
        name = (
            self.text(node, f"RltdPties/{role}/Nm")
            or self.text(node, f"RltdPties/{role}/Pty/Nm")  # camt.053.001.08
            or self.text(node, f"RltdPties/Ultmt{role}/Nm")
            or self.text(node, f"RltdPties/Ultmt{role}/Pty/Nm")
        )
        account = self.text(node, f"RltdPties/{role}Acct/Id/IBAN") or self.text(
            node, f"RltdPties/{role}Acct/Id/Othr/Id"
        )
        return clean_text(name), account_normalise(account) if account else ""


def _clear(el) -> None:
    """Free an element that has been read, and the siblings read before it."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _line_of(raw: bytes, needle: bytes) -> int | None:
    at = raw.find(needle)
    return raw.count(b"\n", 0, at) + 1 if at >= 0 else None


def _root(raw: bytes, file_name: str) -> tuple[str, str]:
    """The root element's namespace and the supported version it stands for."""
    try:
        for _event, el in etree.iterparse(
            BytesIO(raw), events=("start",), resolve_entities=False, no_network=True
        ):
            qname = etree.QName(el)
            if el.getroottree().docinfo.doctype:
                # Banks never send one; it could define entities (XXE, "billion laughs").
                raise StatementError(
                    "a document type declaration (<!DOCTYPE ...>) is not allowed in a bank "
                    "statement: it can define entities, and no bank sends one",
                    file_name=file_name,
                    line=_line_of(raw, b"<!DOCTYPE") or el.sourceline,
                    field="DOCTYPE",
                )
            try:
                return qname.namespace or "", version_of(qname.namespace or "", qname.localname)
            except StatementError as exc:
                raise StatementError(
                    exc.reason, file_name=file_name, line=el.sourceline, field="namespace"
                ) from None
    except etree.XMLSyntaxError as exc:
        raise StatementError(
            f"not well-formed XML ({exc.msg})",
            file_name=file_name,
            line=exc.lineno or None,
            field="xml",
        ) from None
    raise StatementError("empty file", file_name=file_name)


def parse_camt(raw: bytes, *, file_name: str = "") -> ParsedFile:
    """Parse a CAMT.053 file into statements and entries; StatementError if it cannot."""
    ns, version = _root(raw, file_name)
    reader = _Reader(ns, file_name)
    tag_stmt, tag_ntry = reader.q("Stmt"), reader.q("Ntry")
    tag_container = reader.q("BkToCstmrStmt")
    statements: list[ParsedStatement] = []
    stmt: ParsedStatement | None = None
    stmt_el = None
    header_read = False
    container_line = None
    # Only these elements come back to Python; the parser builds the rest of each entry.
    context = etree.iterparse(
        BytesIO(raw),
        events=("start", "end"),
        tag=(tag_container, tag_stmt, tag_ntry),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    )
    try:
        for event, el in context:
            tag = el.tag
            if event == "start":
                if tag == tag_container:
                    container_line = el.sourceline
                elif tag == tag_stmt:
                    stmt_el, header_read = el, False
                    stmt = ParsedStatement(account="", line=el.sourceline)
                continue
            if tag == tag_ntry:
                if stmt is None or el.getparent() is not stmt_el:
                    continue
                if not header_read:
                    # Account and balances come before the entries; read them before the
                    # entries (and what precedes them) are freed.
                    _statement_header(reader, stmt, stmt_el)
                    header_read = True
                entries = _entries(reader, el)
                if entries is None:
                    stmt.skipped += 1
                else:
                    stmt.entries.extend(entries)
                _clear(el)
            elif tag == tag_stmt and stmt is not None:
                if not header_read:
                    _statement_header(reader, stmt, stmt_el)
                _finish(reader, stmt, stmt_el)
                statements.append(stmt)
                stmt = stmt_el = None
                _clear(el)
    except etree.XMLSyntaxError as exc:
        raise StatementError(
            f"not well-formed XML ({exc.msg})",
            file_name=file_name,
            line=exc.lineno or None,
            field="xml",
        ) from None
    if container_line is None:
        raise StatementError(
            "no <BkToCstmrStmt> in the document", file_name=file_name, field="Document"
        )
    if not statements:
        raise StatementError(
            "no statement (<Stmt>) in the file", file_name=file_name, line=container_line
        )
    return ParsedFile(file_name=file_name, file_format=version, statements=statements)


def _statement_header(reader: _Reader, stmt: ParsedStatement, stmt_el) -> None:
    for child in stmt_el:
        if isinstance(child.tag, str) and child.tag != reader.q("Ntry"):
            _statement_part(reader, stmt, child, stmt.balances)


def _statement_part(reader: _Reader, stmt: ParsedStatement, el, balances: list) -> None:
    """Read a direct child of ``Stmt`` other than an entry."""
    local = etree.QName(el).localname
    if local == "Id":
        stmt.statement_id = (el.text or "").strip()
    elif local == "Acct":
        account = reader.text(el, "Id/IBAN") or reader.text(el, "Id/Othr/Id")
        if not account:
            raise reader.error("missing (no IBAN or other id)", el, "Stmt/Acct/Id")
        stmt.account = account_normalise(account)
        stmt.currency = reader.text(el, "Ccy") or stmt.currency
    elif local == "FrToDt":
        for attr, path in (("from_date", "FrDtTm"), ("to_date", "ToDtTm")):
            raw_date = reader.text(el, path)
            try:
                setattr(stmt, attr, date.fromisoformat(raw_date[:10]) if raw_date else None)
            except ValueError:
                raise reader.error(
                    f"{raw_date!r} is not a date", el, f"Stmt/FrToDt/{path}"
                ) from None
    elif local == "Bal":
        code = reader.text(el, "Tp/CdOrPrtry/Cd") or reader.text(el, "Tp/CdOrPrtry/Prtry")
        cents, currency = reader.amount(reader.find(el, "Amt"), "Stmt/Bal/Amt", at=el)
        sign = reader.sign(el, "CdtDbtInd", "Stmt/Bal/CdtDbtInd", default=1)
        day = reader.day(el, "Dt", "Stmt/Bal/Dt", required=False)
        balances.append((code, sign * cents, day, currency))


def _finish(reader: _Reader, stmt: ParsedStatement, stmt_el) -> None:
    """Check the statement has an account; take its opening and closing booked balances."""
    if not stmt.account:
        raise reader.error("missing (no <Acct>)", stmt_el, "Stmt/Acct")
    by_code: dict[str, list] = {}
    for balance in stmt.balances:
        by_code.setdefault(balance[0], []).append(balance)
    # Opening: the opening booked balance, else the previous closing, else the first interim.
    opening = (by_code.get("OPBD") or by_code.get("PRCD") or by_code.get("ITBD") or [None])[0]
    closing = (by_code.get("CLBD") or by_code.get("ITBD") or [None])[-1]
    if opening is not None:
        stmt.opening_cents = opening[1]
        stmt.from_date = stmt.from_date or opening[2]
    if closing is not None:
        stmt.closing_cents = closing[1]
        stmt.to_date = stmt.to_date or closing[2]
    if stmt.entries:
        days = [entry.booking_date for entry in stmt.entries]
        stmt.from_date = stmt.from_date or min(days)
        stmt.to_date = stmt.to_date or max(days)


def _status(reader: _Reader, ntry) -> str:
    """``<Sts>BOOK</Sts>`` (.02, .04) or ``<Sts><Cd>BOOK</Cd></Sts>`` (.08)."""
    return reader.text(ntry, "Sts") or reader.text(ntry, "Sts/Cd") or reader.text(ntry, "Sts/Prtry")


def _bank_code(reader: _Reader, el) -> str:
    domain = reader.text(el, "BkTxCd/Domn/Cd")
    if domain:
        family = reader.text(el, "BkTxCd/Domn/Fmly/Cd")
        sub = reader.text(el, "BkTxCd/Domn/Fmly/SubFmlyCd")
        return "/".join(part for part in (domain, family, sub) if part)
    return reader.text(el, "BkTxCd/Prtry/Cd")


def _entries(reader: _Reader, ntry) -> list[ParsedEntry] | None:
    """The entry (or, for a batch with an amount per transaction, its transactions).

    None for an entry that is not booked yet (status PDNG or INFO): it comes back booked on
    a later statement.
    """
    idx = reader.index(ntry, stop="NtryDtls/TxDtls")
    status = _status(reader, idx)
    if status and status != "BOOK":
        return None
    cents, currency = reader.amount(reader.find(idx, "Amt"), "Ntry/Amt", at=ntry)
    sign = reader.sign(idx, "CdtDbtInd", "Ntry/CdtDbtInd", at=ntry)
    base = ParsedEntry(
        line=ntry.sourceline,
        amount_cents=sign * cents,
        currency=currency or "EUR",
        booking_date=reader.day(idx, "BookgDt", "Ntry/BookgDt", required=True, at=ntry),
        value_date=reader.day(idx, "ValDt", "Ntry/ValDt", required=False, at=ntry),
        reversal=reader.text(idx, "RvslInd").lower() in ("true", "1"),
        bank_reference=reader.text(idx, "AcctSvcrRef"),
        bank_code=_bank_code(reader, idx),
        batch_id=reader.text(idx, "NtryDtls/Btch/PmtInfId")
        or reader.text(idx, "NtryDtls/Btch/MsgId"),
    )
    count = reader.text(idx, "NtryDtls/Btch/NbOfTxs")
    base.batch_count = int(count) if count.isdigit() else None
    extra = clean_text(reader.text(idx, "AddtlNtryInf"))
    details = [_transaction(reader, tx, sign) for tx in reader.all(idx, "NtryDtls/TxDtls")]
    amounts = [d["amount_cents"] for d in details]
    if len(details) > 1 and None not in amounts and sum(amounts) == base.amount_cents:
        return [_with(base, d, extra, split=True) for d in details]
    if not details:
        base.remittance = extra
        return [base]
    if len(details) == 1:
        return [_with(base, details[0], extra, split=False)]
    # A batch without an amount per transaction: one entry, its texts together.
    merged = dict(details[0])
    for key in ("end_to_end_id", "mandate_id", "name", "iban", "return_code"):
        values = {d[key] for d in details}
        merged[key] = values.pop() if len(values) == 1 else ""
    merged["remittance"] = clean_text(" ".join(d["remittance"] for d in details))
    merged["structured"] = next((d["structured"] for d in details if d["structured"]), "")
    return [_with(base, merged, extra, split=False)]


def _with(base: ParsedEntry, detail: dict, extra: str, *, split: bool) -> ParsedEntry:
    entry = ParsedEntry(**base.__dict__)
    if split:
        entry.amount_cents = detail["amount_cents"]
        entry.line = detail["line"]
        entry.currency = detail["currency"] or entry.currency
    entry.end_to_end_id = detail["end_to_end_id"]
    entry.mandate_id = detail["mandate_id"]
    entry.counterparty_name = detail["name"]
    entry.counterparty_iban = detail["iban"]
    entry.remittance = detail["remittance"] or extra
    entry.structured_reference = detail["structured"]
    entry.return_code = detail["return_code"]
    entry.bank_reference = entry.bank_reference or detail["bank_reference"]
    entry.bank_code = entry.bank_code or detail["bank_code"]
    return entry


def _transaction(reader: _Reader, tx, entry_sign: int) -> dict:
    """One ``TxDtls``: references, the other party, the remittance, a return reason."""
    idx = reader.index(tx)
    amount_el = reader.find(idx, "Amt")
    if amount_el is None:  # camt.053.001.02 keeps it under AmtDtls
        amount_el = reader.find(idx, "AmtDtls/TxAmt/Amt")
    cents, currency = reader.amount(amount_el, "TxDtls/Amt", required=False)
    sign = reader.sign(idx, "CdtDbtInd", "TxDtls/CdtDbtInd", default=entry_sign, at=tx)
    end_to_end = reader.text(idx, "Refs/EndToEndId")
    if end_to_end.upper() in NOT_PROVIDED:
        end_to_end = ""
    # The other party: who paid us for a credit, whom we paid for a debit.
    name, iban = reader.party(idx, "Dbtr" if sign > 0 else "Cdtr")
    unstructured = [
        el.text.strip() for el in reader.all(idx, "RmtInf/Ustrd") if el.text and el.text.strip()
    ]
    structured = [
        el.text.strip()
        for path in (
            "RmtInf/Strd/CdtrRefInf/Ref",
            "RmtInf/Strd/RfrdDocInf/Nb",
            "RmtInf/Strd/AddtlRmtInf",
        )
        for el in reader.all(idx, path)
        if el.text and el.text.strip()
    ]
    remittance = clean_text(" ".join(unstructured + structured))
    if not remittance:
        remittance = clean_text(reader.text(idx, "AddtlTxInf"))
    return {
        "line": tx.sourceline,
        "amount_cents": sign * cents if cents is not None and cents > 0 else None,
        "currency": currency,
        "end_to_end_id": end_to_end,
        "mandate_id": reader.text(idx, "Refs/MndtId"),
        "bank_reference": reader.text(idx, "Refs/AcctSvcrRef"),
        "bank_code": _bank_code(reader, idx),
        "name": name,
        "iban": iban_compact(iban) if iban and len(iban_compact(iban)) <= 34 else iban,
        "remittance": remittance,
        "structured": structured[0] if structured else "",
        "return_code": reader.text(idx, "RtrInf/Rsn/Cd") or reader.text(idx, "RtrInf/Rsn/Prtry"),
    }
