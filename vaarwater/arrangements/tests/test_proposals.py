"""Plan proposals: pure maths, no database."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaarwater.arrangements.proposals import (
    Debt,
    Option,
    Payday,
    ProposalError,
    covered,
    custom_option,
    due_dates,
    option_check,
    option_problems,
    payday_rule,
    proposals,
    split_evenly,
)
from vaarwater.law.payday import next_payday
from vaarwater.strategy.schema import ArrangementPolicy

ON = date(2026, 3, 2)  # a Monday
DEFAULT = ArrangementPolicy()
ON_THE_25TH = Payday(day=25)


def offer(debt, capacity, *, payday=ON_THE_25TH, policy=DEFAULT, on=ON):
    return proposals(debt=debt, capacity_cents=capacity, payday=payday, policy=policy, on=on)


# --- examples ---------------------------------------------------------------------------------


def test_full_and_the_usual_counts_when_all_fit():
    """A roomy capacity: pay in full on payday, and 3, 6 and 12 instalments."""
    options = offer(Debt(90000, 1500, 10000), 200000)
    assert [o.key for o in options] == ["full", "n3", "n6", "n12"]
    full = options[0]
    assert full.amounts == (91500,)
    assert full.due_dates == (date(2026, 3, 25),)
    assert full.waived_costs_cents == 10000
    assert "Collection costs of €100.00 are waived" in full.reason
    assert all(o.fits for o in options)


def test_costs_are_included_when_the_policy_does_not_waive_them():
    """Without the waiver the plan covers principal, interest and costs."""
    policy = ArrangementPolicy(waive_costs_when_kept=False)
    options = offer(Debt(90000, 1500, 10000), 200000, policy=policy)
    assert {o.total_cents for o in options} == {101500}
    assert {o.waived_costs_cents for o in options} == {0}


def test_remainder_goes_to_the_first_instalments():
    """€1,000.00 in 3: 333.34, 333.33, 333.33 — the first carry the cents."""
    (n3,) = [o for o in offer(Debt(100000, 0, 0), 50000) if o.key == "n3"]
    assert n3.amounts == (33334, 33333, 33333)
    assert sum(n3.amounts) == 100000
    assert split_evenly(100002, 3) == (33334, 33334, 33334)
    assert split_evenly(100001, 3) == (33334, 33334, 33333)


def test_full_payment_only_when_the_whole_amount_fits():
    """€910.00 with €400.00 a month: no full payment; with €300.00 not 3 × €303.34 either."""
    options = offer(Debt(91000, 0, 5000), 40000)
    assert [o.key for o in options] == ["n3", "n6", "n12"]
    options = offer(Debt(91000, 0, 5000), 30000)
    assert [o.key for o in options] == ["n6", "n12"]


def test_only_a_long_plan_fits():
    """When only the 12-month plan fits, the shortest fitting plan is offered with it."""
    options = offer(Debt(100000, 0, 0), 10000)
    assert [o.key for o in options] == ["n10", "n12"]
    assert max(options[0].amounts) == 10000
    assert "This is the shortest plan that fits." in options[0].reason
    # Exactly 12 needed: only one plan exists.
    assert [o.key for o in offer(Debt(100000, 0, 0), 9000)] == ["n12"]


def test_longer_plan_than_the_usual_counts_up_to_max_months():
    """The policy's counts do not fit, but 15 months (max 18) does: offered, said so, with 18."""
    policy = ArrangementPolicy(max_months=18)
    options = offer(Debt(150000, 0, 0), 10000, policy=policy)
    assert [o.key for o in options] == ["n15", "n18"]
    assert "The usual plans do not fit" in options[0].reason
    assert "the longest plan, with the smallest instalments" in options[1].reason


def test_small_debt_shorter_than_the_usual_counts():
    """€60.00 with a €25.00 minimum: 3 × €20.00 is too small, 2 × €30.00 is offered."""
    options = offer(Debt(6000, 0, 0), 100000)
    assert [o.key for o in options] == ["full", "n2"]
    assert options[1].amounts == (3000, 3000)


def test_small_total_below_min_instalment_can_still_be_paid_in_full():
    """A total under the smallest instalment is fine as one full payment."""
    options = offer(Debt(1500, 0, 0), 100000)
    assert [o.key for o in options] == ["full"]
    assert options[0].amounts == (1500,)


def test_nothing_fits():
    """A capacity of zero, or one too small for the longest plan, offers nothing."""
    assert offer(Debt(100000, 0, 0), 0) == []
    assert offer(Debt(100000, 0, 0), 8000) == []  # 12 × €83.34 > €80.00
    assert offer(Debt(0, 0, 5000), 100000) == []  # only waivable costs: no plan


