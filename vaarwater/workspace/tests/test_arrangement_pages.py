"""The payment plan page of a case in the back office: an agent records what the household can
afford, agrees a plan (an override beyond the capacity or the policy needs a written reason,
which is kept), records a promise, stops a plan; other creditors' cases are a 404."""

# ruff: noqa: F811 - fixtures imported from the strategy tests

from datetime import date, timedelta

import pytest
from django.utils import timezone

from vaarwater.arrangements.models import (
    Arrangement,
    ArrangementStatus,
    Assessment,
    Promise,
)
from vaarwater.contact.models import Message
from vaarwater.core.models import Event
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.testing import login_verified
from vaarwater.workspace.arrangement_views import add_months

from .factories import agent_for, case_create, version_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def agent(creditor):
    return agent_for(creditor)


@pytest.fixture
def case(creditor, make_debtor):
    """A case of € 600 overdue (no costs yet), the debtor paid on the 25th."""
    debtor = make_debtor(amount=60000, due=timezone.localdate() - timedelta(days=30), payday_day=25)
    return case_create(version_create(creditor), debtor=debtor)


@pytest.fixture
def signed_in(client, agent):
    login_verified(client, agent)
    return client


def url(case):
    return f"/cases/{case.pk}/plan/"


ANSWERS = {
    "action": "answers",
    "antw-household": "single",
    "antw-net_income": "2300",
    "antw-rent": "900",
    "antw-energy": "150",
    "antw-payday_day": "25",
}


def record_answers(client, case):
    response = client.post(url(case), ANSWERS)
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Assessment.objects.filter(case=case).latest("pk")


def test_the_page_needs_a_login(client, case):
    response = client.get(url(case))
    assert response.status_code == 302 and "login" in response["Location"]


def test_another_creditors_case_is_a_404(client, case, other_creditor):
    """An agent of another creditor gets a 404 for reading and for every action; nothing is
    recorded."""
    login_verified(client, agent_for(other_creditor, "buur"))
    assert client.get(url(case)).status_code == 404
    for data in (
        ANSWERS,
        {"action": "promise", "belofte-amount": "100", "belofte-due_on": "2030-01-01"},
        {"action": "accept", "plan-choice": "n3", "plan-method": "transfer"},
        {"action": "cancel", "stop-reason": "x"},
    ):
        assert client.post(url(case), data).status_code == 404
    assert not Assessment.objects.exists() and not Promise.objects.exists()
    assert not Arrangement.objects.exists()


def test_the_case_page_shows_the_plan_panel_with_a_link(signed_in, case):
    html = signed_in.get(f"/cases/{case.pk}/").content.decode()
    assert "No active payment plan." in html
    assert f'href="/cases/{case.pk}/plan/"' in html


def test_answers_give_an_assessment_and_the_options(signed_in, case, agent):
    """Income € 2,300 − the protected income (single, more than the € 1,050 costs): a capacity
    of some € 200 a month; 3 × € 200 fits, so it is offered."""
    assessment = record_answers(signed_in, case)
    assert assessment.source == "agent" and assessment.created_by == agent.username
    assert assessment.fixed_costs_cents == 105000
    html = signed_in.get(url(case) + f"?beoordeling={assessment.pk}").content.decode()
    assert 'value="n3"' in html
    assert "Net income" in html


