"""The payment plan pages of the portal: tell what you can afford (answers or bank data), choose
a plan that fits, choose how to pay, agree; the active plan; a promise to pay."""

# ruff: noqa: F811 - the fixtures (debtor, case, …) are imported from test_selfservice

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from vaarwater.arrangements.models import (
    Arrangement,
    ArrangementStatus,
    Assessment,
    Instalment,
    InstalmentStatus,
    Promise,
)
from vaarwater.contact.models import Message
from vaarwater.core.models import Event
from vaarwater.ledger.models import Debtor
from vaarwater.portal.models import AccessToken
from vaarwater.portal.tests.test_selfservice import (  # noqa: F401
    errors_of,
    link,
    open_case,
)
from vaarwater.strategy.models import Hold, HoldKind
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PSD2_DATA = Path(__file__).resolve().parents[2] / "arrangements" / "tests" / "data"


@pytest.fixture
def debtor(make_debtor):
    """A debtor with € 600 overdue (two invoices of € 300), paid on the 25th."""
    debtor = make_debtor(
        amount=30000, due=timezone.localdate() - timedelta(days=30), invoices=2, payday_day=25
    )
    return debtor


@pytest.fixture
def case(debtor, open_case):
    return open_case(debtor)


@pytest.fixture
def token(debtor, case):
    return link(debtor, case)


def page(token, extra=""):
    return f"/p/{token}/regeling/{extra}"


def assessment_for(case, *, capacity=25000, payday=25):
    """An assessment as the affordability part stores it (capacity € 250 a month)."""
    return Assessment.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        source="answers",
        household="single",
        net_income_cents=210000,
        fixed_costs_cents=120000,
        floor_cents=160000,
        capacity_cents=capacity,
        payday_day=payday,
        explanation=[
            {"label": "Net income", "cents": 210000},
            {"label": "Capacity", "cents": capacity},
        ],
    )


def with_assessment(client, token, case, **kwargs):
    """Start the flow with a stored assessment, as the start page does after the answers."""
    assessment = assessment_for(case, **kwargs)
    access = AccessToken.objects.filter(debtor=case.debtor).latest("pk")
    session = client.session
    session[f"plan-{access.pk}-{case.pk}"] = {"assessment": assessment.pk}
    session.save()
    return assessment


def sepa_creditor(case):
    """The creditor can collect by direct debit: a creditor id and an account."""
    creditor = case.creditor
    creditor.sepa_creditor_id = "NL79ZZZ999999990000"
    creditor.iban = "NL20INGB0001234567"
    creditor.save()
    return creditor


def choose(client, token, key="n3", method="transfer"):
    response = client.post(page(token, "keuze/"), {"keuze-choice": key})
    assert response.status_code == 302, errors_of(response)
    response = client.post(page(token, "betalen/"), {"betaal-method": method})
    assert response.status_code == 302, errors_of(response)
    return response


ANSWERS = {
    "action": "answers",
    "antw-household": "single",
    "antw-net_income": "2.100,00",
    "antw-rent": "800",
    "antw-energy": "150,50",
    "antw-insurance": "140",
    "antw-other_instalments": "",
    "antw-payday_day": "25",
}


# -- the start page --------------------------------------------------------------------------


def test_the_start_page_offers_two_ways_and_a_way_to_talk(client, debtor, token):
    """Without a plan: the questions, the bank-data upload (what is read, only a summary
    kept), the creditor's phone and email, a callback and 'I can't pay'."""
    creditor = debtor.creditor
    creditor.phone, creditor.email = "088-1234567", "incasso@example.nl"
    creditor.save()
    html = client.get(page(token)).content.decode()
    assert 'name="antw-net_income"' in html and 'name="bank-file"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "We keep only a summary" in html
    assert "088-1234567" in html and "mailto:incasso@example.nl" in html
    assert f'href="/p/{token}/terugbellen/"' in html
    assert f'href="/p/{token}/probleem/?soort=cant_pay"' in html
    assert 'value="25"' in html  # the known payday is filled in


def test_a_forged_link_gets_no_plan_pages(client, token):
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    for extra in ("", "keuze/", "betalen/", "bevestigen/", "klaar/", "belofte/"):
        assert client.get(page(forged, extra)).status_code == 404, extra
        assert client.post(page(forged, extra), {"action": "answers"}).status_code == 404