def test_full_not_offered_when_the_policy_says_so():
    """offer_full_on_payday False: only instalment plans."""
    policy = ArrangementPolicy(offer_full_on_payday=False)
    assert [o.key for o in offer(Debt(60000, 0, 0), 100000, policy=policy)] == ["n3", "n6", "n12"]


def test_at_most_four_options():
    """Many counts in the policy: full and the three shortest that fit."""
    policy = ArrangementPolicy(counts=(2, 3, 4, 6, 9, 12))
    options = offer(Debt(120000, 0, 0), 200000, policy=policy)
    assert [o.key for o in options] == ["full", "n2", "n3", "n4"]


def test_unknown_capacity_applies_only_the_policy():
    """capacity None (no assessment): the policy's limits alone."""
    assert [o.key for o in offer(Debt(120000, 0, 0), None)] == ["full", "n3", "n6", "n12"]


def test_due_dates_on_payday_with_month_stepping():
    """Payday the 31st: the month's last day, the Friday before a weekend."""
    dates = due_dates(payday=Payday(day=31), policy=DEFAULT, on=date(2026, 1, 20), count=4)
    # 31 Jan 2026 is a Saturday → Friday 30th; 28 Feb 2026 is a Saturday → Friday 27th.
    assert dates == (date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 31), date(2026, 4, 30))


def test_first_due_date_leaves_the_minimum_days():
    """A payday 3 days ahead is too soon with first_due_min_days 5: the next month's."""
    dates = due_dates(payday=Payday(day=5), policy=DEFAULT, on=date(2026, 3, 2), count=2)
    # 5 April 2026 is Easter Sunday and 3 April Good Friday: the 2nd; 5 May is Liberation Day
    # (a public holiday in vaarwater.law.calendar): the 4th.
    assert dates == (date(2026, 4, 2), date(2026, 5, 4))
    policy = ArrangementPolicy(first_due_min_days=0)
    assert due_dates(payday=Payday(day=5), policy=policy, on=ON, count=1) == (date(2026, 3, 5),)


def test_unknown_payday_uses_the_policy_default():
    """No payday known: the creditor's default day (25th unless set)."""
    assert due_dates(payday=Payday(), policy=DEFAULT, on=ON, count=1) == (date(2026, 3, 25),)
    policy = ArrangementPolicy(payday_default_day=15)
    assert due_dates(payday=Payday(), policy=policy, on=ON, count=1) == (
        date(2026, 3, 13),
    )  # Sunday 15th → Friday


def test_monthly_payday_from_an_anchor_only():
    """A monthly payday known only from one payment date uses that day of the month."""
    payday = Payday(anchor=date(2025, 11, 24))
    assert due_dates(payday=payday, policy=DEFAULT, on=ON, count=1) == (date(2026, 3, 24),)


def test_four_weekly_pay_one_due_date_per_calendar_month():
    """Four-weekly pay: the first payday of each calendar month."""
    payday = Payday(cycle="four_weekly", anchor=date(2026, 1, 2))
    dates = due_dates(payday=payday, policy=DEFAULT, on=date(2026, 3, 20), count=4)
    # Paydays: 27 Mar, 24 Apr, 22 May, 19 Jun, 17 Jul …
    assert dates == (date(2026, 3, 27), date(2026, 4, 24), date(2026, 5, 22), date(2026, 6, 19))
    payday = Payday(cycle="four_weekly", anchor=date(2026, 1, 1))
    dates = due_dates(payday=payday, policy=DEFAULT, on=date(2026, 1, 20), count=3)
    # 29 Jan; then 26 Feb is February's first; 26 Mar is March's first.
    assert dates == (date(2026, 1, 29), date(2026, 2, 26), date(2026, 3, 26))


def test_bad_payday_day():
    """A payday outside 1–31 is refused."""
    with pytest.raises(ProposalError, match="from 1 to 31"):
        payday_rule(Payday(day=32), DEFAULT)


def test_custom_plan_equal_instalments_and_smaller_last():
    """€50.00 a month on €260.00: five of €50.00 and €10.00 last."""
    option = custom_option(
        debt=Debt(26000, 0, 700),
        capacity_cents=6000,
        payday=Payday(day=25),
        policy=DEFAULT,
        on=ON,
        instalment_cents=5000,
    )
    assert option.kind == "custom"
    assert option.key == "custom-5000"
    assert option.amounts == (5000, 5000, 5000, 5000, 5000, 1000)
    assert option.waived_costs_cents == 700
    assert option_check(option, capacity_cents=6000, policy=DEFAULT) == []


