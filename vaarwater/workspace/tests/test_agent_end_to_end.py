"""Issue 7's done-when, end to end in headless Chromium: an agent logs in with password and
TOTP code, takes the next case from the queue, records a promise to pay, sends a payment link
that reaches the SMS simulator; the debtor opens the link from that text message and pays at the
(simulated) iDEAL checkout; the case timeline shows all of it, each step with the agent's name.

Real parts throughout: the live server, the Twilio-compatible SMS simulator and the Mollie
simulator over HTTP (their webhooks reach the app), the login page with django-otp and
django-axes. Only the queue's contact-hours check is opened, so the test also runs at night and
on Sundays (the hours themselves are tested in test_queue.py).
"""

# ruff: noqa: F811 - fixtures imported from other test modules

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from vaarwater.arrangements.models import Promise
from vaarwater.contact.models import CallTask, CallTaskKind
from vaarwater.contact.services import call_task_create
from vaarwater.contact.tests.simulator_fixtures import simulator, simulator_live  # noqa: F401
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.selectors import debtor_position
from vaarwater.payments.models import PaymentLink, PaymentRequest
from vaarwater.payments.tests.mollie_fixtures import mollie, mollie_live  # noqa: F401
from vaarwater.portal.tests.browser_fixtures import artefacts, phone  # noqa: F401
from vaarwater.strategy.tests.conftest import make_debtor  # noqa: F401
from vaarwater.testing import totp_code, totp_device
from vaarwater.workspace import queue
from vaarwater.workspace.models import CallAttempt, CallOutcome

from .factories import agent_for, case_create, version_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-agent-123"  # agent_for's


@pytest.fixture
def calling_allowed(monkeypatch):
    monkeypatch.setattr(queue, "call_allowed", lambda now, settings: True)