def test_the_later_steps_send_back_to_the_start_without_an_assessment(client, token):
    for extra in ("keuze/", "betalen/", "bevestigen/", "klaar/"):
        response = client.get(page(token, extra))
        assert response.status_code == 302 and response["Location"] == page(token), extra


def test_bad_answers_are_shown_per_field_and_kept(client, token):
    """Nothing chosen, letters for an amount, a payday of 40: an error at each field, in the
    summary too, and what was typed stays in the form; nothing is stored."""
    response = client.post(
        page(token),
        {
            "action": "answers",
            "antw-net_income": "veel",
            "antw-rent": "-5",
            "antw-energy": "12,345",
            "antw-payday_day": "40",
        },
    )
    assert response.status_code == 200
    errors = errors_of(response)
    assert "Choose who lives in your household." in errors
    assert "Enter an amount in euros" in errors
    assert "Enter a day of the month from 1 to 31." in errors
    html = response.content.decode()
    assert 'value="veel"' in html and 'value="40"' in html and 'value="12,345"' in html
    assert 'aria-invalid="true"' in html and "Please check the following:" in html
    assert not Assessment.objects.exists()


def test_a_zero_income_is_refused(client, token):
    response = client.post(page(token), {**ANSWERS, "antw-net_income": "0"})
    assert "net income per month, more than zero" in errors_of(response)


def test_answers_lead_to_the_options(client, token, case):
    """Good answers store an assessment (costs summed) and lead to the plans that fit."""
    response = client.post(page(token), ANSWERS)
    assert response.status_code == 302, errors_of(response)
    assert response["Location"] == page(token, "keuze/")
    assessment = Assessment.objects.get()
    assert assessment.case_id == case.pk and assessment.source == "answers"
    assert assessment.net_income_cents == 210000
    assert assessment.fixed_costs_cents == 80000 + 15050 + 14000
    assert assessment.payday_day == 25
    html = client.get(page(token, "keuze/")).content.decode()
    assert "What you can pay each month" in html


def test_a_bank_file_that_is_not_psd2_is_refused_with_the_reason(client, token):
    bad = SimpleUploadedFile("export.json", b'{"hello": "world"}', "application/json")
    response = client.post(
        page(token),
        {"action": "bank", "bank-household": "single", "bank-agree": "on", "bank-file": bad},
    )
    assert response.status_code == 200
    assert "We could not read this file" in errors_of(response)
    assert 'value="single" checked' in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_bank_upload_needs_a_file_and_consent(client, token):
    response = client.post(page(token), {"action": "bank", "bank-household": "couple"})
    errors = errors_of(response)
    assert "Choose the file with your bank transactions." in errors
    assert "Tick the box if you agree that we read the file." in errors


def test_a_psd2_export_leads_to_the_options_and_keeps_only_a_summary(client, token):
    """The bank data gives the income and payday; the page says what was found; the stored
    assessment holds a summary, not the transactions' descriptions or the full account."""
    raw = (PSD2_DATA / "psd2-salary.json").read_bytes()
    upload = SimpleUploadedFile("bank.json", raw, "application/json")
    response = client.post(
        page(token),
        {"action": "bank", "bank-household": "single", "bank-agree": "on", "bank-file": upload},
    )
    assert response.status_code == 302, errors_of(response)
    assessment = Assessment.objects.get()
    assert assessment.source == "psd2" and assessment.net_income_cents > 0
    stored = json.dumps(assessment.data)
    assert "Huur 07-2025" not in stored and "NL20INGB0001234567" not in stored
    html = client.get(page(token, "keuze/")).content.decode()
    assert "What we found in your bank data" in html and "Salary" in html


# -- the options -----------------------------------------------------------------------------


