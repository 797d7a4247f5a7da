"""Importing statements: the creditor from the account, matching by reference, IBAN and
name+amount, the worklists, and that importing again changes nothing."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import Debtor, LedgerEntry, Payment, PaymentSource
from vaarwater.ledger.selectors import debtor_balance
from vaarwater.ledger.services import creditor_create, invoice_create
from vaarwater.payments.statement_models import (
    EntryStatus,
    Statement,
    StatementEntry,
    StatementStatus,
)
from vaarwater.payments.statements import StatementError
from vaarwater.payments.statements.importing import (
    StatementImportError,
    statement_assign,
    statement_import,
)
from vaarwater.payments.statements.synthetic import CREDITOR_IBAN, Stmt, Tx, camt053, mt940
from vaarwater.payments.statements.worklist import WorklistError, entry_assign, entry_ignore
from vaarwater.testing import SHARED_TESTDATA
from vaarwater.workspace.tests.factories import case_create, version_create

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
BANK = SHARED_TESTDATA / "bank"
IBAN_DE_VRIES = "NL91ABNA0417164300"
IBAN_EL_AMRANI = "NL39RABO0300065264"
IBAN_JANSEN = "NL20INGB0001234567"  # a shared family account
UNKNOWN_IBAN = "NL86INGB0002445588"


def nl_iban(bank: str, account: str) -> str:
    """A Dutch IBAN with valid check digits, for an old account number."""
    number = f"{bank}{account.zfill(10)}"
    digits = "".join(str(int(c, 36)) for c in number + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{number}"


def debtor(creditor, number, name, *, iban="", invoices=()):
    made = Debtor.objects.create(creditor=creditor, external_id=number, name=name, iban=iban)
    for external_id, cents in invoices:
        invoice_create(
            debtor=made,
            external_id=external_id,
            issue_date=date(2026, 9, 1),
            due_date=date(2026, 9, 15),
            amount_cents=cents,
        )
    return made


@pytest.fixture
def ledger(creditor):
    creditor.iban = CREDITOR_IBAN
    creditor.save(update_fields=["iban"])
    return {
        "de_vries": debtor(
            creditor,
            "100001",
            "Jan de Vries",
            iban=IBAN_DE_VRIES,
            invoices=[("F-2026-0001", 12050)],
        ),
        "bakker": debtor(creditor, "100002", "Petra Bakker", invoices=[("2026-0002", 8000)]),
        "el_amrani": debtor(
            creditor,
            "100003",
            "Ahmed el Amrani",
            iban=IBAN_EL_AMRANI,
            invoices=[("F-2026-0003", 4500)],
        ),
        "kees": debtor(
            creditor, "100004", "Kees Jansen", iban=IBAN_JANSEN, invoices=[("F4", 3000)]
        ),
        "anna": debtor(
            creditor, "100005", "Anna Jansen", iban=IBAN_JANSEN, invoices=[("F5", 3000)]
        ),
        "maria": debtor(creditor, "100006", "Maria Visser", invoices=[("F6", 6000)]),
        "mark": debtor(creditor, "100007", "Mark Visser", invoices=[("F7", 7000)]),
        "short": debtor(creditor, "4711", "Sanne de Boer", invoices=[("F8", 2500)]),
    }


def the_statement(ledger, case_reference: str) -> Stmt:
    return Stmt(
        txs=[
            # a. references
            Tx(12050, name="J DE VRIES", iban=IBAN_DE_VRIES, ustrd="Factuur F-2026-0001", e2e="E1"),
            Tx(8000, name="P. Bakker", iban="NL44RABO0123456789", ustrd="klantnummer 100002"),
            Tx(5000, name="Iemand", ustrd=f"dossier {case_reference} deel 1"),
            Tx(2500, name="S. de Boer", ustrd="betaling 4711"),  # short number, like the name
            Tx(2400, name="Wie Anders", ustrd="betaling 4711"),  # short number only: no
            Tx(2300, name="Wie Anders", ustrd="klant 4711"),  # a word says what it is: yes
            Tx(100, name="Twee", ustrd="F-2026-0001 en F-2026-0003"),  # two customers
            # b. IBAN
            Tx(4500, name="A EL AMRANI", iban=IBAN_EL_AMRANI),
            Tx(3000, name="K Jansen", iban=IBAN_JANSEN),  # two debtors share the IBAN
            # c. amount and name
            Tx(6000, name="Mw. M. Visser"),
            # nothing
            Tx(999, name="Onbekend", ustrd="gift"),
            Tx(-995, name="Telecom BV", iban="NL56AGDH9619008421", ustrd="abonnement"),
            # the bank takes the first payment back
            Tx(-12050, e2e="E1", reversal=True, bank_ref="REV-1"),
        ]
    )


@pytest.fixture
def case_ref(creditor, ledger):
    case = case_create(version_create(creditor), debtor=ledger["bakker"])
    return case.reference


def by_amount(statement: Statement) -> dict[int, StatementEntry]:
    return {entry.amount_cents: entry for entry in statement.entries.all()}


def test_matching_rules_in_order(creditor, ledger, case_ref):
    """References first, then the IBAN, then name+amount; the rest waits with a reason."""
    raw = camt053([the_statement(ledger, case_ref)], version="08")
    result = statement_import(raw=raw, file_name="nov.xml", actor=ACTOR)
    (outcome,) = result.statements
    assert (outcome.outcome, outcome.creditor, outcome.new, outcome.known) == (
        "imported",
        creditor,
        13,
        0,
    )
    entries = by_amount(outcome.statement)

    def check(amount, status, method="", debtor=None, says=""):
        entry = entries[amount]
        assert (entry.status, entry.match_method) == (status, method), (amount, entry.match_reason)
        if debtor is not None:
            assert entry.debtor == ledger[debtor]
        assert says in entry.match_reason

    check(12050, "booked", "reference", "de_vries", "invoice F-2026-0001 of Jan de Vries (100001)")
    check(8000, "booked", "reference", "bakker", "customer number 100002")
    check(5000, "booked", "reference", "bakker", f"case {case_ref}")
    check(2500, "booked", "reference", "short", "customer number 4711")
    check(2400, "unmatched", says="no reference, IBAN or name+amount match")
    check(2300, "booked", "reference", "short")
    check(100, "unmatched", says="references of 2 different customers")
    check(4500, "booked", "iban", "el_amrani", f"paid from {IBAN_EL_AMRANI}")
    check(3000, "unmatched", says="2 customers have IBAN NL20INGB0001234567")
    assert "2 customers with a name like 'K Jansen' owe exactly this amount" in (
        entries[3000].match_reason
    )
    check(6000, "booked", "name_amount", "maria", "Maria Visser (100006) owes exactly")
    check(999, "unmatched")
    check(-995, "ignored", says="money out")
    check(-12050, "booked", "reversal", "de_vries", "the bank reversed the payment")

    # Booked as bank payments; an invoice named in the description is the designated claim.
    payment = entries[12050].payment
    assert payment.source == PaymentSource.BANK
    assert payment.external_id == f"stmt-{entries[12050].key[:24]}"
    assert payment.designated_invoice.external_id == "F-2026-0001"
    assert Payment.objects.filter(creditor=creditor).count() == 7
    # The reversal undid the first payment: Jan de Vries owes the invoice again.
    assert debtor_balance(ledger["de_vries"]) == 12050
    assert debtor_balance(ledger["el_amrani"]) == 0
    assert debtor_balance(ledger["maria"]) == 0
    assert Event.objects.filter(verb="statement.entry_booked").count() == 8
    assert Event.objects.filter(verb="statement.imported", subject_id=outcome.statement.pk).exists()
    assert (outcome.booked, outcome.unmatched, outcome.ignored) == (8, 4, 1)


def _totals(creditor):
    return (
        Statement.objects.count(),
        StatementEntry.objects.count(),
        Payment.objects.count(),
        LedgerEntry.objects.filter(creditor=creditor).aggregate(s=Sum("amount_cents"))["s"],
        LedgerEntry.objects.count(),
        Event.objects.count(),
    )


@pytest.mark.parametrize("version", ["02", "04", "08"])
def test_importing_again_changes_nothing(creditor, ledger, case_ref, version):
    raw = camt053([the_statement(ledger, case_ref)], version=version)
    statement_import(raw=raw, file_name="nov.xml", actor=ACTOR)
    before = _totals(creditor)
    again = statement_import(raw=raw, file_name="copy-of-nov.xml", actor=ACTOR)
    assert [o.outcome for o in again.statements] == ["already_imported"]
    assert _totals(creditor) == before


def test_an_overlapping_statement_adds_only_what_is_new(creditor, ledger, case_ref):
    """Another file (other message id, one more entry) with the same entries books only the new."""
    stmt = the_statement(ledger, case_ref)
    statement_import(raw=camt053([stmt]), file_name="a.xml", actor=ACTOR)
    payments = Payment.objects.count()
    stmt.txs.append(Tx(1000, name="A EL AMRANI", ustrd="nog een keer F-2026-0003"))
    stmt.statement_id = "STMT-1-REISSUED"
    result = statement_import(
        raw=camt053([stmt], message_id="MSG-2"), file_name="b.xml", actor=ACTOR
    )
    (outcome,) = result.statements
    assert (outcome.outcome, outcome.new, outcome.known) == ("imported", 1, 13)
    assert Payment.objects.count() == payments + 1


def test_identical_entries_in_one_statement_are_both_kept(creditor, ledger):
    """Two payments alike in every field are two payments (the key counts them)."""
    twice = Tx(4500, name="A EL AMRANI", iban=IBAN_EL_AMRANI)
    result = statement_import(
        raw=camt053([Stmt(txs=[twice, twice])]), file_name="x.xml", actor=ACTOR
    )
    assert result.statements[0].new == 2
    assert Payment.objects.filter(debtor=ledger["el_amrani"]).count() == 2


def test_a_statement_of_an_unknown_account_waits_in_the_worklist(creditor, other_creditor, ledger):
    raw = camt053(
        [Stmt(account=UNKNOWN_IBAN, txs=[Tx(4500, name="A EL AMRANI", iban=IBAN_EL_AMRANI)])]
    )
    result = statement_import(raw=raw, file_name="other.xml", actor=ACTOR)
    (outcome,) = result.statements
    assert outcome.outcome == "unknown_account"
    statement = outcome.statement
    assert (statement.status, statement.creditor, bytes(statement.raw)) == (
        StatementStatus.UNKNOWN_ACCOUNT,
        None,
        raw,
    )
    assert not StatementEntry.objects.exists()
    # Importing it again: still one statement, still waiting.
    again = statement_import(raw=raw, file_name="other.xml", actor=ACTOR)
    assert again.statements[0].outcome == "already_imported"
    # Assigned by hand: its entries are imported and matched for that creditor.
    new, known, counts = statement_assign(statement=statement, creditor=creditor, actor=ACTOR)
    assert (new, known, counts["booked"]) == (1, 0, 1)
    statement.refresh_from_db()
    assert (statement.status, statement.creditor) == (StatementStatus.IMPORTED, creditor)
    with pytest.raises(StatementImportError, match="not waiting for a creditor"):
        statement_assign(statement=statement, creditor=other_creditor, actor=ACTOR)


def test_a_waiting_statement_is_imported_once_its_account_is_known(creditor, ledger):
    raw = camt053([Stmt(account=UNKNOWN_IBAN, txs=[Tx(4500, name="X", iban=IBAN_EL_AMRANI)])])
    statement_import(raw=raw, file_name="s.xml", actor=ACTOR)
    creditor.iban = UNKNOWN_IBAN
    creditor.save(update_fields=["iban"])
    result = statement_import(raw=raw, file_name="s.xml", actor=ACTOR)
    assert (result.statements[0].outcome, result.statements[0].booked) == ("assigned", 1)


def test_the_creditor_given_must_own_the_account(creditor, other_creditor, ledger):
    raw = camt053([Stmt(txs=[Tx(4500, name="X", iban=IBAN_EL_AMRANI)])])
    other_creditor.iban = "NL56AGDH9619008421"
    other_creditor.save(update_fields=["iban"])
    with pytest.raises(StatementImportError, match="collection account of creditor ENERGIE"):
        statement_import(raw=raw, file_name="s.xml", creditor=other_creditor, actor=ACTOR)
    foreign = camt053([Stmt(account=UNKNOWN_IBAN, txs=[Tx(4500, name="X")])])
    with pytest.raises(StatementImportError, match="is not WONEN's collection account"):
        statement_import(raw=foreign, file_name="s.xml", creditor=other_creditor, actor=ACTOR)
    assert not Statement.objects.exists()
    # A creditor without an IBAN on file may take an account no one else has.
    other_creditor.iban = ""
    other_creditor.save(update_fields=["iban"])
    result = statement_import(raw=foreign, file_name="s.xml", creditor=other_creditor, actor=ACTOR)
    assert result.statements[0].creditor == other_creditor


def test_an_old_dutch_account_number_is_taken_only_when_the_creditor_is_named(creditor):
    """ABN AMRO's :25:517852257 is the account in the creditor's NL..ABNA0517852257, but the
    same digits exist at other banks: without --creditor the statement waits in the worklist,
    with it the creditor takes it."""
    if not BANK.is_dir():
        pytest.skip("../shared/testdata not here")
    creditor.iban = nl_iban("ABNA", "517852257")
    creditor.save(update_fields=["iban"])
    path = BANK / "mt940" / "wolph-jejik-abnamro.sta"
    result = statement_import(path=path, actor=ACTOR)
    assert [o.creditor for o in result.statements] == [None, None]
    assert not StatementEntry.objects.exists()
    Statement.objects.all().delete()
    result = statement_import(path=path, creditor=creditor, actor=ACTOR)
    assert [o.creditor for o in result.statements] == [creditor, creditor]
    assert StatementEntry.objects.filter(status=EntryStatus.IGNORED).count() == 10  # all debits


def test_every_bank_test_file_imports(creditor):
    """None of the test files' accounts is known: all wait in the worklist, none is lost. The
    creditor's IBAN ends in the digits of two files' old account numbers (Knab 123456789, SNS
    0123456789): those digits alone do not make the statements the creditor's."""
    if not BANK.is_dir():
        pytest.skip("../shared/testdata not here")
    creditor.iban = "NL02ABNA0123456789"
    creditor.save(update_fields=["iban"])
    files = [p for p in BANK.rglob("*") if p.suffix in (".xml", ".sta", ".txt")]
    for path in files:
        statement_import(path=path, actor=ACTOR)
    waiting = Statement.objects.filter(status=StatementStatus.UNKNOWN_ACCOUNT)
    assert waiting.count() == 6 + 45  # CAMT 1+2+1+1+1; MT940 31+2+1+2+2+4+2+1
    assert waiting.filter(file_format="mt940").count() == 45
    # The genkgo v8 statement assigned to a creditor: its entry is imported.
    v8 = waiting.get(file_name="genkgo-camt053.v8.xml")
    new, _, counts = statement_assign(statement=v8, creditor=creditor, actor=ACTOR)
    assert new == 1 and counts["unmatched"] == 1


