"""CSV import: happy path, idempotency, updates with events, and nonsense with clear errors."""

import pytest
from django.core.management import CommandError, call_command

from vaarwater.conftest import (
    DEBTOR_HEADER,
    INVOICE_HEADER,
    PAYMENT_HEADER,
    debtor_row,
    invoice_row,
    payment_row,
)
from vaarwater.core.models import Event
from vaarwater.ledger.importing import ImportFailed, csv_import
from vaarwater.ledger.models import (
    Allocation,
    ContactPoint,
    Contract,
    Debtor,
    ImportRun,
    Invoice,
    LedgerEntry,
    Payment,
)
from vaarwater.ledger.selectors import debtor_balance, debtor_position

pytestmark = pytest.mark.django_db


def snapshot():
    """Row counts of every table an import may touch."""
    return {
        m.__name__: m.objects.count()
        for m in (
            Debtor,
            ContactPoint,
            Contract,
            Invoice,
            Payment,
            LedgerEntry,
            Allocation,
            Event,
            ImportRun,
        )
    }


def run(kind, path, *extra):
    """Run the real management command; return (returncode, stderr lines)."""
    import io

    err = io.StringIO()
    try:
        call_command(
            "import",
            kind,
            str(path),
            "--creditor",
            "ENERGIE",
            *extra,
            stderr=err,
            stdout=io.StringIO(),
        )
    except CommandError as exc:
        return exc.returncode, err.getvalue().splitlines()
    return 0, err.getvalue().splitlines()


@pytest.fixture
def loaded(creditor, write_csv):
    """Two debtors with invoices imported."""
    debtors = write_csv(
        "debtors.csv",
        [
            DEBTOR_HEADER,
            debtor_row("D1"),
            debtor_row("D2", name="Anna Bakker", email="", phone="+31 6 1234 5679", iban=""),
        ],
    )
    invoices = write_csv(
        "invoices.csv",
        [
            INVOICE_HEADER,
            invoice_row("F1"),
            invoice_row("F2", due_date="2026-10-15", issue_date="2026-10-01"),
            invoice_row("F3", debtor="D2", contract_external_id=""),
        ],
        delimiter=",",
    )
    assert run("debtors", debtors)[0] == 0
    assert run("invoices", invoices)[0] == 0
    return creditor


def test_import_creates_normalised_records(loaded):
    """Debtors are stored normalised (postcode, E.164 phone, IBAN); invoices book principal."""
    d1 = Debtor.objects.get(external_id="D1")
    assert d1.postcode == "1234AB"
    assert d1.iban == "NL91ABNA0417164300"
    assert set(d1.contact_points.values_list("kind", "value")) == {
        ("email", "jan@example.nl"),
        ("phone", "+31612345678"),
    }
    assert debtor_balance(d1) == 2 * 12050
    assert Contract.objects.get(external_id="C1").debtor == d1
    assert Invoice.objects.get(external_id="F3").contract is None


def test_same_file_again_changes_nothing(loaded, write_csv):
    """Importing the same files again leaves every table exactly as it was."""
    before = snapshot()
    debtors = write_csv(
        "debtors.csv",
        [
            DEBTOR_HEADER,
            debtor_row("D1"),
            debtor_row("D2", name="Anna Bakker", email="", phone="+31 6 1234 5679", iban=""),
        ],
    )
    assert run("debtors", debtors)[0] == 0
    assert snapshot() == before


def test_changed_row_updates_and_writes_event(loaded, write_csv):
    """A changed debtor row updates the record and records what changed."""
    path = write_csv("debtors2.csv", [DEBTOR_HEADER, debtor_row("D1", city="Amersfoort")])
    assert run("debtors", path)[0] == 0
    assert Debtor.objects.get(external_id="D1").city == "Amersfoort"
    event = Event.objects.get(verb="debtor.changed")
    assert event.data["changed"] == {"city": ["Utrecht", "Amersfoort"]}
    assert event.debtor.external_id == "D1"


def test_changed_invoice_amount_rebooks_with_reversal(loaded, write_csv):
    """A changed invoice amount reverses the old principal and books the new one."""
    path = write_csv("inv2.csv", [INVOICE_HEADER, invoice_row("F1", amount="100.00")])
    assert run("invoices", path)[0] == 0
    d1 = Debtor.objects.get(external_id="D1")
    assert debtor_balance(d1) == 10000 + 12050
    kinds = list(
        LedgerEntry.objects.filter(invoice__external_id="F1").values_list("kind", "amount_cents")
    )
    assert kinds == [("invoice", 12050), ("reversal", -12050), ("invoice", 10000)]
    assert Event.objects.filter(verb="invoice.changed").count() == 1


