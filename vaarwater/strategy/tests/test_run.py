"""The daily run against Dutch law and the strategy's rules, on hand-made debtors."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from vaarwater.contact.models import CallTask, Message
from vaarwater.core.models import Event
from vaarwater.ledger.models import EntryKind, LedgerEntry
from vaarwater.ledger.services import payment_book
from vaarwater.strategy.models import (
    Case,
    CaseStatus,
    CaseTransition,
    CostCharge,
    Decision,
    Handover,
    Hold,
    LegalNotice,
    MunicipalSignal,
)
from vaarwater.strategy.run import daily_run, variant_draw, variant_for
from vaarwater.strategy.schema import document_parse
from vaarwater.strategy.services import CaseError, hold_place

TZ = ZoneInfo("Europe/Amsterdam")


def run_days(start: date, end: date):
    day = start
    while day <= end:
        daily_run(run_date=day)
        day += timedelta(days=1)


def decisions(debtor):
    return list(Decision.objects.filter(debtor_id=debtor.pk).order_by("run_date", "id"))


def test_case_opens_after_grace_and_follows_path(load_strategy, make_debtor):
    load_strategy()
    debtor = make_debtor(due=date(2026, 10, 1))
    daily_run(run_date=date(2026, 10, 4))  # 3 days late: still within the grace period
    assert not Case.objects.exists()
    daily_run(run_date=date(2026, 10, 5))
    case = Case.objects.get()
    assert case.status == CaseStatus.OPEN
    assert (case.segment, case.path, case.anchor_due) == ("alle", "standaard", date(2026, 10, 1))
    opened = CaseTransition.objects.get(case=case)
    assert (opened.from_status, opened.to_status, opened.code) == ("", "open", "opened")
    run_days(date(2026, 10, 6), date(2026, 10, 6))
    first = decisions(debtor)[0]
    assert first.run_date == date(2026, 10, 6)  # day 5 after the due date
    assert first.reason.startswith(
        "strategie test v1, segment 'Alle klanten', stap 1: bericht, 5 dagen na vervaldatum"
    )
    message = Message.objects.get(case=case)
    assert (message.channel, message.template) == ("email", "herinnering")
    event = Event.objects.get(verb="decision.made", debtor=debtor)
    assert event.reason == first.reason and event.occurred_on == date(2026, 10, 6)


def test_one_open_case_per_debtor_new_items_join(load_strategy, make_debtor, creditor):
    from vaarwater.ledger.services import invoice_create

    load_strategy()
    debtor = make_debtor(due=date(2026, 10, 1))
    daily_run(run_date=date(2026, 10, 5))
    invoice_create(
        debtor=debtor,
        external_id="LATER",
        issue_date=date(2026, 10, 20),
        due_date=date(2026, 11, 1),
        amount_cents=5000,
    )
    run_days(date(2026, 10, 6), date(2026, 11, 10))
    assert Case.objects.filter(debtor=debtor).count() == 1


def test_no_costs_before_term_ends_and_exactly_once(load_strategy, make_debtor):
    load_strategy()
    make_debtor(due=date(2026, 10, 1))
    run_days(date(2026, 10, 5), date(2026, 10, 13))
    notice = LegalNotice.objects.get()
    assert notice.sent_on == date(2026, 10, 13)  # a Tuesday: 7 days after the reminder
    assert notice.receipt_on == date(2026, 10, 15)  # two business days for post
    # Fourteen days from the day after receipt: 16 up to and including 29 October.
    assert notice.term_ends_on == date(2026, 10, 29)
    assert notice.costs_cents == 4000
    assert "te rekenen vanaf de dag na ontvangst" in notice.wording
    letter = Message.objects.get(template="veertiendagenbrief")
    assert letter.context["costs_cents"] == 4000
    run_days(date(2026, 10, 14), date(2026, 10, 29))
    assert not LedgerEntry.objects.filter(kind=EntryKind.COST).exists()
    daily_run(run_date=date(2026, 10, 30))
    cost = LedgerEntry.objects.get(kind=EntryKind.COST)
    assert cost.amount_cents == 4000 and cost.booked_on == date(2026, 10, 30)
    assert CostCharge.objects.get().entry == cost
    daily_run(run_date=date(2026, 10, 30))  # a rerun of the day changes nothing
    run_days(date(2026, 10, 31), date(2026, 12, 31))
    assert LedgerEntry.objects.filter(kind=EntryKind.COST).count() == 1


def test_term_ending_on_a_weekend_runs_to_the_next_business_day(load_strategy, make_debtor):
    load_strategy()
    make_debtor(due=date(2026, 10, 2))
    run_days(date(2026, 10, 6), date(2026, 10, 16))
    notice = LegalNotice.objects.get()
    # sent Wed 14 Oct, received Fri 16 Oct; day 14 is Fri 30 Oct.
    assert notice.sent_on == date(2026, 10, 14)
    assert notice.term_ends_on == date(2026, 10, 30)
    make_letter_end = notice.receipt_on + timedelta(days=14)
    assert notice.term_ends_on >= make_letter_end


def test_paid_within_term_means_no_costs_and_case_closes(load_strategy, make_debtor):
    load_strategy()
    debtor = make_debtor(due=date(2026, 10, 1))
    run_days(date(2026, 10, 5), date(2026, 10, 20))
    payment_book(debtor=debtor, external_id="P1", date=date(2026, 10, 21), amount_cents=10000)
    run_days(date(2026, 10, 21), date(2026, 11, 30))
    assert not LedgerEntry.objects.filter(kind=EntryKind.COST).exists()
    case = Case.objects.get()
    assert (case.status, case.close_reason, case.closed_on) == (
        "closed",
        "paid",
        date(2026, 10, 21),
    )


NO_LETTER_POSSIBLE = """
strategy: geen-brief
title: Zonder adres
settings: {grace_days: 0, payday_window_days: 0}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: fourteen_day_letter, channel: letter, day: 1, after: due_date}
    - {step: charge_costs}
