"""Pre-notification and pain.008 files: timing, FRST/RCUR, amounts and control sums, and both
formats valid against the official XSDs in shared/testdata/xsd (the issue's "done when")."""

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
import xmlschema
from lxml import etree

from vaarwater.contact.models import Message
from vaarwater.core.models import Event
from vaarwater.payments import sepa
from vaarwater.payments.sepa import (
    PAIN_02,
    PAIN_08,
    SepaError,
    batch_create,
    collections_plan,
    mandate_revoke,
    prenotifications_send,
)
from vaarwater.payments.sepa_models import CollectionStatus

from .test_sepa_fixtures import (  # noqa: F401
    CREDITOR_IBAN,
    CREDITOR_ID,
    MONDAY,
    XSD_DIR,
    load_strategy,
    make_debtor,
    make_mandate,
    sepa_creditor,
)

pytestmark = pytest.mark.django_db


def plan(mandate, *amounts_and_days, prefix=None):
    """Plan debits of (amount, days after MONDAY) under a mandate."""
    prefix = prefix or f"test:{mandate.pk}"
    return collections_plan(
        mandate=mandate,
        items=[
            (f"{prefix}:{i}", amount, MONDAY + timedelta(days=days), f"Termijn {i + 1} regeling")
            for i, (amount, days) in enumerate(amounts_and_days)
        ],
    )


def ns(xml: bytes):
    root = etree.fromstring(xml)
    return root, {"p": root.nsmap[None]}


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def test_prenotification_timing(make_mandate):
    """A debit is pre-notified once, within the policy's 5 days plus a 2-day margin, with the
    amount, the day, the mandate and the creditor id in the message."""
    mandate = make_mandate()
    near, far = plan(mandate, (4910, 7), (4910, 8))
    assert prenotifications_send(on=MONDAY) == 1
    near.refresh_from_db()
    far.refresh_from_db()
    assert near.prenotified_on == MONDAY and far.prenotified_on is None
    message = Message.objects.get(template="incasso-vooraankondiging")
    assert message.debtor_id == mandate.debtor_id
    assert message.context["collection_cents"] == 4910
    assert message.context["collection_on"] == near.due_on.isoformat()
    assert message.context["mandate_id"] == mandate.mandate_id
    assert message.context["creditor_sepa_id"] == CREDITOR_ID
    assert message.purpose == "prenotification"
    assert prenotifications_send(on=MONDAY) == 0  # never twice
    assert prenotifications_send(on=MONDAY + timedelta(days=1)) == 1  # the far one, next day
    assert Event.objects.filter(verb="collection.prenotified").count() == 2


def test_prenotified_text_names_amount_and_day(make_mandate):
    """The rendered pre-notification says the amount, the day and the mandate reference."""
    from vaarwater.contact.rendering import message_content

    mandate = make_mandate()
    plan(mandate, (4910, 7))
    prenotifications_send(on=MONDAY)
    message = Message.objects.get(template="incasso-vooraankondiging")
    text = message_content(message=message).text
    assert "Op 11 maart 2030 schrijven wij € 49,10 af van uw rekening." in text
    assert mandate.mandate_id in text and CREDITOR_ID in text


def test_a_debit_too_close_is_moved_before_it_is_announced(make_mandate):
    """A debit due sooner than the pre-notification allows is moved to a TARGET day far
    enough ahead, and the message names the new day."""
    mandate = make_mandate()
    [row] = plan(mandate, (2500, 1))
    prenotifications_send(on=MONDAY)
    row.refresh_from_db()
    # Five days ahead is Saturday 9 March: SEPA is closed, so Monday 11 March.
    assert row.due_on == date(2030, 3, 11)
    message = Message.objects.get(template="incasso-vooraankondiging")
    assert message.context["collection_on"] == row.due_on.isoformat()
    assert Event.objects.filter(verb="collection.moved").count() == 1


def test_prenotification_on_a_sunday_is_queued(make_mandate):
    """On a Sunday the message is still queued (the outbox holds it for an allowed time); the
    2-day margin keeps the notice ahead of the debit."""
    mandate = make_mandate()
    sunday = MONDAY - timedelta(days=1)
    [row] = plan(mandate, (2500, 6))  # due Sunday + 7
    assert prenotifications_send(on=sunday) == 1
    message = Message.objects.get(template="incasso-vooraankondiging")
    assert message.status == "queued"
    row.refresh_from_db()
    assert (row.due_on - sunday).days >= 5 + 1


def test_unreachable_debtor_is_tried_again(make_mandate):
    """A debtor without a reachable channel is not marked pre-notified."""
    mandate = make_mandate()
    debtor = mandate.debtor
    debtor.contact_points.all().delete()
    debtor.street = debtor.postcode = debtor.city = debtor.house_number = ""
    debtor.save()
    [row] = plan(mandate, (2500, 7))
    assert prenotifications_send(on=MONDAY) == 0
    row.refresh_from_db()
    assert row.prenotified_on is None


