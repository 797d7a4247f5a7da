"""The one small interface every channel adapter offers the outbox.

An adapter sends one rendered message and says what happened:
- it returns a ``Sent`` with the provider's reference;
- it raises ``TemporaryFailure`` when trying again later may work (timeouts, 5xx, rate limits);
- it raises ``PermanentFailure`` when it never will (hard bounce, unknown number, refused
  template); ``contact_invalid`` says the address itself is bad, so the contact point is marked
  invalid and the next contact falls back to another channel.

``lookup`` answers "did you already accept this message?" for a message whose sender died
between handing it over and recording the answer. ``None`` means the adapter cannot tell; the
outbox then does not send again (no duplicates), and records the interruption.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sent:
    provider_id: str
    detail: str = ""
    data: dict = field(default_factory=dict)


class TemporaryFailure(Exception):
    """Sending failed, but may succeed later."""


class PermanentFailure(Exception):
    """Sending failed and will not succeed by retrying."""

    def __init__(self, reason: str, *, contact_invalid: bool = False, bounced: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.contact_invalid = contact_invalid
        self.bounced = bounced


class Adapter:
    """Base class: ``name`` is stored on the message as its provider."""

    name = "?"
    # True when the provider can be asked whether it has a message (see ``lookup``).
    can_lookup = False

    def send(self, message) -> Sent:  # pragma: no cover - interface
        """Hand one rendered message (recipient, subject, body_text, body_html) over."""
        raise NotImplementedError

    def lookup(self, message) -> str | None:
        """Return the provider's id of this message if it was accepted, "" if it was not,
        or None if this provider cannot tell."""
        return None
