"""Strategy documents: a good one parses; a bad one is refused with ``FILE: path: reason`` lines.

Pure parsing: no database.
"""

import copy
from pathlib import Path

import pytest
import yaml

from vaarwater.strategy.schema import (
    STEP_KINDS,
    Condition,
    Strategy,
    StrategyInvalid,
    document_parse,
)

SOURCE = "s.yaml"
SHIPPED = Path(__file__).resolve().parent.parent / "shipped"
CALL_WINDOW = "the call window must lie within 07:00-20:00 and end after it starts"
COSTS_NEED_LETTER = (
    "charge_costs needs a fourteen_day_letter earlier on the same path: "
    "costs are never charged without the letter"
)

MINIMAL = {
    "strategy": "test",
    "title": "Teststrategie",
    "segments": [{"name": "alle", "label": "Alle klanten", "path": "standaard"}],
    "paths": {
        "standaard": [
            {
                "step": "message",
                "channel": "email",
                "template": "herinnering",
                "after": "due_date",
                "day": 3,
            },
            {"step": "fourteen_day_letter", "day": 7},
            {"step": "charge_costs", "day": 21},
        ]
    },
}


def doc(**changes) -> dict:
    """A copy of the minimal document with top-level keys replaced (None removes one)."""
    data = copy.deepcopy(MINIMAL)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def text(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def parse(data):
    return document_parse(data if isinstance(data, str) else text(data), source=SOURCE)


def problems(data) -> list[str]:
    """The lines of the ``StrategyInvalid`` the document raises."""
    with pytest.raises(StrategyInvalid) as info:
        parse(data)
    assert str(info.value) == "\n".join(info.value.lines())
    return info.value.lines()


def with_steps(*steps, path="standaard") -> dict:
    data = doc()
    data["paths"][path] = list(steps)
    return data


EMAIL = {"step": "message", "channel": "email", "template": "herinnering", "after": "due_date"}
LETTER = {"step": "fourteen_day_letter", "day": 7}
COSTS = {"step": "charge_costs", "day": 21}


# -- good documents ------------------------------------------------------------------------------


def test_minimal_document_parses_with_defaults():
    """A document with only the required parts gets the documented defaults."""
    strategy = parse(MINIMAL)
    assert isinstance(strategy, Strategy)
    assert (strategy.strategy, strategy.title, strategy.sector) == ("test", "Teststrategie", None)
    settings = strategy.settings
    assert settings.grace_days == 3
    assert settings.letter_receipt_business_days == 2
    assert settings.email_receipt_days == 0
    assert settings.payday_window_days == 5
    assert (settings.contact_caps.per_day, settings.contact_caps.per_week) == (1, 3)
    assert (settings.contact_hours.start, settings.contact_hours.end) == ("08:00", "20:00")
    assert settings.interest_kind == "consumer"
    assert settings.best_channel_order == ("email", "sms", "whatsapp", "letter")
    assert settings.handover_min_balance == 0
    assert strategy.segments[0].when == Condition()
    steps = strategy.path_steps("standaard")
    assert [s.step for s in steps] == ["message", "fourteen_day_letter", "charge_costs"]
    assert (steps[0].after, steps[0].day, steps[0].purpose) == ("due_date", 3, "reminder")
    assert (steps[1].after, steps[1].channel, steps[1].template) == (
        "previous",
        "letter",
        "veertiendagenbrief",
    )
    assert strategy.challengers == ()
    assert strategy.path_steps("standaard", "no-such-variant") == steps


@pytest.mark.parametrize(
    ("written", "cents"),
    [("500", 50000), ("500.00", 50000), (500, 50000), ("12,50", 1250), ("0.5", 50), (0, 0)],
)
def test_money_becomes_cents(written, cents):
    """Amounts are written in euros and held as integer cents."""
    data = doc(
        segments=[
            {
                "name": "groot",
                "label": "Grote achterstand",
                "when": {"balance_min": written},
                "path": "standaard",
            },
            {"name": "rest", "label": "De rest", "path": "standaard"},
        ],
        settings={"handover_min_balance": written},
    )
    strategy = parse(data)
    assert strategy.segments[0].when.balance_min == cents
    assert strategy.settings.handover_min_balance == cents


def test_challenger_path_replaces_the_champions():
    data = doc(
        challengers=[
            {
                "name": "sms-eerst",
                "share": 20,
                "paths": {
                    "standaard": [
                        {**EMAIL, "channel": "sms"},
                        LETTER,
                        COSTS,
                    ]
                },
            }
        ]
    )
    strategy = parse(data)
    assert strategy.variant_shares() == [("sms-eerst", 20)]
    assert strategy.path_steps("standaard", "sms-eerst")[0].channel == "sms"
    assert strategy.path_steps("standaard")[0].channel == "email"


# -- YAML and the document's shape ---------------------------------------------------------------


def test_bad_yaml_names_line_and_column():
    lines = problems("strategy: test\ntitle: Test\n  bad: [\n")
    assert lines == [
        "s.yaml: line 3, column 6: not valid YAML: mapping values are not allowed here"
    ]


def test_unclosed_bracket_names_where_it_was_noticed():
    (line,) = problems("strategy: test\nsegments: [\n")
    assert line.startswith("s.yaml: line 3, column 1: not valid YAML: ")


@pytest.mark.parametrize("body", ["", "- een\n- twee\n", "gewoon tekst\n", "42\n"])
def test_a_document_that_is_not_a_mapping(body):
    assert problems(body) == [
        "s.yaml: (document): expected a YAML mapping with strategy, segments, …"
    ]


def test_unknown_field_at_the_top():
    assert problems(doc(colour="red")) == ["s.yaml: colour: unknown field"]


def test_unknown_field_in_a_step_names_the_step():
    """A typo in a step is refused, not ignored (and the step kind is not part of the path)."""
    data = with_steps({**EMAIL, "chanel": "sms"}, LETTER, COSTS)
    assert problems(data) == ["s.yaml: paths.standaard.0.chanel: unknown field"]


def test_unknown_field_in_settings():
    data = doc(settings={"contact_caps": {"per_day": 1, "per_month": 9}})
    assert problems(data) == ["s.yaml: settings.contact_caps.per_month: unknown field"]


def test_unknown_step_kind():
    data = with_steps(EMAIL, {"step": "dance"})
    assert problems(data) == [
        f"s.yaml: paths.standaard.1.step: unknown step 'dance'; "
        f"expected one of {', '.join(STEP_KINDS)}"
    ]


def test_step_without_a_kind():
    data = with_steps(EMAIL, {"label": "iets", "day": 3})
    assert problems(data) == ["s.yaml: paths.standaard.1: every step needs 'step:' naming its kind"]


@pytest.mark.parametrize(
    ("remove", "line"),
    [
        ("strategy", "s.yaml: strategy: required"),
        ("title", "s.yaml: title: required"),
        ("segments", "s.yaml: segments: required"),
        ("paths", "s.yaml: paths: required"),
    ],
)
def test_missing_required_field(remove, line):
    data = doc(**{remove: None})
    if remove == "paths":
        data["segments"] = [{"name": "alle", "label": "Alle", "path": "standaard"}]
    assert line in problems(data)


def test_missing_required_fields_of_steps():
    data = with_steps(
        {"step": "message", "channel": "email", "after": "due_date"},
        {"step": "hand_over", "to": "agency"},
    )
    assert problems(data) == [
        "s.yaml: paths.standaard.0.template: required",
        "s.yaml: paths.standaard.1.party: required",
    ]


def test_bad_channel():
    data = with_steps({**EMAIL, "channel": "fax"})
    assert problems(data) == [
        "s.yaml: paths.standaard.0.channel: "
        "Input should be 'email', 'sms', 'whatsapp', 'letter' or 'best'"
    ]


def test_best_is_not_a_channel_for_the_fourteen_day_letter():
    """The 14-day letter must be provable: by post or email only."""
    data = with_steps(EMAIL, {**LETTER, "channel": "sms"}, COSTS)
    (line,) = problems(data)
    assert line.startswith("s.yaml: paths.standaard.1.channel: Input should be 'letter' or 'email'")


def test_bad_strategy_name():
    (line,) = problems(doc(strategy="Energie Noord"))
    assert line.startswith("s.yaml: strategy: String should match pattern")


# -- money and time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("abc", "'abc' is not an amount in euros, such as 500.00"),
        ("12.345", "'12.345': 12.345 has more than two decimals"),
        ("-5", "must not be negative"),
        (True, "expected an amount in euros, such as 500 or 500.00"),
    ],
)
def test_bad_money(written, reason):
    data = doc()
    data["segments"] = [
        {"name": "a", "label": "A", "when": {"balance_min": written}, "path": "standaard"},
        {"name": "rest", "label": "Rest", "path": "standaard"},
    ]
    assert problems(data) == [f"s.yaml: segments.0.when.balance_min: {reason}"]