def test_mt940_payments_are_matched_too(creditor, ledger):
    raw = mt940([Tx(8000, name="P BAKKER", iban="NL44RABO0123456789", ustrd="factuur 2026-0002")])
    result = statement_import(raw=raw, file_name="s.sta", actor=ACTOR)
    entry = result.statements[0].statement.entries.get()
    assert (entry.status, entry.debtor) == (EntryStatus.BOOKED, ledger["bakker"])


def test_a_bad_file_stores_nothing(creditor):
    with pytest.raises(StatementError, match="bad.xml, line"):
        statement_import(raw=b"<?xml version='1.0'?>\n<Document", file_name="bad.xml", actor=ACTOR)
    assert not Statement.objects.exists()


def test_worklist_assign_and_ignore(creditor, other_creditor, ledger):
    raw = camt053([Stmt(txs=[Tx(999, name="Onbekend", ustrd="gift"), Tx(1234, name="?")])])
    result = statement_import(raw=raw, file_name="s.xml", actor=ACTOR)
    first, second = result.statements[0].statement.entries.order_by("line")
    assert first.status == second.status == EntryStatus.UNMATCHED
    stranger = debtor(other_creditor, "9", "Elders")
    with pytest.raises(WorklistError, match="not a customer of this statement's creditor"):
        entry_assign(entry=first, debtor=stranger, actor=ACTOR, note="x")
    booked = entry_assign(entry=first, debtor=ledger["maria"], actor=ACTOR, note="belde op")
    assert (booked.status, booked.match_method, booked.payment.amount_cents) == (
        "booked",
        "manual",
        999,
    )
    assert Event.objects.filter(verb="statement.entry_assigned", reason="belde op").exists()
    with pytest.raises(WorklistError, match="no longer in the worklist"):
        entry_assign(entry=first, debtor=ledger["maria"], actor=ACTOR, note="again")
    with pytest.raises(WorklistError, match="say why"):
        entry_ignore(entry=second, reason=" ", actor=ACTOR)
    ignored = entry_ignore(entry=second, reason="terugbetaling van de bank", actor=ACTOR)
    assert ignored.status == EntryStatus.IGNORED
    assert Event.objects.filter(verb="statement.entry_ignored").count() == 1


