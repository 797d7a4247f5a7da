"""``vaarwater import-statement FILE [--creditor CODE]``: import a CAMT.053 or MT940 file.

Exit codes: 0 imported (or nothing new); 1 the file cannot be read (it names the file, line,
field and reason; nothing is stored); 2 the command cannot be done as asked (no such file,
unknown creditor, a statement of another creditor's account).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vaarwater.core.events import Actor
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import Creditor
from vaarwater.payments.statements import StatementError
from vaarwater.payments.statements.importing import (
    StatementImportError,
    outcome_line,
    statement_import,
)


class Command(BaseCommand):
    help = (
        "Import a bank statement file (CAMT.053 .001.02/.04/.08 or MT940). The creditor is "
        "found from the statement's account (its collection IBAN) or given with --creditor; a "
        "statement of an unknown account is kept in a worklist. Incoming payments are matched "
        "to debtors and booked; what cannot be matched waits in `vaarwater statements`. "
        "Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--creditor",
            help="creditor code; the statement's account must be its IBAN (or it has none)",
        )

    def handle(self, *args, file, creditor=None, **options):
        path = Path(file)
        if path.is_dir():
            raise CommandError(f"{file}: is a folder; give one statement file", returncode=2)
        if not path.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror})", returncode=2) from None
        tenant = None
        if creditor:
            tenant = Creditor.objects.filter(code=creditor.strip().upper()).first()
            if tenant is None:
                raise CommandError(f"creditor {creditor!r} does not exist", returncode=2)
        try:
            result = statement_import(
                raw=raw,
                file_name=path.name,
                creditor=tenant,
                actor=Actor.system(f"vaarwater import-statement {path.name}"),
            )
        except StatementError as exc:
            raise CommandError(f"{exc} (nothing imported)", returncode=1) from None
        except StatementImportError as exc:
            raise CommandError(f"{file}: {exc}", returncode=2) from None
        count = len(result.statements)
        self.stdout.write(
            f"{file} ({result.file_format}): {count} statement{'s' if count != 1 else ''}"
        )
        for outcome in result.statements:
            self.stdout.write(f"  {outcome_line(outcome)}")
            statement = outcome.statement
            if statement is not None and statement.closing_cents is not None:
                self.stdout.write(
                    f"    balance {format_eur(statement.opening_cents or 0, language='en')} → "
                    f"{format_eur(statement.closing_cents, language='en')}"
                )