"""


def test_costs_never_without_a_letter(load_strategy, make_debtor):
    load_strategy(NO_LETTER_POSSIBLE)
    debtor = make_debtor(due=date(2026, 10, 1), street="", email=False)
    run_days(date(2026, 10, 2), date(2026, 11, 30))
    kinds = [(d.step_kind, d.outcome) for d in decisions(debtor)]
    assert kinds == [("fourteen_day_letter", "skipped"), ("charge_costs", "skipped")]
    assert "geen veertiendagenbrief" in decisions(debtor)[1].reason
    assert not LedgerEntry.objects.filter(kind=EntryKind.COST).exists()


def test_costs_with_vat_when_creditor_cannot_reclaim(load_strategy, make_debtor, creditor):
    creditor.can_reclaim_vat = False
    creditor.save()
    load_strategy()
    make_debtor(amount=100000, due=date(2026, 10, 1))  # € 1,000: € 150 + 21% VAT
    run_days(date(2026, 10, 5), date(2026, 10, 30))
    notice = LegalNotice.objects.get()
    assert (notice.costs_cents, notice.vat_cents) == (18150, 3150)
    assert LedgerEntry.objects.get(kind=EntryKind.COST).amount_cents == 18150


def test_wki_cap_for_small_monthly_claims(load_strategy, make_debtor, creditor):
    from vaarwater.ledger.services import charge_book

    load_strategy()
    debtor = make_debtor(amount=20000, due=date(2026, 10, 1))
    invoice = debtor.invoices.get()
    charge_book(
        invoice=invoice,
        kind=EntryKind.COST,
        amount_cents=12000,
        booked_on=date(2026, 9, 1),
        reason="earlier costs",
    )
    run_days(date(2026, 10, 5), date(2026, 10, 13))
    # € 40 WIK, but € 120 was charged in the last six months: € 20 room under € 140.
    assert LegalNotice.objects.get().costs_cents == 2000


def test_partial_payment_does_not_raise_costs_above_the_letter(load_strategy, make_debtor):
    load_strategy()
    debtor = make_debtor(amount=300000, due=date(2026, 10, 1))  # € 3,000: € 425
    run_days(date(2026, 10, 5), date(2026, 10, 20))
    assert LegalNotice.objects.get().costs_cents == 42500
    payment_book(debtor=debtor, external_id="P1", date=date(2026, 10, 21), amount_cents=100000)
    run_days(date(2026, 10, 21), date(2026, 10, 30))
    # € 2,000 left: € 300 by the staffel, which is less than the letter's € 425.
    assert LedgerEntry.objects.get(kind=EntryKind.COST).amount_cents == 30000


def test_quiet_hours_in_planned_moments(load_strategy, make_debtor):
    load_strategy(
        BASIC_AT := """
