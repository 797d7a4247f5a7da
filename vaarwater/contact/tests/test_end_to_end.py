"""From the daily run to the debtor: the strategy plans messages, the outbox renders the shipped
templates and sends them through the real channels, and the providers' webhooks come back.

Email goes to a real SMTP server (aiosmtpd), SMS and WhatsApp to the local provider simulator
through the real client libraries, letters become PDFs; the simulator's delivery webhooks reach
this app over HTTP (``live_server``)."""

import re
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vaarwater.contact.letters.adapter import letters_dir
from vaarwater.contact.letters.epc import epc_payload
from vaarwater.contact.models import Message, MessageStatus
from vaarwater.contact.services import outbox_dispatch
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import ContactPoint
from vaarwater.strategy.models import LegalNotice
from vaarwater.strategy.run import LETTER_WORDING, daily_run
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

from .simulator_fixtures import simulator, simulator_live  # noqa: F401
from .smtp_fixtures import BOUNCE_DOMAIN, smtp_server  # noqa: F401
from .test_letters import page_png, pdf_pages, pdf_text, qr_codes

pytestmark = [pytest.mark.slow]
AMS = ZoneInfo("Europe/Amsterdam")

# One step a day after the due date (Thursday 1 October 2026): Tuesday email, Wednesday SMS,
# Thursday WhatsApp, Friday the 14-day letter.
E2E = """
strategy: e2e
title: Alle kanalen
settings:
  grace_days: 3
  payday_window_days: 0
  contact_caps: {per_day: 1, per_week: 6}
segments:
  - {name: alle, label: Alle klanten, path: kanalen}
paths:
  kanalen:
    - {step: message, channel: email, template: herinnering, day: 5, after: due_date}
    - {step: message, channel: sms, template: herinnering, day: 1}
    - {step: message, channel: whatsapp, template: aanmaning, day: 1}
    - {step: fourteen_day_letter, channel: letter, template: veertiendagenbrief, day: 1}
"""
DAYS = [date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8), date(2026, 10, 9)]


def wait_until(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_the_daily_run_reaches_debtors_on_every_channel(
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
    simulator_live,  # noqa: F811
    smtp_server,  # noqa: F811
    settings,
    tmp_path,
):
    settings.VAR_DIR = tmp_path
    creditor = load_strategy(E2E).creditor
    creditor.iban = "NL91ABNA0417164300"
    creditor.save(update_fields=["iban"])
    anna = make_debtor(amount=12000, due=date(2026, 10, 1))
    ContactPoint.objects.create(debtor=anna, kind="whatsapp", value="+31612345678", source="import")
    # Bram's email bounces: his reminder goes out as a letter instead.
    bram = make_debtor(amount=8000, due=date(2026, 10, 1), phone=None)
    ContactPoint.objects.filter(debtor=bram, kind="email").update(value=f"bram@{BOUNCE_DOMAIN}")

    for day in DAYS:
        daily_run(run_date=day)
        moment = datetime.combine(day, datetime.min.time(), AMS).replace(hour=10)
        while outbox_dispatch(now=moment)["dispatched"]:
            pass

    # Email: the reminder arrived in the SMTP server, in Dutch, with the personal link.
    [mail] = smtp_server.to(ContactPoint.objects.get(debtor=anna, kind="email").value)
    body = mail.get_body(("plain",)).get_content()
    assert "€ 120,00" in body
    assert re.search(r"http://[^\s]+/p/[A-Za-z0-9_-]{32}/", body)
    assert mail.get_body(("html",)) is not None and mail["List-Unsubscribe"]

    # SMS and WhatsApp arrived at the simulator; its webhooks moved them on.
    sms = Message.objects.get(debtor=anna, channel="sms")
    whatsapp = Message.objects.get(debtor=anna, channel="whatsapp")
    at_provider = simulator_live.messages
    assert sum(1 for m in at_provider if m.get("id") == sms.provider_id) == 1
    assert sum(1 for m in at_provider if m.get("id") == whatsapp.provider_id) == 1
    wait_until(lambda: Message.objects.get(pk=sms.pk).status == MessageStatus.DELIVERED)
    wait_until(lambda: Message.objects.get(pk=whatsapp.pk).status == MessageStatus.READ)
    sms.refresh_from_db()
    assert [d.status for d in sms.deliveries.all()][:2] == ["sending", "sent"]
    assert sms.deliveries.filter(source="twilio", status="delivered").exists()

    # The bounce: Bram's address is invalid and the reminder went as a letter.
    bounced = Message.objects.get(debtor=bram, channel="email")
    assert bounced.status == MessageStatus.BOUNCED
    assert ContactPoint.objects.get(debtor=bram, kind="email").invalid_since is not None
    fallback = Message.objects.get(fallback_of=bounced)
    assert fallback.channel == "letter" and fallback.status == MessageStatus.SENT

    # The 14-day letter: the PDF holds the legal wording and the exact costs; its QR pays.
    notice = LegalNotice.objects.get(case__debtor=anna)
    letter = Message.objects.get(debtor=anna, channel="letter")
    assert letter.status == MessageStatus.SENT
    pdf = (letters_dir(DAYS[3]) / f"{letter.pk}.pdf").read_bytes()
    text = pdf_text(pdf, tmp_path)
    assert LETTER_WORDING in text
    assert format_eur(notice.costs_cents) in text
    codes = [
        code
        for page in range(1, pdf_pages(pdf, tmp_path) + 1)
        for code in qr_codes(page_png(pdf, tmp_path, page))
    ]
    expected = epc_payload(
        name=creditor.name,
        iban=creditor.iban,
        amount_cents=notice.principal_cents,
        reference=notice.case.reference,
    )
    assert expected in codes
    assert expected.splitlines()[:4] == ["BCD", "002", "1", "SCT"]
    assert any(code.startswith(f"{settings.PUBLIC_URL}/p/") for code in codes)
    assert Path(letters_dir(DAYS[3])).exists()