@pytest.mark.parametrize("written", ["nan", "inf", "-Infinity"])
def test_not_a_number_is_refused_as_money(written):
    """Decimal reads these words as numbers; they are not amounts."""
    data = doc(settings={"handover_min_balance": written})
    assert problems(data) == [
        f"s.yaml: settings.handover_min_balance: {written!r} is not an amount in euros, "
        "such as 500.00"
    ]


def test_bad_time_of_day():
    data = doc(settings={"contact_hours": {"start": "25:00"}})
    assert problems(data) == [
        "s.yaml: settings.contact_hours.start: expected a time of day as HH:MM, such as 09:30"
    ]


def test_bad_time_on_a_step():
    data = with_steps({**EMAIL, "at": "9.30"}, LETTER, COSTS)
    assert problems(data) == [
        "s.yaml: paths.standaard.0.at: expected a time of day as HH:MM, such as 09:30"
    ]


def test_unquoted_time_reads_as_the_time_written():
    """YAML 1.1 reads ``20:00`` without quotes as the base-60 number 1200; it still means 20:00."""
    body = text(with_steps({**EMAIL, "day": 3}, LETTER, COSTS))
    body = body.replace("day: 3\n", "day: 3\n    at: 9:30\n", 1)
    body += "settings:\n  contact_hours:\n    start: 8:00\n    end: 20:00\n"
    strategy = parse(body)
    assert (strategy.settings.contact_hours.start, strategy.settings.contact_hours.end) == (
        "08:00",
        "20:00",
    )
    assert strategy.paths["standaard"][0].at == "09:30"


