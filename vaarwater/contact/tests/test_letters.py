"""Letters as PDF, their QR codes, the letter adapter and the daily print batch.

The PDF checks use the real tools a reader or a bank app would: ``pdftotext`` and ``pdftoppm``
(Debian poppler-utils) and ``zbarimg`` (Debian zbar-tools). A missing tool fails the test.
"""

import base64
import csv
import re
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import segno
from django.core.management import CommandError, call_command

from vaarwater.contact.letters.adapter import LetterAdapter
from vaarwater.contact.letters.batch import MANIFEST_COLUMNS, print_batch_create
from vaarwater.contact.letters.epc import epc_payload, epc_qr, rf_reference_valid
from vaarwater.contact.letters.pdf import letter_pdf
from vaarwater.contact.models import Message, PrintBatch
from vaarwater.contact.providers.base import PermanentFailure
from vaarwater.core.models import Event
from vaarwater.ledger.models import Debtor

AMS = ZoneInfo("Europe/Amsterdam")
IBAN = "NL91ABNA0417164300"
WORDING = "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief"
PORTAL = "http://127.0.0.1:8000/p/AbCdEfGhIjKlMnOpQrStUvWx12345678/"
DAY = date(2026, 11, 23)
BODY = (
    "Beste heer De Vriës,\n\n"
    "Wij hebben uw betaling van € 200,00 nog niet ontvangen. Betaal dit bedrag "
    f"{WORDING}. Betaalt u niet op tijd, dan brengen wij € 40,00 incassokosten in rekening.\n\n"
    "Lukt betalen niet? Neem contact met ons op, dan zoeken we samen naar een oplossing.\n\n"
    "Met vriendelijke groet,\nEnergie Noord BV"
)
FOURTEEN_DAY_CONTEXT = {
    "case": "000012-7",
    "claim_cents": 21750,
    "principal_cents": 20000,
    "costs_cents": 4000,
    "vat_cents": 0,
    "term_ends_on": "2026-12-10",
    "term_wording": WORDING,
}
SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    b'<rect width="120" height="40" fill="#0a5"/></svg>'
)


# -- tools -------------------------------------------------------------------------------------


def tool(name: str, package: str) -> str:
    """The path of a command-line tool; fail (never skip) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install the Debian package {package} (apt-get install)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext extracts it, with runs of whitespace made one space."""
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        [tool("pdftotext", "poppler-utils"), "-layout", "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
    )
    return re.sub(r"\s+", " ", done.stdout.decode("utf-8"))


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "pages.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        [tool("pdfinfo", "poppler-utils"), str(source)], capture_output=True, text=True, check=True
    )
    return int(re.search(r"^Pages:\s+(\d+)$", done.stdout, re.MULTILINE).group(1))


def page_png(pdf: bytes, tmp_path: Path, page: int = 1) -> Path:
    """Render one page at 300 dpi, as a printer would."""
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            tool("pdftoppm", "poppler-utils"),
            "-r",
            "300",
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    return tmp_path / "page.png"


def qr_codes(image: Path) -> list[str]:
    """Every QR code zbarimg finds in the image (its XML output keeps codes apart)."""
    done = subprocess.run(
        [tool("zbarimg", "zbar-tools"), "--xml", "-q", "--nodbus", str(image)],
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 4):  # 4: nothing found
        pytest.fail(f"zbarimg failed: {done.stderr}")
    root = ElementTree.fromstring(done.stdout)
    return [el.text or "" for el in root.iter("{http://zbar.sourceforge.net/2008/barcode}data")]


