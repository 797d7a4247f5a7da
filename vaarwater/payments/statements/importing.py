"""Import bank statements: store each statement and its entries once, then match them.

The creditor of a statement is the one whose collection account (``Creditor.iban``) is the
statement's account; an old Dutch account number (``517852257``, ``1291.99.348EUR``) is
recognised as the last ten digits of a Dutch IBAN. ``creditor=`` names it instead, but only
when the account is that creditor's IBAN, or the creditor has no IBAN on file and no other
creditor has this account: a statement of another account is refused, never booked on the
wrong tenant. A statement whose account no creditor has is stored as UNKNOWN_ACCOUNT with the
file's bytes (a worklist); ``statement_assign`` later gives it to a creditor and imports it.

Importing again changes nothing: a statement is unique on (file fingerprint, position in the
file), and each entry has a key (account, booking date, amount, end-to-end id, bank
reference, description, other party's IBAN, and its position among identical entries of the
statement) that is unique per creditor, so an overlapping statement from another file adds
only the entries not seen before.
"""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction

from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.models import Creditor
from vaarwater.payments.statement_models import (
    EntryStatus,
    Statement,
    StatementEntry,
    StatementStatus,
)

from .matching import entries_match
from .parsed import IBAN_RE, ParsedEntry, ParsedStatement, iban_compact
from .parsing import statement_parse

CHUNK = 900


class StatementImportError(ValueError):
    """A statement that may not be imported as asked (another creditor's account, ...)."""


@dataclass
class StatementOutcome:
    """What happened to one statement of the file."""

    sequence: int
    account: str
    statement_id: str
    outcome: str  # imported | unknown_account | already_imported | assigned
    statement: Statement | None = None
    creditor: Creditor | None = None
    entries: int = 0  # in the file
    new: int = 0
    known: int = 0
    skipped: int = 0  # not booked yet at the bank (pending): left out
    counts: Counter = field(default_factory=Counter)

    @property
    def booked(self) -> int:
        return self.counts.get(EntryStatus.BOOKED, 0)

    @property
    def unmatched(self) -> int:
        return self.counts.get(EntryStatus.UNMATCHED, 0)

    @property
    def ignored(self) -> int:
        return self.counts.get(EntryStatus.IGNORED, 0)

    @property
    def direct_debit(self) -> int:
        return self.counts.get(EntryStatus.RETURN, 0) + self.counts.get(EntryStatus.COLLECTION, 0)


@dataclass
class ImportResult:
    file_name: str
    file_format: str
    sha256: str
    statements: list[StatementOutcome] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(outcome, name) for outcome in self.statements)


# -- accounts --------------------------------------------------------------------------------


def account_key(account: str) -> str:
    """How an account is compared: an IBAN compact; an old Dutch account number by its digits.

    >>> account_key("NL91 ABNA 0417 1643 00"), account_key("1291.99.348EUR")
    ('NL91ABNA0417164300', 'NL:129199348')
    >>> account_key("NL02ABNA0517852257") == "NL02ABNA0517852257"
    True
    """
    compact = iban_compact(account)
    if IBAN_RE.match(compact):
        return compact
    digits = re.sub(r"\D", "", account or "").lstrip("0")
    return f"NL:{digits}" if digits else (account or "").strip().upper()


def account_keys_of_iban(iban: str) -> set[str]:
    """The keys under which a creditor's IBAN is found (a Dutch one also by account number).

    >>> sorted(account_keys_of_iban("NL02ABNA0517852257"))
    ['NL02ABNA0517852257', 'NL:517852257']
    """
    compact = iban_compact(iban)
    if not compact:
        return set()
    keys = {compact}
    if compact.startswith("NL") and len(compact) == 18:
        digits = compact[8:].lstrip("0")
        if digits:
            keys.add(f"NL:{digits}")
    return keys


def creditors_by_account() -> dict[str, list[Creditor]]:
    """Every creditor with an IBAN, by each key of its account (one query; few creditors)."""
    found: dict[str, list[Creditor]] = {}
    for creditor in Creditor.objects.exclude(iban=""):
        for key in account_keys_of_iban(creditor.iban):
            found.setdefault(key, []).append(creditor)
    return found


