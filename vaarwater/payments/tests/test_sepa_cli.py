"""The SEPA commands: sepa-batch writes a valid file, sepa-return records a return,
sepa-status reads a pain.002 report; bad input is a clear error, never a traceback."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import xmlschema
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from vaarwater.payments.sepa import collections_plan, prenotifications_send
from vaarwater.payments.sepa_models import CollectionBatch, CollectionStatus

from .test_sepa_fixtures import (  # noqa: F401
    XSD_DIR,
    load_strategy,
    make_debtor,
    make_mandate,
    sepa_creditor,
)

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def ready(make_mandate):
    """Two pre-notified debits (€ 49,10 and € 12,50) due in a week."""
    today = timezone.localdate()
    rows = []
    for amount in (4910, 1250):
        rows += collections_plan(
            mandate=make_mandate(),
            items=[(f"cli:{amount}", amount, today + timedelta(days=7), "Termijn 1")],
        )
    prenotifications_send(on=today)
    return rows


@pytest.mark.parametrize(
    ("option", "schema"), [("02", "pain.008.001.02"), ("08", "pain.008.001.08")]
)
def test_sepa_batch_writes_the_file(ready, tmp_path, option, schema):
    """The file is written where asked, valid against the XSD; count and total printed."""
    target = tmp_path / "incasso.xml"
    out, _err = run("sepa-batch", "--creditor", "energie", "--format", option, "--out", str(target))
    batch = CollectionBatch.objects.get()
    assert f"{batch.message_id} ({schema}): 2 direct debits, € 61,60 in total" in out
    xmlschema.XMLSchema(str(XSD_DIR / f"{schema}.xsd")).validate(str(target))
    assert target.read_text(encoding="utf-8") == batch.xml


def test_sepa_batch_default_path(ready, tmp_path):
    """Without --out the file goes to var/sepa/<message id>.xml."""
    with override_settings(VAR_DIR=tmp_path):
        out, _err = run("sepa-batch", "--creditor", "ENERGIE")
    batch = CollectionBatch.objects.get()
    assert (tmp_path / "sepa" / f"{batch.message_id}.xml").read_text() == batch.xml
    assert batch.schema == "pain.008.001.08"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--creditor", "NOPE"], "no such creditor"),
        (["--creditor", "ENERGIE", "--format", "09"], "expected 02 or 08"),
        (["--creditor", "ENERGIE", "--up-to", "morgen"], "expected YYYY-MM-DD"),
        (["--creditor", "ENERGIE", "--out", "/nonexistent/dir/x.xml"], "does not exist"),
        (["--creditor", "ENERGIE"], "no direct debits to collect"),
    ],
)
def test_sepa_batch_errors(sepa_creditor, args, reason):
    with pytest.raises(CommandError, match=reason):
        run("sepa-batch", *args)


def test_sepa_return_and_reject(ready):
    """--reject before settlement; a second report says nothing changed; unknown ids fail."""
    row = ready[0]
    with pytest.raises(CommandError, match="never sent to the bank"):
        run("sepa-return", row.end_to_end_id, "--code", "MD06")
    run("sepa-batch", "--creditor", "ENERGIE", "--out", "/dev/null")
    with pytest.raises(CommandError, match="a return before collection is a reject"):
        run("sepa-return", row.end_to_end_id, "--code", "MD06")
    out, _err = run("sepa-return", row.end_to_end_id.lower(), "--code", "AM04", "--reject")
    assert "rejected before collection" in out and "insufficient funds" in out
    row.refresh_from_db()
    assert row.status == CollectionStatus.REJECTED
    out, _err = run("sepa-return", row.end_to_end_id, "--code", "AM04", "--reject")
    assert "nothing changed" in out
    with pytest.raises(CommandError, match="no direct debit with this end-to-end id"):
        run("sepa-return", "VWI-0-0", "--code", "AM04")
    with pytest.raises(CommandError, match="expected YYYY-MM-DD"):
        run("sepa-return", row.end_to_end_id, "--code", "AM04", "--date", "gisteren")


def test_sepa_status(ready, tmp_path):
    """A pain.002 file's rejects are recorded; a file that is not one is a clear error."""
    run("sepa-batch", "--creditor", "ENERGIE", "--out", str(tmp_path / "b.xml"))
    batch = CollectionBatch.objects.get()
    row = ready[1]
    report = tmp_path / "status.xml"
    report.write_text(
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        f"<GrpHdr><MsgId>S1</MsgId></GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId>{batch.message_id}"
        "</OrgnlMsgId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts><OrgnlPmtInfAndSts>"
        f"<OrgnlPmtInfId>x</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>{row.end_to_end_id}"
        "</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>MS03</Cd></Rsn></StsRsnInf>"
        "</TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    )
    out, _err = run("sepa-status", str(report))
    assert "1 rejected" in out and f"{row.end_to_end_id}: rejected (MS03)" in out
    with pytest.raises(CommandError, match="no such file"):
        run("sepa-status", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="not a pain.002"):
        run("sepa-status", str(tmp_path / "b.xml"))


def test_sepa_batch_into_a_folder_and_a_file_that_cannot_be_written(ready, tmp_path, monkeypatch):
    """--out a folder writes <message id>.xml in it (it used to crash after the debits were
    marked submitted); a file that cannot be written (a full disk) changes nothing."""

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_text", full_disk)
        with pytest.raises(CommandError, match="cannot write the file") as caught:
            run("sepa-batch", "--creditor", "ENERGIE", "--out", str(tmp_path / "x.xml"))
    assert "No space left on device" in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert not CollectionBatch.objects.exists()
    assert {row.status for row in ready[0].mandate.collections.all()} == {"planned"}
    out, _err = run("sepa-batch", "--creditor", "ENERGIE", "--out", str(tmp_path))
    batch = CollectionBatch.objects.get()
    assert (tmp_path / f"{batch.message_id}.xml").read_text(encoding="utf-8") == batch.xml
    assert {row.status for row in ready[0].mandate.collections.all()} == {"submitted"}