def qr_raw(image: Path) -> bytes:
    """The one QR code in the image, as raw bytes (no charset guessing)."""
    done = subprocess.run(
        [tool("zbarimg", "zbar-tools"), "--raw", "-q", "--nodbus", "-Sbinary", str(image)],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def letterhead(creditor):
    creditor.iban = IBAN
    creditor.address = "Postbus 123\n9700 AB Groningen"
    creditor.phone = "+31501234567"
    creditor.website = "www.energienoord.nl"
    creditor.save()
    return creditor


@pytest.fixture
def make_letter(letterhead):
    counter = {"n": 0}

    def make(
        *,
        on=None,
        debtor=None,
        postcode="1234AB",
        name="Jan de Vriës",
        body=BODY,
        context=None,
        sent_at=datetime(2026, 11, 23, 10, 0, tzinfo=AMS),
        status="sent",
        template="veertiendagenbrief",
    ):
        counter["n"] += 1
        owner = on or letterhead
        if debtor is None:
            debtor = Debtor.objects.create(
                creditor=owner,
                external_id=f"L{counter['n']}",
                name=name,
                street="Dorpsstraat",
                house_number=str(counter["n"]),
                postcode=postcode,
                city="Utrecht",
            )
        return Message.objects.create(
            creditor=owner,
            debtor=debtor,
            channel="letter",
            template=template,
            purpose="demand",
            status=status,
            not_before=datetime(2026, 11, 23, 9, 0, tzinfo=AMS),
            idempotency_key=f"letter-test-{counter['n']}",
            subject="Laatste herinnering: betaal binnen 14 dagen",
            body_text=body,
            context=dict(FOURTEEN_DAY_CONTEXT if context is None else context),
            sent_at=sent_at if status in ("sent", "delivered") else None,
        )

    return make


# -- the letter --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_fourteen_day_letter_text_holds_legal_wording_and_cost_amount(make_letter, tmp_path):
    """pdftotext finds the legal wording and the exact cost amount verbatim, with the address,
    date, reference and payment details."""
    message = make_letter(context={**FOURTEEN_DAY_CONTEXT, "portal_url": PORTAL})
    text = pdf_text(letter_pdf(message=message), tmp_path)
    assert WORDING in text
    assert "€ 40,00 incassokosten" in text
    assert "Jan de Vriës Dorpsstraat 1 1234 AB UTRECHT" in text
    assert "23 november 2026" in text
    assert "Ons kenmerk 000012-7" in text
    assert "Bedrag € 200,00" in text  # the principal: paying it in the term avoids the costs
    assert "NL91 ABNA 0417 1643 00" in text
    assert "Scan met uw bank-app" in text
    assert "Bekijk uw dossier en regel het online" in text
    assert "Postbus 123" in text and "050 123 4567" in text
    assert f"Uw persoonlijke link: {PORTAL}" in text


@pytest.mark.django_db
def test_letter_html_body_is_used_when_present(make_letter, tmp_path):
    """body_html (an email-like document) is printed without its head or scripts."""
    message = make_letter()
    message.body_html = (
        "<html><head><title>Mail</title><style>p{color:red}</style></head><body>"
        f"<p>Betaal {WORDING}.</p><script>alert('x')</script><p>Kosten: &euro; 40,00</p>"
        "</body></html>"
    )
    text = pdf_text(letter_pdf(message=message), tmp_path)
    assert f"Betaal {WORDING}." in text
    assert "Kosten: € 40,00" in text
    assert "alert" not in text and "Mail" not in text and "color" not in text


@pytest.mark.django_db
def test_letter_qr_codes_decode_to_epc_payload_and_portal_link(make_letter, tmp_path):
    """The EPC QR decodes to a valid EPC069-12 payload with the IBAN and the exact amount to
    pay (the principal); the other QR decodes to the personal portal link."""
    message = make_letter(context={**FOURTEEN_DAY_CONTEXT, "portal_url": PORTAL})
    codes = qr_codes(page_png(letter_pdf(message=message), tmp_path))
    assert len(codes) == 2, codes
    epc = next(code for code in codes if code.startswith("BCD\n"))
    assert PORTAL in codes
    lines = epc.split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]  # service tag, version, UTF-8, transfer
    assert lines[4] == ""  # BIC: optional in version 002
    assert lines[5] == "Energie Noord BV"
    assert lines[6] == IBAN
    assert re.fullmatch(r"EUR[0-9]{1,9}(\.[0-9]{1,2})?", lines[7])
    assert Decimal(lines[7][3:]) == Decimal("200.00")
    assert lines[8] == ""  # purpose
    assert lines[9] == ""  # no structured reference: a case reference is not an RF reference
    assert lines[10] == "000012-7"
    assert len(lines) == 11
    assert epc == epc_payload(
        name="Energie Noord BV", iban=IBAN, amount_cents=20000, reference="000012-7"
    )


