"""The self-service pages in a phone-sized headless Chromium, as a debtor uses them: with errors
shown and after each confirmation, axe-core finds nothing serious and nothing is wider than the
phone."""

# ruff: noqa: F811 - the fixtures (debtor, case, phone, …) are imported

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from vaarwater.ledger.models import Debtor
from vaarwater.portal.tests.browser_fixtures import (  # noqa: F401
    PageChecks,
    artefacts,
    phone,
)
from vaarwater.portal.tests.test_selfservice import strategy_text
from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def token(load_strategy, make_debtor):
    today = timezone.localdate()
    debtor = make_debtor(amount=12345, due=today - timedelta(days=20))
    Debtor.objects.filter(pk=debtor.pk).update(postcode="3511AB")
    version = load_strategy(strategy_text())
    case = Case.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        opened_on=today - timedelta(days=10),
        strategy_version=version,
        variant_draw=Decimal("1.0000"),
        segment="alle",
        path="standaard",
        anchor_due=today - timedelta(days=20),
    )
    return access_token_issue(creditor_id=debtor.creditor_id, debtor_id=debtor.pk, case_id=case.pk)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_forms_with_errors_and_confirmations_are_accessible(
    live_server, phone, artefacts, token, language
):
    phone.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    base = f"{live_server.url}/p/{token}"
    check = PageChecks(phone, artefacts, "selfservice", language)

    def submit(button_text_form):
        with phone.expect_navigation():
            phone.locator(button_text_form).locator("button[type=submit]").first.click()

    # Pay later: a wrong payday, then a good one, then a deferral.
    phone.goto(f"{base}/uitstel/")
    phone.fill("#id_payday-payday_day", "40")
    submit("form:has(input[name=action][value=payday])")
    assert phone.locator('[role="alert"]').count() == 1
    check("defer-error")
    phone.fill("#id_payday-payday_day", "25")
    submit("form:has(input[name=action][value=payday])")
    phone.locator("#id_defer-due_on").check()
    submit("form:has(input[name=action][value=defer])")
    assert phone.locator('[role="status"]').count() == 1
    check("defer-done")

    # Report a problem: nothing chosen, then "I can't pay" with a reason.
    phone.goto(f"{base}/probleem/")
    submit("form:has(textarea)")
    check("problem-error")
    phone.locator('input[name=kind][value="cant_pay"]').check()
    phone.locator('input[name=reason][value="illness"]').check()
    submit("form:has(textarea)")
    assert phone.locator('[role="status"]').count() == 1
    check("problem-done")

    # Help: a bad postcode, no tick, no organisation; then consent and breathing space.
    phone.goto(f"{base}/hulp/?zoek-postcode=12")
    check("help-lookup-error")
    submit("form:has(input[name=action][value=consent])")
    check("help-consent-error")
    phone.locator("#id_consent-agree").check()
    submit("form:has(input[name=action][value=consent])")
    submit("form:has(input[name=action][value=breathing])")
    check("help-breathing-error")
    phone.fill("#id_adem-organisation", "Schuldhulp gemeente Utrecht")
    submit("form:has(input[name=action][value=breathing])")
    check("help-done")

    # My details: a bad address, then a code form, then a wrong code.
    phone.goto(f"{base}/gegevens/")
    phone.locator("#id_nieuw-kind").check()
    phone.fill("#id_nieuw-value", "geen adres")
    submit("form:has(input[name=action][value=contact])")
    check("details-error")
    phone.fill("#id_nieuw-value", "nieuw@example.nl")
    submit("form:has(input[name=action][value=contact])")
    phone.fill("#id_code-code", "000000")
    submit("form:has(#id_code-code)")
    check("details-code-error")

    # Call me back: no choices, then a day and a window.
    phone.goto(f"{base}/terugbellen/")
    phone.fill("#id_bel-phone", "")
    submit("form:has(#id_bel-phone)")
    check("callback-error")
    phone.locator("#id_bel-day_1").check()
    phone.locator("#id_bel-band").check()
    phone.fill("#id_bel-phone", "0612345678")
    submit("form:has(#id_bel-phone)")
    assert phone.locator('[role="status"]').count() == 1
    check("callback-done")

    assert not check.problems, check.report()
