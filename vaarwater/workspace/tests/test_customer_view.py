"""The customer view: one timeline of everything with its filter, contact points with their
quality, household and affordability, balance, and the rule-based risk with its reasons."""

import ast
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from vaarwater.arrangements.affordability import assessment_from_answers
from vaarwater.arrangements.models import Arrangement, Instalment, Promise
from vaarwater.contact.models import CallTask, Message, MessageStatus, OptOut
from vaarwater.contact.services import call_task_create, message_transition
from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.importing import WRITERS
from vaarwater.ledger.models import ContactPoint, Debtor, EntryKind
from vaarwater.ledger.services import invoice_create, payment_book
from vaarwater.payments.models import PaymentRequestStatus
from vaarwater.payments.sepa_models import Collection, Mandate
from vaarwater.strategy.models import CaseStatus, Hold, HoldKind
from vaarwater.testing import login_verified
from vaarwater.workspace.customer import contact_qualities, customer_view, risk_of
from vaarwater.workspace.models import CallAttempt
from vaarwater.workspace.timeline import (
    CATEGORY_LABELS,
    VERB_LABELS,
    verb_category,
    verb_label,
)

from .factories import agent_for, case_create, event_create, version_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
SOURCE = Path(__file__).resolve().parents[2]  # the vaarwater package


# -- every verb has a label ------------------------------------------------------------------------

# Verbs written with an f-string, and the values their placeholder takes.
VERB_TEMPLATES = {
    "{}.charged": [EntryKind.COST, EntryKind.INTEREST],
    "{}.reversed": [k for k in EntryKind.values if k != EntryKind.REVERSAL],
    "message.{}": MessageStatus.values,
    "payment.{}": PaymentRequestStatus.values,
    "case.{}": ["opened", "hold", "hold_ended", "closed"],
    "import.{}": list(WRITERS),
}


def _template_of(node: ast.JoinedStr) -> str:
    return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)


