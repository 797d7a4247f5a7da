"""The fast row parsers accept exactly what the detailed parsers accept, with equal values."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaarwater.ledger.formats import INVOICE_COLUMNS, PAYMENT_COLUMNS
from vaarwater.ledger.importing import (
    RowError,
    fast_invoice,
    fast_payment,
    parse_invoice,
    parse_payment,
)

ids = st.one_of(st.sampled_from(["F1", "D0000001", " F-2 ", "", "a b", "x" * 65]), st.text())
dates = st.one_of(
    st.sampled_from(["2026-09-01", "2026-02-30", "2026-9-1", " 2026-09-15", "٢٠٢٦-٠٩-٠١"]),
    st.dates().map(str),
    st.text(max_size=12),
)
amounts = st.one_of(
    st.sampled_from(
        [
            "120,50",
            "120.5",
            "1.234,56",
            "0,00",
            "1,234.56",
            "12.345",
            "+5",
            "٥",
            "999999999999,99",
            "1e3",
            " 7 ",
            "-1",
            "12,",
        ]
    ),
    st.decimals(min_value=-10, max_value=10**10, places=2).map(str),
    st.text(max_size=8),
)
texts = st.one_of(st.text(max_size=30), st.sampled_from(["x" * 501, "a\x00b", " ok "]))


def outcome(parse, raw, index):
    try:
        return parse(raw, index)
    except RowError as exc:
        return ("error", exc.problems)


@given(ext=ids, debtor=ids, contract=ids, issue=dates, due=dates, amount=amounts, text=texts)
def test_fast_invoice_agrees(ext, debtor, contract, issue, due, amount, text):
    """fast_invoice and parse_invoice give the same record or the same problems."""
    raw = [ext, debtor, contract, issue, due, amount, text]
    index = {c: i for i, c in enumerate(INVOICE_COLUMNS)}
    assert outcome(fast_invoice, raw, index) == outcome(parse_invoice, raw, index)


@given(ext=ids, debtor=ids, day=dates, amount=amounts, text=texts)
def test_fast_payment_agrees(ext, debtor, day, amount, text):
    """fast_payment and parse_payment give the same record or the same problems."""
    raw = [ext, debtor, day, amount, text]
    index = {c: i for i, c in enumerate(PAYMENT_COLUMNS)}
    assert outcome(fast_payment, raw, index) == outcome(parse_payment, raw, index)


@pytest.mark.parametrize("amount", ["٥", "١٢,٥٠"])
def test_non_ascii_digits_are_refused(amount):
    """Only ASCII digits count as an amount."""
    index = {c: i for i, c in enumerate(PAYMENT_COLUMNS)}
    with pytest.raises(RowError, match="not a number"):
        fast_payment(["P1", "D1", "2026-01-01", amount, ""], index)
