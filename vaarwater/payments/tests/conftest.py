"""Fixtures for the payment tests: a debtor who owes and has an open case, and their link."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import Case
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

AMOUNT = 12345  # € 123,45 on one invoice, 20 days past due


@pytest.fixture
def owing(creditor, make_debtor, load_strategy):  # noqa: F811
    """A debtor who owes € 123,45 on an invoice 20 days past due, with an open case."""
    creditor.iban = "NL02ABNA0123456789"
    creditor.save(update_fields=["iban"])
    load_strategy()
    today = timezone.localdate()
    debtor = make_debtor(amount=AMOUNT, due=today - timedelta(days=20))
    daily_run(run_date=today)
    assert Case.objects.filter(debtor=debtor, status="open").exists()
    return debtor


def case_of(debtor) -> Case:
    return Case.objects.filter(debtor=debtor).order_by("-pk").first()


def personal_link(debtor) -> str:
    """A personal-link token for the debtor and their case."""
    case = case_of(debtor)
    return access_token_issue(
        creditor_id=debtor.creditor_id, debtor_id=debtor.pk, case_id=case.pk if case else None
    )
