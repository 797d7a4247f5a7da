"""Races on PostgreSQL: a double click that arrives twice at the same moment, and a webhook
and the return page applying the same paid payment at once. Real threads, real row locks."""

import threading

import pytest
from django.db import connection

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Payment
from vaarwater.payments.models import PaymentRequest
from vaarwater.payments.services import payment_nonce, payment_start, payment_sync

from .conftest import AMOUNT, case_of
from .mollie_fixtures import checkout, mollie  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 4


def together(work):
    """Run ``work`` in THREADS threads released at the same moment; return results/errors."""
    gate = threading.Barrier(THREADS)
    results, errors = [], []

    def run():
        try:
            gate.wait()
            results.append(work())
        except Exception as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


def test_the_same_form_at_the_same_moment_is_one_payment(owing, mollie):  # noqa: F811
    nonce = payment_nonce()
    case = case_of(owing)

    def submit():
        return payment_start(
            debtor=owing,
            amount_cents=AMOUNT,
            nonce=nonce,
            redirect_url="http://testserver/terug/",
            actor=Actor(kind="debtor", label="Klant"),
            case=case,
        ).checkout_url

    results, errors = together(submit)
    assert not errors
    assert len(set(results)) == 1 and results[0]
    assert PaymentRequest.objects.count() == 1 and len(mollie.mollie.payments) == 1


def test_simultaneous_syncs_book_once(owing, mollie):  # noqa: F811
    request = payment_start(
        debtor=owing,
        amount_cents=AMOUNT,
        nonce=payment_nonce(),
        redirect_url="http://testserver/terug/",
        actor=Actor(kind="debtor", label="Klant"),
        case=case_of(owing),
    )
    checkout(request.checkout_url, "paid")
    results, errors = together(lambda: payment_sync(provider_id=request.provider_id).status)
    assert not errors and results == ["paid"] * THREADS
    assert Payment.objects.filter(debtor=owing).count() == 1
