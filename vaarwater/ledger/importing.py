"""CSV import of debtors, invoices and payments from a creditor's billing system.

All-or-nothing by default: every row is validated, and if one is invalid nothing is
written and every problem is reported as ``FILE:LINE: column: reason``. With
``skip_invalid`` the valid rows go in and the invalid ones are written, with their reasons,
to ``FILE.rejected.csv``. Importing the same file twice changes nothing; a changed row
updates its record and writes an event that says what changed.
"""

import csv
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from vaarwater.core.db import insert_rows, reserve_ids
from vaarwater.core.events import Actor, event_fields, event_record
from vaarwater.core.models import Event
from vaarwater.core.money import from_cents, parse_amount

from . import validation as v
from .formats import DEBTOR_COLUMNS, DEBTOR_OPTIONAL_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS
from .models import (
    Allocation,
    Component,
    ContactKind,
    ContactPoint,
    ContactSource,
    Contract,
    Creditor,
    Debtor,
    EntryKind,
    ImportRun,
    Invoice,
    Language,
    LedgerEntry,
    PaydayCycle,
    Payment,
    PaymentSource,
)

MAX_FIELD_CHARS = 1_000_000  # a field longer than this makes the file unreadable, not a row
MAX_REPORTED_PROBLEMS = 10_000  # the rest are counted, not listed
DELIMITERS = (";", ",", "\t")

csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass(frozen=True)
class Problem:
    """One reason a row cannot be imported."""

    line: int
    column: str
    reason: str

    def format(self, file_name: str) -> str:
        return f"{file_name}:{self.line}: {self.column}: {self.reason}"


class ImportFailed(Exception):
    """The file has problems; nothing was imported."""

    def __init__(self, file_name: str, problems: list[Problem], total: int):
        self.file_name = file_name
        self.problems = problems
        self.total = total
        super().__init__(f"{total} problem(s) in {file_name}; nothing was imported")

    def lines(self) -> list[str]:
        out = [p.format(self.file_name) for p in self.problems]
        if self.total > len(self.problems):
            out.append(f"{self.file_name}: ... and {self.total - len(self.problems)} more problems")
        return out


@dataclass
class ImportResult:
    kind: str
    file_name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_file: str | None = None
    problems: list[Problem] = field(default_factory=list)


class _Stop(Exception):
    """The file cannot be read further (bad encoding, broken CSV)."""

    def __init__(self, problem: Problem):
        self.problem = problem


def _decoded_lines(handle, state: dict) -> Iterator[str]:
    """Yield text lines, refusing anything that is not UTF-8 with the line it is on."""
    for number, raw in enumerate(handle, start=1):
        state["bytes"] += len(raw)
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            state.setdefault("problems", []).append(
                Problem(
                    number,
                    "-",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start + 1}); "
                    "save the file as UTF-8",
                )
            )
            yield "\n"


class CsvSource:
    """A CSV file with a header: delimiter detected, rows yielded with their line numbers."""

    def __init__(self, path: Path):
        self.path = path
        self.state = {"bytes": 0}
        self.header: list[str] = []
        self.delimiter = ";"

    def rows(self, handle) -> Iterator[tuple[int, list[str]]]:
        lines = _decoded_lines(handle, self.state)
        first = next(lines, None)
        while first is not None and not first.strip():
            first = next(lines, None)
        if self.state.get("problems"):
            raise _Stop(self.state["problems"][0])
        if first is None:
            raise _Stop(Problem(1, "-", "the file is empty; expected a header row"))
        counts = {d: first.count(d) for d in DELIMITERS}
        self.delimiter = max(DELIMITERS, key=lambda d: counts[d])
        if counts[self.delimiter] == 0:
            raise _Stop(
                Problem(
                    1,
                    "-",
                    "no ';', ',' or tab between the column names in the header row "
                    f"(found {first.strip()[:80]!r})",
                )
            )
        reader = csv.reader(_chain([first], lines), delimiter=self.delimiter, strict=True)
        start = 1
        try:
            self.header = [h.strip().lower() for h in next(reader)]
            start = reader.line_num + 1
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a field is longer than {MAX_FIELD_CHARS} characters"
            raise _Stop(Problem(start, "-", f"broken CSV: {reason}")) from None


def _chain(first, rest):
    yield from first
    yield from rest


# --------------------------------------------------------------------------- row parsers


