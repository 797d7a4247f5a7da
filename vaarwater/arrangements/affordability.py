"""Record an affordability assessment: what a household can pay each month, and why.

The reckoning itself is pure law (``vaarwater.law.affordability``); this module checks the input,
converts cents to euros and back, stores an ``Assessment`` and records the event.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from vaarwater.arrangements.models import Assessment, AssessmentSource, Household
from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur, from_cents, to_cents
from vaarwater.law.affordability import monthly_capacity

# Sanity limits: a household's monthly amounts up to €100,000; other debts up to €10 million.
MAX_MONTHLY_CENTS = 10_000_000
MAX_DEBTS_CENTS = 1_000_000_000


class AffordabilityError(ValueError):
    """Input that cannot be assessed; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in self.errors.items()))


def _check_cents(errors: dict, field: str, value, *, limit: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = f"must be a whole number of cents, got {value!r}"
    elif value < 0:
        errors[field] = "must not be negative"
    elif value > limit:
        errors[field] = f"must be at most {format_eur(limit, language='en')}"


def assessment_check(
    *,
    debtor,
    case,
    source: str,
    household: str,
    net_income_cents,
    fixed_costs_cents=0,
    other_instalments_cents=0,
    other_debts_cents=0,
    payday_day=None,
    data=None,
) -> None:
    """Raise AffordabilityError naming every field that is wrong (nothing is stored)."""
    errors: dict[str, str] = {}
    if source not in AssessmentSource.values:
        errors["source"] = f"must be one of {', '.join(AssessmentSource.values)}"
    if household not in Household.values:
        errors["household"] = f"must be one of {', '.join(Household.values)}"
    _check_cents(errors, "net_income_cents", net_income_cents, limit=MAX_MONTHLY_CENTS)
    _check_cents(errors, "fixed_costs_cents", fixed_costs_cents, limit=MAX_MONTHLY_CENTS)
    _check_cents(
        errors, "other_instalments_cents", other_instalments_cents, limit=MAX_MONTHLY_CENTS
    )
    _check_cents(errors, "other_debts_cents", other_debts_cents, limit=MAX_DEBTS_CENTS)
    if payday_day is not None and (
        isinstance(payday_day, bool) or not isinstance(payday_day, int) or not 1 <= payday_day <= 31
    ):
        errors["payday_day"] = f"must be a day of the month from 1 to 31, got {payday_day!r}"
    if data is not None and not isinstance(data, dict):
        errors["data"] = "must be a dictionary"
    if case is not None and case.debtor_id != debtor.pk:
        errors["case"] = "belongs to another customer"
    if errors:
        raise AffordabilityError(errors)


def assessment_record(
    *,
    debtor,
    case,
    source: str,
    household: str,
    net_income_cents: int,
    fixed_costs_cents: int = 0,
    other_instalments_cents: int = 0,
    other_debts_cents: int = 0,
    payday_day: int | None = None,
    data: dict | None = None,
    actor: Actor,
    on: date | None = None,
) -> Assessment:
    """Reckon and store a household's monthly capacity, with its explanation and an event.

    Capacity = net income − max(beslagvrije voet, fixed costs) − other creditors' instalments,
    never below zero. ``data`` holds the answers (or a PSD2 summary, never raw transactions).
    """
    assessment_check(
        debtor=debtor,
        case=case,
        source=source,
        household=household,
        net_income_cents=net_income_cents,
        fixed_costs_cents=fixed_costs_cents,
        other_instalments_cents=other_instalments_cents,
        other_debts_cents=other_debts_cents,
        payday_day=payday_day,
        data=data,
    )
    on = on or timezone.localdate()
    try:
        capacity = monthly_capacity(
            net_income=from_cents(net_income_cents),
            household=household,
            fixed_costs=from_cents(fixed_costs_cents),
            other_instalments=from_cents(other_instalments_cents),
            on=on,
        )
    except ValueError as exc:
        raise AffordabilityError({"on": str(exc)}) from exc
    capacity_cents = to_cents(capacity.capacity)
    floor_cents = to_cents(capacity.floor)
    explanation = [{"label": label, "cents": to_cents(amount)} for label, amount in capacity.lines]
    stored = dict(data or {})
    stored["reckoning"] = {
        "on": on.isoformat(),
        "floor_valid_from": capacity.floor_valid_from.isoformat(),
        "floor_table_outdated": capacity.table_outdated,
    }
    with transaction.atomic():
        assessment = Assessment.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            case=case,
            source=source,
            household=household,
            net_income_cents=net_income_cents,
            fixed_costs_cents=fixed_costs_cents,
            other_instalments_cents=other_instalments_cents,
            other_debts_cents=other_debts_cents,
            floor_cents=floor_cents,
            capacity_cents=capacity_cents,
            payday_day=payday_day,
            explanation=explanation,
            data=stored,
            created_by=actor.label,
        )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="assessment.recorded",
            actor=actor,
            subject=assessment,
            reason=assessment_reason(assessment),
            data={
                "source": source,
                "household": household,
                "case": case.reference if case is not None else "",
                "capacity_cents": capacity_cents,
                "floor_cents": floor_cents,
                "floor_table_outdated": capacity.table_outdated,
            },
            on=on,
        )
    return assessment


