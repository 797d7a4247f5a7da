"""The pages: the portal's pay page and return page, and payment links (``/b/<code>/``), with
Django's test client for the app and real HTTP for the simulator's checkout page."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import Payment
from vaarwater.ledger.selectors import debtor_position
from vaarwater.payments.models import PaymentLink, PaymentRequest
from vaarwater.payments.services import payment_link_create, payment_link_revoke

from .conftest import AMOUNT, case_of, personal_link
from .mollie_fixtures import checkout, mollie  # noqa: F401

pytestmark = pytest.mark.django_db
AGENT = Actor(kind="user", label="medewerker")


def nonce_of(page) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', page.content.decode()).group(1)


def local(url: str) -> str:
    """The path of a URL on the test server (where the simulator sends the browser back)."""
    parts = urlsplit(url)
    assert parts.netloc == "testserver", url
    return parts.path


# -- the portal's pay page -----------------------------------------------------------------------


def test_the_pay_page_shows_balance_invoices_choices_and_transfer(client, owing):
    """The page shows the balance, the open invoice, 'everything' and 'another amount' with a
    labelled field and its hint, a one-time nonce, the iDEAL button and the bank transfer."""
    token = personal_link(owing)
    page = client.get(f"/p/{token}/betalen/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="balance">€ 123,45<' in text
    assert "F1-0" in text  # the invoice number
    assert 'name="choice" value="all"' in text and 'name="choice" value="other"' in text
    assert '<label for="amount">' in text and 'aria-describedby="amount-help"' in text
    assert "€ 10,00" in text  # the minimum
    assert nonce_of(page)
    assert "Betalen met iDEAL" in text or "Pay with iDEAL" in text
    assert "NL02ABNA0123456789" in text and case_of(owing).reference in text
    assert page["Cache-Control"] == "no-store"


def test_pay_everything_through_the_checkout_and_back(client, owing, mollie):  # noqa: F811
    """The whole flow as a browser does it: pay page → 303 to Mollie's checkout → Betalen →
    303 back to the return page, which shows the payment and a balance of zero; the ledger,
    the case and the receipt follow."""
    token = personal_link(owing)
    page = client.get(f"/p/{token}/betalen/")
    answer = client.post(f"/p/{token}/betalen/", {"nonce": nonce_of(page), "choice": "all"})
    assert answer.status_code == 303
    assert answer["Location"].startswith(mollie.base_url + "/_sim/mollie/checkout/tr_")
    back = checkout(answer["Location"], "paid")
    request = PaymentRequest.objects.get()
    assert local(back) == f"/p/{token}/betaling/{request.pk}/"
    result = client.get(local(back))
    text = result.content.decode()
    assert result.status_code == 200
    assert 'role="status"' in text and "€ 123,45" in text
    assert 'data-testid="balance">€ 0,00<' in text
    assert debtor_position(owing).balance == 0
    assert case_of(owing).status == "closed"
    assert Payment.objects.get(debtor=owing).external_id == request.provider_id


def test_a_double_click_is_one_payment(client, owing, mollie):  # noqa: F811
    """The same form posted twice goes to the same checkout; Mollie has one payment."""
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    first = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    second = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    assert first["Location"] == second["Location"]
    assert len(mollie.mollie.payments) == 1 and PaymentRequest.objects.count() == 1


def test_after_paying_the_old_form_leads_to_the_result_not_a_new_payment(client, owing, mollie):  # noqa: F811
    """Back button and submit again after paying: the paid request's page, no second payment."""
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    first = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    client.get(local(checkout(first["Location"], "paid")))
    again = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    assert again.status_code == 303 and "/betaling/" in again["Location"]
    assert len(mollie.mollie.payments) == 1


def test_another_amount(client, owing, mollie):  # noqa: F811
    """A typed amount (Dutch comma) is what is paid, even if 'everything' stayed selected."""
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    answer = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "amount": "€ 25,50"})
    assert answer.status_code == 303
    assert mollie.mollie.payments[0]["amount"]["value"] == "25.50"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("abc", "for example 12,34"),
        ("500,00", "more than you owe"),
        ("5,00", "smallest amount"),
        ("", "Fill in an amount"),
    ],
)
def test_a_wrong_amount_is_shown_at_the_field(client, owing, mollie, typed, words):  # noqa: F811
    """A wrong amount comes back with the error linked to the field; nothing is started."""
    client.cookies["django_language"] = "en"
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    page = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "other", "amount": typed})
    text = page.content.decode()
    assert page.status_code == 200
    assert words in text
    assert 'id="amount-error"' in text and 'aria-describedby="amount-help amount-error"' in text
    assert 'aria-invalid="true"' in text
    assert PaymentRequest.objects.count() == 0 and not mollie.mollie.payments