@dataclass
class Spec:
    """The columns of one import kind and how to read a row of it."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


DEBTOR_SPEC = Spec("debtors", DEBTOR_COLUMNS, DEBTOR_OPTIONAL_COLUMNS)
INVOICE_SPEC = Spec("invoices", INVOICE_COLUMNS)
PAYMENT_SPEC = Spec("payments", PAYMENT_COLUMNS)


class RowError(Exception):
    """A row has one or more invalid fields: ``problems`` is [(column, reason), ...]."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{c}: {r}" for c, r in problems))


class _Row:
    """Read one raw row's fields by column name, collecting every problem, not just the first."""

    def __init__(self, raw: list[str], index: dict[str, int]):
        self.raw = raw
        self.index = index
        self.problems: list[tuple[str, str]] = []

    def get(self, column: str) -> str:
        i = self.index.get(column)
        return self.raw[i] if i is not None else ""

    def check(self, column: str, func, **kwargs):
        """Validate a column with ``func``; record the reason and return None if it fails."""
        try:
            return func(self.get(column), **kwargs)
        except ValueError as exc:
            self.problems.append((column, str(exc)))
            return None

    def optional(self, column: str, func, default=""):
        return self.check(column, func) if self.get(column).strip() else default

    def fail(self, column: str, reason: str) -> None:
        self.problems.append((column, reason))

    def done(self, rec: dict) -> dict:
        if self.problems:
            raise RowError(self.problems)
        return rec


MAX_AMOUNT_CENTS = 100_000_000_000  # € 1 billion: larger is a data error, not a consumer debt


def _amount(raw: str) -> int:
    cents = parse_amount(raw)
    if cents <= 0:
        raise ValueError(f"{raw.strip()!r}: must be more than zero")
    if cents > MAX_AMOUNT_CENTS:
        raise ValueError(f"{raw.strip()!r}: more than € 1,000,000,000")
    return cents


def _amount_field(raw: str) -> int:
    try:
        return _amount(raw)
    except ValueError as exc:
        reason = str(exc)
        raise ValueError(
            reason if reason.startswith("'") else f"{raw.strip()!r}: {reason}"
        ) from None


def _payday_day(raw: str) -> int:
    day = raw.strip()
    if not day.isdigit() or not 1 <= int(day) <= 31:
        raise ValueError(f"{day!r}: expected a day of the month, 1 to 31")
    return int(day)


def _choice(values, label):
    def check(raw: str) -> str:
        value = raw.strip().lower().replace("-", "_")
        if value not in values:
            raise ValueError(f"{raw.strip()!r}: expected {label}")
        return value

    return check


# Fast paths for the high-volume files: plain checks with no per-field bookkeeping. Any
# doubt raises, and the row is parsed again by the detailed parser, which names every
# problem; so both always agree on what is valid.
_FAST_AMOUNT = re.compile(r"^([0-9]{1,12})(?:[.,]([0-9]{1,2}))?$")


class _Slow(Exception):
    pass


def _fast_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 64 or v.WHITESPACE_RE.search(value) or v.CONTROL_RE.search(value):
        raise _Slow
    return value


def _fast_date(value: str) -> date:
    if not v.ISO_DATE_RE.match(value):
        raise _Slow
    return date.fromisoformat(value)


def _fast_amount(value: str) -> int:
    match = _FAST_AMOUNT.match(value)
    if match is None:
        raise _Slow
    cents = int(match[1]) * 100 + (int(match[2].ljust(2, "0")) if match[2] else 0)
    if not 0 < cents <= MAX_AMOUNT_CENTS:
        raise _Slow
    return cents


def _fast_text(value: str, max_length: int) -> str:
    value = value.strip()
    if len(value) > max_length or v.CONTROL_RE.search(value):
        raise _Slow
    return value


def fast_invoice(raw, index) -> dict:
    try:
        contract = raw[index["contract_external_id"]].strip()
        rec = {
            "external_id": _fast_id(raw[index["external_id"]]),
            "debtor_external_id": _fast_id(raw[index["debtor_external_id"]]),
            "contract_external_id": _fast_id(contract) if contract else None,
            "issue_date": _fast_date(raw[index["issue_date"]].strip()),
            "due_date": _fast_date(raw[index["due_date"]].strip()),
            "amount_cents": _fast_amount(raw[index["amount"]].strip()),
            "description": _fast_text(raw[index["description"]], 500),
        }
        if rec["due_date"] < rec["issue_date"]:
            raise _Slow
        return rec
    except (_Slow, ValueError):
        return parse_invoice(raw, index)


def fast_payment(raw, index) -> dict:
    try:
        return {
            "external_id": _fast_id(raw[index["external_id"]]),
            "debtor_external_id": _fast_id(raw[index["debtor_external_id"]]),
            "date": _fast_date(raw[index["date"]].strip()),
            "amount_cents": _fast_amount(raw[index["amount"]].strip()),
            "reference": _fast_text(raw[index["reference"]], 200),
        }
    except (_Slow, ValueError):
        return parse_payment(raw, index)