def test_unquoted_time_outside_the_day_is_refused():
    body = text(doc()) + "settings:\n  contact_hours:\n    end: 24:30\n"
    assert problems(body) == [
        "s.yaml: settings.contact_hours.end: expected a time of day as HH:MM, such as 09:30"
    ]


@pytest.mark.parametrize(
    ("hours", "line"),
    [
        ({"start": "06:30"}, "s.yaml: settings.contact_hours: start: no contact before 07:00"),
        ({"end": "20:30"}, "s.yaml: settings.contact_hours: end: no contact after 20:00"),
        (
            {"start": "12:00", "end": "09:00"},
            "s.yaml: settings.contact_hours: end must be after start",
        ),
    ],
)
def test_contact_hours_stay_within_the_law(hours, line):
    """No contact between 20:00 and 07:00 (Wki conduct norms)."""
    assert problems(doc(settings={"contact_hours": hours})) == [line]


def test_contact_hours_may_use_the_whole_legal_window():
    strategy = parse(doc(settings={"contact_hours": {"start": "07:00", "end": "20:00"}}))
    assert strategy.settings.contact_hours.start == "07:00"


@pytest.mark.parametrize(
    "window", [{"start": "06:00"}, {"end": "21:00"}, {"start": "15:00", "end": "10:00"}]
)
def test_call_window_stays_within_the_law(window):
    data = with_steps(EMAIL, {"step": "call_task", "day": 2, **window})
    assert problems(data) == [f"s.yaml: paths.standaard.1: {CALL_WINDOW}"]


def test_caps_per_week_hold_per_day():
    data = doc(settings={"contact_caps": {"per_day": 3, "per_week": 2}})
    assert problems(data) == ["s.yaml: settings.contact_caps: per_week must be at least per_day"]


# -- segments ------------------------------------------------------------------------------------


def test_segment_pointing_at_a_missing_path():
    data = doc(segments=[{"name": "alle", "label": "Alle", "path": "elders"}])
    assert problems(data) == [
        "s.yaml: segments.0.path: no path named 'elders'; paths are: standaard"
    ]


def test_last_segment_must_catch_every_case():
    data = doc(
        segments=[
            {"name": "alle", "label": "Alle", "when": {"first_time": True}, "path": "standaard"}
        ]
    )
    assert problems(data) == [
        "s.yaml: segments.0.when: the last segment must have no conditions, "
        "so that every case gets a path"
    ]


