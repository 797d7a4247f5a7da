"""The letter channel's adapter: "sending" a letter is writing its PDF for the print batch.

The file is ``VAR_DIR/letters/<day in Amsterdam>/<message id>.pdf``; the day's print batch
(``batch.print_batch_create``) takes the sent letters to the print house.
"""

import os
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ..providers.base import Adapter, PermanentFailure, Sent
from .pdf import AMSTERDAM, letter_pdf, postal_address_lines


def letters_dir(day) -> Path:
    """The folder of one day's letter PDFs."""
    return Path(settings.VAR_DIR) / "letters" / day.isoformat()


# Letters hold personal data: the owner writes, the group (the print house's pick-up) reads.
FILE_MODE = 0o640


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the whole file or none (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LetterAdapter(Adapter):
    """Render a letter to PDF in the day's letters folder."""

    name = "print"
    can_lookup = True

    def __init__(self, *, now=None):
        # ``now`` is for tests: a callable returning the current moment.
        self._now = now or timezone.now

    def _today(self) -> datetime:
        return self._now().astimezone(AMSTERDAM)

    @staticmethod
    def provider_id(message) -> str:
        return f"letter-{message.pk}"

    def path(self, message, day=None) -> Path:
        return letters_dir(day or self._today().date()) / f"{message.pk}.pdf"

    def send(self, message) -> Sent:
        """Write the letter's PDF; refuse a debtor without a complete postal address."""
        if not postal_address_lines(message.debtor):
            raise PermanentFailure("geen volledig postadres", contact_invalid=False)
        # The outbox's claim is the moment of sending (a simulated one in the demo).
        now = message.claimed_at or self._now()
        path = self.path(message, now.astimezone(AMSTERDAM).date())
        write_atomic(path, letter_pdf(message=message, now=now))
        return Sent(provider_id=self.provider_id(message), detail=str(path))

    def lookup(self, message) -> str:
        """Return the letter's id when its PDF exists, else "".

        The file is in the folder of the day the send began (the claim) or, failing a claim
        time, of today.
        """
        days = {self._today().date()}
        if message.claimed_at:
            days.add(message.claimed_at.astimezone(AMSTERDAM).date())
        found = any(self.path(message, day).exists() for day in days)
        return self.provider_id(message) if found else ""
