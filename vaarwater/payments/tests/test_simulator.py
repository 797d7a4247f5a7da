"""The Mollie part of the provider simulator answers like Mollie: the official client works with
it, bad requests are refused in Mollie's words, idempotency keys and expiry behave."""

import pytest
import requests
from mollie.api.client import Client
from mollie.api.error import NotFoundError, UnauthorizedError, UnprocessableEntityError

from vaarwater.contact.simulator.mollie import EXPIRY

from .mollie_fixtures import checkout, mollie  # noqa: F401

KEY = "test_vaarwaterdev000000000000000000"


def client(base, key=KEY) -> Client:
    mollie_client = Client(api_endpoint=base)
    mollie_client.set_api_key(key)
    return mollie_client


def payment(**changes) -> dict:
    data = {
        "amount": {"currency": "EUR", "value": "10.00"},
        "description": "Test",
        "redirectUrl": "http://127.0.0.1:1/terug/",
        "webhookUrl": "http://127.0.0.1:1/hook/",
        "method": "ideal",
        "metadata": {"request": 1},
    }
    data.update(changes)
    return data


def test_the_official_client_creates_and_reads_a_payment(mollie):  # noqa: F811
    api = client(mollie.base_url)
    created = api.payments.create(payment())
    assert created.id.startswith("tr_") and created.status == "open" and created.is_open()
    assert created.amount == {"value": "10.00", "currency": "EUR"}
    assert created.checkout_url.endswith(f"/_sim/mollie/checkout/{created.id}")
    assert created.metadata == {"request": 1} and created.method == "ideal"
    checkout(created.checkout_url, "paid")
    fetched = api.payments.get(created.id)
    assert fetched.status == "paid" and fetched.is_paid() and fetched.paid_at
    assert fetched.checkout_url is None
    assert fetched.details["consumerBic"] == "INGBNL2A"


def test_a_wrong_key_is_refused(mollie):  # noqa: F811
    with pytest.raises(UnauthorizedError):
        client(mollie.base_url, key="test_" + "y" * 30).payments.create(payment())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": {"currency": "EUR", "value": "10"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": 10.0}}, "amount.value"),
        ({"amount": {"currency": "USD", "value": "10.00"}}, "amount.currency"),
        ({"amount": {"currency": "EUR", "value": "0.00"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "50000.01"}}, "amount.value"),
        ({"description": ""}, "description"),
        ({"redirectUrl": "nowhere"}, "redirectUrl"),
        ({"method": "creditcard"}, "method"),
        ({"webhookUrl": "ftp://x/"}, "webhookUrl"),
    ],
)
def test_bad_requests_are_refused_with_the_field(mollie, changes, field):  # noqa: F811
    with pytest.raises(UnprocessableEntityError) as caught:
        client(mollie.base_url).payments.create(payment(**changes))
    assert caught.value.field == field
    assert not mollie.mollie.payments


def test_an_idempotency_key_gives_the_same_payment(mollie):  # noqa: F811
    api = client(mollie.base_url)
    first = api.payments.create(payment(), idempotency_key="key-1")
    second = api.payments.create(payment(), idempotency_key="key-1")
    assert first.id == second.id and len(mollie.mollie.payments) == 1
    with pytest.raises(UnprocessableEntityError):
        api.payments.create(payment(description="Anders"), idempotency_key="key-1")
    assert api.payments.create(payment(), idempotency_key="key-2").id != first.id


def test_an_unknown_payment_is_not_found(mollie):  # noqa: F811
    with pytest.raises(NotFoundError):
        client(mollie.base_url).payments.get("tr_nothere000")


def test_an_unfinished_payment_expires(mollie):  # noqa: F811
    """After 15 minutes an open iDEAL payment has expired; its checkout sends the browser back."""
    api = client(mollie.base_url)
    created = api.payments.create(payment())
    mollie.configure(clock_offset=EXPIRY.total_seconds() + 1)
    assert api.payments.get(created.id).status == "expired"
    back = requests.get(created.checkout_url, allow_redirects=False, timeout=5)
    assert back.status_code == 303 and back.headers["Location"] == "http://127.0.0.1:1/terug/"


def test_a_finished_checkout_cannot_be_chosen_again(mollie):  # noqa: F811
    """Paid once; pressing Annuleren afterwards (another tab) changes nothing."""
    api = client(mollie.base_url)
    created = api.payments.create(payment())
    url = created.checkout_url
    checkout(url, "paid")
    late = requests.post(url, data={"status": "canceled"}, allow_redirects=False, timeout=5)
    assert late.status_code == 303
    assert api.payments.get(created.id).status == "paid"
    assert [h["status"] for h in mollie.mollie.payment(created.id)["history"]] == ["open", "paid"]


def test_the_control_api(mollie):  # noqa: F811
    """Payments as JSON, a forced status, failures on purpose, reset."""
    created = client(mollie.base_url).payments.create(payment())
    base = mollie.base_url
    listed = requests.get(f"{base}/_sim/mollie/payments", timeout=5).json()["payments"]
    assert [p["id"] for p in listed] == [created.id]
    forced = requests.post(
        f"{base}/_sim/mollie/payments/{created.id}", json={"status": "failed"}, timeout=5
    )
    assert forced.json()["status"] == "failed" and forced.json()["failedAt"]
    assert requests.get(f"{base}/_sim/mollie/", timeout=5).status_code == 200
    requests.post(f"{base}/_sim/mollie/fail", json={"count": 1, "status": 503}, timeout=5)
    with pytest.raises(Exception, match="503|temporarily"):
        client(base).payments.get(created.id)
    requests.post(f"{base}/_sim/reset", timeout=5)
    assert mollie.mollie.payments == []


def test_the_checkout_sends_the_webhook_with_the_payment_id(mollie):  # noqa: F811
    """Choosing on the checkout posts ``id=tr_…`` to the payment's webhook URL (retried)."""
    created = client(mollie.base_url).payments.create(payment())
    checkout(created.checkout_url, "canceled")
    hook = mollie.wait_for(lambda sim: sim.webhooks and sim.webhooks[0], timeout=5)
    assert hook["url"] == "http://127.0.0.1:1/hook/"
    assert hook["payload"] == {"id": created.id} and hook["kind"] == "mollie payment canceled"
