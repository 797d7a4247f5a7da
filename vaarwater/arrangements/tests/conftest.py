"""Fixtures for payment plans and promises: a creditor with a small strategy, a case that owes
principal and collection costs, and options made by hand (independent of the proposals)."""

from datetime import date, timedelta

import pytest

from vaarwater.arrangements.proposals import Option
from vaarwater.arrangements.services import debt_of, plan_cover, policy_of
from vaarwater.ledger.models import EntryKind
from vaarwater.ledger.services import charge_book
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.conftest import BASIC, load_strategy, make_debtor  # noqa: F401

OPENED = date(2026, 10, 5)  # the daily run opens the case: due 1 October, 3 days' grace
ON = date(2026, 11, 2)  # the day a plan is agreed in most tests
COSTS = 4500


def monthly(first: date, count: int) -> tuple[date, ...]:
    """``count`` dates a month apart on the same day (the tests pick days every month has)."""
    days = []
    for n in range(count):
        month = first.month - 1 + n
        days.append(first.replace(year=first.year + month // 12, month=month % 12 + 1))
    return tuple(days)


def split(total: int, count: int) -> tuple[int, ...]:
    base, extra = divmod(total, count)
    return tuple(base + (1 if n < extra else 0) for n in range(count))


@pytest.fixture
def strategy(load_strategy):  # noqa: F811
    """The basic test strategy; ``strategy(arrangements={...})`` adds a policy."""

    def load(**arrangements):
        text = BASIC
        if arrangements:
            lines = "".join(f"    {key}: {value}\n" for key, value in arrangements.items())
            text = BASIC.replace("settings:\n", "settings:\n  arrangements:\n" + lines, 1)
        return load_strategy(text)

    return load


@pytest.fixture
def make_case(make_debtor):  # noqa: F811
    """A debtor owing ``amount`` (due 1 October 2026) with an open case and collection costs."""

    def make(*, amount=30000, costs=COSTS, **debtor_fields):
        debtor = make_debtor(amount=amount, due=date(2026, 10, 1), **debtor_fields)
        daily_run(run_date=OPENED)
        case = debtor.cases.get()
        if costs:
            charge_book(
                invoice=debtor.invoices.get(),
                kind=EntryKind.COST,
                amount_cents=costs,
                booked_on=OPENED,
                reason="incassokosten (test)",
            )
        return case

    return make


@pytest.fixture
def option_for():
    """An option for what the case owes now: ``count`` monthly payments from ``first``."""

    def make(case, *, count=3, first=date(2026, 11, 25), amounts=None, kind="instalments"):
        covered, waived = plan_cover(debt_of(case), policy_of(case))
        amounts = tuple(amounts) if amounts is not None else split(covered, count)
        return Option(
            kind=kind,
            amounts=amounts,
            due_dates=monthly(first, len(amounts)),
            total_cents=sum(amounts),
            waived_costs_cents=waived,
            fits=True,
            reason="test",
        )

    return make


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
