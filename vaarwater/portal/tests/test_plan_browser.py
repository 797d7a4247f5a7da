"""The payment plan pages in a phone-sized headless Chromium, as a debtor goes through them: the
questions with errors, the options, the way to pay with errors, the confirmation, the agreed
plan and a promise to pay. axe-core finds nothing serious and nothing is wider than the phone."""

# ruff: noqa: F811 - the fixtures (phone, …) are imported

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from vaarwater.arrangements.models import Arrangement
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


def _debtor_with_case(load_strategy, make_debtor, *, amount):
    today = timezone.localdate()
    debtor = make_debtor(amount=amount, due=today - timedelta(days=30), payday_day=25)
    creditor = debtor.creditor
    creditor.sepa_creditor_id = "NL79ZZZ999999990000"
    creditor.iban = "NL20INGB0001234567"
    creditor.save()
    version = load_strategy(strategy_text())
    case = Case.objects.create(
        creditor=creditor,
        debtor=debtor,
        opened_on=today - timedelta(days=10),
        strategy_version=version,
        variant_draw=Decimal("1.0000"),
        segment="alle",
        path="standaard",
        anchor_due=today - timedelta(days=30),
    )
    return access_token_issue(creditor_id=creditor.pk, debtor_id=debtor.pk, case_id=case.pk)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_plan_flow_is_accessible_at_phone_width(
    live_server, phone, artefacts, load_strategy, make_debtor, language
):
    token = _debtor_with_case(load_strategy, make_debtor, amount=60000)
    phone.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    base = f"{live_server.url}/p/{token}/regeling"
    check = PageChecks(phone, artefacts, "plan", language)

    def submit(form):
        with phone.expect_navigation():
            phone.locator(form).locator("button[type=submit]").first.click()

    phone.goto(f"{base}/")
    check("start")
    phone.fill("#id_antw-net_income", "veel")
    submit("form:has(input[name=action][value=answers])")
    assert phone.locator("[aria-invalid=true]").count() >= 1
    assert phone.locator("[role=alert]").count() == 1
    check("start-errors")
    phone.locator("#id_antw-household").check()
    phone.fill("#id_antw-net_income", "2300")
    phone.fill("#id_antw-rent", "900")
    phone.fill("#id_antw-payday_day", "25")
    submit("form:has(input[name=action][value=answers])")
    assert "/regeling/keuze/" in phone.url
    check("options")
    phone.locator('input[name="keuze-choice"][value="n3"]').check()
    submit("form:has(input[name=keuze-choice])")
    check("method")
    phone.locator('input[name="betaal-method"][value="sepa"]').check()
    phone.fill("#id_betaal-iban", "NL00 FOUT")
    submit("form:has(input[name=betaal-method])")
    check("method-errors")
    phone.locator('input[name="betaal-method"][value="transfer"]').check()
    submit("form:has(input[name=betaal-method])")
    check("confirm")
    submit("main form")
    assert "/regeling/klaar/" in phone.url
    check("done")
    phone.goto(f"{base}/")
    check("active")
    assert Arrangement.objects.count() == 1

    other = _debtor_with_case(load_strategy, make_debtor, amount=20000)
    phone.goto(f"{live_server.url}/p/{other}/regeling/belofte/")
    check("promise")
    phone.fill("#id_belofte-amount", "0")
    submit("form:has(#id_belofte-amount)")
    check("promise-errors")
    day = timezone.localdate() + timedelta(days=7)
    phone.fill("#id_belofte-amount", "200")
    phone.fill("#id_belofte-due_on", day.isoformat())
    submit("form:has(#id_belofte-amount)")
    assert phone.locator('[role="status"]').count() == 1
    check("promise-done")

    assert not check.problems, check.report()
