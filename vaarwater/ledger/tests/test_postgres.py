"""PostgreSQL-only paths: COPY bulk inserts and sequence-reserved ids."""

import pytest
from django.db import connection

from vaarwater.conftest import DEBTOR_HEADER, INVOICE_HEADER, debtor_row, invoice_row
from vaarwater.ledger.importing import csv_import
from vaarwater.ledger.models import Debtor, Invoice, LedgerEntry
from vaarwater.ledger.services import invoice_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_runs_on_postgresql():
    """This pass really talks to a PostgreSQL server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_copy_import_and_ids_stay_consistent(creditor, write_csv):
    """Rows written with COPY and reserved ids coexist with ORM-created rows."""
    debtors = write_csv("d.csv", [DEBTOR_HEADER] + [debtor_row(f"D{i}") for i in range(20)])
    csv_import(kind="debtors", path=debtors, creditor=creditor, batch_size=7)
    invoices = write_csv(
        "i.csv",
        [INVOICE_HEADER]
        + [invoice_row(f"F{i}", debtor=f"D{i}", contract_external_id=f"C{i}") for i in range(20)],
    )
    csv_import(kind="invoices", path=invoices, creditor=creditor, batch_size=7)
    d0 = Debtor.objects.get(external_id="D0")
    extra = invoice_create(
        debtor=d0,
        external_id="F-ORM",
        issue_date=d0.created_at.date(),
        due_date=d0.created_at.date(),
        amount_cents=100,
    )
    assert extra.pk > max(Invoice.objects.exclude(pk=extra.pk).values_list("pk", flat=True))
    assert LedgerEntry.objects.filter(kind="invoice").count() == 21


def test_copy_keeps_special_characters(creditor, write_csv):
    """Backslashes, tabs, newlines and non-ASCII text survive the COPY path unchanged."""
    text = 'Termijn\t"okt"\\nov\nregel 2 — café ✓'
    debtors = write_csv("d.csv", [DEBTOR_HEADER, debtor_row("D1", name="Zoë \\ d'Ancona")])
    csv_import(kind="debtors", path=debtors, creditor=creditor)
    invoices = write_csv("i.csv", [INVOICE_HEADER, invoice_row("F1", description=text)])
    csv_import(kind="invoices", path=invoices, creditor=creditor)
    assert Debtor.objects.get().name == "Zoë \\ d'Ancona"
    assert Invoice.objects.get().description == text.strip()
    assert LedgerEntry.objects.get().description == text.strip()
