"""Paying with iDEAL through Mollie (the simulator over real HTTP, the official client): start,
pay, the provider's status applied and booked once, cases closed, receipts queued."""

import pytest
from django.utils import timezone

from vaarwater.contact.models import Message
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import Allocation, Payment
from vaarwater.ledger.selectors import debtor_position
from vaarwater.payments.models import PaymentRequest, PaymentRequestStatus
from vaarwater.payments.providers.mollie.client import ProviderUnavailable
from vaarwater.payments.services import (
    PaymentError,
    PaymentUnavailable,
    amount_check,
    amount_parse,
    payment_nonce,
    payment_start,
    payment_sync,
    webhook_url,
)

from .conftest import AMOUNT, case_of
from .mollie_fixtures import checkout, mollie  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DEBTOR = Actor(kind="debtor", label="Klant")
RETURN = "http://testserver/terug/"


def start(debtor, amount=AMOUNT, nonce=None, **kwargs):
    return payment_start(
        debtor=debtor,
        amount_cents=amount,
        nonce=nonce or payment_nonce(),
        redirect_url=RETURN,
        actor=DEBTOR,
        case=case_of(debtor),
        **kwargs,
    )


def test_a_paid_payment_is_booked_once_with_allocation_and_closes_the_case(owing, mollie):  # noqa: F811
    """Given a debtor who owes € 123,45; when they pay it all with iDEAL and Mollie says paid,
    then the payment is booked once (source PSP, Mollie's id), allocated to the invoice, the
    case closes as paid and a receipt by email is queued; syncing again changes nothing."""
    request = start(owing)
    assert request.checkout_url.startswith(mollie.base_url + "/_sim/mollie/checkout/tr_")
    [remote] = mollie.mollie.payments
    assert remote["amount"] == {"value": "123.45", "currency": "EUR"}
    assert remote["method"] == "ideal" and remote["redirectUrl"] == RETURN
    assert remote["webhookUrl"].endswith("/payments/webhooks/mollie/")
    assert remote["metadata"]["request"] == request.pk

    assert checkout(request.checkout_url, "paid") == RETURN
    synced = payment_sync(provider_id=request.provider_id)
    again = payment_sync(provider_id=request.provider_id)

    assert synced.status == again.status == PaymentRequestStatus.PAID
    payment = Payment.objects.get(debtor=owing)
    assert payment.external_id == request.provider_id and payment.source == "psp"
    assert payment.amount_cents == AMOUNT and synced.payment_id == payment.pk
    assert sum(a.amount_cents for a in Allocation.objects.filter(payment=payment)) == AMOUNT
    assert debtor_position(owing).balance == 0
    case = case_of(owing)
    assert case.status == "closed" and case.close_reason == "paid"
    [receipt] = Message.objects.filter(debtor=owing, template="bedankt-betaling")
    assert receipt.purpose == "receipt" and receipt.channel == "email"
    assert receipt.context["paid_cents"] == AMOUNT and receipt.context["remaining_cents"] == 0
    verbs = list(Event.objects.filter(debtor=owing).values_list("verb", flat=True))
    assert verbs.count("payment.started") == 1 and verbs.count("payment.paid") == 1
    assert verbs.count("payment.booked") == 1


def test_a_partial_payment_keeps_the_case_open(owing, mollie):  # noqa: F811
    """A payment of € 50 of € 123,45 is booked, the case stays open, the receipt says what is
    left."""
    request = start(owing, amount=5000)
    checkout(request.checkout_url, "paid")
    payment_sync(provider_id=request.provider_id)
    assert debtor_position(owing).balance == AMOUNT - 5000
    assert case_of(owing).status == "open"
    receipt = Message.objects.get(debtor=owing, template="bedankt-betaling")
    assert receipt.context["remaining_cents"] == AMOUNT - 5000