strategy: laat
title: Laat op de avond
settings: {grace_days: 0, payday_window_days: 0, contact_hours: {start: "09:00", end: "20:00"}}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: sms, template: herinnering, day: 1, after: due_date, at: "06:00"}
    - {step: call_task, day: 1, start: "07:00", end: "20:00"}
"""
    )
    assert BASIC_AT
    make_debtor(due=date(2026, 10, 5))
    run_days(date(2026, 10, 6), date(2026, 10, 8))
    sms = Message.objects.get()
    local = sms.not_before.astimezone(TZ)
    assert (local.hour, local.minute) == (9, 0)
    call = CallTask.objects.get()
    assert call.window_start.astimezone(TZ).hour == 9
    assert call.window_end.astimezone(TZ).hour == 20


def test_no_contact_on_sundays_or_holidays(load_strategy, make_debtor):
    load_strategy(
        """
strategy: feest
title: Feestdagen
settings: {grace_days: 0, payday_window_days: 0}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: email, template: herinnering, day: 1, after: due_date}
    - {step: message, channel: email, template: aanmaning, day: 0}
"""
    )
    debtor = make_debtor(due=date(2026, 12, 24))  # due Thursday; day 1 is Christmas
    run_days(date(2026, 12, 25), date(2026, 12, 29))
    days = [d.run_date for d in decisions(debtor)]
    # 25 and 26 Dec are holidays, 27 Dec a Sunday: the reminder goes on Monday 28 Dec,
    # and the next step (the daily cap of 1) on Tuesday.
    assert days == [date(2026, 12, 28), date(2026, 12, 29)]
    for message in Message.objects.all():
        local = message.not_before.astimezone(TZ)
        assert local.weekday() != 6 and 7 <= local.hour < 20


def test_contact_caps_per_day_and_week(load_strategy, make_debtor):
    load_strategy(
        """
strategy: veel
title: Veel berichten
settings: {grace_days: 0, payday_window_days: 0, contact_caps: {per_day: 1, per_week: 2}}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: email, template: herinnering, day: 1, after: due_date}
    - {step: message, channel: sms, template: herinnering, day: 0}
    - {step: message, channel: email, template: aanmaning, day: 0}