def parse_debtor(raw, index) -> dict:
    row = _Row(raw, index)
    rec = {
        "external_id": row.check("external_id", v.validate_external_id),
        "name": row.check("name", v.validate_text, max_length=200, required=True),
        "street": row.check("street", v.validate_text, max_length=200),
        "house_number": row.check("house_number", v.validate_text, max_length=16),
        "city": row.check("city", v.validate_text, max_length=100),
        "postcode": row.optional("postcode", v.validate_postcode),
        "email": row.optional("email", v.validate_email),
        "phone": row.optional("phone", v.validate_phone),
        "iban": row.optional("iban", v.validate_iban),
        "payday_day": row.optional("payday_day", _payday_day, None),
        "language": row.optional("language", _choice(Language.values, "nl or en"), Language.NL),
        "payday_cycle": row.optional(
            "payday_cycle",
            _choice(PaydayCycle.values, "monthly or four_weekly"),
            PaydayCycle.MONTHLY,
        ),
        "payday_anchor": row.optional("payday_anchor", v.validate_iso_date, None),
    }
    if (
        rec["payday_cycle"] == PaydayCycle.FOUR_WEEKLY
        and rec["payday_anchor"] is None
        and not row.get("payday_anchor").strip()
    ):
        row.fail("payday_anchor", "required for a four_weekly payday (one known payday)")
    return row.done(rec)


def parse_invoice(raw, index) -> dict:
    row = _Row(raw, index)
    rec = {
        "external_id": row.check("external_id", v.validate_external_id),
        "debtor_external_id": row.check("debtor_external_id", v.validate_external_id),
        "contract_external_id": row.optional("contract_external_id", v.validate_external_id, None),
        "issue_date": row.check("issue_date", v.validate_iso_date),
        "due_date": row.check("due_date", v.validate_iso_date),
        "amount_cents": row.check("amount", _amount_field),
        "description": row.check("description", v.validate_text, max_length=500),
    }
    if rec["issue_date"] and rec["due_date"] and rec["due_date"] < rec["issue_date"]:
        row.fail("due_date", f"{rec['due_date']} is before the issue date {rec['issue_date']}")
    return row.done(rec)


def parse_payment(raw, index) -> dict:
    row = _Row(raw, index)
    return row.done(
        {
            "external_id": row.check("external_id", v.validate_external_id),
            "debtor_external_id": row.check("debtor_external_id", v.validate_external_id),
            "date": row.check("date", v.validate_iso_date),
            "amount_cents": row.check("amount", _amount_field),
            "reference": row.check("reference", v.validate_text, max_length=200),
        }
    )


# --------------------------------------------------------------------------- writers


class Writer:
    """Resolve a chunk of parsed rows against the database and write it."""

    spec: Spec
    parse = None

    def __init__(self, creditor: Creditor, run: ImportRun, actor: Actor):
        self.creditor = creditor
        self.run = run
        self.actor = actor
        self.now = timezone.now()
        self.events: list[Event] = []

    def event(self, **kwargs):
        self.events.append(
            Event(
                **event_fields(creditor=self.creditor.pk, actor=self.actor, **kwargs),
                created_at=self.now,
            )
        )

    def flush_events(self):
        Event.objects.bulk_create(self.events, batch_size=2000)
        self.events = []

    def resolve(self, chunk: list[tuple[int, dict]]) -> list[Problem]:
        """Check rows against the database; return problems (rows with one are skipped)."""
        return []

    def write(self, chunk: list[tuple[int, dict]], result: ImportResult) -> None:
        raise NotImplementedError


def _diff(old: dict, new: dict) -> dict:
    return {k: [_jsonable(old[k]), _jsonable(new[k])] for k in new if k in old and old[k] != new[k]}


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


DEBTOR_FIELDS = (
    "name",
    "street",
    "house_number",
    "postcode",
    "city",
    "iban",
    "payday_day",
    "language",
    "payday_cycle",
    "payday_anchor",
)