def test_nothing_to_pay_shows_a_calm_page(client, owing, mollie):  # noqa: F811
    from vaarwater.ledger.services import payment_book

    payment_book(debtor=owing, external_id="BANK1", date=timezone.localdate(), amount_cents=AMOUNT)
    page = client.get(f"/p/{personal_link(owing)}/betalen/")
    assert page.status_code == 200 and 'name="nonce"' not in page.content.decode()


def test_a_small_rest_is_paid_whole(client, owing, mollie):  # noqa: F811
    """Less open than the minimum partial payment: no choice of amount, only everything."""
    from vaarwater.ledger.services import payment_book

    payment_book(
        debtor=owing, external_id="BANK1", date=timezone.localdate(), amount_cents=AMOUNT - 500
    )
    token = personal_link(owing)
    page = client.get(f"/p/{token}/betalen/")
    text = page.content.decode()
    assert 'name="amount"' not in text and 'value="all"' in text
    answer = client.post(f"/p/{token}/betalen/", {"nonce": nonce_of(page), "choice": "all"})
    assert answer.status_code == 303
    assert mollie.mollie.payments[0]["amount"]["value"] == "5.00"


def test_mollie_down_shows_an_error_and_the_transfer(client, owing, mollie):  # noqa: F811
    mollie.mollie.fail(count=1, status=503)
    client.cookies["django_language"] = "en"
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    page = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    text = page.content.decode()
    assert page.status_code == 200 and 'role="alert"' in text
    assert "try again in a few minutes" in text and "NL02ABNA0123456789" in text


@pytest.mark.parametrize(("choice", "words"), [("canceled", "not completed"), ("open", "waiting")])
def test_the_return_page_for_a_payment_not_made(client, owing, mollie, choice, words):  # noqa: F811
    """Canceled: 'not completed' and try again; still open: 'waiting', check again or go back
    to the payment (no automatic refresh: a page that reloads itself fails WCAG 2.2.1)."""
    client.cookies["django_language"] = "en"
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    answer = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    request = PaymentRequest.objects.get()
    if choice != "open":
        checkout(answer["Location"], choice)
    page = client.get(f"/p/{token}/betaling/{request.pk}/")
    text = page.content.decode()
    assert words in text
    assert 'http-equiv="refresh"' not in text
    assert ("Go back to the payment" in text) == (choice == "open")
    try_again = f'<a class="button" href="/p/{token}/betalen/">'
    assert (try_again in text) == (choice == "canceled")
    assert not Payment.objects.exists()


def test_a_cancelled_payment_through_a_link_offers_the_link_again(client, owing, mollie):  # noqa: F811
    client.cookies["django_language"] = "en"
    link = link_for(owing, amount=5000)
    page = client.get(f"/b/{link.code}/")
    answer = client.post(f"/b/{link.code}/", {"nonce": nonce_of(page)})
    back = checkout(answer["Location"], "canceled")
    text = client.get(local(back)).content.decode()
    assert "not completed" in text and f'href="/b/{link.code}/"' in text
    assert not Payment.objects.exists()


def test_the_return_page_of_another_debtor_is_not_shown(client, owing, make_debtor, mollie):  # noqa: F811
    other = make_debtor(amount=5000, due=timezone.localdate() - timedelta(days=20))
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    request = PaymentRequest.objects.get()
    assert client.get(f"/p/{personal_link(other)}/betaling/{request.pk}/").status_code == 404


def test_the_return_page_works_without_the_webhook(client, owing, mollie):  # noqa: F811
    """Webhooks held back (the demo behind NAT): the return page asks Mollie and books."""
    mollie.hold_webhooks()
    token = personal_link(owing)
    nonce = nonce_of(client.get(f"/p/{token}/betalen/"))
    answer = client.post(f"/p/{token}/betalen/", {"nonce": nonce, "choice": "all"})
    client.get(local(checkout(answer["Location"], "paid")))
    assert Payment.objects.filter(debtor=owing).count() == 1
    assert not mollie.webhooks
    mollie.release_webhooks()


