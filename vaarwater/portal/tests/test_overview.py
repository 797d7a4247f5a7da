"""The overview explains what is owed: per invoice, costs with the letter, next step."""

from datetime import date, timedelta

import pytest

from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case, CostCharge
from vaarwater.strategy.services import hold_place
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.strategy.tests.test_run import run_days

pytestmark = pytest.mark.django_db


def link(case):
    return access_token_issue(
        creditor_id=case.creditor_id, debtor_id=case.debtor_id, case_id=case.pk
    )


def test_costs_are_explained_with_the_letter_that_announced_them(
    client,
    load_strategy,
    make_debtor,
    settings,  # noqa: F811
):
    """After the 14-day term ran out, the page shows the costs, the letter's date and term."""
    settings.LANGUAGE_CODE = "nl"
    load_strategy()
    debtor = make_debtor(amount=20000, due=date(2026, 10, 1))
    run_days(date(2026, 10, 5), date(2026, 11, 10))
    case = Case.objects.get(debtor=debtor)
    charge = CostCharge.objects.get(case=case)
    text = client.get(f"/p/{link(case)}/").content.decode()
    assert "€ 200,00" in text and "€ 40,00" in text  # principal; costs (the WIK minimum)
    assert "Incassokosten" in text
    notice = charge.notice
    assert f"{notice.term_ends_on.day} " in text
    assert "Waarom er kosten en rente bij zijn gekomen" in text


def test_what_was_sent_is_listed_without_codes(client, make_debtor):
    """Sent messages are listed with their kind and channel; a confirmation code is not."""
    from django.utils import timezone

    from vaarwater.contact.models import Message

    debtor = make_debtor(amount=5000, due=date.today() - timedelta(days=9))
    for n, (template, purpose) in enumerate(
        (("herinnering", "reminder"), ("verificatiecode", "verify"))
    ):
        Message.objects.create(
            creditor=debtor.creditor, debtor=debtor, channel="email", template=template,
            purpose=purpose, not_before=timezone.now(), sent_at=timezone.now(),
            status="delivered", idempotency_key=f"m{n}", subject=f"Onderwerp {template}",
        )  # fmt: skip
    token = access_token_issue(creditor_id=debtor.creditor_id, debtor_id=debtor.pk, case_id=None)
    text = client.get(f"/p/{token}/").content.decode()
    assert "Wat we u stuurden" in text and "Onderwerp herinnering" in text
    assert "Onderwerp verificatiecode" not in text


def test_next_step_and_pause_are_shown(client, load_strategy, make_debtor):  # noqa: F811
    load_strategy()
    today = date.today()
    debtor = make_debtor(amount=5000, due=today - timedelta(days=4))
    run_days(today, today)
    case = Case.objects.get(debtor=debtor)
    text = client.get(f"/p/{link(case)}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Wat gebeurt er hierna" in text
    assert "Volgende stap: " in text  # the same sentence the chat gives for the next step
    hold_place(
        case=case, kind="review", reason="klant meldt probleem", until=today + timedelta(days=14)
    )
    text = client.get(f"/p/{link(case)}/").content.decode()
    assert "gepauzeerd" in text or "paused" in text


def test_nothing_to_pay(client, make_debtor):  # noqa: F811
    debtor = make_debtor(amount=5000, due=date.today() - timedelta(days=4))
    from vaarwater.ledger.services import payment_book

    payment_book(debtor=debtor, external_id="P1", date=date.today(), amount_cents=5000)
    token = access_token_issue(creditor_id=debtor.creditor_id, debtor_id=debtor.pk, case_id=None)
    page = client.get(f"/p/{token}/")
    assert page.status_code == 200
    assert 'data-testid="balance"' in page.content.decode()
