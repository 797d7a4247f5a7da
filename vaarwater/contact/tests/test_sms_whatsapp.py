"""SMS (Twilio API) and WhatsApp (Cloud API) adapters, the provider simulator and the signed
delivery webhooks — all over real HTTP: the real ``twilio`` library and ``requests`` talk to
the simulator, and the simulator posts its webhooks to the app served by ``live_server``."""

import hashlib
import hmac
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils import timezone

from vaarwater.contact.models import DeliveryEvent, InboundMessage, Message, MessageStatus, OptOut
from vaarwater.contact.providers.base import PermanentFailure, TemporaryFailure
from vaarwater.contact.providers.twilio_sms.client import TwilioSmsAdapter
from vaarwater.contact.providers.whatsapp import consts as wa_consts
from vaarwater.contact.providers.whatsapp.client import WhatsAppAdapter, template_payload
from vaarwater.contact.services import message_send
from vaarwater.contact.simulator.server import meta_signature, twilio_signature
from vaarwater.ledger.models import ContactPoint, Debtor

from .simulator_fixtures import simulator, simulator_live  # noqa: F401

AMS = ZoneInfo("Europe/Amsterdam")
# A Tuesday in November, inside the contact hours of the shipped strategies (08:00-20:00).
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=AMS)
MOBILE = "+31612345678"
UNKNOWN = "+31612345999"  # the simulator's default unknown suffix is 999
TEXT = "Beste Sanne, u moet nog € 120,00 betalen. Betaal via http://127.0.0.1:8000/p/x/"


def outgoing(**fields) -> Message:
    """An unsaved, rendered message as the outbox hands it to an adapter."""
    values = {
        "pk": None,
        "channel": "sms",
        "recipient": MOBILE,
        "body_text": TEXT,
        "template": "herinnering",
        "language": "nl",
        "context": {
            "name": "Sanne de Vries",
            "claim_cents": 12000,
            "portal_url": "http://127.0.0.1:8000/p/x/",
        },
        "idempotency_key": "case-1-2026-11-24-0",
        "claimed_at": timezone.now(),
    }
    values.update(fields)
    return Message(**values)


# -- SMS through the twilio library --------------------------------------------------------


def test_an_sms_goes_to_twilio_with_its_status_callback(simulator, settings):  # noqa: F811
    """Given the simulator as Twilio, when an SMS is sent, Twilio gets To, From, Body and a
    StatusCallback under PUBLIC_URL that names the message, and the adapter returns the sid."""
    sent = TwilioSmsAdapter().send(outgoing())
    [stored] = simulator.messages
    assert sent.provider_id == stored["id"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.provider_id)
    assert (stored["to"], stored["from"], stored["body"]) == (MOBILE, settings.TWILIO_FROM, TEXT)
    assert stored["status_callback"] == (
        f"{settings.PUBLIC_URL}/contact/webhooks/twilio/status/?m=case-1-2026-11-24-0"
    )
    assert sent.data["status"] == "queued"


def test_a_messaging_service_replaces_the_from_number(simulator, settings):  # noqa: F811
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    TwilioSmsAdapter().send(outgoing())
    [stored] = simulator.messages
    assert stored["messaging_service_sid"] == "MG" + "1" * 32
    assert stored["from"] is None


def test_an_empty_sms_is_not_sent(simulator):  # noqa: F811
    with pytest.raises(PermanentFailure):
        TwilioSmsAdapter().send(outgoing(body_text="  "))
    assert simulator.messages == []