"""
    )
    debtor = make_debtor(due=date(2026, 10, 4))  # Sunday; day 1 is Monday 5 Oct
    run_days(date(2026, 10, 5), date(2026, 10, 20))
    done = [(d.run_date, d.outcome) for d in decisions(debtor)]
    assert done[0] == (date(2026, 10, 5), "done")
    assert done[1] == (date(2026, 10, 6), "done")  # not the same day: one per day
    assert done[2] == (date(2026, 10, 7), "deferred")  # two in seven days: the week is full
    assert "maximum 2 per week" in decisions(debtor)[2].reason
    assert done[3] == (date(2026, 10, 12), "done")  # 5 Oct has left the 7-day window
    per_day = {}
    for message in Message.objects.all():
        day = message.not_before.astimezone(TZ).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert max(per_day.values()) == 1


PAYDAY = """
strategy: betaaldag
title: Betaaldag
settings: {grace_days: 0, payday_window_days: 5}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: email, template: herinnering, day: 1, after: due_date}
"""


def test_payday_shift(load_strategy, make_debtor):
    load_strategy(PAYDAY)
    debtor = make_debtor(due=date(2026, 11, 19), payday_day=25)
    run_days(date(2026, 11, 20), date(2026, 11, 30))
    rows = decisions(debtor)
    # Friday 20 Nov is 5 days before payday (Wednesday 25th): the demand waits until the
    # day after payday, then goes out.
    assert [(d.run_date, d.outcome) for d in rows] == [
        (date(2026, 11, 20), "deferred"),
        (date(2026, 11, 26), "done"),
    ]
    assert "na de betaaldag 25-11-2026" in rows[0].reason
    sent = Message.objects.get().not_before.astimezone(TZ).date()
    assert sent == date(2026, 11, 26)


def test_no_payday_shift_without_a_known_payday(load_strategy, make_debtor):
    load_strategy(PAYDAY)
    debtor = make_debtor(due=date(2026, 11, 19))
    run_days(date(2026, 11, 20), date(2026, 11, 20))
    assert [d.outcome for d in decisions(debtor)] == ["done"]


def test_hold_skips_case_and_expiry_resumes_it(load_strategy, make_debtor):
    load_strategy()
    debtor = make_debtor(due=date(2026, 10, 1))
    daily_run(run_date=date(2026, 10, 5))
    case = Case.objects.get()
    hold_place(
        case=case,
        kind="dispute",
        reason="klant betwist de factuur",
        until=date(2026, 10, 20),
        on=date(2026, 10, 5),
    )
    run_days(date(2026, 10, 6), date(2026, 10, 20))
    assert decisions(debtor) == []
    case.refresh_from_db()
    assert case.status == CaseStatus.HELD
    daily_run(run_date=date(2026, 10, 21))
    case.refresh_from_db()
    hold = Hold.objects.get()
    assert hold.released_on == date(2026, 10, 21)
    assert case.status == CaseStatus.OPEN
    assert [d.run_date for d in decisions(debtor)] == [date(2026, 10, 21)]
    codes = list(CaseTransition.objects.filter(case=case).values_list("code", flat=True))
    assert codes == ["opened", "hold", "hold_ended"]
    assert Event.objects.filter(verb="hold.ended", debtor=debtor).exists()


def test_hold_needs_reason_and_future_until(load_strategy, make_debtor):
    load_strategy()
    make_debtor(due=date(2026, 10, 1))
    daily_run(run_date=date(2026, 10, 5))
    case = Case.objects.get()
    with pytest.raises(CaseError, match="reason"):
        hold_place(case=case, kind="manual", reason=" ", until=date(2026, 11, 1))
    with pytest.raises(CaseError, match="kind"):
        hold_place(case=case, kind="holiday", reason="x", until=date(2026, 11, 1))
    with pytest.raises(CaseError, match="before"):
        hold_place(
            case=case, kind="manual", reason="x", until=date(2026, 10, 1), on=date(2026, 10, 5)
        )


def test_state_machine_refuses_unknown_transitions():
    from vaarwater.strategy.services import transition_check

    transition_check("open", "held", "hold")
    with pytest.raises(CaseError, match="cannot go from closed"):
        transition_check("closed", "open", "opened")
    with pytest.raises(CaseError, match="not a reason"):
        transition_check("held", "closed", "handed_over")


def test_challenger_share_within_two_points_at_10000_cases():
    strategy = document_parse(
        """
strategy: cc
title: cc
segments: [{name: alle, label: Alle, path: p}]
paths: {p: [{step: close, reason: klaar}]}
challengers: [{name: sms-eerst, share: 20, paths: {p: [{step: close, reason: anders}]}}]
"""
    )
    opened = date(2026, 11, 23)
    variants = [variant_for(strategy, variant_draw("cc", i, opened)) for i in range(1, 10001)]
    share = variants.count("sms-eerst") / len(variants) * 100
    assert abs(share - 20) <= 2
    # Stable: the same case gets the same variant again.
    assert variants[:50] == [
        variant_for(strategy, variant_draw("cc", i, opened)) for i in range(1, 51)
    ]


def test_challenger_is_recorded_on_the_case(load_strategy, make_debtor):
    load_strategy(
        """