class DebtorWriter(Writer):
    spec = DEBTOR_SPEC
    parse = staticmethod(parse_debtor)

    def write(self, chunk, result):
        ext_ids = [rec["external_id"] for _, rec in chunk]
        existing = {
            d["external_id"]: d
            for d in Debtor.objects.filter(creditor=self.creditor, external_id__in=ext_ids).values(
                "id", "external_id", *DEBTOR_FIELDS
            )
        }
        contacts: dict[int, set[tuple[str, str]]] = {}
        if existing:
            for debtor_id, kind, value in ContactPoint.objects.filter(
                debtor_id__in=[d["id"] for d in existing.values()]
            ).values_list("debtor_id", "kind", "value"):
                contacts.setdefault(debtor_id, set()).add((kind, value))
        new_rows, new_contacts, changed = [], [], []
        ids = reserve_ids(Debtor, sum(1 for _, r in chunk if r["external_id"] not in existing))
        id_iter = iter(ids)
        for _, rec in chunk:
            old = existing.get(rec["external_id"])
            if old is None:
                debtor_id = next(id_iter)
                new_rows.append(
                    (
                        debtor_id,
                        self.creditor.pk,
                        rec["external_id"],
                        *(rec[f] for f in DEBTOR_FIELDS),
                        self.now,
                        self.now,
                    )
                )
                result.created += 1
            else:
                debtor_id = old["id"]
                diff = _diff(old, {f: rec[f] for f in DEBTOR_FIELDS})
                if diff:
                    changed.append((debtor_id, rec, diff))
            have = contacts.get(debtor_id, set())
            added = []
            for kind, value in (
                (ContactKind.EMAIL, rec["email"]),
                (ContactKind.PHONE, rec["phone"]),
            ):
                if value and (kind, value) not in have:
                    new_contacts.append(
                        (debtor_id, kind, value, ContactSource.IMPORT, self.now, self.now)
                    )
                    added.append(f"{kind}: {value}")
            if old is not None:
                if added:
                    self.event(
                        verb="debtor.contact_added",
                        debtor=debtor_id,
                        reason=f"import {self.run.file_name}",
                        data={"added": added},
                    )
                if not added and not diff:
                    result.unchanged += 1
                elif not diff:
                    result.updated += 1
        insert_rows(
            Debtor,
            ("id", "creditor", "external_id", *DEBTOR_FIELDS, "created_at", "updated_at"),
            new_rows,
        )
        insert_rows(
            ContactPoint,
            ("debtor", "kind", "value", "source", "created_at", "updated_at"),
            new_contacts,
        )
        for debtor_id, rec, diff in changed:
            Debtor.objects.filter(pk=debtor_id).update(
                **{f: rec[f] for f in DEBTOR_FIELDS}, updated_at=self.now
            )
            self.event(
                verb="debtor.changed",
                debtor=debtor_id,
                reason=f"import {self.run.file_name}",
                data={"changed": diff},
            )
            result.updated += 1


class _DebtorLookup:
    """Map the creditor's debtor numbers to ids once per import (1M debtors ≈ 100 MB)."""

    def load_debtors(self):
        self.debtor_ids = dict(
            Debtor.objects.filter(creditor=self.creditor).values_list("external_id", "id")
        )

    def resolve_debtors(self, chunk) -> list[Problem]:
        problems = []
        for line, rec in chunk:
            debtor_id = self.debtor_ids.get(rec["debtor_external_id"])
            if debtor_id is None:
                problems.append(
                    Problem(
                        line,
                        "debtor_external_id",
                        f"unknown debtor {rec['debtor_external_id']!r} (import debtors first)",
                    )
                )
            rec["debtor_id"] = debtor_id
        return problems


INVOICE_FIELDS = ("issue_date", "due_date", "amount_cents", "description")


