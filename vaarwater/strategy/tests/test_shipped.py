"""The shipped strategies parse and follow the Dutch rules they claim to follow.

Pure parsing: no database. The day of each step is worked out the way the daily run does it
(``after: due_date`` counts from the due date, ``after: previous`` from the day the step before
was done, one decision per case per day), which gives the *earliest* day a step can happen;
caps, Sundays, holidays and paydays only ever push a chained step later. Spacing between
written reminders is therefore checked on paths whose steps are all chained ``after: previous``.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from vaarwater.strategy.schema import CONTACT_STEPS, Condition, Strategy, document_parse

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "shipped"
SHIPPED_FILES = sorted(SHIPPED_DIR.glob("*.yaml"))
TEMPLATES = {
    "herinnering",
    "aanmaning",
    "veertiendagenbrief",
    "regeling-aanbod",
    "schuldhulp-verwijzing",
    "overdracht-aankondiging",
}
WRITTEN = ("letter", "email")
PERSONAL = ("sms", "whatsapp")  # and every call task
# Regeling afsluitbeleid and the Besluit on vroegsignalering, for energy suppliers.
ENERGY_MINIMUM = {
    "written_reminders": 3,
    "reminder_spacing_days": 14,
    "personal_contact_attempts": 2,
    "contact_channels": 2,
    "debt_help_referral": True,
    "plan_offer": True,
}
# Housing: at least one written reminder, a personal contact attempt and a referral.
HOUSING_MINIMUM = {
    "written_reminders": 1,
    "reminder_spacing_days": 0,
    "personal_contact_attempts": 1,
    "contact_channels": 1,
    "debt_help_referral": True,
    "plan_offer": False,
}


def load(name: str) -> Strategy:
    path = SHIPPED_DIR / name
    return document_parse(path.read_text(encoding="utf-8"), source=f"shipped/{name}")


def all_paths(doc: Strategy):
    """Every (variant, path name, steps) a case can follow: champion paths and challengers'."""
    for name, steps in doc.paths.items():
        yield "champion", name, steps
    for challenger in doc.challengers:
        for name, steps in challenger.paths.items():
            yield challenger.name, name, steps


def path_ids(doc: Strategy) -> list:
    return [pytest.param(v, n, s, id=f"{v}-{n}") for v, n, s in all_paths(doc)]


@dataclass(frozen=True)
class Planned:
    index: int
    step: object
    day: int  # the earliest day after the oldest due date on which the step is done


def schedule(doc: Strategy, steps) -> list[Planned]:
    """The earliest day of every step, following the daily run's timing rules."""
    opens = doc.settings.grace_days + 1  # a case opens once more than grace_days have passed
    receipt = doc.settings.letter_receipt_business_days
    planned = []
    done = None  # the day the previous step was done
    free = opens  # the first day a decision can be made
    letter = None
    for index, step in enumerate(steps):
        anchor = 0 if step.after == "due_date" else (opens if done is None else done)
        day = max(anchor + step.day, free)
        if step.step == "charge_costs" and letter is not None:
            day = max(day, letter + receipt + 14 + 1)  # the run waits for the letter's term
        if step.step == "fourteen_day_letter":
            letter = day
        planned.append(Planned(index, step, day))
        done = day + 1 if step.step == "wait_reply" else day  # a wait ends the next day at best
        free = done + 1
        if step.step == "pause":
            free = max(free, day + step.days)
    return planned


def is_written_reminder(step) -> bool:
    if step.step == "fourteen_day_letter":
        return True
    return (
        step.step == "message"
        and step.channel in WRITTEN
        and step.purpose in ("reminder", "demand")
    )


def channel_of(step) -> str | None:
    """The concrete channel a contact step uses; None for ``best`` or a non-contact step."""
    if step.step == "call_task":
        return "phone"
    channel = getattr(step, "channel", None)
    return None if channel in (None, "best") else channel


def before_signal(steps) -> tuple[list, object]:
    """The steps before the path's municipal signal, and the signal step."""
    for index, step in enumerate(steps):
        if step.step == "municipal_signal":
            return list(steps[:index]), step
    raise AssertionError("no municipal_signal on this path")


