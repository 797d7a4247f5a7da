"""Settlement from the bank statement (one debit or a whole batch), storno and reject, the
returned-debit message, idempotency, and pain.002 status reports."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from vaarwater.contact.models import Message
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import EntryKind, LedgerEntry, Payment
from vaarwater.ledger.selectors import debtor_position
from vaarwater.payments.sepa import (
    PAIN_08,
    SepaError,
    batch_create,
    collection_return,
    collections_plan,
    pain008_groups,
    prenotifications_send,
    statement_entry_handle,
    status_report_apply,
)
from vaarwater.payments.sepa_models import CollectionStatus, MandateStatus
from vaarwater.payments.statement_models import EntryStatus, StatementEntry
from vaarwater.payments.statements.importing import statement_import

from .test_sepa_fixtures import (  # noqa: F401
    MONDAY,
    entry_save,
    load_strategy,
    make_debtor,
    make_mandate,
    sepa_creditor,
    statement_entry,
)

pytestmark = pytest.mark.django_db
SETTLED_ON = MONDAY + timedelta(days=7)


@pytest.fixture
def submitted(make_mandate, sepa_creditor):
    """Three debits in one file: two mandates' FRST (€ 49,10 and € 100,00) and one RCUR."""
    first, second = make_mandate(), make_mandate()
    rows = collections_plan(
        mandate=first,
        items=[("a:1", 4910, MONDAY + timedelta(days=7), "Termijn 1")],
    )
    rows += collections_plan(
        mandate=second,
        items=[
            ("b:1", 10000, MONDAY + timedelta(days=7), "Termijn 1"),
            ("b:2", 2500, MONDAY + timedelta(days=7), "Termijn 2"),
        ],
    )
    prenotifications_send(on=MONDAY)
    batch = batch_create(
        creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY + timedelta(days=7), on=MONDAY
    )
    for row in rows:
        row.refresh_from_db()
    return batch, rows


def credit(creditor, amount, **fields):
    return statement_entry(creditor, amount_cents=amount, booking_date=SETTLED_ON, **fields)


def test_one_debit_settles_by_its_end_to_end_id(submitted, sepa_creditor):
    """A credit with a debit's end-to-end id books the payment (source bank) and marks the
    entry; the caller can save the entry afterwards."""
    _batch, (row, *_rest) = submitted
    before = debtor_position(row.debtor).balance
    entry = credit(sepa_creditor, 4910, end_to_end_id=row.end_to_end_id, remittance="Termijn 1")
    assert statement_entry_handle(entry) is True
    assert entry.status == EntryStatus.COLLECTION and entry.match_method == "sepa"
    assert entry.debtor_id == row.debtor_id
    row.refresh_from_db()
    assert row.status == CollectionStatus.SETTLED
    assert entry.payment == row.payment
    payment = Payment.objects.get(external_id=f"sepa-{row.end_to_end_id}")
    assert payment.source == "bank" and payment.date == SETTLED_ON
    assert debtor_position(row.debtor).balance == before - 4910
    entry_save(entry)
    assert Event.objects.filter(verb="collection.settled").count() == 1


def test_a_batch_credit_settles_every_debit(submitted, sepa_creditor):
    """One credit for the whole file (its message id in the text, the sum as amount) settles
    all its debits, one ledger payment each."""
    batch, rows = submitted
    entry = credit(
        sepa_creditor, 4910 + 10000 + 2500, remittance=f"SEPA INCASSO {batch.message_id}"
    )
    assert statement_entry_handle(entry) is True
    assert entry.status == EntryStatus.COLLECTION and entry.payment is None
    assert {row.status for row in batch.collections.all()} == {CollectionStatus.SETTLED}
    assert Payment.objects.filter(external_id__startswith="sepa-").count() == 3
    entry_save(entry)


def test_a_block_credit_settles_only_its_block(submitted, sepa_creditor):
    """Batch booking per payment-information block: the FRST block's credit settles the FRST
    debits; the RCUR one stays submitted."""
    batch, rows = submitted
    groups = pain008_groups(batch.xml)
    frst = next(key for key in groups if key.endswith("-F1"))
    assert len(groups[frst]) == 2
    entry = credit(sepa_creditor, 4910 + 10000, bank_reference=frst)
    assert statement_entry_handle(entry) is True
    statuses = dict(batch.collections.values_list("sequence", "status").distinct())
    assert statuses == {"FRST": CollectionStatus.SETTLED, "RCUR": CollectionStatus.SUBMITTED}


