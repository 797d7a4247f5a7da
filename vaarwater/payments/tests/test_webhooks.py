"""Mollie's webhook: it only says "look again"; replayed, forged and unknown calls book nothing
extra. Over real HTTP too: the simulator calls the live app back."""

from urllib.parse import urlsplit

import pytest
import requests

from vaarwater.contact.models import Message
from vaarwater.contact.tests.smtp_fixtures import smtp_server  # noqa: F401
from vaarwater.core.events import Actor
from vaarwater.ledger.models import Payment
from vaarwater.payments.models import PaymentRequest
from vaarwater.payments.services import payment_nonce, payment_start

from .conftest import AMOUNT, case_of
from .mollie_fixtures import checkout, mollie, mollie_live  # noqa: F401

WEBHOOK = "/payments/webhooks/mollie/"


def start(debtor, redirect_url="http://testserver/terug/"):
    return payment_start(
        debtor=debtor,
        amount_cents=AMOUNT,
        nonce=payment_nonce(),
        redirect_url=redirect_url,
        actor=Actor(kind="debtor", label="Klant"),
        case=case_of(debtor),
    )


@pytest.mark.django_db
def test_a_replayed_webhook_books_once(client, owing, mollie):  # noqa: F811
    """The same webhook three times: one ledger payment, one receipt, 200 every time."""
    request = start(owing)
    checkout(request.checkout_url, "paid")
    answers = [client.post(WEBHOOK, {"id": request.provider_id}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert Payment.objects.filter(debtor=owing).count() == 1
    assert Message.objects.filter(debtor=owing, template="bedankt-betaling").count() == 1
    assert PaymentRequest.objects.get().status == "paid"


@pytest.mark.django_db
def test_a_forged_webhook_for_an_open_payment_books_nothing(client, owing, mollie):  # noqa: F811
    """Someone posts the id of a payment the debtor has not paid: Mollie says open, so
    nothing is booked."""
    request = start(owing)
    answer = client.post(WEBHOOK, {"id": request.provider_id})
    assert answer.status_code == 200
    assert not Payment.objects.exists()
    assert PaymentRequest.objects.get().status == "open"
    assert case_of(owing).status == "open"


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{"id": "tr_unknown123"}, {"id": "nonsense"}, {}])
def test_a_webhook_for_an_unknown_id_gets_200_and_does_nothing(client, owing, mollie, data):  # noqa: F811
    """Unknown and malformed ids get the same 200 (no hint which ids exist), nothing else."""
    start(owing)
    answer = client.post(WEBHOOK, data)
    assert answer.status_code == 200
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_webhook_while_mollie_is_down_asks_to_be_sent_again(client, owing, mollie):  # noqa: F811
    """Mollie unreachable when we look the payment up: 503, so Mollie retries later."""
    request = start(owing)
    checkout(request.checkout_url, "paid")
    mollie.mollie.fail(count=1, status=503)
    assert client.post(WEBHOOK, {"id": request.provider_id}).status_code == 503
    assert not Payment.objects.exists()
    assert client.post(WEBHOOK, {"id": request.provider_id}).status_code == 200
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_the_webhook_takes_post_only(client):
    assert client.get(WEBHOOK).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_mollie_calls_the_live_app_back_and_the_payment_is_booked(
    owing,
    mollie_live,  # noqa: F811
    smtp_server,  # noqa: F811
    settings,
):
    """Over real HTTP: the simulator's webhook reaches the running app, which asks Mollie and
    books the payment; the receipt email reaches the SMTP server; a replayed webhook books
    nothing more."""
    request = start(owing, redirect_url=settings.PUBLIC_URL + "/terug/")
    assert urlsplit(request.checkout_url).netloc == urlsplit(mollie_live.base_url).netloc
    back = checkout(request.checkout_url, "paid")
    assert back == settings.PUBLIC_URL + "/terug/"  # the browser is sent back; we do not follow
    mollie_live.wait_for(
        lambda sim: [w for w in sim.webhooks if w["status_code"] == 200], timeout=10
    )
    [hook] = [w for w in mollie_live.webhooks if w["kind"] == "mollie payment paid"]
    assert hook["url"] == settings.PUBLIC_URL + WEBHOOK and hook["payload"] == {
        "id": request.provider_id
    }
    request.refresh_from_db()
    assert request.status == "paid" and request.payment_id is not None
    assert case_of(owing).status == "closed"
    replay = requests.post(settings.PUBLIC_URL + WEBHOOK, data={"id": request.provider_id})
    assert replay.status_code == 200
    assert Payment.objects.filter(debtor=owing).count() == 1
    [email] = smtp_server.to(owing.contact_points.get(kind="email").value)
    assert email["Subject"] == "Bedankt voor uw betaling"
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "Bedankt voor uw betaling van € 123,45" in body
    assert "Alles is betaald." in body