@pytest.mark.parametrize(
    ("switches", "recipient", "expected", "contact_invalid"),
    [
        ({"fail_next": 1, "fail_status": 500}, MOBILE, TemporaryFailure, None),
        ({"fail_next": 1, "fail_status": 429}, MOBILE, TemporaryFailure, None),
        ({"unknown_mode": "reject"}, UNKNOWN, PermanentFailure, True),
        ({}, "0612345678", PermanentFailure, True),  # not E.164: Twilio 21211
    ],
    ids=["500", "429", "unknown-number", "malformed-number"],
)
def test_twilio_errors_map_to_temporary_or_permanent(
    simulator,  # noqa: F811
    switches,
    recipient,
    expected,
    contact_invalid,
):
    """5xx and 429 may work later; an unusable number never will, and marks it invalid."""
    simulator.configure(**switches)
    with pytest.raises(expected) as caught:
        TwilioSmsAdapter().send(outgoing(recipient=recipient))
    if contact_invalid is not None:
        assert caught.value.contact_invalid is contact_invalid
        assert caught.value.bounced is True
        assert "21211" in caught.value.reason
    assert simulator.messages == []


def test_refused_twilio_credentials_are_temporary(simulator, settings):  # noqa: F811
    """A wrong auth token is our settings' fault: fixed settings make the retry work."""
    settings.TWILIO_AUTH_TOKEN = "wrong"
    with pytest.raises(TemporaryFailure, match="20003"):
        TwilioSmsAdapter().send(outgoing())
    assert simulator.messages == []


def test_twilio_unreachable_is_temporary(settings):
    """Nobody listens: the request never arrived, so sending again later is safe."""
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TemporaryFailure, match="niet bereikbaar"):
        TwilioSmsAdapter().send(outgoing())


def test_a_lost_answer_is_resolved_by_asking_twilio(simulator):  # noqa: F811
    """Given Twilio accepts the SMS but answers after our timeout, the adapter finds the
    message at Twilio and reports it sent with its sid, without sending it again."""
    simulator.configure(hold_seconds=3)
    sent = TwilioSmsAdapter(timeout=0.5).send(outgoing())
    [stored] = simulator.messages
    assert sent.provider_id == stored["id"]
    assert "teruggevonden" in sent.detail


def test_lookup_finds_only_this_message(simulator):  # noqa: F811
    """Lookup matches number, exact text and time; a message still queued at Twilio (no
    date_sent yet) is found too; another text, another number or no claim is not."""
    simulator.configure(status_delay=30)  # stays queued: date_sent is empty
    adapter = TwilioSmsAdapter()
    sid = adapter.send(outgoing()).provider_id
    assert adapter.lookup(outgoing()) == sid
    assert adapter.lookup(outgoing(body_text=TEXT + " (2)")) == ""
    assert adapter.lookup(outgoing(recipient="+31687654321")) == ""
    assert adapter.lookup(outgoing(claimed_at=None)) == ""
    later = timezone.now() + timedelta(minutes=5)
    assert adapter.lookup(outgoing(claimed_at=later)) == ""


def test_lookup_finds_a_sent_message_by_its_send_date(simulator):  # noqa: F811
    simulator.configure(status_delay=0.01)
    adapter = TwilioSmsAdapter()
    sid = adapter.send(outgoing()).provider_id
    simulator.wait_for(lambda s: s.messages[0]["date_sent"])
    assert adapter.lookup(outgoing()) == sid


def test_a_lookup_that_cannot_reach_twilio_is_temporary(settings):
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TemporaryFailure):
        TwilioSmsAdapter().lookup(outgoing())


# -- WhatsApp Cloud API ----------------------------------------------------------------------


def test_a_whatsapp_template_goes_to_the_cloud_api(simulator, settings):  # noqa: F811
    """The approved template with its body parameters, the idempotency key as callback data."""
    sent = WhatsAppAdapter().send(outgoing(channel="whatsapp"))
    [stored] = simulator.messages
    assert sent.provider_id == stored["id"]
    assert sent.provider_id.startswith("wamid.")
    assert stored["template"] == "vaarwater_herinnering"
    assert stored["language"] == "nl"
    assert stored["params"] == ["Sanne de Vries", "€ 120,00", "http://127.0.0.1:8000/p/x/"]
    assert stored["to"] == "31612345678"
    assert stored["biz_opaque_callback_data"] == "case-1-2026-11-24-0"