def test_the_batch_id_the_statement_import_hands_over(submitted, sepa_creditor):
    """The import's parsed batch id (CAMT PmtInfId of a batch booking) is enough."""
    batch, _rows = submitted
    rcur = next(key for key in pain008_groups(batch.xml) if key.endswith("-R1"))
    entry = credit(sepa_creditor, 2500, remittance="INCASSO")
    entry.parsed = SimpleNamespace(batch_id=rcur)
    assert statement_entry_handle(entry) is True
    assert batch.collections.get(sequence="RCUR").status == CollectionStatus.SETTLED


def test_a_batch_credit_with_another_amount_books_nothing(submitted, sepa_creditor):
    """A sum that differs from the debits still submitted is left to the worklist, with why."""
    batch, _rows = submitted
    entry = credit(sepa_creditor, 4910, remittance=batch.message_id)
    assert statement_entry_handle(entry) is False
    assert "niet geboekt" in entry.match_reason
    assert not Payment.objects.exists()


def test_rejected_debits_are_left_out_of_the_batch_sum(submitted, sepa_creditor):
    """After a reject, the batch credit is the sum of the others, and settles them."""
    batch, (one, two, three) = submitted
    collection_return(collection=two, code="AM04", kind="reject", on=MONDAY)
    entry = credit(sepa_creditor, 4910 + 2500, remittance=batch.message_id)
    assert statement_entry_handle(entry) is True
    statuses = {row.pk: row.status for row in batch.collections.all()}
    assert statuses == {
        one.pk: CollectionStatus.SETTLED,
        two.pk: CollectionStatus.REJECTED,
        three.pk: CollectionStatus.SETTLED,
    }


def test_other_entries_cost_no_query(sepa_creditor, django_assert_num_queries):
    """An ordinary payment is not ours: no query, False."""
    entry = credit(sepa_creditor, 12050, remittance="Factuur F1-0 klant K1", end_to_end_id="X1")
    with django_assert_num_queries(0):
        assert statement_entry_handle(entry) is False


def test_storno_reverses_the_payment(submitted, sepa_creditor):
    """A debit entry with our end-to-end id and a reason code reverses the booking: the
    balance comes back, the debit is RETURNED, the debtor gets the returned-debit message;
    the same entry again changes nothing."""
    _batch, (row, *_rest) = submitted
    before = debtor_position(row.debtor).balance
    statement_entry_handle(credit(sepa_creditor, 4910, end_to_end_id=row.end_to_end_id))
    assert debtor_position(row.debtor).balance == before - 4910
    back = statement_entry(
        sepa_creditor,
        amount_cents=-4910,
        booking_date=SETTLED_ON + timedelta(days=3),
        end_to_end_id=row.end_to_end_id,
        return_code="MD06",
    )
    assert statement_entry_handle(back) is True
    assert back.status == EntryStatus.RETURN and back.debtor_id == row.debtor_id
    assert "MD06" in back.match_reason
    row.refresh_from_db()
    assert row.status == CollectionStatus.RETURNED and row.return_code == "MD06"
    assert debtor_position(row.debtor).balance == before
    reversal = LedgerEntry.objects.get(kind=EntryKind.REVERSAL, payment=row.payment)
    assert "MD06" in reversal.description and "terug te boeken" in reversal.description
    message = Message.objects.get(template="incasso-gestorneerd")
    assert message.context["collection_cents"] == 4910 and message.context["pay_by"]
    assert message.context["mandate_ended"] is False
    assert row.mandate.status == MandateStatus.ACTIVE  # MD06 leaves the mandate
    assert statement_entry_handle(back) is True  # again: nothing new
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    assert Event.objects.filter(verb="collection.returned").count() == 1
    assert Message.objects.filter(template="incasso-gestorneerd").count() == 1


def test_a_closed_account_revokes_the_mandate(submitted, sepa_creditor):
    """AC04 (closed account) after settlement: storno, and the mandate is revoked with its
    planned debits cancelled; the message says nothing more is collected."""
    _batch, (_one, two, _three) = submitted
    later = collections_plan(
        mandate=two.mandate, items=[("b:3", 2500, MONDAY + timedelta(days=40), "Termijn 3")]
    )[0]
    statement_entry_handle(credit(sepa_creditor, 10000, end_to_end_id=two.end_to_end_id))
    two.refresh_from_db()
    collection_return(collection=two, code="ac04", kind="storno", reason="bankportaal", on=MONDAY)
    two.refresh_from_db()
    two.mandate.refresh_from_db()
    later.refresh_from_db()
    assert two.status == CollectionStatus.RETURNED and two.return_code == "AC04"
    assert two.mandate.status == MandateStatus.REVOKED
    assert "opgeheven" in two.mandate.revoke_reason
    assert later.status == CollectionStatus.CANCELLED
    message = Message.objects.get(template="incasso-gestorneerd")
    assert message.context["mandate_ended"] is True


