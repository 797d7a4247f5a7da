"""``vaarwater sepa-return END_TO_END_ID --code MD06 [--reject] [--reason TEXT] [--date DAY]``:
a direct debit that came back, reported outside a bank statement (the bank's portal, a letter).
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from vaarwater.core.events import Actor
from vaarwater.core.money import format_eur
from vaarwater.payments.sepa import SepaError, collection_return, return_reason_text
from vaarwater.payments.sepa_models import Collection, CollectionStatus


class Command(BaseCommand):
    help = (
        "Record a returned direct debit: a storno after it was collected (the booked payment is "
        "reversed) or, with --reject, a refusal before it was collected (nothing was booked)."
    )

    def add_arguments(self, parser):
        parser.add_argument("end_to_end_id", help="the debit's end-to-end id, such as VWI-12-3")
        parser.add_argument("--code", required=True, help="the bank's reason code, such as MD06")
        parser.add_argument(
            "--reject", action="store_true", help="refused before collection (not a storno)"
        )
        parser.add_argument("--reason", default="", help="a note for the timeline")
        parser.add_argument("--date", default=None, help="the day it came back (default today)")

    def handle(self, *args, **options):
        # The command speaks English (its help, its errors, the reason's meaning): the status
        # labels too, whatever the site's language.
        with translation.override("en"):
            self._handle(**options)

    def _handle(self, *, end_to_end_id, code, reject=False, reason="", date=None, **options):
        on = timezone.localdate()
        if date:
            try:
                on = _parse(date)
            except ValueError:
                raise CommandError(f"--date {date!r}: expected YYYY-MM-DD") from None
        e2e = end_to_end_id.strip().upper()
        row = Collection.objects.filter(end_to_end_id__iexact=e2e).first()
        if row is None:
            raise CommandError(f"{end_to_end_id}: no direct debit with this end-to-end id")
        before = row.status
        kind = "reject" if reject else "storno"
        try:
            row = collection_return(
                collection=row,
                code=code,
                kind=kind,
                reason=reason,
                on=on,
                actor=Actor.system("vaarwater sepa-return"),
            )
        except SepaError as exc:
            raise CommandError(str(exc)) from None
        if before in (CollectionStatus.RETURNED, CollectionStatus.REJECTED):
            self.stdout.write(
                f"{row.end_to_end_id}: already {row.get_status_display()} "
                f"({row.return_code or '-'}); nothing changed"
            )
            return
        self.stdout.write(
            f"{row.end_to_end_id}: {row.get_status_display()}, {format_eur(row.amount_cents)}, "
            f"{row.return_code or '-'} ({return_reason_text(row.return_code, 'en')})"
        )
        if row.mandate.status == "revoked":
            self.stdout.write(f"  mandate {row.mandate.mandate_id} revoked")


def _parse(text: str) -> date:
    return date.fromisoformat(text.strip())