def test_only_options_within_the_capacity_are_offered(client, token, case):
    """€ 600 with € 250 a month: 3 × € 200 fits; in one go, 6 × € 100 and 12 × € 50 … only
    those within € 250 and at least the smallest instalment (€ 25)."""
    with_assessment(client, token, case, capacity=25000)
    html = client.get(page(token, "keuze/")).content.decode()
    keys = re.findall(r'name="keuze-choice"[^>]*value="([^"]+)"', html)
    assert "full" not in keys  # € 600 at once does not fit € 250
    assert "n3" in keys and "n6" in keys and "n12" in keys
    assert "custom" in keys
    assert "3 payments of €200.00" in html
    assert "Net income" in html  # the explanation lines


def test_a_tampered_option_key_is_refused(client, token, case):
    """A key that was not offered (in one go, € 600 > € 250), a made-up own amount above the
    capacity, or nonsense: refused, nothing stored."""
    with_assessment(client, token, case, capacity=25000)
    for key in ("full", "n2", "custom-60000", "x"):
        response = client.post(page(token, "keuze/"), {"keuze-choice": key})
        assert response.status_code == 200, key
        assert "Choose one of the plans shown." in errors_of(response), key
    response = client.post(
        page(token, "keuze/"), {"keuze-choice": "custom", "keuze-custom_amount": "300"}
    )
    assert "This amount does not fit" in errors_of(response)
    assert 'value="300"' in response.content.decode()
    # A stale key in the session (tampered or overtaken) is recomputed and sends back.
    access = AccessToken.objects.filter(debtor=case.debtor).latest("pk")
    session = client.session
    state = session[f"plan-{access.pk}-{case.pk}"]
    session[f"plan-{access.pk}-{case.pk}"] = {**state, "option": "custom-60000"}
    session.save()
    response = client.get(page(token, "betalen/"))
    assert response["Location"] == page(token, "keuze/")
    assert not Arrangement.objects.exists()


def test_an_own_amount_that_fits_is_taken(client, token, case):
    with_assessment(client, token, case, capacity=25000)
    response = client.post(
        page(token, "keuze/"), {"keuze-choice": "custom", "keuze-custom_amount": "175,00"}
    )
    assert response.status_code == 302, errors_of(response)
    html = client.get(page(token, "betalen/")).content.decode()
    assert "4 payments of €175.00" in html


def test_when_nothing_fits_the_page_is_kind_and_points_to_help(client, token, case):
    with_assessment(client, token, case, capacity=1000)
    html = client.get(page(token, "keuze/")).content.decode()
    assert "no payment plan fits" in html
    assert f'href="/p/{token}/hulp/"' in html and f'href="/p/{token}/terugbellen/"' in html
    assert 'name="keuze-choice"' not in html
    response = client.post(page(token, "keuze/"), {"keuze-choice": "n12"})
    assert response.status_code == 200 and not Arrangement.objects.exists()


# -- how to pay, agree -------------------------------------------------------------------------


def test_direct_debit_needs_a_valid_iban_holder_and_consent(client, token, case):
    creditor = sepa_creditor(case)
    with_assessment(client, token, case)
    client.post(page(token, "keuze/"), {"keuze-choice": "n3"})
    html = client.get(page(token, "betalen/")).content.decode()
    assert "NL79ZZZ999999990000" in html and creditor.name in html  # the mandate text
    response = client.post(
        page(token, "betalen/"),
        {"betaal-method": "sepa", "betaal-iban": "NL00BANK0123456789", "betaal-account_holder": ""},
    )
    errors = errors_of(response)
    assert "This is not a valid IBAN" in errors
    assert "Enter the name of the account holder." in errors
    assert "Tick the box to give permission" in errors
    assert 'value="NL00BANK0123456789"' in response.content.decode()


def test_agreeing_to_direct_debit_records_the_mandate_and_plans_the_debits(client, token, case):
    from vaarwater.payments.sepa_models import Collection, Mandate

    sepa_creditor(case)
    with_assessment(client, token, case)
    client.post(page(token, "keuze/"), {"keuze-choice": "n3"})
    response = client.post(
        page(token, "betalen/"),
        {
            "betaal-method": "sepa",
            "betaal-iban": "nl91 abna 0417 1643 00",
            "betaal-account_holder": "Klant Een",
            "betaal-consent": "on",
        },
    )
    assert response.status_code == 302, errors_of(response)
    html = client.get(page(token, "bevestigen/")).content.decode()
    assert "NL91ABNA0417164300" in html and "NL79ZZZ999999990000" in html
    response = client.post(page(token, "bevestigen/"))
    assert response["Location"] == page(token, "klaar/")
    mandate = Mandate.objects.get()
    assert mandate.signed_via == "portal" and mandate.signed_on == timezone.localdate()
    assert mandate.iban == "NL91ABNA0417164300" and mandate.debtor_id == case.debtor_id
    plan = Arrangement.objects.get()
    assert plan.method == "sepa" and plan.mandate_id == mandate.pk
    assert Collection.objects.filter(mandate=mandate).count() == 3
    html = client.get(page(token)).content.decode()
    assert "account ending in 4300" in html