def test_bad_answers_show_errors(signed_in, case):
    response = signed_in.post(
        url(case), {"action": "answers", "antw-net_income": "lots", "antw-payday_day": "0"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter an amount in euros" in html and 'class="errorlist' in html
    assert not Assessment.objects.exists()


def test_a_bad_psd2_file_is_refused(signed_in, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = signed_in.post(
        url(case),
        {
            "action": "bank",
            "bank-household": "single",
            "bank-agree": "on",
            "bank-file": SimpleUploadedFile("x.json", b"[1, 2", "application/json"),
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_psd2_file_gives_an_assessment(signed_in, case):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    data = Path(__file__).resolve().parents[2] / "arrangements" / "tests" / "data"
    upload = SimpleUploadedFile(
        "bank.json", (data / "psd2-salary.json").read_bytes(), "application/json"
    )
    response = signed_in.post(
        url(case),
        {"action": "bank", "bank-household": "single", "bank-agree": "on", "bank-file": upload},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assessment = Assessment.objects.get()
    assert assessment.source == "psd2" and assessment.case_id == case.pk
    assert f"beoordeling={assessment.pk}" in response["Location"]


def test_an_agent_agrees_an_offered_plan(signed_in, case, agent):
    assessment = record_answers(signed_in, case)
    response = signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "n3",
            "plan-method": "transfer",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    plan = Arrangement.objects.get()
    assert plan.channel == "agent" and plan.accepted_by == agent.username
    assert plan.assessment_id == assessment.pk and not plan.override_reason
    assert plan.instalments.count() == 3
    assert Message.objects.filter(template="regeling-bevestiging").exists()
    html = signed_in.get(f"/cases/{case.pk}/").content.decode()
    assert plan.reference in html and "0 of 3 paid" in html


def test_a_plan_beyond_the_capacity_needs_a_reason_which_is_recorded(signed_in, case):
    """€ 600 in 2 × € 300 is more than the ~€ 200 capacity: refused without a reason; with
    one, agreed, and the reason is on the plan and in its event."""
    assessment = record_answers(signed_in, case)
    first = timezone.localdate() + timedelta(days=10)
    data = {
        "action": "accept",
        "plan-assessment": assessment.pk,
        "plan-choice": "custom",
        "plan-custom_count": "2",
        "plan-first_due": first.isoformat(),
        "plan-method": "transfer",
    }
    response = signed_in.post(url(case), data)
    assert response.status_code == 200
    assert "Write why you agree it anyway" in response.content.decode()
    assert not Arrangement.objects.exists()
    reason = "Klant krijgt volgende maand een eenmalige uitkering"
    response = signed_in.post(url(case), {**data, "plan-override_reason": reason})
    assert response.status_code == 302, response.content.decode()[-3000:]
    plan = Arrangement.objects.get()
    assert plan.override_reason == reason
    assert [i.amount_cents for i in plan.instalments.all()] == [30000, 30000]
    assert [i.due_on for i in plan.instalments.all()] == [first, add_months(first, 1)]
    event = Event.objects.get(verb="arrangement.accepted")
    assert reason in event.reason and event.data["override_reason"] == reason


def test_a_custom_plan_that_fits_needs_no_reason(signed_in, case):
    assessment = record_answers(signed_in, case)
    first = timezone.localdate() + timedelta(days=7)
    response = signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "custom",
            "plan-custom_amount": "150",
            "plan-first_due": first.isoformat(),
            "plan-method": "link",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    plan = Arrangement.objects.get()
    assert plan.method == "link" and not plan.override_reason
    assert [i.amount_cents for i in plan.instalments.all()] == [15000] * 4


def test_a_tampered_option_is_refused(signed_in, case):
    assessment = record_answers(signed_in, case)
    response = signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "full",  # € 600 at once is beyond the capacity: not offered
            "plan-method": "transfer",
        },
    )
    assert response.status_code == 200
    assert "Choose one of the plans shown" in response.content.decode()
    assert not Arrangement.objects.exists()


def test_direct_debit_needs_a_creditor_that_can_collect(signed_in, case):
    """Without a SEPA creditor id the method is refused with the reason; nothing is made."""
    assessment = record_answers(signed_in, case)
    response = signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "n3",
            "plan-method": "sepa",
            "plan-iban": "NL91ABNA0417164300",
            "plan-account_holder": "J. de Vries",
            "plan-signed_on": timezone.localdate().isoformat(),
            "plan-signed_via": "paper",
        },
    )
    assert response.status_code == 200
    assert "no SEPA creditor identifier" in response.content.decode()
    assert not Arrangement.objects.exists()


def test_direct_debit_needs_the_mandate_details(signed_in, case):
    assessment = record_answers(signed_in, case)
    response = signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "n3",
            "plan-method": "sepa",
            "plan-iban": "NL00XXXX",
            "plan-signed_on": (timezone.localdate() + timedelta(days=2)).isoformat(),
        },
    )
    html = response.content.decode()
    assert "This is not a valid IBAN." in html
    assert "Enter the account holder." in html
    assert "A mandate cannot be signed in the future." in html
    assert not Arrangement.objects.exists()


def test_direct_debit_with_a_mandate_signed_on_paper(signed_in, case):
    creditor = case.creditor
    creditor.sepa_creditor_id = "NL79ZZZ999999990000"
    creditor.iban = "NL20INGB0001234567"
    creditor.save()
    assessment = record_answers(signed_in, case)
    signed = timezone.localdate() - timedelta(days=1)
    response = signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "n3",
            "plan-method": "sepa",
            "plan-iban": "NL91 ABNA 0417 1643 00",
            "plan-account_holder": "J. de Vries",
            "plan-signed_on": signed.isoformat(),
            "plan-signed_via": "paper",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    plan = Arrangement.objects.get()
    assert plan.method == "sepa" and plan.mandate.iban == "NL91ABNA0417164300"
    assert plan.mandate.signed_on == signed and plan.mandate.signed_via == "paper"


def test_an_agent_records_a_promise(signed_in, case, agent):
    day = timezone.localdate() + timedelta(days=5)
    response = signed_in.post(
        url(case),
        {
            "action": "promise",
            "belofte-amount": "250,00",
            "belofte-due_on": day.isoformat(),
            "belofte-source": "call",
            "belofte-note": "betaalt na salaris",
        },
    )
    assert response.status_code == 302
    promise = Promise.objects.get()
    assert (promise.amount_cents, promise.due_on, promise.source) == (25000, day, "call")
    assert promise.note == "betaalt na salaris" and promise.made_by == agent.username
    assert "€250.00" in signed_in.get(f"/cases/{case.pk}/").content.decode()