def account_is_creditors(account: str, creditor: Creditor) -> bool:
    return account_key(account) in account_keys_of_iban(creditor.iban)


# -- keys ------------------------------------------------------------------------------------


def entry_keys(account: str, entries: list[ParsedEntry]) -> list[str]:
    """A stable key per entry; identical entries in one statement are told apart by position."""
    seen: Counter = Counter()
    keys = []
    for entry in entries:
        base = (
            account_key(account),
            entry.booking_date.isoformat(),
            str(entry.amount_cents),
            entry.end_to_end_id,
            entry.bank_reference,
            entry.remittance,
            entry.counterparty_iban,
        )
        occurrence = seen[base]
        seen[base] += 1
        text = "\x1f".join((*base, str(occurrence)))
        keys.append(hashlib.sha256(text.encode()).hexdigest())
    return keys


def _entry_row(statement: Statement, key: str, parsed: ParsedEntry) -> StatementEntry:
    entry = StatementEntry(
        creditor_id=statement.creditor_id,
        statement=statement,
        key=key,
        line=parsed.line,
        booking_date=parsed.booking_date,
        value_date=parsed.value_date,
        amount_cents=parsed.amount_cents,
        currency=(parsed.currency or "EUR")[:3],
        counterparty_name=parsed.counterparty_name[:140],
        counterparty_iban=parsed.counterparty_iban[:34],
        remittance=parsed.remittance,
        end_to_end_id=parsed.end_to_end_id[:64],
        bank_reference=parsed.bank_reference[:64],
        return_code=parsed.return_code[:8],
        status=EntryStatus.UNMATCHED,
        match_reason="not matched yet",
    )
    # What the model does not store but matching and the SEPA module read while importing:
    # reversal, structured_reference, mandate_id, batch_id, bank_code (see ParsedEntry).
    entry.parsed = parsed
    entry.reversal = parsed.reversal
    entry.structured_reference = parsed.structured_reference
    return entry


# -- importing -------------------------------------------------------------------------------


def _entries_store(
    statement: Statement, parsed: ParsedStatement, actor: Actor
) -> tuple[int, int, Counter]:
    """Store the entries not known yet for this creditor and match them.

    Trusted: the caller holds the statement's transaction.
    """
    keys = entry_keys(statement.account_iban, parsed.entries)
    # A key names one entry of one bank account. Usually one creditor imports an account; when
    # a person gave statements of one account to two creditors (a shared account, the
    # worklist), an entry one of them has is known to the other too: never booked twice.
    creditor_ids = {statement.creditor_id} | set(
        Statement.objects.filter(account_iban=statement.account_iban, creditor__isnull=False)
        .values_list("creditor_id", flat=True)
        .distinct()
    )
    known: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        known.update(
            StatementEntry.objects.filter(
                creditor_id__in=creditor_ids, key__in=keys[start : start + CHUNK]
            ).values_list("key", flat=True)
        )
    rows = [
        _entry_row(statement, key, entry)
        for key, entry in zip(keys, parsed.entries, strict=True)
        if key not in known
    ]
    # Matched (and booked) before they are inserted, in bulk, with their outcome.
    counts = entries_match(creditor=statement.creditor, entries=rows, actor=actor)
    return len(rows), len(keys) - len(rows), counts


def _statement_import(
    *, statement: Statement, parsed: ParsedStatement, actor: Actor, outcome: StatementOutcome
) -> None:
    new, known, counts = _entries_store(statement, parsed, actor)
    outcome.new, outcome.known, outcome.counts = new, known, counts
    event_record(
        creditor=statement.creditor,
        verb="statement.imported",
        actor=actor,
        subject=statement,
        reason=f"bank statement {statement.statement_id or statement.pk} of "
        f"{statement.account_iban} from {statement.file_name}",
        data={
            "file": statement.file_name,
            "sha256": statement.file_sha256,
            "sequence": statement.sequence,
            "new": new,
            "known": known,
            "booked": counts.get(EntryStatus.BOOKED, 0),
            "unmatched": counts.get(EntryStatus.UNMATCHED, 0),
            "ignored": counts.get(EntryStatus.IGNORED, 0),
        },
    )