def test_reject_books_nothing(submitted):
    """A reject before settlement books nothing; a rejected FRST makes the next debit FRST
    again; the debtor is told; twice is once."""
    _batch, (row, *_rest) = submitted
    assert row.sequence == "FRST"
    collection_return(collection=row, code="AM04", kind="reject", on=MONDAY)
    row.refresh_from_db()
    assert row.status == CollectionStatus.REJECTED and row.payment is None
    assert not Payment.objects.exists()
    row.mandate.refresh_from_db()
    assert row.mandate.first_collected is False
    assert Message.objects.filter(template="incasso-gestorneerd").count() == 1
    collection_return(collection=row, code="AM04", kind="reject", on=MONDAY)
    assert Event.objects.filter(verb="collection.rejected").count() == 1


def test_wrong_kind_of_return_is_refused(submitted, sepa_creditor):
    """A storno needs a settled debit; a reject one that is not settled yet."""
    _batch, (row, *_rest) = submitted
    with pytest.raises(SepaError, match="a return before collection is a reject"):
        collection_return(collection=row, code="MD06", kind="storno", on=MONDAY)
    statement_entry_handle(credit(sepa_creditor, 4910, end_to_end_id=row.end_to_end_id))
    row.refresh_from_db()
    with pytest.raises(SepaError, match="a storno, not a reject"):
        collection_return(collection=row, code="MD06", kind="reject", on=MONDAY)
    with pytest.raises(SepaError, match="4 letters or digits"):
        collection_return(collection=row, code="NO SUCH", kind="storno", on=MONDAY)


def test_a_settled_debit_credited_again_is_not_booked_twice(submitted, sepa_creditor):
    """The same credit again (another statement) books nothing new."""
    _batch, (row, *_rest) = submitted
    statement_entry_handle(credit(sepa_creditor, 4910, end_to_end_id=row.end_to_end_id))
    again = credit(sepa_creditor, 4910, remittance=f"EREF: {row.end_to_end_id}")
    assert statement_entry_handle(again) is True
    assert "al geboekt" in again.match_reason
    assert Payment.objects.count() == 1


PAIN002 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>STATUS-1</MsgId><CreDtTm>2030-03-05T08:00:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.08</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>{info_id}</OrgnlPmtInfId>
      <TxInfAndSts>
        <OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Cd>AC01</Cd></Rsn></StsRsnInf>
      </TxInfAndSts>
      <TxInfAndSts>
        <OrgnlEndToEndId>VWI-999-1</OrgnlEndToEndId><TxSts>RJCT</TxSts>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"""


def pain002(batch, row) -> bytes:
    info_id = next(
        key for key, ids in pain008_groups(batch.xml).items() if row.end_to_end_id in ids
    )
    return PAIN002.format(
        message_id=batch.message_id, info_id=info_id, e2e=row.end_to_end_id
    ).encode()


def test_status_report_rejects(submitted):
    """A pain.002 report's rejected transaction becomes REJECTED (AC01 revokes the mandate);
    an unknown id is listed; the same report again changes nothing."""
    batch, (row, *_rest) = submitted
    report = status_report_apply(raw=pain002(batch, row), on=MONDAY)
    assert [r.pk for r in report.rejected] == [row.pk]
    assert report.unknown == ["VWI-999-1"]
    row.refresh_from_db()
    assert row.status == CollectionStatus.REJECTED and row.return_code == "AC01"
    assert row.mandate.status == MandateStatus.REVOKED
    again = status_report_apply(raw=pain002(batch, row), on=MONDAY)
    assert again.rejected == [] and again.unchanged == [row.end_to_end_id]


def test_status_report_rejecting_the_whole_file(submitted):
    """GrpSts RJCT rejects every debit of the file."""
    batch, _rows = submitted
    raw = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>S2</MsgId></GrpHdr><OrgnlGrpInfAndSts>"
        f"<OrgnlMsgId>{batch.message_id}</OrgnlMsgId><GrpSts>RJCT</GrpSts>"
        "<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()
    report = status_report_apply(raw=raw, on=MONDAY)
    assert len(report.rejected) == 3
    assert set(batch.collections.values_list("return_code", flat=True)) == {"FF01"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not xml", "not XML"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>', "not a pain.002"),
    ],
)
def test_status_report_refuses_other_files(db, raw, reason):
    with pytest.raises(SepaError, match=reason):
        status_report_apply(raw=raw)


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>SEPATEST1</MsgId><CreDtTm>2030-03-20T18:00:00</CreDtTm></GrpHdr>
<Stmt>
<Id>SEPATEST-1</Id><CreDtTm>2030-03-20T18:00:00</CreDtTm>
<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">149.10</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2030-03-11</Dt></BookgDt><ValDt><Dt>2030-03-11</Dt></ValDt>
<AcctSvcrRef>BANK-1</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><PmtInfId>{frst}</PmtInfId><NbOfTxs>2</NbOfTxs></Btch></NtryDtls>
</Ntry>
<Ntry><Amt Ccy="EUR">25.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2030-03-11</Dt></BookgDt>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>{rcur_e2e}</EndToEndId></Refs>
<RmtInf><Ustrd>Termijn 2</Ustrd></RmtInf></TxDtls></NtryDtls>
</Ntry>
<Ntry><Amt Ccy="EUR">49.10</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2030-03-14</Dt></BookgDt>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>{storno_e2e}</EndToEndId></Refs>
<RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf></TxDtls></NtryDtls>
</Ntry>
</Stmt>
</BkToCstmrStmt>
</Document>
"""


