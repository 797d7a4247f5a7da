"""``vaarwater sepa-batch --creditor CODE [--format 02|08] [--up-to DATE] [--out FILE]``: the
SEPA direct-debit file (pain.008) of a creditor's planned debits, to upload to the bank."""

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from vaarwater.core.events import Actor
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import Creditor
from vaarwater.payments.sepa import PAIN_02, PAIN_08, SepaError, batch_create

FORMATS = {"02": PAIN_02, "08": PAIN_08, PAIN_02: PAIN_02, PAIN_08: PAIN_08}
DEFAULT_DAYS_AHEAD = 7


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r}: expected YYYY-MM-DD, such as 2026-11-23") from None


class Command(BaseCommand):
    help = (
        "Make the SEPA direct-debit file (pain.008) with a creditor's planned, pre-notified "
        "debits due up to a day, validate it against the XSD and write it for the bank."
    )

    def add_arguments(self, parser):
        parser.add_argument("--creditor", required=True, help="the creditor (code)")
        parser.add_argument(
            "--format",
            default="08",
            help="02 (pain.008.001.02) or 08 (pain.008.001.08, the default)",
        )
        parser.add_argument(
            "--up-to",
            default=None,
            help=f"take debits due on or before this day (default: {DEFAULT_DAYS_AHEAD} days "
            "from today)",
        )
        parser.add_argument(
            "--out",
            default=None,
            help="the file to write, or a folder to write <id>.xml in (default var/sepa/)",
        )

    def handle(self, *args, creditor, format, up_to=None, out=None, **options):
        schema = FORMATS.get(format.strip())
        if schema is None:
            raise CommandError(f"--format {format!r}: expected 02 or 08")
        found = Creditor.objects.filter(code=creditor.strip().upper()).first()
        if found is None:
            raise CommandError(f"--creditor {creditor}: no such creditor")
        today = timezone.localdate()
        until = _day(up_to, "--up-to") if up_to else today + timedelta(days=DEFAULT_DAYS_AHEAD)
        path = Path(out) if out else None
        if path is not None and not path.is_dir() and not path.parent.is_dir():
            raise CommandError(f"--out {out}: the folder {path.parent} does not exist")
        # The debits become "submitted" only when their file is written: a file that cannot
        # be written leaves everything as it was (else they would wait for a file nobody has).
        try:
            with transaction.atomic():
                batch = batch_create(
                    creditor=found,
                    schema=schema,
                    up_to=until,
                    actor=Actor.system("vaarwater sepa-batch"),
                )
                if path is None:
                    path = Path(settings.VAR_DIR) / "sepa"
                    path.mkdir(parents=True, exist_ok=True)
                if path.is_dir():
                    path = path / f"{batch.message_id}.xml"
                path.write_text(batch.xml, encoding="utf-8")
        except SepaError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(
                f"--out {path}: cannot write the file ({exc.strerror}); nothing was changed"
            ) from None
        self.stdout.write(
            f"{found.code} {batch.message_id} ({batch.schema}): {batch.count} direct debits, "
            f"{format_eur(batch.total_cents)} in total, first collection on "
            f"{batch.collection_date.isoformat()}"
        )
        self.stdout.write(f"  file: {path}")
        self.stdout.write(f"  sha256: {batch.sha256}")
        for note in getattr(batch, "notes", []):
            self.stderr.write(f"note: {note}")
