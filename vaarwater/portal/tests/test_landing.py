"""The page behind a personal link: balance, how to pay, confirming old contact details."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from vaarwater.contact.models import Message, MessageStatus
from vaarwater.core.models import Event
from vaarwater.ledger.models import ContactPoint
from vaarwater.portal.models import AccessToken
from vaarwater.portal.tokens import access_token_issue, access_token_revoke, token_signed
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def debtor(make_debtor):  # noqa: F811
    return make_debtor(amount=12345, due=date.today() - timedelta(days=20))


def link(debtor, **kwargs):
    return access_token_issue(
        creditor_id=debtor.creditor_id, debtor_id=debtor.pk, case_id=None, **kwargs
    )


def test_the_link_shows_the_balance_and_how_to_pay(client, debtor):
    page = client.get(f"/p/{link(debtor)}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "€ 123,45" in text and debtor.creditor.name in text
    assert Event.objects.filter(verb="portal.opened", debtor=debtor).count() == 1


def test_opening_the_link_counts_as_a_response_to_the_last_message(client, debtor):
    message = Message.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        channel="sms",
        template="herinnering",
        not_before=timezone.now(),
        sent_at=timezone.now() - timedelta(hours=1),
        status=MessageStatus.DELIVERED,
        idempotency_key="x",
    )
    client.get(f"/p/{link(debtor)}/")
    message.refresh_from_db()
    assert message.response_kind == "link"


@pytest.mark.parametrize("case", ["forged", "expired", "revoked", "unknown"])
def test_a_bad_link_gets_a_calm_404(client, debtor, case):
    token = link(debtor)
    if case == "forged":
        token = token[:-1] + ("a" if token[-1] != "a" else "b")
    elif case == "expired":
        AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "revoked":
        assert access_token_revoke(debtor_id=debtor.pk) == 1
    elif case == "unknown":
        AccessToken.objects.all().delete()
    assert token_signed(token) == (case != "forged")
    page = client.get(f"/p/{token}/")
    assert page.status_code == 404
    assert "no longer works" in page.content.decode() or "werkt niet meer" in page.content.decode()


def test_old_contact_details_are_confirmed_or_rejected_by_the_debtor(client, debtor, settings):
    settings.CONTACT_CONFIRM_AFTER_DAYS = 180
    email = ContactPoint.objects.get(debtor=debtor, kind="email")
    phone = ContactPoint.objects.get(debtor=debtor, kind="phone")
    ContactPoint.objects.filter(pk=phone.pk).update(verified_at=timezone.now())
    token = link(debtor)
    page = client.get(f"/p/{token}/").content.decode()
    assert f'name="point-{email.pk}"' in page
    assert f'name="point-{phone.pk}"' not in page  # recently confirmed
    client.post(f"/p/{token}/", {f"point-{email.pk}": "wrong"})
    email.refresh_from_db()
    assert email.invalid_since is not None
    assert Event.objects.filter(verb="contact.invalid", debtor=debtor).exists()


PORTAL_ROUTES = (
    "landing", "pay", "plan", "defer", "problem", "help", "details", "faq", "chat", "callback",
)  # fmt: skip


@pytest.mark.parametrize("name", PORTAL_ROUTES)
def test_every_portal_page_refuses_an_expired_or_revoked_link(client, debtor, name):
    """No page behind the link, read or write, works once the link expired or was revoked."""
    from django.urls import reverse

    token = link(debtor)
    url = reverse(f"portal:{name}", args=[token])
    assert client.get(url).status_code in (200, 302, 405)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    assert client.post(url, {"amount": "10", "text": "x"}).status_code in (404, 405)
    AccessToken.objects.update(expires_at=timezone.now() + timedelta(days=1))
    access_token_revoke(debtor_id=debtor.pk)
    assert client.get(url).status_code == 404
    assert client.post(url, {"amount": "10"}).status_code in (404, 405)