strategy: cc
title: cc
settings: {grace_days: 0, payday_window_days: 0}
segments: [{name: alle, label: Alle, path: p}]
paths: {p: [{step: message, channel: email, template: herinnering, day: 1, after: due_date}]}
challengers:
  - name: sms-eerst
    share: 50
    paths:
      p: [{step: message, channel: sms, template: herinnering, day: 1, after: due_date}]
"""
    )
    for _ in range(40):
        make_debtor(due=date(2026, 10, 5))
    run_days(date(2026, 10, 6), date(2026, 10, 6))
    cases = list(Case.objects.all())
    assert {c.variant for c in cases} == {"champion", "sms-eerst"}
    for case in cases:
        decision = Decision.objects.get(case=case)
        assert decision.variant == case.variant
        assert decision.channel == ("sms" if case.variant == "sms-eerst" else "email")
        assert case.variant_draw == variant_draw("cc", case.debtor_id, case.opened_on)


SEGMENTS = """
strategy: seg
title: Segmenten
settings: {grace_days: 0, payday_window_days: 0}
segments:
  - {name: kwetsbaar, label: Kwetsbaar, path: zacht, when: {vulnerable: true}}
  - {name: groot, label: Groot bedrag, path: hard, when: {balance_min: "1000", open_items_min: 2}}
  - {name: geen-mail, label: Geen e-mail, path: zacht, when: {unreachable: [email]}}
  - {name: herhaal, label: Herhaling, path: hard, when: {first_time: false}}
  - {name: rest, label: Overig, path: hard}
paths:
  zacht: [{step: call_task, day: 1, after: due_date}]
  hard: [{step: message, channel: email, template: aanmaning, day: 1, after: due_date}]
"""


def test_first_matching_segment_picks_the_path(load_strategy, make_debtor):
    load_strategy(SEGMENTS)
    vulnerable = make_debtor(due=date(2026, 10, 5), vulnerable=True, amount=200000, invoices=2)
    big = make_debtor(due=date(2026, 10, 5), amount=60000, invoices=2)
    small = make_debtor(due=date(2026, 10, 5), amount=60000)
    no_mail = make_debtor(due=date(2026, 10, 5), email=False)
    daily_run(run_date=date(2026, 10, 6))
    segment = {c.debtor_id: (c.segment, c.path) for c in Case.objects.all()}
    assert segment[vulnerable.pk] == ("kwetsbaar", "zacht")
    assert segment[big.pk] == ("groot", "hard")
    assert segment[small.pk] == ("rest", "hard")
    assert segment[no_mail.pk] == ("geen-mail", "zacht")


def test_repeat_late_payer_segment(load_strategy, make_debtor):
    from vaarwater.ledger.services import invoice_create

    load_strategy(SEGMENTS)
    debtor = make_debtor(due=date(2026, 10, 5), amount=5000)
    daily_run(run_date=date(2026, 10, 6))
    assert Case.objects.get().segment == "rest"
    payment_book(debtor=debtor, external_id="P1", date=date(2026, 10, 7), amount_cents=5000)
    daily_run(run_date=date(2026, 10, 7))
    invoice_create(
        debtor=debtor,
        external_id="NEXT",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 11, 5),
        amount_cents=5000,
    )
    daily_run(run_date=date(2026, 11, 6))
    assert Case.objects.get(status="open").segment == "herhaal"


def test_best_channel_and_fallback(load_strategy, make_debtor):
    load_strategy(
        """
