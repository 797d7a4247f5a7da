"""A case's timeline: every event of its debtor during the case, newest first, with its reason."""

from zoneinfo import ZoneInfo

from django.db.models import DateField, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext_lazy as _

from vaarwater.core.models import Event

# The business day of an event is counted in Dutch time, whatever the server's clock says.
BUSINESS_TZ = ZoneInfo("Europe/Amsterdam")

# Readable names for event verbs; a verb missing here is shown as it is.
VERB_LABELS = {
    "case.opened": _("Case opened"),
    "case.hold": _("Case put on hold"),
    "case.hold_ended": _("Case resumed after hold"),
    "case.closed": _("Case closed"),
    "case.handed_over": _("Case handed over"),
    "hold.placed": _("Hold placed"),
    "hold.ended": _("Hold ended"),
    "decision.made": _("Decision by the daily run"),
    "message.sent": _("Message sent"),
    "message.delivered": _("Message delivered"),
    "message.failed": _("Message failed"),
    "message.cancelled": _("Message cancelled"),
    "message.sending": _("Message being sent"),
    "message.queued": _("Message planned"),
    "message.deferred": _("Message waits for an allowed moment"),
    "message.bounced": _("Message bounced"),
    "message.read": _("Message read"),
    "message.fallback": _("Message sent on another channel"),
    "message.no_fallback": _("No other channel left"),
    "message.replied": _("Reply received"),
    "contact.invalid": _("Contact details invalid"),
    "contact.confirmed": _("Contact details confirmed"),
    "contact.opt_out": _("Opted out of a channel"),
    "portal.opened": _("Personal link opened"),
    "call_task.created": _("Call task created"),
    "call_task.done": _("Call made"),
    "legal_notice.sent": _("14-day letter sent"),
    "cost.charged": _("Collection costs charged"),
    "interest.charged": _("Statutory interest charged"),
    "municipal_signal.created": _("Early signal to the municipality"),
    "handover.created": _("Handed over"),
    "invoice.created": _("Invoice added"),
    "invoice.changed": _("Invoice changed"),
    "payment.booked": _("Payment received"),
    "payment.changed": _("Payment changed"),
    "credit.applied": _("Credit applied"),
    "write_off.booked": _("Written off"),
    "allocation.moved": _("Payments counted towards the debt itself (costs waived)"),
    "debtor.changed": _("Customer details changed"),
    "debtor.contact_added": _("Contact details added"),
    "portal.login": _("Logged in to the portal"),
    "portal.links_revoked": _("Personal links ended"),
    "portal.chat_question": _("Question in the portal chat"),
    "payment.started": _("Online payment started"),
    "payment.pending": _("Online payment pending"),
    "payment.paid": _("Online payment paid"),
    "payment.failed": _("Online payment failed"),
    "payment.canceled": _("Online payment cancelled"),
    "payment.expired": _("Online payment expired"),
    "payment_link.created": _("Payment link created"),
    "payment_link.revoked": _("Payment link revoked"),
    "deferral.requested": _("Payment deferred to payday"),
    "problem.reported": _("Problem reported in the portal"),
    "callback.requested": _("Callback requested"),
    "callback.changed": _("Callback moved"),
    "consent.given": _("Consent given"),
    "consent.withdrawn": _("Consent withdrawn"),
    "breathing_space.requested": _("Breathing space requested"),
    "contact_change.started": _("New contact details: code sent"),
    "contact_change.failed": _("New contact details: wrong code"),
    "contact_change.cancelled": _("New contact details: cancelled"),
    "contact.opt_in": _("Opted in to a channel"),
    "faq.loaded": _("FAQ loaded"),
    "faq.removed": _("FAQ removed"),
    "assessment.recorded": _("What the household can pay worked out"),
    "arrangement.accepted": _("Payment plan agreed"),
    "arrangement.replaced": _("Payment plan replaced by a new one"),
    "arrangement.cancelled": _("Payment plan stopped"),
    "arrangement.breached": _("Payment plan broken off"),
    "arrangement.completed": _("Payment plan completed"),
    "instalment.missed": _("Instalment missed"),
    "promise.made": _("Promise to pay made"),
    "promise.kept": _("Promise to pay kept"),
    "promise.broken": _("Promise to pay broken"),
    "promise.cancelled": _("Promise to pay withdrawn"),
    "mandate.created": _("Direct debit mandate signed"),
    "mandate.revoked": _("Direct debit mandate revoked"),
    "collections.planned": _("Direct debits planned"),
    "collection.cancelled": _("Direct debit cancelled"),
    "collection.prenotified": _("Direct debit announced"),
    "collection.moved": _("Direct debit moved to another day"),
    "collection.submitted": _("Direct debit sent to the bank"),
    "collection.settled": _("Direct debit collected"),
    "collection.rejected": _("Direct debit refused by the bank"),
    "collection.returned": _("Direct debit returned (storno)"),
    "statement.imported": _("Bank statement imported"),
    "statement.assigned": _("Bank statement assigned to a creditor"),
    "statement.entry_booked": _("Bank transfer matched and booked"),
    "statement.entry_assigned": _("Bank transfer booked by hand from the worklist"),
    "statement.entry_ignored": _("Bank transfer set aside from the worklist"),
    "sepa_batch.created": _("Direct debit file made"),
}


def verb_label(verb: str) -> str:
    """``'decision.made'`` → a readable, translated label; an unknown verb as it is."""
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


def event_day():
    """The day an event belongs to: its ``occurred_on``, else its creation date in Dutch time."""
    return Coalesce(
        "occurred_on",
        TruncDate("created_at", tzinfo=BUSINESS_TZ),
        output_field=DateField(),
    )


def case_timeline(case) -> QuerySet[Event]:
    """Every event of the case's debtor from its opening to its closing (or today), newest first.

    Each event is annotated with ``day``. Ordered by that day descending, then id descending, so
    that events of one day keep the order in which they were written, newest first.
    """
    events = (
        Event.objects.filter(creditor_id=case.creditor_id, debtor_id=case.debtor_id)
        .annotate(day=event_day())
        .filter(day__gte=case.opened_on)
    )
    if case.closed_on is not None:
        events = events.filter(day__lte=case.closed_on)
    # An open case shows everything since its opening, also what is dated after today (days
    # run ahead with ``run-day --date``: a plan's missed instalment, its breach).
    return events.order_by("-day", "-id")
