"""The strategy document: one YAML file per strategy version, validated into typed models.

A document has settings, segments (structured conditions, never code), paths (lists of steps)
and optional challenger variants. ``document_parse`` turns YAML text into a ``Strategy`` or
raises ``StrategyInvalid`` with one ``FILE: path.to.field: reason`` line per problem.

Money in documents is written in euros as a string or number with at most two decimals
("500", "500.00", 500); it is held as integer cents.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from vaarwater.core.money import from_cents, to_cents

CHANNELS = ("email", "sms", "whatsapp", "letter")
MESSAGE_CHANNELS = (*CHANNELS, "best")
SECTORS = ("energy", "water", "housing", "health_insurance", "telecom", "municipality", "other")
HOLD_KINDS = (
    "dispute",
    "arrangement",
    "promise",
    "debt_help",
    "breathing_space",
    "deceased",
    "manual",
)
NAME_RE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class StrategyInvalid(ValueError):
    """A strategy document that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.source}: {path or '(document)'}: {reason}" for path, reason in self.problems
        ]


def _euros_to_cents(value):
    if isinstance(value, bool) or value is None:
        raise ValueError("expected an amount in euros, such as 500 or 500.00")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount in euros, such as 500.00") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount in euros, such as 500.00")
    if amount < 0:
        raise ValueError("must not be negative")
    try:
        return to_cents(amount)
    except (ValueError, ArithmeticError) as exc:
        raise ValueError(f"{value!r}: {exc}") from None


# Held as cents; written back (JSON) as euros, so a stored document reads as it was written.
Cents = Annotated[
    int,
    BeforeValidator(_euros_to_cents),
    PlainSerializer(lambda cents: str(from_cents(cents)), return_type=str, when_used="json"),
]


def _clock(value: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 10:00 as the base-60 number 600.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str) or not TIME_RE.match(value):
        raise ValueError("expected a time of day as HH:MM, such as 09:30")
    return value