def signal_facts(doc: Strategy, steps) -> dict:
    """What the steps before the signal amount to, in the terms of its ``requires``."""
    earlier, _ = before_signal(steps)
    days = {p.index: p.day for p in schedule(doc, steps)}
    written = [days[i] for i, step in enumerate(earlier) if is_written_reminder(step)]
    gaps = [later - sooner for sooner, later in zip(written, written[1:], strict=False)]
    calls = sum(step.step == "call_task" for step in earlier)
    return {
        "written_reminders": len(written),
        "reminder_spacing_days": min(gaps) if gaps else 0,
        "call_tasks": calls,
        "personal_contact_attempts": calls
        + sum(step.step == "message" and step.channel in PERSONAL for step in earlier),
        "contact_channels": len({channel_of(step) for step in earlier} - {None}),
        "debt_help_referral": any(
            step.step == "message" and step.purpose == "debt_help_referral" for step in earlier
        ),
        "plan_offer": any(step.step == "offer_arrangement" for step in earlier),
    }


def assert_signal_ready(doc: Strategy, steps, minimum: dict) -> dict:
    """The signal asks for at least the legal minimum, and the path before it does what it asks."""
    _, signal = before_signal(steps)
    requires = signal.requires.model_dump()
    facts = signal_facts(doc, steps)
    for key, least in minimum.items():
        assert requires[key] >= least, f"requires.{key} is {requires[key]}, the law asks {least}"
        assert facts[key] >= requires[key], f"{key}: the path has {facts[key]}, {requires}"
    return facts


# -- every shipped file --------------------------------------------------------------------------


def test_the_three_strategies_are_shipped():
    """The files the sector defaults point at are there."""
    assert {p.name for p in SHIPPED_FILES} >= {"energy.yaml", "housing.yaml", "generic.yaml"}


def test_sector_defaults_point_at_shipped_files():
    """Every sector's default strategy names a file that exists (documents.py's map)."""
    from vaarwater.strategy.documents import SHIPPED_BY_SECTOR, SHIPPED_DEFAULT

    for name in (*SHIPPED_BY_SECTOR.values(), SHIPPED_DEFAULT):
        assert (SHIPPED_DIR / name).is_file(), name


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_every_shipped_file_parses(path):
    """Each shipped document is valid as it is, so a creditor can load it unchanged."""
    doc = document_parse(path.read_text(encoding="utf-8"), source=str(path))
    assert doc.segments[-1].when == Condition(), "the last segment catches every case"
    assert doc.title and doc.description


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_shipped_steps_are_readable_examples(path):
    """Every step and segment has a label, templates are known ones, and timing is chained.

    Each path starts from the due date and every later step follows the one before it, so that
    a delay of one step moves the rest along and the spacing below is a real minimum.
    """
    doc = load(path.name)
    for segment in doc.segments:
        assert segment.label.strip()
    for variant, name, steps in all_paths(doc):
        where = f"{path.name} {variant} {name}"
        assert steps[0].after == "due_date", where
        assert all(step.after == "previous" for step in steps[1:]), where
        for index, step in enumerate(steps):
            assert step.label.strip(), f"{where} step {index} has no label"
            template = getattr(step, "template", None)
            assert template is None or template in TEMPLATES, f"{where} step {index}: {template}"


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_shipped_contact_settings(path):
    """At most one contact a day and three a week, between 08:00 and 20:00."""
    settings = load(path.name).settings
    assert (settings.contact_caps.per_day, settings.contact_caps.per_week) == (1, 3)
    assert (settings.contact_hours.start, settings.contact_hours.end) == ("08:00", "20:00")
    assert settings.interest_kind == "consumer"


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_shipped_schedules_stay_within_the_caps(path):
    """Planned contacts keep to the caps by themselves; the caps are a safety net, not a plan."""
    doc = load(path.name)
    caps = doc.settings.contact_caps
    for variant, name, steps in all_paths(doc):
        days = [p.day for p in schedule(doc, steps) if p.step.step in CONTACT_STEPS]
        for day in days:
            assert days.count(day) <= caps.per_day, f"{variant} {name}: day {day}"
            week = [d for d in days if day - 6 <= d <= day]
            assert len(week) <= caps.per_week, f"{variant} {name}: days {week}"


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_costs_only_after_the_fourteen_day_letter(path):
    """On every path that charges costs, the 14-day letter comes first and its term has run.

    Art. 6:96 lid 6 BW: 14 days from the day after receipt, and receipt of a letter is assumed
    ``letter_receipt_business_days`` after sending; the offsets alone already leave that room.
    """
    doc = load(path.name)
    least = 14 + doc.settings.letter_receipt_business_days + 1
    charging = 0
    for variant, name, steps in all_paths(doc):
        kinds = [step.step for step in steps]
        if "charge_costs" not in kinds:
            continue
        charging += 1
        letter, costs = kinds.index("fourteen_day_letter"), kinds.index("charge_costs")
        assert letter < costs, f"{variant} {name}"
        offsets = sum(step.day for step in steps[letter + 1 : costs + 1])
        assert offsets >= least, f"{variant} {name}: costs {offsets} days after the letter"
        assert kinds.index("start_interest") > costs, f"{variant} {name}"
    assert charging, "some path charges costs"


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_hand_over_is_announced_and_last(path):
    """Wki: no surprise hand-over; the notice comes first, and the hand-over ends the path."""
    doc = load(path.name)
    for variant, name, steps in all_paths(doc):
        kinds = [step.step for step in steps]
        if "hand_over" not in kinds:
            continue
        assert kinds[-1] == "hand_over", f"{variant} {name}"
        notice = [
            step
            for step in steps[:-1]
            if step.step == "message" and step.template == "overdracht-aankondiging"
        ]
        assert notice, f"{variant} {name}: the hand-over is not announced"
        assert steps[-1].day >= 14, f"{variant} {name}: give two weeks after the notice"


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_vulnerable_customers_get_a_gentle_path(path):
    """The first segment is for vulnerable people: personal contact and debt help early, and no
    14-day letter (it would announce costs that are not charged), no costs, no hand-over."""
    doc = load(path.name)
    first = doc.segments[0]
    assert first.when == Condition(vulnerable=True)
    for variant, name, steps in all_paths(doc):
        if name != first.path:
            continue
        kinds = [step.step for step in steps]
        for kind in ("fourteen_day_letter", "charge_costs", "start_interest", "hand_over"):
            assert kind not in kinds, f"{variant} {name}: {kind}"
        assert kinds[0] == "call_task", "personal contact comes first"
        assert kinds.count("call_task") >= 3
        referral = next(
            i
            for i, step in enumerate(steps)
            if step.step == "message" and step.purpose == "debt_help_referral"
        )
        assert referral <= 3, "debt help is offered early"