def test_the_commands(creditor, ledger, tmp_path, capsys):
    path = tmp_path / "nov.xml"
    path.write_bytes(
        camt053(
            [
                Stmt(txs=[Tx(4500, name="A EL AMRANI", iban=IBAN_EL_AMRANI), Tx(77, name="?")]),
                Stmt(account=UNKNOWN_IBAN, statement_id="S2", txs=[Tx(5, name="?")]),
            ]
        )
    )
    call_command("import-statement", str(path))
    out = capsys.readouterr().out
    assert "nov.xml (camt.053.001.02): 2 statements" in out
    assert "creditor ENERGIE — 2 entries: 2 new, 0 already known; 1 booked, 1 unmatched" in out
    assert f"statement S2 of account {UNKNOWN_IBAN}: unknown account: kept in the worklist" in out
    call_command("import-statement", str(path))
    assert capsys.readouterr().out.count("already imported") == 2
    call_command("statements")
    out = capsys.readouterr().out
    assert "Statements of an unknown account: 1" in out and "Unmatched incoming payments: 1" in out
    waiting = Statement.objects.get(status=StatementStatus.UNKNOWN_ACCOUNT)
    call_command("statements", "assign", str(waiting.pk), "--creditor", "ENERGIE")
    assert "→ ENERGIE: 1 new, 0 already known; 0 booked" in capsys.readouterr().out
    entry = StatementEntry.objects.filter(status=EntryStatus.UNMATCHED, amount_cents=77).get()
    call_command("statements", "book", str(entry.pk), "--debtor", "100006", "--note", "mail")
    assert "booked on 100006 Maria Visser" in capsys.readouterr().out

    bad = tmp_path / "bad.sta"
    bad.write_bytes(mt940([Tx(100, name="X", ustrd="y")])[:80])
    with pytest.raises(CommandError) as caught:
        call_command("import-statement", str(bad))
    assert caught.value.returncode == 1
    assert str(caught.value).startswith("bad.sta, line")
    with pytest.raises(CommandError) as caught:
        call_command("import-statement", str(tmp_path / "missing.xml"))
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="is a folder") as caught:
        call_command("import-statement", str(tmp_path))
    assert caught.value.returncode == 2
    with pytest.raises(CommandError) as caught:
        call_command("import-statement", str(path), "--creditor", "NOPE")
    assert "creditor 'NOPE' does not exist" in str(caught.value)