class InvoiceWriter(Writer, _DebtorLookup):
    spec = INVOICE_SPEC
    parse = staticmethod(fast_invoice)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.load_debtors()
        self.contracts = {
            ext: (cid, did)
            for ext, cid, did in Contract.objects.filter(creditor=self.creditor).values_list(
                "external_id", "id", "debtor_id"
            )
        }
        self.new_contracts: dict[str, int] = {}
        self.has_payments = Payment.objects.filter(creditor=self.creditor).exists()
        # A first import needs no per-chunk lookups: the file itself has no duplicates.
        self.any_existing = Invoice.objects.filter(creditor=self.creditor).exists()

    def resolve(self, chunk):
        problems = self.resolve_debtors(chunk)
        bad = {p.line for p in problems}
        self.existing = (
            {
                d["external_id"]: d
                for d in Invoice.objects.filter(
                    creditor=self.creditor, external_id__in=[r["external_id"] for _, r in chunk]
                ).values("id", "external_id", "debtor_id", "contract_id", *INVOICE_FIELDS)
            }
            if self.any_existing
            else {}
        )
        for line, rec in chunk:
            if line in bad:
                continue
            contract = rec["contract_external_id"]
            known = self.contracts.get(contract) if contract else None
            if known and known[1] != rec["debtor_id"]:
                problems.append(
                    Problem(
                        line,
                        "contract_external_id",
                        f"contract {contract!r} belongs to another debtor",
                    )
                )
                continue
            if contract and not known:
                # Claim it for this debtor in this file, so a second debtor is refused too.
                self.contracts[contract] = (None, rec["debtor_id"])
            old = self.existing.get(rec["external_id"])
            if old and old["debtor_id"] != rec["debtor_id"]:
                problems.append(
                    Problem(
                        line,
                        "debtor_external_id",
                        f"invoice {rec['external_id']!r} is already booked on "
                        "another debtor; correct it in the back office",
                    )
                )
            elif old and old["amount_cents"] != rec["amount_cents"]:
                paid = (
                    Allocation.objects.filter(
                        invoice_id=old["id"], component=Component.PRINCIPAL
                    ).aggregate(s=Sum("amount_cents"))["s"]
                    or 0
                )
                if paid > rec["amount_cents"]:
                    problems.append(
                        Problem(
                            line,
                            "amount",
                            f"{from_cents(rec['amount_cents'])} is less than the "
                            f"{from_cents(paid)} already paid on this invoice; "
                            "correct the payments first",
                        )
                    )
        return problems

    def _apply_credit(self, debtor_ids: set[int]) -> None:
        """Apply earlier overpayments to the new invoices (only debtors that have credit)."""
        if not self.has_payments or not debtor_ids:
            return
        from .selectors import debtor_positions
        from .services import credit_apply

        for debtor_id, position in debtor_positions(debtor_ids).items():
            if position.credit > 0 and position.items:
                credit_apply(
                    debtor=Debtor.objects.select_related("creditor").get(pk=debtor_id),
                    actor=self.actor,
                )

    def _contract_id(self, rec) -> int | None:
        ext = rec["contract_external_id"]
        if not ext:
            return None
        cid, _ = self.contracts[ext]
        if cid is None:
            cid = self.new_contracts[ext]
        return cid

    def write(self, chunk, result):
        fresh = [rec for _, rec in chunk if rec["external_id"] not in self.existing]
        pending = [
            rec["contract_external_id"]
            for rec in fresh
            if rec["contract_external_id"]
            and self.contracts[rec["contract_external_id"]][0] is None
            and rec["contract_external_id"] not in self.new_contracts
        ]
        pending = list(dict.fromkeys(pending))
        contract_rows = []
        for ext, cid in zip(pending, reserve_ids(Contract, len(pending)), strict=True):
            self.new_contracts[ext] = cid
            self.contracts[ext] = (cid, self.contracts[ext][1])
            contract_rows.append((cid, self.creditor.pk, self.contracts[ext][1], ext, self.now))
        insert_rows(
            Contract, ("id", "creditor", "debtor", "external_id", "created_at"), contract_rows
        )
        ids = reserve_ids(Invoice, len(fresh))
        invoice_rows, entry_rows = [], []
        for invoice_id, rec in zip(ids, fresh, strict=True):
            invoice_rows.append(
                (
                    invoice_id,
                    self.creditor.pk,
                    rec["debtor_id"],
                    self._contract_id(rec),
                    rec["external_id"],
                    rec["issue_date"],
                    rec["due_date"],
                    rec["amount_cents"],
                    rec["description"],
                    self.now,
                    self.now,
                )
            )
            entry_rows.append(
                (
                    self.creditor.pk,
                    rec["debtor_id"],
                    EntryKind.INVOICE,
                    Component.PRINCIPAL,
                    rec["amount_cents"],
                    rec["issue_date"],
                    invoice_id,
                    self.run.pk,
                    rec["description"],
                    self.now,
                )
            )
        insert_rows(
            Invoice,
            (
                "id",
                "creditor",
                "debtor",
                "contract",
                "external_id",
                "issue_date",
                "due_date",
                "amount_cents",
                "description",
                "created_at",
                "updated_at",
            ),
            invoice_rows,
        )
        insert_rows(
            LedgerEntry,
            (
                "creditor",
                "debtor",
                "kind",
                "component",
                "amount_cents",
                "booked_on",
                "invoice",
                "import_run",
                "description",
                "created_at",
            ),
            entry_rows,
        )
        result.created += len(fresh)
        self._apply_credit({rec["debtor_id"] for _, rec in chunk})
        for _, rec in chunk:
            old = self.existing.get(rec["external_id"])
            if old is None:
                continue
            new = {f: rec[f] for f in INVOICE_FIELDS}
            new_contract = self._contract_id(rec) if rec["contract_external_id"] else None
            diff = _diff(old, new)
            if new_contract != old["contract_id"]:
                diff["contract_external_id"] = [old["contract_id"], rec["contract_external_id"]]
            if not diff:
                result.unchanged += 1
                continue
            self._update(old, rec, new, new_contract, diff)
            result.updated += 1

    def _update(self, old, rec, new, contract_id, diff):
        invoice_id = old["id"]
        if "amount_cents" in diff:
            self._rebook(old, rec)
        Invoice.objects.filter(pk=invoice_id).update(
            **new, contract_id=contract_id, updated_at=self.now
        )
        self.event(
            verb="invoice.changed",
            debtor=old["debtor_id"],
            reason=f"import {self.run.file_name}",
            data={"invoice": rec["external_id"], "changed": diff},
        )

    def _rebook(self, old, rec):
        """Book the difference in principal as a reversal of the old amount plus the new one."""
        entries = LedgerEntry.objects.filter(
            invoice_id=old["id"], kind=EntryKind.INVOICE, reversed_by__isnull=True
        )
        for entry in entries:
            LedgerEntry.objects.create(
                creditor_id=entry.creditor_id,
                debtor_id=entry.debtor_id,
                kind=EntryKind.REVERSAL,
                component=Component.PRINCIPAL,
                amount_cents=-entry.amount_cents,
                booked_on=date.today(),
                invoice_id=old["id"],
                reverses=entry,
                import_run=self.run,
                description=f"amount changed by import {self.run.file_name}",
            )
        LedgerEntry.objects.create(
            creditor_id=self.creditor.pk,
            debtor_id=old["debtor_id"],
            kind=EntryKind.INVOICE,
            component=Component.PRINCIPAL,
            amount_cents=rec["amount_cents"],
            booked_on=date.today(),
            invoice_id=old["id"],
            import_run=self.run,
            description=rec["description"],
        )


