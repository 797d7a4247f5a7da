"""Reading statement files: every test file in ../shared/testdata/bank parses (with the
amounts, dates and balances its upstream project expects), synthetic CAMT.053 .02/.04/.08
files parse, and anything else is refused with an error naming file, line, field, reason."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from vaarwater.payments.statements import StatementError, statement_parse
from vaarwater.payments.statements.mt940 import details_86
from vaarwater.payments.statements.synthetic import Stmt, Tx, camt053, mt940
from vaarwater.testing import SHARED_TESTDATA

SHARED = SHARED_TESTDATA
BANK = SHARED / "bank"
XSD = SHARED / "xsd"

needs_testdata = pytest.mark.skipif(not BANK.is_dir(), reason="../shared/testdata not here")

MT940_FILES = sorted(p.name for p in (BANK / "mt940").glob("*") if not p.name.endswith(".yml"))
CAMT_FILES = sorted(p.name for p in (BANK / "camt053").glob("*.xml"))


def parse_file(path: Path):
    return statement_parse(path.read_bytes(), file_name=path.name)


@needs_testdata
def test_every_bank_test_file_parses():
    """All 13 files: 5 CAMT.053 (.02, .04, .08) and 8 MT940 of Dutch banks."""
    files = [p for p in BANK.rglob("*") if p.is_file() and p.suffix in (".xml", ".sta", ".txt")]
    assert len(files) == 13
    for path in files:
        parsed = parse_file(path)
        assert parsed.statements, path.name
        for statement in parsed.statements:
            assert statement.account, path.name
            assert statement.opening_cents is not None and statement.closing_cents is not None


def _upstream(name: str):
    """The mt-940 project's expected parse of a file (a pickled object in YAML)."""
    yaml = pytest.importorskip("yaml")
    expected = BANK / "mt940" / name.replace(".sta", ".expected.yml")
    if not expected.exists():
        pytest.skip("no upstream expectation for this file")
    return yaml.unsafe_load(expected.read_text())  # our own test data, never user input


@needs_testdata
@pytest.mark.parametrize("name", [n for n in MT940_FILES if n.endswith(".sta")])
def test_mt940_amounts_dates_and_balances_are_what_upstream_expects(name):
    """Amounts, value and booking dates of every transaction, and the last statement's
    balances, equal the mt-940 project's expectations for the file."""
    parsed = parse_file(BANK / "mt940" / name)
    upstream = _upstream(name)
    ours = [entry for statement in parsed.statements for entry in statement.entries]
    assert len(ours) == len(upstream.transactions)
    for entry, theirs in zip(ours, upstream.transactions, strict=True):
        data = theirs.data
        assert Decimal(entry.amount_cents) / 100 == data["amount"].amount
        assert entry.value_date == data["date"]
        assert entry.booking_date == (data.get("entry_date") or data["date"])
    last = parsed.statements[-1]
    opening = upstream.data.get("final_opening_balance") or upstream.data.get(
        "intermediate_opening_balance"
    )
    closing = upstream.data.get("final_closing_balance") or upstream.data.get(
        "intermediate_closing_balance"
    )
    # The upstream parse keeps only the last statement's balances (it merges statements);
    # ABN AMRO's second statement has intermediate (M) balances, upstream keeps the final
    # ones of the first.
    balances = {s.closing_cents for s in parsed.statements}
    assert Decimal(closing.amount.amount) * 100 in balances
    assert Decimal(opening.amount.amount) * 100 in {s.opening_cents for s in parsed.statements}
    assert last.to_date is not None


