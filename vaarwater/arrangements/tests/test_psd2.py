"""Reading and analysing PSD2 (Berlin Group NextGenPSD2) transaction lists."""

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from vaarwater.arrangements.psd2 import (
    Psd2Error,
    assessment_from_psd2,
    psd2_analyse,
    psd2_read,
)
from vaarwater.core.events import Actor
from vaarwater.core.models import Event

DATA = Path(__file__).parent / "data"
ON = date(2025, 10, 2)
OWN = "NL91ABNA0417164300"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def analyse(raw, *, on=ON, source="test.json", **kwargs):
    return psd2_analyse(psd2_read(raw, source=source), on=on, **kwargs)


def tx(day, amount, name="", text="", *, iban=None, code=None, **extra):
    """A booked transaction; ``amount`` as Berlin Group writes it (a string)."""
    out = str(amount).startswith("-")
    t = {
        "transactionId": extra.pop("transaction_id", f"t-{day}-{name}-{amount}"),
        "bookingDate": day.isoformat(),
        "transactionAmount": {"currency": "EUR", "amount": str(amount)},
        ("creditorName" if out else "debtorName"): name,
        "remittanceInformationUnstructured": text,
    }
    if iban:
        t["creditorAccount" if out else "debtorAccount"] = {"iban": iban}
    if code:
        t["bankTransactionCode"] = code
    t.update(extra)
    return t


def document(booked, *, pending=(), iban=OWN):
    return {"account": {"iban": iban}, "transactions": {"booked": booked, "pending": list(pending)}}