def test_a_payment_plan_reference_and_an_instalment_amount(creditor, ledger):
    """The plan's reference, however it is typed, names the debtor; an open instalment's
    amount with the debtor's name does too."""
    from vaarwater.arrangements.models import Arrangement, Instalment
    from vaarwater.arrangements.selectors import plan_reference

    debtor = ledger["mark"]
    case = case_create(version_create(creditor), debtor=debtor)
    reference = plan_reference(case, 1)
    plan = Arrangement.objects.create(
        creditor=creditor,
        debtor=debtor,
        case=case,
        kind="instalments",
        method="transfer",
        reference=reference,
        total_cents=7000,
        debt_cents=7000,
        channel="portal",
        accepted_on=date(2026, 10, 1),
        accepted_by="klant",
    )
    Instalment.objects.create(
        arrangement=plan, number=1, due_on=date(2026, 11, 1), amount_cents=2333
    )
    spaced = f"{reference[:3].lower()} {reference[3:7]} {reference[7:]}"  # "rgl 0000 12701"
    raw = camt053(
        [
            Stmt(
                txs=[
                    Tx(2334, name="Iemand Anders", ustrd=f"termijn 1 {spaced}"),
                    Tx(2333, name="M VISSER"),
                ]
            )
        ]
    )
    result = statement_import(raw=raw, file_name="plan.xml", actor=ACTOR)
    entries = by_amount(result.statements[0].statement)
    assert (entries[2334].match_method, entries[2334].debtor) == ("reference", debtor)
    assert f"arrangement {reference}" in entries[2334].match_reason
    assert entries[2334].payment.reference == reference
    assert (entries[2333].match_method, entries[2333].debtor) == ("name_amount", debtor)