def test_every_vaarwater_template_has_an_approved_whatsapp_template():
    """Each template key maps to one approved template; the simulator approves exactly those."""
    keys = {
        "herinnering",
        "aanmaning",
        "veertiendagenbrief",
        "regeling-aanbod",
        "schuldhulp-verwijzing",
        "overdracht-aankondiging",
        "regeling-bevestiging",
        "termijn-gemist",
        "termijn-herinnering",
        "termijn-bedankt",
        "regeling-voltooid",
        "regeling-beeindigd",
        "bedankt-betaling",
        "betaalverzoek",
        "uitstel-herinnering",
        "verificatiecode",
        "melding-ontvangen",
        "incasso-vooraankondiging",
        "incasso-gestorneerd",
    }
    assert set(wa_consts.TEMPLATES) == keys
    context = {"name": "Jan", "claim_cents": 100, "costs_cents": 4000, "portal_url": "http://x/"}
    context["code"] = "123456"
    context["collection_day"] = "25 november 2026"
    for key, template in wa_consts.TEMPLATES.items():
        payload = template_payload(outgoing(template=key, context=context))
        parameters = payload["template"]["components"][0]["parameters"]
        assert wa_consts.APPROVED[(template.name, "nl")] == len(parameters)
        assert all(p["text"] for p in parameters)


def test_english_debtors_get_the_english_template_and_amounts():
    payload = template_payload(outgoing(language="en"))
    assert payload["template"]["language"] == {"code": "en"}
    assert payload["template"]["components"][0]["parameters"][1]["text"] == "€120.00"


def test_a_whatsapp_parameter_has_no_newlines():
    payload = template_payload(outgoing(context={"name": "Jan\n\tde   Vries", "amount": "€ 1"}))
    assert payload["template"]["components"][0]["parameters"][0]["text"] == "Jan de Vries"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"template": "onbekend"}, "geen goedgekeurde"),
        ({"template": "veertiendagenbrief"}, "kosten"),  # no costs in the context
    ],
)
def test_a_whatsapp_message_without_template_or_parameter_is_not_sent(
    simulator,  # noqa: F811
    fields,
    reason,
):
    with pytest.raises(PermanentFailure, match=reason):
        WhatsAppAdapter().send(outgoing(channel="whatsapp", **fields))
    assert simulator.messages == []


@pytest.mark.parametrize(
    ("switches", "settings_change", "recipient", "expected", "code"),
    [
        ({"fail_next": 1, "fail_status": 500}, {}, MOBILE, TemporaryFailure, "WhatsApp 1"),
        ({"fail_next": 1, "fail_status": 429}, {}, MOBILE, TemporaryFailure, "130429"),
        ({"unknown_mode": "reject"}, {}, UNKNOWN, PermanentFailure, "131026"),
        ({}, {"WHATSAPP_TOKEN": "wrong"}, MOBILE, TemporaryFailure, "190"),
        ({}, {"WHATSAPP_PHONE_NUMBER_ID": "999"}, MOBILE, PermanentFailure, "WhatsApp 100"),
        ({"approved_templates": {}}, {}, MOBILE, PermanentFailure, "132001"),
        (
            {"approved_templates": {("vaarwater_herinnering", "nl"): 2}},
            {},
            MOBILE,
            PermanentFailure,
            "132000",
        ),
    ],
    ids=[
        "500",
        "429",
        "not-on-whatsapp",
        "bad-token",
        "wrong-number-id",
        "template-unknown",
        "parameter-count",
    ],
)
def test_cloud_api_errors_map_to_temporary_or_permanent(
    simulator,  # noqa: F811
    settings,
    switches,
    settings_change,
    recipient,
    expected,
    code,
):
    simulator.configure(**switches)
    for name, value in settings_change.items():
        setattr(settings, name, value)
    with pytest.raises(expected, match=code) as caught:
        WhatsAppAdapter().send(outgoing(channel="whatsapp", recipient=recipient))
    if expected is PermanentFailure:
        assert caught.value.contact_invalid is (code == "131026")
    assert simulator.messages == []


