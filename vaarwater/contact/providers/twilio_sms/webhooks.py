"""Read what Twilio posts to us: status callbacks and inbound SMS, both form-encoded and signed.

Twilio signs every webhook with ``X-Twilio-Signature``: base64(HMAC-SHA1(auth token, the full
URL it called + every POST parameter name and value, sorted by name)). The URL must be the one
Twilio called, which behind a reverse proxy is not the one Django sees; see ``signed_urls``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from twilio.request_validator import RequestValidator

from . import consts


@dataclass(frozen=True)
class StatusReport:
    """One status callback, in our words. ``status`` is None for a step we do not record."""

    provider_id: str
    status: str | None
    provider_status: str
    event_id: str
    at: datetime
    error_code: int | None = None
    contact_invalid: bool = False
    detail: str = ""
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class InboundReport:
    """One SMS a debtor sent to our number."""

    sender: str
    body: str
    provider_id: str
    received_at: datetime


def signature_valid(*, urls: list[str], params, signature: str, auth_token: str) -> bool:
    """True when ``signature`` is Twilio's signature of ``params`` posted to one of ``urls``."""
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    return any(validator.validate(url, params, signature) for url in urls)


def signed_urls(*, public_url: str, full_path: str, absolute_uri: str) -> list[str]:
    """The URLs Twilio may have signed, most likely first.

    Twilio signs the URL it called: our ``PUBLIC_URL`` plus the path (this installation gives
    Twilio ``PUBLIC_URL`` + path as StatusCallback, and operators configure the inbound URL the
    same way). Behind a reverse proxy Django sees another scheme or host, so the URL Django
    reconstructs is only a second candidate. Both need the auth token to match, so trying two
    costs no safety.

    >>> signed_urls(public_url="https://incasso.example.nl/", full_path="/contact/x/?m=1",
    ...             absolute_uri="http://10.0.0.5:8000/contact/x/?m=1")
    ['https://incasso.example.nl/contact/x/?m=1', 'http://10.0.0.5:8000/contact/x/?m=1']
    """
    first = public_url.rstrip("/") + full_path
    return [first] if absolute_uri == first else [first, absolute_uri]


def status_parse(params: Mapping[str, str], *, now: datetime | None = None) -> StatusReport:
    """Read a status callback (MessageSid, MessageStatus, ErrorCode, …)."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    provider_status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    status = consts.STATUS_MAP.get(provider_status)
    code = _int(params.get("ErrorCode"))
    contact_invalid = status == "failed" and code in consts.STATUS_CONTACT_INVALID
    if contact_invalid:
        status = "bounced"  # a hard bounce: the number does not work
    detail = f"Twilio: {provider_status}"
    if code:
        detail += f", fout {code}"
        text = consts.ERROR_TEXTS.get(code) or params.get("ErrorMessage", "")
        if text:
            detail += f" ({text})"
    data = {"provider_status": provider_status}
    if code:
        data["error_code"] = code
    return StatusReport(
        provider_id=sid,
        status=status,
        provider_status=provider_status,
        # Twilio sends no event id: one sid reaches each status once, so the pair is the event.
        event_id=f"{sid}:{provider_status}",
        at=now or timezone.now(),
        error_code=code,
        contact_invalid=contact_invalid,
        detail=detail,
        data=data,
    )


def inbound_parse(params: Mapping[str, str], *, now: datetime | None = None) -> InboundReport:
    """Read an inbound SMS (From, Body, MessageSid)."""
    return InboundReport(
        sender=(params.get("From") or "").strip(),
        body=params.get("Body") or "",
        provider_id=params.get("MessageSid") or params.get("SmsMessageSid") or "",
        received_at=now or timezone.now(),
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
