"""The timeline of a debtor: every event, newest first, with its day, who, what, why and its
category (money, contact, calls, decisions), and the records it is about joined in (a message
with its delivery status, a call attempt with its outcome, a call task)."""

from collections import Counter
from zoneinfo import ZoneInfo

from django.db.models import Count, DateField, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from vaarwater.core.models import Event
from vaarwater.core.money import format_eur

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
    # Verbs written with an f-string: costs and interest reversed, imports, iDEAL "open".
    "invoice.reversed": _("Invoice reversed"),
    "payment.reversed": _("Payment reversed"),
    "cost.reversed": _("Collection costs reversed"),
    "interest.reversed": _("Statutory interest reversed"),
    "write_off.reversed": _("Write-off reversed"),
    "payment.open": _("Online payment opened"),
    "import.debtors": _("Customers imported"),
    "import.invoices": _("Invoices imported"),
    "import.payments": _("Payments imported"),
    # Calls: the queue and the call screen (issue 7).
    "call.started": _("Call started"),
    "call.outcome": _("Call made: outcome recorded"),
    "call.released": _("Call given back to the queue"),
    "call.answered": _("Call answered"),
    "call_task.exhausted": _("Call task stopped: the most attempts were made"),
    "call_task.reassigned": _("Call task given to another agent"),
    "portal.visited": _("Portal visited"),
    # The creditor's own settings: not about one customer, but named all the same.
    "creditor.created": _("Creditor created"),
    "creditor.letterhead_changed": _("Letterhead changed"),
    "message_template.saved": _("Message template saved"),
    "message_template.restored": _("Message template restored to the default"),
    "print_batch.created": _("Letters printed"),
    "strategy.loaded": _("Strategy loaded"),
}


def verb_label(verb: str) -> str:
    """``'decision.made'`` → a readable, translated label; an unknown verb as it is."""
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


# What an event is about, for the timeline's filter: the category of a verb is that of its noun
# (the part before the dot). A noun not listed is "other" (creditor-level records).
CATEGORY_LABELS = {
    "money": _("Money"),
    "contact": _("Contact"),
    "calls": _("Calls"),
    "decisions": _("Decisions"),
    "other": _("Other"),
}
FILTERS = ("all", "money", "contact", "calls", "decisions")
NOUN_CATEGORIES = {
    **dict.fromkeys(
        (
            "invoice",
            "payment",
            "payment_link",
            "cost",
            "interest",
            "credit",
            "write_off",
            "allocation",
            "reversal",
            "arrangement",
            "instalment",
            "promise",
            "assessment",
            "mandate",
            "collection",
            "collections",
            "deferral",
            "statement",
            "sepa_batch",
        ),
        "money",
    ),
    **dict.fromkeys(
        (
            "message",
            "contact",
            "contact_change",
            "portal",
            "consent",
            "problem",
            "debtor",
            "legal_notice",
            "breathing_space",
        ),
        "contact",
    ),
    **dict.fromkeys(("call", "call_task", "callback"), "calls"),
    **dict.fromkeys(("decision", "case", "hold", "handover", "municipal_signal"), "decisions"),
}


def verb_category(verb: str) -> str:
    """The timeline category of a verb, from its noun: money, contact, calls, decisions, other.

    >>> verb_category("promise.broken"), verb_category("portal.chat_question")
    ('money', 'contact')
    """
    return NOUN_CATEGORIES.get(verb.split(".", 1)[0], "other")


def category_q(category: str) -> Q:
    """A filter on ``Event.verb`` that keeps the verbs of one category; all for any other."""
    nouns = [noun for noun, cat in NOUN_CATEGORIES.items() if cat == category]
    query = Q()
    for noun in nouns:
        query |= Q(verb__startswith=f"{noun}.")
    return query


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


def debtor_timeline(case, *, scope: str = "case") -> QuerySet[Event]:
    """The events of the case's debtor, newest first: during the case (``scope="case"``, as
    ``case_timeline``) or everything ever recorded for the debtor at this creditor ("all")."""
    if scope != "all":
        return case_timeline(case)
    return (
        Event.objects.filter(creditor_id=case.creditor_id, debtor_id=case.debtor_id)
        .annotate(day=event_day())
        .order_by("-day", "-id")
    )


def category_counts(events: QuerySet[Event]) -> dict[str, int]:
    """How many events each category has (and "all"), in one grouped query."""
    counts: Counter = Counter()
    for verb, n in events.order_by().values_list("verb").annotate(n=Count("id")):
        counts[verb_category(verb)] += n
        counts["all"] += n
    return {key: counts.get(key, 0) for key in (*FILTERS, "other")}


def event_detail(event: Event) -> str:
    """What an event's data adds when its reason does not say it (an invoice's number and
    amount, a payment's amount), in plain words; empty when there is nothing to add."""
    data = event.data if isinstance(event.data, dict) else {}
    amount = data.get("amount_cents")
    language = (get_language() or "nl")[:2]
    is_cents = isinstance(amount, int) and not isinstance(amount, bool)
    amount = format_eur(amount, language=language) if is_cents else ""
    if event.verb.startswith("invoice.") and data.get("external_id"):
        return " ".join(p for p in (str(data["external_id"]), amount) if p)
    if event.verb == "payment.booked" and amount and amount not in event.reason:
        return amount
    return ""


def timeline_rows(events, *, creditor_id: int) -> list[Event]:
    """The events with what a reader needs beside them, in a bounded number of queries.

    Each event gets ``category`` and ``category_label``, ``label`` (the readable verb),
    ``detail`` (see ``event_detail``), and the record it is about when that tells more:
    ``message`` (with its deliveries; ``message_first`` on the newest event of each message, where
    the page shows the text and the delivery history), ``attempt`` (a call attempt with its agent)
    and ``task`` (a call task)."""
    from vaarwater.contact.models import CallTask, Message

    from .models import CallAttempt

    events = list(events)
    ids: dict[str, set[int]] = {}
    for event in events:
        if event.subject_id is not None:
            ids.setdefault(event.subject_type, set()).add(event.subject_id)
    messages = _by_pk(
        Message.objects.filter(creditor_id=creditor_id).prefetch_related("deliveries"),
        ids.get("contact.message"),
    )
    tasks = _by_pk(CallTask.objects.filter(creditor_id=creditor_id), ids.get("contact.calltask"))
    attempts = _by_pk(
        CallAttempt.objects.filter(creditor_id=creditor_id).select_related("agent"),
        ids.get("workspace.callattempt"),
    )
    seen_messages: set[int] = set()
    for event in events:
        event.category = verb_category(event.verb)
        event.category_label = CATEGORY_LABELS[event.category]
        event.label = verb_label(event.verb)
        event.detail = event_detail(event)
        related = {
            "contact.message": messages,
            "contact.calltask": tasks,
            "workspace.callattempt": attempts,
        }.get(event.subject_type, {})
        subject = related.get(event.subject_id)
        event.message = subject if event.subject_type == "contact.message" else None
        event.task = subject if event.subject_type == "contact.calltask" else None
        event.attempt = subject if event.subject_type == "workspace.callattempt" else None
        event.message_first = event.message is not None and event.message.pk not in seen_messages
        if event.message is not None:
            seen_messages.add(event.message.pk)
    return events


def _by_pk(queryset, pks) -> dict:
    """The rows of ``queryset`` with these primary keys, by key; no query when there are none."""
    if not pks:
        return {}
    return {row.pk: row for row in queryset.filter(pk__in=pks)}
