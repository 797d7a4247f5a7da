"""``case_timeline``: which events belong to a case, and in which order."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone, translation

from vaarwater.strategy.models import CaseStatus
from vaarwater.workspace.timeline import case_timeline, verb_label

from .factories import case_create, event_create, version_create

pytestmark = pytest.mark.django_db


def test_closed_case_ends_on_its_closing_day(creditor):
    """Events after a closed case's closing day belong to no timeline of that case."""
    today = timezone.localdate()
    opened, closed = today - timedelta(days=30), today - timedelta(days=10)
    case = case_create(
        version_create(creditor),
        opened_on=opened,
        status=CaseStatus.CLOSED,
        closed_on=closed,
        close_reason="paid",
    )
    first = event_create(case.debtor, "case.opened", "open", on=opened)
    same_day = event_create(case.debtor, "payment.booked", "paid", on=closed)
    last = event_create(case.debtor, "case.closed", "closed", on=closed)
    event_create(case.debtor, "invoice.created", "later", on=closed + timedelta(days=1))
    timeline = list(case_timeline(case))
    assert [e.pk for e in timeline] == [last.pk, same_day.pk, first.pk]
    assert timeline[0].day == closed


def test_an_open_case_shows_events_dated_after_today(creditor):
    """Days run ahead (``run-day --date`` in a demo or a catch-up) date a plan's missed
    instalment or breach after today: an open case's timeline shows them, it does not stop at
    today."""
    case = case_create(version_create(creditor))
    ahead = event_create(
        case.debtor, "instalment.missed", "termijn 1 gemist", on=timezone.localdate() + timedelta(9)
    )
    assert [e.pk for e in case_timeline(case)] == [ahead.pk]


def test_day_falls_back_to_amsterdam_date(creditor):
    """Without occurred_on, an event's day is its creation date in Europe/Amsterdam."""
    case = case_create(version_create(creditor))
    created = datetime.combine(case.opened_on, time(23, 30), tzinfo=UTC)
    event = event_create(case.debtor, "portal.visited", "", created_at=created)
    (found,) = case_timeline(case)
    assert found.pk == event.pk
    assert found.day == case.opened_on + timedelta(days=1)


def test_occurred_on_wins_over_created_at(creditor):
    """occurred_on (the run's business day) decides the order, not the clock."""
    case = case_create(version_create(creditor))
    older_day = event_create(case.debtor, "decision.made", "", on=case.opened_on)
    newer_day = event_create(case.debtor, "decision.made", "", on=case.opened_on + timedelta(2))
    backdated = event_create(case.debtor, "decision.made", "", on=case.opened_on + timedelta(1))
    assert [e.pk for e in case_timeline(case)] == [newer_day.pk, backdated.pk, older_day.pk]


def test_verb_label():
    """Known verbs read as a label in the active language; others are shown as they are."""
    with translation.override("en"):
        assert verb_label("decision.made") == "Decision by the daily run"
    with translation.override("nl"):
        assert verb_label("decision.made") == "Beslissing van de dagelijkse run"
        assert verb_label("something.new") == "something.new"