def test_whatsapp_unreachable_is_temporary(settings):
    settings.WHATSAPP_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TemporaryFailure, match="niet bereikbaar"):
        WhatsAppAdapter().send(outgoing(channel="whatsapp"))


def test_a_lost_whatsapp_answer_is_not_sent_again(simulator):  # noqa: F811
    """The Cloud API cannot be asked whether it has a message: after a lost answer the
    message fails rather than going out twice."""
    simulator.configure(hold_seconds=3)
    adapter = WhatsAppAdapter(timeout=0.5)
    assert adapter.can_lookup is False
    with pytest.raises(PermanentFailure, match="dubbel"):
        adapter.send(outgoing(channel="whatsapp"))
    assert len(simulator.messages) == 1


# -- webhooks over a live server -----------------------------------------------------------


@pytest.fixture
def debtor(creditor):
    debtor = Debtor.objects.create(
        creditor=creditor,
        external_id="K1",
        name="Sanne de Vries",
        street="Dorpsstraat",
        house_number="1",
        postcode="1234AB",
        city="Utrecht",
    )
    ContactPoint.objects.create(
        debtor=debtor, kind="email", value="sanne@example.nl", source="import"
    )
    ContactPoint.objects.create(debtor=debtor, kind="phone", value=MOBILE, source="import")
    ContactPoint.objects.create(debtor=debtor, kind="whatsapp", value=MOBILE, source="import")
    return debtor


def queued(debtor, *, channel="sms", key="m1") -> Message:
    """A queued message whose text is already fixed (rendering is tested elsewhere)."""
    return Message.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        channel=channel,
        template="herinnering",
        language="nl",
        purpose="reminder",
        not_before=TUESDAY_10,
        idempotency_key=key,
        body_text=TEXT,
        rendered_at=TUESDAY_10,
        context={"claim_cents": 12000, "portal_url": "http://127.0.0.1:8000/p/x/"},
    )


def _settled(kinds: list[str]):
    """A wait_for predicate: webhooks of these kinds were all answered (200)."""

    def check(sim):
        done = [w["kind"] for w in sim.webhooks if w["status_code"] == 200]
        return all(kind in done for kind in kinds)

    return check


def _send_held(simulator, message_id: int) -> str:  # noqa: F811
    """Send through the outbox while the simulator keeps its webhooks back.

    With SQLite the live server shares the test's database connection, so the test and the
    server must not use it at the same time.
    """
    simulator.hold_webhooks()
    try:
        return message_send(message_id=message_id, now=TUESDAY_10)
    finally:
        simulator.release_webhooks()


def test_twilio_status_webhooks_move_an_sms_to_delivered(simulator_live, debtor):  # noqa: F811
    """Given an SMS sent through the outbox, Twilio's signed callbacks (sent, delivered) reach
    the app and the message ends delivered, with one history row per status."""
    message = queued(debtor)
    assert _send_held(simulator_live, message.pk) == "sent"
    simulator_live.wait_for(_settled(["twilio status sent", "twilio status delivered"]))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.provider_id == simulator_live.messages[0]["id"]
    events = DeliveryEvent.objects.filter(message=message, source="twilio")
    assert sorted(events.values_list("provider_event_id", flat=True)) == [
        f"{message.provider_id}:delivered",
        f"{message.provider_id}:sent",
    ]