def months_of(*days_amounts, months=((2025, 7), (2025, 8), (2025, 9))):
    """The same transactions in each month, plus edge transactions that make the months full."""
    booked = []
    for year, month in months:
        for day, amount, name, text in days_amounts:
            booked.append(tx(date(year, month, day), amount, name, text))
    first, last = months[0], months[-1]
    booked.append(tx(date(*first, 1), "-1.00", "Bakker", "brood"))
    end = date(last[0] + last[1] // 12, last[1] % 12 + 1, 1) - timedelta(days=1)
    booked.append(tx(end, "-1.00", "Bakker", "brood"))
    return json.dumps(document(booked))


# --- the samples ------------------------------------------------------------------------------


def test_salary_sample_income_costs_instalments_and_payday():
    """One account over July–September: every figure is an average over three full months."""
    summary = analyse(sample("psd2-salary.json"), source="psd2-salary.json")
    assert summary.months == ("2025-07", "2025-08", "2025-09")
    # Salary 2,450.00 + 2,450.00 + 2,475.10 = 7,375.10 / 3 = 2,458.37; zorgtoeslag 123.00.
    assert summary.net_income_cents == 245837 + 12300
    # Rent 812.50, Vattenfall 145.00, CZ 148.95, KPN 55.00, municipal taxes 38.20.
    assert summary.fixed_costs_cents == 81250 + 14500 + 14895 + 5500 + 3820
    assert summary.other_instalments_cents == 7500
    assert (summary.payday_day, summary.payday_cycle) == (24, "monthly")  # 24, 25, 24
    by_kind = {line.kind: line for line in summary.lines}
    salary = by_kind["salary"]
    assert salary.counterparty == "Bakkerij De Korenschoof BV"
    assert salary.matched == "matched 'salaris'"
    assert salary.transactions == ("ING-0001", "ING-0008", "ING-0015")
    assert salary.dates == (date(2025, 7, 24), date(2025, 8, 25), date(2025, 9, 24))
    assert salary.text == (
        "salary (Bakkerij De Korenschoof BV): €2,458.37 a month (3 payments; matched 'salaris')"
    )
    assert by_kind["benefit"].matched == "matched 'toeslag'"
    assert by_kind["rent"].matched == "matched 'huur'"
    assert by_kind["energy"].matched == "matched 'vattenfall'"  # not 'termijn': energy first
    assert by_kind["insurance"].matched == "matched 'cz'"
    assert by_kind["telecom"].counterparty == "KPN B.V."
    assert by_kind["taxes"].matched == "matched 'gemeente'"
    assert by_kind["instalment"].counterparty == "Incassobureau Noord"
    assert by_kind["other_spending"].count == 16
    assert by_kind["other_spending"].transactions == ()  # groceries are not listed one by one
    assert by_kind["other_credit"].count == 1  # the Tikkie is not income
    assert summary.transaction_count == 41  # the pending October rent is not counted


def test_two_accounts_four_weekly_pay_and_own_transfers():
    """Two accounts of a couple: four-weekly pay, benefits, mortgage, transfers between them."""
    summary = analyse(sample("psd2-two-accounts.json"))
    assert summary.accounts == ("NL07ABNA0555666777", "NL08SNSB0888999000")
    by_kind = {}
    for line in summary.lines:
        by_kind.setdefault(line.kind, []).append(line)
    (pay,) = by_kind["recurring_income"]
    # Four payments of 1,900.00 every 28 days: 1,900.00 × 13 / 12 = 2,058.33 a month.
    assert pay.monthly_cents == 205833
    assert "a similar credit in 3 of 3 months" in pay.matched
    assert "every four weeks" in pay.matched
    benefits = {line.counterparty: line.monthly_cents for line in by_kind["benefit"]}
    # UWV monthly; SVB kinderbijslag once in the three months (a quarterly payment).
    assert benefits == {"UWV": 112540, "SVB": 9689}
    assert summary.net_income_cents == 205833 + 112540 + 9689
    assert [line.counterparty for line in by_kind["mortgage"]] == ["ING Hypotheken"]
    assert summary.fixed_costs_cents == 95000 + 3210 + 13120 + 6499
    instalments = {line.counterparty: line.matched for line in by_kind["instalment"]}
    assert instalments == {
        "Gerechtsdeurwaarders Van Dam": "matched 'regeling'",
        "DUO": "matched 'aflossing'",
    }
    assert summary.other_instalments_cents == 5000 + 4500
    (own,) = by_kind["own_transfer"]
    assert own.monthly_cents == 100000  # 1,000.00 moved each month, counted once
    assert (summary.payday_cycle, summary.payday_anchor) == ("four_weekly", date(2025, 9, 26))
    assert summary.payday_day is None


def test_a_list_of_documents_and_duplicates():
    """A plain list of documents reads like {"accounts": [...]}; a repeated document counts once."""
    doc = json.loads(sample("psd2-salary.json"))
    once = analyse(json.dumps([doc]))
    twice = analyse(json.dumps([doc, doc]))
    assert twice.duplicates == 41  # every booked transaction of the second copy
    assert twice.accounts == once.accounts
    assert twice.net_income_cents == once.net_income_cents
    assert twice.fixed_costs_cents == once.fixed_costs_cents


def test_summary_data_holds_no_raw_transactions():
    """The stored summary: lines with names and counts, masked own IBAN, no counterparty IBANs."""
    data = analyse(sample("psd2-salary.json")).as_data()
    text = json.dumps(data)
    assert data["accounts"] == ["NL20…4567"]
    assert "NL20INGB0001234567" not in text
    assert "RABO" not in text  # the employer's account number
    assert "Betaalautomaat" not in text
    assert data["payday"] == {"day": 24, "cycle": "monthly", "anchor": "2025-09-24"}
    assert data["months"] == ["2025-07", "2025-08", "2025-09"]
    assert data["lines"][0]["text"].startswith("salary (Bakkerij De Korenschoof BV)")


def test_bad_sample_names_the_json_path_and_source():
    """The bad sample's fourth amount is 'abc': the message says exactly where."""
    with pytest.raises(Psd2Error) as caught:
        psd2_read(sample("psd2-bad-amount.json"), source="psd2-bad-amount.json")
    assert str(caught.value) == (
        "psd2-bad-amount.json: transactions.booked[3].transactionAmount.amount: "
        "'abc' is not an amount"
    )
    assert caught.value.path == "transactions.booked[3].transactionAmount.amount"


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "upload.json: the file is empty"),
        (b"\xff\xfe{", "upload.json: not UTF-8 text"),
        ("{", "upload.json: not JSON: Expecting property name"),
        ('{"a": NaN}', "upload.json: not JSON: NaN is not a number"),
        ("[]", "upload.json: no accounts in the file"),
        ('"text"', "upload.json: expected an object with 'account' and 'transactions', got text"),
        ('{"account": {"iban": "NL91ABNA0417164300"}}', "upload.json: transactions: missing"),
        (
            json.dumps(document([tx(date(2025, 7, 1), "-1.00") | {"bookingDate": "1-7-2025"}])),
            "transactions.booked[0].bookingDate: '1-7-2025' is not a date",
        ),
        (
            json.dumps(document([{"bookingDate": "2025-07-01"}])),
            "transactions.booked[0].transactionAmount: missing",
        ),
        (
            json.dumps(
                document(
                    [
                        tx(date(2025, 7, 1), "-1.00")
                        | {"transactionAmount": {"currency": "USD", "amount": "-1.00"}}
                    ]
                )
            ),
            "transactions.booked[0].transactionAmount.currency: 'USD' is not supported: "
            "only amounts in EUR can be read",
        ),
        (
            json.dumps(document([tx(date(2025, 7, 1), "-1.005")])),
            "transactions.booked[0].transactionAmount.amount: '-1.005' has more than two",
        ),
        (
            json.dumps(document([tx(date(2025, 7, 1), "1,50")])),
            "transactions.booked[0].transactionAmount.amount: '1,50' is not an amount",
        ),
        (
            json.dumps(document([tx(date(2025, 7, 1), "-1.00", iban="not an iban")])),
            "transactions.booked[0].creditorAccount.iban: 'not an iban' is not an IBAN",
        ),
        (json.dumps({"account": {}, "transactions": {"booked": {}}}), "booked: expected a list"),
        (
            json.dumps({"accounts": [document([]), document([["x"]])]}),
            "accounts[1].transactions.booked[0]: expected a transaction object, got a list",
        ),
        (
            json.dumps(document([tx(date(2025, 7, 1), "-1.00", debtorName=5)])),
            "transactions.booked[0].debtorName: expected text, got the number 5",
        ),
    ],
)
def test_read_errors(raw, message):
    """Every problem names the source and, where there is one, the JSON path."""
    with pytest.raises(Psd2Error, match=message.replace("(", r"\(").replace("[", r"\[")):
        psd2_read(raw, source="upload.json")


