"""Mollie's webhook: ``POST /payments/webhooks/mollie/`` with one form field, ``id=tr_…``.

Mollie signs nothing; the webhook only says "this payment changed, look again". So the view
never trusts the request: it asks Mollie for the payment (``payment_sync``) and applies what
Mollie says. A forged call for an open payment books nothing; a replay books nothing new.

Answers, as Mollie expects (https://docs.mollie.com/overview/webhooks):

- 200 for every id, also one we do not know or that is not a payment id (so nobody learns
  which ids exist, and Mollie does not keep retrying something that can never succeed);
- 503 when Mollie itself could not be reached to look the payment up, or our database failed:
  Mollie then calls again later (up to 10 times over 26 hours).

No CSRF token: Mollie cannot send one, and nothing in the request is believed.
"""

import logging
import re

from django.db import DatabaseError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import consts
from .client import ProviderError

log = logging.getLogger(__name__)
_PAYMENT_ID = re.compile(consts.PAYMENT_ID_PATTERN)


def payment_id_from(form) -> str | None:
    """The payment id a webhook names, or None when it names none we could ask about.

    >>> payment_id_from({"id": "tr_WDqYK6vllg"})
    'tr_WDqYK6vllg'
    >>> payment_id_from({"id": "ord_123"}) is None, payment_id_from({}) is None
    (True, True)
    """
    value = (form.get("id") or "").strip()
    return value if _PAYMENT_ID.match(value) else None


@csrf_exempt
@require_POST
def mollie_webhook(request):
    """Look the payment up at Mollie and apply its status; always 200 unless we must retry."""
    from vaarwater.payments.services import payment_sync

    provider_id = payment_id_from(request.POST)
    if provider_id is None:
        log.info("Mollie webhook without a payment id: ignored")
        return HttpResponse("")
    try:
        found = payment_sync(provider_id=provider_id)
    except (ProviderError, DatabaseError) as exc:
        log.warning("Mollie webhook for %s: try again later (%s)", provider_id, exc)
        return HttpResponse("try again later", status=503, content_type="text/plain")
    if found is None:
        log.info("Mollie webhook for unknown payment %s: ignored", provider_id)
    return HttpResponse("")
