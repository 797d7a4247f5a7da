"""A payment plan from start to finish, through the interfaces a real user and operator use.

The daily run opens a case, sends the 14-day letter and charges collection costs. The debtor
opens their personal link in a phone-sized headless Chromium, answers the affordability
questions and chooses three instalments paid by bank transfer. Each instalment arrives in a
CAMT.053 bank statement imported with ``vaarwater import-statement``; the daily run follows the
plan up (reminders, thanks with progress). After the last payment the collection costs are
waived as the creditor's policy promises and the case closes as arrangement fulfilled. Money is
neither created nor lost: the payments plus the waiver are exactly what was owed.
"""

# ruff: noqa: F811 - the fixtures (phone, …) are imported

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from vaarwater.arrangements.models import Arrangement, ArrangementStatus, InstalmentStatus
from vaarwater.contact.models import Message
from vaarwater.core.models import Event
from vaarwater.ledger.models import Component, EntryKind, LedgerEntry, Payment
from vaarwater.ledger.selectors import debtor_balance
from vaarwater.payments.models import StatementEntry
from vaarwater.payments.statements.synthetic import Stmt, Tx, camt053
from vaarwater.portal.tests.browser_fixtures import (  # noqa: F401
    artefacts,
    axe_report,
    axe_violations,
    phone,
)
from vaarwater.portal.tokens import access_token_issue
from vaarwater.strategy.models import CaseStatus, CloseReason
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.conftest import BASIC, load_strategy, make_debtor  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CREDITOR_IBAN = "NL02ABNA0123456789"
DEBTOR_IBAN = "NL91ABNA0417164300"


def run_through(start, end):
    day = start
    while day <= end:
        daily_run(run_date=day)
        day += timedelta(days=1)


def owed(debtor) -> dict[str, int]:
    rows = (
        LedgerEntry.objects.filter(debtor=debtor)
        .exclude(kind__in=[EntryKind.PAYMENT, EntryKind.WRITE_OFF])
        .values("component")
        .annotate(s=Sum("amount_cents"))
    )
    return {row["component"]: row["s"] for row in rows}


def test_a_plan_chosen_in_the_portal_is_paid_by_transfers_and_closes_the_case(
    live_server, phone, artefacts, load_strategy, make_debtor, tmp_path
):
    today = timezone.localdate()
    load_strategy(BASIC, valid_from=today - timedelta(days=200))
    debtor = make_debtor(amount=60000, due=today - timedelta(days=50), payday_day=25)
    creditor = debtor.creditor
    creditor.iban = CREDITOR_IBAN
    creditor.save(update_fields=["iban"])

    # The strategy's path: reminder, 14-day letter, collection costs, statutory interest.
    run_through(today - timedelta(days=46), today)
    case = debtor.cases.get()
    costs = owed(debtor).get(Component.COSTS, 0)
    assert costs > 0, "the 14-day letter's term ended and the collection costs were charged"
    balance_before = debtor_balance(debtor)

    # The debtor chooses a plan in the portal.
    token = access_token_issue(creditor_id=creditor.pk, debtor_id=debtor.pk, case_id=case.pk)
    base = f"{live_server.url}/p/{token}/regeling"

    def submit(form):
        with phone.expect_navigation():
            phone.locator(form).locator("button[type=submit]").first.click()

    phone.goto(f"{base}/")
    phone.locator("#id_antw-household").check()  # alone
    phone.fill("#id_antw-net_income", "2600")
    phone.fill("#id_antw-rent", "850")
    phone.fill("#id_antw-payday_day", "25")
    submit("form:has(input[name=action][value=answers])")
    assert "/regeling/keuze/" in phone.url
    phone.screenshot(path=str(artefacts / "e2e-plan-options.png"), full_page=True)
    phone.locator('input[name="keuze-choice"][value="n3"]').check()
    submit("form:has(input[name=keuze-choice])")
    phone.locator('input[name="betaal-method"][value="transfer"]').check()
    submit("form:has(input[name=betaal-method])")
    submit("main form")
    assert "/regeling/klaar/" in phone.url
    plan = Arrangement.objects.get(case=case)
    assert plan.reference in phone.content()
    phone.screenshot(path=str(artefacts / "e2e-plan-done.png"), full_page=True)

    assert plan.status == ArrangementStatus.ACTIVE and plan.channel == "portal"
    assert plan.waived_costs_cents == costs
    instalments = list(plan.instalments.order_by("number"))
    assert len(instalments) == 3
    assert sum(i.amount_cents for i in instalments) == plan.total_cents
    assert plan.total_cents + plan.waived_costs_cents == balance_before
    assert all(i.due_on.day in (22, 23, 24, 25) for i in instalments), "due on payday"
    assert Message.objects.filter(debtor=debtor, template="regeling-bevestiging").exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD

    # Each instalment arrives on its due date in the creditor's bank statement.
    ran_until = today
    for number, instalment in enumerate(instalments, 1):
        day = instalment.due_on
        statement = camt053(
            [
                Stmt(
                    txs=[
                        Tx(
                            instalment.amount_cents,
                            name=debtor.name,
                            iban=DEBTOR_IBAN,
                            ustrd=f"Termijn {number} betalingsregeling {plan.reference}",
                            booked=day,
                        )
                    ],
                    statement_id=f"STMT-{number}",
                    day=day,
                )
            ],
            message_id=f"MSG-{number}",
        )
        path = tmp_path / f"statement-{number}.xml"
        path.write_bytes(statement)
        out = StringIO()
        call_command("import-statement", str(path), stdout=out)
        assert "1 booked" in out.getvalue(), out.getvalue()
        run_through(ran_until + timedelta(days=1), day + timedelta(days=1))
        ran_until = day + timedelta(days=1)
        instalment.refresh_from_db()
        assert instalment.status == InstalmentStatus.PAID
        # Thanks with progress after each payment; the last one is the completion message.
        thanks = Message.objects.filter(debtor=debtor, template="termijn-bedankt")
        assert thanks.count() == min(number, 2)

    # Importing a statement again changes nothing.
    payments = Payment.objects.filter(debtor=debtor).count()
    out = StringIO()
    call_command("import-statement", str(tmp_path / "statement-2.xml"), stdout=out)
    assert "already imported" in out.getvalue()
    assert Payment.objects.filter(debtor=debtor).count() == payments
    assert StatementEntry.objects.filter(debtor=debtor).count() == 3

    # The plan is kept: costs waived, case closed, nothing created or lost.
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == ArrangementStatus.COMPLETED
    assert case.status == CaseStatus.CLOSED
    assert case.close_reason == CloseReason.ARRANGEMENT_FULFILLED
    waived = -(
        LedgerEntry.objects.filter(debtor=debtor, kind=EntryKind.WRITE_OFF).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )
    paid = sum(i.amount_cents for i in instalments)
    assert waived == costs
    written_off = LedgerEntry.objects.filter(debtor=debtor, kind=EntryKind.WRITE_OFF)
    assert {entry.component for entry in written_off} == {Component.COSTS}
    assert paid + waived == balance_before
    assert debtor_balance(debtor) == 0
    assert Event.objects.filter(debtor=debtor, verb="arrangement.completed").exists()
    assert Message.objects.filter(template="regeling-voltooid", debtor=debtor).exists()
    second = Message.objects.filter(debtor=debtor, template="termijn-bedankt").latest("id")
    assert (second.context.get("plan_paid_count"), second.context.get("plan_count")) == (2, 3)

    # The debtor sees the finished plan.
    phone.goto(f"{base}/")
    phone.screenshot(path=str(artefacts / "e2e-plan-kept.png"), full_page=True)