@pytest.mark.parametrize("schema", [PAIN_02, PAIN_08])
def test_batch_validates_against_the_official_xsd(make_mandate, sepa_creditor, schema):
    """Both formats validate against the XSDs in shared/testdata/xsd; counts, amounts and
    control sums are exact; ids are ours; FRST first, RCUR after."""
    first = make_mandate()
    second = make_mandate(holder="Zoë & Jürgen Ørsted")
    plan(first, (4910, 7), (12345, 7))
    plan(second, (1, 6))
    prenotifications_send(on=MONDAY)
    batch = batch_create(
        creditor=sepa_creditor, schema=schema, up_to=MONDAY + timedelta(days=8), on=MONDAY
    )
    xml = batch.xml.encode("utf-8")
    xmlschema.XMLSchema(str(XSD_DIR / f"{schema}.xsd")).validate(xml)
    assert hashlib.sha256(xml).hexdigest() == batch.sha256
    root, n = ns(xml)
    assert root.nsmap[None] == f"urn:iso:std:iso:20022:tech:xsd:{schema}"
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", n)
    assert header.find("p:MsgId", n).text == batch.message_id
    assert batch.message_id.startswith(f"VWB-ENERGIE-{MONDAY:%Y%m%d}-")
    assert header.find("p:NbOfTxs", n).text == "3" == str(batch.count)
    assert cents(header.find("p:CtrlSum", n).text) == 4910 + 12345 + 1 == batch.total_cents
    blocks = root.findall("p:CstmrDrctDbtInitn/p:PmtInf", n)
    seen = {}
    for block in blocks:
        amounts = [cents(a.text) for a in block.findall("p:DrctDbtTxInf/p:InstdAmt", n)]
        assert block.find("p:NbOfTxs", n).text == str(len(amounts))
        assert cents(block.find("p:CtrlSum", n).text) == sum(amounts)
        assert block.find("p:PmtTpInf/p:LclInstrm/p:Cd", n).text == "CORE"
        assert block.find("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", n).text == CREDITOR_ID
        assert block.find("p:CdtrAcct/p:Id/p:IBAN", n).text == CREDITOR_IBAN
        sequence = block.find("p:PmtTpInf/p:SeqTp", n).text
        assert block.find("p:PmtInfId", n).text.startswith(f"{batch.message_id}-{sequence[0]}")
        for tx in block.findall("p:DrctDbtTxInf", n):
            seen[tx.find("p:PmtId/p:EndToEndId", n).text] = (
                sequence,
                cents(tx.find("p:InstdAmt", n).text),
                tx.find("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", n).text,
                tx.find("p:Dbtr/p:Nm", n).text,
            )
    rows = {row.end_to_end_id: row for row in batch.collections.all()}
    assert set(seen) == set(rows)
    for e2e, (sequence, amount, mandate_id, _name) in seen.items():
        row = rows[e2e]
        assert row.status == CollectionStatus.SUBMITTED and row.sequence == sequence
        assert amount == row.amount_cents and mandate_id == row.mandate.mandate_id
    # The first mandate's two debits: the earlier FRST... both on the same day: one FRST.
    first_rows = sorted(first.collections.all(), key=lambda r: r.pk)
    assert [r.sequence for r in first_rows] == ["FRST", "RCUR"]
    assert {name for *_x, name in seen.values()} >= {"Zoe + Jurgen Orsted"}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.first_collected and second.first_collected


def test_the_next_batch_is_rcur(make_mandate, sepa_creditor):
    """After a mandate's first debit, later ones are RCUR; message ids differ."""
    mandate = make_mandate()
    plan(mandate, (1000, 7), (1000, 37))
    prenotifications_send(on=MONDAY)
    one = batch_create(
        creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY + timedelta(days=10), on=MONDAY
    )
    later = MONDAY + timedelta(days=31)
    prenotifications_send(on=later)
    two = batch_create(
        creditor=sepa_creditor, schema=PAIN_08, up_to=later + timedelta(days=10), on=later
    )
    assert [row.sequence for row in one.collections.all()] == ["FRST"]
    assert [row.sequence for row in two.collections.all()] == ["RCUR"]
    assert one.message_id != two.message_id


def test_message_ids_of_one_day_are_unique(make_mandate, sepa_creditor):
    """Two files made on the same day get numbers 001 and 002."""
    first, second = make_mandate(), make_mandate()
    plan(first, (1000, 7))
    prenotifications_send(on=MONDAY)
    one = batch_create(
        creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY + timedelta(days=9), on=MONDAY
    )
    plan(second, (1000, 7))
    prenotifications_send(on=MONDAY)
    two = batch_create(
        creditor=sepa_creditor, schema=PAIN_02, up_to=MONDAY + timedelta(days=9), on=MONDAY
    )
    assert one.message_id.endswith("-001") and two.message_id.endswith("-002")