@pytest.mark.django_db
def test_letter_without_iban_has_no_payment_code_and_says_so(make_letter, letterhead, tmp_path):
    """No collection IBAN: no EPC QR, a note instead; a reminder asks for the whole claim."""
    letterhead.iban = ""
    letterhead.save()
    message = make_letter(context={"case": "000019-3", "claim_cents": 12345, "portal_url": PORTAL})
    pdf = letter_pdf(message=message)
    text = pdf_text(pdf, tmp_path)
    assert "geen betaal-QR-code" in text
    assert "Bedrag € 123,45" in text
    assert qr_codes(page_png(pdf, tmp_path)) == [PORTAL]


@pytest.mark.django_db
def test_letter_without_portal_link_has_only_the_payment_code(make_letter, letterhead, tmp_path):
    """No portal_url in the context: no portal QR; a BIC on the creditor goes in the payload."""
    letterhead.bic = "ABNANL2A"
    letterhead.save()
    message = make_letter()
    pdf = letter_pdf(message=message)
    (code,) = qr_codes(page_png(pdf, tmp_path))
    assert code.split("\n")[4] == "ABNANL2A"
    assert "Bekijk uw dossier" not in pdf_text(pdf, tmp_path)


def pdf_images(pdf: bytes, tmp_path: Path) -> list[str]:
    source = tmp_path / "images.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        [tool("pdfimages", "poppler-utils"), "-list", str(source)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()[2:]  # below the two header lines


@pytest.mark.django_db
def test_letter_shows_the_creditor_logo(make_letter, letterhead, tmp_path):
    """A PNG logo is embedded as one more image beside the QR code."""
    message = make_letter()
    without = pdf_images(letter_pdf(message=message), tmp_path)
    letterhead.logo = base64.b64decode(segno.make_qr("logo").png_data_uri().split(",", 1)[1])
    letterhead.logo_type = "image/png"
    letterhead.save()
    message.refresh_from_db()
    assert len(pdf_images(letter_pdf(message=message), tmp_path)) == len(without) + 1


# -- EPC payload ---------------------------------------------------------------------------------


def test_epc_payload_with_rf_reference_uses_the_structured_field():
    """A valid RF creditor reference goes in the structured field, the text line stays off."""
    payload = epc_payload(
        name="Energie Noord BV",
        iban="nl91 abna 0417 1643 00",
        amount_cents=4000,
        reference="RF18 5390 0754 7034",
        bic="abnanl2a",
    )
    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "ABNANL2A",
        "Energie Noord BV",
        IBAN,
        "EUR40",
        "",
        "RF18539007547034",
    ]
    assert rf_reference_valid("RF18539007547034")


def test_epc_qr_keeps_utf8_names(tmp_path):
    """A name with diacritics comes out of the QR byte for byte (UTF-8, character set 1)."""
    arguments = dict(name="Woonstichting Ús Hûs", iban=IBAN, amount_cents=123456, reference="K-9")
    image = tmp_path / "epc.png"
    epc_qr(**arguments).save(str(image), scale=6)
    assert qr_raw(image).decode("utf-8") == epc_payload(**arguments)
    assert "EUR1234.56" in epc_payload(**arguments).split("\n")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iban": "NL91ABNA0417164301"}, "iban: invalid IBAN"),
        ({"iban": ""}, "iban: invalid IBAN"),
        ({"name": "x" * 71}, "name: longer than 70 characters"),
        ({"name": "  "}, "name: required"),
        ({"name": "Energie\nNoord"}, "name: contains a line break"),
        ({"amount_cents": 0}, "amount: 0 cents is outside"),
        ({"amount_cents": -500}, "amount: -500 cents is outside"),
        ({"amount_cents": 100_000_000_000}, "is outside EUR0.01 to EUR999999999.99"),
        ({"amount_cents": 40.0}, "amount: integer cents expected"),
        ({"amount_cents": True}, "amount: integer cents expected"),
        ({"bic": "ABNA"}, "bic: invalid BIC"),
        ({"reference": "RF19539007547034"}, "not a valid RF creditor reference"),
        ({"reference": "RF18539007547034", "text": "x"}, "cannot both be given"),
        ({"reference": ""}, "a reference or a remittance text is required"),
        ({"reference": "x" * 141}, "reference: longer than 140 characters"),
    ],
)
def test_epc_payload_refuses_bad_input(change, reason):
    """Bad IBAN or BIC, a bad name, an amount out of range or not in cents, a bad reference."""
    arguments = dict(name="Energie Noord BV", iban=IBAN, amount_cents=4000, reference="000012-7")
    arguments.update(change)
    with pytest.raises(ValueError, match=re.escape(reason)):
        epc_payload(**arguments)