def test_a_deeply_nested_file_is_a_read_error_not_a_crash():
    """JSON nested deeper than Python's recursion limit raised RecursionError (a server error
    on the upload page); it is refused like any other file that is not bank data."""
    with pytest.raises(Psd2Error, match="nested too deeply") as caught:
        psd2_read(b"[" * 100000 + b"]" * 100000, source="upload.json")
    assert caught.value.code == "not_json"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "empty"),
        (b"\xff\xfe{", "not_text"),
        ("{", "not_json"),
        ('"text"', "shape"),
        (json.dumps(document([tx(date(2025, 7, 1), "abc")])), "amount"),
        (json.dumps(document([tx(date(2025, 7, 1), "-1.00") | {"bookingDate": "x"}])), "date"),
        (json.dumps(document([tx(date(2025, 7, 1), "-1.00", iban="not an iban")])), "iban"),
    ],
)
def test_read_errors_say_what_kind_of_problem_they_are(raw, code):
    """``code`` lets a page word the problem in the visitor's language."""
    with pytest.raises(Psd2Error) as caught:
        psd2_read(raw, source="upload.json")
    assert caught.value.code == code


def test_amounts_are_decimals_never_floats():
    """An amount written as a JSON number is read exactly, as a Decimal."""
    raw = json.dumps(document([tx(date(2025, 7, 1), "-0.10")])).replace('"-0.10"', "-0.10")
    (t,) = psd2_read(raw, source="x").booked
    assert t.amount == Decimal("-0.10")
    assert isinstance(t.amount, Decimal)
    assert t.cents == -10