@pytest.mark.parametrize("choice", ["failed", "canceled"])
def test_a_failed_or_canceled_payment_books_nothing(owing, mollie, choice):  # noqa: F811
    """The debtor stops at the bank, or the bank refuses: the status is recorded, nothing is
    booked and the case stays open."""
    request = start(owing)
    checkout(request.checkout_url, choice)
    synced = payment_sync(provider_id=request.provider_id)
    assert synced.status == choice and synced.payment_id is None
    assert not Payment.objects.filter(debtor=owing).exists()
    assert case_of(owing).status == "open"
    assert Event.objects.filter(debtor=owing, verb=f"payment.{choice}").count() == 1


def test_an_expired_payment_is_recorded(owing, mollie):  # noqa: F811
    """A payment the debtor never finished expires at Mollie; the request follows."""
    request = start(owing)
    mollie.mollie.set_status(request.provider_id, "expired", webhook=False)
    assert payment_sync(provider_id=request.provider_id).status == "expired"
    assert not Payment.objects.exists()


def test_an_open_payment_stays_open_and_books_nothing(owing, mollie):  # noqa: F811
    """Asking Mollie about a payment the debtor has not finished changes nothing."""
    request = start(owing)
    synced = payment_sync(provider_id=request.provider_id)
    assert synced.status == "open" and synced.payment_id is None
    assert not Payment.objects.exists()
    assert not Event.objects.filter(verb__in=["payment.paid", "payment.booked"]).exists()


def test_an_unknown_payment_id_changes_nothing(owing, mollie):  # noqa: F811
    """An id that is not ours is ignored; an id of ours that Mollie does not know (any more)
    books nothing."""
    assert payment_sync(provider_id="tr_doesnotexist") is None
    request = start(owing)
    mollie.mollie.reset()  # Mollie forgets it
    synced = payment_sync(provider_id=request.provider_id)
    assert synced.status == "open" and not Payment.objects.exists()


def test_the_same_form_twice_is_one_payment(owing, mollie):  # noqa: F811
    """A double click (the same nonce twice) gives the same request and one Mollie payment."""
    nonce = payment_nonce()
    first = start(owing, nonce=nonce)
    second = start(owing, nonce=nonce)
    assert first.pk == second.pk and first.checkout_url == second.checkout_url
    assert len(mollie.mollie.payments) == 1
    assert PaymentRequest.objects.count() == 1


def test_a_used_form_with_another_amount_is_refused(owing, mollie):  # noqa: F811
    """The same nonce with a different amount is not silently the old payment."""
    nonce = payment_nonce()
    start(owing, nonce=nonce)
    with pytest.raises(PaymentError, match="already used"):
        start(owing, amount=5000, nonce=nonce)


def test_a_request_whose_answer_was_lost_gets_the_same_payment(owing, mollie):  # noqa: F811
    """Mollie created the payment but we never stored it (the answer was lost): the same form
    again finds the same Mollie payment through the idempotency key, not a second one."""
    nonce = payment_nonce()
    request = start(owing, nonce=nonce)
    PaymentRequest.objects.filter(pk=request.pk).update(provider_id=None, checkout_url="")
    again = start(owing, nonce=nonce)
    assert again.provider_id == request.provider_id
    assert len(mollie.mollie.payments) == 1


def test_mollie_down_is_a_clear_error_and_the_same_form_works_later(owing, mollie):  # noqa: F811
    """When Mollie cannot be reached the debtor is told to try later; nothing is booked."""
    nonce = payment_nonce()
    mollie.mollie.fail(count=1, status=503)
    with pytest.raises(PaymentUnavailable):
        start(owing, nonce=nonce)
    request = start(owing, nonce=nonce)
    assert request.checkout_url and len(mollie.mollie.payments) == 1


def test_mollie_down_while_syncing_raises_so_the_webhook_is_retried(owing, mollie):  # noqa: F811
    request = start(owing)
    mollie.mollie.fail(count=1, status=500)
    with pytest.raises(ProviderUnavailable):
        payment_sync(provider_id=request.provider_id)


