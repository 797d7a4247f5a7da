"""What the debtor owes and why, in plain words: per invoice, the costs and interest with the
letter that announced them, what was sent when, and what happens next and how to stop it.

Every text is built here as data and translated with the request's language active; the
template only lays it out.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from vaarwater.contact.models import Message, MessageStatus
from vaarwater.contact.rendering import TEMPLATE_KEYS, format_day
from vaarwater.core.money import format_eur
from vaarwater.law.interest import load_rates
from vaarwater.ledger.models import Invoice
from vaarwater.ledger.selectors import debtor_position
from vaarwater.strategy.documents import creditor_settings
from vaarwater.strategy.models import Case, CostCharge, HoldKind
from vaarwater.strategy.selectors import case_next_step

from .chat import step_sentence

# How many sent messages the overview lists (newest first).
SENT_SHOWN = 10
SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)


@dataclass
class InvoiceRow:
    number: str
    description: str
    due_date: date
    amount: str
    principal: str
    costs: str
    interest: str
    total: str
    has_costs: bool
    has_interest: bool


@dataclass
class Overview:
    balance_cents: int
    balance: str
    overdue: str
    invoices: list[InvoiceRow] = field(default_factory=list)
    costs_notes: list[str] = field(default_factory=list)
    interest_notes: list[str] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    next_step: str = ""
    paused: str = ""
    credit: str = ""


def _channel(channel: str) -> str:
    return {
        "email": _("by email"),
        "sms": _("by text message (SMS)"),
        "whatsapp": _("by WhatsApp"),
        "letter": _("by post"),
    }.get(channel, channel)


def _rate(kind: str, on: date):
    rates = [r for r in load_rates() if r.kind == kind and r.valid_from <= on]
    return max(rates, key=lambda r: r.valid_from).rate_percent if rates else None


def _percent(rate, language: str) -> str:
    """``Decimal('4.00')`` → ``'4'``, ``Decimal('12.25')`` → ``'12,25'`` in Dutch."""
    if rate is None:
        return "?"
    text = format(rate.normalize(), "f")
    return text.replace(".", ",") if language == "nl" else text


def overview(debtor, case: Case | None, *, language: str, today: date) -> Overview:
    """Everything the overview page says about what the debtor owes."""
    position = debtor_position(debtor)
    balance = position.balance
    money = lambda cents: format_eur(cents, language=language)  # noqa: E731
    overdue = sum(i.total for i in position.items.values() if i.due_date < today)
    result = Overview(
        balance_cents=balance,
        balance=money(max(balance, 0)),
        overdue=money(max(overdue - position.credit, 0)),
        credit=money(-balance) if balance < 0 else "",
    )
    invoices = Invoice.objects.filter(pk__in=list(position.items)).order_by("due_date", "pk")
    for invoice in invoices:
        item = position.items[invoice.pk]
        result.invoices.append(
            InvoiceRow(
                number=invoice.external_id,
                description=invoice.description,
                due_date=invoice.due_date,
                amount=money(invoice.amount_cents),
                principal=money(item.principal),
                costs=money(item.costs),
                interest=money(item.interest),
                total=money(item.total),
                has_costs=item.costs > 0,
                has_interest=item.interest > 0,
            )
        )
    if any(row.has_costs for row in result.invoices):
        charges = CostCharge.objects.filter(case__debtor=debtor).select_related("notice")
        for charge in charges.order_by("charged_on"):
            notice = charge.notice
            result.costs_notes.append(
                _(
                    "On %(charged)s we added %(amount)s collection costs. Our reminder of "
                    "%(sent)s, sent %(channel)s, announced this amount and gave you until "
                    "%(term)s to pay without costs. The law sets how high these costs may be "
                    "(at most 15%% of the first %(first)s, at least %(min)s)."
                )
                % {
                    "charged": format_day(charge.charged_on, language),
                    "amount": money(charge.amount_cents),
                    "sent": format_day(notice.sent_on, language),
                    "channel": _channel(notice.channel),
                    "term": format_day(notice.term_ends_on, language),
                    "first": money(250000),
                    "min": money(4000),
                }
            )
    if any(row.has_interest for row in result.invoices):
        cases = Case.objects.filter(debtor=debtor, interest_from__isnull=False)
        for with_interest in cases.order_by("opened_on"):
            kind = creditor_settings(debtor.creditor, case=with_interest).interest_kind
            rate = _rate(kind, today)
            result.interest_notes.append(
                _(
                    "Since %(since)s statutory interest runs on the amount that was not paid "
                    "on time (now %(rate)s%% a year). The law sets this rate; it stops as soon "
                    "as you have paid."
                )
                % {
                    "since": format_day(with_interest.interest_from, language),
                    "rate": _percent(rate, language),
                }
            )
    sent = (
        Message.objects.filter(debtor=debtor, status__in=SENT_STATUSES, sent_at__isnull=False)
        .exclude(purpose="verify")
        .order_by("-sent_at")[:SENT_SHOWN]
    )
    for message in sent:
        label = TEMPLATE_KEYS.get(message.template, message.template)
        result.sent.append(
            {
                "on": message.sent_at,
                "what": str(label),
                "how": _channel(message.channel),
                "subject": message.subject,
            }
        )
    if case is not None and balance > 0:
        nxt = case_next_step(case, today=today)
        hold = (
            nxt.hold
            if nxt is not None
            else case.holds.filter(released_on__isnull=True, until__gte=today)
            .order_by("-until")
            .first()
        )
        if hold is not None:
            if hold.kind == HoldKind.DEFERRAL:
                result.paused = _(
                    "You have postponed payment. We take no further steps until %(until)s."
                ) % {"until": format_day(hold.until, language)}
            else:
                result.paused = _(
                    "Your file is paused until %(until)s (%(why)s). We take no further steps "
                    "until then."
                ) % {"until": format_day(hold.until, language), "why": hold.get_kind_display()}
        if nxt is not None:
            result.next_step = step_sentence(
                debtor=debtor, case=case, step=nxt.step, due=nxt.due, language=language,
                today=today,
            )  # fmt: skip
    return result
