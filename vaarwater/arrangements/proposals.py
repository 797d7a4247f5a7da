"""Plan proposals: two to four options that fit the household's monthly capacity.

Pure functions (no database): the services, the portal and the back office build the ``Debt``,
the ``Payday`` and the creditor's ``ArrangementPolicy`` and ask for options here.

Rules:

* **What a plan covers.** With ``policy.waive_costs_when_kept`` a plan covers principal and
  interest; the collection costs are ``waived_costs_cents`` (waived when the plan is kept, due
  again when it is broken). Otherwise it covers everything.
* **Options.** "Pay in full on payday" (one payment) when the policy offers it and the whole
  amount fits the monthly capacity; then the policy's counts (3, 6, 12 …), shortest first, whose
  instalments fit both the capacity and the policy's smallest instalment; at most four options.
  When fewer than two fit, or none of the policy's counts fits, the shortest number of monthly
  instalments (at most ``max_months``) that does fit is added, and when that still makes one
  option, the longest plan the policy allows. Nothing fits → ``[]``: an option above the
  capacity is never offered.
* **Amounts.** Whole cents that sum exactly to what the plan covers: the total divided by the
  count, rounded down, and the remainder spread over the *first* instalments (one cent more
  each). A custom plan has equal instalments and a smaller last one.
* **Due dates.** On the debtor's payday each month (``vaarwater.law.payday.next_payday``: the
  month's last day when it is shorter, the Friday before a weekend); four-weekly pay takes the
  first payday in each calendar month; an unknown payday is ``policy.payday_default_day``. The
  first due date is at least ``policy.first_due_min_days`` after ``on``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from vaarwater.core.money import format_eur
from vaarwater.law.payday import next_payday

FULL = "full_on_payday"
INSTALMENTS = "instalments"
CUSTOM = "custom"
MAX_OPTIONS = 4
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class ProposalError(ValueError):
    """A plan that cannot be offered (too big for the capacity, outside the policy)."""


@dataclass(frozen=True)
class Debt:
    """What the case owes now, split so that waivable costs can be left out of a plan."""

    principal_cents: int
    interest_cents: int
    costs_cents: int

    @property
    def total_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.costs_cents


@dataclass(frozen=True)
class Payday:
    """When the household's income arrives: a day of the month, or a four-weekly anchor."""

    day: int | None = None
    cycle: str = "monthly"  # monthly | four_weekly
    anchor: date | None = None


@dataclass(frozen=True)
class Option:
    """One plan that could be offered; ``amounts`` and ``due_dates`` pair up."""

    kind: str  # full_on_payday | instalments | custom
    amounts: tuple[int, ...]
    due_dates: tuple[date, ...]
    total_cents: int  # sum(amounts), exactly the debt the plan covers
    waived_costs_cents: int  # costs left out of the plan, waived when it is kept
    fits: bool  # every amount within the capacity and the policy
    reason: str  # why it fits or not, in a sentence (English; shown translated)

    @property
    def count(self) -> int:
        return len(self.amounts)

    @property
    def largest_cents(self) -> int:
        return max(self.amounts)

    @property
    def key(self) -> str:
        """A stable name for the option in forms: 'full', 'n3', 'n6', 'custom-4500'."""
        if self.kind == "full_on_payday":
            return "full"
        if self.kind == "instalments":
            return f"n{self.count}"
        return f"custom-{self.amounts[0]}"


# --- the pieces ------------------------------------------------------------------------------


def covered(debt: Debt, policy) -> tuple[int, int]:
    """Return (what a plan covers, costs waived when it is kept), in cents.

    >>> from types import SimpleNamespace as P
    >>> covered(Debt(10000, 250, 1500), P(waive_costs_when_kept=True))
    (10250, 1500)
    >>> covered(Debt(10000, 250, 1500), P(waive_costs_when_kept=False))
    (11750, 0)
    """
    if policy.waive_costs_when_kept:
        return debt.principal_cents + debt.interest_cents, debt.costs_cents
    return debt.total_cents, 0


def split_evenly(total_cents: int, count: int) -> tuple[int, ...]:
    """Split a total into ``count`` whole-cent amounts; the first ones carry the remainder.

    >>> split_evenly(10000, 3)
    (3334, 3333, 3333)
    >>> split_evenly(10001, 3)
    (3334, 3334, 3333)
    """
    if count < 1:
        raise ProposalError("a plan needs at least one payment")
    base, remainder = divmod(total_cents, count)
    return tuple(base + 1 if n < remainder else base for n in range(count))