@needs_testdata
def test_mt940_bank_specifics():
    """Accounts as the bank wrote them; the other party and description from :86:."""
    abn = parse_file(BANK / "mt940" / "wolph-jejik-abnamro.sta")
    assert [s.account for s in abn.statements] == ["517852257", "517852257"]
    assert (abn.statements[0].opening_cents, abn.statements[0].closing_cents) == (323628, 87684)
    assert abn.statements[0].entries[0].line == 8

    ing = parse_file(BANK / "mt940" / "wolph-jejik-ing.sta")
    assert ing.statements[0].account == "0001234567"
    # The :86: after the closing balance is statement information, not the last entry's.
    assert "D000004C" not in ing.statements[0].entries[-1].remittance

    rabo = parse_file(BANK / "mt940" / "wolph-jejik-rabobank-iban.sta")
    first = rabo.statements[0].entries[0]
    assert first.counterparty_name == "CONTRA ACCOUNT HOLDER"
    assert first.counterparty_iban == "NL70ABNA0987654321"
    assert first.end_to_end_id == "01-01-2013 12:00 0030000987654321"
    assert rabo.statements[0].entries[1].remittance == "Reference 201301234"

    old_rabo = parse_file(BANK / "mt940" / "wolph-jejik-rabobank.sta")
    assert old_rabo.statements[0].account == "1291.99.348EUR"
    assert old_rabo.statements[0].entries[0].counterparty_name == "W.P. Jansen"
    assert old_rabo.statements[3].account == "1526.89.184EUR"

    knab = parse_file(BANK / "mt940" / "wolph-jejik-knab.sta")
    entry = knab.statements[1].entries[1]
    assert (entry.counterparty_iban, entry.counterparty_name) == (
        "NL84INGB0234561789",
        "MMS ONLINE NEDERLAND B.V.",
    )
    assert entry.bank_reference == "B4G29PGDCK1QFV3E"

    triodos = parse_file(BANK / "mt940" / "wolph-jejik-triodos.sta")
    assert triodos.statements[0].account == "TRIODOSBANK/0390123456"
    assert "TOT EN MET 31-12-2010" in triodos.statements[0].entries[0].remittance

    asn = parse_file(BANK / "mt940" / "wolph-asnbank.940.txt")
    assert len(asn.statements) == 31
    credit = asn.statements[4].entries[0]
    assert credit.amount_cents == 100000
    assert (credit.counterparty_iban, credit.counterparty_name) == (
        "NL56ASNB9999999999",
        "paulissen g j l m",
    )
    assert credit.remittance == "INTERNE OVERBOEKING VIA MOBIEL"
    # A word cut at the end of a full 65-character line is joined again.
    assert "Betaling aan ICS" in asn.statements[4].entries[1].remittance

    sns = parse_file(BANK / "mt940" / "wolph-jejik-sns.sta")
    assert sns.statements[0].entries[0].counterparty_name == "marechal s"


@needs_testdata
def test_camt_test_files_amounts_balances_and_parties():
    """The genkgo files: versions from the namespace, balances, the debtor side of a credit."""
    minimal = parse_file(BANK / "camt053" / "genkgo-camt053.v2.minimal.xml")
    assert minimal.file_format == "camt.053.001.02"
    statement = minimal.statements[0]
    assert statement.account == "NL26VAYB8060476890"
    assert statement.statement_id == "253EURNL26VAYB8060476890"
    assert (statement.opening_cents, statement.closing_cents) == (1815, -2700)
    entry = statement.entries[0]
    assert entry.amount_cents == 885
    assert (entry.booking_date, entry.value_date) == (date(2014, 12, 31), date(2015, 1, 2))
    assert (entry.counterparty_name, entry.counterparty_iban) == ("NAME NAME", "NL56AGDH9619008421")
    assert entry.structured_reference == "4654654654654654"
    assert entry.line == 90

    multi = parse_file(BANK / "camt053" / "genkgo-camt053.v2.multi.statement.xml")
    assert [s.statement_id for s in multi.statements] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    debit = multi.statements[1].entries[0]
    # For a debit the other party is the creditor side.
    assert (debit.amount_cents, debit.counterparty_name) == (-700, "Company Name 2")
    assert debit.end_to_end_id == "000000002"

    balances = parse_file(BANK / "camt053" / "genkgo-camt053.v2.all-balance-types.xml")
    assert (balances.statements[0].opening_cents, balances.statements[0].closing_cents) == (
        101,
        404,
    )
    assert balances.statements[0].account == "CH2801234000123456789"

    v4 = parse_file(BANK / "camt053" / "genkgo-camt053.v4.xml")
    assert v4.file_format == "camt.053.001.04"
    assert v4.statements[0].account == "NL26VAYB8060476890"  # Othr/Id
    assert v4.statements[0].entries[0].bank_reference == "AAAASESS-FP-CN_98765/01"

    v8 = parse_file(BANK / "camt053" / "genkgo-camt053.v8.xml")
    assert v8.file_format == "camt.053.001.08"
    entry = v8.statements[0].entries[0]
    assert entry.booking_date == date(2014, 12, 31)  # from DtTm
    assert entry.counterparty_name == "NAME NAME"  # Dbtr/Pty/Nm
    assert entry.end_to_end_id == "MUELL/FINP/RA12345"