def _target(parsed: ParsedStatement, creditor: Creditor | None, accounts) -> Creditor | None:
    """The creditor a statement belongs to; StatementImportError if the given one may not."""
    key = account_key(parsed.account)
    owners = accounts.get(key, [])
    if creditor is None:
        # An old account number without its bank (MT940 :25:517852257) is not proof enough:
        # the same digits exist at other banks. Only an IBAN finds the creditor by itself; a
        # number-only statement waits for an operator (or is imported with --creditor).
        if key.startswith("NL:"):
            return None
        return owners[0] if len(owners) == 1 else None
    # Two creditors with one collection account (it happens: a shared administration) leave
    # the choice to a person; naming one of them is that choice. Any other creditor: refused.
    if owners and all(owner.pk != creditor.pk for owner in owners):
        raise StatementImportError(
            f"account {parsed.account} is the collection account of creditor "
            f"{owners[0].code}, not of {creditor.code}: nothing imported"
        )
    if creditor.iban and not account_is_creditors(parsed.account, creditor):
        raise StatementImportError(
            f"account {parsed.account} is not {creditor.code}'s collection account "
            f"({creditor.iban}): nothing imported. Import it without --creditor to keep it in "
            "the worklist of unknown accounts, where it can be assigned to a creditor by hand."
        )
    return creditor


def statement_import(
    *,
    path: str | Path | None = None,
    raw: bytes | None = None,
    file_name: str = "",
    creditor: Creditor | None = None,
    actor: Actor,
) -> ImportResult:
    """Import a CAMT.053 or MT940 file: each statement once, each entry once, matched.

    Raises StatementError for a file that cannot be read (nothing is stored) and
    StatementImportError when ``creditor`` may not take a statement of the file.
    """
    if raw is None:
        if path is None:
            raise ValueError("give path or raw")
        raw = Path(path).read_bytes()
        file_name = file_name or Path(path).name
    sha256 = hashlib.sha256(raw).hexdigest()
    parsed_file = statement_parse(raw, file_name=file_name)
    accounts = creditors_by_account()
    targets = [_target(parsed, creditor, accounts) for parsed in parsed_file.statements]
    result = ImportResult(file_name, parsed_file.file_format, sha256)
    for sequence, (parsed, target) in enumerate(zip(parsed_file.statements, targets, strict=True)):
        outcome = StatementOutcome(
            sequence=sequence,
            account=parsed.account,
            statement_id=parsed.statement_id,
            outcome="imported",
            creditor=target,
            entries=len(parsed.entries),
            skipped=parsed.skipped,
        )
        result.statements.append(outcome)
        existing = Statement.objects.filter(file_sha256=sha256, sequence=sequence).first()
        if existing is not None:
            outcome.statement = existing
            if existing.status == StatementStatus.UNKNOWN_ACCOUNT and target is not None:
                assigned = statement_assign(
                    statement=existing,
                    creditor=target,
                    actor=actor,
                    note="its account is now known",
                )
                outcome.outcome = "assigned"
                outcome.new, outcome.known, outcome.counts = assigned
            else:
                outcome.outcome = "already_imported"
                outcome.creditor = existing.creditor
            continue
        try:
            with transaction.atomic():
                statement = Statement.objects.create(
                    creditor=target,
                    status=StatementStatus.IMPORTED if target else StatementStatus.UNKNOWN_ACCOUNT,
                    file_format=parsed_file.file_format,
                    file_name=file_name[:500],
                    file_sha256=sha256,
                    raw=b"" if target else raw,
                    account_iban=parsed.account[:34],
                    statement_id=parsed.statement_id[:64],
                    sequence=sequence,
                    currency=(parsed.currency or "EUR")[:3],
                    opening_cents=parsed.opening_cents,
                    closing_cents=parsed.closing_cents,
                    from_date=parsed.from_date,
                    to_date=parsed.to_date,
                    entries_count=len(parsed.entries),
                    imported_by=actor.label[:200],
                )
                outcome.statement = statement
                if target is None:
                    outcome.outcome = "unknown_account"
                else:
                    _statement_import(
                        statement=statement, parsed=parsed, actor=actor, outcome=outcome
                    )
        except IntegrityError:
            # Imported at the same moment by someone else: theirs counts.
            outcome.statement = Statement.objects.filter(
                file_sha256=sha256, sequence=sequence
            ).first()
            if outcome.statement is None:
                raise
            outcome.outcome = "already_imported"
            outcome.new, outcome.known, outcome.counts = 0, 0, Counter()
    return result