def test_invoice_amount_below_paid_is_refused(loaded, write_csv):
    """An invoice cannot be lowered below what has been paid on it; nothing changes."""
    pay = write_csv("pay.csv", [PAYMENT_HEADER, payment_row("P1", amount="120,50", reference="F1")])
    assert run("payments", pay)[0] == 0
    before = snapshot()
    path = write_csv("inv2.csv", [INVOICE_HEADER, invoice_row("F1", amount="100.00")])
    code, err = run("invoices", path)
    assert code == 1
    assert err[0].endswith(
        "inv2.csv:2: amount: 100.00 is less than the 120.50 already paid on "
        "this invoice; correct the payments first"
    )
    assert snapshot() == before


def test_payments_allocate_oldest_first_and_keep_credit(loaded, write_csv):
    """Payments pay the oldest invoice first; an overpayment stays as credit."""
    path = write_csv(
        "pay.csv",
        [
            PAYMENT_HEADER,
            payment_row("P1", amount="150,00"),
            payment_row("P2", debtor="D2", amount="200.00"),
        ],
    )
    assert run("payments", path)[0] == 0
    d1, d2 = Debtor.objects.get(external_id="D1"), Debtor.objects.get(external_id="D2")
    allocations = list(
        Allocation.objects.filter(debtor=d1).values_list("invoice__external_id", "amount_cents")
    )
    assert allocations == [("F1", 12050), ("F2", 2950)]
    position = debtor_position(d2)
    assert position.credit == 20000 - 12050
    assert debtor_balance(d2) == position.balance == 12050 - 20000


def test_designated_invoice_is_paid_first(loaded, write_csv):
    """A payment whose reference is an invoice number pays that invoice first (art. 6:43)."""
    path = write_csv(
        "pay.csv", [PAYMENT_HEADER, payment_row("P1", amount="120,50", reference="f2")]
    )
    assert run("payments", path)[0] == 0
    assert list(Allocation.objects.values_list("invoice__external_id", "amount_cents")) == [
        ("F2", 12050)
    ]


def test_credit_is_applied_to_later_invoices(loaded, write_csv):
    """Credit from an overpayment pays an invoice imported later."""
    pay = write_csv("pay.csv", [PAYMENT_HEADER, payment_row("P1", debtor="D2", amount="200")])
    run("payments", pay)
    inv = write_csv(
        "inv.csv",
        [INVOICE_HEADER, invoice_row("F9", debtor="D2", contract_external_id="", amount="50")],
    )
    assert run("invoices", inv)[0] == 0
    d2 = Debtor.objects.get(external_id="D2")
    position = debtor_position(d2)
    assert position.credit == 20000 - 12050 - 5000
    assert not position.items


