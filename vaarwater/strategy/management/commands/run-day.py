"""``vaarwater run-day [--date YYYY-MM-DD] [--dry-run]``: move every open case one step."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor
from vaarwater.strategy.run import DEFAULT_CHUNK, RunRefused, daily_run, summary_lines


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date {text!r}: expected YYYY-MM-DD, such as 2026-11-23") from None


class Command(BaseCommand):
    help = (
        "The daily run: open cases for overdue debtors, close paid ones, and take each open "
        "case's next step that is due. Running a day again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", default=None, help="the day to run (default: today)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="decide everything, save nothing; print a summary and write the detail to CSV",
        )
        parser.add_argument("--creditor", default=None, help="only this creditor (code)")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
        parser.add_argument("--detail", default=None, help="where the dry run's CSV goes")

    def handle(self, *args, date=None, dry_run, creditor, chunk_size, detail, **options):
        from pathlib import Path

        run_date = _day(date) if date else __import__("datetime").date.today()
        scope = None
        if creditor:
            scope = Creditor.objects.filter(code=creditor.strip().upper()).first()
            if scope is None:
                raise CommandError(f"--creditor {creditor}: no such creditor")
        if chunk_size < 1:
            raise CommandError("--chunk-size: must be at least 1")
        try:
            result = daily_run(
                run_date=run_date,
                dry_run=dry_run,
                creditor=scope,
                chunk_size=chunk_size,
                actor=Actor.system("dagelijkse run"),
                detail_file=Path(detail) if detail else None,
            )
        except RunRefused as refused:
            raise CommandError(str(refused)) from None
        for line in summary_lines(result):
            self.stdout.write(line)
