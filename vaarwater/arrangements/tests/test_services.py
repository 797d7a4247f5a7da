"""Accepting a payment plan: the happy path and every refusal; references; cancelling."""

from datetime import date, timedelta

import pytest

from vaarwater.arrangements import services
from vaarwater.arrangements.models import (
    Arrangement,
    ArrangementStatus,
    Assessment,
    Instalment,
    InstalmentStatus,
)
from vaarwater.arrangements.selectors import (
    active_arrangement,
    arrangement_by_reference,
    arrangement_progress,
    case_arrangements,
    reference_candidates,
)
from vaarwater.arrangements.services import (
    ArrangementError,
    arrangement_accept,
    arrangement_cancel,
    case_options,
    debt_of,
    payday_of,
)
from vaarwater.contact.models import Message
from vaarwater.contact.rendering import message_content
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.services import payment_book
from vaarwater.payments.sepa_models import Mandate
from vaarwater.strategy.models import CaseStatus, CloseReason, Hold, HoldKind
from vaarwater.strategy.services import case_close

from .conftest import COSTS, ON

# The refusals are read in English (the interface is Dutch first).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DEBTOR = Actor("debtor", "klant (portaal)")
AGENT = Actor("user", "medewerker")


def accept(case, option, **kwargs):
    kwargs.setdefault("method", "transfer")
    kwargs.setdefault("actor", DEBTOR)
    kwargs.setdefault("channel", "portal")
    kwargs.setdefault("on", ON)
    return arrangement_accept(case=case, option=option, **kwargs)


def assessment(case, capacity):
    return Assessment.objects.create(
        creditor_id=case.creditor_id,
        debtor=case.debtor,
        case=case,
        source="answers",
        household="single",
        net_income_cents=250000,
        floor_cents=209367,
        capacity_cents=capacity,
        payday_day=20,
    )


def test_debt_splits_principal_interest_and_costs(strategy, make_case):
    """The debt is the open principal, interest and costs; the plan leaves costs out to waive."""
    strategy()
    case = make_case(amount=30000)
    debt = debt_of(case)
    assert (debt.principal_cents, debt.interest_cents, debt.costs_cents) == (30000, 0, COSTS)
    assert services.plan_cover(debt, services.policy_of(case)) == (30000, COSTS)


def test_payday_from_assessment_else_debtor(strategy, make_case):
    strategy()
    case = make_case(payday_day=25)
    assert payday_of(case.debtor).day == 25
    assert payday_of(case.debtor, assessment(case, 20000)).day == 20


def test_accept_happy_path(strategy, make_case, option_for):
    """A plan of three: instalments, reference, a hold to the last date + grace + margin, the
    case held, an event with the reasons, a confirmation with the schedule that leaves at once."""
    strategy()
    case = make_case()
    option = option_for(case, count=3)
    plan = accept(case, option)
    assert plan.status == ArrangementStatus.ACTIVE
    assert plan.reference == "RGL" + case.reference.replace("-", "") + "01"
    assert (plan.total_cents, plan.waived_costs_cents, plan.debt_cents) == (30000, COSTS, 34500)
    assert plan.policy["grace_days"] == 5 and plan.policy["waive_costs_when_kept"] is True
    rows = list(plan.instalments.values_list("number", "due_on", "amount_cents", "status"))
    assert rows == [
        (1, date(2026, 11, 25), 10000, "open"),
        (2, date(2026, 12, 25), 10000, "open"),
        (3, date(2027, 1, 25), 10000, "open"),
    ]
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    hold = plan.hold
    assert hold.kind == HoldKind.ARRANGEMENT
    assert hold.until == date(2027, 1, 25) + timedelta(days=5 + services.HOLD_MARGIN_DAYS)
    event = Event.objects.get(verb="arrangement.accepted")
    assert "3 termijnen van € 100,00" in event.reason
    assert "incassokosten van € 45,00 vervallen" in event.reason
    assert "geen betaalruimte berekend" in event.reason
    message = Message.objects.get(template="regeling-bevestiging")
    assert message.purpose == "confirmation"  # leaves at once: the debtor is waiting for it
    assert message.context["plan_schedule"] == [
        ["2026-11-25", 10000],
        ["2026-12-25", 10000],
        ["2027-01-25", 10000],
    ]
    text = message_content(message=message).text
    assert "1. 25 november 2026: € 100,00" in text
    assert "3. 25 januari 2027: € 100,00" in text
    assert "incassokosten van € 45,00 niet te betalen" in text
    assert plan.reference in text
    assert active_arrangement(case) == plan
    assert arrangement_progress(plan) == (0, 3, 0, 30000)
    assert list(case_arrangements(case)) == [plan]


def test_accept_with_proposals(strategy, make_case):
    """An option from the proposals (H1) for the assessment's capacity can be accepted."""
    strategy()
    case = make_case(amount=60000)
    options = case_options(case=case, assessment=assessment(case, 25000), on=ON)
    assert options and all(option.fits for option in options)
    plan = accept(case, options[-1], assessment=Assessment.objects.get())
    assert plan.capacity_cents == 25000
    assert sum(plan.instalments.values_list("amount_cents", flat=True)) == plan.total_cents