def test_direct_debit_is_not_offered_without_a_creditor_id(client, token, case):
    with_assessment(client, token, case)
    client.post(page(token, "keuze/"), {"keuze-choice": "n3"})
    html = client.get(page(token, "betalen/")).content.decode()
    assert 'value="sepa"' not in html and 'value="transfer"' in html
    response = client.post(page(token, "betalen/"), {"betaal-method": "sepa"})
    assert "Choose one of the ways shown." in errors_of(response)


def test_agreeing_makes_the_plan_with_instalments_a_hold_and_a_confirmation(client, token, case):
    """The confirm page shows the schedule; agreeing makes the plan (3 × € 200 on the 25th),
    holds the case, sends 'regeling-bevestiging' and shows the plan with 'we sent you a
    confirmation'."""
    assessment = with_assessment(client, token, case)
    choose(client, token, "n3", "transfer")
    html = client.get(page(token, "bevestigen/")).content.decode()
    assert html.count("€200.00") >= 3 and "Agree to this plan" in html
    response = client.post(page(token, "bevestigen/"))
    assert response.status_code == 302 and response["Location"] == page(token, "klaar/")
    plan = Arrangement.objects.get()
    assert plan.status == ArrangementStatus.ACTIVE and plan.channel == "portal"
    assert plan.assessment_id == assessment.pk and plan.method == "transfer"
    assert [i.amount_cents for i in plan.instalments.all()] == [20000, 20000, 20000]
    assert all(i.due_on.day in (23, 24, 25) for i in plan.instalments.all())
    assert Hold.objects.filter(case=case, kind=HoldKind.ARRANGEMENT).exists()
    assert Message.objects.filter(template="regeling-bevestiging", case=case).exists()
    assert Event.objects.filter(verb="arrangement.accepted", debtor=case.debtor).exists()
    html = client.get(response["Location"]).content.decode()
    assert "We sent you a confirmation" in html
    assert plan.reference in html and "0 of 3 paid" in html


def test_a_double_submit_makes_one_plan(client, token, case):
    with_assessment(client, token, case)
    choose(client, token)
    first = client.post(page(token, "bevestigen/"))
    second = client.post(page(token, "bevestigen/"))
    assert first.status_code == second.status_code == 302
    assert second["Location"] == page(token, "klaar/")
    assert Arrangement.objects.count() == 1
    assert Message.objects.filter(template="regeling-bevestiging").count() == 1


def test_a_plan_made_elsewhere_meanwhile_is_shown_not_doubled(client, token, case):
    """The debtor has the confirm page open in two tabs and agrees in one: the other tab's
    agree shows the plan that exists."""
    with_assessment(client, token, case)
    choose(client, token)
    session = client.session
    saved = dict(session.items())
    client.post(page(token, "bevestigen/"))
    session = client.session
    for key, value in saved.items():  # the other tab still has the choice in its session
        session[key] = value
    session.save()
    response = client.post(page(token, "bevestigen/"))
    assert response["Location"] == page(token, "klaar/")
    assert Arrangement.objects.count() == 1