strategy: best
title: Beste kanaal
settings: {grace_days: 0, payday_window_days: 0, best_channel_order: [whatsapp, sms, email]}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: best, template: herinnering, day: 1, after: due_date}
"""
    )
    with_phone = make_debtor(due=date(2026, 10, 5))
    landline = make_debtor(due=date(2026, 10, 5), phone="+31301234567")
    daily_run(run_date=date(2026, 10, 6))
    assert Decision.objects.get(debtor_id=with_phone.pk).channel == "sms"
    assert "beste kanaal: sms" in Decision.objects.get(debtor_id=with_phone.pk).reason
    assert Decision.objects.get(debtor_id=landline.pk).channel == "email"


SIGNAL = """
strategy: signaal
title: Signaal
settings: {grace_days: 0, payday_window_days: 0, contact_caps: {per_day: 1, per_week: 7}}
segments: [{name: alle, label: Alle, path: p}, ]
paths:
  p:
    - {step: message, channel: letter, template: herinnering, day: 1, after: due_date}
    - {step: call_task, day: 1}
    - step: message
      channel: email
      template: schuldhulp-verwijzing
      purpose: debt_help_referral
      day: 1
    - step: municipal_signal
      day: 1
      requires: {written_reminders: 2, personal_contact_attempts: 1, contact_channels: 2}
    - {step: message, channel: letter, template: aanmaning, day: 14}
    - step: municipal_signal
      day: 1
      requires:
        written_reminders: 2
        reminder_spacing_days: 14
        personal_contact_attempts: 1
        contact_channels: 2
"""


def test_municipal_signal_only_when_requirements_met(load_strategy, make_debtor):
    load_strategy(SIGNAL)
    debtor = make_debtor(due=date(2026, 10, 1))
    run_days(date(2026, 10, 2), date(2026, 11, 15))
    rows = [(d.step_kind, d.outcome) for d in decisions(debtor)]
    assert rows[3] == ("municipal_signal", "skipped")
    assert "1 van 2 schriftelijke herinneringen" in decisions(debtor)[3].reason
    assert rows[5] == ("municipal_signal", "done")
    signal = MunicipalSignal.objects.get()
    assert signal.payload["customer_number"] == debtor.external_id
    assert signal.arrears_cents == 10000
    assert not any("bsn" in key.lower() for key in signal.payload)


def test_hand_over_writes_export_and_closes(load_strategy, make_debtor, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    load_strategy(
        """
strategy: over
title: Overdracht
settings: {grace_days: 0, payday_window_days: 0}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: hand_over, to: agency, party: Incasso BV, day: 30, after: due_date}
"""
    )
    debtor = make_debtor(due=date(2026, 10, 1))
    run_days(date(2026, 10, 2), date(2026, 11, 2))
    handover = Handover.objects.get()
    case = Case.objects.get()
    assert (case.status, case.close_reason) == ("closed", "handed_over")
    with open(handover.file, encoding="utf-8") as handle:
        export = json.load(handle)
    assert export["case"]["reference"] == case.reference
    assert export["debtor"]["external_id"] == debtor.external_id
    assert export["balance_cents"] == 10000


def test_pause_step_and_wait_reply(load_strategy, make_debtor):
    load_strategy(
        """
strategy: wacht
title: Wachten
settings: {grace_days: 0, payday_window_days: 0}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: pause, days: 5, reason: even wachten, day: 1, after: due_date}
    - {step: wait_reply, days: 3}
    - {step: close, reason: klaar}
"""
    )
    debtor = make_debtor(due=date(2026, 10, 1))
    run_days(date(2026, 10, 2), date(2026, 10, 20))
    rows = [(d.run_date, d.step_kind, d.outcome) for d in decisions(debtor)]
    assert rows == [
        (date(2026, 10, 2), "pause", "done"),
        (date(2026, 10, 7), "wait_reply", "deferred"),  # hold 2-6 Oct ended
        (date(2026, 10, 10), "wait_reply", "done"),
        (date(2026, 10, 11), "close", "done"),
    ]
    assert Case.objects.get().close_reason == "strategy"


def test_statutory_interest_is_booked_and_topped_up(load_strategy, make_debtor):
    load_strategy(
        """