def test_stale_option_is_refused(strategy, make_case, option_for):
    """A payment after the options were made changes the balance: choose again."""
    strategy()
    case = make_case()
    option = option_for(case)
    payment_book(debtor=case.debtor, external_id="P1", date=ON, amount_cents=1000)
    with pytest.raises(ArrangementError, match="balance changed") as refused:
        accept(case, option)
    assert refused.value.field == "option"
    assert not Arrangement.objects.exists()


def test_over_capacity_refused_in_portal_allowed_for_agent_with_reason(
    strategy, make_case, option_for
):
    """Beyond the capacity: refused in the portal, refused for an agent without a reason, and
    agreed by an agent who says why (kept on the plan and in the event)."""
    strategy()
    case = make_case()
    option = option_for(case, count=3)  # € 100,00 a month
    small = assessment(case, 5000)
    with pytest.raises(ArrangementError) as refused:
        accept(case, option, assessment=small)
    assert refused.value.reasons  # why it does not fit, for the page to show
    with pytest.raises(ArrangementError):
        accept(case, option, assessment=small, channel="agent", actor=AGENT)
    plan = accept(
        case,
        option,
        assessment=small,
        channel="agent",
        actor=AGENT,
        override_reason="klant krijgt volgende maand een nieuwe baan",
    )
    assert plan.override_reason == "klant krijgt volgende maand een nieuwe baan"
    event = Event.objects.get(verb="arrangement.accepted")
    assert event.data["override_reason"] == plan.override_reason
    assert event.data["problems"]
    assert "omdat: klant krijgt volgende maand een nieuwe baan" in event.reason
    assert "maandruimte € 50,00" in event.reason
    # The reason is Dutch throughout: why it did not fit too (it was English in a Dutch text).
    assert "€ 100,00 is meer dan de maandruimte van € 50,00" in event.reason
    assert "capacity" not in event.reason
    assert event.data["problem_codes"] == ["capacity"]


def test_policy_limits_apply_without_assessment(strategy, make_case, option_for):
    """An instalment below the policy's minimum is refused even without a capacity."""
    strategy(min_instalment="50.00")
    case = make_case(amount=12000, costs=0)
    with pytest.raises(ArrangementError):
        accept(case, option_for(case, count=3))  # € 40,00 each


def test_method_must_be_offered(strategy, make_case, option_for):
    strategy(methods="[transfer]")
    case = make_case()
    with pytest.raises(ArrangementError, match="not offered") as refused:
        accept(case, option_for(case), method="link")
    assert refused.value.field == "method"


def test_sepa_needs_an_active_mandate_of_this_debtor(
    strategy, make_case, option_for, make_debtor, monkeypatch
):
    """Direct debit without a mandate is refused; with one, one collection per instalment is
    planned (purpose instalment:<id>), and the confirmation says it is collected."""
    strategy()
    case = make_case()
    option = option_for(case)
    with pytest.raises(ArrangementError, match="mandate"):
        accept(case, option, method="sepa")
    other = make_debtor()
    theirs = Mandate.objects.create(
        creditor_id=case.creditor_id,
        debtor=other,
        mandate_id="M-OTHER",
        iban="NL91ABNA0417164300",
        account_holder="Ander",
        signed_on=ON,
        signed_via="portal",
    )
    with pytest.raises(ArrangementError, match="another customer"):
        accept(case, option, method="sepa", mandate=theirs)
    mandate = Mandate.objects.create(
        creditor_id=case.creditor_id,
        debtor=case.debtor,
        mandate_id="M-1",
        iban="NL91ABNA0417164300",
        account_holder="Klant",
        signed_on=ON,
        signed_via="portal",
    )
    planned = []
    monkeypatch.setattr(
        "vaarwater.payments.sepa.collections_plan",
        lambda *, mandate, items, actor: planned.append((mandate, items)),
    )
    plan = accept(case, option, method="sepa")
    assert plan.mandate == mandate
    [(used, items)] = planned
    ids = list(plan.instalments.values_list("pk", flat=True))
    assert used == mandate
    assert [item[0] for item in items] == [f"instalment:{pk}" for pk in ids]
    assert [item[1] for item in items] == [10000, 10000, 10000]
    text = message_content(message=Message.objects.get(template="regeling-bevestiging")).text
    assert "automatische incasso" in text and "NL91 ... 4300" in text


def test_sepa_plan_with_the_real_collections(strategy, make_case, option_for):
    """With the SEPA part: the collections exist, one per instalment, on the due dates."""
    from vaarwater.payments.sepa_models import Collection

    strategy()
    case = make_case()
    mandate = Mandate.objects.create(
        creditor_id=case.creditor_id,
        debtor=case.debtor,
        mandate_id="M-1",
        iban="NL91ABNA0417164300",
        account_holder="Klant",
        signed_on=ON,
        signed_via="portal",
    )
    plan = accept(case, option_for(case), method="sepa", mandate=mandate)
    rows = list(Collection.objects.order_by("due_on").values_list("purpose", "due_on", "status"))
    ids = list(plan.instalments.values_list("pk", "due_on"))
    assert rows == [(f"instalment:{pk}", due, "planned") for pk, due in ids]
    arrangement_cancel(arrangement=plan, reason="klant betaalt liever zelf", actor=AGENT, on=ON)
    assert set(Collection.objects.values_list("status", flat=True)) == {"cancelled"}


