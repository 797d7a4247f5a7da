"""Mollie's Payments API (v2) in the provider simulator: iDEAL payments, a checkout, webhooks.

It serves what Vaarwater's Mollie adapter (the official ``mollie-api-python`` client) calls,
answers in Mollie's shapes (HAL JSON, ``_links.checkout``, error objects with ``status``,
``title``, ``detail`` and ``field``) and checks the Bearer API key like the real API:

- ``POST /v2/payments``: amount ``{"currency": "EUR", "value": "12.34"}`` (a string with two
  decimals, € 0.01 to € 50,000.00 for iDEAL), ``description``, ``redirectUrl``, optional
  ``webhookUrl``, ``method`` (``ideal`` or none), ``metadata``, ``locale``. An
  ``Idempotency-Key`` seen before with the same body gives the same payment again (header
  ``Idempotent-Replayed``); with another body it is refused with 422, as Mollie does.
- ``GET /v2/payments/{id}``: the payment now; an open payment past ``expiresAt`` (15 minutes,
  like iDEAL) has expired.

The checkout (what the debtor's browser sees, at ``_links.checkout.href``):

- ``GET /_sim/mollie/checkout/{id}``: the payment, a bank to choose and three buttons:
  ``Betalen`` (paid), ``Annuleren`` (canceled), ``Mislukt`` (failed);
- ``POST`` there sets the status, sends the webhook (``POST webhookUrl`` with ``id=tr_…``, in
  the background, retried while the app is down, like the other webhooks) and sends the
  browser back to ``redirectUrl`` (303). A payment that is no longer open goes straight back.

Control API: ``GET /_sim/mollie/`` a page with the payments, ``GET /_sim/mollie/payments`` the
same as JSON; ``POST /_sim/mollie/payments/{id}`` ``{"status": "paid", "webhook": true}``
forces a status; ``POST /_sim/mollie/fail`` ``{"count": 1, "status": 503}`` makes the next
API calls fail; ``POST /_sim/mollie/reset`` (and ``/_sim/reset``) forgets everything.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import string
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:  # the server imports this module, not the other way round
    from .server import Simulator

PAYMENTS = re.compile(r"^/v2/payments(?:/([^/]+))?$")
CHECKOUT = re.compile(r"^/_sim/mollie/checkout/([^/]+)$")
FORCE = re.compile(r"^/_sim/mollie/payments/([^/]+)$")
AMOUNT = re.compile(r"^\d{1,9}\.\d{2}$")
IDEAL_MIN = Decimal("0.01")
IDEAL_MAX = Decimal("50000.00")
# An iDEAL payment that is not finished in this time expires (Mollie: 15 minutes).
EXPIRY = timedelta(minutes=15)
STATUSES = ("open", "pending", "authorized", "paid", "failed", "canceled", "expired")
FINAL = ("paid", "failed", "canceled", "expired")
# When a status is reached, Mollie sets this field.
STATUS_MOMENT = {
    "paid": "paidAt",
    "failed": "failedAt",
    "canceled": "canceledAt",
    "expired": "expiredAt",
    "authorized": "authorizedAt",
}
BANKS = (
    ("ideal_ABNANL2A", "ABN AMRO"),
    ("ideal_ASNBNL21", "ASN Bank"),
    ("ideal_BUNQNL2A", "bunq"),
    ("ideal_INGBNL2A", "ING"),
    ("ideal_KNABNL2H", "Knab"),
    ("ideal_RABONL2U", "Rabobank"),
    ("ideal_RBRBNL21", "RegioBank"),
    ("ideal_REVOLT21", "Revolut"),
    ("ideal_SNSBNL2A", "SNS"),
    ("ideal_TRIONL2U", "Triodos Bank"),
)
DOCS = "https://docs.mollie.com/reference/v2/payments-api/create-payment"
HAL = "application/hal+json"
_ID_CHARS = string.ascii_letters + string.digits

# (status, body, content type, extra headers): what the HTTP handler sends.
Response = tuple[int, object, str, dict]


class MollieApiError(Exception):
    """An error answer in Mollie's shape."""

    def __init__(self, status: int, title: str, detail: str, field: str = ""):
        super().__init__(detail)
        self.status = status
        self.body = {
            "status": status,
            "title": title,
            "detail": detail,
            "_links": {"documentation": {"href": DOCS, "type": "text/html"}},
        }
        if field:
            self.body["field"] = field