# -- energy ------------------------------------------------------------------------------------


def test_energy_identity_and_segments():
    doc = load("energy.yaml")
    assert (doc.strategy, doc.sector) == ("energie", "energy")
    assert [s.name for s in doc.segments] == [
        "kwetsbaar",
        "eerste-keer-klein",
        "vaker-te-laat",
        "overig",
    ]
    assert doc.segments[1].when.first_time is True
    assert doc.segments[1].when.balance_max == 25000  # "250" euros, in cents
    assert doc.segments[2].when.first_time is False
    assert doc.settings.handover_min_balance == 5000


ENERGY = load("energy.yaml")


@pytest.mark.parametrize(("variant", "name", "steps"), path_ids(ENERGY))
def test_energy_paths_follow_regeling_afsluitbeleid(variant, name, steps):
    """Every energy path, challengers included, reaches the municipal signal only after three
    written reminders at least 14 days apart, two call tasks, contact on two or more channels, a
    plan offer and a referral to debt help; and its ``requires`` asks for all of that."""
    facts = assert_signal_ready(ENERGY, steps, ENERGY_MINIMUM)
    assert facts["call_tasks"] >= 2
    assert facts["written_reminders"] >= 3
    assert facts["reminder_spacing_days"] >= 14


def test_energy_written_reminders_are_spaced_day_by_day():
    """The main path's reminders fall on days 3, 17 and 31 after the due date at the earliest."""
    steps = ENERGY.paths["standaard"]
    days = [p.day for p in schedule(ENERGY, steps) if is_written_reminder(p.step)]
    assert days[:3] == [3, 17, 31]
    kinds = [step.step for step in steps]
    assert kinds.index("municipal_signal") > kinds.index("fourteen_day_letter")