def test_second_active_plan_is_refused(strategy, make_case, option_for):
    strategy()
    case = make_case()
    accept(case, option_for(case))
    with pytest.raises(ArrangementError, match="already has a payment plan"):
        accept(case, option_for(case, count=2))


def test_a_plan_with_a_missed_instalment_can_be_replaced(strategy, make_case, option_for):
    """After a miss the debtor may choose a new plan: the old one is REPLACED, its hold ends,
    the case stays held under the new plan's hold, and the new plan points at the old."""
    strategy()
    case = make_case()
    old = accept(case, option_for(case))
    Instalment.objects.filter(arrangement=old, number=1).update(
        status=InstalmentStatus.MISSED, missed_on=date(2026, 12, 1)
    )
    old.misses = 1
    old.save()
    new = accept(case, option_for(case, count=6, first=date(2026, 12, 20)), on=date(2026, 12, 2))
    old.refresh_from_db()
    assert old.status == ArrangementStatus.REPLACED and old.ended_on == date(2026, 12, 2)
    assert new.replaces == old
    assert new.reference.endswith("02")
    assert Hold.objects.get(pk=old.hold_id).released_on == date(2026, 12, 2)
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    assert Event.objects.filter(verb="arrangement.replaced").count() == 1


def test_closed_case_is_refused(strategy, make_case, option_for):
    strategy()
    case = make_case()
    option = option_for(case)
    case_close(case=case, reason_code=CloseReason.MANUAL, reason="test", on=ON, actor=AGENT)
    with pytest.raises(ArrangementError, match="closed"):
        accept(case, option)


def test_first_date_in_the_past_is_refused(strategy, make_case, option_for):
    strategy()
    case = make_case()
    with pytest.raises(ArrangementError, match="passed"):
        accept(case, option_for(case, first=date(2026, 10, 25)))


def test_cancel_ends_the_hold_and_the_case_resumes(strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    with pytest.raises(ArrangementError):
        arrangement_cancel(arrangement=plan, reason=" ", actor=AGENT)
    arrangement_cancel(arrangement=plan, reason="klant wil toch alles ineens", actor=AGENT, on=ON)
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == ArrangementStatus.CANCELLED
    assert case.status == CaseStatus.OPEN
    assert "klant wil toch alles ineens" in Event.objects.get(verb="arrangement.cancelled").reason
    with pytest.raises(ArrangementError, match="already ended"):
        arrangement_cancel(arrangement=plan, reason="nogmaals", actor=AGENT)


def test_reference_is_found_in_free_text(strategy, make_case, option_for, other_creditor):
    """The plan's reference is found in a transfer's description, typed with spaces or dashes,
    for its own creditor only; a wrong check digit is not a reference."""
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    digits = plan.reference[3:]
    spaced = f"termijn 1 rgl {digits[:4]} {digits[4:]} dank"
    assert reference_candidates(spaced) == [plan.reference]
    assert arrangement_by_reference(case.creditor, spaced) == plan
    assert arrangement_by_reference(case.creditor, f"RGL-{digits[:6]}-{digits[6:]}") == plan
    assert arrangement_by_reference(other_creditor, plan.reference) is None
    assert arrangement_by_reference(case.creditor, "factuur F1-0") is None
    wrong = plan.reference[:9] + str((int(plan.reference[9]) + 1) % 10) + plan.reference[10:]
    assert arrangement_by_reference(case.creditor, wrong) is None


def test_admin_shows_plans_read_only(admin_client, strategy, make_case, option_for):
    strategy()
    case = make_case()
    plan = accept(case, option_for(case))
    for url in (
        "/admin/arrangements/arrangement/",
        f"/admin/arrangements/arrangement/{plan.pk}/change/",
        "/admin/arrangements/promise/",
        "/admin/arrangements/assessment/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
    assert plan.reference in admin_client.get("/admin/arrangements/arrangement/").text
    assert admin_client.get("/admin/arrangements/arrangement/add/").status_code == 403


def test_payday_of_uses_four_weekly_pay_found_in_bank_data():
    from types import SimpleNamespace

    from vaarwater.arrangements.services import payday_of

    debtor = SimpleNamespace(payday_day=None, payday_cycle="", payday_anchor=None)
    assessment = SimpleNamespace(
        payday_day=None,
        data={"psd2": {"payday": {"day": None, "cycle": "four_weekly", "anchor": "2025-09-26"}}},
    )
    payday = payday_of(debtor, assessment)
    assert (payday.cycle, payday.anchor) == ("four_weekly", date(2025, 9, 26))
    monthly = SimpleNamespace(payday_day=24, data={})
    assert payday_of(debtor, monthly).day == 24