@pytest.mark.parametrize("kind", ["camt", "mt940"])
def test_an_entry_of_zero_is_ignored_not_a_crash(creditor, ledger, kind):
    """A 0.00 entry naming an invoice is kept, IGNORED with the reason; nothing is booked
    (a payment of nothing used to break the import on the ledger's check)."""
    tx = Tx(0, name="J DE VRIES", iban=IBAN_DE_VRIES, ustrd="Factuur F-2026-0001")
    if kind == "camt":
        raw = camt053([Stmt(txs=[tx])]).replace(
            b">0.00</Amt><CdtDbtInd>DBIT", b">0.00</Amt><CdtDbtInd>CRDT"
        )
    else:
        raw = mt940([tx]).replace(b"D0,00NTRF", b"C0,00NTRF")
    result = statement_import(raw=raw, file_name=f"zero.{kind}", actor=ACTOR)
    assert result.statements[0].ignored == 1
    entry = StatementEntry.objects.get()
    assert (entry.amount_cents, entry.status) == (0, EntryStatus.IGNORED)
    assert "0.00" in entry.match_reason
    assert not Payment.objects.exists()


def test_the_worklist_shows_a_foreign_amount_in_its_currency(creditor, ledger, capsys):
    raw = camt053([Stmt(txs=[Tx(7650, name="J DE VRIES", ustrd="F-2026-0001")])]).replace(
        b'<Amt Ccy="EUR">76.50</Amt>', b'<Amt Ccy="USD">76.50</Amt>'
    )
    statement_import(raw=raw, file_name="usd.xml", actor=ACTOR)
    call_command("statements")
    out = capsys.readouterr().out
    assert "USD 76.50" in out and "€76.50" not in out
    assert "not in euros" in out


