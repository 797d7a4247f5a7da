"""Public contact endpoints of our own: unsubscribe links and the signed email-event webhook.

(The SMS and WhatsApp providers' webhooks are in ``webhook_views``.)
"""

import hashlib
import hmac
import json
import logging
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.http import HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from .models import Message
from .services import delivery_record, opt_out_record

log = logging.getLogger(__name__)
UNSUBSCRIBE_MAX_AGE = 365 * 24 * 3600  # a year: old emails keep a working unsubscribe link


def _message_for(token: str) -> Message | None:
    try:
        pk = signing.loads(token, salt="vaarwater.unsubscribe", max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature:
        return None
    return Message.objects.select_related("debtor").filter(pk=pk).first()


@csrf_exempt  # RFC 8058 one-click: the mail program POSTs without a form of ours
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET shows a confirm button; POST (ours or a mail program's one-click) opts out of email."""
    message = _message_for(token)
    if message is None:
        return render(request, "contact/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        opt_out_record(
            debtor=message.debtor,
            channel=message.channel,
            source="unsubscribe-link",
            reason=f"afmeldlink in bericht {message.pk}",
        )
        return render(request, "contact/unsubscribe.html", {"done": True, "message": message})
    return render(request, "contact/unsubscribe.html", {"message": message})


def email_signature(body: bytes) -> str:
    """The signature a mail relay puts in ``X-Vaarwater-Signature`` (hex HMAC-SHA256)."""
    key = settings.EMAIL_WEBHOOK_SECRET.encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


EMAIL_EVENTS = {
    "delivered": "delivered",
    "opened": "read",
    "bounced": "bounced",
    "failed": "failed",
}


@csrf_exempt
@require_POST
def email_webhook(request):
    """Delivery reports from the mail relay: JSON ``{"id", "message", "event", "hard", "reason",
    "at"}``, signed with the shared secret. A replay (same id) records nothing new."""
    given = request.headers.get("X-Vaarwater-Signature", "")
    if not hmac.compare_digest(given, email_signature(request.body)):
        return HttpResponseForbidden("bad signature")
    try:
        data = json.loads(request.body)
        event_id = str(data["id"])
        status = EMAIL_EVENTS[data["event"]]
        ref = str(data["message"]).strip("<>")
        at = datetime.fromisoformat(data["at"]) if data.get("at") else timezone.now()
    except (ValueError, KeyError, TypeError) as exc:
        return HttpResponseBadRequest(f"bad event: {exc}")
    message = Message.objects.filter(channel="email", provider_id=ref).first()
    if message is None:
        log.warning("email event %s for unknown message %s", event_id, ref)
        return JsonResponse({"recorded": False, "reason": "unknown message"})
    hard = bool(data.get("hard", status == "bounced"))
    recorded = delivery_record(
        message=message,
        status=status,
        source="email-relay",
        provider_event_id=event_id,
        at=at,
        detail=str(data.get("reason", ""))[:500],
        contact_invalid=status in ("bounced", "failed") and hard,
    )
    return JsonResponse({"recorded": recorded})
