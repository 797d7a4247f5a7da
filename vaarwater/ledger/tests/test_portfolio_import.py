"""A generated portfolio imports cleanly, keeps the books balanced, and re-imports as a no-op."""

from datetime import date

import pytest
from django.db.models import Sum

from vaarwater.ledger.generator import generate_portfolio
from vaarwater.ledger.importing import csv_import
from vaarwater.ledger.models import Allocation, Debtor, Invoice, LedgerEntry, Payment
from vaarwater.ledger.selectors import debtor_positions

pytestmark = pytest.mark.django_db


def total(qs):
    return qs.aggregate(s=Sum("amount_cents"))["s"] or 0


def test_generated_portfolio_round_trip(creditor, tmp_path):
    """Import debtors, invoices, payments: every euro is accounted for, twice over."""
    counts = generate_portfolio(debtors=150, seed=11, as_of=date(2026, 11, 1), out=tmp_path)
    for kind in ("debtors", "invoices", "payments"):
        result = csv_import(
            kind=kind, path=tmp_path / f"{kind}.csv", creditor=creditor, batch_size=500
        )
        assert result.created == counts[kind]
        assert result.rejected == 0
    invoiced = total(Invoice.objects.all())
    paid = total(Payment.objects.all())
    assert total(LedgerEntry.objects.all()) == invoiced - paid
    positions = debtor_positions(Debtor.objects.values_list("id", flat=True))
    assert sum(p.balance for p in positions.values()) == invoiced - paid
    assert total(Allocation.objects.all()) + sum(p.credit for p in positions.values()) == paid
    for position in positions.values():
        assert position.credit >= 0
        assert all(min(i.costs, i.interest, i.principal) >= 0 for i in position.items.values())
    # Some households are behind, some paid ahead: the mix is visible in the books.
    assert sum(1 for p in positions.values() if p.balance > 0) > 0

    before = {
        m.__name__: m.objects.count() for m in (Debtor, Invoice, Payment, LedgerEntry, Allocation)
    }
    for kind in ("debtors", "invoices", "payments"):
        result = csv_import(kind=kind, path=tmp_path / f"{kind}.csv", creditor=creditor)
        assert (result.created, result.updated) == (0, 0)
    after = {
        m.__name__: m.objects.count() for m in (Debtor, Invoice, Payment, LedgerEntry, Allocation)
    }
    assert after == before
