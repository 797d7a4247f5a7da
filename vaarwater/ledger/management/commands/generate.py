"""Generate a synthetic energy supplier's portfolio as import CSV files (no database needed).

vaarwater generate --debtors 1000 --seed 42 --out var/demo
"""

import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from vaarwater.ledger.generator import generate_portfolio
from vaarwater.ledger.validation import validate_iso_date

# Below this many debtors a run takes well under a second: a progress bar is only noise.
PROGRESS_MIN_DEBTORS = 10_000


class Command(BaseCommand):
    help = (
        "Write debtors.csv, invoices.csv and payments.csv for a synthetic Dutch energy "
        "supplier: twelve months of invoices and payments ending on --as-of."
    )
    # Writes files only: no system checks, so it runs without a configured database.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--debtors", type=int, required=True, help="number of debtors (>= 1)")
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed; the same seed writes the same bytes"
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            default=None,
            help="last day of the history, YYYY-MM-DD (default: today)",
        )
        parser.add_argument("--out", required=True, help="output directory (created if missing)")

    def handle(self, *args, debtors: int, seed: int, as_of: str | None, out: str, **options):
        if debtors < 1:
            raise CommandError(f"--debtors must be at least 1, not {debtors}")
        if as_of is None:
            as_of_date = timezone.localdate()
        elif isinstance(as_of, date):
            as_of_date = as_of
        else:
            try:
                as_of_date = validate_iso_date(str(as_of))
            except ValueError as exc:
                raise CommandError(f"--as-of: {exc}") from None
        out_dir = Path(out)
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"--out {out_dir} exists and is not a directory")

        counts = generate_portfolio(
            debtors=debtors,
            seed=seed,
            as_of=as_of_date,
            out=out_dir,
            progress=debtors >= PROGRESS_MIN_DEBTORS and sys.stderr.isatty(),
        )
        for name, rows in counts.items():
            self.stdout.write(f"{out_dir / f'{name}.csv'}: {rows} rows")