@needs_testdata
@pytest.mark.parametrize("name", CAMT_FILES)
def test_camt_test_files_validate_against_their_xsd(name):
    """The test files are valid messages of the version the parser reads them as."""
    parsed = parse_file(BANK / "camt053" / name)
    schema = etree.XMLSchema(etree.parse(str(XSD / f"{parsed.file_format}.xsd")))
    assert schema.validate(etree.parse(str(BANK / "camt053" / name))), schema.error_log


SAMPLE = Stmt(
    txs=[
        Tx(
            12050, name="Dhr. J. de Vries", iban="NL91ABNA0417164300", ustrd="Factuur F-1", e2e="E1"
        ),
        Tx(2500, name="A. Bakker", ref="RF18539007547034"),
        Tx(-995, name="Telecom BV", iban="NL39RABO0300065264", ustrd="abonnement"),
        Tx(-12050, e2e="E1", reversal=True, bank_ref="REV-1"),
    ]
)


@pytest.mark.parametrize("version", ["02", "04", "08"])
def test_synthetic_camt_versions(version):
    """The same statement in .02, .04 and .08 gives the same entries."""
    raw = camt053([SAMPLE, Stmt(statement_id="STMT-2", txs=[Tx(700, name="X")])], version=version)
    if XSD.is_dir():
        schema = etree.XMLSchema(etree.parse(str(XSD / f"camt.053.001.{version}.xsd")))
        assert schema.validate(etree.fromstring(raw)), schema.error_log
    parsed = statement_parse(raw, file_name=f"v{version}.xml")
    assert parsed.file_format == f"camt.053.001.{version}"
    first, second = parsed.statements
    assert second.statement_id == "STMT-2"
    assert first.opening_cents == 100000
    assert first.closing_cents == 100000 + 12050 + 2500 - 995 - 12050
    credit, scor, debit, reversal = first.entries
    assert (credit.amount_cents, credit.counterparty_name, credit.counterparty_iban) == (
        12050,
        "Dhr. J. de Vries",
        "NL91ABNA0417164300",
    )
    assert (credit.remittance, credit.end_to_end_id) == ("Factuur F-1", "E1")
    assert scor.structured_reference == "RF18539007547034"
    assert scor.end_to_end_id == ""  # NOTPROVIDED
    assert (debit.amount_cents, debit.counterparty_name) == (-995, "Telecom BV")
    assert reversal.reversal and reversal.bank_reference == "REV-1"


def test_synthetic_mt940():
    raw = mt940(
        [Tx(4500, name="M. JANSEN", iban="NL91ABNA0417164300", ustrd="Factuur 2026-0042", e2e="X9")]
    )
    (statement,) = statement_parse(raw, file_name="s.sta").statements
    (entry,) = statement.entries
    assert (entry.amount_cents, entry.counterparty_name, entry.counterparty_iban) == (
        4500,
        "M. JANSEN",
        "NL91ABNA0417164300",
    )
    assert (entry.remittance, entry.end_to_end_id, entry.line) == ("Factuur 2026-0042", "X9", 5)


def _refused(raw: bytes, name: str = "bad.xml") -> StatementError:
    with pytest.raises(StatementError) as caught:
        statement_parse(raw, file_name=name)
    return caught.value


