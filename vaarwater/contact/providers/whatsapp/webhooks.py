"""Read what Meta posts to us: message statuses and inbound messages, JSON and signed.

Meta first checks the webhook URL with a GET (``hub.mode=subscribe``, ``hub.verify_token``,
``hub.challenge``): we answer the challenge when the token is ours. Every POST carries
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>``; the
body's statuses are in ``entry[].changes[].value.statuses[]`` and inbound messages in
``entry[].changes[].value.messages[]``. Meta retries a POST that does not get a 200 for days.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

from . import consts


@dataclass(frozen=True)
class StatusReport:
    """One status of one message, in our words. ``status`` is None for one we do not record."""

    provider_id: str
    status: str | None
    provider_status: str
    event_id: str
    at: datetime
    reference: str = ""  # biz_opaque_callback_data: the message's idempotency key
    error_code: int | None = None
    contact_invalid: bool = False
    detail: str = ""
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class InboundReport:
    """One message a debtor sent to our WhatsApp number."""

    sender: str  # E.164, with "+"
    body: str
    provider_id: str
    received_at: datetime


def signature_valid(*, body: bytes, header: str, app_secret: str) -> bool:
    """True when ``header`` is ``sha256=`` + the HMAC-SHA256 of ``body`` with the app secret.

    >>> sig = "sha256=" + hmac.new(b"s", b"{}", hashlib.sha256).hexdigest()
    >>> signature_valid(body=b"{}", header=sig, app_secret="s")
    True
    >>> signature_valid(body=b"{ }", header=sig, app_secret="s")
    False
    """
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def verification_answer(params: Mapping[str, str], *, verify_token: str) -> str | None:
    """The challenge to echo for Meta's subscription check, or None to refuse it.

    >>> verification_answer({"hub.mode": "subscribe", "hub.verify_token": "t",
    ...                      "hub.challenge": "42"}, verify_token="t")
    '42'
    >>> verification_answer({"hub.mode": "subscribe", "hub.verify_token": "x",
    ...                      "hub.challenge": "42"}, verify_token="t") is None
    True
    """
    token = params.get("hub.verify_token") or ""
    if (
        params.get("hub.mode") != "subscribe"
        or not verify_token
        or not hmac.compare_digest(token.encode(), verify_token.encode())
    ):
        return None
    return params.get("hub.challenge") or ""


def _values(payload: dict, phone_number_id: str = ""):
    """Every ``value`` of a ``messages`` change, for our phone number only (when given)."""
    if not isinstance(payload, dict):
        return
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            number = (value.get("metadata") or {}).get("phone_number_id") or ""
            if phone_number_id and number and number != phone_number_id:
                continue
            yield value


def statuses_parse(payload: dict, *, phone_number_id: str = "") -> list[StatusReport]:
    """Every status in a webhook body."""
    reports = []
    for value in _values(payload, phone_number_id):
        for item in value.get("statuses") or []:
            provider_status = str(item.get("status") or "").lower()
            status = consts.STATUS_MAP.get(provider_status)
            errors = item.get("errors") or []
            code = _int(errors[0].get("code")) if errors else None
            contact_invalid = status == "failed" and code in consts.CONTACT_INVALID
            if contact_invalid:
                status = "bounced"  # the number cannot receive WhatsApp messages
            detail = f"WhatsApp: {provider_status}"
            if code:
                error = errors[0]
                text = (
                    consts.ERROR_TEXTS.get(code)
                    or (error.get("error_data") or {}).get("details")
                    or error.get("title")
                    or ""
                )
                detail += f", fout {code}" + (f" ({text})" if text else "")
            data = {"provider_status": provider_status}
            if code:
                data["error_code"] = code
            if item.get("pricing"):
                data["pricing"] = item["pricing"]
            wamid = str(item.get("id") or "")
            reports.append(
                StatusReport(
                    provider_id=wamid,
                    status=status,
                    provider_status=provider_status,
                    event_id=f"{wamid}:{provider_status}",
                    at=_when(item.get("timestamp")),
                    reference=str(item.get("biz_opaque_callback_data") or ""),
                    error_code=code,
                    contact_invalid=contact_invalid,
                    detail=detail,
                    data=data,
                )
            )
    return reports


def inbound_parse(payload: dict, *, phone_number_id: str = "") -> list[InboundReport]:
    """Every inbound message in a webhook body: text, a tapped button, or another kind."""
    reports = []
    for value in _values(payload, phone_number_id):
        for item in value.get("messages") or []:
            kind = item.get("type")
            if kind == "text":
                body = (item.get("text") or {}).get("body") or ""
            elif kind == "button":  # a quick-reply button of a template ("Stop berichten")
                body = (item.get("button") or {}).get("text") or ""
            elif kind == "interactive":
                reply = item.get("interactive") or {}
                body = (reply.get("button_reply") or reply.get("list_reply") or {}).get(
                    "title"
                ) or ""
            else:
                body = f"[{kind}]"
            sender = str(item.get("from") or "")
            reports.append(
                InboundReport(
                    sender=sender if sender.startswith("+") else f"+{sender}",
                    body=body,
                    provider_id=str(item.get("id") or ""),
                    received_at=_when(item.get("timestamp")),
                )
            )
    return reports


def _when(timestamp) -> datetime:
    """Meta's Unix timestamp (a string of seconds), or now when it is missing."""
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