def test_the_active_plan_is_shown_with_progress_and_how_to_pay(client, token, case):
    with_assessment(client, token, case)
    choose(client, token, "n3", "transfer")
    client.post(page(token, "bevestigen/"))
    plan = Arrangement.objects.get()
    first = plan.instalments.get(number=1)
    Instalment.objects.filter(pk=first.pk).update(
        status=InstalmentStatus.PAID, paid_cents=first.amount_cents, paid_on=first.due_on
    )
    html = client.get(page(token)).content.decode()
    assert "Your payment plan" in html and "1 of 3 paid" in html
    assert plan.reference in html and "Next payment: €200.00" in html
    assert f'href="/p/{token}/probleem/?soort=cant_pay"' in html
    assert 'name="antw-net_income"' not in html  # no new plan while this one runs
    overview = client.get(f"/p/{token}/").content.decode()
    assert f"Your payment plan {plan.reference}: 1 of 3 paid." in overview
    # The other steps lead to the plan too.
    assert client.get(page(token, "keuze/"))["Location"] == page(token, "klaar/")


def test_after_a_missed_payment_a_new_plan_replaces_the_old(client, token, case):
    """A plan with a missed instalment may be replaced: the start page shows the plan and the
    questions; agreeing a new plan makes the old one REPLACED."""
    with_assessment(client, token, case)
    choose(client, token, "n3", "transfer")
    client.post(page(token, "bevestigen/"))
    old = Arrangement.objects.get()
    Instalment.objects.filter(arrangement=old, number=1).update(status=InstalmentStatus.MISSED)
    Arrangement.objects.filter(pk=old.pk).update(misses=1)
    html = client.get(page(token)).content.decode()
    assert "A payment of your plan was missed" in html and 'name="antw-net_income"' in html
    with_assessment(client, token, case, capacity=12000)
    choose(client, token, "n6", "transfer")
    response = client.post(page(token, "bevestigen/"))
    assert response["Location"] == page(token, "klaar/")
    old.refresh_from_db()
    assert old.status == ArrangementStatus.REPLACED
    new = Arrangement.objects.get(status=ArrangementStatus.ACTIVE)
    assert new.replaces_id == old.pk and new.instalments.count() == 6


def test_a_plan_paid_by_link_shows_the_link_of_the_next_instalment(client, token, case):
    from vaarwater.core.events import Actor
    from vaarwater.payments.services import payment_link_create

    with_assessment(client, token, case)
    choose(client, token, "n3", "link")
    client.post(page(token, "bevestigen/"))
    plan = Arrangement.objects.get()
    first = plan.instalments.get(number=1)
    link_row = payment_link_create(
        debtor=case.debtor, amount_cents=first.amount_cents, actor=Actor.system(), case=case
    )
    Instalment.objects.filter(pk=first.pk).update(payment_link=link_row)
    html = client.get(page(token)).content.decode()
    assert f'href="/b/{link_row.code}/"' in html


# -- a promise to pay --------------------------------------------------------------------------


def test_a_promise_to_pay_is_recorded_and_shown(client, token, case):
    day = timezone.localdate() + timedelta(days=10)
    response = client.post(
        page(token, "belofte/"),
        {"belofte-amount": "600,00", "belofte-due_on": day.isoformat()},
    )
    assert response.status_code == 302, errors_of(response)
    promise = Promise.objects.get()
    assert promise.amount_cents == 60000 and promise.due_on == day
    assert promise.source == "portal" and promise.case_id == case.pk
    html = client.get(response["Location"]).content.decode()
    assert "You promised to pay €600.00" in html
    assert "You promised to pay €600.00" in client.get(page(token)).content.decode()
    assert "You promised to pay €600.00" in client.get(f"/p/{token}/").content.decode()


def test_a_promise_outside_the_limits_is_refused(client, token):
    today = timezone.localdate()
    for amount, day, expected in (
        ("700", today + timedelta(days=3), "more than you owe"),
        ("0", today + timedelta(days=3), "above zero"),
        ("100", today - timedelta(days=1), "today or a day after today"),
        ("100", today + timedelta(days=60), "no later than"),
        ("100", "morgen", "Enter a date"),
    ):
        response = client.post(
            page(token, "belofte/"),
            {"belofte-amount": amount, "belofte-due_on": str(day)},
        )
        assert response.status_code == 200, (amount, day)
        assert expected in errors_of(response), (amount, day, errors_of(response))
    assert not Promise.objects.exists()


# -- pages without a case ----------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["", "belofte/"])
def test_the_pages_render_for_a_debtor_without_a_case(client, creditor, extra):
    bare = Debtor.objects.create(creditor=creditor, external_id="LEEG", name="Lege Klant")
    response = client.get(page(link(bare), extra))
    assert response.status_code == 200
    assert "You have nothing open" in response.content.decode()