def statement_assign(
    *, statement: Statement, creditor: Creditor, actor: Actor, note: str = ""
) -> tuple[int, int, Counter]:
    """Give a statement of an unknown account to a creditor and import its entries.

    Returns (new entries, already known, count per status). Refuses a statement that is not
    in the worklist, and an account that is another creditor's.
    """
    from .parsed import StatementError

    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        if statement.status != StatementStatus.UNKNOWN_ACCOUNT:
            raise StatementImportError(
                f"statement {statement.pk} is not waiting for a creditor "
                f"(it is {statement.get_status_display()})"
            )
        owners = creditors_by_account().get(account_key(statement.account_iban), [])
        if owners and all(owner.pk != creditor.pk for owner in owners):
            raise StatementImportError(
                f"account {statement.account_iban} is the collection account of creditor "
                f"{owners[0].code}, not of {creditor.code}"
            )
        try:
            parsed_file = statement_parse(bytes(statement.raw), file_name=statement.file_name)
            parsed = parsed_file.statements[statement.sequence or 0]
        except (StatementError, IndexError) as exc:
            raise StatementImportError(f"the kept file cannot be read again: {exc}") from None
        statement.creditor = creditor
        statement.status = StatementStatus.IMPORTED
        statement.save(update_fields=["creditor", "status"])
        event_record(
            creditor=creditor,
            verb="statement.assigned",
            actor=actor,
            subject=statement,
            reason=note or f"account {statement.account_iban} assigned to {creditor.code}",
            data={"account": statement.account_iban, "file": statement.file_name},
        )
        outcome = StatementOutcome(
            sequence=statement.sequence or 0,
            account=statement.account_iban,
            statement_id=statement.statement_id,
            outcome="assigned",
        )
        _statement_import(statement=statement, parsed=parsed, actor=actor, outcome=outcome)
    return outcome.new, outcome.known, outcome.counts


def entries_text(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def outcome_line(outcome) -> str:
    """One statement's result in words."""
    head = f"statement {outcome.statement_id or outcome.sequence + 1} of account {outcome.account}"
    if outcome.outcome == "unknown_account":
        pk = outcome.statement.pk if outcome.statement else "?"
        return (
            f"{head}: unknown account: kept in the worklist (statement {pk}, "
            f"{entries_text(outcome.entries)}); assign it with `vaarwater statements assign {pk} "
            "--creditor CODE`"
        )
    if outcome.outcome == "already_imported":
        owner = outcome.creditor.code if outcome.creditor else "unknown account, in the worklist"
        pk = outcome.statement.pk if outcome.statement else "?"
        return f"{head}: already imported (statement {pk}, {owner}); nothing changed"
    verb = "assigned and imported" if outcome.outcome == "assigned" else "creditor"
    text = (
        f"{head}: {verb} {outcome.creditor.code if outcome.creditor else '?'} — "
        f"{entries_text(outcome.entries)}: {outcome.new} new, {outcome.known} already known; "
        f"{outcome.booked} booked, {outcome.unmatched} unmatched, {outcome.ignored} ignored"
    )
    if outcome.direct_debit:
        text += f", {outcome.direct_debit} direct debit"
    if outcome.skipped:
        text += f" ({outcome.skipped} not booked yet at the bank, left out)"
    return text