def test_a_promise_beyond_the_limit_is_refused(signed_in, case):
    response = signed_in.post(
        url(case),
        {
            "action": "promise",
            "belofte-amount": "250",
            "belofte-due_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
            "belofte-source": "call",
        },
    )
    assert response.status_code == 200
    assert "at most 30 days ahead" in response.content.decode()
    assert not Promise.objects.exists()


def test_stopping_a_plan_needs_a_reason(signed_in, case):
    assessment = record_answers(signed_in, case)
    signed_in.post(
        url(case),
        {
            "action": "accept",
            "plan-assessment": assessment.pk,
            "plan-choice": "n3",
            "plan-method": "transfer",
        },
    )
    plan = Arrangement.objects.get()
    response = signed_in.post(url(case), {"action": "cancel", "stop-reason": ""})
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.ACTIVE
    response = signed_in.post(
        url(case), {"action": "cancel", "stop-reason": "Klant gaat naar schuldhulp"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == ArrangementStatus.CANCELLED
    assert plan.end_reason == "Klant gaat naar schuldhulp"


def test_add_months_keeps_the_day_or_takes_the_last():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 15), 2) == date(2028, 1, 15)


# -- regressions found by trying the page as an agent would ------------------------------------


def accept_data(**changes):
    data = {"action": "accept", "plan-choice": "n3", "plan-method": "transfer"}
    return {**data, **changes}


def test_an_own_plan_far_ahead_is_refused_or_needs_a_reason(signed_in, case):
    """A first due date in 2099 (a typo) was agreed as it was. More than a year ahead is
    refused; more than a month after the policy's first due date needs a reason, kept."""
    far = timezone.localdate() + timedelta(days=400)
    custom = {"plan-choice": "custom", "plan-custom_count": "3"}
    response = signed_in.post(url(case), accept_data(**custom, **{"plan-first_due": str(far)}))
    assert "more than a year away" in response.content.decode()
    later = timezone.localdate() + timedelta(days=90)
    data = accept_data(**custom, **{"plan-first_due": str(later)})
    response = signed_in.post(url(case), data)
    assert "the first payment is 90 days away" in response.content.decode()
    assert not Arrangement.objects.exists()
    reason = "klant begint pas na de verhuizing"
    response = signed_in.post(url(case), {**data, "plan-override_reason": reason})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Arrangement.objects.get().override_reason == reason
    event = Event.objects.get(verb="arrangement.accepted")
    assert "de eerste betaling is pas over 90 dagen" in event.reason


def test_why_a_plan_does_not_fit_is_told_in_dutch_on_the_dutch_page(client, agent, case):
    """The reasons came from the English proposals code, in a Dutch sentence."""
    from django.conf import settings
    from django.utils import translation

    login_verified(client, agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    first = timezone.localdate() + timedelta(days=10)
    with translation.override("nl"):
        response = client.post(
            url(case),
            accept_data(
                **{
                    "plan-choice": "custom",
                    "plan-custom_count": "40",
                    "plan-first_due": first.isoformat(),
                }
            ),
        )
    html = response.content.decode()
    assert "40 termijnen is langer dan de langste regeling van 12 maanden" in html
    assert "een termijn van € 15,00 is minder dan de kleinste termijn van € 25,00" in html
    assert "instalments is longer" not in html


def test_agreeing_while_a_plan_runs_says_why_not(signed_in, case):
    """The plan form is not on the page while a plan runs; a second agree (another tab) was
    refused without a word. Now the refusal is shown as a message; one plan."""
    assert signed_in.post(url(case), accept_data()).status_code == 302
    response = signed_in.post(url(case), accept_data(), follow=True)
    assert "This case already has a payment plan." in response.content.decode()
    assert Arrangement.objects.count() == 1


def test_the_page_words_the_ways_to_pay_and_how_a_plan_was_agreed(signed_in, case):
    signed_in.post(url(case), accept_data())
    html = signed_in.get(url(case)).content.decode()
    assert "ways to pay: bank transfer with the payment reference, payment link" in html
    assert "(by an agent)" in html and "(agent)" not in html


def test_a_psd2_file_above_the_limit_is_refused_by_its_size(signed_in, case, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    monkeypatch.setattr("vaarwater.workspace.arrangement_views.PSD2_MAX_BYTES", 1000)
    upload = SimpleUploadedFile("bank.json", b" " * 2000 + b"{}", "application/json")
    response = signed_in.post(
        url(case),
        {"action": "bank", "bank-household": "single", "bank-agree": "on", "bank-file": upload},
    )
    assert "This file is too large" in response.content.decode()
    assert not Assessment.objects.exists()
