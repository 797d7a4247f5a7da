"""The call screen (``/calls/<pk>/``): the number to dial, the keyboard-friendly outcome form with
its promise prompts, a payment link during the call, the customer view below; recording the
outcome (on to the next customer with a 307), errors next to their fields; another creditor's
call is a 404, another agent's call cannot be recorded (403)."""

# ruff: noqa: F811 - fixtures imported from other test modules

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from vaarwater.arrangements.models import Assessment, Promise
from vaarwater.contact.tests.smtp_fixtures import smtp_server  # noqa: F401
from vaarwater.core.models import Event
from vaarwater.ledger.models import CreditorMembership, Role
from vaarwater.payments.models import PaymentLink
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401
from vaarwater.testing import login_verified
from vaarwater.workspace.models import CallAttempt

from .factories import agent_for, event_create
from .test_calls import PHONE, agent, attempt, case, finished  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def signed_in(client, agent):
    login_verified(client, agent)
    return client


def page(attempt):
    return f"/calls/{attempt.pk}/"


def due_in(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# -- the page ------------------------------------------------------------------------------------


def test_the_page_needs_a_login(client, attempt):
    response = client.get(page(attempt))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_call_page_shows_the_number_the_case_the_forms_and_the_customer_view(
    signed_in, attempt, case
):
    event_create(
        case.debtor, "note.test", "Klant belde zelf over de rekening", on=timezone.localdate()
    )
    response = signed_in.get(page(attempt))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="tel:{PHONE}"' in html and "06 12345678" in html
    assert case.reference in html and "€600.00" in html
    assert f'action="/calls/{attempt.pk}/outcome/"' in html
    assert f'action="/calls/{attempt.pk}/link/"' in html
    assert f'href="/cases/{case.pk}/plan/"' in html
    # The customer view is part of the page, with the customer's timeline.
    assert 'id="call-customer"' in html and "Klant belde zelf over de rekening" in html


def test_the_outcome_form_is_made_for_the_keyboard(signed_in, attempt):
    """Radios with access keys 1-5 in the outcome order, the first one focused, every input
    labelled, help tied to its field, and the small script that picks an outcome by number."""
    html = signed_in.get(page(attempt)).content.decode()
    keys = re.findall(r'name="outcome" id="outcome-(\w+)" value="\w+" accesskey="(\d)"', html)
    assert keys == [
        ("right_party", "1"),
        ("reached", "2"),
        ("no_answer", "3"),
        ("voicemail", "4"),
        ("wrong_number", "5"),
    ]
    assert re.search(r'id="outcome-right_party"[^>]*autofocus', html)
    assert html.count("autofocus") == 1
    for name in ("root_cause", "promise_amount", "promise_due_on", "new_phone", "callback_at"):
        assert f'<label for="id_{name}">' in html
    assert 'aria-describedby="id_callback_at-help"' in html
    assert 'data-key="' in html and "requestSubmit" in html
    assert 'name="then" value="next"' in html


def test_the_promise_prompts_show_the_payday_and_the_last_capacity(signed_in, attempt, case):
    Assessment.objects.create(
        creditor=case.creditor,
        debtor=case.debtor,
        case=case,
        source="agent",
        household="single",
        net_income_cents=230000,
        floor_cents=150000,
        capacity_cents=20000,
    )
    html = signed_in.get(page(attempt)).content.decode()
    prompts = html[html.index('id="call-prompts"') :]
    assert "payday" in prompts and "day 25 of the month" in prompts
    assert "€200.00 a month" in prompts
    assert f'href="/cases/{case.pk}/plan/"' in prompts


# -- tenant isolation and who may record -------------------------------------------------------


def test_another_creditors_call_is_a_404(client, attempt, other_creditor, finished):
    login_verified(client, agent_for(other_creditor, "buur"))
    assert client.get(page(attempt)).status_code == 404
    assert client.post(page(attempt) + "outcome/", {"outcome": "no_answer"}).status_code == 404
    response = client.post(page(attempt) + "link/", {"link-amount": "10", "link-channel": "email"})
    assert response.status_code == 404
    attempt.refresh_from_db()
    assert attempt.ended_at is None and not PaymentLink.objects.exists() and not finished


def test_another_agents_call_can_be_seen_not_recorded(client, attempt, creditor, finished):
    colleague = agent_for(creditor, "collega")
    login_verified(client, colleague)
    html = client.get(page(attempt)).content.decode()
    assert 'id="call-not-yours"' in html and 'id="call-outcome"' not in html
    assert client.post(page(attempt) + "outcome/", {"outcome": "no_answer"}).status_code == 403
    response = client.post(page(attempt) + "link/", {"link-amount": "10", "link-channel": "email"})
    assert response.status_code == 403
    attempt.refresh_from_db()
    assert attempt.ended_at is None and not finished


def test_a_supervisor_may_record_an_agents_call(client, attempt, creditor, finished):
    boss = agent_for(creditor, "chef")
    CreditorMembership.objects.filter(user=boss).update(role=Role.SUPERVISOR)
    login_verified(client, boss)
    response = client.post(page(attempt) + "outcome/", {"outcome": "voicemail"})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.outcome == "voicemail"


# -- recording -----------------------------------------------------------------------------------


def test_recording_a_promise_shows_the_outcome_read_only(signed_in, attempt, case, finished):
    response = signed_in.post(
        page(attempt) + "outcome/",
        {
            "outcome": "right_party",
            "root_cause": "income_drop",
            "promise_amount": "50,00",
            "promise_due_on": due_in(5),
            "note": "Betaalt na salaris",
        },
    )
    assert response.status_code == 302 and response["Location"] == page(attempt)
    promise = Promise.objects.get(case=case)
    assert promise.amount_cents == 5000 and promise.source == "call"
    html = signed_in.get(page(attempt)).content.decode()
    assert 'id="call-result"' in html and 'data-outcome="right_party"' in html
    assert 'id="call-outcome"' not in html and "€50.00" in html
    assert 'action="/queue/next/"' in html and 'href="/queue/"' in html
    assert "The outcome of the call is recorded." in html


def test_save_and_next_passes_the_post_on_to_the_queue(signed_in, attempt, creditor, finished):
    """The 307 makes the browser repeat the POST (with the creditor of the call) at "next
    customer", which takes the next task of that creditor's queue."""
    html = signed_in.get(page(attempt)).content.decode()
    assert f'name="creditor" value="{creditor.code}"' in html
    data = {"outcome": "no_answer", "then": "next", "creditor": creditor.code}
    response = signed_in.post(page(attempt) + "outcome/", data)
    assert response.status_code == 307 and response["Location"] == "/queue/next/"
    attempt.refresh_from_db()
    assert attempt.outcome == "no_answer"


def test_save_and_next_lands_on_the_queue_or_the_next_call(client, case, creditor, finished):
    from vaarwater.workspace.tests.test_calls import attempt_for

    agent = agent_for(creditor, "beller")
    login_verified(client, agent)
    attempt = attempt_for(case, agent)
    data = {"outcome": "voicemail", "then": "next", "creditor": creditor.code}
    response = client.post(page(attempt) + "outcome/", data, follow=True)
    assert response.redirect_chain[0] == ("/queue/next/", 307)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(("/queue/", "/calls/"))


def test_a_refused_promise_shows_the_error_next_to_the_field(signed_in, attempt, finished):
    response = signed_in.post(
        page(attempt) + "outcome/",
        {"outcome": "right_party", "promise_amount": "601", "promise_due_on": due_in(5)},
    )
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(r'<span class="error" id="id_promise_amount-error">([^<]+)</span>', html)
    assert error and "more than is open" in error.group(1)
    field = re.search(r'<input[^>]*name="promise_amount"[^>]*>', html).group(0)
    assert 'aria-describedby="id_promise_amount-error"' in field and "autofocus" in field
    assert 'value="right_party" accesskey="1" data-key="1" required checked' in html
    attempt.refresh_from_db()
    assert attempt.ended_at is None and not Promise.objects.exists() and not finished


def test_no_outcome_chosen_is_an_error_on_the_choice(signed_in, attempt, finished):
    html = signed_in.post(page(attempt) + "outcome/", {"note": "x"}).content.decode()
    assert 'id="outcome-error"' in html
    assert not Event.objects.filter(verb="call.outcome").exists()


def test_a_callback_outside_the_hours_is_refused_on_its_field(signed_in, attempt, finished):
    day = timezone.localdate() + timedelta(days=1)
    html = signed_in.post(
        page(attempt) + "outcome/",
        {"outcome": "right_party", "callback_at": f"{day.isoformat()}T21:00"},
    ).content.decode()
    assert 'id="id_callback_at-error"' in html


def test_a_finished_call_is_not_recorded_again(signed_in, attempt, finished):
    signed_in.post(page(attempt) + "outcome/", {"outcome": "no_answer"})
    response = signed_in.post(page(attempt) + "outcome/", {"outcome": "right_party"})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.outcome == "no_answer" and len(finished) == 1


# -- a payment link ------------------------------------------------------------------------------


def test_a_payment_link_is_sent_by_email_from_the_page(
    signed_in, attempt, case, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            page(attempt) + "link/", {"link-amount": "25,00", "link-channel": "email"}
        )
    assert response.status_code == 302
    link = PaymentLink.objects.get()
    assert link.amount_cents == 2500 and CallAttempt.objects.get().payment_link == link
    address = case.debtor.contact_points.get(kind="email").value
    assert len(smtp_server.to(address)) == 1


def test_a_channel_without_an_address_is_shown_and_refused(signed_in, attempt):
    html = signed_in.get(page(attempt)).content.decode()
    assert re.search(r'id="link-channel-whatsapp"[^>]*disabled', html)
    response = signed_in.post(
        page(attempt) + "link/", {"link-amount": "25,00", "link-channel": "whatsapp"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="link-channel-error"' in html
    assert "no WhatsApp number" in html and not PaymentLink.objects.exists()


def test_back_to_the_queue_without_calling(signed_in, attempt):
    """The agent gives the call back: the attempt ends without an outcome, the task is free."""
    page_html = signed_in.get(page(attempt)).content.decode()
    assert 'id="call-release"' in page_html
    response = signed_in.post(f"/calls/{attempt.pk}/release/")
    assert response.status_code == 302 and response["Location"].startswith("/queue/")
    attempt = CallAttempt.objects.get(pk=attempt.pk)
    assert attempt.ended_at is not None and attempt.outcome == ""
    attempt.task.refresh_from_db()
    assert attempt.task.claimed_by_id is None
    assert Event.objects.filter(verb="call.released", subject_id=attempt.pk).exists()
    # Given back once; a second press changes nothing.
    assert signed_in.post(f"/calls/{attempt.pk}/release/").status_code == 302
    assert Event.objects.filter(verb="call.released", subject_id=attempt.pk).count() == 1


@pytest.mark.parametrize("typed", ["9" * 400, "1" * 30 + ",00"])
def test_an_amount_too_long_to_read_is_a_form_error_not_a_500(signed_in, attempt, finished, typed):
    """Review of issue 7: a number with more digits than ``Decimal`` holds was a server error
    in the promise and the payment link forms; now it is the field's "enter an amount" error."""
    response = signed_in.post(
        page(attempt) + "outcome/",
        {"outcome": "right_party", "promise_amount": typed, "promise_due_on": due_in(5)},
    )
    assert response.status_code == 200
    assert 'id="id_promise_amount-error"' in response.content.decode()
    response = signed_in.post(
        page(attempt) + "link/", {"link-amount": typed, "link-channel": "sms"}
    )
    assert response.status_code == 200
    assert 'id="id_link-amount-error"' in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.ended_at is None and not Promise.objects.exists()
    assert not PaymentLink.objects.exists() and not finished