# -- the adapter -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_adapter_writes_the_pdf_of_the_day_and_finds_it_again(make_letter, settings, tmp_path):
    """send() writes VAR_DIR/letters/<Amsterdam day>/<id>.pdf; lookup() finds it."""
    settings.VAR_DIR = tmp_path
    # 23:30 UTC is already the next day in Amsterdam.
    adapter = LetterAdapter(now=lambda: datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("UTC")))
    message = make_letter(status="sending")
    other = make_letter(status="sending")
    assert adapter.lookup(message) == ""
    sent = adapter.send(message)
    path = tmp_path / "letters" / "2026-11-24" / f"{message.pk}.pdf"
    assert sent.provider_id == f"letter-{message.pk}"
    assert path.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert adapter.lookup(message) == f"letter-{message.pk}"
    assert adapter.lookup(other) == ""
    assert LetterAdapter.name == "print" and LetterAdapter.can_lookup


@pytest.mark.django_db
def test_adapter_refuses_a_debtor_without_postal_address(make_letter, settings, tmp_path):
    """No street, postcode or city: a permanent failure that does not mark a contact invalid."""
    settings.VAR_DIR = tmp_path
    message = make_letter(status="sending")
    Debtor.objects.filter(pk=message.debtor_id).update(postcode="")
    message.refresh_from_db()
    with pytest.raises(PermanentFailure) as failure:
        LetterAdapter().send(message)
    assert failure.value.reason == "geen volledig postadres"
    assert failure.value.contact_invalid is False
    assert not (tmp_path / "letters").exists()


# -- the print batch ---------------------------------------------------------------------------


@pytest.fixture
def day_letters(make_letter, other_creditor):
    """Three letters of ENERGIE on DAY (one of two pages), and letters that must stay out."""
    long_body = BODY + ("\n\nDit is een extra alinea met uitleg over uw rekening." * 30)
    letters = [
        make_letter(postcode="9711AA", name="Piet Noord"),
        make_letter(postcode="1011AB", name="Anna Zuid", body=long_body),
        make_letter(postcode="3511CC", name="Karel Midden"),
    ]
    out = [
        make_letter(sent_at=datetime(2026, 11, 24, 0, 5, tzinfo=AMS), name="Volgende Dag"),
        make_letter(sent_at=datetime(2026, 11, 22, 23, 55, tzinfo=AMS), name="Vorige Dag"),
        make_letter(status="queued", name="Nog In Wachtrij"),
        make_letter(on=other_creditor, name="Andere Schuldeiser"),
    ]
    return letters, out


