"""``vaarwater send-messages [--now ISO]``: send every message that is due, once.

Run it every minute (cron or a systemd timer) in the embedded set-up; with Celery, beat runs
the same dispatcher (``contact.dispatch``) and the workers send the messages.
"""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vaarwater.contact.services import outbox_dispatch


class Command(BaseCommand):
    help = (
        "Send every due message (email, SMS, WhatsApp, letters) and settle messages whose "
        "sender was interrupted. Safe to run at any time and more than once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="the moment to act at (ISO, e.g. 2026-11-24T10:00+01:00); default: now",
        )

    def handle(self, *args, now=None, **options):
        moment = timezone.now()
        if now:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(
                    f"--now {now!r}: expected an ISO moment, such as 2026-11-24T10:00+01:00"
                ) from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        total = {"recovered": 0, "dispatched": 0}
        while True:
            counts = outbox_dispatch(now=moment)
            for key in total:
                total[key] += counts[key]
            # In-process, sending is done when dispatch returns: go on until nothing is due.
            # With workers the rows stay queued until a worker claims them: dispatch once.
            if not counts["dispatched"] or not settings.CELERY_TASK_ALWAYS_EAGER:
                break
        self.stdout.write(
            f"{total['dispatched']} message(s) handed to the senders, "
            f"{total['recovered']} interrupted one(s) settled"
        )