HOUSEHOLD_WORDS = {
    Household.SINGLE: "alleenstaand",
    Household.SINGLE_PARENT: "alleenstaande ouder",
    Household.COUPLE: "samenwonend",
    Household.COUPLE_CHILDREN: "samenwonend met kinderen",
}
SOURCE_WORDS = {
    AssessmentSource.ANSWERS: "de eigen antwoorden van de klant",
    AssessmentSource.PSD2: "gedeelde bankgegevens (PSD2)",
    AssessmentSource.AGENT: "antwoorden aan een medewerker",
}


def assessment_reason(assessment: Assessment) -> str:
    """The reckoning in one line, in plain Dutch (the reason of the event): 'betaalruimte
    € 306,33 per maand: inkomen € 2.500,00 − beslagvrije voet € 2.093,67 − …'."""
    need = max(assessment.floor_cents, assessment.fixed_costs_cents)
    kept = "beslagvrije voet" if assessment.floor_cents >= need else "vaste lasten"
    text = (
        f"betaalruimte {format_eur(assessment.capacity_cents)} per maand: "
        f"inkomen {format_eur(assessment.net_income_cents)} − {kept} {format_eur(need)}"
    )
    if assessment.other_instalments_cents:
        text += f" − termijnen aan anderen {format_eur(assessment.other_instalments_cents)}"
    household = HOUSEHOLD_WORDS.get(assessment.household, assessment.household)
    source = SOURCE_WORDS.get(assessment.source, assessment.source)
    return f"{text} (huishouden {household}; uit {source})"


def assessment_from_answers(
    *,
    debtor,
    case,
    household: str,
    net_income_cents: int,
    fixed_costs_cents: int = 0,
    fixed_costs: dict[str, int] | None = None,
    other_instalments_cents: int = 0,
    other_debts_cents: int = 0,
    payday_day: int | None = None,
    actor: Actor,
    source: str = AssessmentSource.ANSWERS,
    on: date | None = None,
) -> Assessment:
    """Record an assessment from the answers the customer (or an agent asking) gave.

    ``fixed_costs``, when given, is the fixed costs per kind (rent, energy, …): they are kept
    with the answers and their sum is the fixed costs."""
    if fixed_costs is not None:
        fixed_costs_cents = sum(fixed_costs.values())
    answers = {
        "household": household,
        "net_income_cents": net_income_cents,
        "fixed_costs_cents": fixed_costs_cents,
        **({"fixed_costs": dict(fixed_costs)} if fixed_costs is not None else {}),
        "other_instalments_cents": other_instalments_cents,
        "other_debts_cents": other_debts_cents,
        "payday_day": payday_day,
    }
    return assessment_record(
        debtor=debtor,
        case=case,
        source=source,
        household=household,
        net_income_cents=net_income_cents,
        fixed_costs_cents=fixed_costs_cents,
        other_instalments_cents=other_instalments_cents,
        other_debts_cents=other_debts_cents,
        payday_day=payday_day,
        data={"answers": answers},
        actor=actor,
        on=on,
    )