class PaymentWriter(Writer, _DebtorLookup):
    spec = PAYMENT_SPEC
    parse = staticmethod(fast_payment)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.load_debtors()
        self.positions = {}
        self.any_existing = Payment.objects.filter(creditor=self.creditor).exists()

    def resolve(self, chunk):
        problems = self.resolve_debtors(chunk)
        self.existing = (
            {
                p["external_id"]: p
                for p in Payment.objects.filter(
                    creditor=self.creditor, external_id__in=[r["external_id"] for _, r in chunk]
                ).values("id", "external_id", "debtor_id", "date", "amount_cents", "reference")
            }
            if self.any_existing
            else {}
        )
        bad = {p.line for p in problems}
        for line, rec in chunk:
            old = self.existing.get(rec["external_id"])
            if line not in bad and old and old["debtor_id"] != rec["debtor_id"]:
                problems.append(
                    Problem(
                        line,
                        "debtor_external_id",
                        f"payment {rec['external_id']!r} is already booked on "
                        "another debtor; correct it in the back office",
                    )
                )
        return problems

    def write(self, chunk, result):
        from .selectors import debtor_positions, position_allocate

        fresh = sorted(
            (rec for _, rec in chunk if rec["external_id"] not in self.existing),
            key=lambda r: r["date"],
        )
        missing = {r["debtor_id"] for r in fresh} - self.positions.keys()
        self.positions.update(debtor_positions(missing))
        refs = {(r["debtor_id"], r["reference"].strip().upper()) for r in fresh if r["reference"]}
        designations = {}
        if refs:
            for inv_id, debtor_id, ext in Invoice.objects.filter(
                creditor=self.creditor, external_id__in={ref for _, ref in refs}
            ).values_list("id", "debtor_id", "external_id"):
                designations[(debtor_id, ext.upper())] = inv_id
        ids = reserve_ids(Payment, len(fresh))
        payment_rows, entry_rows, alloc_rows = [], [], []
        for payment_id, rec in zip(ids, fresh, strict=True):
            designated = designations.get((rec["debtor_id"], rec["reference"].strip().upper()))
            payment_rows.append(
                (
                    payment_id,
                    self.creditor.pk,
                    rec["debtor_id"],
                    rec["external_id"],
                    rec["date"],
                    rec["amount_cents"],
                    rec["reference"],
                    designated,
                    PaymentSource.IMPORT,
                    self.now,
                )
            )
            entry_rows.append(
                (
                    self.creditor.pk,
                    rec["debtor_id"],
                    EntryKind.PAYMENT,
                    Component.PAYMENT,
                    -rec["amount_cents"],
                    rec["date"],
                    payment_id,
                    self.run.pk,
                    rec["reference"],
                    self.now,
                )
            )
            for invoice_id, component, cents in position_allocate(
                self.positions[rec["debtor_id"]], rec["amount_cents"], designated
            ):
                alloc_rows.append(
                    (
                        self.creditor.pk,
                        rec["debtor_id"],
                        payment_id,
                        invoice_id,
                        component,
                        cents,
                        self.now,
                    )
                )
        insert_rows(
            Payment,
            (
                "id",
                "creditor",
                "debtor",
                "external_id",
                "date",
                "amount_cents",
                "reference",
                "designated_invoice",
                "source",
                "created_at",
            ),
            payment_rows,
        )
        insert_rows(
            LedgerEntry,
            (
                "creditor",
                "debtor",
                "kind",
                "component",
                "amount_cents",
                "booked_on",
                "payment",
                "import_run",
                "description",
                "created_at",
            ),
            entry_rows,
        )
        insert_rows(
            Allocation,
            ("creditor", "debtor", "payment", "invoice", "component", "amount_cents", "created_at"),
            alloc_rows,
        )
        result.created += len(fresh)
        for _, rec in chunk:
            old = self.existing.get(rec["external_id"])
            if old is None:
                continue
            new = {
                "date": rec["date"],
                "amount_cents": rec["amount_cents"],
                "reference": rec["reference"],
            }
            diff = _diff(old, new)
            if not diff:
                result.unchanged += 1
                continue
            self._rebook(old, rec, diff)
            self.positions.pop(rec["debtor_id"], None)
            result.updated += 1

    def _rebook(self, old, rec, diff):
        """Reverse the old booking (undoing its allocations) and book the corrected payment."""
        from .services import entry_reverse, payment_allocate

        reason = f"changed by import {self.run.file_name}"
        payment = Payment.objects.select_related("debtor__creditor").get(pk=old["id"])
        if "amount_cents" in diff or "date" in diff:
            for entry in LedgerEntry.objects.filter(
                payment=payment, kind=EntryKind.PAYMENT, reversed_by__isnull=True
            ):
                entry_reverse(entry=entry, reason=reason, actor=self.actor)
            Payment.objects.filter(pk=payment.pk).update(
                date=rec["date"], amount_cents=rec["amount_cents"], reference=rec["reference"]
            )
            payment.refresh_from_db()
            LedgerEntry.objects.create(
                creditor_id=payment.creditor_id,
                debtor_id=payment.debtor_id,
                kind=EntryKind.PAYMENT,
                component=Component.PAYMENT,
                amount_cents=-rec["amount_cents"],
                booked_on=rec["date"],
                payment=payment,
                import_run=self.run,
                description=rec["reference"],
            )
            payment_allocate(payment=payment, amount_cents=rec["amount_cents"])
        else:
            Payment.objects.filter(pk=payment.pk).update(reference=rec["reference"])
        self.event(
            verb="payment.changed",
            debtor=old["debtor_id"],
            reason=reason,
            data={"payment": rec["external_id"], "changed": diff},
        )


