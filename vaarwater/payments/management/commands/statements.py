"""``vaarwater statements [list] [--creditor CODE]``: the worklists of bank statements;
``vaarwater statements assign STATEMENT --creditor CODE``: give a statement of an unknown
account to a creditor (its entries are then imported and matched);
``vaarwater statements book ENTRY --debtor NUMBER --note TEXT`` and
``vaarwater statements ignore ENTRY --reason TEXT``: resolve an unmatched entry."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from vaarwater.core.events import Actor
from vaarwater.core.money import format_eur, from_cents
from vaarwater.ledger.models import Creditor, Debtor
from vaarwater.payments.statement_models import Statement, StatementEntry, StatementStatus
from vaarwater.payments.statements.importing import StatementImportError, statement_assign
from vaarwater.payments.statements.selectors import unknown_statements, unmatched_entries
from vaarwater.payments.statements.worklist import WorklistError, entry_assign, entry_ignore

LIMIT = 200


def _creditor(code: str) -> Creditor:
    creditor = Creditor.objects.filter(code=(code or "").strip().upper()).first()
    if creditor is None:
        raise CommandError(f"creditor {code!r} does not exist", returncode=2)
    return creditor


def _amount(entry: StatementEntry) -> str:
    """The entry's amount in its own currency (an entry in dollars is not shown in euros)."""
    if entry.currency and entry.currency != "EUR":
        return f"{entry.currency} {from_cents(entry.amount_cents):,.2f}"
    return format_eur(entry.amount_cents, language="en")


class Command(BaseCommand):
    help = "Show and resolve the bank-statement worklists (unknown accounts, unmatched entries)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action")
        show = sub.add_parser("list", help="the worklists (the default)")
        show.add_argument("--creditor", help="only this creditor's unmatched entries")
        assign = sub.add_parser("assign", help="give an unknown-account statement to a creditor")
        assign.add_argument("statement", type=int)
        assign.add_argument("--creditor", required=True)
        assign.add_argument("--note", default="", help="why (kept with the event)")
        book = sub.add_parser("book", help="book an unmatched entry on a debtor")
        book.add_argument("entry", type=int)
        book.add_argument("--debtor", required=True, help="the debtor's customer number")
        book.add_argument("--note", required=True, help="why this debtor")
        ignore = sub.add_parser("ignore", help="take an unmatched entry off the worklist")
        ignore.add_argument("entry", type=int)
        ignore.add_argument("--reason", required=True)

    def handle(self, *args, action=None, **options):
        # The command speaks English; status labels in its messages too.
        with translation.override("en"):
            getattr(self, f"_{action or 'list'}")(**options)

    def _list(self, creditor=None, **options):
        creditors = Creditor.objects.all()
        if creditor:
            creditors = creditors.filter(pk=_creditor(creditor).pk)
        else:
            statements = list(unknown_statements()[:LIMIT])
            self.stdout.write(f"Statements of an unknown account: {len(statements)}")
            for statement in statements:
                self.stdout.write(
                    f"  {statement.pk}  {statement.account_iban}  {statement.statement_id}  "
                    f"{statement.file_name}  {statement.entries_count} "
                    f"{'entry' if statement.entries_count == 1 else 'entries'}  "
                    f"imported {statement.created_at:%Y-%m-%d}"
                )
        entries = unmatched_entries(creditors).select_related("creditor")
        total = entries.count()
        self.stdout.write(f"Unmatched incoming payments: {total}")
        for entry in entries[:LIMIT]:
            self.stdout.write(
                f"  {entry.pk}  {entry.creditor.code}  {entry.booking_date}  "
                f"{_amount(entry)}  "
                f"{entry.counterparty_name or '-'}  {entry.counterparty_iban or '-'}  "
                f"{(entry.remittance or '-')[:60]}"
            )
            self.stdout.write(f"      why: {entry.match_reason}")
        if total > LIMIT:
            self.stdout.write(f"  ... and {total - LIMIT} more")

    def _assign(self, statement, creditor, note="", **options):
        tenant = _creditor(creditor)
        found = Statement.objects.filter(pk=statement).first()
        if found is None or found.status != StatementStatus.UNKNOWN_ACCOUNT:
            raise CommandError(
                f"statement {statement} is not in the worklist of unknown accounts", returncode=2
            )
        try:
            new, known, counts = statement_assign(
                statement=found,
                creditor=tenant,
                actor=Actor.system("vaarwater statements assign"),
                note=note,
            )
        except StatementImportError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(
            f"statement {statement} ({found.account_iban}) → {tenant.code}: {new} new, "
            f"{known} already known; {counts.get('booked', 0)} booked, "
            f"{counts.get('unmatched', 0)} unmatched, {counts.get('ignored', 0)} ignored"
        )

    def _entry(self, pk: int) -> StatementEntry:
        entry = StatementEntry.objects.filter(pk=pk).first()
        if entry is None:
            raise CommandError(f"entry {pk} does not exist", returncode=2)
        return entry

    def _book(self, entry, debtor, note, **options):
        entry = self._entry(entry)
        found = Debtor.objects.filter(creditor_id=entry.creditor_id, external_id=debtor).first()
        if found is None:
            raise CommandError(
                f"no debtor with customer number {debtor!r} at this entry's creditor", returncode=2
            )
        try:
            entry_assign(
                entry=entry, debtor=found, actor=Actor.system("vaarwater statements"), note=note
            )
        except WorklistError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"entry {entry.pk} booked on {found.external_id} {found.name}")

    def _ignore(self, entry, reason, **options):
        entry = self._entry(entry)
        try:
            entry_ignore(entry=entry, reason=reason, actor=Actor.system("vaarwater statements"))
        except WorklistError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"entry {entry.pk} ignored: {reason}")