def test_a_status_before_the_sid_is_stored_still_finds_its_message(
    simulator_live,  # noqa: F811
    debtor,
):
    """A fast callback, before the sender stored Twilio's sid, is matched by the message's
    key in the signed StatusCallback URL."""
    message = queued(debtor)
    Message.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=timezone.now(), recipient=MOBILE
    )
    message.refresh_from_db()
    TwilioSmsAdapter().send(message)  # the sender "dies" before recording the answer
    simulator_live.wait_for(_settled(["twilio status delivered"]))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_whatsapp_webhooks_move_a_message_to_read(simulator_live, debtor):  # noqa: F811
    message = queued(debtor, channel="whatsapp")
    assert _send_held(simulator_live, message.pk) == "sent"
    simulator_live.wait_for(
        _settled(["whatsapp status sent", "whatsapp status delivered", "whatsapp status read"])
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert message.read_at is not None
    assert DeliveryEvent.objects.filter(message=message, source="whatsapp").count() == 3


def test_an_unknown_number_marks_the_phone_invalid_and_falls_back(
    simulator_live,  # noqa: F811
    debtor,
):
    """Twilio accepts the SMS, then reports it undelivered with 30005 (unknown handset): the
    message bounces, the number is marked invalid and the next channel takes over."""
    ContactPoint.objects.filter(debtor=debtor).exclude(kind="email").update(value=UNKNOWN)
    message = queued(debtor)
    assert _send_held(simulator_live, message.pk) == "sent"
    simulator_live.wait_for(_settled(["twilio status undelivered"]))
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert "30005" in message.error
    phone = ContactPoint.objects.get(debtor=debtor, kind="phone")
    assert phone.invalid_since is not None
    assert Message.objects.filter(fallback_of=message).exists()


def test_a_number_without_whatsapp_is_marked_invalid(simulator_live, debtor):  # noqa: F811
    ContactPoint.objects.filter(debtor=debtor, kind="whatsapp").update(value=UNKNOWN)
    message = queued(debtor, channel="whatsapp")
    assert _send_held(simulator_live, message.pk) == "sent"
    simulator_live.wait_for(_settled(["whatsapp status failed"]))
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert "131026" in message.error
    assert ContactPoint.objects.get(debtor=debtor, kind="whatsapp").invalid_since is not None
    assert ContactPoint.objects.get(debtor=debtor, kind="phone").invalid_since is None


@pytest.mark.parametrize(
    ("channel", "last"), [("sms", "twilio status delivered"), ("whatsapp", "whatsapp status read")]
)
def test_a_replayed_webhook_is_recorded_once(
    simulator_live,  # noqa: F811
    debtor,
    settings,
    channel,
    last,
):
    """Posting the same signed callbacks again answers 200 and records nothing new."""
    message = queued(debtor, channel=channel)
    assert _send_held(simulator_live, message.pk) == "sent"
    simulator_live.wait_for(_settled([last]))
    message.refresh_from_db()
    status = message.status
    before = DeliveryEvent.objects.count()
    for hook in simulator_live.webhooks:
        if channel == "sms":
            response = _post_twilio(hook["url"], hook["payload"], settings.TWILIO_AUTH_TOKEN)
        else:
            response = _post_meta(hook["url"], hook["payload"], settings.WHATSAPP_APP_SECRET)
        assert response.status_code == 200
    assert DeliveryEvent.objects.count() == before
    message.refresh_from_db()
    assert message.status == status


@pytest.mark.parametrize("signature", ["", "forged"])
def test_a_twilio_callback_without_a_valid_signature_is_refused(
    simulator_live,  # noqa: F811
    debtor,
    live_server,
    signature,
):
    message = queued(debtor)
    Message.objects.filter(pk=message.pk).update(
        status="sent", provider="twilio", provider_id="SM" + "a" * 32
    )
    url = f"{live_server.url}/contact/webhooks/twilio/status/"
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": MOBILE}
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = requests.post(url, data=params, headers=headers, timeout=10)
    assert response.status_code == 403
    # Signed with another secret: refused too.
    response = _post_twilio(url, params, "not-the-auth-token")
    assert response.status_code == 403
    inbound = f"{live_server.url}/contact/webhooks/twilio/inbound/"
    stop = {"MessageSid": "SM" + "b" * 32, "From": MOBILE, "Body": "STOP"}
    assert _post_twilio(inbound, stop, "not-the-auth-token").status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not DeliveryEvent.objects.filter(message=message).exists()
    assert not InboundMessage.objects.exists()
    assert not OptOut.objects.exists()


def test_a_whatsapp_webhook_without_a_valid_signature_is_refused(
    simulator_live,  # noqa: F811
    debtor,
    live_server,
    settings,
):
    message = queued(debtor, channel="whatsapp")
    Message.objects.filter(pk=message.pk).update(
        status="sent", provider="whatsapp_cloud", provider_id="wamid.X"
    )
    url = f"{live_server.url}/contact/webhooks/whatsapp/"
    payload = _meta_statuses("wamid.X", "delivered")
    body = json.dumps(payload).encode()
    for headers in (
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": meta_signature("another-secret", body)},
        # The signature of another body.
        {"X-Hub-Signature-256": meta_signature(settings.WHATSAPP_APP_SECRET, body + b" ")},
    ):
        headers["Content-Type"] = "application/json"
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not DeliveryEvent.objects.exists()
    # The same body, signed: accepted.
    assert _post_meta(url, payload, settings.WHATSAPP_APP_SECRET).status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_a_webhook_about_an_unknown_message_is_acknowledged(
    simulator_live,  # noqa: F811
    live_server,
    settings,
):
    """200 for a message we never sent: an error would make the provider retry for days."""
    url = f"{live_server.url}/contact/webhooks/twilio/status/"
    params = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    assert _post_twilio(url, params, settings.TWILIO_AUTH_TOKEN).status_code == 200
    url = f"{live_server.url}/contact/webhooks/whatsapp/"
    payload = _meta_statuses("wamid.unknown", "read")
    assert _post_meta(url, payload, settings.WHATSAPP_APP_SECRET).status_code == 200
    assert not DeliveryEvent.objects.exists()


def test_twilio_signatures_use_the_public_url(simulator_live, live_server, settings):  # noqa: F811
    """Behind a proxy Twilio signs the public URL, not the one Django sees."""
    settings.PUBLIC_URL = "https://incasso.example.nl"
    path = "/contact/webhooks/twilio/status/?m=k"
    params = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "sent"}
    signature = twilio_signature(settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_URL + path, params)
    response = requests.post(
        live_server.url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
    )
    assert response.status_code == 200