Clock = Annotated[str, BeforeValidator(_clock)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactCaps(Strict):
    per_day: int = Field(1, ge=1, le=10)
    per_week: int = Field(3, ge=1, le=30)

    @model_validator(mode="after")
    def _week_holds_day(self):
        if self.per_week < self.per_day:
            raise ValueError("per_week must be at least per_day")
        return self


class ContactHours(Strict):
    """When contact is allowed; the law's 07:00-20:00 window is the outer bound."""

    start: Clock = "08:00"
    end: Clock = "20:00"

    @model_validator(mode="after")
    def _inside_law(self):
        if self.start < "07:00":
            raise ValueError("start: no contact before 07:00")
        if self.end > "20:00":
            raise ValueError("end: no contact after 20:00")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ProblemHolds(Strict):
    """Days a case pauses when the debtor reports a problem in the portal (0: no pause)."""

    dispute: int = Field(30, ge=0, le=180, description="an invoice is disputed")
    contact: int = Field(0, ge=0, le=60, description="wrong address or contact data")
    cant_pay: int = Field(14, ge=0, le=90, description="'I can't pay', with a reason")


class PortalPolicy(Strict):
    """What a debtor may do in the portal without an agent."""

    deferral_max_days: int = Field(
        35, ge=0, le=90, description="the latest day a debtor may defer to, counted from today"
    )
    deferrals_per_case: int = Field(1, ge=0, le=5)
    partial_min: Cents = Field(1000, description="the smallest partial payment")
    payment_link_days: int = Field(14, ge=1, le=90, description="how long a payment link works")
    problem_holds: ProblemHolds = ProblemHolds()


class ArrangementPolicy(Strict):
    """What payment plans a creditor offers, and how they are followed up."""

    min_instalment: Cents = Field(2500, description="the smallest instalment")
    max_months: int = Field(12, ge=1, le=60, description="the longest plan, in months")
    counts: tuple[int, ...] = Field(
        (3, 6, 12), description="the numbers of monthly instalments offered"
    )
    offer_full_on_payday: bool = True
    allow_custom: bool = Field(True, description="the customer may choose their own instalment")
    waive_costs_when_kept: bool = Field(
        True, description="collection costs are waived when the plan is kept"
    )
    first_due_min_days: int = Field(
        5, ge=0, le=60, description="the first instalment falls at least this many days ahead"
    )
    payday_default_day: int = Field(
        25, ge=1, le=31, description="the payday assumed when the customer's is not known"
    )
    reminder_days_before: int = Field(3, ge=0, le=14)
    grace_days: int = Field(5, ge=0, le=30, description="days after a due date before a miss")
    breach_after_misses: int = Field(2, ge=1, le=6)
    replan_after_miss: bool = Field(True, description="offer a new plan after a missed payment")
    promise_grace_days: int = Field(2, ge=0, le=14)
    methods: tuple[Literal["transfer", "link", "sepa"], ...] = ("transfer", "link", "sepa")
    sepa_prenotification_days: int = Field(
        5, ge=1, le=14, description="days before a direct debit the customer is told"
    )

    @field_validator("counts")
    @classmethod
    def _counts(cls, value):
        if any(count < 2 or count > 60 for count in value):
            raise ValueError("each count must be between 2 and 60")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _counts_fit(self):
        if self.counts and max(self.counts) > self.max_months:
            raise ValueError("counts: no count may exceed max_months")
        if not self.methods:
            raise ValueError("methods: at least one way to pay")
        return self


class CallPolicy(Strict):
    """How the agent workspace spreads call attempts over times of day and days."""

    max_attempts_per_week: int = Field(
        3, ge=1, le=14, description="call attempts per customer in any 7 days"
    )
    min_hours_between: int = Field(
        4, ge=1, le=72, description="hours at least between two attempts at one customer"
    )
    max_attempts: int = Field(
        6, ge=1, le=30, description="attempts on one call before it is closed as unreachable"
    )


class Settings(Strict):
    grace_days: int = Field(3, ge=0, le=90, description="days after the due date before a case")
    letter_receipt_business_days: int = Field(2, ge=0, le=10)
    email_receipt_days: int = Field(0, ge=0, le=5)
    payday_window_days: int = Field(5, ge=0, le=14)
    contact_caps: ContactCaps = ContactCaps()
    contact_hours: ContactHours = ContactHours()
    interest_kind: Literal["consumer", "commercial"] = "consumer"
    best_channel_order: tuple[Literal["email", "sms", "whatsapp", "letter"], ...] = (
        "email",
        "sms",
        "whatsapp",
        "letter",
    )
    handover_min_balance: Cents = 0
    portal: PortalPolicy = PortalPolicy()
    arrangements: ArrangementPolicy = ArrangementPolicy()
    calls: CallPolicy = CallPolicy()


class Condition(Strict):
    """All given facts must hold; an empty condition matches every case."""

    days_past_due_min: int | None = Field(None, ge=0)
    days_past_due_max: int | None = Field(None, ge=0)
    balance_min: Cents | None = None
    balance_max: Cents | None = None
    open_items_min: int | None = Field(None, ge=0)
    open_items_max: int | None = Field(None, ge=0)
    first_time: bool | None = None
    vulnerable: bool | None = None
    risk_score_min: int | None = Field(None, ge=0, le=100)
    risk_score_max: int | None = Field(None, ge=0, le=100)
    broken_promises_min: int | None = Field(
        None, ge=1, le=20, description="the debtor broke at least this many promises to pay"
    )
    reachable: tuple[Literal["email", "sms", "whatsapp", "letter"], ...] = ()
    unreachable: tuple[Literal["email", "sms", "whatsapp", "letter"], ...] = ()
    sector: tuple[Literal[SECTORS], ...] = ()  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _ranges(self):
        for low, high in (
            ("days_past_due_min", "days_past_due_max"),
            ("balance_min", "balance_max"),
            ("open_items_min", "open_items_max"),
            ("risk_score_min", "risk_score_max"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} is greater than {high}")
        return self


class Segment(Strict):
    name: str = Field(pattern=NAME_RE)
    label: str = Field(min_length=1, max_length=120)
    when: Condition = Condition()
    path: str


class StepBase(Strict):
    label: str = Field("", max_length=120)
    day: int = Field(0, ge=0, le=730, description="days after the anchor")
    after: Literal["due_date", "previous"] = "previous"

    def describes(self) -> str:
        return self.label or self.step


class MessageStep(StepBase):
    step: Literal["message"]
    channel: Literal[MESSAGE_CHANNELS]  # type: ignore[valid-type]
    template: str = Field(pattern=NAME_RE)
    at: Clock | None = None
    purpose: Literal["reminder", "demand", "plan_offer", "debt_help_referral", "info"] = "reminder"


class CallTaskStep(StepBase):
    step: Literal["call_task"]
    start: Clock = "09:00"
    end: Clock = "20:00"
    priority: int = Field(50, ge=0, le=100)

    @model_validator(mode="after")
    def _window(self):
        if self.start < "07:00" or self.end > "20:00" or self.end <= self.start:
            raise ValueError("the call window must lie within 07:00-20:00 and end after it starts")
        return self


class FourteenDayLetterStep(StepBase):
    step: Literal["fourteen_day_letter"]
    channel: Literal["letter", "email"] = "letter"
    template: str = Field("veertiendagenbrief", pattern=NAME_RE)
    at: Clock | None = None


class ChargeCostsStep(StepBase):
    """WIK costs: due the day after the 14-day term of the case's letter ran out unpaid."""

    step: Literal["charge_costs"]


class StartInterestStep(StepBase):
    step: Literal["start_interest"]


class OfferArrangementStep(StepBase):
    step: Literal["offer_arrangement"]
    channel: Literal[MESSAGE_CHANNELS] = "best"  # type: ignore[valid-type]
    template: str = Field("regeling-aanbod", pattern=NAME_RE)
    at: Clock | None = None


class SignalRequirements(Strict):
    written_reminders: int = Field(1, ge=0, le=10)
    reminder_spacing_days: int = Field(0, ge=0, le=60)
    personal_contact_attempts: int = Field(1, ge=0, le=20)
    contact_channels: int = Field(1, ge=1, le=4)
    debt_help_referral: bool = True
    plan_offer: bool = False


class MunicipalSignalStep(StepBase):
    step: Literal["municipal_signal"]
    requires: SignalRequirements = SignalRequirements()


class HandOverStep(StepBase):
    step: Literal["hand_over"]
    to: Literal["agency", "bailiff"]
    party: str = Field(min_length=1, max_length=120)


class PauseStep(StepBase):
    step: Literal["pause"]
    days: int = Field(ge=1, le=365)
    reason: str = Field(min_length=1, max_length=200)


class CloseStep(StepBase):
    step: Literal["close"]
    reason: str = Field(min_length=1, max_length=200)


class WaitPromiseStep(StepBase):
    """Wait while a promise to pay runs; go on when its date has passed or there is none."""

    step: Literal["wait_promise"]
    max_days: int = Field(30, ge=1, le=365)


class WaitReplyStep(StepBase):
    """Wait up to ``days`` for a reply (a message, a portal visit, a payment); then go on."""

    step: Literal["wait_reply"]
    days: int = Field(ge=1, le=90)


Step = Annotated[
    MessageStep
    | CallTaskStep
    | FourteenDayLetterStep
    | ChargeCostsStep
    | StartInterestStep
    | OfferArrangementStep
    | MunicipalSignalStep
    | HandOverStep
    | PauseStep
    | CloseStep
    | WaitPromiseStep
    | WaitReplyStep,
    Field(discriminator="step"),
]
STEP_KINDS = (
    "message",
    "call_task",
    "fourteen_day_letter",
    "charge_costs",
    "start_interest",
    "offer_arrangement",
    "municipal_signal",
    "hand_over",
    "pause",
    "close",
    "wait_promise",
    "wait_reply",
)
CONTACT_STEPS = ("message", "call_task", "fourteen_day_letter", "offer_arrangement")


def _check_path(name: str, steps: tuple) -> list[tuple[str, str]]:
    """Problems in one path, as (relative path, reason)."""
    problems = []
    seen_letter = False
    for index, step in enumerate(steps):
        if step.step == "fourteen_day_letter":
            seen_letter = True
        if step.step == "charge_costs" and not seen_letter:
            problems.append(
                (
                    f"{index}.step",
                    "charge_costs needs a fourteen_day_letter earlier on the same path: "
                    "costs are never charged without the letter",
                )
            )
        if step.step in ("close", "hand_over") and index != len(steps) - 1:
            problems.append((f"{index}.step", f"{step.step} must be the last step of its path"))
    return problems


class Challenger(Strict):
    name: str = Field(pattern=NAME_RE)
    label: str = Field("", max_length=120)
    share: Decimal = Field(gt=0, lt=100, description="percent of new cases")
    paths: dict[str, tuple[Step, ...]]

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths):
        for name, steps in paths.items():
            if not steps:
                raise ValueError(f"path {name!r} has no steps")
        return paths


class Strategy(Strict):
    strategy: str = Field(pattern=NAME_RE, description="the strategy's name")
    title: str = Field(min_length=1, max_length=200)
    sector: Literal[SECTORS] | None = None  # type: ignore[valid-type]
    description: str = ""
    settings: Settings = Settings()
    segments: tuple[Segment, ...] = Field(min_length=1)
    paths: dict[str, tuple[Step, ...]] = Field(min_length=1)
    challengers: tuple[Challenger, ...] = ()

    def path_steps(self, path: str, variant: str = "champion") -> tuple:
        if variant != "champion":
            for challenger in self.challengers:
                if challenger.name == variant and path in challenger.paths:
                    return challenger.paths[path]
        return self.paths[path]

    def variant_shares(self) -> list[tuple[str, Decimal]]:
        return [(c.name, c.share) for c in self.challengers]


def _semantic_problems(doc: Strategy) -> list[tuple[str, str]]:
    problems = []
    for name, steps in doc.paths.items():
        if not steps:
            problems.append((f"paths.{name}", "a path needs at least one step"))
        problems += [(f"paths.{name}.{where}", why) for where, why in _check_path(name, steps)]
    names = set()
    for index, segment in enumerate(doc.segments):
        if segment.path not in doc.paths:
            problems.append(
                (
                    f"segments.{index}.path",
                    f"no path named {segment.path!r}; paths are: {', '.join(sorted(doc.paths))}",
                )
            )
        if segment.name in names:
            problems.append((f"segments.{index}.name", f"segment {segment.name!r} appears twice"))
        names.add(segment.name)
    if doc.segments and doc.segments[-1].when != Condition():
        problems.append(
            (
                f"segments.{len(doc.segments) - 1}.when",
                "the last segment must have no conditions, so that every case gets a path",
            )
        )
    total = Decimal(0)
    variants = set()
    for index, challenger in enumerate(doc.challengers):
        total += challenger.share
        if challenger.name in variants or challenger.name == "champion":
            problems.append((f"challengers.{index}.name", f"{challenger.name!r} is taken"))
        variants.add(challenger.name)
        for name, steps in challenger.paths.items():
            if name not in doc.paths:
                problems.append(
                    (
                        f"challengers.{index}.paths.{name}",
                        f"the champion has no path named {name!r} to vary",
                    )
                )
            problems += [
                (f"challengers.{index}.paths.{name}.{where}", why)
                for where, why in _check_path(name, steps)
            ]
    if total >= 100:
        problems.append(("challengers", f"the shares add up to {total}%; the champion needs some"))
    return problems


def _loc(loc: tuple) -> str:
    parts = []
    for part in loc:
        if isinstance(part, str) and part in STEP_KINDS and parts and parts[-1].isdigit():
            continue  # pydantic's discriminator tag, not a field of the document
        if isinstance(part, str) and part.startswith(("function-", "literal[")):
            continue
        parts.append(str(part))
    return ".".join(parts)


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "")
        return f"unknown step {tag!r}; expected one of {', '.join(STEP_KINDS)}"
    if kind == "union_tag_not_found":
        return "every step needs 'step:' naming its kind"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