def test_empty_batch_is_refused(sepa_creditor, make_mandate):
    """No planned debits: a clear error, no file; debits not yet pre-notified are named."""
    with pytest.raises(SepaError, match="no direct debits to collect"):
        batch_create(creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY, on=MONDAY)
    plan(make_mandate(), (1000, 3))
    with pytest.raises(SepaError, match="1 direct debit\\(s\\) wait for their pre-notification"):
        batch_create(
            creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY + timedelta(days=9), on=MONDAY
        )
    assert not Event.objects.filter(verb="sepa_batch.created").exists()


def test_a_past_date_is_moved_to_the_first_possible_day(make_mandate, sepa_creditor):
    """A debit whose date has passed (or is too close for the bank) is collected on the first
    TARGET day the bank accepts, two TARGET days after the file is made."""
    mandate = make_mandate()
    [row] = plan(mandate, (1000, 7))
    prenotifications_send(on=MONDAY)
    later = MONDAY + timedelta(days=8)  # Tuesday 12 March: the debit day (11 March) passed
    batch = batch_create(creditor=sepa_creditor, schema=PAIN_08, up_to=later, on=later)
    row.refresh_from_db()
    assert row.due_on == later + timedelta(days=2)
    assert batch.collection_date == row.due_on
    assert any("moved" in note for note in batch.notes)
    root, n = ns(batch.xml.encode())
    assert root.find(".//p:ReqdColltnDt", n).text == row.due_on.isoformat()
    moved = Event.objects.filter(verb="collection.moved").get()
    assert "voorbij" in moved.reason


def test_target_holidays_are_skipped():
    """SEPA does not settle on Good Friday, Easter Monday, 1 May, Christmas."""
    assert sepa.target_roll(date(2030, 4, 19)) == date(2030, 4, 23)  # Good Friday 2030
    assert sepa.target_add(date(2030, 4, 30), 1) == date(2030, 5, 2)


def test_revoked_mandates_are_not_collected(make_mandate, sepa_creditor):
    """Debits of a revoked mandate are cancelled and never reach a file."""
    keep, stop = make_mandate(), make_mandate()
    plan(keep, (1000, 7))
    plan(stop, (2000, 7))
    prenotifications_send(on=MONDAY)
    mandate_revoke(mandate=stop, reason="klant heeft de machtiging ingetrokken")
    batch = batch_create(
        creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY + timedelta(days=9), on=MONDAY
    )
    assert batch.count == 1 and batch.total_cents == 1000


def test_pain_02_needs_a_bic(make_mandate, sepa_creditor, monkeypatch):
    """pain.008.001.02 needs the creditor's BIC; .08 works without it (NOTPROVIDED)."""
    plan(make_mandate(), (1000, 7))
    prenotifications_send(on=MONDAY)
    monkeypatch.setattr(sepa, "_bic_of", lambda iban: "")
    with pytest.raises(SepaError, match="needs the BIC"):
        batch_create(
            creditor=sepa_creditor, schema=PAIN_02, up_to=MONDAY + timedelta(days=9), on=MONDAY
        )
    batch = batch_create(
        creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY + timedelta(days=9), on=MONDAY
    )
    xmlschema.XMLSchema(str(XSD_DIR / f"{PAIN_08}.xsd")).validate(batch.xml)
    assert "BICFI" not in batch.xml.split("<CdtrAgt>")[1].split("</CdtrAgt>")[0]


def test_unknown_format_and_missing_creditor_id(sepa_creditor):
    """A format other than .02 / .08, or a creditor without an identifier, is refused."""
    with pytest.raises(SepaError, match="expected pain.008.001.02 or pain.008.001.08"):
        batch_create(creditor=sepa_creditor, schema="pain.008.001.09", up_to=MONDAY)
    sepa_creditor.sepa_creditor_id = ""
    sepa_creditor.save()
    with pytest.raises(SepaError, match="incassant-ID"):
        batch_create(creditor=sepa_creditor, schema=PAIN_08, up_to=MONDAY)


def test_our_validation_refuses_a_broken_file():
    """pain008_validate names the problem in a file that breaks the schema."""
    bad = (
        b'<?xml version="1.0" encoding="UTF-8"?><Document xmlns='
        b'"urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"><CstmrDrctDbtInitn/></Document>'
    )
    with pytest.raises(SepaError, match="does not validate"):
        sepa.pain008_validate(bad, PAIN_08)
