"""The SMS adapter: one outbox message becomes one Twilio Message resource.

Twilio answers a send with the message's sid (``SM…``) and reports later through the
StatusCallback URL we hand over with every message (``webhooks.status_parse``). Errors at send
time map onto the outbox's two kinds of failure:

- no connection, a timeout before the request went out, HTTP 429 / 5xx, Twilio 20429 / 30001,
  and refused credentials (fixing the settings makes the retry work) → ``TemporaryFailure``;
- an unusable number (21211, 21614, …) → ``PermanentFailure(contact_invalid=True)``;
- any other 4xx → ``PermanentFailure``.

When the request went out but the answer was lost (read timeout, dropped connection), Twilio
may have accepted the message. The adapter then asks Twilio (``lookup``) instead of guessing:
found → sent; not there → a temporary failure (safe to send again); cannot tell → a permanent
failure, because sending again could send it twice.
"""

import logging
import unicodedata
from datetime import UTC, timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from ..base import Adapter, PermanentFailure, Sent, TemporaryFailure
from . import consts

log = logging.getLogger(__name__)

# How far before the claim the lookup searches: clocks differ a little between us and Twilio.
LOOKUP_MARGIN = timedelta(minutes=1)
# Newest messages to one number read by a lookup, beside the ones sent since the claim (a
# message still queued at Twilio has no date_sent yet, so the date filter alone misses it).
LOOKUP_RECENT = 20
# Seconds to wait for a connection (the read timeout is ``CHANNEL_PROVIDER_TIMEOUT``).
CONNECT_TIMEOUT = 5


class ApiBaseHttpClient(TwilioHttpClient):
    """The library's HTTP client, sending to ``api_base`` instead of https://api.twilio.com.

    With an empty ``api_base`` it is the library's own client, unchanged.
    """

    def __init__(self, *, api_base: str = "", timeout: float | None = None):
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")
        if timeout is not None:
            # A short connect timeout: a dead host should fail fast, before anything was sent.
            self.timeout = (CONNECT_TIMEOUT, timeout)

    def request(self, method, url, *args, **kwargs):
        if self.api_base and url.startswith(consts.API_HOST):
            url = self.api_base + url[len(consts.API_HOST) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client(*, timeout: float | None = None) -> Client:
    """A ``twilio.rest.Client`` for the configured account, at ``TWILIO_API_BASE`` if set."""
    http_client = ApiBaseHttpClient(
        api_base=settings.TWILIO_API_BASE or "",
        timeout=timeout or settings.CHANNEL_PROVIDER_TIMEOUT,
    )
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def status_callback_url(message) -> str:
    """The URL Twilio reports this message's statuses to.

    It carries the message's idempotency key, so that a status that arrives before the sender
    stored Twilio's sid (a fast callback) still finds its message. Twilio signs the whole URL.
    """
    path = reverse("contact:twilio-status")
    query = urlencode({"m": message.idempotency_key})
    return f"{settings.PUBLIC_URL.rstrip('/')}{path}?{query}"


class TwilioSmsAdapter(Adapter):
    """Send an SMS through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages``)."""

    name = "twilio"
    can_lookup = True

    def __init__(self, client: Client | None = None, *, timeout: float | None = None):
        self.client = client or twilio_client(timeout=timeout)

    def send(self, message) -> Sent:
        if not message.body_text.strip():
            raise PermanentFailure("lege sms: niets te versturen")
        params = {
            "to": message.recipient,
            "body": message.body_text,
            "status_callback": status_callback_url(message),
        }
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM
        try:
            created = self.client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise send_failure(exc) from exc
        except requests.RequestException as exc:
            if request_never_arrived(exc):
                raise TemporaryFailure(f"Twilio niet bereikbaar: {exc.__class__.__name__}") from exc
            return self._after_lost_answer(message, exc)
        except TwilioException as exc:  # an answer the library could not read
            return self._after_lost_answer(message, exc)
        return Sent(
            provider_id=created.sid,
            detail=f"aangenomen door Twilio ({created.status})",
            data={"status": created.status, "segments": created.num_segments},
        )

    def lookup(self, message) -> str:
        """Twilio's sid of this message if Twilio has it, else "".

        Twilio has no idempotency key for messages, so this matches on the number, the exact
        text and the time: messages to ``recipient`` created since the claim (less a minute).
        Raises ``TemporaryFailure`` when Twilio cannot be asked now.
        """
        if message.claimed_at is None:
            return ""
        since = (message.claimed_at - LOOKUP_MARGIN).astimezone(UTC)
        try:
            found = self.client.messages.list(to=message.recipient, date_sent_after=since)
            found += self.client.messages.list(to=message.recipient, limit=LOOKUP_RECENT)
        except (TwilioException, requests.RequestException) as exc:
            raise TemporaryFailure(f"Twilio niet te raadplegen: {exc.__class__.__name__}") from exc
        wanted = _comparable(message.body_text)
        matches = [
            item
            for item in found
            if item.direction == "outbound-api"
            and item.date_created is not None
            and item.date_created >= since.replace(microsecond=0)
            and _comparable(item.body or "") == wanted
        ]
        if not matches:
            return ""
        return min(matches, key=lambda item: (item.date_created, item.sid)).sid

    def _after_lost_answer(self, message, exc: Exception) -> Sent:
        log.warning("no answer from Twilio for message %s: %r; asking Twilio", message.pk, exc)
        try:
            sid = self.lookup(message)
        except TemporaryFailure:
            sid = None
        if sid:
            return Sent(provider_id=sid, detail="antwoord van Twilio ging verloren; teruggevonden")
        if sid == "":
            raise TemporaryFailure("geen antwoord van Twilio en daar niet bekend: later opnieuw")
        raise PermanentFailure(
            "geen antwoord van Twilio en niet na te gaan of de sms aankwam; niet opnieuw "
            "verstuurd om dubbel versturen te voorkomen"
        )


def send_failure(exc: TwilioRestException | TwilioServiceException) -> Exception:
    """Map Twilio's error answer to a TemporaryFailure or PermanentFailure."""
    status = int(getattr(exc, "status", 0) or 0)
    code = _int(getattr(exc, "code", None))
    text = consts.ERROR_TEXTS.get(code) or getattr(exc, "msg", "") or getattr(exc, "title", "")
    reason = f"Twilio {code or status}: {text}".rstrip(": ")
    if code in consts.SEND_CONTACT_INVALID:
        return PermanentFailure(reason, contact_invalid=True, bounced=True)
    if (
        status == 429
        or status >= 500
        or code in consts.TEMPORARY
        or code in consts.AUTHENTICATION
        or status == 401
    ):
        return TemporaryFailure(reason)
    return PermanentFailure(reason)


def request_never_arrived(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach the provider (so sending again is safe).

    A refused connection, a failed name lookup or a connect timeout happen before a byte is
    sent; a read timeout or a dropped connection may come after the provider accepted it.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)
    return False


def _comparable(text: str) -> str:
    """Text as Twilio may store it: smart encoding turns curly quotes and dashes into ASCII."""
    text = text.translate(_SMART).strip()
    return " ".join(unicodedata.normalize("NFC", text).split())


_SMART = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