@pytest.mark.parametrize(
    ("name", "rows_or_raw", "expected"),
    [
        (
            "wrong delimiter",
            b"external_id|name|street\nD1|x|y\n",
            ["1: -: no ';', ',' or tab between the column names in the header row"],
        ),
        (
            "missing column",
            [DEBTOR_HEADER[:-1], debtor_row()[:-1]],
            ["1: language: missing column"],
        ),
        (
            "unknown column",
            [DEBTOR_HEADER + ["bsn"], debtor_row() + ["123"]],
            ["1: bsn: unknown column"],
        ),
        (
            "bad IBAN",
            [DEBTOR_HEADER, debtor_row(iban="NL91ABNA0417164301")],
            ["2: iban: invalid IBAN 'NL91ABNA0417164301'"],
        ),
        (
            "bad postcode",
            [DEBTOR_HEADER, debtor_row(postcode="123 AB")],
            ["2: postcode: '123 AB' is not a Dutch postcode"],
        ),
        (
            "bad phone",
            [DEBTOR_HEADER, debtor_row(phone="12345")],
            ["2: phone: '12345' is not a valid phone number"],
        ),
        (
            "bad email and payday",
            [DEBTOR_HEADER, debtor_row(email="x@", payday_day="0")],
            [
                "2: email: 'x@' is not an email address",
                "2: payday_day: '0': expected a day of the month",
            ],
        ),
        (
            "duplicate ids",
            [DEBTOR_HEADER, debtor_row("D1"), debtor_row("D2"), debtor_row("D1")],
            ["4: external_id: duplicate 'D1' (first on line 2)"],
        ),
        ("empty file", b"", ["1: -: the file is empty; expected a header row"]),
        (
            "header only",
            "\n".join([";".join(DEBTOR_HEADER)]).encode() + b"\n",
            ["2: -: no data rows after the header"],
        ),
        (
            "non-UTF-8",
            (";".join(DEBTOR_HEADER) + "\nD1;J\xe9r\xf4me;a;1;1234AB;X;;;;;nl\n").encode("latin-1"),
            ["2: -: not UTF-8 text (byte 0xe9 at position 5)"],
        ),
        (
            "huge field",
            (
                ";".join(DEBTOR_HEADER) + "\nD1;" + "x" * 2_000_000 + ";a;1;1234AB;X;;;;;nl\n"
            ).encode(),
            ["2: -: broken CSV: a field is longer than 1000000 characters"],
        ),
        (
            "long name",
            [DEBTOR_HEADER, debtor_row(name="x" * 201)],
            ["2: name: longer than 200 characters (201)"],
        ),
        (
            "short row",
            [DEBTOR_HEADER, debtor_row()[:4]],
            ["2: -: expected 11 fields separated by ';', found 4"],
        ),
        (
            "unclosed quote",
            (";".join(DEBTOR_HEADER) + '\nD1;"Jan;a;1;1234AB;X;;;;;nl\n').encode(),
            ["broken CSV"],
        ),
    ],
)
def test_debtor_nonsense_is_refused_with_clear_errors(
    creditor, write_csv, name, rows_or_raw, expected
):
    """Each kind of nonsense exits 1 with FILE:LINE: column: reason and imports nothing."""
    if isinstance(rows_or_raw, bytes):
        path = write_csv("debtors.csv", None, raw=rows_or_raw)
    else:
        path = write_csv("debtors.csv", rows_or_raw)
    before = snapshot()
    code, err = run("debtors", path)
    assert code == 1, name
    assert len(err) == len(expected), err
    for line, want in zip(err, expected, strict=True):
        assert line.startswith(f"{path}:"), line
        assert want in line, (want, line)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (invoice_row(issue_date="2026-02-30"), "2: issue_date: '2026-02-30' is not a real date"),
        (
            invoice_row(due_date="15-09-2026"),
            "2: due_date: '15-09-2026' is not a date in the form YYYY-MM-DD",
        ),
        (invoice_row(amount="-5,00"), "2: amount: '-5,00': must be more than zero"),
        (invoice_row(amount="0"), "2: amount: '0': must be more than zero"),
        (invoice_row(amount="12.345"), "2: amount: '12.345': more than two decimals"),
        (invoice_row(amount="twelve"), "2: amount: 'twelve': not a number"),
        (invoice_row(amount="NaN"), "2: amount: 'NaN': not a number"),
        (invoice_row(amount="1,234.56"), "2: amount: '1,234.56': not a number"),
        (
            invoice_row(amount="99999999999999999999"),
            "2: amount: '99999999999999999999': more than € 1,000,000,000",
        ),
        (
            invoice_row(debtor="NOBODY"),
            "2: debtor_external_id: unknown debtor 'NOBODY' (import debtors first)",
        ),
        (
            invoice_row(due_date="2026-08-01"),
            "2: due_date: 2026-08-01 is before the issue date 2026-09-01",
        ),
    ],
)
def test_invoice_nonsense_is_refused(loaded, write_csv, row, expected):
    """Bad invoice rows are reported with line and column, and the database is unchanged."""
    path = write_csv("bad.csv", [INVOICE_HEADER, invoice_row("F8", amount="1,00"), row])
    before = snapshot()
    code, err = run("invoices", path)
    assert code == 1
    assert [line.split(":", 1)[1].strip() for line in err] == [expected.replace("2:", "3:", 1)]
    assert snapshot() == before


def test_payment_nonsense_is_refused(loaded, write_csv):
    """Bad payments: unknown debtor, three decimals, duplicate id — all reported, none booked."""
    path = write_csv(
        "pay.csv",
        [
            PAYMENT_HEADER,
            payment_row("P1", debtor="DX"),
            payment_row("P2", amount="1.001"),
            payment_row("P2"),
        ],
    )
    before = snapshot()
    code, err = run("payments", path)
    assert code == 1
    assert [e.split(":", 1)[1] for e in err] == [
        "3: amount: '1.001': more than two decimals",
        "4: external_id: duplicate 'P2' (first on line 3)",
        "2: debtor_external_id: unknown debtor 'DX' (import debtors first)",
    ]
    assert snapshot() == before