def test_a_reversal_in_another_currency_does_not_undo_a_euro_payment(creditor, ledger):
    paid = Tx(4500, name="A EL AMRANI", iban=IBAN_EL_AMRANI, e2e="E9")
    statement_import(raw=camt053([Stmt(txs=[paid])]), file_name="a.xml", actor=ACTOR)
    back = camt053(
        [Stmt(statement_id="S2", txs=[Tx(-4500, e2e="E9", reversal=True, bank_ref="R9")])]
    ).replace(b'<Amt Ccy="EUR">45.00</Amt>', b'<Amt Ccy="USD">45.00</Amt>')
    statement_import(raw=back, file_name="b.xml", actor=ACTOR)
    reversal = StatementEntry.objects.get(amount_cents=-4500)
    assert reversal.status == EntryStatus.UNMATCHED and "USD" in reversal.match_reason
    assert not LedgerEntry.objects.filter(kind="reversal").exists()
    assert debtor_balance(ledger["el_amrani"]) == 0


def test_an_account_two_creditors_share_is_given_by_a_person_once(creditor, other_creditor, ledger):
    """Two creditors with one collection account: a statement of it waits in the worklist (it
    used to wait forever: neither assigning nor --creditor was allowed). A person gives it to
    one of them; a third creditor is refused; an overlapping file given to the other creditor
    adds only what neither has (one bank entry is never booked twice)."""
    other_creditor.iban = CREDITOR_IBAN
    other_creditor.save(update_fields=["iban"])
    first, second = Tx(4500, name="X", bank_ref="B1"), Tx(4600, name="Y", bank_ref="B2")
    result = statement_import(
        raw=camt053([Stmt(txs=[first, second])]), file_name="a.xml", actor=ACTOR
    )
    waiting = result.statements[0].statement
    assert result.statements[0].outcome == "unknown_account"
    third = creditor_create(code="DERDE", name="Derde", sector="other")
    with pytest.raises(StatementImportError, match="not of DERDE"):
        statement_assign(statement=waiting, creditor=third, actor=ACTOR)
    assert statement_assign(statement=waiting, creditor=creditor, actor=ACTOR)[:2] == (2, 0)
    overlap = camt053([Stmt(statement_id="S2", txs=[second, Tx(4700, name="Z", bank_ref="B3")])])
    with pytest.raises(StatementImportError, match="not of DERDE"):
        statement_import(raw=overlap, file_name="b.xml", creditor=third, actor=ACTOR)
    result = statement_import(raw=overlap, file_name="b.xml", creditor=other_creditor, actor=ACTOR)
    assert (result.statements[0].new, result.statements[0].known) == (1, 1)
    assert StatementEntry.objects.filter(amount_cents=4600).count() == 1