@pytest.mark.django_db
def test_print_batch_merges_the_days_letters(day_letters, letterhead, settings, tmp_path):
    """One PDF with every page of the day's letters by postcode, a manifest that says where
    each letter starts, the letters linked to the batch, one event; a second run makes
    nothing new."""
    settings.VAR_DIR = tmp_path
    letters, out = day_letters
    each = [pdf_pages(letter_pdf(message=m), tmp_path) for m in letters]
    assert sorted(each) == [1, 1, 2]

    batch = print_batch_create(creditor=letterhead, day=DAY)

    assert batch.letters_count == 3
    assert batch.pages_count == sum(each) == 4
    pdf = Path(batch.pdf_path)
    assert pdf == tmp_path / "print" / "2026-11-23" / "ENERGIE-2026-11-23.pdf"
    assert pdf_pages(pdf.read_bytes(), tmp_path) == 4
    text = pdf_text(pdf.read_bytes(), tmp_path)
    assert text.index("Anna Zuid") < text.index("Karel Midden") < text.index("Piet Noord")
    assert text.count(WORDING) == 3
    for excluded in ("Volgende Dag", "Vorige Dag", "Nog In Wachtrij", "Andere Schuldeiser"):
        assert excluded not in text

    with open(batch.manifest_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert list(rows[0]) == list(MANIFEST_COLUMNS)
    by_postcode = sorted(letters, key=lambda m: m.debtor.postcode)
    assert [r["message_id"] for r in rows] == [str(m.pk) for m in by_postcode]
    assert [r["name"] for r in rows] == ["Anna Zuid", "Karel Midden", "Piet Noord"]
    assert [(r["sequence"], r["first_page"], r["pages"]) for r in rows] == [
        ("1", "1", "2"),
        ("2", "3", "1"),
        ("3", "4", "1"),
    ]
    assert rows[0]["case_reference"] == "000012-7"
    assert rows[0]["postcode"] == "1011AB" and rows[0]["city"] == "Utrecht"
    assert rows[0]["template"] == "veertiendagenbrief"

    assert {m.pk for m in Message.objects.filter(print_batch=batch)} == {m.pk for m in letters}
    assert not Message.objects.filter(pk__in=[m.pk for m in out], print_batch__isnull=False)
    event = Event.objects.get(verb="print_batch.created")
    assert event.subject_id == batch.pk and event.data["pages"] == 4

    written = pdf.stat().st_mtime_ns
    again = print_batch_create(creditor=letterhead, day=DAY)
    assert again.pk == batch.pk
    assert PrintBatch.objects.count() == 1
    assert Event.objects.filter(verb="print_batch.created").count() == 1
    assert pdf.stat().st_mtime_ns == written


@pytest.mark.django_db
def test_print_batch_prints_the_stored_letter(make_letter, letterhead, settings, tmp_path):
    """The batch joins the PDF stored when the letter was sent, not a new rendering: a
    letterhead changed since does not show. A letter without a stored file is rendered
    and stored first."""
    settings.VAR_DIR = tmp_path
    at = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)
    stored = make_letter(status="sending", postcode="1000AA")
    LetterAdapter(now=lambda: at).send(stored)
    Message.objects.filter(pk=stored.pk).update(status="sent", sent_at=at)
    unstored = make_letter(postcode="2000AA")
    letterhead.address = "Nieuwe Laan 1\n1000 AA Amsterdam"
    letterhead.save()

    batch = print_batch_create(creditor=letterhead, day=DAY)

    text = pdf_text(Path(batch.pdf_path).read_bytes(), tmp_path)
    first, second = text.split("pagina 1 van 1")[:2]
    assert "Postbus 123" in first and "Nieuwe Laan" not in first
    assert "Nieuwe Laan" in second
    assert (tmp_path / "letters" / "2026-11-23" / f"{unstored.pk}.pdf").exists()