# -- payment links ------------------------------------------------------------------------------


def link_for(debtor, amount=5000, **kwargs) -> PaymentLink:
    return payment_link_create(
        debtor=debtor, amount_cents=amount, actor=AGENT, case=case_of(debtor), **kwargs
    )


def test_a_payment_link_is_made_with_the_policy_expiry_and_an_event(owing):
    link = link_for(owing)
    assert len(link.code) == 12 and link.expires_on == timezone.localdate() + timedelta(days=14)
    assert Event.objects.filter(verb="payment_link.created", subject_id=link.pk).exists()


def test_a_payment_link_cannot_ask_more_than_is_owed(owing, english):
    from vaarwater.payments.services import PaymentError

    with pytest.raises(PaymentError, match="more than the customer owes"):
        link_for(owing, amount=AMOUNT + 1)
    with pytest.raises(PaymentError):
        link_for(owing, amount=0)


def test_pay_through_a_payment_link(client, owing, mollie):  # noqa: F811
    """The link page shows the creditor, amount and last day (not who the debtor is); paying
    goes through Mollie and back; then the link says it is paid and cannot pay twice."""
    client.cookies["django_language"] = "en"
    link = link_for(owing, amount=5000, description="Termijn november")
    page = client.get(f"/b/{link.code}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert owing.creditor.name in text and "€50.00" in text and "Termijn november" in text
    assert owing.name not in text
    answer = client.post(f"/b/{link.code}/", {"nonce": nonce_of(page)})
    assert answer.status_code == 303
    back = checkout(answer["Location"], "paid")
    request = PaymentRequest.objects.get()
    assert request.link_id == link.pk
    assert local(back) == f"/b/{link.code}/betaling/{request.pk}/"
    result = client.get(local(back)).content.decode()
    assert "has received your payment of €50.00" in result
    assert debtor_position(owing).balance == AMOUNT - 5000
    paid = client.get(f"/b/{link.code}/")
    assert "has been paid" in paid.content.decode() and 'name="nonce"' not in paid.content.decode()
    again = client.post(f"/b/{link.code}/", {"nonce": "x" * 20})
    assert again.status_code == 200 and len(mollie.mollie.payments) == 1


def test_a_link_never_asks_more_than_is_left(client, owing, mollie):  # noqa: F811
    """Paid partly by transfer after the link was sent: the link asks only what is left."""
    from vaarwater.ledger.services import payment_book

    link = link_for(owing, amount=10000)
    payment_book(debtor=owing, external_id="BANK1", date=timezone.localdate(), amount_cents=9000)
    page = client.get(f"/b/{link.code}/")
    client.post(f"/b/{link.code}/", {"nonce": nonce_of(page)})
    assert mollie.mollie.payments[0]["amount"]["value"] == "33.45"


@pytest.mark.parametrize(
    ("state", "status"), [("expired", 410), ("revoked", 410), ("unknown", 404)]
)
def test_a_dead_link_gets_a_calm_page(client, owing, mollie, state, status):  # noqa: F811
    link = link_for(owing)
    code = link.code
    if state == "expired":
        PaymentLink.objects.filter(pk=link.pk).update(
            expires_on=timezone.localdate() - timedelta(days=1)
        )
    elif state == "revoked":
        payment_link_revoke(link=link, actor=AGENT, reason="klant betaalt per regeling")
    else:
        code = "zzzzzzzzzzzz"
    page = client.get(f"/b/{code}/")
    assert page.status_code == status
    assert 'name="nonce"' not in page.content.decode()
    assert client.post(f"/b/{code}/", {"nonce": "y" * 20}).status_code == status
    assert client.get(f"/b/{code}/qr.svg").status_code == status
    assert not mollie.mollie.payments


def test_the_link_works_through_its_last_day(client, owing):
    link = link_for(owing, days=1)
    PaymentLink.objects.filter(pk=link.pk).update(expires_on=timezone.localdate())
    assert client.get(f"/b/{link.code}/").status_code == 200


def test_the_qr_code_holds_the_short_link(client, owing, settings):
    link = link_for(owing)
    answer = client.get(f"/b/{link.code}/qr.svg")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/svg+xml"
    assert answer.content.startswith(b"<svg")
