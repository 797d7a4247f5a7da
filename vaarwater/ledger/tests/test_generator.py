"""Tests for the synthetic portfolio generator and the ``generate`` command."""

import csv
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from schwifty import IBAN

from vaarwater.ledger.generator import (
    DEBTOR_HEADER,
    INVOICE_HEADER,
    PAYMENT_HEADER,
    generate_portfolio,
)

AS_OF = date(2026, 11, 23)
N = 2_000
FILES = ("debtors", "invoices", "payments")
AMOUNT_RE = re.compile(r"^\d+,\d{2}$")
POSTCODE_RE = re.compile(r"^[1-9]\d{3}(?:[A-Z]{2}| [a-z]{2})$")


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("portfolio")
    counts = generate_portfolio(debtors=N, seed=11, as_of=AS_OF, out=out)
    return out, counts


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _cents(amount: str) -> int:
    return int(amount.replace(",", ""))


def test_same_seed_writes_same_bytes(tmp_path):
    """Two runs with the same seed and as-of date write byte-identical files."""
    for run in ("a", "b"):
        generate_portfolio(debtors=300, seed=5, as_of=AS_OF, out=tmp_path / run)
    for name in FILES:
        first = (tmp_path / "a" / f"{name}.csv").read_bytes()
        assert first == (tmp_path / "b" / f"{name}.csv").read_bytes()


def test_other_seed_writes_other_bytes(tmp_path):
    """A different seed writes different debtors, invoices and payments."""
    generate_portfolio(debtors=300, seed=5, as_of=AS_OF, out=tmp_path / "a")
    generate_portfolio(debtors=300, seed=6, as_of=AS_OF, out=tmp_path / "b")
    for name in FILES:
        first = (tmp_path / "a" / f"{name}.csv").read_bytes()
        assert first != (tmp_path / "b" / f"{name}.csv").read_bytes()