def test_energy_challenger_sends_sms_before_the_first_email():
    """One challenger, on 20% of new cases, tries an SMS before the first email."""
    (challenger,) = ENERGY.challengers
    assert challenger.share == 20
    assert set(challenger.paths) == {"standaard"}
    steps = challenger.paths["standaard"]
    channels = [step.channel for step in steps if step.step == "message"]
    assert channels[0] == "sms"
    assert channels.index("sms") < channels.index("email")
    champion = ENERGY.paths["standaard"]
    assert [s.channel for s in champion if s.step == "message"][0] == "email"
    assert sorted(s.step for s in steps) == sorted(s.step for s in champion)


def test_energy_first_time_small_balances_start_softly():
    """The soft path starts with an SMS and waits for a reply before the first call."""
    kinds = [step.step for step in ENERGY.paths["zacht"]]
    assert ENERGY.paths["zacht"][0].channel == "sms"
    assert kinds.index("wait_reply") < kinds.index("call_task")


def test_energy_every_path_signals():
    """Energy suppliers must signal; every path has the step (the run checks ``requires``)."""
    for variant, name, steps in all_paths(ENERGY):
        assert any(step.step == "municipal_signal" for step in steps), f"{variant} {name}"


def test_energy_paths_end_with_agency_or_personal_follow_up():
    for variant, name, steps in all_paths(ENERGY):
        last = steps[-1]
        if name == "kwetsbaar":
            assert last.step == "call_task"
        else:
            assert (last.step, last.to) == ("hand_over", "agency"), f"{variant} {name}"


# -- housing ------------------------------------------------------------------------------------


HOUSING = load("housing.yaml")


def test_housing_identity():
    assert (HOUSING.strategy, HOUSING.sector) == ("wonen", "housing")
    assert HOUSING.segments[0].when.vulnerable is True


@pytest.mark.parametrize(("variant", "name", "steps"), path_ids(HOUSING))
def test_housing_paths_signal_after_own_steps(variant, name, steps):
    """Landlords signal after a written reminder, a personal contact attempt and a referral;
    the shipped paths also call and offer a plan first."""
    facts = assert_signal_ready(HOUSING, steps, HOUSING_MINIMUM)
    assert 1 <= facts["written_reminders"] <= 2
    assert facts["call_tasks"] >= 1
    assert facts["plan_offer"]


@pytest.mark.parametrize(("variant", "name", "steps"), path_ids(HOUSING))
def test_housing_hands_over_to_a_bailiff(variant, name, steps):
    last = steps[-1]
    if name == "kwetsbaar":
        assert last.step == "call_task"
    else:
        assert (last.step, last.to) == ("hand_over", "bailiff")


# -- generic ------------------------------------------------------------------------------------


GENERIC = load("generic.yaml")


def test_generic_identity():
    assert GENERIC.strategy == "consument"
    assert GENERIC.sector in (None, "other")


def test_generic_never_signals():
    """Only landlords, energy and water suppliers and health insurers signal."""
    for _, _, steps in all_paths(GENERIC):
        assert all(step.step != "municipal_signal" for step in steps)


def test_generic_main_path_in_order():
    """Reminder, SMS, 14-day letter, call, costs, interest, plan offer, call, notice, hand-over."""
    kinds = [step.step for step in GENERIC.paths["standaard"]]
    assert kinds == [
        "message",
        "message",
        "fourteen_day_letter",
        "call_task",
        "charge_costs",
        "start_interest",
        "offer_arrangement",
        "call_task",
        "message",
        "hand_over",
    ]
    assert GENERIC.paths["standaard"][1].channel == "sms"
    assert GENERIC.paths["standaard"][-1].to == "agency"


# -- the helpers themselves --------------------------------------------------------------------


def test_schedule_follows_the_runs_timing():
    """One decision a day, a wait ends the next day at the earliest, costs wait for the term."""
    doc = document_parse(
        """
strategy: t
title: T
settings: {grace_days: 2}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: email, template: herinnering, after: due_date, day: 1}
    - {step: wait_reply, day: 0, days: 7}
    - {step: fourteen_day_letter, day: 2}
    - {step: charge_costs, day: 1}
    - {step: start_interest, day: 0}
    - {step: pause, day: 0, days: 10, reason: wachten}
    - {step: call_task, day: 2}
"""
    )
    days = [p.day for p in schedule(doc, doc.paths["p"])]
    # opens day 3; wait 4, done 5; letter 7; costs 7+2+14+1=24; interest 25; pause 26; call 36
    assert days == [3, 4, 7, 24, 25, 26, 36]