def test_custom_plan_paying_everything_at_once():
    """An instalment at least the total is one payment, even under the smallest instalment."""
    option = custom_option(
        debt=Debt(1800, 0, 0),
        capacity_cents=6000,
        payday=Payday(day=25),
        policy=DEFAULT,
        on=ON,
        instalment_cents=2000,
    )
    assert option.amounts == (1800,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instalment_cents": 7000}, "€70.00 a month is more than the capacity of €60.00"),
        ({"instalment_cents": 2000}, "at least €25.00"),
        ({"instalment_cents": 0}, "more than zero"),
        ({"instalment_cents": 2600}, "takes 39 months; the longest plan is 12 months, so pay at"),
        ({"policy": ArrangementPolicy(allow_custom=False)}, "does not offer a plan with your own"),
    ],
)
def test_custom_plan_refused(kwargs, message):
    """A custom plan outside the capacity or the policy is refused with the reason."""
    args = {
        "debt": Debt(100000, 0, 0),
        "capacity_cents": 6000,
        "payday": Payday(day=25),
        "policy": DEFAULT,
        "on": ON,
        "instalment_cents": 5000,
        **kwargs,
    }
    with pytest.raises(ProposalError, match=message):
        custom_option(**args)


def test_option_check_on_an_edited_option():
    """An agent's edited option: every reason it breaks the capacity or the policy."""
    option = Option(
        kind="instalments",
        amounts=(50000, 1000) + (1000,) * 13,
        due_dates=tuple(date(2026, 1, 25) + timedelta(days=31 * n) for n in range(15)),
        total_cents=64000,
        waived_costs_cents=0,
        fits=True,
        reason="",
    )
    problems = option_check(option, capacity_cents=20000, policy=DEFAULT)
    assert problems == [
        "€500.00 is more than the capacity of €200.00 a month",
        "15 instalments is longer than the longest plan of 12 months",
        "an instalment of €10.00 is less than the smallest instalment of €25.00",
    ]
    assert option_check(option, capacity_cents=None, policy=DEFAULT)[0].startswith("15 inst")
    shuffled = replace(option, due_dates=tuple(reversed(option.due_dates)))
    assert "the due dates must follow each other" in option_check(
        shuffled, capacity_cents=None, policy=DEFAULT
    )


def test_a_plan_starting_long_after_the_first_payday_does_not_fit():
    """An agent's own plan starting in a year (a typo) does not fit the policy without a reason:
    the first payment may be at most a month after the policy's earliest first due date."""
    option = Option(
        kind="custom",
        amounts=(5000, 5000),
        due_dates=(date(2027, 3, 25), date(2027, 4, 25)),
        total_cents=10000,
        waived_costs_cents=0,
        fits=True,
        reason="",
    )
    problems = option_problems(option, capacity_cents=None, policy=DEFAULT, on=ON)
    assert [(p.code, p.get("days")) for p in problems] == [("late_start", 388)]
    assert option_check(option, capacity_cents=None, policy=DEFAULT) == []  # no day given
    soon = replace(option, due_dates=(date(2026, 4, 7), date(2026, 5, 7)))
    assert option_problems(soon, capacity_cents=None, policy=DEFAULT, on=ON) == []


# --- the property test ------------------------------------------------------------------------

cents = st.integers(min_value=1, max_value=5_000_000)  # 1 cent to €50,000


@st.composite
def policies(draw):
    max_months = draw(st.integers(1, 60))
    counts = draw(st.lists(st.integers(2, 60), max_size=5)) if max_months >= 2 else []
    return ArrangementPolicy(
        min_instalment=draw(st.sampled_from([0, 1, 1000, 2500, 5000, 20000])),
        max_months=max_months,
        counts=tuple(c for c in counts if c <= max_months),
        offer_full_on_payday=draw(st.booleans()),
        allow_custom=draw(st.booleans()),
        waive_costs_when_kept=draw(st.booleans()),
        first_due_min_days=draw(st.integers(0, 60)),
        payday_default_day=draw(st.integers(1, 31)),
    )


paydays = st.one_of(
    st.builds(Payday, day=st.integers(1, 31)),
    st.just(Payday()),
    st.builds(Payday, anchor=st.dates(date(2019, 1, 1), date(2030, 12, 31))),
    st.builds(
        Payday,
        cycle=st.just("four_weekly"),
        anchor=st.dates(date(2019, 1, 1), date(2030, 12, 31)),
    ),
)
debts = st.builds(
    Debt,
    principal_cents=cents,
    interest_cents=st.one_of(st.just(0), cents),
    costs_cents=st.one_of(st.just(0), cents),
)
capacities = st.one_of(
    st.integers(0, 10_000_000), st.integers(0, 30_000), st.sampled_from([0, 1, 2500])
)
days = st.dates(date(2020, 1, 1), date(2040, 12, 31))


