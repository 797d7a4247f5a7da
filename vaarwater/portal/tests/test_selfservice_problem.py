"""Report a problem: a dispute, wrong contact details or 'I can't pay'. Each pauses the case as
the policy says, makes a task for an agent and tells the debtor what happens next."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from vaarwater.contact.models import CallTask, CallTaskKind, Message
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.law import add_business_days
from vaarwater.ledger.models import Invoice
from vaarwater.portal.models import ProblemReport
from vaarwater.portal.selfservice import problem_report
from vaarwater.portal.tests.test_selfservice import (  # noqa: F401
    case,
    debtor,
    errors_of,
    link,
    open_case,
    url,
)
from vaarwater.strategy.models import CaseStatus, Hold, HoldKind
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TZ = ZoneInfo("Europe/Amsterdam")
ACTOR = Actor("debtor", "Klant")


def post(client, token, **data):
    return client.post(url(token, "problem"), data)


def test_a_dispute_pauses_the_case_and_makes_a_task(client, debtor, case):
    """Disputing an invoice: a dispute hold for the policy's 30 days, a task for an agent on
    the next business day 09:00-17:00 with priority 80, events, a confirmation message, and
    the page says what happens next."""
    invoice = Invoice.objects.get(debtor=debtor)
    token = link(debtor, case)
    response = post(client, token, kind="dispute", invoice=invoice.pk, text="Ik heb al betaald.")
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert response["Location"].endswith(f"?melding={report.pk}")
    assert (report.kind, report.invoice, report.text) == ("dispute", invoice, "Ik heb al betaald.")
    today = timezone.localdate()
    assert report.hold.kind == HoldKind.DISPUTE
    assert report.hold.until == today + timedelta(days=29)
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    task = report.task
    day = add_business_days(today, 1)
    assert task.kind == CallTaskKind.PROBLEM and task.priority == 80
    assert task.window_start == datetime.combine(day, time(9), TZ)
    assert task.window_end == datetime.combine(day, time(17), TZ)
    assert task.idempotency_key == f"portal-problem-{report.pk}"
    assert invoice.external_id in task.reason and "Ik heb al betaald." in task.reason
    event = Event.objects.get(verb="problem.reported", debtor=debtor)
    assert f"betwist factuur {invoice.external_id}" in event.reason
    assert Event.objects.filter(verb="call_task.created", debtor=debtor).exists()
    assert Event.objects.filter(verb="hold.placed", debtor=debtor).exists()
    message = Message.objects.get(template="melding-ontvangen")
    assert message.purpose == "confirmation"
    assert invoice.external_id in message.context["summary"]
    page = client.get(response["Location"]).content.decode()
    assert 'role="status"' in page and "We have received your report" in page
    assert "What happens next?" in page and str(report.hold.until.year) in page


def test_a_dispute_needs_an_invoice_and_a_reason(client, debtor, case):
    """No invoice and no words: both fields say what is missing, nothing is stored."""
    token = link(debtor, case)
    response = post(client, token, kind="dispute", invoice="", text="")
    assert response.status_code == 200
    errors = errors_of(response)
    assert "Choose the invoice you disagree with." in errors
    assert "Tell us why you disagree with the invoice." in errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ProblemReport.objects.exists() and not Hold.objects.exists()
    assert not CallTask.objects.exists()


def test_someone_elses_invoice_cannot_be_disputed(client, debtor, case, make_debtor):
    other = make_debtor()
    theirs = Invoice.objects.get(debtor=other)
    response = post(client, link(debtor, case), kind="dispute", invoice=theirs.pk, text="x")
    assert "Choose one of your open invoices." in errors_of(response)
    assert not ProblemReport.objects.exists()


def test_the_text_is_at_most_2000_characters(client, debtor, case):
    invoice = Invoice.objects.get(debtor=debtor)
    response = post(client, link(debtor, case), kind="dispute", invoice=invoice.pk, text="x" * 2001)
    assert "at most 2,000 characters" in errors_of(response)
    assert not ProblemReport.objects.exists()


def test_no_kind_chosen(client, debtor, case):
    response = post(client, link(debtor, case), text="help")
    assert "Choose what the problem is." in errors_of(response)
    assert not ProblemReport.objects.exists()


def test_wrong_contact_details_make_a_task_without_a_pause(client, debtor, case):
    """The policy pauses 0 days for wrong contact details: a task, no hold."""
    response = post(client, link(debtor, case), kind="contact", text="Ik ben verhuisd.")
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.hold is None and report.task is not None
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    page = client.get(response["Location"]).content.decode()
    assert "What happens next?" in page and "My details" in page


def test_contact_needs_words(client, debtor, case):
    response = post(client, link(debtor, case), kind="contact", text="  ")
    assert "Tell us what is wrong." in errors_of(response)


def test_cant_pay_pauses_for_review_and_refers_to_debt_help(client, debtor, case):
    """'I can't pay' with a reason: a review hold of 14 days, a task, and the page refers to
    Geldfit and to the municipality of the debtor's postcode (Utrecht)."""
    response = post(client, link(debtor, case), kind="cant_pay", reason="illness")
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.reason == "illness" and report.hold.kind == HoldKind.REVIEW
    assert report.hold.until == timezone.localdate() + timedelta(days=13)
    assert "ziekte" in Event.objects.get(verb="problem.reported").reason
    page = client.get(response["Location"]).content.decode()
    assert "0800-8115" in page and "Schuldhulpverlening gemeente Utrecht" in page