def test_duplicate_segment_names():
    data = doc(
        segments=[
            {"name": "alle", "label": "Eerste", "when": {"vulnerable": True}, "path": "standaard"},
            {"name": "alle", "label": "Tweede", "path": "standaard"},
        ]
    )
    assert problems(data) == ["s.yaml: segments.1.name: segment 'alle' appears twice"]


def test_condition_ranges_must_be_ordered():
    data = doc(
        segments=[
            {
                "name": "a",
                "label": "A",
                "when": {"balance_min": "500", "balance_max": "100"},
                "path": "standaard",
            },
            {"name": "rest", "label": "Rest", "path": "standaard"},
        ]
    )
    assert problems(data) == ["s.yaml: segments.0.when: balance_min is greater than balance_max"]


# -- paths ---------------------------------------------------------------------------------------


def test_charge_costs_without_a_fourteen_day_letter():
    """Art. 6:96 lid 6 BW: no costs without the letter, earlier on the same path."""
    data = with_steps(EMAIL, COSTS)
    assert problems(data) == [f"s.yaml: paths.standaard.1.step: {COSTS_NEED_LETTER}"]


def test_fourteen_day_letter_after_the_costs_does_not_count():
    data = with_steps(EMAIL, COSTS, LETTER)
    assert problems(data) == [f"s.yaml: paths.standaard.1.step: {COSTS_NEED_LETTER}"]


def test_fourteen_day_letter_on_another_path_does_not_count():
    data = doc()
    data["paths"]["zonder-brief"] = [EMAIL, COSTS]
    assert problems(data) == [f"s.yaml: paths.zonder-brief.1.step: {COSTS_NEED_LETTER}"]


def test_charge_costs_without_a_letter_in_a_challenger():
    data = doc(challengers=[{"name": "snel", "share": 10, "paths": {"standaard": [EMAIL, COSTS]}}])
    assert problems(data) == [f"s.yaml: challengers.0.paths.standaard.1.step: {COSTS_NEED_LETTER}"]


@pytest.mark.parametrize("kind", ["hand_over", "close"])
def test_hand_over_and_close_end_a_path(kind):
    end = {"hand_over": {"to": "agency", "party": "Incassobureau"}, "close": {"reason": "klaar"}}
    data = with_steps(EMAIL, {"step": kind, **end[kind]}, LETTER)
    assert problems(data) == [
        f"s.yaml: paths.standaard.1.step: {kind} must be the last step of its path"
    ]


def test_empty_path():
    data = doc()
    data["paths"]["leeg"] = []
    assert problems(data) == ["s.yaml: paths.leeg: a path needs at least one step"]


# -- challengers ---------------------------------------------------------------------------------


def challenger(name, share, path="standaard"):
    return {"name": name, "share": share, "paths": {path: [EMAIL, LETTER, COSTS]}}


@pytest.mark.parametrize(
    ("shares", "total"), [((60, 40), "100"), ((50, "50.5"), "100.5"), ((90, 20), "110")]
)
def test_challenger_shares_leave_room_for_the_champion(shares, total):
    data = doc(challengers=[challenger(f"c{i}", s) for i, s in enumerate(shares)])
    assert problems(data) == [
        f"s.yaml: challengers: the shares add up to {total}%; the champion needs some"
    ]


def test_challenger_shares_just_under_a_hundred_are_fine():
    data = doc(challengers=[challenger("a", 60), challenger("b", "39.99")])
    assert [name for name, _ in parse(data).variant_shares()] == ["a", "b"]


@pytest.mark.parametrize(
    ("share", "reason"),
    [(0, "Input should be greater than 0"), (100, "Input should be less than 100")],
)
def test_one_challengers_share(share, reason):
    data = doc(challengers=[challenger("a", share)])
    assert problems(data) == [f"s.yaml: challengers.0.share: {reason}"]


def test_challenger_names_are_unique_and_not_champion():
    data = doc(challengers=[challenger("champion", 10), challenger("b", 10), challenger("b", 10)])
    assert problems(data) == [
        "s.yaml: challengers.0.name: 'champion' is taken",
        "s.yaml: challengers.2.name: 'b' is taken",
    ]


