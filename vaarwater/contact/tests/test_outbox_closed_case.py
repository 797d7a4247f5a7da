"""A message planned for a case that has closed since (paid, say) is cancelled, not sent;
a receipt for the payment that closed it still goes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from vaarwater.contact.models import Message, MessageStatus
from vaarwater.contact.services import message_queue, message_send
from vaarwater.core.events import Actor
from vaarwater.strategy.models import Case, CloseReason
from vaarwater.strategy.run import daily_run
from vaarwater.strategy.services import case_close
from vaarwater.strategy.tests.conftest import load_strategy, make_debtor  # noqa: F401

pytestmark = pytest.mark.django_db


def test_reminder_for_a_closed_case_is_cancelled_but_a_receipt_goes(
    load_strategy,  # noqa: F811
    make_debtor,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    load_strategy()
    debtor = make_debtor(due=date.today() - timedelta(days=10))
    daily_run(run_date=date.today())
    case = Case.objects.get(debtor=debtor)
    later = timezone.now() + timedelta(days=3)
    reminder = message_queue(
        debtor=debtor, case=case, template="uitstel-herinnering", purpose="reminder",
        key="r1", channel="email", not_before=later, context={"deferred_until": "2026-12-01"},
    )  # fmt: skip
    case_close(
        case=case, reason_code=CloseReason.PAID, reason="betaald", on=date.today(),
        actor=Actor.system(),
    )  # fmt: skip
    assert message_send(message_id=reminder.pk, now=later) == "case closed"
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        receipt = message_queue(
            debtor=debtor, case=case, template="bedankt-betaling", purpose="receipt", key="p1",
            channel="email",
            context={"paid_cents": 100, "paid_on": "2026-11-24", "remaining_cents": 0},
        )  # fmt: skip
    receipt = Message.objects.get(pk=receipt.pk)
    assert receipt.status in (MessageStatus.SENT, MessageStatus.DELIVERED)