def test_through_the_statement_import(submitted, sepa_creditor):
    """A real CAMT.053 import: the FRST block's batch credit and the RCUR debit's own credit
    settle everything; a later MD06 return reverses the first debit; importing again changes
    nothing."""
    batch, (one, two, three) = submitted
    frst = next(key for key in pain008_groups(batch.xml) if key.endswith("-F1"))
    raw = CAMT.format(
        account=sepa_creditor.iban,
        frst=frst,
        rcur_e2e=three.end_to_end_id,
        storno_e2e=one.end_to_end_id,
    ).encode()
    actor = Actor.for_import("test")
    statement_import(raw=raw, file_name="sepa.xml", creditor=sepa_creditor, actor=actor)
    statuses = {row.pk: row.status for row in batch.collections.all()}
    assert statuses == {
        one.pk: CollectionStatus.RETURNED,
        two.pk: CollectionStatus.SETTLED,
        three.pk: CollectionStatus.SETTLED,
    }
    assert sorted(StatementEntry.objects.values_list("status", flat=True)) == [
        EntryStatus.COLLECTION,
        EntryStatus.COLLECTION,
        EntryStatus.RETURN,
    ]
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    statement_import(raw=raw, file_name="sepa.xml", creditor=sepa_creditor, actor=actor)
    assert Payment.objects.count() == 3
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1


def test_money_for_a_rejected_debit_waits_for_a_person(submitted, sepa_creditor):
    """Statements imported out of order: the debit that took the money back came first (a
    submitted debit: a reject), then the credit. The credit is not booked on the debtor by
    ordinary matching (the mandate's IBAN would find them): that would count money the bank
    took back. It waits in the worklist, with why."""
    _batch, (row, *_rest) = submitted
    back = credit(sepa_creditor, -4910, end_to_end_id=row.end_to_end_id, return_code="MD06")
    assert statement_entry_handle(back) is True
    row.refresh_from_db()
    assert row.status == CollectionStatus.REJECTED
    late = credit(
        sepa_creditor, 4910, end_to_end_id=row.end_to_end_id, counterparty_iban=row.mandate.iban
    )
    assert statement_entry_handle(late) is True
    assert late.status == EntryStatus.UNMATCHED and late.payment is None
    assert "controleer" in late.match_reason
    assert not Payment.objects.exists()


def test_a_status_report_rejects_only_debits_of_its_own_file(submitted):
    """A report about a file we do not know may not reject a debit of another file (another
    creditor's, perhaps) by naming its end-to-end id."""
    batch, (row, *_rest) = submitted
    raw = PAIN002.format(message_id="VWB-OTHER-20300304-001", info_id="X-F1", e2e=row.end_to_end_id)
    report = status_report_apply(raw=raw.encode(), on=MONDAY)
    assert report.rejected == [] and row.end_to_end_id in report.unknown
    row.refresh_from_db()
    assert row.status == CollectionStatus.SUBMITTED