# -- regressions found by trying the pages as a debtor would ------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("2.500", 250000), ("€ 2.500", 250000), ("2.500,00", 250000), ("2,500.00", 250000)],
)
def test_an_income_typed_with_a_thousands_point_is_read_in_full(client, token, typed, cents):
    """ "2.500" is how a Dutch person writes two thousand five hundred: not € 2,50 (which
    made every household look too poor for a plan)."""
    response = client.post(page(token), {**ANSWERS, "antw-net_income": typed})
    assert response.status_code == 302, errors_of(response)
    assert Assessment.objects.get().net_income_cents == cents


def test_a_bank_file_problem_is_told_in_dutch_on_the_dutch_page(client, token):
    """The reader's reason (English, with the JSON path) is not shown as it is: the page says
    what is wrong in the visitor's language and where in the file."""
    from django.conf import settings
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    raw = (PSD2_DATA / "psd2-bad-amount.json").read_bytes()
    upload = SimpleUploadedFile("bank.json", raw, "application/json")
    with translation.override("nl"):
        response = client.post(
            page(token),
            {"action": "bank", "bank-household": "single", "bank-agree": "on", "bank-file": upload},
        )
    errors = errors_of(response)
    assert "er staat een bedrag in dat geen getal is" in errors
    assert "transactions.booked[3].transactionAmount.amount" in errors
    assert "is not an amount" not in errors and "PSD2 bank data" not in errors


def test_a_deeply_nested_json_file_is_refused_not_a_server_error(client, token):
    deep = SimpleUploadedFile("bank.json", b"[" * 100000 + b"]" * 100000, "application/json")
    response = client.post(
        page(token),
        {"action": "bank", "bank-household": "single", "bank-agree": "on", "bank-file": deep},
    )
    assert response.status_code == 200
    assert "it is not a JSON file" in errors_of(response)
    assert not Assessment.objects.exists()


def test_a_schedule_that_changed_after_the_confirm_page_is_shown_again(client, token, case):
    """A payment comes in while the confirm page is open: agreeing does not silently make a
    plan with other amounts than the page showed; the new schedule is shown to agree again."""
    from vaarwater.ledger.services import payment_book

    with_assessment(client, token, case)
    choose(client, token, "n3")
    html = client.get(page(token, "bevestigen/")).content.decode()
    shown = re.search(r'name="schedule" value="([^"]+)"', html).group(1)
    payment_book(
        debtor=case.debtor,
        external_id="tussendoor",
        date=timezone.localdate(),
        amount_cents=3000,
    )
    response = client.post(page(token, "bevestigen/"), {"schedule": shown})
    assert response.status_code == 200 and not Arrangement.objects.exists()
    html = response.content.decode()
    assert "changed since you looked" in html and "€190.00" in html
    fresh = re.search(r'name="schedule" value="([^"]+)"', html).group(1)
    response = client.post(page(token, "bevestigen/"), {"schedule": fresh})
    assert response.status_code == 302
    assert [i.amount_cents for i in Arrangement.objects.get().instalments.all()] == [19000] * 3


def test_the_method_page_names_a_smaller_last_payment(client, token, case):
    """€ 600 at € 250 a month is 250, 250, 100: not "3 payments of € 250"."""
    with_assessment(client, token, case, capacity=25000)
    client.post(page(token, "keuze/"), {"keuze-choice": "custom", "keuze-custom_amount": "250"})
    html = client.get(page(token, "betalen/")).content.decode()
    assert "3 payments of €250.00." in html and "The last payment is €100.00." in html


def test_the_promise_date_error_follows_the_visitors_language():
    """The message was made when the module was imported, in that moment's language: English
    visitors got Dutch (or the other way round), depending on what imported it first."""
    from django.utils import translation

    from vaarwater.portal.plan_forms import PromiseForm

    message = PromiseForm.base_fields["due_on"].error_messages["invalid"]
    with translation.override("nl"):
        assert str(message) == "Vul een datum in, bijvoorbeeld 2026-11-25."
    with translation.override("en"):
        assert str(message) == "Enter a date, for example 2026-11-25."
