"""Reads of cases for people: what the strategy will do next, and when."""

from dataclasses import dataclass
from datetime import date, timedelta

from .documents import version_strategy
from .models import Case, CaseStatus, Hold, LegalNotice


@dataclass(frozen=True)
class NextStep:
    """The step a case waits for, the day it is due, and the hold that delays it (if any)."""

    step: object  # a validated step of the strategy schema (``.step`` is its kind)
    due: date
    hold: Hold | None


def step_due(case: Case, step, notice_term_ends: date | None) -> tuple[date, date]:
    """(anchor, due day) of a path step: days after the oldest due date or the previous step;
    costs never before the day after the 14-day letter's term."""
    anchor = case.anchor_due if step.after == "due_date" else (case.last_step_on or case.opened_on)
    due = anchor + timedelta(days=step.day)
    if step.step == "charge_costs" and notice_term_ends is not None:
        due = max(due, notice_term_ends + timedelta(days=1))
    return anchor, due


def case_next_step(case: Case, *, today: date) -> NextStep | None:
    """The case's next step and its day as the daily run computes it; None at the path's end
    or for a closed case. A held case's step waits at least until the day after the hold."""
    if case.status == CaseStatus.CLOSED or case.strategy_version_id is None:
        return None
    strategy = version_strategy(case.strategy_version)
    try:
        steps = strategy.path_steps(case.path, case.variant)
    except KeyError:
        return None
    if case.step_index >= len(steps):
        return None
    step = steps[case.step_index]
    notice = LegalNotice.objects.filter(case=case).first() if step.step == "charge_costs" else None
    _, due = step_due(case, step, notice.term_ends_on if notice is not None else None)
    hold = case.holds.filter(released_on__isnull=True, until__gte=today).order_by("-until").first()
    if hold is not None:
        due = max(due, hold.until + timedelta(days=1))
    return NextStep(step=step, due=max(due, today), hold=hold)