def test_cant_pay_needs_a_reason(client, debtor, case):
    response = post(client, link(debtor, case), kind="cant_pay", reason="bored")
    assert "Choose why you can" in errors_of(response)
    assert not ProblemReport.objects.exists()


def test_a_double_click_makes_one_report(client, debtor, case):
    """The same report again within minutes is the same report: one task, one hold."""
    token = link(debtor, case)
    first = post(client, token, kind="cant_pay", reason="income_drop", text="Baan kwijt")
    second = post(client, token, kind="cant_pay", reason="income_drop", text="Baan kwijt")
    assert first["Location"] == second["Location"]
    assert ProblemReport.objects.count() == 1
    assert CallTask.objects.count() == 1 and Hold.objects.count() == 1


def test_without_a_case_a_report_still_reaches_an_agent(debtor):
    """No case to pause: the report and the task are made all the same."""
    report = problem_report(
        debtor=debtor,
        case=None,
        kind="cant_pay",
        reason="separation",
        actor=ACTOR,
        now=datetime(2026, 11, 27, 15, tzinfo=TZ),  # a Friday
    )
    assert report.hold is None
    assert report.task.window_start == datetime(2026, 11, 30, 9, tzinfo=TZ)  # Monday


def test_the_service_refuses_bad_input_with_field_errors(debtor, case):
    with pytest.raises(ValidationError) as error:
        problem_report(debtor=debtor, case=case, kind="dispute", invoice_id="abc", actor=ACTOR)
    assert set(error.value.message_dict) == {"invoice", "text"}
    with pytest.raises(ValidationError) as error:
        problem_report(debtor=debtor, case=case, kind="nonsense", actor=ACTOR)
    assert set(error.value.message_dict) == {"kind"}


def test_the_kind_can_be_chosen_by_a_link(client, debtor, case):
    """The plan page links to '?soort=cant_pay': that choice is ticked."""
    page = client.get(url(link(debtor, case), "problem") + "?soort=cant_pay").content.decode()
    assert 'value="cant_pay" checked' in page


def test_a_report_of_another_debtor_is_not_shown(client, debtor, case, make_debtor):
    other = make_debtor()
    report = problem_report(debtor=other, case=None, kind="contact", text="x", actor=ACTOR)
    page = client.get(url(link(debtor, case), "problem") + f"?melding={report.pk}")
    assert "We have received your report" not in page.content.decode()


def test_a_closed_case_is_not_paused(debtor, case):
    from vaarwater.strategy.models import Case

    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_on=date(2026, 11, 1))
    case.refresh_from_db()
    report = problem_report(debtor=debtor, case=case, kind="cant_pay", reason="other", actor=ACTOR)
    assert report.hold is None and report.task is not None
