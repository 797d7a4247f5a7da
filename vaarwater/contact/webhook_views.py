"""The SMS and WhatsApp providers' webhooks: delivery statuses and replies from debtors.

What a provider expects, and so what these views do:

- the signature is checked first, on the raw request; a missing or wrong one gets 403 and
  nothing is read or recorded;
- a report is recorded once (``delivery_record`` / ``inbound_record`` are idempotent); a replay
  gets the same 200 as the first delivery, so the provider stops sending it;
- a report about a message we do not know gets 200 too (logged): an error status would make
  Meta retry it for days and never succeed;
- an error of ours (the database away) gives 500, so the provider delivers it again later.

No CSRF token: providers cannot send one; the signature authenticates the request instead.
"""

import json
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import Channel, Message
from .providers.twilio_sms import consts as twilio_consts
from .providers.twilio_sms import webhooks as twilio_webhooks
from .providers.twilio_sms.client import TwilioSmsAdapter
from .providers.whatsapp import webhooks as whatsapp_webhooks
from .providers.whatsapp.client import WhatsAppAdapter

log = logging.getLogger(__name__)


def _twilio_signed(request) -> bool:
    urls = twilio_webhooks.signed_urls(
        public_url=settings.PUBLIC_URL,
        full_path=request.get_full_path_info(),
        absolute_uri=request.build_absolute_uri(),
    )
    return twilio_webhooks.signature_valid(
        urls=urls,
        params=request.POST,
        signature=request.headers.get("X-Twilio-Signature", ""),
        auth_token=settings.TWILIO_AUTH_TOKEN,
    )


def _twiml() -> HttpResponse:
    return HttpResponse(twilio_consts.EMPTY_TWIML, content_type="text/xml")


def _message_for(*, provider: str, provider_id: str, channel: str, key: str) -> Message | None:
    """The message a status is about: by the provider's id, else (a status that came before
    the sender stored that id) by the idempotency key we sent along with it."""
    message = services.message_by_provider_id(provider=provider, provider_id=provider_id)
    if message is None and key:
        message = Message.objects.filter(
            idempotency_key=key, channel=channel, provider_id__in=("", provider_id)
        ).first()
    return message


def _record_status(report, *, provider: str, channel: str, source: str, key: str) -> str:
    if report.status is None:
        return "ignored"
    message = _message_for(
        provider=provider, provider_id=report.provider_id, channel=channel, key=key
    )
    if message is None:
        log.warning(
            "%s status %s for unknown message %s",
            source,
            report.provider_status,
            report.provider_id,
        )
        return "unknown"
    recorded = services.delivery_record(
        message=message,
        status=report.status,
        source=source,
        at=report.at,
        provider_event_id=report.event_id,
        detail=report.detail,
        data={**report.data, "provider_id": report.provider_id},
        contact_invalid=report.contact_invalid,
    )
    return "recorded" if recorded else "replay"


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio's StatusCallback: sent, delivered, undelivered/failed (with ErrorCode)."""
    if not _twilio_signed(request):
        log.warning("Twilio status callback with a bad signature refused")
        return HttpResponseForbidden("invalid signature")
    report = twilio_webhooks.status_parse(request.POST)
    if not report.provider_id:
        return HttpResponseBadRequest("MessageSid missing")
    _record_status(
        report,
        provider=TwilioSmsAdapter.name,
        channel=Channel.SMS,
        source="twilio",
        key=request.GET.get("m", ""),
    )
    return _twiml()


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """An SMS a debtor sent to our Twilio number (configure this URL on the number)."""
    if not _twilio_signed(request):
        log.warning("Twilio inbound webhook with a bad signature refused")
        return HttpResponseForbidden("invalid signature")
    report = twilio_webhooks.inbound_parse(request.POST)
    if not report.provider_id or not report.sender:
        return HttpResponseBadRequest("MessageSid or From missing")
    services.inbound_record(
        channel=Channel.SMS,
        sender=report.sender,
        body=report.body,
        provider_id=report.provider_id,
        received_at=report.received_at,
    )
    return _twiml()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp(request):
    """Meta's webhook: GET answers the subscription check, POST brings statuses and replies."""
    if request.method == "GET":
        challenge = whatsapp_webhooks.verification_answer(
            request.GET, verify_token=settings.WHATSAPP_VERIFY_TOKEN
        )
        if challenge is None:
            return HttpResponseForbidden("verify token mismatch")
        return HttpResponse(challenge, content_type="text/plain")
    body = request.body
    if not whatsapp_webhooks.signature_valid(
        body=body,
        header=request.headers.get("X-Hub-Signature-256", ""),
        app_secret=settings.WHATSAPP_APP_SECRET,
    ):
        log.warning("WhatsApp webhook with a bad signature refused")
        return HttpResponseForbidden("invalid signature")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest("not JSON")
    number = settings.WHATSAPP_PHONE_NUMBER_ID
    for report in whatsapp_webhooks.statuses_parse(payload, phone_number_id=number):
        _record_status(
            report,
            provider=WhatsAppAdapter.name,
            channel=Channel.WHATSAPP,
            source="whatsapp",
            key=report.reference,
        )
    for reply in whatsapp_webhooks.inbound_parse(payload, phone_number_id=number):
        if not reply.provider_id:
            continue
        services.inbound_record(
            channel=Channel.WHATSAPP,
            sender=reply.sender,
            body=reply.body,
            provider_id=reply.provider_id,
            received_at=reply.received_at,
        )
    return HttpResponse("OK", content_type="text/plain")