def test_meta_verifies_the_whatsapp_webhook(simulator_live, live_server, settings):  # noqa: F811
    url = f"{live_server.url}/contact/webhooks/whatsapp/"
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": settings.WHATSAPP_VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = requests.get(url, params=good, timeout=10)
    assert (response.status_code, response.text) == (200, "1158201444")
    bad = {**good, "hub.verify_token": "guess"}
    assert requests.get(url, params=bad, timeout=10).status_code == 403


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_stop_opts_the_debtor_out_of_that_channel_only(
    simulator_live,  # noqa: F811
    debtor,
    channel,
):
    """A debtor's STOP reply arrives as a signed inbound webhook: recorded once, and the
    debtor is opted out of that channel, not of the others."""
    answer = simulator_live.inbound(channel, MOBILE, "STOP")
    assert answer["status_code"] == 200
    reply = InboundMessage.objects.get()
    assert (reply.channel, reply.sender, reply.body, reply.debtor_id) == (
        channel,
        MOBILE,
        "STOP",
        debtor.pk,
    )
    assert reply.provider_id == answer["id"]
    assert list(OptOut.objects.values_list("channel", flat=True)) == [channel]
    # The provider delivers the same webhook again: nothing new.
    [hook] = [w for w in simulator_live.webhooks if w["kind"].endswith("inbound")]
    if channel == "sms":
        response = _post_twilio(
            hook["url"], hook["payload"], simulator_live.config.twilio_auth_token
        )
    else:
        response = _post_meta(
            hook["url"], hook["payload"], simulator_live.config.whatsapp_app_secret
        )
    assert response.status_code == 200
    assert InboundMessage.objects.count() == 1


def test_the_simulator_retries_a_webhook_while_the_app_is_down(simulator, settings):  # noqa: F811
    """The app is down when the statuses are due; once it is up they arrive."""
    port = _closed_port()
    simulator.configure(webhook_base=f"http://127.0.0.1:{port}", webhook_attempts=40)
    settings.WHATSAPP_API_BASE = simulator.base_url
    WhatsAppAdapter().send(outgoing(channel="whatsapp"))
    simulator.wait_for(lambda s: any(w["attempts"] >= 2 for w in s.webhooks))
    received = []
    with _Receiver(port, received):
        simulator.wait_for(lambda s: len(received) >= 3, timeout=20)
    statuses = [json.loads(b)["entry"][0]["changes"][0]["value"]["statuses"][0] for b in received]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]


