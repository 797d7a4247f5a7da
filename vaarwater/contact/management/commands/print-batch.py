"""``vaarwater print-batch [--date YYYY-MM-DD] [--creditor CODE]``: the day's letters for the
print house, one merged PDF and a CSV manifest per creditor."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vaarwater.contact.letters.batch import print_batch_create, print_batch_for
from vaarwater.contact.letters.pdf import AMSTERDAM
from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date {text!r}: expected YYYY-MM-DD, such as 2026-11-23") from None


class Command(BaseCommand):
    help = (
        "Make the print batch of a day's letters: per creditor one PDF with every letter, "
        "sorted by postcode, and a CSV manifest. Running a day again makes nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            default=None,
            help="the day the letters were sent (default: yesterday, a day that is over)",
        )
        parser.add_argument("--creditor", default=None, help="only this creditor (code)")

    def handle(self, *args, date=None, creditor=None, **options):
        today = timezone.now().astimezone(AMSTERDAM).date()
        day = _day(date) if date else today - timedelta(days=1)
        if creditor:
            found = Creditor.objects.filter(code=creditor.strip().upper()).first()
            if found is None:
                raise CommandError(f"--creditor {creditor}: no such creditor")
            creditors = [found]
        else:
            creditors = list(Creditor.objects.order_by("code"))
        if day >= today:
            self.stderr.write(
                f"note: {day.isoformat()} is not over yet; letters sent later that day go in "
                "no batch (run print-batch for a day that has ended)"
            )
        actor = Actor.system("vaarwater print-batch")
        for each in creditors:
            earlier = print_batch_for(creditor=each, day=day)
            batch = earlier or print_batch_create(creditor=each, day=day, actor=actor)
            if batch is None:
                self.stdout.write(f"{each.code} {day.isoformat()}: no letters")
                continue
            made = "already made" if earlier else "made"
            self.stdout.write(
                f"{each.code} {day.isoformat()}: {batch.letters_count} letters, "
                f"{batch.pages_count} pages ({made})"
            )
            self.stdout.write(f"  pdf: {batch.pdf_path}")
            self.stdout.write(f"  manifest: {batch.manifest_path}")