WRITERS = {"debtors": DebtorWriter, "invoices": InvoiceWriter, "payments": PaymentWriter}


# --------------------------------------------------------------------------- the run


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def csv_import(
    *,
    kind: str,
    path: Path,
    creditor: Creditor,
    skip_invalid: bool = False,
    file_name: str | None = None,
    progress: bool | None = None,
    actor: Actor | None = None,
    batch_size: int | None = None,
) -> ImportResult:
    """Validate and import one CSV file of debtors, invoices or payments for a creditor.

    Raises ImportFailed, having written nothing, when a row is invalid and ``skip_invalid``
    is off, and always when the file itself cannot be read (encoding, header, broken CSV).
    """
    from tqdm import tqdm

    if kind not in WRITERS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(WRITERS)}")
    path = Path(path)
    file_name = file_name or str(path)
    batch_size = batch_size or settings.IMPORT_BATCH_SIZE
    actor = actor or Actor.for_import(f"import {kind} {path.name}")
    result = ImportResult(kind=kind, file_name=file_name)
    problems: list[Problem] = []
    counter = {"problems": 0}
    rejected: dict[int, tuple[list[str], list[str]]] = {}  # line -> (raw fields, reasons)
    source = CsvSource(path)

    def add(problem: Problem, raw: list[str] | None):
        counter["problems"] += 1
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(problem)
        fields, reasons = rejected.setdefault(problem.line, (raw or [], []))
        reasons.append(f"{problem.column}: {problem.reason}")

    with (
        transaction.atomic(),
        path.open("rb") as handle,
        tqdm(
            total=os.path.getsize(path),
            unit="B",
            unit_scale=True,
            desc=f"import {kind}",
            disable=not progress,
            leave=False,
        ) as bar,
    ):
        run = ImportRun.objects.create(
            creditor=creditor, kind=kind, file_name=file_name, sha256=_sha256(path)
        )
        writer = WRITERS[kind](creditor, run, actor)
        chunk: list[tuple[int, dict]] = []
        raws: dict[int, list[str]] = {}

        def flush():
            bad = set()
            for problem in writer.resolve(chunk):
                add(problem, raws.get(problem.line))
                bad.add(problem.line)
            if skip_invalid or counter["problems"] == 0:
                writer.write([(ln, rec) for ln, rec in chunk if ln not in bad], result)
                writer.flush_events()
            chunk.clear()
            raws.clear()
            bar.update(source.state["bytes"] - bar.n)

        try:
            _read(source, handle, writer, result, add, chunk, raws, batch_size, flush)
        except _Stop as stop:
            stops = getattr(stop, "problems", [stop.problem])
            problems.extend(stops)
            raise ImportFailed(file_name, problems, counter["problems"] + len(stops)) from None
        if counter["problems"] and not skip_invalid:
            raise ImportFailed(file_name, problems, counter["problems"])
        if result.rows == 0:
            raise ImportFailed(file_name, [Problem(2, "-", "no data rows after the header")], 1)
        result.rejected = len(rejected)
        result.problems = problems
        if not (result.created or result.updated or result.rejected):
            # The same file again: nothing changed, so leave no trace either.
            transaction.set_rollback(True)
            return result
        ImportRun.objects.filter(pk=run.pk).update(
            rows=result.rows,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            finished_at=timezone.now(),
        )
        event_record(
            creditor=creditor,
            verb=f"import.{kind}",
            actor=actor,
            subject=run,
            reason=f"file {file_name} (sha256 {run.sha256[:12]}…)",
            data={
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": result.rejected,
            },
        )
    if rejected:
        result.rejected_file = _write_rejected(path, source, rejected)
    return result