def test_skip_invalid_imports_valid_rows_and_writes_rejects(creditor, write_csv):
    """--skip-invalid imports the valid rows and writes the invalid ones with reasons."""
    path = write_csv(
        "debtors.csv",
        [DEBTOR_HEADER, debtor_row("D1"), debtor_row("D2", iban="NL00XXXX"), debtor_row("D3")],
    )
    code, err = run("debtors", path, "--skip-invalid")
    assert code == 0
    assert sorted(Debtor.objects.values_list("external_id", flat=True)) == ["D1", "D3"]
    rejected = path.with_name("debtors.csv.rejected.csv").read_text().splitlines()
    assert rejected[0] == "line;" + ";".join(DEBTOR_HEADER) + ";reason"
    assert rejected[1].startswith("3;D2;")
    assert "iban: invalid IBAN 'NL00XXXX'" in rejected[1]
    assert len(rejected) == 2


def test_skip_invalid_still_refuses_an_unreadable_header(creditor, write_csv):
    """A file whose header is wrong is refused even with --skip-invalid."""
    path = write_csv("debtors.csv", [DEBTOR_HEADER[:3], ["D1", "x", "y"]])
    assert run("debtors", path, "--skip-invalid")[0] == 1
    assert Debtor.objects.count() == 0


def test_bom_comma_delimiter_and_decimal_point(creditor, write_csv):
    """A UTF-8 BOM, comma delimiter and a decimal point are all understood."""
    text = "\ufeff" + ",".join(DEBTOR_HEADER) + "\n" + ",".join(debtor_row("D1")) + "\n"
    path = write_csv("debtors.csv", None, raw=text.encode())
    assert run("debtors", path)[0] == 0
    inv = write_csv(
        "inv.csv",
        [INVOICE_HEADER, invoice_row(amount="1234.56"), invoice_row("F2", amount="1.234,56")],
        delimiter=",",
    )
    assert run("invoices", inv)[0] == 0
    assert sorted(Invoice.objects.values_list("amount_cents", flat=True)) == [123456, 123456]


def test_unknown_creditor_and_missing_file(creditor, tmp_path):
    """A clear error for an unknown creditor code and for a file that does not exist."""
    with pytest.raises(CommandError, match="no such file"):
        call_command("import", "debtors", str(tmp_path / "nope.csv"), "--creditor", "ENERGIE")
    path = tmp_path / "x.csv"
    path.write_text("a;b\n")
    with pytest.raises(CommandError, match="creditor 'NOPE' does not exist"):
        call_command("import", "debtors", str(path), "--creditor", "NOPE")


def test_import_is_scoped_to_creditor(loaded, other_creditor, write_csv):
    """The same customer number at another creditor is another debtor."""
    path = write_csv("debtors.csv", [DEBTOR_HEADER, debtor_row("D1")])
    result = csv_import(kind="debtors", path=path, creditor=other_creditor)
    assert result.created == 1
    assert Debtor.objects.filter(external_id="D1").count() == 2
    inv = write_csv("inv.csv", [INVOICE_HEADER, invoice_row("F3", debtor="D2")])
    with pytest.raises(ImportFailed):
        csv_import(kind="invoices", path=inv, creditor=other_creditor)


def test_small_batches_give_the_same_result(creditor, write_csv):
    """Chunked writing (batch size 2) imports every row exactly once."""
    path = write_csv("debtors.csv", [DEBTOR_HEADER] + [debtor_row(f"D{i}") for i in range(7)])
    result = csv_import(kind="debtors", path=path, creditor=creditor, batch_size=2)
    assert result.created == 7 == Debtor.objects.count()
    assert ContactPoint.objects.count() == 14


def test_celery_task_imports_and_reports_problems(creditor, write_csv):
    """The worker task imports a file, and reports the same problems the command prints."""
    from vaarwater.ledger.tasks import import_file

    good = write_csv("debtors.csv", [DEBTOR_HEADER, debtor_row("D1")])
    done = import_file.delay(kind="debtors", path=str(good), creditor_code="ENERGIE").get()
    assert done["ok"] and done["created"] == 1
    bad = write_csv("bad.csv", [DEBTOR_HEADER, debtor_row("D2", postcode="x")])
    done = import_file.delay(kind="debtors", path=str(bad), creditor_code="ENERGIE").get()
    assert not done["ok"]
    assert done["problems"] == [f"{bad}:2: postcode: 'x' is not a Dutch postcode (1234 AB)"]


def test_crlf_and_utf16(creditor, write_csv):
    """Windows line endings import; a UTF-16 export is refused on line 1 as not UTF-8."""
    text = ";".join(DEBTOR_HEADER) + "\r\n" + ";".join(debtor_row("D1")) + "\r\n"
    assert run("debtors", write_csv("crlf.csv", None, raw=text.encode()))[0] == 0
    assert Debtor.objects.get().city == "Utrecht"
    code, err = run("debtors", write_csv("u16.csv", None, raw=text.encode("utf-16")))
    assert code == 1
    assert err[0].split(":", 1)[1].startswith("1: -: not UTF-8 text")
