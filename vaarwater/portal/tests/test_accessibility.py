"""Every portal page in a phone-sized headless Chromium: no serious axe-core violations, in
Dutch and English, and a screenshot of each as a test artefact."""

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

# Every page behind the personal link, by route name.
TOKEN_PAGES = (
    "landing", "pay", "plan", "plan_promise", "defer", "problem", "help", "details", "faq",
    "callback",
)  # fmt: skip
# The later plan steps need an assessment first: test_plan_browser.py goes through them.


@pytest.fixture
def token(load_strategy, make_debtor):  # noqa: F811
    """A debtor whose case has had its 14-day letter and costs, with a personal link."""
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=23456, due=today - timedelta(days=40), invoices=2)
    run_days(today - timedelta(days=36), today)
    case = Case.objects.get(debtor=debtor)
    return access_token_issue(creditor_id=case.creditor_id, debtor_id=debtor.pk, case_id=case.pk)


@pytest.fixture
def payment_link(token):
    """A payment link (like a Tikkie) for the same debtor: its page is a portal page too."""
    from vaarwater.core.events import Actor
    from vaarwater.payments.services import payment_link_create

    case = Case.objects.get()
    link = payment_link_create(debtor=case.debtor, amount_cents=5000, actor=Actor.system())
    return f"/b/{link.code}/"


def _pages(token, payment_link):
    yield "login", reverse("portal:login")
    yield "payment-link", payment_link
    yield "link-invalid", "/p/" + "x" * 32 + "/"
    for name in TOKEN_PAGES:
        yield name, reverse(f"portal:{name}", args=[token])


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_portal_page_is_accessible_at_phone_width(
    live_server,
    phone,
    artefacts,
    token,
    payment_link,
    language,  # noqa: F811
):
    """axe-core (WCAG 2.1 A/AA and best practices) finds nothing serious on any page."""
    phone.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    problems = {}
    for name, path in _pages(token, payment_link):
        phone.goto(live_server.url + path)
        assert phone.locator("html").get_attribute("lang") == language, name
        phone.screenshot(path=str(artefacts / f"{name}-{language}.png"), full_page=True)
        found = axe_violations(phone)
        if found:
            problems[name] = axe_report(found)
        # Nothing may be wider than the phone: no sideways scrolling.
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: the page is {width}px wide on a 390px phone"
    assert not problems, "\n".join(f"{k}:\n{v}" for k, v in problems.items())