@pytest.mark.parametrize(
    ("namespace", "says"),
    [
        ("camt.054.001.02", "camt.054.001.02 is a debit/credit notification, not a statement"),
        ("camt.052.001.02", "camt.052.001.02 is an intraday account report"),
        ("camt.053.001.03", "camt.053.001.03 is a version of camt.053 this importer does not"),
        ("pain.008.001.02", "pain.008.001.02 is a payment initiation message (pain)"),
    ],
)
def test_other_iso20022_messages_are_refused_by_name(namespace, says):
    raw = (
        f'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{namespace}">'
        "<X/></Document>"
    ).encode()
    error = _refused(raw)
    assert says in str(error)
    assert "supported: camt.053.001.02, .04, .08" in str(error)
    assert (error.file_name, error.line) == ("bad.xml", 2)


def test_not_a_statement_file_is_refused():
    assert "neither CAMT.053 (XML) nor MT940" in str(_refused(b"name;amount\nx;1\n", "x.csv"))
    assert "empty" in str(_refused(b"", "x.sta"))
    assert "without an ISO 20022 namespace" in str(_refused(b"<html><body/></html>"))
    assert "MT942" in str(_refused(b"{1:F01X}{2:O942X}{4:\n:20:X\n:25:Y\n-}"))


def test_bad_xml_names_the_line():
    raw = camt053([SAMPLE], version="02")
    cut = raw[: raw.index(b"<NtryDtls>") + 30]
    error = _refused(cut, "cut.xml")
    assert error.file_name == "cut.xml" and error.line and error.field == "xml"
    assert "not well-formed XML" in str(error)


def test_a_bad_amount_names_line_and_field():
    raw = camt053([SAMPLE], version="04").replace(b">120.50<", b">12,050.00<", 1)
    error = _refused(raw, "amount.xml")
    assert error.field == "Ntry/Amt" and error.line == 4
    assert str(error).startswith("amount.xml, line 4, Ntry/Amt: '12,050.00' is not an amount")


def test_a_missing_account_is_named():
    raw = camt053([SAMPLE]).replace(
        b"<Acct><Id><IBAN>NL02ABNA0123456789</IBAN></Id>", b"<Acct><Id>"
    )
    raw = raw.replace(b"<Ccy>EUR</Ccy></Acct>", b"</Id><Ccy>EUR</Ccy></Acct>", 1)
    assert "Stmt/Acct/Id" in str(_refused(raw))


def test_truncated_mt940_names_file_and_line():
    raw = mt940([Tx(4500, name="X", ustrd="y")])
    cut = raw[: raw.index(b":62F:")]
    error = _refused(cut, "cut.sta")
    assert error.file_name == "cut.sta" and error.line == 6
    assert "closing balance" in str(error)


def test_a_bad_mt940_line_names_its_line():
    raw = mt940([Tx(4500, name="X", ustrd="y")]).replace(b":61:2611021102C", b":61:26110X1102C")
    error = _refused(raw, "bad.sta")
    assert (error.line, error.field) == (5, ":61:")


def test_structured_86_subfields():
    info = details_86(
        "/TRTP/SEPA Incasso/CSID/NL00ZZZ000000000000/NAME/Stichting X/MARF/M-1/REMI/USTD//"
        "termijn 3/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/EREF/E-77/RTRN/MS03/"
    )
    assert info["name"] == "Stichting X"
    assert info["remittance"] == "termijn 3"
    assert (info["mandate_id"], info["end_to_end_id"], info["return_code"]) == (
        "M-1",
        "E-77",
        "MS03",
    )
    assert details_86("/CNTP/NL91ABNA0417164300/ABNANL2A/J Jansen/UTRECHT/REMI/x")["name"] == (
        "J Jansen"
    )


def test_external_entities_are_not_read():
    """A file that points an entity at a local file does not get that file's contents."""
    raw = camt053([Stmt(txs=[Tx(100, name="X", ustrd="PLACEHOLDER")])]).replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    )
    raw = raw.replace(b"PLACEHOLDER", b"&xxe;")
    try:
        parsed = statement_parse(raw, file_name="xxe.xml")
    except StatementError:
        return  # refusing it is fine too
    assert "root:" not in parsed.statements[0].entries[0].remittance


