"""Fixtures for the strategy engine: a creditor with a small, known strategy and debtors."""

from datetime import date

import pytest

from vaarwater.ledger.models import ContactPoint, Debtor
from vaarwater.ledger.services import invoice_create
from vaarwater.strategy.documents import strategy_load

BASIC = """
strategy: test
title: Teststrategie
settings:
  grace_days: 3
  payday_window_days: 0
  contact_caps: {per_day: 1, per_week: 5}
segments:
  - name: alle
    label: Alle klanten
    path: standaard
paths:
  standaard:
    - {step: message, channel: email, template: herinnering, day: 5, after: due_date}
    - {step: fourteen_day_letter, channel: letter, day: 7}
    - {step: charge_costs}
    - {step: start_interest}
    - {step: call_task, day: 2}
"""


@pytest.fixture
def load_strategy(creditor):
    def load(text=BASIC, *, valid_from=date(2026, 1, 1), on=None):
        return strategy_load(
            creditor=on or creditor, text=text, source="test.yaml", valid_from=valid_from
        )

    return load


@pytest.fixture
def make_debtor(creditor):
    counter = {"n": 0}

    def make(
        *,
        amount=10000,
        due=date(2026, 10, 1),
        email=True,
        phone="+31612345678",
        payday_day=None,
        street="Dorpsstraat",
        vulnerable=False,
        on=None,
        invoices=1,
    ):
        counter["n"] += 1
        owner = on or creditor
        debtor = Debtor.objects.create(
            creditor=owner,
            external_id=f"K{counter['n']}",
            name=f"Klant {counter['n']}",
            street=street,
            house_number="1",
            postcode="1234AB",
            city="Utrecht",
            payday_day=payday_day,
            vulnerable=vulnerable,
        )
        if email:
            ContactPoint.objects.create(
                debtor=debtor, kind="email", value=f"k{counter['n']}@example.nl", source="import"
            )
        if phone:
            ContactPoint.objects.create(debtor=debtor, kind="phone", value=phone, source="import")
        for n in range(invoices):
            invoice_create(
                debtor=debtor,
                external_id=f"F{counter['n']}-{n}",
                issue_date=due.replace(day=1),
                due_date=due,
                amount_cents=amount,
            )
        return debtor

    return make