def _strings(node) -> list[str]:
    """The string constants an expression can be: a constant, a dict's values, an if-else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Dict):
        return [s for value in node.values for s in _strings(value)]
    if isinstance(node, ast.Subscript):  # {status: "verb", …}[status]
        return _strings(node.value)
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def recorded_verbs() -> tuple[set[str], set[str]]:
    """(verbs, f-string templates) the code records: ``verb="…"`` in a call, a ``verb = …``
    assignment (also ``verb, why = "…", "…"``), and ``….event(case, "…", …)`` in the daily run."""
    verbs, templates = set(), set()
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "verb":
                        if isinstance(keyword.value, ast.JoinedStr):
                            templates.add(_template_of(keyword.value))
                        verbs.update(_strings(keyword.value))
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "event" and len(node.args) > 1:
                    verbs.update(_strings(node.args[1]))
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "verb":
                        verbs.update(_strings(node.value))
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for element, value in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(element, ast.Name) and element.id == "verb":
                                verbs.update(_strings(value))
    return {v for v in verbs if re.fullmatch(r"[a-z_]+\.[a-z_]+", v)}, templates


def test_every_recorded_verb_has_a_label_and_a_category():
    """A verb the code records without a readable label (or an f-string verb the test cannot
    expand) fails here: add it to VERB_LABELS in workspace/timeline.py."""
    verbs, templates = recorded_verbs()
    assert len(verbs) > 60 and "decision.made" in verbs and "portal.chat_question" in verbs
    unknown_templates = templates - set(VERB_TEMPLATES)
    assert not unknown_templates, f"expand these f-string verbs in VERB_TEMPLATES: {templates}"
    for template in templates:
        verbs.update(template.format(value) for value in VERB_TEMPLATES[template])
    missing = sorted(v for v in verbs if v not in VERB_LABELS)
    assert not missing, f"verbs without a label in VERB_LABELS: {missing}"
    assert all(verb_category(v) in CATEGORY_LABELS for v in verbs)


def test_the_issue_kinds_fall_in_their_category():
    expected = {
        "invoice.created": "money",
        "payment.booked": "money",
        "payment.paid": "money",
        "arrangement.accepted": "money",
        "promise.broken": "money",
        "message.delivered": "contact",
        "portal.opened": "contact",
        "portal.login": "contact",
        "portal.chat_question": "contact",
        "call_task.created": "calls",
        "call.outcome": "calls",
        "call_task.exhausted": "calls",
        "decision.made": "decisions",
        "case.hold": "decisions",
        "hold.placed": "decisions",
        "creditor.created": "other",
    }
    assert {verb: verb_category(verb) for verb in expected} == expected
    assert verb_label("call.outcome") != "call.outcome"


# -- a debtor with one of each ---------------------------------------------------------------------


@pytest.fixture
def agent(creditor):
    return agent_for(creditor)


@pytest.fixture
def case(creditor):
    return case_create(version_create(creditor))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=AMS)


def _message(case, *, recipient, channel="email", to=("sending", "sent"), at=None, key="m"):
    at = at or timezone.now()
    message = Message.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        channel=channel,
        template="herinnering-1",
        recipient=recipient,
        not_before=at,
        idempotency_key=key,
        subject="Herinnering",
        body_text="Beste klant, betaal € 100,00.",
        rendered_at=at,
    )
    for status in to:
        message_transition(message=message, to=status, source="test", at=at)
    return message


def _attempt(case, agent, *, phone, outcome, at=None, task=None, note=""):
    at = at or timezone.now()
    task = task or CallTask.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        window_start=at,
        window_end=at + timedelta(hours=4),
        reason="bellen",
        idempotency_key=f"t-{CallTask.objects.count()}",
    )
    return CallAttempt.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        task=task,
        agent=agent,
        started_at=at,
        ended_at=at + timedelta(minutes=4),
        phone=phone,
        outcome=outcome,
        note=note,
    )


def _plan(case, *, status="active", misses=0, n=1):
    return Arrangement.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        status=status,
        kind="instalments",
        method="transfer",
        reference=f"RGL{case.pk:06d}{n:02d}",
        total_cents=30000,
        debt_cents=30000,
        channel="agent",
        accepted_on=case.opened_on,
        accepted_by="agent",
        misses=misses,
    )


@pytest.fixture
def full_case(case, agent):
    """A debtor with one of each: invoice, message, call, payment, plan, promise, portal
    visit, chat question and a decision, all inside the case."""
    debtor = case.debtor
    today = timezone.localdate()
    ContactPoint.objects.create(
        debtor=debtor, kind="email", value="jan@example.nl", source="import"
    )
    ContactPoint.objects.create(debtor=debtor, kind="phone", value="+31612345678", source="import")
    invoice_create(
        debtor=debtor,
        external_id="F-100",
        issue_date=today - timedelta(days=40),
        due_date=today - timedelta(days=25),
        amount_cents=30000,
    )
    _message(case, recipient="jan@example.nl", to=("sending", "sent", "delivered"))
    task, _new = call_task_create(
        debtor=debtor,
        case=case,
        kind="strategy",
        priority=60,
        start=timezone.now(),
        end=timezone.now() + timedelta(hours=4),
        reason="stap 3: bellen",
        key="task-1",
        actor=Actor.system(),
    )
    attempt = _attempt(
        case, agent, phone="+31612345678", outcome="right_party", task=task, note="NOTITIE"
    )
    event_record(
        creditor=case.creditor,
        debtor=debtor,
        verb="call.outcome",
        actor=Actor.for_user(agent),
        subject=attempt,
        reason="REDEN-GESPREK klant gesproken",
    )
    payment_book(debtor=debtor, external_id="P-1", date=today, amount_cents=5000)
    plan = _plan(case)
    Instalment.objects.create(arrangement=plan, number=1, due_on=today, amount_cents=15000)
    Instalment.objects.create(
        arrangement=plan, number=2, due_on=today + timedelta(days=30), amount_cents=15000
    )
    event_create(debtor, "arrangement.accepted", "REDEN-REGELING", on=today)
    promise = Promise.objects.create(
        creditor=case.creditor,
        debtor=debtor,
        case=case,
        amount_cents=5000,
        due_on=today + timedelta(days=3),
        source="call",
        made_on=today,
        made_by="agent",
        note="na salaris",
    )
    event_create(
        debtor,
        "promise.made",
        "REDEN-BELOFTE",
        on=today,
        subject_type="arrangements.promise",
        subject_id=promise.pk,
    )
    event_create(debtor, "portal.opened", "REDEN-BEZOEK", on=today, actor_kind="debtor")
    event_create(debtor, "portal.chat_question", "REDEN-VRAAG “kan ik later betalen?”", on=today)
    event_create(debtor, "decision.made", "REDEN-BESLUIT stap 2", on=today)
    event_create(debtor, "case.opened", "REDEN-OPEN", on=case.opened_on)
    return case


def _rows(html: str) -> list[str]:
    table = html[html.index('id="timeline"') :]
    table = table[: table.index("</table>")]
    return re.findall(r'<tr data-event="\d+"[^>]*>.*?</tr>', table, re.S)


def _verbs(html: str) -> list[str]:
    return [re.search(r'data-verb="([^"]+)"', row).group(1) for row in _rows(html)]


def test_every_kind_is_on_the_timeline_with_day_who_what_and_why(client, agent, full_case):
    login_verified(client, agent)
    html = client.get(f"/cases/{full_case.pk}/").content.decode()
    verbs = _verbs(html)
    for verb in (
        "invoice.created",
        "message.sent",
        "message.delivered",
        "call_task.created",
        "call.outcome",
        "payment.booked",
        "arrangement.accepted",
        "promise.made",
        "portal.opened",
        "portal.chat_question",
        "decision.made",
        "case.opened",
    ):
        assert verb in verbs, verb
    rows = {re.search(r'data-verb="([^"]+)"', r).group(1): r for r in _rows(html)}
    # each row says its category, day, who and why
    assert 'data-category="calls"' in rows["call.outcome"]
    assert "REDEN-GESPREK" in rows["call.outcome"] and agent.username in rows["call.outcome"]
    assert (
        'data-outcome="right_party"' in rows["call.outcome"] and "NOTITIE" in rows["call.outcome"]
    )
    assert timezone.localdate().isoformat() in rows["call.outcome"]
    assert 'data-category="money"' in rows["invoice.created"] and "F-100" in rows["invoice.created"]
    assert 'data-category="contact"' in rows["portal.chat_question"]
    assert 'data-category="decisions"' in rows["decision.made"]
    # a message shows its current status on each of its rows, its text and deliveries once
    assert 'data-status="delivered"' in rows["message.sent"]
    assert 'data-status="delivered"' in rows["message.delivered"]
    timeline = html[html.index('id="timeline"') : html.index('id="transitions"')]
    assert timeline.count("Beste klant, betaal € 100,00.") == 1
    assert '<ul class="deliveries">' in rows["message.delivered"]
    # newest first: the case's opening is the last row
    assert verbs[-1] == "case.opened"


def test_the_filter_keeps_one_category_and_counts_each(client, agent, full_case):
    login_verified(client, agent)
    url = f"/cases/{full_case.pk}/"
    everything = _verbs(client.get(url).content.decode())
    for show in ("money", "contact", "calls", "decisions"):
        html = client.get(f"{url}?show={show}").content.decode()
        verbs = _verbs(html)
        assert verbs and all(verb_category(v) == show for v in verbs), (show, verbs)
        assert verbs == [v for v in everything if verb_category(v) == show]
        assert f'data-show="{show}" aria-current="true">' in html
        assert f"({len(verbs)})</a>" in html
    calls = _verbs(client.get(f"{url}?show=calls").content.decode())
    assert set(calls) == {"call_task.created", "call.outcome"}
    # an unknown filter shows everything
    assert _verbs(client.get(f"{url}?show=nonsense").content.decode()) == everything


def test_the_scope_shows_the_history_before_the_case(client, agent, case):
    before = event_create(
        case.debtor, "invoice.created", "VOOR-DE-ZAAK", on=case.opened_on - timedelta(days=60)
    )
    event_create(case.debtor, "case.opened", "REDEN-OPEN", on=case.opened_on)
    login_verified(client, agent)
    url = f"/cases/{case.pk}/"
    assert "VOOR-DE-ZAAK" not in client.get(url).content.decode()
    html = client.get(f"{url}?scope=all&show=money").content.decode()
    assert f'data-event="{before.pk}"' in html and _verbs(html) == ["invoice.created"]


def test_another_creditors_case_is_404_also_with_a_filter(client, agent, full_case, other_creditor):
    hidden = case_create(version_create(other_creditor))
    event_create(hidden.debtor, "decision.made", "GEHEIM", on=hidden.opened_on)
    login_verified(client, agent)
    for query in ("", "?show=calls", "?show=decisions&scope=all"):
        assert client.get(f"/cases/{hidden.pk}/{query}").status_code == 404
    # nor do another debtor's events show on this one's timeline
    other = Debtor.objects.create(creditor=full_case.creditor, external_id="X1", name="Ander")
    event_create(other, "decision.made", "ANDERE-KLANT", on=timezone.localdate())
    html = client.get(f"/cases/{full_case.pk}/?scope=all").content.decode()
    assert "ANDERE-KLANT" not in html and "GEHEIM" not in html


def test_the_case_page_includes_the_customer_view(client, agent, full_case, english):
    login_verified(client, agent)
    html = client.get(f"/cases/{full_case.pk}/").content.decode()
    for anchor in ("risk", "balance", "contacts", "household", "timeline", "transitions"):
        assert f'id="{anchor}"' in html
    assert html.index('id="risk"') < html.index('id="holds"') < html.index('id="timeline"')
    assert html.index('id="timeline"') < html.index('id="transitions"')
    # balance with its parts: € 300 invoice − € 50 paid
    assert 'data-balance="25000"' in html and "€250.00" in html
    assert "F-100" in html
    # the plan and the promise
    assert 'data-plan="RGL' in html and "0 of 2 instalments paid" in html
    assert "€50.00 by" in html and "na salaris" in html
    assert html.count('class="timeline"') == 1


# -- contact points and their quality --------------------------------------------------------------


def test_contact_quality_labels(case, agent):
    debtor = case.debtor
    now = timezone.now()
    point = {}
    for key, kind, value, extra in (
        ("verified", "email", "ok@example.nl", {"verified_at": now - timedelta(days=10)}),
        ("delivered", "email", "post@example.nl", {}),
        ("old", "email", "oud@example.nl", {}),
        ("new", "email", "nieuw@example.nl", {}),
        ("bounced", "email", "weg@example.nl", {"invalid_since": now - timedelta(days=2)}),
        ("failed", "phone", "+31611111111", {}),
        ("answered", "phone", "+31622222222", {}),
        ("wrong", "phone", "+31633333333", {}),
        ("stale", "phone", "+31644444444", {"verified_at": now - timedelta(days=400)}),
    ):
        point[key] = ContactPoint.objects.create(
            debtor=debtor, kind=kind, value=value, source="import", **extra
        )
    _message(case, recipient="post@example.nl", to=("sending", "sent", "delivered"), key="a")
    old = _message(case, recipient="oud@example.nl", to=("sending", "sent", "delivered"), key="b")
    Message.objects.filter(pk=old.pk).update(delivered_at=now - timedelta(days=300))
    _message(
        case, recipient="+31611111111", channel="sms", to=("sending", "sent", "failed"), key="c"
    )
    _attempt(case, agent, phone="+31622222222", outcome="right_party")
    _attempt(case, agent, phone="+31633333333", outcome="no_answer", at=now - timedelta(days=3))
    _attempt(case, agent, phone="+31633333333", outcome="wrong_number")
    OptOut.objects.create(
        creditor=case.creditor, debtor=debtor, channel="sms", source="reply", since=now
    )
    qualities = {q.point.pk: q for q in contact_qualities(debtor, now=now)}
    verdict = {key: qualities[p.pk].quality for key, p in point.items()}
    assert verdict == {
        "verified": "confirmed",
        "delivered": "confirmed",
        "old": "works",
        "new": "unknown",
        "bounced": "invalid",
        "failed": "unknown",
        "answered": "confirmed",
        "wrong": "invalid",
        "stale": "works",
    }
    assert qualities[point["wrong"].pk].wrong_number == 1
    assert qualities[point["wrong"].pk].no_answer == 1
    assert qualities[point["answered"].pk].right_party == 1
    assert qualities[point["failed"].pk].last_failed_status == "failed"
    assert qualities[point["failed"].pk].opted_out == ["sms"]
    assert qualities[point["new"].pk].opted_out == []
    assert all(q.reason for q in qualities.values())


def test_a_wrong_number_answered_later_is_not_invalid(case, agent):
    ContactPoint.objects.create(
        debtor=case.debtor, kind="phone", value="+31655555555", source="agent"
    )
    now = timezone.now()
    _attempt(case, agent, phone="+31655555555", outcome="wrong_number", at=now - timedelta(days=5))
    _attempt(case, agent, phone="+31655555555", outcome="right_party", at=now)
    (quality,) = contact_qualities(case.debtor, now=now)
    assert quality.quality == "confirmed"


def test_the_page_shows_each_point_with_its_quality(client, agent, case):
    ContactPoint.objects.create(
        debtor=case.debtor,
        kind="email",
        value="weg@example.nl",
        source="import",
        invalid_since=timezone.now(),
    )
    ContactPoint.objects.create(
        debtor=case.debtor, kind="phone", value="+31612345678", source="portal"
    )
    login_verified(client, agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-quality="invalid"' in html and 'data-quality="unknown"' in html
    assert "weg@example.nl" in html and "+31612345678" in html


# -- household and affordability -------------------------------------------------------------------


def test_affordability_from_an_assessment(client, agent, case, english):
    assessment = assessment_from_answers(
        debtor=case.debtor,
        case=case,
        household="single",
        net_income_cents=250000,
        fixed_costs_cents=105000,
        payday_day=25,
        actor=Actor.for_user(agent),
    )
    view = customer_view(case)
    assert view["assessment"] == assessment and view["household_known"]
    assert view["assessment_lines"] and view["payday"]["day"] == 25
    assert view["payday"]["next"] >= timezone.localdate()
    login_verified(client, agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    section = html[html.index('id="household"') : html.index('id="holds"')]
    assert f'data-assessment="{assessment.pk}"' in section
    assert f'data-capacity="{assessment.capacity_cents}"' in section
    assert "€2,500.00" in section and "Net income" in section and "day 25 of the month" in section
    assert "household-unknown" not in section


def test_nothing_known_points_to_the_plan_flow(client, agent, case):
    view = customer_view(case)
    assert not view["household_known"] and view["assessment"] is None
    assert view["plan_url"] == f"/cases/{case.pk}/plan/"
    login_verified(client, agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    section = html[html.index('id="household"') : html.index('id="holds"')]
    assert "household-unknown" in section and f'href="/cases/{case.pk}/plan/"' in section


# -- risk ------------------------------------------------------------------------------------------


def test_a_fresh_small_debt_is_low_risk(case):
    ContactPoint.objects.create(
        debtor=case.debtor, kind="email", value="a@example.nl", source="import"
    )
    today = timezone.localdate()
    invoice_create(
        debtor=case.debtor,
        external_id="F1",
        issue_date=today - timedelta(days=20),
        due_date=today - timedelta(days=10),
        amount_cents=8000,
    )
    level, score, reasons = risk_of(case)
    assert (level, score) == ("low", 5)
    assert len(reasons) == 1 and "(+5)" in reasons[0] and "10" in reasons[0]


def test_an_old_large_debt_with_broken_promises_and_plans_is_high_risk(case, creditor):
    debtor = case.debtor
    today = timezone.localdate()
    invoice_create(
        debtor=debtor,
        external_id="F1",
        issue_date=today - timedelta(days=140),
        due_date=today - timedelta(days=120),
        amount_cents=300000,
    )
    for n in range(3):
        Promise.objects.create(
            creditor=creditor,
            debtor=debtor,
            case=case,
            amount_cents=1000,
            due_on=today - timedelta(days=30 + n),
            source="call",
            made_on=today - timedelta(days=40),
            made_by="agent",
            status="broken",
        )
    _plan(case, status="breached", misses=2)
    mandate = Mandate.objects.create(
        creditor=creditor,
        debtor=debtor,
        mandate_id="M1",
        iban="NL91ABNA0417164300",
        account_holder="J de Vries",
        signed_on=today - timedelta(days=90),
        signed_via="portal",
    )
    Collection.objects.create(
        creditor=creditor,
        debtor=debtor,
        mandate=mandate,
        purpose="instalment:1",
        end_to_end_id="E2E1",
        description="termijn 1",
        amount_cents=15000,
        due_on=today - timedelta(days=60),
        status="returned",
        return_code="MD06",
    )
    # no contact points at all: unreachable
    level, score, reasons = risk_of(case)
    assert level == "high" and score == 100
    text = " | ".join(reasons)
    for weight in ("(+30)", "(+15)", "(+20)", "(+10)"):
        assert weight in text
    assert "120" in text and "storno" in text
    weights = [int(re.search(r"\(\+(\d+)\)$", r).group(1)) for r in reasons]
    assert weights == sorted(weights, reverse=True)


def test_earlier_cases_a_dispute_and_the_debtor_form(case, creditor):
    debtor = case.debtor
    version = case.strategy_version
    ContactPoint.objects.create(debtor=debtor, kind="phone", value="+31612345678", source="import")
    for n in (1, 2):
        case_create(
            version,
            debtor=debtor,
            opened_on=case.opened_on - timedelta(days=100 * n),
            status=CaseStatus.CLOSED,
            closed_on=case.opened_on - timedelta(days=100 * n - 30),
            close_reason="paid",
        )
    today = timezone.localdate()
    Hold.objects.create(
        case=case,
        kind=HoldKind.DISPUTE,
        reason="betwist",
        starts_on=today - timedelta(days=1),
        until=today + timedelta(days=10),
    )
    level, score, reasons = risk_of(case)
    assert score == 10 + 10 and level == "low"
    assert any("(+10)" in r and "2" in r for r in reasons)
    assert risk_of(debtor) == (level, score, reasons)


def test_risk_is_a_medium_between(case):
    """45 days late (+10) and € 1,200 open (+10) and no contact details (+15): medium."""
    today = timezone.localdate()
    invoice_create(
        debtor=case.debtor,
        external_id="F1",
        issue_date=today - timedelta(days=60),
        due_date=today - timedelta(days=45),
        amount_cents=120000,
    )
    level, score, _reasons = risk_of(case)
    assert (level, score) == ("medium", 35)


# -- cost ------------------------------------------------------------------------------------------


def _many(case, agent, n):
    debtor = case.debtor
    ContactPoint.objects.create(
        debtor=debtor, kind="email", value=f"k{n}@example.nl", source="import"
    )
    for i in range(n):
        message = _message(
            case, recipient=f"k{n}@example.nl", to=("sending", "sent"), key=f"{n}-{i}"
        )
        assert message.pk
        attempt = _attempt(case, agent, phone="+31612345678", outcome="no_answer")
        event_record(
            creditor=case.creditor,
            debtor=debtor,
            verb="call.outcome",
            actor=Actor.for_user(agent),
            subject=attempt,
            reason="geen gehoor",
        )
        event_create(debtor, "decision.made", f"stap {i}", on=timezone.localdate())


def test_the_number_of_queries_does_not_grow_with_the_timeline(
    case, agent, django_assert_max_num_queries
):
    _many(case, agent, 3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        customer_view(case)
    _many(case, agent, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        view = customer_view(case)
        assert len(view["events"]) > 200
        for event in view["events"]:  # what the template reads
            if event.message is not None:
                list(event.message.deliveries.all())
            if event.attempt is not None:
                str(event.attempt.agent)
    assert len(few.captured_queries) <= 25