def test_pending_transactions_are_read_but_not_counted():
    """Pending transactions have no booking date yet and do not count in the averages."""
    raw = json.dumps(
        document(
            json.loads(months_of((24, "2000.00", "Werkgever BV", "salaris")))["transactions"][
                "booked"
            ],
            pending=[
                {"transactionAmount": {"currency": "EUR", "amount": "5000.00"}, "debtorName": "X"}
            ],
        )
    )
    accounts = psd2_read(raw, source="x")
    assert len(accounts.accounts[0].pending) == 1
    assert psd2_analyse(accounts, on=ON).net_income_cents == 200000


# --- analysing --------------------------------------------------------------------------------


def test_too_short_a_period_is_an_error_the_user_understands():
    """Two weeks of data is not a month: the message says what is needed."""
    raw = json.dumps(
        document([tx(date(2025, 9, 10), "-10.00", "Jumbo"), tx(date(2025, 9, 24), "100.00")])
    )
    with pytest.raises(Psd2Error) as caught:
        analyse(raw)
    assert str(caught.value) == (
        "test.json: the bank data covers 2025-09-10 to 2025-09-24 (15 days), less than one "
        "full calendar month: share at least one full month, three is better"
    )
    assert caught.value.code == "too_short"
    assert caught.value.details == {"first": date(2025, 9, 10), "last": date(2025, 9, 24)}


def test_no_transactions_is_an_error():
    """An account without booked transactions cannot be assessed."""
    with pytest.raises(Psd2Error, match="no booked transactions up to 2025-10-02"):
        analyse(json.dumps(document([])))


def test_transactions_after_on_are_left_out():
    """Only transactions booked up to the assessment day count."""
    raw = months_of((24, "2000.00", "Werkgever BV", "salaris"))
    summary = analyse(raw, on=date(2025, 9, 15))
    # The data now ends on 24 August (the salary): only July is a full month.
    assert (summary.period_to, summary.months) == (date(2025, 8, 24), ("2025-07",))
    assert summary.net_income_cents == 200000


def test_explicit_period_counts_months_without_edge_transactions():
    """When the download's period is known, its months count even if the ends are quiet."""
    raw = json.dumps(
        document(
            [
                tx(date(2025, 7, 24), "2000.00", "Werkgever BV", "loon juli"),
                tx(date(2025, 8, 22), "2000.00", "Werkgever BV", "loon augustus"),
            ]
        )
    )
    with pytest.raises(Psd2Error, match="less than one full calendar month"):
        analyse(raw)
    summary = analyse(raw, date_from=date(2025, 7, 1), date_to=date(2025, 8, 31))
    assert summary.months == ("2025-07", "2025-08")
    assert summary.net_income_cents == 200000
    assert summary.payday_day == 24  # tie 24 / 22: the later day (paid early before a weekend)


@pytest.mark.parametrize(
    ("amount", "name", "text", "kind", "matched"),
    [
        ("-120.00", "Vattenfall", "Termijnbedrag 07", "energy", "vattenfall"),
        ("-50.00", "Foo Finance BV", "Termijn 2 van 6", "instalment", "termijn"),
        ("-30.00", "CJIB", "Boete 1234", "instalment", "cjib"),
        ("-25.00", "Santander Consumer", "Lening 88", "instalment", "lening"),
        (
            "-75.00",
            "Woningstichting Oost",
            "Huurachterstand betalingsregeling",
            "instalment",
            "regeling",
        ),
        ("-900.00", "Rabobank", "Hypotheekrente 07", "mortgage", "hypotheek"),
        ("-140.00", "Achmea", "Zorgverzekering premie", "insurance", "verzekering"),
        ("-20.00", "Brabant Water", "Voorschot", "water", "water"),
        ("-40.00", "Waterschap Rivierenland", "Aanslag", "taxes", "waterschap"),
        ("-35.00", "Odido Netherlands", "Abonnement", "telecom", "odido"),
        ("-600.00", "J. de Groot", "Kamerhuur", "rent", "kamerhuur"),
        ("300.00", "Belastingdienst", "Huurtoeslag 07", "benefit", "toeslag"),
        ("250.00", "DUO", "Studiefinanciering", "benefit", "duo"),
        ("1800.00", "Gemeente Utrecht", "Uitkering Participatiewet", "benefit", "uitkering"),
        ("2100.00", "Acme BV", "Netto loon juli", "salary", "loon"),
    ],
)
def test_classification_words(amount, name, text, kind, matched):
    """Which word decides a transaction's kind; the line says so."""
    raw = months_of((15, amount, name, text))
    lines = [line for line in analyse(raw).lines if line.kind == kind]
    assert lines, f"no {kind} line"
    assert lines[0].counterparty == name
    assert lines[0].count == 3
    assert lines[0].matched.startswith(f"matched '{matched}'")