def _read(source, handle, writer, result, add, chunk, raws, batch_size, flush) -> None:
    """Parse every row; hand valid ones to ``flush`` in chunks; report the others."""
    seen: dict[str, int] = {}
    index: dict[str, int] | None = None
    for line, raw in source.rows(handle):
        if index is None:
            index = _header_index(source.header, writer.spec)
        for problem in source.state.pop("problems", []):
            add(problem, None)
        result.rows += 1
        if len(raw) != len(source.header):
            add(
                Problem(
                    line,
                    "-",
                    f"expected {len(source.header)} fields separated by "
                    f"{source.delimiter!r}, found {len(raw)}",
                ),
                raw,
            )
            continue
        external_id = raw[index["external_id"]].strip()
        first = seen.get(external_id) if external_id else None
        if first is not None:
            add(
                Problem(line, "external_id", f"duplicate {external_id!r} (first on line {first})"),
                raw,
            )
            continue
        seen[external_id] = line
        try:
            rec = writer.parse(raw, index)
        except RowError as exc:
            for column, reason in exc.problems:
                add(Problem(line, column, reason), raw)
            continue
        chunk.append((line, rec))
        raws[line] = raw
        if len(chunk) >= batch_size:
            flush()
    if index is None:
        _header_index(source.header, writer.spec)
    for problem in source.state.pop("problems", []):
        add(problem, None)
    if chunk:
        flush()


def _header_index(header: list[str], spec: Spec) -> dict[str, int]:
    """Check the header row; a bad header stops the import whatever the options."""
    problems = []
    known = set(spec.required) | set(spec.optional)
    for column in spec.required:
        if column not in header:
            problems.append(
                Problem(
                    1, column, f"missing column (the header has: {', '.join(header) or 'nothing'})"
                )
            )
    for column in header:
        if column not in known:
            problems.append(
                Problem(
                    1,
                    column or "-",
                    f"unknown column (expected: {', '.join(spec.required + spec.optional)})",
                )
            )
    for column in sorted({c for c in header if header.count(c) > 1}):
        problems.append(Problem(1, column, "column appears more than once"))
    if problems:
        raise _Stop(problems[0]) if len(problems) == 1 else _StopMany(problems)
    return {name: i for i, name in enumerate(header)}


class _StopMany(_Stop):
    def __init__(self, problems: list[Problem]):
        super().__init__(problems[-1])
        self.problems = problems


def _write_rejected(path: Path, source: CsvSource, rejected) -> str:
    out = path.with_name(path.name + ".rejected.csv")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=source.delimiter)
        writer.writerow(["line", *source.header, "reason"])
        for line, (raw, reasons) in sorted(rejected.items()):
            writer.writerow([line, *raw, "; ".join(reasons)])
    return str(out)