def _unprocessable(detail: str, field: str) -> MollieApiError:
    return MollieApiError(422, "Unprocessable Entity", detail, field)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _http_url(value) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class MollieSimulator:
    """The Mollie part of the simulator; shares the simulator's lock, clock and webhooks."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        self._payments: dict[str, dict] = {}
        self._keys: dict[str, tuple[str, str]] = {}  # Idempotency-Key → (body hash, id)
        self.fail_next = 0
        self.fail_status = 503

    # -- control ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every payment and idempotency key; no failures planned."""
        with self.sim.lock:
            self._payments.clear()
            self._keys.clear()
            self.fail_next = 0
            self.fail_status = 503

    @property
    def payments(self) -> list[dict]:
        """Every payment (oldest first) as the API shows it, with its status history."""
        with self.sim.lock:
            for record in self._payments.values():
                self._expire(record)
            return [self._public(r) for r in self._payments.values()]

    def payment(self, payment_id: str) -> dict | None:
        """One payment as the API shows it, or None."""
        with self.sim.lock:
            record = self._payments.get(payment_id)
            if record is None:
                return None
            self._expire(record)
            return self._public(record)

    def set_status(self, payment_id: str, status: str, *, webhook: bool = True) -> dict:
        """Move a payment to a status (paid, failed, canceled, expired, pending, open) and
        send its webhook; raise KeyError for an unknown payment, ValueError for a status."""
        if status not in STATUSES:
            raise ValueError(f"status {status!r}: expected one of {', '.join(STATUSES)}")
        with self.sim.lock:
            record = self._payments[payment_id]
            self._status(record, status)
            generation = self.sim._generation
            public = self._public(record)
        if webhook:
            self._webhook_soon(record, generation)
        return public

    def fail(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` API calls with this HTTP status."""
        with self.sim.lock:
            self.fail_next = int(count)
            self.fail_status = int(status)

    # -- the API ---------------------------------------------------------------------------

    def _auth(self, authorization: str) -> None:
        expected = f"Bearer {self.sim.config.mollie_api_key}"
        if not hmac.compare_digest(authorization.encode(), expected.encode()):
            raise MollieApiError(
                401, "Unauthorized Request", "Missing authentication, or failed to authenticate"
            )

    def _take_failure(self) -> None:
        with self.sim.lock:
            if self.fail_next <= 0:
                return
            self.fail_next -= 1
            status = self.fail_status
        raise MollieApiError(status, "Service Unavailable", "The service is temporarily down.")

    def create(self, authorization: str, payload, base: str, key: str = "") -> Response:
        """``POST /v2/payments``."""
        self._auth(authorization)
        self._take_failure()
        if not isinstance(payload, dict):
            raise MollieApiError(400, "Bad Request", "Invalid JSON in the request body")
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        with self.sim.lock:
            if key and key in self._keys:
                seen, payment_id = self._keys[key]
                if seen != digest:
                    raise _unprocessable(
                        "The Idempotency-Key was used before for a different request", "body"
                    )
                record = self._payments[payment_id]
                return 201, self._resource(record), HAL, {"Idempotent-Replayed": "true"}
            record = self._new(payload, base)
            self._payments[record["id"]] = record
            if key:
                self._keys[key] = (digest, record["id"])
            return 201, self._resource(record), HAL, {}

    def _new(self, payload: dict, base: str) -> dict:
        amount = payload.get("amount")
        if not isinstance(amount, dict) or set(amount) - {"currency", "value"}:
            raise _unprocessable("The amount is required", "amount")
        if amount.get("currency") != "EUR":
            raise _unprocessable(
                "The currency is not supported by the payment method", "amount.currency"
            )
        value = amount.get("value")
        if not isinstance(value, str) or not AMOUNT.match(value):
            raise _unprocessable(
                "The amount contains an invalid value; use a string with two decimals",
                "amount.value",
            )
        if not IDEAL_MIN <= Decimal(value) <= IDEAL_MAX:
            raise _unprocessable(
                f"The amount must be between € {IDEAL_MIN} and € {IDEAL_MAX} for iDEAL",
                "amount.value",
            )
        description = payload.get("description")
        if not isinstance(description, str) or not description.strip():
            raise _unprocessable("The description is invalid", "description")
        if len(description) > 255:
            raise _unprocessable("The description is longer than 255 characters", "description")
        if not _http_url(payload.get("redirectUrl")):
            raise _unprocessable("The redirect URL is invalid", "redirectUrl")
        webhook = payload.get("webhookUrl") or ""
        if webhook and not _http_url(webhook):
            raise _unprocessable("The webhook URL is invalid", "webhookUrl")
        method = payload.get("method")
        if isinstance(method, list):
            method = method[0] if method == ["ideal"] else "?"
        if method not in (None, "ideal"):
            raise _unprocessable(
                "The payment method is invalid or not activated for this profile", "method"
            )
        metadata = payload.get("metadata")
        if metadata is not None and len(json.dumps(metadata)) > 1024:
            raise _unprocessable("The metadata is larger than 1 KB", "metadata")
        now = self.sim.now()
        payment_id = "tr_" + "".join(secrets.choice(_ID_CHARS) for _ in range(10))
        return {
            "id": payment_id,
            "mode": "live" if self.sim.config.mollie_api_key.startswith("live_") else "test",
            "createdAt": now,
            "amount": {"value": value, "currency": "EUR"},
            "description": description,
            "method": "ideal",
            "metadata": metadata,
            "status": "open",
            "isCancelable": False,
            "expiresAt": now + EXPIRY,
            "locale": payload.get("locale"),
            "profileId": "pfl_simulator01",
            "sequenceType": "oneoff",
            "redirectUrl": payload["redirectUrl"],
            "webhookUrl": webhook or None,
            "details": None,
            "history": [{"status": "open", "at": now.isoformat()}],
            "_base": base,
        }

    def fetch(self, authorization: str, payment_id: str, base: str) -> Response:
        """``GET /v2/payments/{id}``."""
        self._auth(authorization)
        self._take_failure()
        with self.sim.lock:
            record = self._payments.get(payment_id)
            if record is None:
                raise MollieApiError(
                    404, "Not Found", f"No payment exists with token {payment_id}."
                )
            expired = self._expire(record)
            generation = self.sim._generation
            resource = self._resource(record)
        if expired:
            self._webhook_soon(record, generation)
        return 200, resource, HAL, {}

    # -- the checkout ----------------------------------------------------------------------

    def checkout_page(self, payment_id: str) -> Response:
        """The page a debtor pays on; a payment that is no longer open goes back at once."""
        with self.sim.lock:
            record = self._payments.get(payment_id)
            if record is None:
                return 404, _page("Betaling niet gevonden", "<p>Deze betaling bestaat niet.</p>")
            expired = self._expire(record)
            generation = self.sim._generation
            status = record["status"]
        if expired:
            self._webhook_soon(record, generation)
        if status != "open":
            return 303, b"", "text/plain", {"Location": record["redirectUrl"]}
        return 200, _checkout(record), "text/html; charset=utf-8", {}

    def checkout_choose(self, payment_id: str, form: dict) -> Response:
        """The debtor's choice: paid, canceled or failed; then back to the redirect URL."""
        choice = form.get("status", "")
        if choice not in ("paid", "canceled", "failed"):
            return 400, _page("Ongeldige keuze", "<p>Kies Betalen, Annuleren of Mislukt.</p>")
        with self.sim.lock:
            record = self._payments.get(payment_id)
            if record is None:
                return 404, _page("Betaling niet gevonden", "<p>Deze betaling bestaat niet.</p>")
            self._expire(record)
            changed = record["status"] == "open"
            if changed:
                if choice == "paid":
                    issuer = form.get("issuer") or BANKS[0][0]
                    bic = issuer.removeprefix("ideal_")
                    record["details"] = {
                        "consumerName": "T. Klant",
                        "consumerAccount": "NL91ABNA0417164300",
                        "consumerBic": bic if len(bic) in (8, 11) else "ABNANL2A",
                    }
                self._status(record, choice)
            generation = self.sim._generation
        if changed:
            self._webhook_soon(record, generation)
        return 303, b"", "text/plain", {"Location": record["redirectUrl"]}

    # -- machinery -------------------------------------------------------------------------

    def _status(self, record: dict, status: str) -> None:
        """Set a status (caller holds the lock)."""
        now = self.sim.now()
        record["status"] = status
        if status in STATUS_MOMENT:
            record[STATUS_MOMENT[status]] = now
        record["history"].append({"status": status, "at": now.isoformat()})

    def _expire(self, record: dict) -> bool:
        """Expire an open payment past its time (caller holds the lock); True if it did."""
        if record["status"] == "open" and self.sim.now() >= record["expiresAt"]:
            self._status(record, "expired")
            return True
        return False

    def _webhook_soon(self, record: dict, generation: int) -> None:
        url = record["webhookUrl"]
        if url:
            self.sim._in_background(self._webhook, url, record["id"], record["status"], generation)

    def _webhook(self, url: str, payment_id: str, status: str, generation: int) -> None:
        body = urlencode({"id": payment_id}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Mollie HTTP Webhooks",
        }
        self.sim._post(
            url,
            body,
            headers,
            generation,
            kind=f"mollie payment {status}",
            payload={"id": payment_id},
        )

    def _resource(self, record: dict) -> dict:
        base = record["_base"]
        out = {"resource": "payment"}
        for key, value in record.items():
            if key in ("history",) or key.startswith("_"):
                continue
            out[key] = _iso(value) if isinstance(value, datetime) else value
        if record["status"] == "open":
            out.pop("expiredAt", None)
        else:
            out.pop("expiresAt", None)
        if record["status"] == "paid":
            out["amountRefunded"] = {"value": "0.00", "currency": "EUR"}
            out["amountRemaining"] = dict(record["amount"])
            out["settlementAmount"] = dict(record["amount"])
        links = {
            "self": {"href": f"{base}/v2/payments/{record['id']}", "type": HAL},
            "dashboard": {
                "href": f"{base}/_sim/mollie/?payment={record['id']}",
                "type": "text/html",
            },
            "documentation": {"href": DOCS, "type": "text/html"},
        }
        if record["status"] == "open":
            links["checkout"] = {
                "href": f"{base}/_sim/mollie/checkout/{record['id']}",
                "type": "text/html",
            }
        out["_links"] = links
        return out

    def _public(self, record: dict) -> dict:
        out = self._resource(record)
        out["history"] = [dict(h) for h in record["history"]]
        return out

    # -- HTTP ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, headers, body: bytes) -> Response:
        """Answer one request under ``/v2/`` or ``/_sim/mollie``."""
        base = f"http://{headers.get('Host') or self.sim.base_url.removeprefix('http://')}"
        authorization = headers.get("Authorization", "")
        try:
            if match := PAYMENTS.match(path):
                payment_id = match.group(1)
                if method == "POST" and not payment_id:
                    try:
                        payload = json.loads(body or b"{}")
                    except ValueError:
                        payload = None
                    key = headers.get("Idempotency-Key", "")
                    return self.create(authorization, payload, base, key)
                if method == "GET" and payment_id:
                    return self.fetch(authorization, payment_id, base)
                raise MollieApiError(405, "Method Not Allowed", f"{method} {path} is not served")
            if match := CHECKOUT.match(path):
                if method == "POST":
                    form = {k: v[0] for k, v in parse_qs(body.decode(), True).items()}
                    return self.checkout_choose(match.group(1), form)
                return self.checkout_page(match.group(1))
            return self._control(method, path, query, body)
        except MollieApiError as exc:
            return exc.status, exc.body, HAL, {}

    def _control(self, method: str, path: str, query: dict, body: bytes) -> Response:
        json_type = "application/json"
        if method == "GET" and path in ("/_sim/mollie", "/_sim/mollie/"):
            return 200, _list_page(self.payments), "text/html; charset=utf-8", {}
        if method == "GET" and path == "/_sim/mollie/payments":
            return 200, {"payments": self.payments}, json_type, {}
        if method == "POST" and path == "/_sim/mollie/reset":
            self.reset()
            return 200, {"reset": True}, json_type, {}
        try:
            data = json.loads(body or b"{}") if method == "POST" else {}
        except ValueError:
            return 400, {"error": "JSON expected"}, json_type, {}
        if method == "POST" and path == "/_sim/mollie/fail":
            try:
                self.fail(int(data.get("count", 1)), int(data.get("status", 503)))
            except (TypeError, ValueError) as exc:
                return 400, {"error": str(exc)}, json_type, {}
            return 200, {"fail_next": self.fail_next, "status": self.fail_status}, json_type, {}
        if method == "POST" and (match := FORCE.match(path)):
            try:
                payment = self.set_status(
                    match.group(1), str(data.get("status", "")), webhook=data.get("webhook", True)
                )
            except KeyError:
                return 404, {"error": f"no payment {match.group(1)}"}, json_type, {}
            except ValueError as exc:
                return 400, {"error": str(exc)}, json_type, {}
            return 200, payment, json_type, {}
        return 404, {"error": "not found", "path": path}, json_type, {}


def _money(value: str) -> str:
    whole, cents = value.split(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{cents}"


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} · Mollie-simulator</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5;color:#1a1a1a}"
        ".amount{font-size:2rem;font-weight:700;margin:.25rem 0}"
        "label{display:block;font-weight:600;margin:1rem 0 .25rem}"
        "select,button{font-size:1.05rem;min-height:44px;padding:.5rem 1rem}"
        "button{margin:.5rem .5rem 0 0;border-radius:4px;border:2px solid #0b3d6e;"
        "background:#fff;color:#0b3d6e}button[value=paid]{background:#0b5394;color:#fff}"
        "table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.3rem;"
        "text-align:left}</style></head><body>"
        f"<header><p>Mollie-simulator (test)</p></header><main>{body}</main></body></html>"
    ).encode()


def _checkout(record: dict) -> bytes:
    options = "".join(
        f"<option value='{code}'>{html.escape(name)}</option>" for code, name in BANKS
    )
    body = (
        "<h1>Betalen met iDEAL</h1>"
        f"<p>{html.escape(record['description'])}</p>"
        f"<p class='amount'>{_money(record['amount']['value'])}</p>"
        f"<form method='post' action='/_sim/mollie/checkout/{record['id']}'>"
        "<label for='issuer'>Kies uw bank</label>"
        f"<select id='issuer' name='issuer'>{options}</select>"
        "<p>Dit is een simulator: er gaat geen echt geld over.</p>"
        "<button type='submit' name='status' value='paid'>Betalen</button>"
        "<button type='submit' name='status' value='canceled'>Annuleren</button>"
        "<button type='submit' name='status' value='failed'>Mislukt</button>"
        "</form>"
    )
    return _page("Betalen met iDEAL", body)


def _list_page(payments: list[dict]) -> bytes:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            *(
                html.escape(str(v))
                for v in (p["createdAt"], p["id"], _money(p["amount"]["value"]), p["status"])
            ),
            html.escape(p["description"]),
        )
        for p in reversed(payments[-200:])
    )
    body = (
        "<h1>iDEAL-betalingen (Mollie)</h1>"
        "<p>Nieuwste eerst. JSON: <a href='/_sim/mollie/payments'>/_sim/mollie/payments</a>.</p>"
        "<table><tr><th>tijd</th><th>id</th><th>bedrag</th><th>status</th>"
        f"<th>omschrijving</th></tr>{rows}</table>"
    )
    return _page("iDEAL-betalingen", body)