def test_challenger_varies_only_existing_paths():
    data = doc(challengers=[challenger("a", 10, path="elders")])
    assert problems(data) == [
        "s.yaml: challengers.0.paths.elders: the champion has no path named 'elders' to vary"
    ]


# -- several problems ----------------------------------------------------------------------------


def test_several_field_problems_are_reported_at_once():
    """A creditor fixes a document in one go: every field problem is listed, in order."""
    data = doc(title=None, colour="red", settings={"contact_hours": {"start": "25:00"}})
    data["paths"]["standaard"][0]["channel"] = "fax"
    data["paths"]["standaard"].append({"step": "dance"})
    lines = problems(data)
    assert lines == [
        "s.yaml: title: required",
        "s.yaml: settings.contact_hours.start: expected a time of day as HH:MM, such as 09:30",
        "s.yaml: paths.standaard.0.channel: "
        "Input should be 'email', 'sms', 'whatsapp', 'letter' or 'best'",
        f"s.yaml: paths.standaard.3.step: unknown step 'dance'; "
        f"expected one of {', '.join(STEP_KINDS)}",
        "s.yaml: colour: unknown field",
    ]


def test_several_rule_problems_are_reported_at_once():
    data = doc(
        segments=[
            {"name": "a", "label": "A", "path": "elders"},
            {"name": "a", "label": "B", "when": {"vulnerable": True}, "path": "standaard"},
        ],
        challengers=[challenger("x", 70), challenger("y", 30)],
    )
    data["paths"]["standaard"] = [EMAIL, COSTS]
    assert problems(data) == [
        f"s.yaml: paths.standaard.1.step: {COSTS_NEED_LETTER}",
        "s.yaml: segments.0.path: no path named 'elders'; paths are: standaard",
        "s.yaml: segments.1.name: segment 'a' appears twice",
        "s.yaml: segments.1.when: the last segment must have no conditions, "
        "so that every case gets a path",
        "s.yaml: challengers: the shares add up to 100%; the champion needs some",
    ]


def test_problems_name_the_source():
    with pytest.raises(StrategyInvalid) as info:
        document_parse(text(doc(colour="red")), source="klant/energie.yaml")
    assert info.value.source == "klant/energie.yaml"
    assert info.value.problems == [("colour", "unknown field")]
    assert str(info.value) == "klant/energie.yaml: colour: unknown field"


# -- storing -------------------------------------------------------------------------------------


def test_a_stored_document_reads_back_the_same():
    """documents.py stores ``model_dump(mode="json")`` and reads it with ``model_validate``:
    money goes out as euros again, so it is not read back as a hundred times as much."""
    data = doc(settings={"handover_min_balance": "50"})
    data["segments"].insert(
        0,
        {"name": "klein", "label": "Klein", "when": {"balance_max": "12.50"}, "path": "standaard"},
    )
    strategy = parse(data)
    stored = strategy.model_dump(mode="json")
    assert stored["settings"]["handover_min_balance"] == "50.00"
    again = Strategy.model_validate(stored)
    assert again.settings.handover_min_balance == 5000
    assert again.segments[0].when.balance_max == 1250
    assert again == strategy


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_documents_read_back_the_same(path):
    strategy = document_parse(path.read_text(encoding="utf-8"), source=path.name)
    assert Strategy.model_validate(strategy.model_dump(mode="json")) == strategy


def test_duplicate_keys_are_refused_with_their_lines():
    text = "strategy: a\ntitle: t\nstrategy: b\n"
    with pytest.raises(StrategyInvalid) as caught:
        document_parse(text, source="dup.yaml")
    assert caught.value.lines() == [
        "dup.yaml: line 3, column 1: not valid YAML: duplicate key 'strategy' (first on line 1)"
    ]


def test_alias_bombs_are_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for n in range(1, 9):
        refs = ", ".join([f"*a{n - 1}"] * 10)
        lines.append(f"a{n}: &a{n} [{refs}]")
    with pytest.raises(StrategyInvalid) as caught:
        document_parse("\n".join(lines), source="bomb.yaml")
    assert caught.value.lines() == [
        "bomb.yaml: (document): expands to more than 100,000 values (through aliases)"
    ]


def test_oversized_documents_are_refused():
    with pytest.raises(StrategyInvalid, match="larger than"):
        document_parse("# " + "x" * 1_000_001, source="big.yaml")
