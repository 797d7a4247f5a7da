"""The issue's end-to-end test: a debtor opens their personal link on a phone, sees the balance,
pays everything with iDEAL in the Mollie simulator, and comes back to a balance of zero. The
ledger has the payment allocated costs → interest → principal, the case is closed and the
confirmation email is in the test SMTP server."""

from datetime import date, timedelta

import pytest

from vaarwater.contact.tests.smtp_fixtures import smtp_server  # noqa: F401
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import Allocation, Component, Payment, PaymentSource
from vaarwater.ledger.selectors import debtor_position
from vaarwater.payments.tests.mollie_fixtures import mollie, mollie_live  # noqa: F401
from vaarwater.portal.tests.browser_fixtures import artefacts, phone  # noqa: F401
from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case, CaseStatus, CostCharge
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.strategy.tests.test_run import run_days

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_debtor_pays_everything_with_ideal_from_the_personal_link(
    live_server,
    mollie_live,  # noqa: F811
    smtp_server,  # noqa: F811
    phone,  # noqa: F811
    artefacts,  # noqa: F811
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
):
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=23456, due=today - timedelta(days=40))
    run_days(today - timedelta(days=36), today)
    case = Case.objects.get(debtor=debtor)
    assert CostCharge.objects.filter(case=case).exists()  # costs and interest are open too
    owed = debtor_position(debtor).balance
    token = access_token_issue(creditor_id=case.creditor_id, debtor_id=debtor.pk, case_id=case.pk)
    mailbox_before = len(smtp_server.messages)

    # The personal link shows the balance.
    phone.goto(f"{live_server.url}/p/{token}/")
    balance = phone.get_by_test_id("balance")
    assert balance.inner_text() == format_eur(owed)
    phone.screenshot(path=str(artefacts / "pay-1-overview.png"), full_page=True)

    # Pay now → the pay page → the bank (the simulator's checkout) → pay.
    phone.locator(f"a[href='/p/{token}/betalen/']").first.click()
    phone.wait_for_url(f"**/p/{token}/betalen/")
    phone.screenshot(path=str(artefacts / "pay-2-pay-page.png"), full_page=True)
    # Mollie's webhook is held until the debtor is back: the return page asks Mollie itself,
    # and the webhook that arrives afterwards must not book a second time. (Both at once would
    # also be safe, but the in-memory SQLite test database refuses concurrent writers.)
    mollie_live.hold_webhooks()
    phone.locator("form[data-once] button[type=submit]").click()
    phone.wait_for_url("**/_sim/mollie/checkout/**")
    phone.screenshot(path=str(artefacts / "pay-3-bank.png"), full_page=True)
    phone.locator("button[value=paid]").click()

    # Back in the portal: paid, nothing left.
    phone.wait_for_url(f"**/p/{token}/betaling/**")
    phone.get_by_test_id("balance").wait_for()
    assert phone.get_by_test_id("balance").inner_text() == "€ 0,00"
    phone.screenshot(path=str(artefacts / "pay-4-receipt.png"), full_page=True)
    phone.goto(f"{live_server.url}/p/{token}/")
    assert "niets meer te betalen" in phone.content() or "nothing left to pay" in phone.content()

    # The ledger: one PSP payment of the whole amount, allocated costs first.
    payment = Payment.objects.get(debtor=debtor)
    assert payment.source == PaymentSource.PSP and payment.amount_cents == owed
    allocations = list(Allocation.objects.filter(payment=payment).order_by("pk"))
    assert sum(a.amount_cents for a in allocations) == owed
    assert allocations[0].component == Component.COSTS
    assert {a.component for a in allocations} == {
        Component.COSTS,
        Component.INTEREST,
        Component.PRINCIPAL,
    }
    assert debtor_position(debtor).balance == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.close_reason == "paid"

    # Now Mollie's webhook arrives: it is answered, and books nothing more.
    mollie_live.release_webhooks()
    mollie_live.wait_for(
        lambda sim: any(
            w.get("status_code") == 200 and "mollie" in w.get("url", "") for w in sim.webhooks
        )
    )

    # The confirmation email reached the SMTP server, once.
    address = debtor.contact_points.get(kind="email").value
    received = smtp_server.to(address)[mailbox_before:]
    assert len(received) == 1, [m["Subject"] for m in received]
    assert Payment.objects.filter(debtor=debtor).count() == 1