def check_schedule(option: Option, *, debt, capacity, payday, policy, on):
    total, waived = covered(debt, policy)
    assert option.fits
    assert option_check(option, capacity_cents=capacity, policy=policy) == []
    # Never "starts too late": a payday-based first due date is within the policy's month.
    assert option_problems(option, capacity_cents=capacity, policy=policy, on=on) == []
    assert max(option.amounts) <= capacity
    assert min(option.amounts) > 0
    assert sum(option.amounts) == option.total_cents == total
    assert option.total_cents + option.waived_costs_cents == debt.total_cents
    assert option.waived_costs_cents == waived
    assert len(option.due_dates) == option.count
    assert option.due_dates[0] >= on + timedelta(days=policy.first_due_min_days)
    rule = payday_rule(payday, policy)
    for before, after in zip(option.due_dates, option.due_dates[1:], strict=False):
        assert before < after
        # A month apart (28-31 days), less a payday moved back over a weekend or holiday (at
        # most four days: Good Friday to Easter Monday).
        assert (after - before).days >= 24 if "day" in rule else after.month != before.month
    for due in option.due_dates:
        assert next_payday(due, **rule) == due
    if option.count > 1:
        assert option.count <= policy.max_months
        smallest = min(option.amounts[:-1] if option.kind == "custom" else option.amounts)
        assert smallest >= policy.min_instalment


def fitting_plans(total, capacity, policy) -> set[str]:
    """Every option that could be offered, by brute force."""
    found = set()
    if policy.offer_full_on_payday and total <= capacity:
        found.add("full")
    for n in range(2, policy.max_months + 1):
        if -(-total // n) <= capacity and total // n >= max(policy.min_instalment, 1):
            found.add(f"n{n}")
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(debt=debts, capacity=capacities, payday=paydays, policy=policies(), on=days)
def test_property_no_option_exceeds_capacity_and_schedules_sum_exactly(
    debt, capacity, payday, policy, on
):
    """No offered amount exceeds the capacity; every schedule sums exactly to what it covers."""
    options = proposals(debt=debt, capacity_cents=capacity, payday=payday, policy=policy, on=on)
    total, _ = covered(debt, policy)
    for option in options:
        check_schedule(option, debt=debt, capacity=capacity, payday=payday, policy=policy, on=on)
        if option.kind == "full_on_payday":
            assert policy.offer_full_on_payday
    assert len(options) <= 4
    assert len({o.key for o in options}) == len(options)
    possible = fitting_plans(total, capacity, policy)
    assert {o.key for o in options} <= possible
    # Nothing is held back: [] only when nothing fits, one option only when one is possible.
    assert len(options) >= min(2, len(possible))


@settings(max_examples=300, deadline=None)
@given(
    debt=debts,
    capacity=capacities,
    payday=paydays,
    policy=policies(),
    on=days,
    instalment=st.integers(1, 5_000_000),
)
def test_property_custom_plan_fits_or_is_refused(debt, capacity, payday, policy, on, instalment):
    """A custom plan is either refused or fits and sums exactly, its last instalment smaller."""
    try:
        option = custom_option(
            debt=debt,
            capacity_cents=capacity,
            payday=payday,
            policy=policy,
            on=on,
            instalment_cents=instalment,
        )
    except ProposalError:
        return
    check_schedule(option, debt=debt, capacity=capacity, payday=payday, policy=policy, on=on)
    assert policy.allow_custom
    assert option.amounts[:-1] == (instalment,) * (option.count - 1)
    assert option.amounts[-1] <= min(instalment, option.total_cents)


def test_a_payday_that_just_moved_back_over_a_weekend_is_not_a_late_start():
    """Payday the 5th, moved back to Friday 3 January 2020 (the 5th is a Sunday): agreed on
    Saturday the 4th, the first payday is 5 February, 32 days on: still a fitting start."""
    policy = ArrangementPolicy(first_due_min_days=0, payday_default_day=5)
    on = date(2020, 1, 4)
    dates = due_dates(payday=Payday(), policy=policy, on=on, count=2)
    assert dates[0] == date(2020, 2, 5)
    option = Option("instalments", (5000, 5000), dates, 10000, 0, True, "")
    assert option_problems(option, capacity_cents=None, policy=policy, on=on) == []