def test_a_wrong_api_key_fails_the_request(owing, mollie, settings):  # noqa: F811
    """Mollie refuses our key: the request is marked failed and the debtor gets an error."""
    settings.MOLLIE_API_KEY = "test_" + "x" * 30
    with pytest.raises(PaymentUnavailable):
        start(owing)
    request = PaymentRequest.objects.get()
    assert request.status == "failed" and request.provider_id is None


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12,34", 1234),
        ("12.34", 1234),
        ("€ 12,34", 1234),
        ("€12,34", 1234),
        ("1.234,56", 123456),
        ("25,-", 2500),
        (" 7 ", 700),
    ],
)
def test_amounts_are_read_the_dutch_and_the_english_way(typed, cents):
    assert amount_parse(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "12,345", "0", "0,00", "-5", "1,2,3", "12 euro"])
def test_bad_amounts_get_a_field_error(typed):
    with pytest.raises(PaymentError) as caught:
        amount_parse(typed)
    assert caught.value.field == "amount"


def test_amount_rules(owing):
    """At most the balance; at least the minimum partial payment (€ 10) unless it is all."""
    assert amount_check(debtor=owing, amount_cents=AMOUNT) == AMOUNT
    assert amount_check(debtor=owing, amount_cents=1000) == AMOUNT
    for wrong, words in ((AMOUNT + 1, "more than you owe"), (999, "smallest amount")):
        with pytest.raises(PaymentError, match=words) as caught:
            amount_check(debtor=owing, amount_cents=wrong)
        assert caught.value.field == "amount"


def test_the_last_small_amount_may_be_paid(owing, mollie):  # noqa: F811
    """Below the minimum is fine when it is everything that is left."""
    first = start(owing, amount=AMOUNT - 500)
    checkout(first.checkout_url, "paid")
    payment_sync(provider_id=first.provider_id)
    last = start(owing, amount=500)
    assert last.checkout_url
    with pytest.raises(PaymentError, match="more than you owe"):
        start(owing, amount=501)


def test_nothing_owed_nothing_to_pay(owing, mollie):  # noqa: F811
    request = start(owing)
    checkout(request.checkout_url, "paid")
    payment_sync(provider_id=request.provider_id)
    with pytest.raises(PaymentError, match="nothing left to pay"):
        start(owing, amount=100)


def test_a_request_booked_by_a_bank_statement_first_is_not_booked_twice(owing, mollie):  # noqa: F811
    """If the same Mollie payment was already booked (same id), the request links to it."""
    from vaarwater.ledger.services import payment_book

    request = start(owing)
    checkout(request.checkout_url, "paid")
    payment_book(
        debtor=owing,
        external_id=request.provider_id,
        date=timezone.localdate(),
        amount_cents=AMOUNT,
        source="psp",
    )
    synced = payment_sync(provider_id=request.provider_id)
    assert Payment.objects.filter(debtor=owing).count() == 1
    assert synced.payment_id == Payment.objects.get(debtor=owing).pk


def test_the_webhook_url_is_on_the_public_url(settings):
    """Mollie calls PUBLIC_URL; the real Mollie is given none for a laptop it cannot reach."""
    settings.PUBLIC_URL = "https://betalen.example.nl"
    assert webhook_url() == "https://betalen.example.nl/payments/webhooks/mollie/"
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    assert webhook_url() == "http://127.0.0.1:8000/payments/webhooks/mollie/"  # the simulator
    settings.MOLLIE_API_BASE = ""
    assert webhook_url() == ""


def test_a_dutch_thousands_point_is_read_in_full_on_the_pay_page():
    """The same reading as the plan pages: "2.500" is two thousand five hundred euros."""
    assert amount_parse("2.500") == 250000
    assert amount_parse("€ 1.000,-") == 100000