def test_salary_recognised_by_bank_code():
    """A credit with bank transaction code PMNT-RCDT-SALA is salary, even without a word."""
    booked = [
        tx(date(2025, m, 25), "1500.00", "Zorg BV", "periode", code="PMNT-RCDT-SALA")
        for m in (7, 8)
    ]
    booked += [tx(date(2025, 7, 1), "-1.00", "Bakker"), tx(date(2025, 8, 31), "-1.00", "Bakker")]
    (line,) = [
        line for line in analyse(json.dumps(document(booked))).lines if line.kind == "salary"
    ]
    assert line.matched == "bank code PMNT-RCDT-SALA"


def test_recurring_and_irregular_credits():
    """A similar credit every month is income; small or irregular credits are not."""
    raw = months_of(
        (3, "60.00", "Marktplaats", "verkoop"),
        (5, "150.00", "Bezorgdienst Snel", "week 27-30"),
        months=((2025, 7), (2025, 8)),
    )
    summary = analyse(raw)
    # €150.00 in both months: recurring income; €60.00 is below the €100.00 threshold.
    assert summary.net_income_cents == 15000
    (line,) = [line for line in summary.lines if line.category == "income"]
    assert line.matched == "a similar credit in 2 of 2 months"
    raw = json.dumps(
        document(
            [
                tx(date(2025, 7, 1), "-1.00", "Bakker"),
                tx(date(2025, 7, 5), "40.00", "Vriend"),
                tx(date(2025, 8, 5), "400.00", "Vriend"),
                tx(date(2025, 8, 31), "-1.00", "Bakker"),
            ]
        )
    )
    summary = analyse(raw)
    assert summary.net_income_cents == 0
    assert summary.notes == ("no income was recognised in the bank data",)
    assert summary.payday_day is None


# --- recording --------------------------------------------------------------------------------


def test_assessment_from_psd2(creditor):
    """Shared bank data becomes an assessment with source psd2 and a summary, not transactions."""
    from vaarwater.ledger.models import Debtor

    debtor = Debtor.objects.create(creditor=creditor, external_id="K1", name="Klant Een")
    assessment = assessment_from_psd2(
        debtor=debtor,
        case=None,
        household="single",
        raw=sample("psd2-salary.json"),
        actor=Actor.system("portal"),
        on=ON,
    )
    assert assessment.source == "psd2"
    assert assessment.net_income_cents == 258137
    assert assessment.fixed_costs_cents == 119965
    assert assessment.other_instalments_cents == 7500
    assert assessment.payday_day == 24
    # 2,581.37 − 2,093.67 (the floor is higher than 1,199.65 fixed costs) − 75.00 = 412.70
    assert assessment.capacity_cents == 41270
    summary = assessment.data["psd2"]
    assert summary["source"] == "PSD2 bank data"
    assert len(summary["lines"]) == 10
    assert "Betaalautomaat" not in json.dumps(assessment.data)
    assert Event.objects.filter(verb="assessment.recorded", subject_id=assessment.pk).exists()


def test_assessment_from_psd2_bad_data_stores_nothing(creditor):
    """Unreadable bank data raises Psd2Error and records nothing."""
    from vaarwater.arrangements.models import Assessment
    from vaarwater.ledger.models import Debtor

    debtor = Debtor.objects.create(creditor=creditor, external_id="K1", name="Klant Een")
    with pytest.raises(Psd2Error, match="'abc' is not an amount"):
        assessment_from_psd2(
            debtor=debtor,
            case=None,
            household="single",
            raw=sample("psd2-bad-amount.json"),
            actor=Actor.system("portal"),
            on=ON,
        )
    assert not Assessment.objects.exists()
