"""Best channel and time: what earlier messages led to decides the channel of a ``best`` step,
and the decision says why."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from vaarwater.contact.learning import (
    Tally,
    choose,
    debtor_history,
    payments_attribute,
    response_record,
)
from vaarwater.contact.models import Message, MessageStatus
from vaarwater.ledger.models import ContactPoint
from vaarwater.ledger.services import payment_book
from vaarwater.strategy.models import Decision
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")

BEST = """
strategy: test
title: Beste kanaal
settings:
  grace_days: 3
  payday_window_days: 0
  contact_caps: {per_day: 1, per_week: 5}
segments:
  - name: alle
    label: Alle klanten
    path: standaard
paths:
  standaard:
    - {step: message, channel: best, template: herinnering, day: 5, after: due_date}
"""


def sent(debtor, channel, at, *, responded=None, key=None):
    return Message.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        channel=channel,
        template="herinnering",
        not_before=at,
        sent_at=at,
        status=MessageStatus.DELIVERED,
        responded_at=responded,
        idempotency_key=key or f"{channel}-{at.isoformat()}",
    )


def test_the_history_of_a_debtor_picks_channel_and_time(load_strategy, make_debtor):  # noqa: F811
    """Given a debtor who answered SMS in the evening and never email, when a ``best`` step
    comes, the message goes by SMS at 17:00 and the decision explains it with the counts."""
    load_strategy(BEST)
    debtor = make_debtor(due=date(2026, 10, 1))
    ContactPoint.objects.filter(debtor=debtor, kind="email").update(verified_at=None)
    for n in range(3):
        at = datetime(2026, 8, 3 + n * 7, 18, 30, tzinfo=AMS)
        sent(debtor, "sms", at, responded=at + timedelta(hours=2) if n < 2 else None)
        sent(debtor, "email", datetime(2026, 8, 4 + n * 7, 9, 0, tzinfo=AMS))
    daily_run(run_date=date(2026, 10, 4))
    daily_run(run_date=date(2026, 10, 6))
    message = Message.objects.get(case__isnull=False)
    assert message.channel == "sms"
    assert message.not_before.astimezone(AMS).time() == time(17, 0)
    decision = Decision.objects.get(case=message.case, step_kind="message")
    assert "beste kanaal: sms 's avonds: 2 van 3 berichten leidden tot een reactie" in (
        decision.reason
    )
    assert message.why.startswith("beste kanaal: sms 's avonds")


def test_the_debtors_stated_preference_wins_over_what_was_learned(
    load_strategy,
    make_debtor,  # noqa: F811
):
    """Given the same history (SMS in the evening works) but the debtor said in the portal
    'email, in the morning', the best step sends an email in the morning, and says why."""
    load_strategy(BEST)
    debtor = make_debtor(due=date(2026, 10, 1))
    for n in range(3):
        at = datetime(2026, 8, 3 + n * 7, 18, 30, tzinfo=AMS)
        sent(debtor, "sms", at, responded=at + timedelta(hours=2))
    debtor.preferred_channel, debtor.preferred_time = "email", "morning"
    debtor.save()
    daily_run(run_date=date(2026, 10, 4))
    daily_run(run_date=date(2026, 10, 6))
    message = Message.objects.get(case__isnull=False)
    assert message.channel == "email"
    assert message.not_before.astimezone(AMS).time() == time(8, 0)
    assert message.why == "voorkeur van de klant (opgegeven in het portaal): e-mail 's ochtends"


def test_a_preference_that_cannot_be_used_is_ignored():
    """An unreachable preferred channel or a band outside the contact hours falls back to the
    learned choice."""
    history = {("sms", "evening"): Tally(3, 2)}
    choice = choose(
        history=history, priors={}, segment=None, reachable={"email", "sms"},
        order=("email", "sms"), hours=("08:00", "17:00"), preferred=("whatsapp", "evening"),
    )  # fmt: skip
    assert choice.why.startswith("beste kanaal:")
    only_band = choose(
        history=history, priors={}, segment=None, reachable={"email", "sms"},
        order=("email", "sms"), preferred=("", "afternoon"),
    )  # fmt: skip
    # Only the afternoon: SMS has no afternoon history, so the strategy's order decides.
    assert (only_band.channel, only_band.band) == ("email", "afternoon")
    assert only_band.why == "voorkeur van de klant (opgegeven in het portaal): e-mail 's middags"


def test_without_history_the_segment_prior_and_then_the_order_decide():
    order = ("email", "sms", "whatsapp", "letter")
    none = choose(history={}, priors={}, segment=None, reachable={"sms", "email"}, order=order)
    assert (none.channel, none.band) == ("email", "morning")
    assert "nog geen historie: volgorde van de strategie" in none.why
    priors = {
        ("jong", "whatsapp", "evening"): Tally(100, 60),
        (None, "email", "morning"): Tally(100, 10),
    }
    chosen = choose(
        history={}, priors=priors, segment="jong", reachable={"email", "whatsapp"}, order=order
    )
    assert (chosen.channel, chosen.band) == ("whatsapp", "evening")
    assert "segment: 60 van 100 berichten kregen een reactie" in chosen.why


def test_own_history_outweighs_a_weak_prior():
    priors = {
        (None, "email", "morning"): Tally(1000, 300),
        (None, "sms", "morning"): Tally(1000, 200),
    }
    history = {("email", "morning"): Tally(6, 0)}
    chosen = choose(
        history=history,
        priors=priors,
        segment=None,
        reachable={"email", "sms"},
        order=("email", "sms"),
        hours=("08:00", "12:00"),
    )
    assert chosen.channel == "sms"


def test_a_response_goes_to_the_newest_message_before_it_once(make_debtor):  # noqa: F811
    debtor = make_debtor()
    first = sent(debtor, "email", datetime(2026, 11, 2, 9, 0, tzinfo=AMS))
    second = sent(debtor, "sms", datetime(2026, 11, 3, 18, 0, tzinfo=AMS))
    at = datetime(2026, 11, 4, 10, 0, tzinfo=AMS)
    assert response_record(debtor_id=debtor.pk, kind="link", at=at) == 1
    assert response_record(debtor_id=debtor.pk, kind="payment", at=at) == 0
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.response_kind, first.responded_at) == ("link", None)
    too_late = datetime(2026, 11, 20, 10, 0, tzinfo=AMS)
    assert response_record(debtor_id=debtor.pk, kind="reply", at=too_late) == 0


def test_a_payment_counts_as_a_response_and_only_known_outcomes_count(make_debtor):  # noqa: F811
    debtor = make_debtor()
    message = sent(debtor, "sms", datetime(2026, 11, 2, 18, 0, tzinfo=AMS))
    payment_book(debtor=debtor, amount_cents=5000, date=date(2026, 11, 3), external_id="B1")
    assert payments_attribute(on=date(2026, 11, 3)) == 1
    message.refresh_from_db()
    assert message.response_kind == "payment"
    sent(debtor, "email", datetime(2026, 11, 10, 9, 0, tzinfo=AMS))
    history = debtor_history([debtor.pk], now=datetime(2026, 11, 11, 9, 0, tzinfo=AMS))
    assert history[debtor.pk][("sms", "evening")] == Tally(1, 1)
    assert ("email", "morning") not in history[debtor.pk]  # too recent to know


def test_the_daily_run_does_not_plan_a_channel_the_debtor_opted_out_of(
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
):
    from vaarwater.contact.models import OptOut

    load_strategy()  # BASIC: an email reminder on day 5
    debtor = make_debtor(due=date(2026, 10, 1))
    OptOut.objects.create(
        creditor=debtor.creditor,
        debtor=debtor,
        channel="email",
        source="portal",
        since=datetime(2026, 9, 1, tzinfo=AMS),
    )
    daily_run(run_date=date(2026, 10, 4))
    daily_run(run_date=date(2026, 10, 6))
    message = Message.objects.get(debtor=debtor)
    assert message.channel == "letter"
    decision = Decision.objects.get(case=message.case, step_kind="message")
    assert "e-mail niet bereikbaar, daarom brief" in decision.reason