strategy: rente
title: Rente
settings: {grace_days: 0, payday_window_days: 0}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: start_interest, day: 1, after: due_date}
"""
    )
    make_debtor(amount=1000000, due=date(2026, 1, 1))
    daily_run(run_date=date(2026, 1, 2))
    daily_run(run_date=date(2026, 7, 2))
    daily_run(run_date=date(2026, 8, 1))
    booked = sum(e.amount_cents for e in LedgerEntry.objects.filter(kind=EntryKind.INTEREST))
    from vaarwater.law import statutory_interest

    expected = statutory_interest(Decimal("10000.00"), start=date(2026, 1, 2), end=date(2026, 8, 1))
    assert booked == int(expected * 100)


def test_decision_points_at_the_version_that_made_it(load_strategy, make_debtor):
    load_strategy()
    debtor = make_debtor(due=date(2026, 10, 1))
    run_days(date(2026, 10, 5), date(2026, 10, 6))
    v2 = load_strategy(valid_from=date(2026, 10, 7))
    run_days(date(2026, 10, 7), date(2026, 10, 13))
    versions = {d.strategy_version.number for d in decisions(debtor)}
    assert versions == {1}  # the open case stays on the version it was opened under
    assert v2.number == 2
    other = make_debtor(due=date(2026, 10, 10))
    daily_run(run_date=date(2026, 10, 14))
    assert Case.objects.get(debtor=other).strategy_version == v2


def test_new_creditor_starts_on_the_shipped_strategy_for_its_sector(creditor, make_debtor):
    make_debtor(due=date(2026, 10, 1))
    daily_run(run_date=date(2026, 10, 20))
    case = Case.objects.get()
    assert case.strategy_version.shipped
    assert case.strategy_version.name == "energie"


def test_run_is_scoped_to_a_creditor(load_strategy, make_debtor, other_creditor):
    load_strategy()
    make_debtor(due=date(2026, 10, 1))
    make_debtor(due=date(2026, 10, 1), on=other_creditor)
    daily_run(run_date=date(2026, 10, 20), creditor=other_creditor)
    assert list(Case.objects.values_list("creditor__code", flat=True)) == ["WONEN"]
    assert datetime  # imported for the quiet-hours tests


def test_written_reminder_falls_back_only_to_written_channels(load_strategy, make_debtor):
    load_strategy(
        """
strategy: schrift
title: Schriftelijk
settings: {grace_days: 0, payday_window_days: 0, best_channel_order: [sms, email, letter]}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: email, template: herinnering, day: 1, after: due_date}
"""
    )
    no_mail = make_debtor(due=date(2026, 10, 5), email=False)
    nothing_written = make_debtor(due=date(2026, 10, 5), email=False, street="")
    daily_run(run_date=date(2026, 10, 6))
    letter = Decision.objects.get(debtor_id=no_mail.pk)
    assert (letter.channel, letter.outcome) == ("letter", "done")
    assert "e-mail niet bereikbaar, daarom brief" in letter.reason
    skipped = Decision.objects.get(debtor_id=nothing_written.pk)
    assert skipped.outcome == "skipped"


def test_no_hand_over_announcement_below_the_hand_over_minimum(load_strategy, make_debtor):
    """A letter announcing a hand-over that will not happen (claim below the minimum) is not
    sent: the decision says why."""
    load_strategy(
        """
strategy: test
title: Overdracht
settings: {grace_days: 3, payday_window_days: 0, handover_min_balance: 200.00}
segments: [{name: alle, label: Alle, path: p}]
paths:
  p:
    - {step: message, channel: letter, template: overdracht-aankondiging, day: 5, after: due_date}
"""
    )
    make_debtor(amount=15000, due=date(2026, 10, 1))
    daily_run(run_date=date(2026, 10, 5))
    daily_run(run_date=date(2026, 10, 6))
    decision = Decision.objects.get(step_kind="message")
    assert decision.outcome == "skipped"
    assert "geen aankondiging van overdracht" in decision.reason
    assert not Message.objects.exists()