def payday_rule(payday: Payday, policy) -> dict:
    """The ``next_payday`` arguments for a debtor's payday (the policy's day when unknown).

    >>> from types import SimpleNamespace as P
    >>> payday_rule(Payday(), P(payday_default_day=25))
    {'day': 25}
    >>> payday_rule(Payday(cycle="four_weekly", anchor=date(2026, 1, 16)), P(payday_default_day=25))
    {'cycle': 'four_weekly', 'anchor': datetime.date(2026, 1, 16)}
    """
    if payday.cycle == "four_weekly" and payday.anchor is not None:
        return {"cycle": "four_weekly", "anchor": payday.anchor}
    day = payday.day
    if day is None and payday.anchor is not None:
        day = payday.anchor.day
    if day is None:
        day = policy.payday_default_day
    if not 1 <= day <= 31:
        raise ProposalError(f"a payday must be a day of the month from 1 to 31, got {day}")
    return {"day": day}


def due_dates(*, payday: Payday, policy, on: date, count: int) -> tuple[date, ...]:
    """One due date per month on the payday, the first at least ``first_due_min_days`` ahead.

    Monthly steps keep the payday and use a shorter month's last day:

    >>> from types import SimpleNamespace as P
    >>> policy = P(payday_default_day=25, first_due_min_days=5)
    >>> due_dates(payday=Payday(day=31), policy=policy, on=date(2027, 1, 10), count=3)
    (datetime.date(2027, 1, 29), datetime.date(2027, 2, 26), datetime.date(2027, 3, 31))

    (31 January 2027 is a Sunday and 28 February a Sunday: paid on the Friday before.)
    Four-weekly pay: the first payday in each calendar month.

    >>> due_dates(payday=Payday(cycle="four_weekly", anchor=date(2026, 1, 2)), policy=policy,
    ...           on=date(2026, 1, 1), count=3)
    (datetime.date(2026, 1, 30), datetime.date(2026, 2, 27), datetime.date(2026, 3, 27))
    """
    rule = payday_rule(payday, policy)
    four_weekly = "cycle" in rule
    dates = [next_payday(on + timedelta(days=policy.first_due_min_days), **rule)]
    while len(dates) < count:
        last = dates[-1]
        if four_weekly:
            start = date(last.year + last.month // 12, last.month % 12 + 1, 1)
        else:
            start = last + timedelta(days=1)
        dates.append(next_payday(start, **rule))
    return tuple(dates)


def shortest_count(total_cents: int, capacity_cents: int | None, policy) -> int | None:
    """The fewest monthly instalments (2 or more, at most ``max_months``) that fit, or None.

    >>> from types import SimpleNamespace as P
    >>> shortest_count(100000, 12000, P(max_months=12, min_instalment=2500))
    9
    >>> shortest_count(100000, 8000, P(max_months=12, min_instalment=2500)) is None
    True
    """
    smallest = max(policy.min_instalment, 1)
    if capacity_cents is not None and capacity_cents <= 0:
        return None
    count = 2 if capacity_cents is None else max(2, -(-total_cents // capacity_cents))
    if count <= min(policy.max_months, total_cents // smallest):
        return count
    return None


def _count_fits(total_cents: int, count: int, capacity_cents: int | None, policy) -> bool:
    if count < 2 or count > policy.max_months:
        return False
    if total_cents // count < max(policy.min_instalment, 1):
        return False
    return capacity_cents is None or -(-total_cents // count) <= capacity_cents


def _day(d: date) -> str:
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


def _eur(cents: int) -> str:
    return format_eur(cents, language="en")


def _waived(waived_cents: int) -> str:
    if waived_cents <= 0:
        return ""
    return f" Collection costs of {_eur(waived_cents)} are waived when the plan is kept."


def _capacity(capacity_cents: int | None) -> str:
    if capacity_cents is None:
        return ""
    return f" It fits your capacity of {_eur(capacity_cents)} a month."


def _option(kind, amounts, dates, *, waived, capacity_cents, policy, reason) -> Option:
    option = Option(
        kind=kind,
        amounts=tuple(amounts),
        due_dates=tuple(dates),
        total_cents=sum(amounts),
        waived_costs_cents=waived,
        fits=True,
        reason=reason,
    )
    problems = option_check(option, capacity_cents=capacity_cents, policy=policy)
    if problems:
        return replace(option, fits=False, reason="; ".join(problems))
    return option


def _full(total, waived, *, capacity_cents, payday, policy, on) -> Option:
    (due,) = due_dates(payday=payday, policy=policy, on=on, count=1)
    reason = f"Pay {_eur(total)} in one go on your payday, {_day(due)}."
    return _option(
        FULL,
        (total,),
        (due,),
        waived=waived,
        capacity_cents=capacity_cents,
        policy=policy,
        reason=reason + _capacity(capacity_cents) + _waived(waived),
    )


def _instalments(total, waived, count, *, capacity_cents, payday, policy, on, note="") -> Option:
    amounts = split_evenly(total, count)
    dates = due_dates(payday=payday, policy=policy, on=on, count=count)
    extra = total % count
    each = f"{_eur(amounts[-1])}"
    if extra:
        each += f" (the first {extra} one cent more)" if extra > 1 else " (the first one cent more)"
    reason = (
        f"{count} monthly instalments of {each}, on your payday from {_day(dates[0])} "
        f"to {_day(dates[-1])}."
    )
    return _option(
        INSTALMENTS,
        amounts,
        dates,
        waived=waived,
        capacity_cents=capacity_cents,
        policy=policy,
        reason=reason + note + _capacity(capacity_cents) + _waived(waived),
    )


# --- the interface ---------------------------------------------------------------------------


def proposals(
    *, debt: Debt, capacity_cents: int | None, payday: Payday, policy, on: date
) -> list[Option]:
    """The options to offer (2-4, only ones that fit); [] when nothing fits.

    ``capacity_cents`` None means no capacity is known: only the policy's limits apply.

    >>> from vaarwater.strategy.schema import ArrangementPolicy
    >>> options = proposals(debt=Debt(60000, 1000, 9000), capacity_cents=25000,
    ...                     payday=Payday(day=24), policy=ArrangementPolicy(), on=date(2026, 3, 2))
    >>> [(o.key, o.amounts[0], o.due_dates[0].isoformat()) for o in options]
    [('n3', 20334, '2026-03-24'), ('n6', 10167, '2026-03-24'), ('n12', 5084, '2026-03-24')]
    >>> options[0].amounts, options[0].waived_costs_cents
    ((20334, 20333, 20333), 9000)
    """
    total, waived = covered(debt, policy)
    if total <= 0 or (capacity_cents is not None and capacity_cents <= 0):
        return []
    kwargs = {"capacity_cents": capacity_cents, "payday": payday, "policy": policy, "on": on}
    options: list[Option] = []
    if policy.offer_full_on_payday and (capacity_cents is None or total <= capacity_cents):
        options.append(_full(total, waived, **kwargs))
    counts = sorted(n for n in set(policy.counts) if _count_fits(total, n, capacity_cents, policy))
    counts = counts[: MAX_OPTIONS - len(options)]
    for count in counts:
        options.append(_instalments(total, waived, count, **kwargs))
    shortest = shortest_count(total, capacity_cents, policy)
    if shortest is not None and shortest not in counts and (len(options) < 2 or not counts):
        note = (
            " This is the shortest plan that fits."
            if counts
            else " The usual plans do not fit; this is the shortest plan that does."
        )
        options.append(_instalments(total, waived, shortest, note=note, **kwargs))
        counts.append(shortest)
    if shortest is not None and len(options) < 2:
        # Still one option: add the longest plan the policy allows (the smallest instalments).
        longest = min(policy.max_months, total // max(policy.min_instalment, 1))
        if longest not in counts:
            note = " This is the longest plan, with the smallest instalments."
            options.append(_instalments(total, waived, longest, note=note, **kwargs))
    options.sort(key=lambda o: (o.kind != FULL, o.count))
    return [option for option in options if option.fits]


def custom_option(
    *,
    debt: Debt,
    capacity_cents: int | None,
    payday: Payday,
    policy,
    on: date,
    instalment_cents: int,
) -> Option:
    """A plan with the instalment the debtor chose; ProposalError when it does not fit.

    Equal instalments and a smaller last one: €250.00 a month on €700.00 is 250, 250, 200.

    >>> from vaarwater.strategy.schema import ArrangementPolicy
    >>> option = custom_option(debt=Debt(70000, 0, 0), capacity_cents=30000,
    ...                        payday=Payday(day=1), policy=ArrangementPolicy(),
    ...                        on=date(2026, 3, 2), instalment_cents=25000)
    >>> option.key, option.amounts, [d.isoformat() for d in option.due_dates]
    ('custom-25000', (25000, 25000, 20000), ['2026-04-01', '2026-05-01', '2026-06-01'])
    >>> custom_option(debt=Debt(70000, 0, 0), capacity_cents=20000, payday=Payday(day=1),
    ...               policy=ArrangementPolicy(), on=date(2026, 3, 2), instalment_cents=25000)
    Traceback (most recent call last):
    ...
    vaarwater.arrangements.proposals.ProposalError: €250.00 a month is more than the capacity \
of €200.00 a month
    """
    if not policy.allow_custom:
        raise ProposalError("this creditor does not offer a plan with your own instalment")
    if isinstance(instalment_cents, bool) or not isinstance(instalment_cents, int):
        raise ProposalError("the instalment must be a whole number of cents")
    if instalment_cents <= 0:
        raise ProposalError("the instalment must be more than zero")
    total, waived = covered(debt, policy)
    if total <= 0:
        raise ProposalError("there is nothing to pay in a plan")
    instalment = min(instalment_cents, total)
    if capacity_cents is not None and instalment > capacity_cents:
        raise ProposalError(
            f"{_eur(instalment)} a month is more than the capacity of "
            f"{_eur(max(capacity_cents, 0))} a month"
        )
    if instalment < total and instalment < policy.min_instalment:
        raise ProposalError(
            f"the instalment must be at least {_eur(policy.min_instalment)} "
            "(or the whole amount at once)"
        )
    count = -(-total // instalment)
    if count > policy.max_months:
        least = -(-total // policy.max_months)
        raise ProposalError(
            f"{_eur(instalment)} a month takes {count} months; the longest plan is "
            f"{policy.max_months} months, so pay at least {_eur(least)} a month"
        )
    amounts = (instalment,) * (count - 1) + (total - instalment * (count - 1),)
    dates = due_dates(payday=payday, policy=policy, on=on, count=count)
    if count == 1:
        reason = f"Pay {_eur(total)} in one go on {_day(dates[0])}."
    else:
        reason = (
            f"{count} monthly instalments of {_eur(instalment)}"
            + (f", the last one {_eur(amounts[-1])}" if amounts[-1] != instalment else "")
            + f", on your payday from {_day(dates[0])} to {_day(dates[-1])}."
        )
    option = _option(
        CUSTOM,
        amounts,
        dates,
        waived=waived,
        capacity_cents=capacity_cents,
        policy=policy,
        reason=reason + _capacity(capacity_cents) + _waived(waived),
    )
    if not option.fits:  # pragma: no cover - the checks above refuse these first
        raise ProposalError(option.reason)
    return option


@dataclass(frozen=True)
class Problem:
    """Why an option does not fit, as data: ``code`` and the numbers (cents, counts) in
    ``values``; ``option_check`` words it in English, the pages and the events in their own
    language. Codes: ``no_payments``, ``mismatch``, ``not_positive``, ``order``, ``capacity``
    (largest, capacity), ``too_long`` (count, max_months), ``too_small`` (smallest, minimum),
    ``no_custom``, ``late_start`` (days)."""

    code: str
    values: tuple[tuple[str, int], ...] = ()

    def get(self, name: str) -> int:
        return dict(self.values)[name]


# A plan's first payment is at most this many days after the policy's earliest first due date
# (``first_due_min_days``): a monthly payday always falls within it, also when the payday just
# passed because it moved back over a weekend or holiday (Easter: up to four days).
FIRST_DUE_SLACK_DAYS = 40


def option_problems(
    option: Option, *, capacity_cents: int | None, policy, on: date | None = None
) -> list[Problem]:
    """Why an option is outside the capacity or the policy, as ``Problem`` s ([] when it fits).

    With ``on`` (the day it is agreed) a first payment later than ``first_due_min_days`` +
    ``FIRST_DUE_SLACK_DAYS`` after it is a problem too (``late_start``, days): payday-based
    options never are; an agent's own plan starting in a year is.

    >>> from vaarwater.strategy.schema import ArrangementPolicy
    >>> option = Option("instalments", (30000, 30000), (date(2026, 4, 24), date(2026, 5, 22)),
    ...                 60000, 0, True, "")
    >>> [p.code for p in option_problems(option, capacity_cents=25000, policy=ArrangementPolicy())]
    ['capacity']
    """
    problems: list[Problem] = []
    if not option.amounts:
        return [Problem("no_payments")]
    if len(option.amounts) != len(option.due_dates):
        problems.append(
            Problem(
                "mismatch", (("amounts", len(option.amounts)), ("dates", len(option.due_dates)))
            )
        )
    if any(amount <= 0 for amount in option.amounts):
        problems.append(Problem("not_positive"))
    if any(b <= a for a, b in zip(option.due_dates, option.due_dates[1:], strict=False)):
        problems.append(Problem("order"))
    if capacity_cents is not None and option.largest_cents > capacity_cents:
        problems.append(
            Problem(
                "capacity",
                (("largest", option.largest_cents), ("capacity", max(capacity_cents, 0))),
            )
        )
    if option.count > 1:
        if option.count > policy.max_months:
            problems.append(
                Problem("too_long", (("count", option.count), ("max_months", policy.max_months)))
            )
        checked = option.amounts[:-1] if option.kind == CUSTOM else option.amounts
        smallest = min(checked)
        if smallest < policy.min_instalment:
            problems.append(
                Problem("too_small", (("smallest", smallest), ("minimum", policy.min_instalment)))
            )
    if option.kind == CUSTOM and not policy.allow_custom:
        problems.append(Problem("no_custom"))
    if on is not None and option.due_dates:
        latest = on + timedelta(days=policy.first_due_min_days + FIRST_DUE_SLACK_DAYS)
        if option.due_dates[0] > latest:
            problems.append(Problem("late_start", (("days", (option.due_dates[0] - on).days),)))
    return problems


def problem_text(problem: Problem) -> str:
    """A problem in an English sentence (the events and pages word it in their language)."""
    v = dict(problem.values)
    if problem.code == "no_payments":
        return "the plan has no payments"
    if problem.code == "mismatch":
        return f"the plan has {v['amounts']} amounts but {v['dates']} due dates"
    if problem.code == "not_positive":
        return "every payment must be more than zero"
    if problem.code == "order":
        return "the due dates must follow each other"
    if problem.code == "capacity":
        return f"{_eur(v['largest'])} is more than the capacity of {_eur(v['capacity'])} a month"
    if problem.code == "too_long":
        months = "month" if v["max_months"] == 1 else "months"
        return (
            f"{v['count']} instalments is longer than the longest plan of "
            f"{v['max_months']} {months}"
        )
    if problem.code == "too_small":
        return (
            f"an instalment of {_eur(v['smallest'])} is less than the smallest instalment of "
            f"{_eur(v['minimum'])}"
        )
    if problem.code == "no_custom":
        return "this creditor does not offer a plan with your own instalment"
    if problem.code == "late_start":
        return f"the first payment is {v['days']} days away"
    return problem.code


def option_check(option: Option, *, capacity_cents: int | None, policy) -> list[str]:
    """Why an option is outside the capacity or the policy ([] when it fits).

    Every payment must be within the monthly capacity (when one is known); a plan of more than
    one payment must not be longer than ``max_months`` and its instalments must be at least the
    smallest instalment (a custom plan's smaller last one excepted).

    >>> from vaarwater.strategy.schema import ArrangementPolicy
    >>> option = Option("instalments", (30000, 30000), (date(2026, 4, 24), date(2026, 5, 22)),
    ...                 60000, 0, True, "")
    >>> option_check(option, capacity_cents=25000, policy=ArrangementPolicy())
    ['€300.00 is more than the capacity of €250.00 a month']
    >>> option_check(option, capacity_cents=None, policy=ArrangementPolicy(max_months=1, counts=()))
    ['2 instalments is longer than the longest plan of 1 month']
    """
    return [
        problem_text(problem)
        for problem in option_problems(option, capacity_cents=capacity_cents, policy=policy)
    ]