# -- regressions: adversarial input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("-10.00", "'-10.00' is not an amount (an amount has no sign"),
        ("1E+30", "'1E+30' is not an amount"),
        ("99999999999999999999999.99", "is too large for a bank statement amount"),
        ("9223372036854775.99", "is too large for a bank statement amount"),
    ],
)
def test_a_signed_exponent_or_huge_camt_amount_is_refused(amount, says):
    """A sign (the sign is CdtDbtInd), an exponent or an absurd size is a clear error, not a
    negative credit, a traceback or an amount beyond the database's integers."""
    raw = camt053([SAMPLE], version="02").replace(b">120.50<", f">{amount}<".encode(), 1)
    error = _refused(raw, "amount.xml")
    assert (error.file_name, error.line, error.field) == ("amount.xml", 4, "Ntry/Amt")
    assert says in str(error)


def test_a_huge_mt940_amount_is_refused():
    raw = mt940([Tx(4500, name="X", ustrd="y")]).replace(b"C45,00", b"C99999999999999,", 1)
    error = _refused(raw, "huge.sta")
    assert (error.line, error.field) == (5, ":61: amount")
    assert "too large" in str(error)


@pytest.mark.parametrize(
    ("doctype", "entity"),
    [
        ('<!DOCTYPE d [<!ENTITY x "F-2026-0001">]>', b"&x;"),
        (
            '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>',
            b"&d;",
        ),
        ('<!DOCTYPE Document SYSTEM "http://example.invalid/x.dtd">', b"gift"),
    ],
)
def test_a_doctype_is_refused(doctype, entity):
    """No entity (internal, external, nested "billion laughs") is expanded or silently dropped:
    a file with a document type declaration is refused, naming its line."""
    raw = camt053([Stmt(txs=[Tx(100, name="X", ustrd="PLACEHOLDER")])]).replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype.encode() + b"\n",
    )
    error = _refused(raw.replace(b"PLACEHOLDER", entity), "dtd.xml")
    assert (error.line, error.field) == (2, "DOCTYPE")
    assert "document type declaration" in str(error)


def test_the_upstream_expected_yaml_files_are_refused_by_name():
    error = _refused(b"&id003 !!python/object:mt940.models.Transactions\ndata: {}\n", "x.yml")
    assert "a YAML file" in str(error) and error.line == 1
    assert "gzip-compressed file: unpack it first" in str(_refused(b"\x1f\x8b\x08\x00abc"))


def test_a_utf16_camt_file_is_read():
    raw = camt053([SAMPLE]).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    parsed = statement_parse(raw.encode("utf-16"), file_name="u16.xml")
    assert parsed.statements[0].entries[0].amount_cents == 12050


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "says"),
    [
        (b":61:2611021102C", b":61:2602301102C", 5, ":61: value date", "'260230' is not a date"),
        (b":61:2611021102C", b":61:2611020230C", 5, ":61: booking date", "'0230' is not a date"),
        (b":60F:C261102", b":60F:C261341", 4, ":60F: date", "'261341' is not a date"),
    ],
)
def test_an_mt940_date_that_does_not_exist_names_its_line(old, new, line, field, says):
    raw = mt940([Tx(4500, name="X", ustrd="y")]).replace(old, new, 1)
    error = _refused(raw, "date.sta")
    assert (error.line, error.field) == (line, field)
    assert says in str(error)


def test_an_mt940_transaction_after_the_closing_balance_is_refused():
    """It would be left out silently (money lost): the file is refused instead."""
    raw = mt940([Tx(4500, name="X", ustrd="y")]) + b":61:2611021102C1,00NTRFNONREF//B9\r\n"
    error = _refused(raw, "late.sta")
    assert (error.line, error.field) == (9, ":61:")
    assert "after the closing balance" in str(error)


def test_an_mt940_amount_with_three_decimals_names_the_amount():
    raw = mt940([Tx(4500, name="X", ustrd="y")]).replace(b"C45,00", b"C45,005", 1)
    assert "'45.005' is not an amount in cents" in str(_refused(raw, "dec.sta"))


def test_a_missing_entry_amount_names_the_entry_line():
    raw = camt053([SAMPLE], version="04").replace(
        b'<Ntry><Amt Ccy="EUR">120.50</Amt>', b"<Ntry>", 1
    )
    error = _refused(raw, "noamt.xml")
    assert (error.line, error.field, error.reason) == (4, "Ntry/Amt", "missing")
