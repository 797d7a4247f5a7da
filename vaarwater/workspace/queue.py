"""The call queue: which customer an agent should call next, and why (issue 7, part 2).

Owned by the queue helper; see the module docstring it will get for the ordering rules."""

from datetime import datetime


def attempt_finished(*, task, attempt, now: datetime) -> None:
    """Book a finished attempt on its task: count it, release the claim, set when the next
    attempt may be made (spread over bands and days, the creditor's ``calls`` policy), and
    close the task when it is done or its attempts are used up. Called by
    ``calls.call_outcome_record`` inside its transaction, with the task row locked."""
    raise NotImplementedError