@pytest.mark.django_db
def test_print_batch_of_a_day_without_letters_is_none(letterhead, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert print_batch_create(creditor=letterhead, day=DAY) is None
    assert not PrintBatch.objects.exists()


@pytest.mark.django_db
def test_print_batch_command(day_letters, settings, tmp_path):
    """The command reports letters, pages and files per creditor, and "already made" after."""
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("print-batch", "--date", "2026-11-23", stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    folder = tmp_path / "print" / "2026-11-23"
    assert lines == [
        "ENERGIE 2026-11-23: 3 letters, 4 pages (made)",
        f"  pdf: {folder / 'ENERGIE-2026-11-23.pdf'}",
        f"  manifest: {folder / 'ENERGIE-2026-11-23.csv'}",
        "WONEN 2026-11-23: 1 letters, 1 pages (made)",
        f"  pdf: {folder / 'WONEN-2026-11-23.pdf'}",
        f"  manifest: {folder / 'WONEN-2026-11-23.csv'}",
    ]
    out = StringIO()
    call_command("print-batch", "--date", "2026-11-23", "--creditor", "energie", stdout=out)
    assert out.getvalue().splitlines()[0] == "ENERGIE 2026-11-23: 3 letters, 4 pages (already made)"
    out = StringIO()
    call_command("print-batch", "--date", "2026-11-20", "--creditor", "ENERGIE", stdout=out)
    assert out.getvalue() == "ENERGIE 2026-11-20: no letters\n"


@pytest.mark.django_db
def test_print_batch_command_refuses_bad_input(creditor):
    with pytest.raises(CommandError, match="--creditor NOPE: no such creditor"):
        call_command("print-batch", "--date", "2026-11-23", "--creditor", "NOPE")
    with pytest.raises(CommandError, match="--date '23-11-2026': expected YYYY-MM-DD"):
        call_command("print-batch", "--date", "23-11-2026")


# -- the letterhead command --------------------------------------------------------------------


@pytest.mark.django_db
def test_letterhead_command_sets_logo_address_and_bic(creditor, tmp_path):
    """Good values are stored normalised, with one event."""
    logo = tmp_path / "logo.svg"
    logo.write_bytes(SVG_LOGO)
    out = StringIO()
    call_command(
        "creditor",
        "letterhead",
        "energie",
        "--logo",
        str(logo),
        "--address",
        "Postbus 123\\n9700 AB Groningen",
        "--phone",
        "050-1234567",
        "--email",
        "Incasso@EnergieNoord.nl",
        "--website",
        "www.energienoord.nl",
        "--bic",
        "abnanl2a",
        stdout=out,
    )
    creditor.refresh_from_db()
    assert bytes(creditor.logo) == SVG_LOGO and creditor.logo_type == "image/svg+xml"
    assert creditor.address == "Postbus 123\n9700 AB Groningen"
    assert creditor.phone == "+31501234567"
    assert creditor.email == "Incasso@energienoord.nl"
    assert creditor.bic == "ABNANL2A"
    assert "ENERGIE: letterhead changed" in out.getvalue()
    assert Event.objects.filter(verb="creditor.letterhead_changed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("logo.gif", b"GIF89a....", "not an SVG or PNG image"),
        ("logo.svg", b"<html><body>no</body></html>", "not an SVG or PNG image"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><rect", "not a well-formed SVG"),
        (
            "logo.svg",
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>',
            "an SVG with a DOCTYPE or entities is refused",
        ),
        ("logo.png", SVG_LOGO, "the file is named .png but holds image/svg+xml"),
        ("logo.png", b"\x89PNG\r\n\x1a\nbroken", "not a readable PNG image"),
        ("logo.svg", b"", "the file is empty"),
        (
            "big.svg",
            b"<svg>" + b" " * (1024 * 1024) + b"</svg>",
            "a logo must be smaller than 1 MB",
        ),
    ],
)
def test_letterhead_command_refuses_a_bad_logo(creditor, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        call_command("creditor", "letterhead", "ENERGIE", "--logo", str(path))
    assert str(error.value).startswith(f"creditor letterhead: --logo {path}: ")
    assert reason in str(error.value)
    creditor.refresh_from_db()
    assert not creditor.logo


@pytest.mark.django_db
def test_letterhead_command_refuses_bad_bic_missing_file_and_unknown_creditor(creditor, tmp_path):
    with pytest.raises(CommandError, match=r"^creditor letterhead: --bic ABNA: not a valid BIC"):
        call_command("creditor", "letterhead", "ENERGIE", "--bic", "ABNA")
    missing = tmp_path / "none.svg"
    with pytest.raises(
        CommandError, match=rf"^creditor letterhead: --logo {missing}: No such file"
    ):
        call_command("creditor", "letterhead", "ENERGIE", "--logo", str(missing))
    with pytest.raises(CommandError, match="^creditor letterhead: NOPE: no such creditor"):
        call_command("creditor", "letterhead", "NOPE", "--bic", "ABNANL2A")
    creditor.refresh_from_db()
    assert creditor.bic == ""
