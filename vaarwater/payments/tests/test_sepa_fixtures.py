"""Fixtures for the SEPA direct-debit tests: a creditor that may collect, debtors with mandates,
a synthetic statement entry, and the official pain.008 XSDs of the shared test data."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from vaarwater.payments.sepa import mandate_create
from vaarwater.payments.statement_models import Statement, StatementEntry
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.testing import SHARED_TESTDATA

CREDITOR_ID = "NL69ZZZ123456780000"
CREDITOR_IBAN = "NL02ABNA0123456789"
# Valid Dutch IBANs (checksums hold) for the debtors' accounts.
IBANS = ["NL91ABNA0417164300", "NL20INGB0001234567", "NL44RABO0123456789", "NL18RABO0123459876"]
XSD_DIR = SHARED_TESTDATA / "xsd"
# A fixed Monday to run the SEPA days from; collection dates are counted from it.
MONDAY = date(2030, 3, 4)


@pytest.fixture
def sepa_creditor(creditor, load_strategy):  # noqa: F811
    """The creditor with a SEPA creditor id and a collection account (BIC from the IBAN)."""
    load_strategy()
    creditor.iban = CREDITOR_IBAN
    creditor.sepa_creditor_id = CREDITOR_ID
    creditor.save(update_fields=["iban", "sepa_creditor_id"])
    return creditor


@pytest.fixture
def make_mandate(sepa_creditor, make_debtor):  # noqa: F811
    """A debtor (owing € 300,00) with a signed mandate on one of the IBANS."""
    counter = {"n": 0}

    def make(*, amount=30000, holder=None, **over):
        n = counter["n"]
        counter["n"] += 1
        debtor = make_debtor(amount=amount, due=date(2026, 10, 1))
        fields = {
            "debtor": debtor,
            "iban": IBANS[n % len(IBANS)],
            "account_holder": holder or debtor.name,
            "signed_on": timezone.localdate() - timedelta(days=3),
            "signed_via": "portal",
        }
        fields.update(over)
        return mandate_create(**fields)

    return make


def statement_entry(creditor, *, amount_cents, booking_date=MONDAY, **fields) -> StatementEntry:
    """An unsaved statement entry, as the statement import hands it over."""
    statement = Statement(
        creditor=creditor,
        status="imported",
        file_format="camt.053.001.02",
        file_name="test.xml",
        file_sha256="0" * 64,
        account_iban=CREDITOR_IBAN,
    )
    return StatementEntry(
        creditor=creditor,
        statement=statement,
        key=f"k-{amount_cents}-{fields.get('end_to_end_id', '')}-{fields.get('remittance', '')}",
        booking_date=booking_date,
        amount_cents=amount_cents,
        status="unmatched",
        **fields,
    )


def entry_save(entry: StatementEntry) -> StatementEntry:
    """Save an entry as the statement import does afterwards (its statement first)."""
    statement = entry.statement
    if statement.pk is None:
        statement.save()
        entry.statement = statement
    entry.save()
    return entry
