"""A local stand-in for Twilio's Messages API, the WhatsApp Cloud API and Mollie's Payments API,
with webhooks.

It serves the parts of both APIs our adapters use, checks credentials like the real ones, keeps
every accepted message, and reports back like the providers do: signed status webhooks
(Twilio: to the message's StatusCallback with ``X-Twilio-Signature``; WhatsApp: to the
configured webhook URL with ``X-Hub-Signature-256``) — sent, then delivered (then read for
WhatsApp), each after ``status_delay`` seconds, in a background thread that retries while the
app is down (connection refused, 5xx, 429; up to ``webhook_attempts`` tries).

Provider API (what the twilio library and the WhatsApp adapter call):

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (Basic auth: sid and auth token)
- ``GET  /2010-04-01/Accounts/{AccountSid}/Messages.json`` (To, From, DateSent, DateSent<,
  DateSent>, PageSize, Page) and ``GET …/Messages/{Sid}.json``
- ``POST /{version}/{phone_number_id}/messages`` (Bearer token; approved templates only)
- ``POST /v2/payments``, ``GET /v2/payments/{id}`` (Mollie, Bearer API key) and the iDEAL
  checkout page ``/_sim/mollie/checkout/{id}``: see ``mollie.py``

Control API (for tests, the demo and people):

- ``GET /`` a page with the messages; ``GET /_sim/messages`` the same as JSON
  (``?channel=sms|whatsapp``); ``GET /_sim/webhooks`` every webhook sent and its answer
- ``POST /_sim/reset`` forgets messages and switches; ``POST /_sim/config`` (JSON) sets switches
- ``POST /_sim/inbound`` ``{"channel": "sms"|"whatsapp", "from": "+316…", "body": "STOP"}``
  posts an inbound SMS / WhatsApp webhook to the app and answers with the app's HTTP status

Switches (``SimulatorConfig``, settable through ``/_sim/config`` or ``Simulator.configure``):

- ``unknown_suffix``: a number ending in it does not exist. ``unknown_mode="async"`` (default,
  as the real networks do) accepts the message and reports it failed afterwards — Twilio
  ``undelivered`` with ErrorCode 30005, WhatsApp ``failed`` with error 131026;
  ``unknown_mode="reject"`` refuses it at once — Twilio HTTP 400 error 21211, WhatsApp HTTP 400
  error 131026.
- ``hold_seconds``: store the message (and start its webhooks), then wait this long before
  answering — a test can kill the sender after the provider accepted but before it heard so.
- ``fail_next`` / ``fail_status``: answer the next N sends with this HTTP status (500, or 429),
  storing nothing.
- ``clock_offset``: seconds added to the simulator's clock, for an outbox run at a simulated
  moment (Twilio's list filters and the lookup compare the provider's times with the claim).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from vaarwater.contact.providers.whatsapp.consts import APPROVED

from .mollie import MollieSimulator

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages(?:/([^/]+))?\.json$")
WHATSAPP_MESSAGES = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
# GSM 03.38 basic character set: a text in it takes 160 characters per SMS, else 70 (UCS-2).
GSM_CHARS = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ!\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


@dataclass
class SimulatorConfig:
    """Credentials (the app's laptop defaults) and behaviour switches."""

    webhook_base: str = "http://127.0.0.1:8000"
    twilio_account_sid: str = "ACdev00000000000000000000000000000"
    twilio_auth_token: str = "dev-twilio-auth-token"  # noqa: S105 - the dev default
    twilio_number: str = "+3197010000001"
    twilio_inbound_path: str = "/contact/webhooks/twilio/inbound/"
    whatsapp_phone_number_id: str = "100000000000001"
    whatsapp_display_number: str = "+3197010000002"
    whatsapp_business_account_id: str = "200000000000002"
    whatsapp_token: str = "dev-whatsapp-token"  # noqa: S105 - the dev default
    whatsapp_app_secret: str = "dev-whatsapp-app-secret"  # noqa: S105 - the dev default
    whatsapp_webhook_path: str = "/contact/webhooks/whatsapp/"
    mollie_api_key: str = "test_vaarwaterdev000000000000000000"  # noqa: S105 - the dev default
    # (template name, language code) → number of body parameters.
    approved_templates: dict = field(default_factory=lambda: dict(APPROVED))
    status_delay: float = 0.5
    whatsapp_read: bool = True
    unknown_suffix: str = "999"
    unknown_mode: str = "async"  # or "reject"
    hold_seconds: float = 0.0
    fail_next: int = 0
    fail_status: int = 500
    webhook_attempts: int = 8
    webhook_backoff: float = 0.25  # doubles after each failed try
    webhook_timeout: float = 10.0
    # Seconds added to the simulator's clock (date_created, date_sent, timestamps): a test or
    # the demo that runs the outbox at a simulated moment sets the provider's clock to match.
    clock_offset: float = 0.0

    @classmethod
    def from_settings(cls, **overrides) -> SimulatorConfig:
        """The defaults, with the credentials from Django's settings when Django is set up."""
        values = {}
        try:
            from django.conf import settings

            values = {
                "webhook_base": settings.PUBLIC_URL,
                "twilio_account_sid": settings.TWILIO_ACCOUNT_SID,
                "twilio_auth_token": settings.TWILIO_AUTH_TOKEN,
                "twilio_number": settings.TWILIO_FROM,
                "whatsapp_phone_number_id": settings.WHATSAPP_PHONE_NUMBER_ID,
                "whatsapp_token": settings.WHATSAPP_TOKEN,
                "whatsapp_app_secret": settings.WHATSAPP_APP_SECRET,
                "mollie_api_key": settings.MOLLIE_API_KEY,
            }
        except Exception:  # no Django settings: the built-in defaults
            log.debug("simulator without Django settings")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL + sorted name/value pairs."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def meta_signature(app_secret: str, body: bytes) -> str:
    """Meta's X-Hub-Signature-256: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


def _segments(body: str) -> int:
    gsm = all(ch in GSM_CHARS for ch in body)
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(status)
        self.status = status
        self.body = body


def _twilio_error(status: int, code: int, message: str) -> ApiError:
    return ApiError(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def _meta_error(status: int, code: int, message: str, details: str = "") -> ApiError:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return ApiError(status, {"error": error})


class Simulator:
    """The simulator's state and behaviour; the HTTP handler only parses and answers."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.base_url = ""  # set when a server serves it
        self.lock = threading.RLock()
        self._messages: list[dict] = []
        self._webhooks: list[dict] = []
        self._generation = 0
        self._stopped = threading.Event()
        self._released = threading.Event()  # cleared: webhooks wait (see hold_webhooks)
        self._released.set()
        self.mollie = MollieSimulator(self)

    # -- control ---------------------------------------------------------------------------

    def configure(self, **changes) -> SimulatorConfig:
        """Change switches (any ``SimulatorConfig`` field)."""
        known = {f.name for f in fields(SimulatorConfig)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown simulator setting(s): {', '.join(sorted(unknown))}")
        with self.lock:
            for name, value in changes.items():
                setattr(self.config, name, value)
        return self.config

    def reset(self) -> None:
        """Forget every message and webhook; stop pending webhooks; switches back to off."""
        with self.lock:
            self._generation += 1
            self._messages.clear()
            self._webhooks.clear()
            self.config.hold_seconds = 0.0
            self.config.fail_next = 0
            self.config.fail_status = 500
            self.config.unknown_mode = "async"
            self.config.clock_offset = 0.0
            self.mollie.reset()
        self._released.set()

    def stop(self) -> None:
        """Stop every pending webhook (the server is going away)."""
        self._stopped.set()
        self._released.set()

    def hold_webhooks(self) -> None:
        """Keep status webhooks waiting until ``release_webhooks`` (messages are still taken;
        ``inbound`` is not held)."""
        self._released.clear()

    def release_webhooks(self) -> None:
        """Let held webhooks go (each message's statuses still in order)."""
        self._released.set()

    @property
    def messages(self) -> list[dict]:
        """Every accepted message (both channels, oldest first), as JSON-ready dicts."""
        with self.lock:
            return [self._public(m) for m in self._messages]

    @property
    def webhooks(self) -> list[dict]:
        """Every webhook sent, with the app's answer (``status_code``) or the error."""
        with self.lock:
            return [dict(w) for w in self._webhooks]

    def wait_for(self, predicate, *, timeout: float = 10.0, interval: float = 0.05):
        """Poll until ``predicate(self)`` is truthy; return it, or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError("simulator: condition not met in time")
            time.sleep(interval)

    def now(self) -> datetime:
        """The provider's clock (UTC), shifted by ``clock_offset``."""
        return datetime.now(UTC) + timedelta(seconds=self.config.clock_offset)

    @staticmethod
    def _public(record: dict) -> dict:
        out = {k: v for k, v in record.items() if not k.startswith("_")}
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        out["history"] = [dict(h) for h in record.get("history", [])]
        return out

    def _take_failure(self) -> int | None:
        with self.lock:
            if self.config.fail_next > 0:
                self.config.fail_next -= 1
                return self.config.fail_status
        return None

    def _unknown(self, number: str) -> bool:
        suffix = self.config.unknown_suffix
        return bool(suffix) and number.endswith(suffix)

    # -- Twilio ----------------------------------------------------------------------------

    def _twilio_auth(self, account_sid: str, authorization: str) -> None:
        expected = f"{self.config.twilio_account_sid}:{self.config.twilio_auth_token}"
        given = ""
        if authorization.startswith("Basic "):
            try:
                given = base64.b64decode(authorization[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                given = ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise _twilio_error(401, 20003, "Authenticate")
        if account_sid != self.config.twilio_account_sid:
            raise _twilio_error(404, 20404, "The requested resource was not found")

    def _twilio_resource(self, record: dict) -> dict:
        account = record["account_sid"]
        return {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": record["body"],
            "date_created": _rfc2822(record["date_created"]),
            "date_sent": _rfc2822(record["date_sent"]),
            "date_updated": _rfc2822(record["date_updated"]),
            "direction": "outbound-api",
            "error_code": record["error_code"],
            "error_message": record["error_message"],
            "from": record["from"],
            "messaging_service_sid": record["messaging_service_sid"],
            "num_media": "0",
            "num_segments": str(record["num_segments"]),
            "price": None,
            "price_unit": "EUR",
            "sid": record["id"],
            "status": record["status"],
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account}/Messages/{record['id']}/Media.json"
            },
            "to": record["to"],
            "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{record['id']}.json",
        }

    def twilio_create(self, account_sid: str, authorization: str, form: dict) -> tuple[int, dict]:
        self._twilio_auth(account_sid, authorization)
        failure = self._take_failure()
        if failure is not None:
            code = 20429 if failure == 429 else 20500
            raise _twilio_error(failure, code, "Too Many Requests" if failure == 429 else "Error")
        to = form.get("To", "").strip()
        sender = form.get("From", "").strip()
        service = form.get("MessagingServiceSid", "").strip()
        body = form.get("Body", "")
        if not to:
            raise _twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            raise _twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise _twilio_error(400, 21602, "Message body is required.")
        if not E164.match(to) or (self._unknown(to) and self.config.unknown_mode == "reject"):
            raise _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if len(body) > 1600:
            raise _twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        now = self.now()
        record = {
            "channel": "sms",
            "id": "SM" + uuid.uuid4().hex,
            "account_sid": account_sid,
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "num_segments": _segments(body),
            "status": "accepted" if service else "queued",
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "status_callback": form.get("StatusCallback") or "",
            "history": [{"status": "accepted" if service else "queued", "at": now.isoformat()}],
        }
        with self.lock:
            self._messages.append(record)
            generation = self._generation
            resource = self._twilio_resource(record)
        self._in_background(self._twilio_flow, record, generation)
        self._hold()
        return 201, resource

    def twilio_fetch(self, account_sid: str, authorization: str, sid: str) -> tuple[int, dict]:
        self._twilio_auth(account_sid, authorization)
        with self.lock:
            for record in self._messages:
                if record["channel"] == "sms" and record["id"] == sid:
                    return 200, self._twilio_resource(record)
        raise _twilio_error(404, 20404, f"The requested resource {sid} was not found")

    def twilio_list(
        self, account_sid: str, authorization: str, query: dict[str, str]
    ) -> tuple[int, dict]:
        self._twilio_auth(account_sid, authorization)
        try:
            page_size = max(1, min(int(query.get("PageSize", 50)), 1000))
            page = max(0, int(query.get("Page", 0)))
            checks = [_date_check(name, query[name]) for name in _DATE_FILTERS if name in query]
        except ValueError as exc:
            raise _twilio_error(400, 20001, f"Invalid parameter: {exc}") from exc
        with self.lock:
            found = [
                r
                for r in self._messages
                if r["channel"] == "sms"
                and r["account_sid"] == account_sid
                and (not query.get("To") or r["to"] == query["To"])
                and (not query.get("From") or r["from"] == query["From"])
                and all(check(r["date_sent"]) for check in checks)
            ]
            found.sort(key=lambda r: r["date_created"], reverse=True)
            start = page * page_size
            chunk = [self._twilio_resource(r) for r in found[start : start + page_size]]
        base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        keep = {k: v for k, v in query.items() if k not in ("Page", "PageToken", "PageSize")}

        def page_uri(number: int) -> str:
            params = {**keep, "PageSize": page_size, "Page": number}
            if number:
                params["PageToken"] = f"PA{number}"
            return f"{base}?{urlencode(params)}"

        more = start + page_size < len(found)
        return 200, {
            "messages": chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "page": page,
            "page_size": page_size,
            "start": start,
            "uri": page_uri(page),
        }

    def _twilio_flow(self, record: dict, generation: int) -> None:
        if not self._pause(generation):
            return
        self._twilio_status(record, "sent", generation)
        if not self._pause(generation):
            return
        if self._unknown(record["to"]):
            self._twilio_status(record, "undelivered", generation, error_code=30005)
        else:
            self._twilio_status(record, "delivered", generation)

    def _twilio_status(
        self, record: dict, status: str, generation: int, error_code: int | None = None
    ) -> None:
        now = self.now()
        with self.lock:
            record["status"] = status
            record["date_updated"] = now
            if status == "sent":
                record["date_sent"] = now
            if error_code:
                record["error_code"] = error_code
                record["error_message"] = "Unknown destination handset"
            record["history"].append({"status": status, "at": now.isoformat()})
        url = record["status_callback"]
        if not url:
            return
        params = {
            "AccountSid": record["account_sid"],
            "ApiVersion": API_VERSION,
            "From": record["from"] or self.config.twilio_number,
            "MessageSid": record["id"],
            "MessageStatus": status,
            "SmsSid": record["id"],
            "SmsStatus": status,
            "To": record["to"],
        }
        if record["messaging_service_sid"]:
            params["MessagingServiceSid"] = record["messaging_service_sid"]
        if error_code:
            params["ErrorCode"] = str(error_code)
        if status == "delivered":
            params["RawDlrDoneDate"] = now.strftime("%y%m%d%H%M")
        self._post_twilio(url, params, generation, kind=f"twilio status {status}")

    def _post_twilio(
        self, url: str, params: dict, generation: int, *, kind: str, held: bool = True
    ) -> int | None:
        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "X-Twilio-Signature": twilio_signature(self.config.twilio_auth_token, url, params),
            "User-Agent": "TwilioProxy/1.1",
        }
        return self._post(url, body, headers, generation, kind=kind, payload=params, held=held)

    # -- WhatsApp --------------------------------------------------------------------------

    def whatsapp_send(
        self, version: str, phone_number_id: str, authorization: str, payload: dict
    ) -> tuple[int, dict]:
        if not hmac.compare_digest(
            authorization.encode(), f"Bearer {self.config.whatsapp_token}".encode()
        ):
            raise _meta_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if phone_number_id != self.config.whatsapp_phone_number_id:
            raise _meta_error(
                400,
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation",
            )
        failure = self._take_failure()
        if failure is not None:
            if failure == 429:
                raise _meta_error(429, 130429, "(#130429) Rate limit hit")
            raise _meta_error(failure, 1, "An unknown error has occurred.")
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
            raise _meta_error(400, 100, "(#100) The parameter messaging_product is required.")
        to = str(payload.get("to") or "")
        digits = to.lstrip("+")
        if not digits.isdigit() or not 7 <= len(digits) <= 15:
            raise _meta_error(400, 100, "(#100) Invalid parameter", "to: not a phone number")
        if payload.get("type") != "template":
            raise _meta_error(
                400,
                131047,
                "(#131047) Re-engagement message",
                "More than 24 hours have passed since the recipient last replied.",
            )
        template = payload.get("template") or {}
        name = template.get("name") or ""
        language = (template.get("language") or {}).get("code") or ""
        expected = self.config.approved_templates.get((name, language))
        if expected is None:
            raise _meta_error(
                404,
                132001,
                "(#132001) Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        params = [
            str(p.get("text", ""))
            for c in template.get("components") or []
            if c.get("type") == "body"
            for p in c.get("parameters") or []
        ]
        if len(params) != expected:
            raise _meta_error(
                400,
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                f"body: number of localizable_params ({len(params)}) does not match the "
                f"expected number of params ({expected})",
            )
        if self._unknown(digits) and self.config.unknown_mode == "reject":
            raise _meta_error(
                400, 131026, "(#131026) Message undeliverable", "Message Undeliverable."
            )
        now = self.now()
        wamid = "wamid." + base64.b64encode(b"HBgL" + uuid.uuid4().bytes).decode()
        record = {
            "channel": "whatsapp",
            "id": wamid,
            "to": digits,
            "from": self.config.whatsapp_display_number,
            "template": name,
            "language": language,
            "params": params,
            "body": f"[{name}] " + " | ".join(params),
            "biz_opaque_callback_data": payload.get("biz_opaque_callback_data") or "",
            "status": "accepted",
            "error_code": None,
            "date_created": now,
            "history": [{"status": "accepted", "at": now.isoformat()}],
        }
        with self.lock:
            self._messages.append(record)
            generation = self._generation
        self._in_background(self._whatsapp_flow, record, generation)
        self._hold()
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": digits}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    def _whatsapp_flow(self, record: dict, generation: int) -> None:
        if not self._pause(generation):
            return
        if self._unknown(record["to"]):
            self._whatsapp_status(record, "failed", generation, error_code=131026)
            return
        steps = ["sent", "delivered"] + (["read"] if self.config.whatsapp_read else [])
        for index, status in enumerate(steps):
            if index and not self._pause(generation):
                return
            self._whatsapp_status(record, status, generation)

    def _whatsapp_status(
        self, record: dict, status: str, generation: int, error_code: int | None = None
    ) -> None:
        now = self.now()
        with self.lock:
            record["status"] = status
            if error_code:
                record["error_code"] = error_code
            record["history"].append({"status": status, "at": now.isoformat()})
        item = {
            "id": record["id"],
            "status": status,
            "timestamp": str(int(now.timestamp())),
            "recipient_id": record["to"],
        }
        if record["biz_opaque_callback_data"]:
            item["biz_opaque_callback_data"] = record["biz_opaque_callback_data"]
        if error_code:
            item["errors"] = [
                {
                    "code": error_code,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": {"details": "Message Undeliverable."},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/"
                    "error-codes/",
                }
            ]
        else:
            item["conversation"] = {
                "id": hashlib.md5(record["to"].encode()).hexdigest(),  # noqa: S324 - an id
                "origin": {"type": "utility"},
            }
            item["pricing"] = {
                "billable": True,
                "pricing_model": "PMP",
                "category": "utility",
                "type": "regular",
            }
        self._post_meta({"statuses": [item]}, generation, kind=f"whatsapp status {status}")

    def _post_meta(
        self, value: dict, generation: int, *, kind: str, held: bool = True
    ) -> int | None:
        config = self.config
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": config.whatsapp_business_account_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": config.whatsapp_display_number.lstrip(
                                        "+"
                                    ),
                                    "phone_number_id": config.whatsapp_phone_number_id,
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(config.whatsapp_app_secret, body),
            "User-Agent": "facebookexternalua",
        }
        url = config.webhook_base.rstrip("/") + config.whatsapp_webhook_path
        return self._post(url, body, headers, generation, kind=kind, payload=payload, held=held)

    # -- inbound ---------------------------------------------------------------------------

    def inbound(self, channel: str, sender: str, body: str) -> dict:
        """Post an inbound SMS or WhatsApp message to the app, now; return id and answer."""
        with self.lock:
            generation = self._generation
        if channel == "sms":
            sid = "SM" + uuid.uuid4().hex
            params = {
                "AccountSid": self.config.twilio_account_sid,
                "ApiVersion": API_VERSION,
                "Body": body,
                "From": sender,
                "FromCountry": "NL",
                "MessageSid": sid,
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsMessageSid": sid,
                "SmsSid": sid,
                "SmsStatus": "received",
                "To": self.config.twilio_number,
                "ToCountry": "NL",
            }
            url = self.config.webhook_base.rstrip("/") + self.config.twilio_inbound_path
            status = self._post_twilio(url, params, generation, kind="twilio inbound", held=False)
            return {"id": sid, "status_code": status}
        if channel == "whatsapp":
            digits = sender.lstrip("+")
            wamid = "wamid." + base64.b64encode(b"HBgL" + uuid.uuid4().bytes).decode()
            value = {
                "contacts": [{"profile": {"name": "Klant"}, "wa_id": digits}],
                "messages": [
                    {
                        "from": digits,
                        "id": wamid,
                        "timestamp": str(int(self.now().timestamp())),
                        "type": "text",
                        "text": {"body": body},
                    }
                ],
            }
            status = self._post_meta(value, generation, kind="whatsapp inbound", held=False)
            return {"id": wamid, "status_code": status}
        raise ValueError(f"unknown channel {channel!r} (sms or whatsapp)")

    # -- delivery machinery ----------------------------------------------------------------

    def _hold(self) -> None:
        if self.config.hold_seconds > 0:
            self._stopped.wait(self.config.hold_seconds)

    def _pause(self, generation: int) -> bool:
        """Wait ``status_delay``; False when the simulator was reset or stopped meanwhile."""
        if self._stopped.wait(self.config.status_delay):
            return False
        return generation == self._generation

    def _in_background(self, target, *args) -> None:
        threading.Thread(target=target, args=args, daemon=True, name="simulator-webhooks").start()

    def _post(
        self,
        url: str,
        body: bytes,
        headers: dict,
        generation: int,
        *,
        kind: str,
        payload,
        held: bool = True,
    ) -> int | None:
        """POST a webhook, retrying while the app is down; return its final HTTP status."""
        entry = {"kind": kind, "url": url, "payload": payload, "attempts": 0, "status_code": None}
        if held:
            self._released.wait()
        with self.lock:
            if generation != self._generation or self._stopped.is_set():
                return None
            self._webhooks.append(entry)
        wait = self.config.webhook_backoff
        for attempt in range(1, self.config.webhook_attempts + 1):
            if generation != self._generation or self._stopped.is_set():
                return None
            entry["attempts"] = attempt
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.config.webhook_timeout) as r:
                    entry["status_code"] = r.status
                    entry["error"] = ""
                    return r.status
            except urllib.error.HTTPError as exc:
                entry["status_code"] = exc.code
                entry["error"] = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    return exc.code  # refused on purpose (a bad signature, say): no retry
            except OSError as exc:  # connection refused, timeout: the app is down
                entry["error"] = f"{exc.__class__.__name__}: {exc}"
            if self._stopped.wait(wait):
                return None
            wait *= 2
        log.warning("simulator: gave up on %s to %s after %s tries", kind, url, attempt)
        return entry["status_code"]


