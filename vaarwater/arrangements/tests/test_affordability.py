"""Recording affordability assessments (database)."""

from datetime import date

import pytest

from vaarwater.arrangements.affordability import (
    AffordabilityError,
    assessment_from_answers,
    assessment_record,
)
from vaarwater.arrangements.models import Assessment
from vaarwater.core.events import Actor
from vaarwater.core.models import Event
from vaarwater.ledger.models import Debtor
from vaarwater.workspace.tests.factories import case_create, version_create

ON = date(2025, 10, 1)
AGENT = Actor.system("test")


@pytest.fixture
def debtor(creditor):
    return Debtor.objects.create(creditor=creditor, external_id="K1", name="Klant Een")


@pytest.fixture
def case(creditor, debtor):
    return case_create(version_create(creditor), debtor=debtor)


def record(debtor, case, **over):
    args = {
        "debtor": debtor,
        "case": case,
        "source": "answers",
        "household": "single",
        "net_income_cents": 250000,
        "fixed_costs_cents": 120000,
        "other_instalments_cents": 10000,
        "actor": AGENT,
        "on": ON,
        **over,
    }
    return assessment_record(**args)


def test_records_capacity_with_explanation_and_event(debtor, case):
    """€2,500 income, single: 2,500.00 − 2,093.67 − 100.00 = 306.33, explained and logged."""
    assessment = record(debtor, case, payday_day=24, data={"answers": {"note": "via portal"}})
    assessment.refresh_from_db()
    assert assessment.capacity_cents == 30633
    assert assessment.floor_cents == 209367
    assert assessment.creditor_id == debtor.creditor_id
    assert assessment.payday_day == 24
    assert assessment.created_by == "test"
    assert assessment.explanation == [
        {"label": "net income", "cents": 250000},
        {"label": "protected income (beslagvrije voet)", "cents": 209367},
        {"label": "fixed costs", "cents": 120000},
        {"label": "kept for living: the higher of the two", "cents": -209367},
        {"label": "instalments to other creditors", "cents": -10000},
        {"label": "capacity per month", "cents": 30633},
    ]
    assert assessment.data["answers"] == {"note": "via portal"}
    assert assessment.data["reckoning"] == {
        "on": "2025-10-01",
        "floor_valid_from": "2025-07-01",
        "floor_table_outdated": False,
    }
    event = Event.objects.get(verb="assessment.recorded")
    assert event.subject_id == assessment.pk
    assert event.debtor_id == debtor.pk
    assert event.occurred_on == ON
    # Plain Dutch, like every event's reason (it was English on the Dutch timeline).
    assert event.reason.startswith(
        "betaalruimte € 306,33 per maand: inkomen € 2.500,00 − beslagvrije voet € 2.093,67 − "
        "termijnen aan anderen € 100,00 (huishouden "
    )
    assert event.data["capacity_cents"] == 30633


def test_fixed_costs_above_the_floor_and_capacity_never_negative(debtor, case):
    """Fixed costs above the floor count instead; too little income gives zero, not less."""
    assessment = record(
        debtor,
        case,
        household="couple",
        fixed_costs_cents=300000,
        net_income_cents=320000,
        other_instalments_cents=0,
    )
    assert assessment.capacity_cents == 20000
    assert "− vaste lasten € 3.000,00" in Event.objects.get(verb="assessment.recorded").reason
    assessment = record(debtor, None, net_income_cents=150000)
    assert assessment.capacity_cents == 0
    assert assessment.explanation[-1]["label"] == "capacity per month (nothing left, so zero)"


def test_outdated_table_is_flagged(debtor, case):
    """A year after the newest row the assessment says the amounts may be outdated."""
    assessment = record(debtor, case, on=date(2026, 7, 1))
    assert assessment.data["reckoning"]["floor_table_outdated"] is True


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"net_income_cents": -1}, "net_income_cents"),
        ({"net_income_cents": 12.5}, "net_income_cents"),
        ({"fixed_costs_cents": 10_000_001}, "fixed_costs_cents"),
        ({"other_instalments_cents": "100"}, "other_instalments_cents"),
        ({"other_debts_cents": -5}, "other_debts_cents"),
        ({"payday_day": 0}, "payday_day"),
        ({"payday_day": 32}, "payday_day"),
        ({"household": "family"}, "household"),
        ({"source": "guess"}, "source"),
        ({"data": ["not", "a", "dict"]}, "data"),
        ({"on": date(2025, 1, 1)}, "on"),
    ],
)
def test_bad_input_is_refused_naming_the_field(debtor, case, over, field):
    """Every bad field is named; nothing is stored."""
    with pytest.raises(AffordabilityError) as caught:
        record(debtor, case, **over)
    assert field in caught.value.errors
    assert str(caught.value).startswith(f"{field}: ")
    assert not Assessment.objects.exists()
    assert not Event.objects.filter(verb="assessment.recorded").exists()


def test_several_errors_at_once(debtor, case):
    """All problems are reported together, for a form to show them per field."""
    with pytest.raises(AffordabilityError) as caught:
        record(debtor, case, net_income_cents=-1, household="x", payday_day=40)
    assert set(caught.value.errors) == {"net_income_cents", "household", "payday_day"}
    assert isinstance(caught.value, ValueError)


def test_case_of_another_debtor_is_refused(creditor, debtor, case):
    """An assessment is for the case's own debtor."""
    other = Debtor.objects.create(creditor=creditor, external_id="K2", name="Klant Twee")
    with pytest.raises(AffordabilityError, match="case: belongs to another customer"):
        record(other, case)


def test_from_answers_stores_the_answers(debtor, case):
    """The portal's answers are stored as given, with source 'answers'."""
    assessment = assessment_from_answers(
        debtor=debtor,
        case=case,
        household="single_parent",
        net_income_cents=300000,
        fixed_costs_cents=50000,
        other_debts_cents=120000,
        payday_day=25,
        actor=AGENT,
        on=ON,
    )
    assert assessment.source == "answers"
    assert assessment.capacity_cents == 300000 - 226467
    assert assessment.other_debts_cents == 120000
    assert assessment.data["answers"]["household"] == "single_parent"
    assert assessment.data["answers"]["payday_day"] == 25