def test_agent_takes_the_next_case_records_a_promise_and_the_debtor_pays_the_link(
    live_server, simulator_live, mollie_live, phone, artefacts, creditor, make_debtor,
    calling_allowed,
):  # fmt: skip
    # A customer with € 600 open for a month, a mobile number and a strategy call to make.
    debtor = make_debtor(amount=60000, due=timezone.localdate() - timedelta(days=30))
    case = case_create(version_create(creditor), debtor=debtor)
    now = timezone.now()
    call_task_create(
        debtor=debtor,
        case=case,
        kind=CallTaskKind.STRATEGY,
        priority=60,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=6),
        reason="Bellen volgens de strategie",
        key=f"e2e-{case.pk}",
        actor=Actor.system(),
    )
    agent = agent_for(creditor, "anna")
    agent.first_name, agent.last_name = "Anna", "de Vries"
    agent.save()
    device = totp_device(agent)
    base = live_server.url
    page = phone

    # 1. Log in with password and the authenticator's code.
    page.goto(f"{base}/queue/")
    assert "/login/" in page.url
    page.fill("#id_username", "anna")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_code", totp_code(device))
    page.click("#login-submit")
    page.wait_for_selector("#next-customer")
    assert page.url.startswith(f"{base}/queue/")
    page.screenshot(path=str(artefacts / "agent-queue.png"), full_page=True)

    # 2. Next case: the call screen of this customer.
    page.click("#next-customer")
    page.wait_for_selector("#call-outcome")
    attempt = CallAttempt.objects.get(agent=agent)
    assert page.url == f"{base}/calls/{attempt.pk}/"
    assert attempt.debtor_id == debtor.pk and attempt.phone == "+31612345678"

    # 3. A payment link by SMS while the customer is on the line. (The SMS provider's delivery
    # reports wait till the end, for the same SQLite reason as Mollie's webhook below.)
    simulator_live.hold_webhooks()
    page.fill("#id_link-amount", "150,00")
    page.check("#link-channel-sms")
    page.click("#call-link-send")
    page.wait_for_selector("#call-outcome")
    link = PaymentLink.objects.get(debtor=debtor)
    assert link.amount_cents == 15000
    texts = simulator_live.wait_for(
        lambda sim: [m for m in sim.messages if link.code in m.get("body", "")]
    )
    sms = texts[0]
    assert sms["to"] == "+31612345678"

    # 4. The outcome by keyboard: 1 = spoke with the customer; a promise for the rest.
    page.locator("body").press("1")
    assert page.is_checked(f"#outcome-{CallOutcome.RIGHT_PARTY}")
    page.select_option("#id_root_cause", "income_drop")
    due = timezone.localdate() + timedelta(days=5)
    page.fill("#id_promise_amount", "450,00")
    page.fill("#id_promise_due_on", due.isoformat())
    page.fill("#id_note", "Loon komt later deze maand; rest betaalt hij via de link.")
    page.click("#call-save")
    page.wait_for_selector("#call-result")
    page.screenshot(path=str(artefacts / "agent-call-done.png"), full_page=True)
    promise = Promise.objects.get(case=case)
    assert (promise.amount_cents, promise.due_on, promise.source) == (45000, due, "call")
    attempt.refresh_from_db()
    assert attempt.outcome == CallOutcome.RIGHT_PARTY and attempt.promise == promise
    assert attempt.payment_link == link
    assert CallTask.objects.get(pk=attempt.task_id).status == "done"

    # 5. The debtor opens the link from the text message and pays with iDEAL.
    url = re.search(r"https?://\S+", sms["body"]).group(0).rstrip(".,)")
    assert url.startswith(base) and f"/b/{link.code}" in url
    debtor_page = page.context.new_page()
    # Mollie's webhook waits until the return page has loaded: on the test's in-memory SQLite
    # two writers of one table at the same moment fail at once ("table is locked"), where a
    # real database would make one wait. Both paths are covered: the return page asks Mollie,
    # the webhook comes after.
    mollie_live.hold_webhooks()
    debtor_page.goto(url)
    debtor_page.click("form[data-once] button[type=submit]")
    debtor_page.wait_for_selector("text=Betalen met iDEAL")
    debtor_page.click("button[value=paid]")
    debtor_page.wait_for_url(re.compile(rf"{re.escape(base)}/b/{link.code}/betaling/\d+/"))
    debtor_page.wait_for_load_state("load")
    mollie_live.release_webhooks()
    paid = mollie_live.wait_for(
        lambda _sim: PaymentRequest.objects.filter(link=link, status="paid").first(), timeout=15
    )
    assert paid.amount_cents == 15000
    assert debtor_position(debtor).balance == 60000 - 15000

    # 6. The case timeline shows all of it, with the agent's name on what she did.
    page.goto(f"{base}/cases/{case.pk}/")
    page.wait_for_selector("table.timeline")
    page.screenshot(path=str(artefacts / "agent-case-timeline.png"), full_page=True)
    verbs = set(page.locator("table.timeline tr[data-verb]").evaluate_all(
        "rows => rows.map(r => r.dataset.verb)"
    ))  # fmt: skip
    for verb in (
        "call.started",
        "payment_link.created",
        "message.sent",
        "call.outcome",
        "promise.made",
        "payment.booked",
    ):
        assert verb in verbs, f"{verb} missing from the timeline: {sorted(verbs)}"
    for verb in ("call.started", "payment_link.created", "call.outcome", "promise.made"):
        row = page.locator(f"table.timeline tr[data-verb='{verb}']").first
        assert "Anna de Vries (anna)" in row.inner_text(), verb
        event = Event.objects.filter(debtor=debtor, verb=verb).first()
        assert event.actor_user_id == agent.pk
    sent = page.locator("table.timeline tr[data-verb='message.sent']").all_inner_texts()
    assert any("betaalverzoek" in row and "sms" in row.lower() for row in sent), sent
    # The iDEAL receipt went out too (by email, the debtor's preferred channel).
    assert any("bedankt-betaling" in row for row in sent), sent
    simulator_live.release_webhooks()