# -- a sender killed mid-send ----------------------------------------------------------------

SETUP = """
import django
django.setup()
from datetime import datetime
from zoneinfo import ZoneInfo
from vaarwater.contact.models import Message
from vaarwater.ledger.models import ContactPoint, Debtor
from vaarwater.ledger.services import creditor_create

creditor = creditor_create(code="ENERGIE", name="Energie Noord BV", sector="energy")
debtor = Debtor.objects.create(creditor=creditor, external_id="K1", name="Sanne de Vries")
for kind in ("phone", "whatsapp"):
    ContactPoint.objects.create(debtor=debtor, kind=kind, value="+31612345678", source="import")
at = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
message = Message.objects.create(
    creditor=creditor, debtor=debtor, channel="%s", template="herinnering", purpose="reminder",
    not_before=at, idempotency_key="kill-1", body_text="Beste Sanne, betaal a.u.b.",
    rendered_at=at, context={"name": "Sanne", "claim_cents": 12000},
)
print(message.pk)
"""
SEND = """
import sys, django
django.setup()
from datetime import datetime
from zoneinfo import ZoneInfo
from vaarwater.contact.services import message_send
at = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
print(message_send(message_id=int(sys.argv[1]), now=at))
"""
RECOVER = """
import sys, django
django.setup()
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from vaarwater.contact.services import SEND_LEASE, message_recover, outbox_dispatch
at = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
later = at + SEND_LEASE + timedelta(minutes=1)
print(message_recover(message_id=int(sys.argv[1]), now=later))
print(outbox_dispatch(now=later + timedelta(minutes=10)))
"""