_DATE_FILTERS = ("DateSent", "DateSent<", "DateSent>")


def _date_check(name: str, raw: str):
    """A predicate on date_sent for Twilio's DateSent filters (a day or an ISO moment)."""
    text = raw.strip()
    if len(text) == 10:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        low, high = day, day + timedelta(days=1)
    else:
        low = high = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if name == "DateSent>":  # on or after
        return lambda sent: sent is not None and sent >= low
    if name == "DateSent<":  # on or before
        return lambda sent: sent is not None and (sent < high if high != low else sent <= high)
    return lambda sent: sent is not None and (low <= sent < high if high != low else sent == low)


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "VaarwaterProviderSimulator/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("simulator: " + format, *args)

    @property
    def sim(self) -> Simulator:
        return self.server.sim

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body, content_type: str = "application/json", headers=None
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            log.info("simulator: the client went away before the answer")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        auth = self.headers.get("Authorization", "")
        body = self._body() if method == "POST" else b""
        try:
            if match := TWILIO_MESSAGES.match(path):
                account, sid = match.groups()
                if method == "POST" and not sid:
                    form = {k: v[0] for k, v in parse_qs(body.decode(), True).items()}
                    return self._send(*self.sim.twilio_create(account, auth, form))
                if method == "GET" and sid:
                    return self._send(*self.sim.twilio_fetch(account, auth, sid))
                if method == "GET":
                    return self._send(*self.sim.twilio_list(account, auth, query))
            elif (match := WHATSAPP_MESSAGES.match(path)) and method == "POST":
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = None
                version, phone = match.groups()
                return self._send(*self.sim.whatsapp_send(version, phone, auth, payload))
            elif path.startswith(("/v2/", "/_sim/mollie")):
                return self._send(*self.sim.mollie.handle(method, path, query, self.headers, body))
            elif path.startswith("/_sim/") or path == "/":
                return self._control(method, path, query, body)
            return self._send(404, {"error": "not found", "path": path})
        except ApiError as exc:
            return self._send(exc.status, exc.body)

    def _control(self, method: str, path: str, query: dict, body: bytes) -> None:
        sim = self.sim
        if method == "GET" and path == "/_sim/messages":
            channel = query.get("channel")
            items = [m for m in sim.messages if not channel or m["channel"] == channel]
            return self._send(200, {"messages": items})
        if method == "GET" and path == "/_sim/webhooks":
            return self._send(200, {"webhooks": sim.webhooks})
        if method == "GET" and path == "/_sim/config":
            return self._send(200, _config_json(sim.config))
        if method == "POST" and path == "/_sim/reset":
            sim.reset()
            return self._send(200, {"reset": True})
        if method == "POST" and path == "/_sim/config":
            try:
                sim.configure(**json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return self._send(400, {"error": str(exc)})
            return self._send(200, _config_json(sim.config))
        if method == "POST" and path == "/_sim/inbound":
            try:
                data = json.loads(body or b"{}")
                result = sim.inbound(data.get("channel", "sms"), data["from"], data.get("body", ""))
            except (ValueError, KeyError, TypeError) as exc:
                return self._send(400, {"error": f"channel, from and body needed: {exc}"})
            return self._send(200, result)
        if method == "GET" and path == "/":
            return self._send(200, _page(sim.messages), "text/html; charset=utf-8")
        return self._send(404, {"error": "not found", "path": path})

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802 - the stdlib's name
        self._dispatch("POST")


def _config_json(config: SimulatorConfig) -> dict:
    data = asdict(config)
    data["approved_templates"] = [
        {"name": name, "language": language, "params": count}
        for (name, language), count in sorted(config.approved_templates.items())
    ]
    for secret in ("twilio_auth_token", "whatsapp_token", "whatsapp_app_secret", "mollie_api_key"):
        data[secret] = "***"
    return data


def _page(messages: list[dict]) -> bytes:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            *(
                html.escape(str(v))
                for v in (m["date_created"], m["channel"], m["to"], m["status"], m["body"])
            )
        )
        for m in reversed(messages[-200:])
    )
    return (
        "<!doctype html><html lang='nl'><meta charset='utf-8'>"
        "<title>Vaarwater aanbieder-simulator</title>"
        "<h1>Aanbieder-simulator (sms en WhatsApp)</h1>"
        "<p>Berichten die Vaarwater hier verstuurde, nieuwste eerst. "
        "JSON: <a href='/_sim/messages'>/_sim/messages</a>. "
        "iDEAL-betalingen (Mollie): <a href='/_sim/mollie/'>/_sim/mollie/</a>.</p>"
        "<table><tr><th>tijd</th><th>kanaal</th><th>aan</th><th>status</th><th>tekst</th></tr>"
        f"{rows}</table></html>"
    ).encode()


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, sim: Simulator):
        super().__init__(address, _Handler)
        self.sim = sim
        sim.base_url = self.base_url

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and stop pending webhooks."""
        self.sim.stop()
        self.shutdown()
        self.server_close()


def simulator_server(
    *, host: str = "127.0.0.1", port: int = 8025, webhook_base: str | None = None, **config
) -> SimulatorServer:
    """Build (not start) a simulator server; ``config`` sets ``SimulatorConfig`` fields."""
    sim = Simulator(SimulatorConfig.from_settings(webhook_base=webhook_base, **config))
    return SimulatorServer((host, port), sim)


def simulator_start(
    port: int = 0, webhook_base: str | None = None, *, host: str = "127.0.0.1", **config
) -> tuple[SimulatorServer, str]:
    """Run the simulator in a background thread; return the server and its base URL.

    ``port=0`` picks a free port. ``webhook_base`` is where this installation listens (for
    WhatsApp and inbound webhooks; Twilio statuses go to each message's StatusCallback);
    default ``PUBLIC_URL``. Stop it with ``server.stop()``.
    """
    server = simulator_server(host=host, port=port, webhook_base=webhook_base, **config)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="simulator"
    )
    thread.start()
    return server, server.base_url
