"""The WhatsApp adapter: one outbox message becomes one template message in the Cloud API.

``POST {WHATSAPP_API_BASE}/{version}/{phone_number_id}/messages`` with a Bearer token and a
template body; Meta answers with the message's ``wamid`` and reports later through the
webhook configured in the Meta app (``webhooks.statuses_parse``). Errors map onto the outbox's
two kinds of failure:

- no connection, a timeout before the request went out, HTTP 429 / 5xx, throttling codes, a
  refused token (fixing the settings makes the retry work) → ``TemporaryFailure``;
- 131026, the number cannot receive WhatsApp → ``PermanentFailure(contact_invalid=True)``;
- anything else (a template Meta does not know, wrong parameters) → ``PermanentFailure``.

The Cloud API has no way to ask "did you get this message?", so ``can_lookup`` is False. When
the request went out but the answer was lost, the message is given up rather than sent twice.
Every message carries its idempotency key as ``biz_opaque_callback_data``; Meta returns it on
each status, so a status that arrives before the sender stored the wamid still finds its row.
"""

import logging

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from vaarwater.core.money import format_eur

from ..base import Adapter, PermanentFailure, Sent, TemporaryFailure
from . import consts

log = logging.getLogger(__name__)

# Seconds to wait for a connection (the read timeout is ``CHANNEL_PROVIDER_TIMEOUT``).
CONNECT_TIMEOUT = 5
# Longest body parameter we send (Meta's limit is on the whole body, 1024 characters).
MAX_PARAMETER = 1024


class WhatsAppAdapter(Adapter):
    """Send an approved template through the WhatsApp Cloud API."""

    name = "whatsapp_cloud"
    can_lookup = False

    def __init__(self, session: requests.Session | None = None, *, timeout: float | None = None):
        self.session = session or requests.Session()
        self.timeout = (CONNECT_TIMEOUT, timeout or settings.CHANNEL_PROVIDER_TIMEOUT)

    @staticmethod
    def messages_url() -> str:
        base = (settings.WHATSAPP_API_BASE or consts.API_HOST).rstrip("/")
        version = settings.WHATSAPP_API_VERSION or consts.API_VERSION
        return f"{base}/{version}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages"

    def send(self, message) -> Sent:
        payload = template_payload(message)
        try:
            response = self.session.post(
                self.messages_url(),
                json=payload,
                headers={"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            if request_never_arrived(exc):
                raise TemporaryFailure(
                    f"WhatsApp niet bereikbaar: {exc.__class__.__name__}"
                ) from exc
            log.warning("no answer from WhatsApp for message %s: %r", message.pk, exc)
            raise PermanentFailure(
                "geen antwoord van WhatsApp en niet na te gaan of het bericht aankwam; niet "
                "opnieuw verstuurd om dubbel versturen te voorkomen"
            ) from exc
        if response.status_code >= 300:
            raise send_failure(response.status_code, _json(response))
        try:
            wamid = response.json()["messages"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise PermanentFailure(
                f"onleesbaar antwoord van WhatsApp (HTTP {response.status_code}); niet opnieuw "
                "verstuurd om dubbel versturen te voorkomen"
            ) from exc
        return Sent(
            provider_id=wamid,
            detail=f"aangenomen door WhatsApp (template {payload['template']['name']})",
            data={"template": payload["template"]["name"]},
        )


def template_payload(message) -> dict:
    """The Cloud API body for a message: its approved template with the body parameters.

    Raises ``PermanentFailure`` when the template has no approved WhatsApp counterpart or a
    parameter is missing from the message's context.
    """
    template = consts.TEMPLATES.get(message.template)
    if template is None:
        raise PermanentFailure(f"geen goedgekeurde WhatsApp-template voor '{message.template}'")
    language = consts.LANGUAGES.get(message.language, consts.LANGUAGES["nl"])
    parameters = [
        {"type": "text", "text": parameter_value(message, name)} for name in template.params
    ]
    payload = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient.lstrip("+"),
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": parameters}] if parameters else [],
        },
        # Returned on every status webhook: finds the message before its wamid is stored.
        "biz_opaque_callback_data": message.idempotency_key[:512],
    }
    return payload


def parameter_value(message, name: str) -> str:
    """One body parameter's text, from the message's context (see ``consts.PARAMETERS``)."""
    context = message.context or {}
    value = None
    for key in consts.PARAMETERS[name]:
        if context.get(key) not in (None, ""):
            value = context[key]
            if key.endswith("_cents"):
                value = format_eur(int(value), language=message.language)
            break
    if value is None and name == "naam" and message.debtor_id:
        value = message.debtor.name
    if value is None and name == "link":
        value = settings.PUBLIC_URL.rstrip("/") + "/"
    if value is None:
        raise PermanentFailure(f"WhatsApp-template mist '{name}' in de berichtgegevens")
    # Meta refuses a parameter with a newline, a tab or more than four spaces in a row.
    return " ".join(str(value).split())[:MAX_PARAMETER]


def send_failure(status: int, body: dict) -> Exception:
    """Map the Cloud API's error answer to a TemporaryFailure or PermanentFailure."""
    error = body.get("error") or {}
    code = _int(error.get("code"))
    details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
    text = consts.ERROR_TEXTS.get(code) or details
    reason = f"WhatsApp {code or status}: {text}".rstrip(": ")
    if code in consts.CONTACT_INVALID:
        return PermanentFailure(reason, contact_invalid=True, bounced=True)
    if (
        status == 429
        or status >= 500
        or status == 401
        or code in consts.TEMPORARY
        or code in consts.AUTHENTICATION
    ):
        return TemporaryFailure(reason)
    return PermanentFailure(reason)


def request_never_arrived(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach Meta (so sending again is safe)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)
    return False


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