def test_headers_are_exactly_the_import_columns(portfolio):
    """Each file starts with the import header, in order, and every row has that many fields."""
    out, _ = portfolio
    for name, header in zip(FILES, (DEBTOR_HEADER, INVOICE_HEADER, PAYMENT_HEADER), strict=True):
        lines = (out / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == ";".join(header)
        with open(out / f"{name}.csv", encoding="utf-8", newline="") as f:
            assert {len(row) for row in csv.reader(f, delimiter=";")} == {len(header)}
    assert list(DEBTOR_HEADER) == [
        "external_id",
        "name",
        "street",
        "house_number",
        "postcode",
        "city",
        "email",
        "phone",
        "iban",
        "payday_day",
        "language",
        "payday_cycle",
        "payday_anchor",
    ]
    assert list(INVOICE_HEADER) == [
        "external_id",
        "debtor_external_id",
        "contract_external_id",
        "issue_date",
        "due_date",
        "amount",
        "description",
    ]
    assert list(PAYMENT_HEADER) == [
        "external_id",
        "debtor_external_id",
        "date",
        "amount",
        "reference",
    ]


def test_files_are_utf8_without_bom_with_newlines(portfolio):
    """Files are UTF-8 without a byte-order mark and end lines with a bare newline."""
    out, _ = portfolio
    for name in FILES:
        data = (out / f"{name}.csv").read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
        assert data.endswith(b"\n")
        data.decode("utf-8")


def test_returned_counts_match_the_files(portfolio):
    """The returned row counts are the data rows in each file; twelve invoices per debtor."""
    out, counts = portfolio
    assert counts == {name: len(_rows(out, name)) for name in FILES}
    assert counts["debtors"] == N
    assert counts["invoices"] == 12 * N


def test_every_iban_is_a_valid_dutch_iban(portfolio):
    """Every IBAN is a Dutch IBAN that schwifty accepts, at one of the common banks."""
    out, _ = portfolio
    banks = Counter()
    for row in _rows(out, "debtors"):
        iban = IBAN(row["iban"])
        assert iban.country_code == "NL"
        assert iban.compact == row["iban"]
        banks[iban.bank_code] += 1
    assert set(banks) <= {"INGB", "RABO", "ABNA", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ"}
    assert len(banks) >= 6


def test_every_phone_is_a_valid_dutch_number(portfolio):
    """Every phone parses as a valid Dutch number; most are mobile, a few landline or empty."""
    out, _ = portfolio
    kinds = Counter()
    for row in _rows(out, "debtors"):
        if not row["phone"]:
            kinds["empty"] += 1
            continue
        number = phonenumbers.parse(row["phone"], "NL")
        assert phonenumbers.is_valid_number(number), row["phone"]
        assert phonenumbers.region_code_for_number(number) == "NL"
        kinds[phonenumbers.number_type(number)] += 1
    assert kinds[phonenumbers.PhoneNumberType.MOBILE] > 0.85 * N
    assert 0.01 * N < kinds[phonenumbers.PhoneNumberType.FIXED_LINE] < 0.06 * N
    assert 0.01 * N < kinds["empty"] < 0.06 * N


def test_emails_mix_current_missing_and_outdated(portfolio):
    """About 5% have no email and about 7% an outdated address under the .example TLD."""
    out, _ = portfolio
    emails = [row["email"] for row in _rows(out, "debtors")]
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9.]+\.[a-z]+", e) for e in emails if e)
    assert 0.02 * N < emails.count("") < 0.09 * N
    assert 0.04 * N < sum(e.endswith(".example") for e in emails) < 0.11 * N


def test_postcodes_are_dutch(portfolio):
    """Postcodes are 1000-9999 plus two letters (never SA, SD, SS), mostly written 1234AB."""
    out, _ = portfolio
    postcodes = [row["postcode"] for row in _rows(out, "debtors")]
    for postcode in postcodes:
        assert POSTCODE_RE.match(postcode), postcode
        assert postcode[-2:].upper() not in {"SA", "SD", "SS"}
    compact = sum(" " not in p for p in postcodes)
    assert 0.75 * N < compact < N


def test_debtor_fields_are_well_formed(portfolio):
    """House numbers, paydays, languages and four-weekly anchors follow the import format."""
    out, _ = portfolio
    rows = _rows(out, "debtors")
    for row in rows:
        assert re.fullmatch(r"D\d{7}", row["external_id"])
        assert row["name"] and row["street"] and row["city"]
        assert re.fullmatch(r"[1-9]\d*(?:[A-D]|-\d)?", row["house_number"])
        assert row["language"] in {"nl", "en"}
        if row["payday_cycle"] == "four_weekly":
            assert row["payday_day"] == ""
            assert date.fromisoformat(row["payday_anchor"]) <= AS_OF
        else:
            assert row["payday_cycle"] == "monthly"
            assert row["payday_anchor"] == ""
            assert row["payday_day"] == "" or 1 <= int(row["payday_day"]) <= 31
    paydays = Counter(row["payday_day"] for row in rows)
    assert 0.38 * N < paydays["25"] < 0.52 * N
    assert 0.14 * N < paydays["1"] < 0.26 * N
    assert 0.02 * N < sum(row["language"] == "en" for row in rows) < 0.12 * N


def test_amounts_use_a_decimal_comma_and_are_positive(portfolio):
    """Every amount has a decimal comma and two decimals and is above zero."""
    out, _ = portfolio
    for name in ("invoices", "payments"):
        for row in _rows(out, name):
            assert AMOUNT_RE.match(row["amount"]), row["amount"]
            assert _cents(row["amount"]) > 0


def test_advances_stay_between_60_and_260_euros(portfolio):
    """Monthly advances stay within 60-260 euros; a few invoices are yearly settlements."""
    out, _ = portfolio
    invoices = _rows(out, "invoices")
    advances = [r for r in invoices if r["description"].startswith("Termijnbedrag energie ")]
    assert all(6_000 <= _cents(r["amount"]) <= 26_000 for r in advances)
    settlements = [r for r in invoices if r["description"].startswith("Jaarafrekening")]
    assert len(advances) + len(settlements) == len(invoices)
    assert 0.05 * N < len(settlements) < 0.25 * N


def test_no_date_lies_after_as_of(portfolio):
    """Issue and payment dates never lie after as-of; invoices fall due 14 days after issue."""
    out, _ = portfolio
    for row in _rows(out, "invoices"):
        issue = date.fromisoformat(row["issue_date"])
        assert issue <= AS_OF
        assert date.fromisoformat(row["due_date"]) == issue + timedelta(days=14)
    for row in _rows(out, "payments"):
        assert date.fromisoformat(row["date"]) <= AS_OF


def test_invoices_are_twelve_consecutive_months_per_debtor(portfolio):
    """Each debtor has one contract and twelve monthly invoices ending at or before as-of."""
    out, _ = portfolio
    by_debtor = defaultdict(list)
    for row in _rows(out, "invoices"):
        by_debtor[row["debtor_external_id"]].append(row)
        assert row["contract_external_id"] == "C" + row["debtor_external_id"][1:]
        assert re.fullmatch(r"F\d{7}-\d{4}-\d{2}", row["external_id"])
    for rows in by_debtor.values():
        issues = [date.fromisoformat(r["issue_date"]) for r in rows]
        assert len({(d.year, d.month) for d in issues}) == 12
        assert (AS_OF - max(issues)).days < 31


def test_every_reference_points_to_an_existing_debtor(portfolio):
    """Every invoice and payment belongs to a debtor in debtors.csv."""
    out, _ = portfolio
    debtor_ids = {row["external_id"] for row in _rows(out, "debtors")}
    for name in ("invoices", "payments"):
        assert {row["debtor_external_id"] for row in _rows(out, name)} <= debtor_ids


def test_external_ids_are_unique_per_file(portfolio):
    """No external_id occurs twice within a file."""
    out, _ = portfolio
    for name in FILES:
        ids = [row["external_id"] for row in _rows(out, name)]
        assert len(ids) == len(set(ids))


def test_behaviour_mix_is_present(portfolio):
    """Most pay on time, yet some pay late, partly, in one go for two invoices, or not at all."""
    out, _ = portfolio
    invoices = {row["external_id"]: row for row in _rows(out, "invoices")}
    payments = _rows(out, "payments")
    paid = defaultdict(int)
    late = on_time = 0
    for row in payments:
        invoice = invoices.get(row["reference"])
        if invoice is None:
            continue
        paid[row["reference"]] += _cents(row["amount"])
        if row["date"] > invoice["due_date"]:
            late += 1
        else:
            on_time += 1
    assert on_time > 0.7 * len(payments)
    assert 0.03 * len(payments) < late < 0.2 * len(payments)
    # Per debtor, compare what has fallen due with everything paid so far.
    owed, received = defaultdict(int), defaultdict(int)
    for row in invoices.values():
        if row["due_date"] < AS_OF.isoformat():
            owed[row["debtor_external_id"]] += _cents(row["amount"])
    for row in payments:
        received[row["debtor_external_id"]] += _cents(row["amount"])
    in_arrears = [d for d in owed if received[d] < owed[d]]
    assert 0.05 * N < len(in_arrears) < 0.30 * N
    assert any(r["reference"] and r["reference"] not in invoices for r in payments)  # free text
    assert any(r["reference"] == "" for r in payments)
    partial = sum(0 < paid[i] < _cents(inv["amount"]) for i, inv in invoices.items())
    assert partial > 0
    combined = [
        r
        for r in payments
        if r["reference"] in invoices
        and _cents(r["amount"]) > _cents(invoices[r["reference"]]["amount"])
    ]
    assert combined
    cycles = Counter(row["payday_cycle"] for row in _rows(out, "debtors"))
    assert 0.10 * N < cycles["four_weekly"] < 0.20 * N


def test_rejects_zero_debtors(tmp_path):
    """Asking for no debtors is an error, not an empty portfolio."""
    with pytest.raises(ValueError):
        generate_portfolio(debtors=0, seed=1, as_of=AS_OF, out=tmp_path)


def test_command_writes_the_three_files(tmp_path, capsys):
    """``generate`` creates the output directory and reports each file with its row count."""
    out = tmp_path / "new" / "dir"
    call_command(
        "generate", "--debtors", "20", "--seed", "3", "--as-of", "2026-01-31", "--out", str(out)
    )
    printed = capsys.readouterr().out
    for name, rows in (("debtors", 20), ("invoices", 240)):
        assert f"{out / f'{name}.csv'}: {rows} rows" in printed
    payments = _rows(out, "payments")
    assert f"{out / 'payments.csv'}: {len(payments)} rows" in printed
    assert max(row["date"] for row in payments) <= "2026-01-31"
    expected = tmp_path / "direct"
    generate_portfolio(debtors=20, seed=3, as_of=date(2026, 1, 31), out=expected)
    for name in FILES:
        assert (out / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--debtors", "0"], "at least 1"),
        (["--debtors", "5", "--as-of", "2026-02-30"], "not a real date"),
        (["--debtors", "5", "--as-of", "23-11-2026"], "YYYY-MM-DD"),
    ],
)
def test_command_rejects_bad_arguments(tmp_path, args, message):
    """``generate`` refuses a debtor count below one and an invalid as-of date."""
    with pytest.raises(CommandError, match=message):
        call_command("generate", *args, "--out", str(tmp_path))
