"""The outbox: sending by id over a real SMTP server, retries, bounces and fallback, send-time
rules, opt-outs, unsubscribe links, the email-event webhook and recovery after a crash."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from vaarwater.contact.models import DeliveryEvent, Message, MessageStatus, OptOut
from vaarwater.contact.services import (
    BACKOFF_MINUTES,
    MAX_ATTEMPTS,
    SEND_LEASE,
    message_recover,
    message_send,
    opt_out_record,
    outbox_dispatch,
)
from vaarwater.contact.views import email_signature
from vaarwater.core.models import Event
from vaarwater.ledger.models import ContactPoint, Debtor

from .smtp_fixtures import BOUNCE_DOMAIN, TEMPFAIL_DOMAIN, smtp_server  # noqa: F401

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
# A Tuesday in November, inside the contact hours of the shipped strategies (08:00-20:00).
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=AMS)


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
    ContactPoint.objects.create(debtor=debtor, kind="phone", value="+31612345678", source="import")
    return debtor


def queued(debtor, *, channel="email", key="m1", not_before=TUESDAY_10, purpose="reminder"):
    """A queued message whose text is already fixed (rendering is tested elsewhere)."""
    return Message.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        channel=channel,
        template="herinnering",
        language="nl",
        purpose=purpose,
        not_before=not_before,
        idempotency_key=key,
        subject="Herinnering: betaal uw rekening",
        body_text="Beste Sanne,\n\nU moet nog € 120,00 betalen.",
        body_html="<p>Beste Sanne,</p><p>U moet nog <b>€ 120,00</b> betalen.</p>",
        rendered_at=not_before,
        context={"claim_cents": 12000},
    )


def test_an_email_leaves_over_smtp_with_text_html_and_unsubscribe(debtor, smtp_server):  # noqa: F811
    """Given a queued email, when it is sent, the SMTP server gets one message with a text and
    an HTML part and List-Unsubscribe headers, and the row is sent with its history."""
    message = queued(debtor)
    assert message_send(message_id=message.pk, now=TUESDAY_10) == "sent"
    [mail] = smtp_server.messages
    assert mail["To"] == "sanne@example.nl"
    assert mail["Subject"] == "Herinnering: betaal uw rekening"
    assert mail.get_body(("plain",)).get_content().startswith("Beste Sanne,")
    assert "<b>€ 120,00</b>" in mail.get_body(("html",)).get_content()
    assert mail["List-Unsubscribe"].strip().startswith("<http://")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.recipient == "sanne@example.nl"
    assert message.provider_id == mail["Message-ID"].strip("<>")
    assert list(message.deliveries.values_list("status", flat=True)) == ["sending", "sent"]
    assert Event.objects.filter(verb="message.sent", subject_id=message.pk).exists()


def test_sending_twice_sends_once(debtor, smtp_server):  # noqa: F811
    message = queued(debtor)
    message_send(message_id=message.pk, now=TUESDAY_10)
    assert message_send(message_id=message.pk, now=TUESDAY_10) == "not queued (sent)"
    assert len(smtp_server.messages) == 1


def test_a_temporary_refusal_is_retried_with_back_off_then_failed(debtor, smtp_server):  # noqa: F811
    ContactPoint.objects.filter(debtor=debtor, kind="email").update(
        value=f"sanne@{TEMPFAIL_DOMAIN}"
    )
    message = queued(debtor)
    now = TUESDAY_10
    for attempt in range(1, MAX_ATTEMPTS):
        assert message_send(message_id=message.pk, now=now) == "retry"
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        assert message.not_before == now + timedelta(minutes=BACKOFF_MINUTES[attempt - 1])
        assert "451" in message.error
        now = message.not_before
    assert message_send(message_id=message.pk, now=now) == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error.startswith(f"opgegeven na {MAX_ATTEMPTS} pogingen")
    assert smtp_server.messages == []


def test_an_unreachable_smtp_server_is_a_temporary_error(debtor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    message = queued(debtor)
    assert message_send(message_id=message.pk, now=TUESDAY_10) == "retry"


def test_a_hard_bounce_invalidates_the_address_and_falls_back_to_a_letter(
    debtor,
    smtp_server,  # noqa: F811
    settings,
    tmp_path,
):
    """A 550 is a bounce: the email address is marked invalid and the same message goes out
    as a letter (a written reminder stays written)."""
    settings.VAR_DIR = tmp_path
    ContactPoint.objects.filter(debtor=debtor, kind="email").update(value=f"x@{BOUNCE_DOMAIN}")
    message = queued(debtor)
    with_commit = message_send(message_id=message.pk, now=TUESDAY_10)
    assert with_commit == "bounced"
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert "550" in message.error
    point = ContactPoint.objects.get(debtor=debtor, kind="email")
    assert point.invalid_since is not None
    fallback = Message.objects.get(fallback_of=message)
    assert fallback.channel == "letter"
    assert "daarom brief" in fallback.why
    assert Event.objects.filter(verb="contact.invalid", debtor=debtor).exists()
    assert Event.objects.filter(verb="message.fallback", subject_id=fallback.pk).exists()


def test_an_sms_at_2001_waits_for_the_next_allowed_moment(debtor):
    message = queued(debtor, channel="sms", not_before=datetime(2026, 11, 24, 19, 0, tzinfo=AMS))
    late = datetime(2026, 11, 24, 20, 1, tzinfo=AMS)
    assert message_send(message_id=message.pk, now=late) == "deferred"
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=AMS)
    event = Event.objects.get(verb="message.deferred", subject_id=message.pk)
    assert "buiten de contacttijden 08:00-20:00" in event.reason


def test_no_message_on_a_sunday_or_a_holiday(debtor):
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=AMS)
    message = queued(debtor, not_before=sunday)
    assert message_send(message_id=message.pk, now=sunday) == "deferred"
    message.refresh_from_db()
    assert message.not_before == datetime(2026, 11, 30, 8, 0, tzinfo=AMS)
    kings_day = datetime(2027, 4, 27, 12, 0, tzinfo=AMS)
    other = queued(debtor, key="m2", not_before=kings_day)
    assert message_send(message_id=other.pk, now=kings_day) == "deferred"
    assert "feestdag" in Event.objects.filter(subject_id=other.pk).last().reason


def test_the_daily_cap_is_checked_again_at_send_time(debtor, smtp_server):  # noqa: F811
    """The shipped energy strategy allows one contact a day: a second email waits a day."""
    first, second = queued(debtor, key="a"), queued(debtor, key="b")
    assert message_send(message_id=first.pk, now=TUESDAY_10) == "sent"
    assert message_send(message_id=second.pk, now=TUESDAY_10) == "deferred"
    second.refresh_from_db()
    assert second.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=AMS)
    assert len(smtp_server.messages) == 1


def test_an_opt_out_cancels_queued_messages_and_falls_back(debtor):
    message = queued(debtor, purpose="info")
    opt_out_record(debtor=debtor, channel="email", source="portal", at=TUESDAY_10)
    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    fallback = Message.objects.get(fallback_of=message)
    assert fallback.channel == "letter"  # an email stays written
    assert opt_out_record(debtor=debtor, channel="email", source="again").pk == (
        OptOut.objects.get(debtor=debtor).pk
    )


def test_a_message_to_an_opted_out_channel_is_not_sent(debtor, smtp_server):  # noqa: F811
    OptOut.objects.create(
        creditor=debtor.creditor, debtor=debtor, channel="email", source="t", since=TUESDAY_10
    )
    message = queued(debtor)
    assert message_send(message_id=message.pk, now=TUESDAY_10) == "opted out"
    assert smtp_server.messages == []
    assert Message.objects.get(pk=message.pk).status == MessageStatus.CANCELLED


def test_the_unsubscribe_link_opts_out_with_one_click(debtor, smtp_server, client):  # noqa: F811
    message = queued(debtor)
    message_send(message_id=message.pk, now=TUESDAY_10)
    url = smtp_server.messages[0]["List-Unsubscribe"].strip().strip("<>")
    path = url.split("8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and b"<form" in page.content
    assert not OptOut.objects.exists()
    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert OptOut.objects.get(debtor=debtor).channel == "email"
    assert client.get("/u/forged-token/").status_code == 404


def _email_event(client, payload, secret=None):
    body = json.dumps(payload).encode()
    signature = email_signature(body) if secret is None else secret
    return client.post(
        "/contact/webhooks/email/",
        data=body,
        content_type="application/json",
        headers={"X-Vaarwater-Signature": signature},
    )


def test_the_email_webhook_checks_its_signature_and_ignores_replays(
    debtor,
    smtp_server,  # noqa: F811
    client,
):
    message = queued(debtor)
    message_send(message_id=message.pk, now=TUESDAY_10)
    message.refresh_from_db()
    event = {"id": "ev-1", "message": message.provider_id, "event": "delivered"}
    assert _email_event(client, event, secret="sha256=forged").status_code == 403
    assert _email_event(client, event).json() == {"recorded": True}
    assert _email_event(client, event).json() == {"recorded": False}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.deliveries.filter(source="email-relay").count() == 1


def test_a_late_hard_bounce_report_marks_the_address_invalid(debtor, smtp_server, client):  # noqa: F811
    message = queued(debtor, purpose="info")
    message_send(message_id=message.pk, now=TUESDAY_10)
    message.refresh_from_db()
    reply = _email_event(
        client,
        {
            "id": "ev-2",
            "message": message.provider_id,
            "event": "bounced",
            "hard": True,
            "reason": "550 mailbox does not exist",
        },
    )
    assert reply.json() == {"recorded": True}
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert ContactPoint.objects.get(debtor=debtor, kind="email").invalid_since is not None
    assert Message.objects.get(fallback_of=message).channel == "letter"


def test_an_interrupted_email_is_not_sent_again(debtor, smtp_server):  # noqa: F811
    """SMTP cannot say whether it got a message: an interrupted one is failed, not resent."""
    message = queued(debtor)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=TUESDAY_10, attempts=1
    )
    assert message_recover(message_id=message.pk, now=TUESDAY_10) == "not stale"
    later = TUESDAY_10 + SEND_LEASE + timedelta(seconds=1)
    counts = outbox_dispatch(now=later)
    assert counts["recovered"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "niet opnieuw verstuurd" in message.error
    assert smtp_server.messages == []


def test_dispatch_sends_what_is_due_and_leaves_the_rest(debtor, smtp_server):  # noqa: F811
    due = queued(debtor, key="due")
    later = queued(debtor, key="later", not_before=TUESDAY_10 + timedelta(hours=3))
    assert outbox_dispatch(now=TUESDAY_10)["dispatched"] == 1
    assert Message.objects.get(pk=due.pk).status == MessageStatus.SENT
    assert Message.objects.get(pk=later.pk).status == MessageStatus.QUEUED


def test_an_illegal_status_report_is_kept_but_does_not_move_the_status(debtor, smtp_server):  # noqa: F811
    from vaarwater.contact.services import delivery_record

    message = queued(debtor)
    message_send(message_id=message.pk, now=TUESDAY_10)
    message.refresh_from_db()
    delivery_record(message=message, status="read", source="t", at=timezone.now())
    assert delivery_record(message=message, status="delivered", source="t", at=timezone.now())
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert DeliveryEvent.objects.filter(message=message, status="delivered").exists()


def test_the_send_messages_command(debtor, smtp_server):  # noqa: F811
    from io import StringIO

    from django.core.management import CommandError, call_command

    queued(debtor)
    out = StringIO()
    call_command("send-messages", "--now", "2026-11-24T10:00+01:00", stdout=out)
    assert "1 message(s) handed to the senders" in out.getvalue()
    assert len(smtp_server.messages) == 1
    with pytest.raises(CommandError, match="--now 'gisteren': expected an ISO moment"):
        call_command("send-messages", "--now", "gisteren")


def test_a_channel_tried_by_another_step_is_still_a_fallback(
    debtor,
    smtp_server,  # noqa: F811
    settings,
    tmp_path,
):
    """Step 1's letter does not count as tried for step 10 (whose key starts the same)."""
    settings.VAR_DIR = tmp_path
    queued(debtor, channel="letter", key="case-1-2026-11-24-1")
    ContactPoint.objects.filter(debtor=debtor, kind="email").update(value=f"x@{BOUNCE_DOMAIN}")
    message = queued(debtor, key="case-1-2026-11-24-10")
    assert message_send(message_id=message.pk, now=TUESDAY_10) == "bounced"
    assert Message.objects.get(fallback_of=message).channel == "letter"


def test_the_email_webhook_refuses_nonsense_with_400_and_records_nothing(client, debtor):
    for payload in ({"id": "e1"}, {"id": "e2", "message": "x", "event": "exploded"}):
        assert _email_event(client, payload).status_code == 400
    body = b"not json at all"
    reply = client.post(
        "/contact/webhooks/email/",
        data=body,
        content_type="application/json",
        headers={"X-Vaarwater-Signature": email_signature(body)},
    )
    assert reply.status_code == 400
    assert not DeliveryEvent.objects.exists()
