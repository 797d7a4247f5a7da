"""The FAQ and chat in a phone-sized headless Chromium: a search and a conversation work by
plain forms (the page has no script of its own), and axe-core finds nothing serious on it."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from vaarwater.portal.tests.browser_fixtures import (  # noqa: F401
    artefacts,
    axe_report,
    axe_violations,
    phone,
)
from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.strategy.tests.test_run import run_days

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_searching_and_asking_work_and_are_accessible(
    live_server,
    phone,  # noqa: F811
    artefacts,  # noqa: F811
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
    language,
):
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=23456, due=today - timedelta(days=40))
    run_days(today - timedelta(days=36), today)
    case = Case.objects.get(debtor=debtor)
    token = access_token_issue(creditor_id=case.creditor_id, debtor_id=debtor.pk, case_id=case.pk)
    phone.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    url = live_server.url + reverse("portal:faq", args=[token])
    phone.goto(url)
    phone.fill("#faq-q", "incasso" if language == "nl" else "collection costs")
    phone.press("#faq-q", "Enter")
    phone.wait_for_load_state()
    assert phone.locator("details[open] summary").count() == 1
    phone.fill(
        "#chat-question",
        "hoeveel moet ik nog betalen" if language == "nl" else "How much do I owe?",
    )
    phone.locator("form[action*='/chat/'] button[type=submit]").first.click()
    phone.wait_for_load_state()
    assert phone.url.endswith("#antwoord")
    answer = phone.locator("#antwoord").inner_text()
    assert ("€ " if language == "nl" else "€") in answer
    phone.fill("#chat-question", "<b>mijn hond is ziek</b>")
    phone.locator("form[action*='/chat/'] button[type=submit]").first.click()
    phone.wait_for_load_state()
    assert "<b>mijn hond is ziek</b>" in phone.locator("#antwoord .asked").inner_text()
    phone.screenshot(path=str(artefacts / f"faq-chat-{language}.png"), full_page=True)
    found = axe_violations(phone)
    assert not found, axe_report(found)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
