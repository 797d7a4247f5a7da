"""``vaarwater import debtors|invoices|payments FILE --creditor CODE [--skip-invalid]``."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vaarwater.ledger.importing import WRITERS, ImportFailed, csv_import
from vaarwater.ledger.models import Creditor


class Command(BaseCommand):
    help = (
        "Import a CSV file of debtors, invoices or payments. All rows are validated; if any is "
        "invalid nothing is imported (or, with --skip-invalid, the valid rows are and the others "
        "go to FILE.rejected.csv). Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(WRITERS))
        parser.add_argument("file")
        parser.add_argument("--creditor", required=True, help="creditor code")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows; write the others to FILE.rejected.csv",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, kind, file, creditor, skip_invalid, no_progress, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"{file}: no such file")
        if not path.is_file():
            raise CommandError(f"{file}: not a file")
        try:
            path.open("rb").close()
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror})") from None
        try:
            tenant = Creditor.objects.get(code=creditor.strip().upper())
        except Creditor.DoesNotExist:
            raise CommandError(
                f"creditor {creditor!r} does not exist; create it with "
                f"`vaarwater creditor create {creditor} --name ... --sector ...`"
            ) from None
        progress = not no_progress and sys.stderr.isatty()
        try:
            result = csv_import(
                kind=kind,
                path=path,
                creditor=tenant,
                skip_invalid=skip_invalid,
                file_name=file,
                progress=progress,
            )
        except ImportFailed as failed:
            for line in failed.lines():
                self.stderr.write(line)
            raise CommandError(str(failed), returncode=1) from None
        self.stdout.write(
            f"{file}: {result.rows} rows: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.rejected} rejected"
        )
        if result.rejected_file:
            for problem in result.problems:
                self.stderr.write(problem.format(file))
            self.stdout.write(f"rejected rows and their reasons: {result.rejected_file}")
