"""The Mollie client: create an iDEAL payment and ask for its status, nothing else.

It wraps the official ``mollie-api-python`` client, pointed at ``MOLLIE_API_BASE`` (the local
simulator on a laptop, Mollie's API in production) with ``MOLLIE_API_KEY``. The rest of the
code sees ``ProviderPayment`` and three errors:

- ``ProviderUnavailable``: Mollie could not be reached or had a bad moment (5xx, 429); trying
  again later may work;
- ``ProviderRefused``: Mollie refused our request (a wrong key, an amount it does not take);
- ``ProviderUnknown``: Mollie does not know this payment id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from mollie.api.client import Client
from mollie.api.error import (
    IdentifierError,
    NotFoundError,
    RequestError,
    RequestSetupError,
    ResponseError,
    ResponseHandlingError,
)

from vaarwater.core.money import from_cents, to_cents

from . import consts


class ProviderError(Exception):
    """Mollie did not do what we asked."""


class ProviderUnavailable(ProviderError):
    """Mollie could not be reached or answered with a temporary error."""


class ProviderRefused(ProviderError):
    """Mollie refused the request; ``field`` names what it did not accept, if it said."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class ProviderUnknown(ProviderError):
    """Mollie does not know this payment."""


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as Mollie reports it, in our terms."""

    provider_id: str
    status: str  # ours: open, pending, paid, failed, canceled, expired
    provider_status: str
    amount_cents: int
    currency: str
    checkout_url: str = ""
    paid_at: datetime | None = None
    metadata: dict = field(default_factory=dict)
    consumer: str = ""  # the paying account's holder and IBAN, when paid


def amount_value(cents: int) -> str:
    """Mollie's amount value: a string with two decimals.

    >>> amount_value(1234)
    '12.34'
    >>> amount_value(5)
    '0.05'
    """
    return f"{from_cents(cents):.2f}"


def _cents(amount) -> int:
    try:
        return to_cents(Decimal(str((amount or {}).get("value"))))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ProviderUnavailable(f"Mollie gave an amount we cannot read: {amount!r}") from exc


def _moment(text) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _client() -> Client:
    client = Client(
        api_endpoint=settings.MOLLIE_API_BASE or consts.API_HOST,
        timeout=(5, settings.MOLLIE_TIMEOUT),
    )
    client.set_user_agent_component("Vaarwater", "1")
    try:
        client.set_api_key(settings.MOLLIE_API_KEY)
    except RequestSetupError as exc:
        raise ProviderRefused(f"MOLLIE_API_KEY is not a Mollie API key: {exc}") from exc
    return client


def _payment(data) -> ProviderPayment:
    provider_status = str(data.status or "")
    details = data.details or {}
    consumer = " ".join(
        str(details.get(key) or "") for key in ("consumerName", "consumerAccount")
    ).strip()
    return ProviderPayment(
        provider_id=str(data.id),
        status=consts.STATUS_MAP.get(provider_status, "open"),
        provider_status=provider_status,
        amount_cents=_cents(data.amount),
        currency=str((data.amount or {}).get("currency") or ""),
        checkout_url=data.checkout_url or "",
        paid_at=_moment(data.paid_at),
        metadata=dict(data.metadata or {}) if isinstance(data.metadata, dict) else {},
        consumer=consumer,
    )


def _translate(exc: Exception, what: str) -> ProviderError:
    if isinstance(exc, NotFoundError | IdentifierError):
        return ProviderUnknown(f"Mollie does not know {what}")
    if isinstance(exc, ResponseError):
        status = exc.status or 0
        if status >= 500 or status == 429:
            return ProviderUnavailable(f"Mollie answered {status} for {what}: {exc}")
        return ProviderRefused(f"Mollie refused {what} ({status}): {exc}", exc.field or "")
    if isinstance(exc, RequestSetupError):
        return ProviderRefused(f"the request for {what} could not be made: {exc}")
    if isinstance(exc, RequestError | ResponseHandlingError):
        return ProviderUnavailable(f"Mollie could not be reached for {what}: {exc}")
    return ProviderUnavailable(f"{what}: {exc.__class__.__name__}: {exc}")


def mollie_payment_create(
    *,
    amount_cents: int,
    description: str,
    redirect_url: str,
    webhook_url: str,
    metadata: dict,
    idempotency_key: str,
    locale: str = "nl",
) -> ProviderPayment:
    """Create an iDEAL payment at Mollie. The same ``idempotency_key`` with the same request
    returns the same payment (a double click, a retry after a lost answer)."""
    data = {
        "amount": {"currency": consts.CURRENCY, "value": amount_value(amount_cents)},
        "description": description[:255],
        "redirectUrl": redirect_url,
        "method": consts.METHOD_IDEAL,
        "metadata": metadata,
        "locale": consts.LOCALES.get(locale, consts.LOCALES["nl"]),
    }
    if webhook_url:
        data["webhookUrl"] = webhook_url
    try:
        result = _client().payments.create(data, idempotency_key=idempotency_key)
    except ProviderError:
        raise
    except Exception as exc:  # the library's errors and anything requests lets through
        raise _translate(exc, "the new payment") from exc
    payment = _payment(result)
    if not payment.checkout_url and payment.status == "open":
        raise ProviderUnavailable(f"Mollie gave no checkout link for {payment.provider_id}")
    return payment


def mollie_payment_get(provider_id: str) -> ProviderPayment:
    """Ask Mollie for a payment's status now."""
    if not re.match(consts.PAYMENT_ID_PATTERN, provider_id or ""):
        raise ProviderUnknown(f"{provider_id!r} is not a Mollie payment id")
    try:
        result = _client().payments.get(provider_id)
    except ProviderError:
        raise
    except Exception as exc:
        raise _translate(exc, f"payment {provider_id}") from exc
    return _payment(result)