def _python(script: str, *args, env: dict) -> subprocess.CompletedProcess:
    run = [sys.executable, "-c", script, *map(str, args)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
@pytest.mark.parametrize(
    ("channel", "recovered", "status"), [("sms", "found", "sent"), ("whatsapp", "failed", "failed")]
)
def test_a_sender_killed_mid_send_causes_no_duplicate(
    simulator,  # noqa: F811
    cli_env,
    tmp_path,
    channel,
    recovered,
    status,
):
    """Given the provider accepted a message but its answer is held back, when the sender is
    killed (SIGKILL) before it heard the answer, then recovery asks Twilio and finds the SMS
    (sent, with Twilio's sid), or — WhatsApp cannot be asked — fails it; either way the
    provider has the message exactly once and nothing sends it again."""
    env = {
        **cli_env,
        "VAARWATER_TWILIO_API_BASE": simulator.base_url,
        "VAARWATER_WHATSAPP_API_BASE": simulator.base_url,
    }
    subprocess.run(
        [sys.executable, "-m", "vaarwater.cli", "migrate", "-v0"], env=env, check=True, timeout=120
    )
    message_id = int(_python(SETUP % channel, env=env).stdout)
    # The outbox runs at TUESDAY_10; the provider's clock agrees, as it would in real life.
    simulator.configure(
        hold_seconds=120, clock_offset=(TUESDAY_10 - timezone.now()).total_seconds()
    )
    sender = subprocess.Popen(
        [sys.executable, "-c", SEND, str(message_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        simulator.wait_for(lambda s: s.messages, timeout=60)
    finally:
        os.kill(sender.pid, signal.SIGKILL)
        sender.communicate(timeout=30)
    assert sender.returncode == -signal.SIGKILL
    database = cli_env["VAARWATER_DATABASE_URL"].removeprefix("sqlite:///")
    query = "SELECT status, provider_id FROM contact_message WHERE id = ?"
    with sqlite3.connect(database) as db:
        assert db.execute(query, (message_id,)).fetchone() == ("sending", "")
    simulator.configure(hold_seconds=0)
    lines = _python(RECOVER, message_id, env=env).stdout.splitlines()
    assert lines[0] == recovered
    [stored] = simulator.messages
    with sqlite3.connect(database) as db:
        row = db.execute(query, (message_id,)).fetchone()
    assert row == (status, stored["id"] if channel == "sms" else "")
    assert len(simulator.messages) == 1


# -- the simulator's own HTTP control API and the command ----------------------------------


def test_the_simulator_control_api(simulator):  # noqa: F811
    base = simulator.base_url
    TwilioSmsAdapter().send(outgoing())
    messages = requests.get(f"{base}/_sim/messages?channel=sms", timeout=5).json()["messages"]
    assert [m["body"] for m in messages] == [TEXT]
    assert "€ 120,00" in requests.get(f"{base}/", timeout=5).text
    config = requests.post(f"{base}/_sim/config", json={"fail_next": 1}, timeout=5).json()
    assert config["fail_next"] == 1 and config["twilio_auth_token"] == "***"
    bad = requests.post(f"{base}/_sim/config", json={"nonsense": 1}, timeout=5)
    assert bad.status_code == 400
    assert requests.post(f"{base}/_sim/reset", timeout=5).json() == {"reset": True}
    assert requests.get(f"{base}/_sim/messages", timeout=5).json() == {"messages": []}
    assert simulator.config.fail_next == 0


def test_vaarwater_simulator_command_serves_the_apis(tmp_path):
    """``vaarwater simulator`` runs in the foreground and speaks the Twilio API."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "VAARWATER_VAR_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "vaarwater.cli", "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        base = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        from django.conf import settings

        url = f"{base}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
        auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        created = requests.post(
            url, data={"To": MOBILE, "From": "+3197010000001", "Body": "hoi"}, auth=auth, timeout=5
        )
        assert created.status_code == 201
        assert created.json()["status"] == "queued"
        assert requests.post(url, data={}, auth=("AC1", "x"), timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_production_refuses_the_dev_provider_credentials(tmp_path):
    """With VAARWATER_PRODUCTION=true the settings refuse the simulator's dev credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VAARWATER_TWILIO", "VAARWATER_WH", "VAARWATER_MOLLIE"))
    }
    env.update(
        VAARWATER_PRODUCTION="true",
        VAARWATER_SECRET_KEY="s" * 50,
        VAARWATER_VAR_DIR=str(tmp_path),
    )
    run = [sys.executable, "-c", "import vaarwater.settings as s; print(s.TWILIO_API_BASE)"]
    refused = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "VAARWATER_TWILIO_AUTH_TOKEN" in refused.stderr
    assert "VAARWATER_WHATSAPP_APP_SECRET" in refused.stderr
    env.update(
        VAARWATER_TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        VAARWATER_TWILIO_AUTH_TOKEN="t",
        VAARWATER_WHATSAPP_PHONE_NUMBER_ID="1",
        VAARWATER_WHATSAPP_TOKEN="t",
        VAARWATER_WHATSAPP_APP_SECRET="t",
        VAARWATER_WHATSAPP_VERIFY_TOKEN="t",
        VAARWATER_MOLLIE_API_KEY="live_" + "a" * 30,
    )
    accepted = subprocess.run(run, env=env, capture_output=True, text=True, check=False)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == ""  # the real Twilio


# -- helpers -------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post_twilio(url: str, params: dict, auth_token: str):
    signature = twilio_signature(auth_token, url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def _post_meta(url: str, payload: dict, app_secret: str):
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256="
        + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return requests.post(url, data=body, headers=headers, timeout=10)


def _meta_statuses(wamid: str, status: str) -> dict:
    item = {"id": wamid, "status": status, "timestamp": "1795500000", "recipient_id": "316"}
    value = {"messaging_product": "whatsapp", "statuses": [item]}
    return {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}


class _Receiver:
    """A tiny HTTP server that answers 200 and keeps the bodies it gets."""

    def __init__(self, port: int, into: list):
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                into.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)

    def __enter__(self):
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
