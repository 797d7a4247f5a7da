"""``vaarwater sepa-status FILE``: apply the bank's pain.002 status report of a direct-debit file
(the debits it rejected become rejected; nothing was booked for them)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vaarwater.core.events import Actor
from vaarwater.payments.sepa import SepaError, status_report_apply


class Command(BaseCommand):
    help = "Read a pain.002 payment status report and record the direct debits it rejected."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            report = status_report_apply(
                raw=path.read_bytes(), actor=Actor.system("vaarwater sepa-status")
            )
        except SepaError as exc:
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(
            f"{file}: status report {report.message_id or '-'} for "
            f"{report.original_message_id or '-'}: {len(report.rejected)} rejected, "
            f"{len(report.unchanged)} already handled, {len(report.unknown)} unknown"
        )
        for row in report.rejected:
            self.stdout.write(f"  {row.end_to_end_id}: rejected ({row.return_code or '-'})")
        for unknown in report.unknown:
            self.stderr.write(f"note: {unknown} is not one of our direct debits or files")
