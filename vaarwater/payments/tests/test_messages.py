"""Payments in messages: a reminder's payment link is the pay page behind its personal link; a
payment request (``betaalverzoek``) carries its short payment link."""

import pytest
from django.utils import timezone

from vaarwater.contact.models import Message
from vaarwater.contact.rendering import message_content, sms_segments
from vaarwater.core.events import Actor
from vaarwater.payments.services import (
    PaymentError,
    payment_link_create,
    payment_link_revoke,
    payment_link_send,
)

from .conftest import case_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
AGENT = Actor(kind="user", label="medewerker")


def test_a_reminder_links_to_the_pay_page_behind_its_personal_link(owing, client):
    """``{{ payment_url }}`` in a reminder opens the portal's pay page for this debtor."""
    message = Message.objects.create(
        creditor=owing.creditor,
        debtor=owing,
        case=case_of(owing),
        channel="email",
        template="herinnering",
        not_before=timezone.now(),
        idempotency_key="test-herinnering",
        context={"claim_cents": 12345},
    )
    content = message_content(message=message)
    assert content.payment_url == content.portal_url + "betalen/"
    assert content.payment_url in content.text
    path = content.payment_url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and 'name="nonce"' in page.content.decode()


def test_sending_a_payment_link_queues_a_betaalverzoek_with_the_short_link(owing, settings):
    """The message says the amount and the last day, and links to ``/b/<code>/``; sending the
    same link on the same channel again is the same message."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    link = payment_link_create(
        debtor=owing, amount_cents=5000, actor=AGENT, case=case_of(owing), days=7
    )
    message = payment_link_send(link=link, channel="sms", actor=AGENT)
    assert message.template == "betaalverzoek" and message.purpose == "payment_request"
    assert payment_link_send(link=link, channel="sms", actor=AGENT).pk == message.pk
    content = message_content(message=message)
    short = f"{settings.PUBLIC_URL}/b/{link.code}/"
    assert content.payment_url == short and short in content.text
    assert "EUR 50,00" in content.text
    assert sms_segments(content.text)[1] == "GSM-7"
    email = payment_link_send(link=link, channel="email", actor=AGENT, on_request=True)
    assert email.purpose == "confirmation"
    text = message_content(message=email).text
    assert "€ 50,00" in text and short in text


def test_a_revoked_link_is_not_sent(owing):
    link = payment_link_create(debtor=owing, amount_cents=5000, actor=AGENT)
    payment_link_revoke(link=link, actor=AGENT, reason="verkeerd bedrag")
    with pytest.raises(PaymentError, match="revoked"):
        payment_link_send(link=link, channel="email", actor=AGENT)