MAX_DOCUMENT_BYTES = 1_000_000


MAX_EXPANDED_VALUES = 100_000


class _Loader(yaml.SafeLoader):
    """Safe YAML that also refuses duplicate keys, which would silently replace each other."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.YAMLError):
                continue  # the base class reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _expanded_size(value, memo: dict) -> int:
    """How many values a document holds once its aliases are expanded, without expanding."""
    if not isinstance(value, (dict, list)):
        return 1
    key = id(value)
    if key not in memo:
        memo[key] = 0  # a cycle counts once
        items = value.values() if isinstance(value, dict) else value
        memo[key] = 1 + sum(_expanded_size(item, memo) for item in items)
    return memo[key]


def document_parse(text: str, *, source: str = "<strategy>") -> Strategy:
    """Parse and validate a strategy document; raise ``StrategyInvalid`` naming every problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise StrategyInvalid(source, [("", f"larger than {MAX_DOCUMENT_BYTES:,} bytes")])
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        if _expanded_size(data, {}) > MAX_EXPANDED_VALUES:
            raise StrategyInvalid(
                source,
                [("", f"expands to more than {MAX_EXPANDED_VALUES:,} values (through aliases)")],
            )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise StrategyInvalid(source, [(where, f"not valid YAML: {problem}")]) from None
    if not isinstance(data, dict):
        raise StrategyInvalid(source, [("", "expected a YAML mapping with strategy, segments, …")])
    try:
        doc = Strategy.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        problems = []
        for err in errors:
            path = _loc(err["loc"])
            if err["type"] == "union_tag_invalid":
                path += ".step"
            if err["type"] == "too_short" and any(
                _loc(other["loc"]).startswith(path + ".") for other in errors
            ):
                continue  # the items themselves were wrong; those errors say why
            problems.append((path, _message(err)))
        raise StrategyInvalid(source, problems) from None
    problems = _semantic_problems(doc)
    if problems:
        raise StrategyInvalid(source, problems)
    return doc
