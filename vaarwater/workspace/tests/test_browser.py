"""The debtor list in a real browser: log in, see balances, switch to English."""

import os
import shutil
from datetime import date

import pytest
from django.contrib.auth import get_user_model

from vaarwater.ledger.models import CreditorMembership, Debtor
from vaarwater.ledger.services import invoice_create, payment_book
from vaarwater.testing import totp_code, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("VAARWATER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def page(tmp_path):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the ORM calls in the test are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
        yield context.new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_agent_logs_in_and_sees_balances(live_server, page, creditor, tmp_path):
    """An agent logs in, sees the debtor with the right balance, and can switch to English."""
    user = get_user_model().objects.create_user("agent", password="pw-agent-123", is_staff=True)
    CreditorMembership.objects.create(user=user, creditor=creditor)
    debtor = Debtor.objects.create(creditor=creditor, external_id="D1", name="Jan de Vries")
    invoice_create(
        debtor=debtor,
        external_id="F1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 15),
        amount_cents=123456,
    )
    payment_book(debtor=debtor, external_id="P1", date=date(2026, 1, 20), amount_cents=23456)

    device = totp_device(user)
    page.goto(live_server.url + "/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "pw-agent-123")
    page.fill("#id_code", totp_code(device))
    page.click("#login-submit")
    page.wait_for_selector("table")
    assert page.locator("h1").inner_text() == "Debiteuren van Energie Noord BV"
    row = page.locator("tbody tr", has_text="Jan de Vries")
    assert row.locator("td.num").inner_text() == "€ 1.000,00"
    page.screenshot(path=str(tmp_path / "debtors-nl.png"), full_page=True)

    page.select_option("#language", "en")
    page.click("#switch-language")
    page.wait_for_selector("h1:has-text('Debtors of')")
    assert page.locator("tbody tr td.num").first.inner_text() == "€1,000.00"
