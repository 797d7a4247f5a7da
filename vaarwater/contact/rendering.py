"""Message texts: shipped defaults and a creditor's own wording, rendered in a sandbox.

Every message is a template key (``herinnering``, ``veertiendagenbrief``, …) in a channel and a
language. Its text comes from the creditor's own ``MessageTemplate`` when there is one, else from
the shipped file ``templates/contact/messages/<language>/<key>.<channel>.txt``; an English text
that does not exist falls back to the Dutch one.

Texts are Django templates, rendered by a sandboxed engine that knows only the tags ``if``,
``with`` and ``comment``, a few plain filters and the variables in ``VARIABLES`` (strings and
booleans, already formatted for the message's language). A creditor's administrator can therefore
not read settings, files or objects through a template. The engine is strict: a variable it cannot
resolve raises ``TemplateBroken`` instead of leaving a gap in a letter.

Plain text (SMS, WhatsApp, the text part of an email, the letter text) is rendered without HTML
escaping. The HTML of an email and a letter is made from that text (paragraphs, ``- `` lists,
links), escaped as a whole, unless a shipped ``<key>.<channel>.html`` exists; an email's HTML is
then wrapped in ``<language>/_layout.email.html``. A letter's HTML is the body only: the letter
PDF adds the letterhead, address block and date.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import (
    FilterExpression,
    Lexer,
    TextNode,
    TokenType,
    Variable,
    VariableNode,
)
from django.template.defaulttags import CommentNode, IfNode, TemplateLiteral, WithNode
from django.utils import timezone
from django.utils.html import urlize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur, from_cents, to_cents
from vaarwater.law import add_business_days, collection_costs, roll_forward

from .models import Channel, Message, MessageTemplate

MESSAGES_DIR = Path(__file__).parent / "templates" / "contact" / "messages"

# The template keys the shipped strategies (and the arrangement and payment steps) use, in the
# order of a case's life. The label is what the back office shows.
TEMPLATE_KEYS: dict[str, str] = {
    "herinnering": gettext_lazy("Friendly reminder"),
    "aanmaning": gettext_lazy("Second reminder (with the municipal data-sharing notice)"),
    "veertiendagenbrief": gettext_lazy("14-day letter (veertiendagenbrief)"),
    "regeling-aanbod": gettext_lazy("Payment plan offer"),
    "regeling-bevestiging": gettext_lazy("Payment plan confirmation"),
    "termijn-gemist": gettext_lazy("Missed instalment"),
    "termijn-herinnering": gettext_lazy("Reminder a few days before an instalment of a plan"),
    "termijn-bedankt": gettext_lazy("Thanks for an instalment, with the plan's progress"),
    "regeling-voltooid": gettext_lazy("Payment plan completed (and what was waived)"),
    "regeling-beeindigd": gettext_lazy("Payment plan stopped after missed instalments"),
    "bedankt-betaling": gettext_lazy("Thank you for your payment"),
    "schuldhulp-verwijzing": gettext_lazy("Referral to debt help"),
    "overdracht-aankondiging": gettext_lazy("Announcement of a hand-over"),
    "betaalverzoek": gettext_lazy("Payment request (a payment link for a set amount)"),
    "uitstel-herinnering": gettext_lazy("Reminder the day before a deferral ends"),
    "verificatiecode": gettext_lazy("Code to confirm a new email address or phone number"),
    "melding-ontvangen": gettext_lazy(
        "Confirmation of what the customer asked for in the portal (problem, callback, deferral)"
    ),
    "incasso-vooraankondiging": gettext_lazy(
        "Direct debit pre-notification: the amount and the day it is collected"
    ),
    "incasso-gestorneerd": gettext_lazy("Direct debit returned or refused: please pay otherwise"),
}
# Texts that never carry the personal link: a confirmation code goes to an address the debtor
# just typed and that is not confirmed yet; a typo must not hand a stranger the debtor's file.
NO_LINK_KEYS = frozenset({"verificatiecode"})
CHANNELS: tuple[str, ...] = tuple(Channel.values)
LANGUAGES: tuple[str, ...] = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

# Every variable a message template may use. All are strings, except the ones whose description
# says "yes/no"; an amount or a date that a message does not have is an empty string.
VARIABLES: dict[str, str] = {
    "name": gettext_lazy("The customer's name."),
    "salutation": gettext_lazy("The greeting line: 'Beste Jan de Vries,' or 'Dear Jan de Vries,'."),
    "customer_number": gettext_lazy("The customer's number at the creditor."),
    "case_reference": gettext_lazy("The case reference (dossiernummer)."),
    "claim": gettext_lazy("The amount that is still open, e.g. € 1.234,56 (EUR 1.234,56 in SMS)."),
    "principal": gettext_lazy("14-day letter: the principal the collection costs are based on."),
    "costs": gettext_lazy("14-day letter: the collection costs without VAT."),
    "vat": gettext_lazy("14-day letter: the VAT on the collection costs (empty without VAT)."),
    "costs_incl_vat": gettext_lazy(
        "14-day letter: the exact collection costs that will be charged, VAT included."
    ),
    "has_vat": gettext_lazy("14-day letter: yes/no, VAT is added to the costs."),
    "oldest_due": gettext_lazy("The oldest due date, e.g. 15 september 2026."),
    "receipt_on": gettext_lazy("14-day letter: the day the letter is assumed to be received."),
    "term_ends_on": gettext_lazy("14-day letter: the last day of the term, as assumed."),
    "term_wording": gettext_lazy(
        "14-day letter: the legal wording of the term ('binnen veertien dagen, te rekenen "
        "vanaf de dag na ontvangst van deze brief')."
    ),
    "today": gettext_lazy("The date of the message."),
    "portal_url": gettext_lazy("The customer's personal link to the portal."),
    "payment_url": gettext_lazy("The link to pay online."),
    "unsubscribe_url": gettext_lazy("Email: the link to stop receiving email (may be empty)."),
    "creditor_name": gettext_lazy("The creditor's name."),
    "creditor_phone": gettext_lazy("The creditor's phone number (may be empty)."),
    "creditor_email": gettext_lazy("The creditor's email address (may be empty)."),
    "creditor_iban": gettext_lazy("The creditor's IBAN for transfers, in groups of four."),
    "creditor_contact": gettext_lazy(
        "How to reach the creditor, to follow 'you can': 'ons bellen op … of mailen naar …'."
    ),
    "debt_help_name": gettext_lazy("The national free debt-help line: Geldfit."),
    "debt_help_phone": gettext_lazy("Geldfit's free phone number: 0800-8115."),
    "debt_help_url": gettext_lazy("Geldfit's website."),
    "signals_municipality": gettext_lazy(
        "Yes/no: the creditor signals arrears to the municipality (energy, water, housing, "
        "health insurance)."
    ),
    "signal_data": gettext_lazy("Which data are shared with the municipality, as words."),
    "handover_to": gettext_lazy(
        "Hand-over: who takes the case over, as words ('een incassobureau', "
        "'een gerechtsdeurwaarder')."
    ),
    "handover_party": gettext_lazy("Hand-over: the name of that party from the strategy."),
    "plan_instalment": gettext_lazy("Payment plan: the amount of one instalment."),
    "plan_count": gettext_lazy("Payment plan: the number of instalments."),
    "plan_first_due": gettext_lazy("Payment plan: the date of the first instalment."),
    "plan_schedule": gettext_lazy(
        "Payment plan: every payment on its own line, e.g. '1. 25 december 2026: € 50,00'."
    ),
    "plan_reference": gettext_lazy(
        "Payment plan: its payment reference, to put with a bank transfer (RGL…)."
    ),
    "plan_total": gettext_lazy("Payment plan: the amount the plan covers, all payments together."),
    "plan_waived_costs": gettext_lazy(
        "Payment plan: the collection costs waived when the plan is kept (empty when none)."
    ),
    "plan_method": gettext_lazy(
        "Payment plan: how it is paid, as a code: transfer, link or sepa (for an if-test)."
    ),
    "plan_how_to_pay": gettext_lazy(
        "Payment plan: how to pay, in sentences (account and reference, direct debit, or links)."
    ),
    "plan_paid_count": gettext_lazy("Payment plan: how many payments are made so far."),
    "plan_first_link": gettext_lazy(
        "Payment plan by link: yes/no, payment_url pays the first payment (it is soon)."
    ),
    "plan_url": gettext_lazy("The link to the page where the customer chooses a (new) plan."),
    "instalment_number": gettext_lazy("Payment plan: the number of this payment (1, 2, …)."),
    "replan": gettext_lazy("Missed or stopped plan: yes/no, the customer may choose a new plan."),
    "instalment_amount": gettext_lazy("Missed instalment: its amount."),
    "instalment_due": gettext_lazy("Missed instalment: its due date."),
    "payment_amount": gettext_lazy("Thank-you: the amount paid."),
    "payment_date": gettext_lazy("Thank-you: the date of the payment."),
    "remaining": gettext_lazy("Thank-you: what is still open after the payment (may be empty)."),
    "paid_in_full": gettext_lazy("Thank-you: yes/no, nothing is open any more."),
    "request_amount": gettext_lazy("Payment request: the amount asked."),
    "request_expires": gettext_lazy("Payment request: the last day the link works."),
    "deferred_until": gettext_lazy("Deferral: the day the payment is due after the deferral."),
    "code": gettext_lazy("Confirmation code: the six digits to type in the portal."),
    "request_summary": gettext_lazy(
        "Portal confirmation: what the customer asked for or reported, in a sentence."
    ),
    "next_step": gettext_lazy("Portal confirmation: what happens next, in a sentence."),
    "collection_amount": gettext_lazy("Direct debit: the amount collected."),
    "collection_date": gettext_lazy("Direct debit: the day it is (or was to be) collected."),
    "mandate_id": gettext_lazy("Direct debit: the mandate reference (machtigingskenmerk)."),
    "creditor_sepa_id": gettext_lazy("Direct debit: the creditor's SEPA id (incassant-ID)."),
    "pay_by": gettext_lazy("Returned direct debit: the day to pay the amount by."),
    "mandate_ended": gettext_lazy(
        "Returned direct debit: yes/no, the mandate ended and nothing more is collected."
    ),
}

# The legal wording of the 14-day term (art. 6:96 lid 6 BW); the strategy engine records the
# Dutch one on the legal notice, and a test keeps the two the same.
TERM_WORDING = {
    "nl": "binnen veertien dagen, te rekenen vanaf de dag na ontvangst van deze brief",
    "en": "within fourteen days, counting from the day after you receive this letter",
}
DEBT_HELP = {
    "name": "Geldfit",
    "phone": "0800-8115",
    "url": "https://www.geldfit.nl",
}
# Sectors that must signal arrears to the municipality (Wgs art. 3a); energy and water also
# share the customer number.
SIGNAL_SECTORS = {"energy", "water", "housing", "health_insurance"}
SIGNAL_CUSTOMER_NUMBER = {"energy", "water"}

MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}

# -- errors -----------------------------------------------------------------------------------


class TemplateError(Exception):
    """Base class of the rendering errors."""


class TemplateMissing(TemplateError, LookupError):
    """No text exists for a key, channel and language (no override and no shipped file)."""

    def __init__(self, key: str, channel: str, language: str):
        super().__init__(
            f"no message template '{key}' for channel '{channel}' and language '{language}' "
            "(no own text of the creditor and no shipped file)"
        )
        self.key, self.channel, self.language = key, channel, language


class TemplateBroken(TemplateError):
    """A template does not compile or does not render (a syntax error, an unknown variable)."""


# -- the sandbox ------------------------------------------------------------------------------

ALLOWED_TAGS = ("if", "with", "comment")
ALLOWED_BLOCK_WORDS = {"if", "elif", "else", "endif", "with", "endwith", "comment", "endcomment"}
# Plain filters only: nothing that marks text safe, reads files or builds huge strings.
ALLOWED_FILTERS = (
    "add",
    "capfirst",
    "cut",
    "default",
    "default_if_none",
    "first",
    "last",
    "length",
    "lower",
    "pluralize",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "wordwrap",
    "yesno",
)
INVALID = "[[ONGELDIG:%s]]"
_INVALID_RE = re.compile(r"\[\[ONGELDIG:(.*?)\]\]")
MAX_BODY_CHARS = 20_000

_SANDBOX = Library()
for _tag in ALLOWED_TAGS:
    _SANDBOX.tags[_tag] = defaulttags.register.tags[_tag]
for _filter in ALLOWED_FILTERS:
    _SANDBOX.filters[_filter] = defaultfilters.register.filters[_filter]


@functools.cache
def _engine() -> Engine:
    engine = Engine(dirs=[], app_dirs=False, libraries={}, string_if_invalid=INVALID)
    # Replace Django's default built-ins (which include load, include, extends, debug, ssi's
    # successors, url, …) by the sandbox library: an unknown tag is a syntax error.
    engine.template_builtins = [_SANDBOX]
    return engine


def _tags_check(source: str) -> None:
    """Refuse any block tag outside the sandbox with a message that names it."""
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK:
            continue
        word = (token.split_contents() or [""])[0]
        if word not in ALLOWED_BLOCK_WORDS:
            raise TemplateSyntaxError(
                _("The tag {%% %(tag)s %%} is not allowed in a message (line %(line)s).")
                % {"tag": word, "line": token.lineno}
                + " "
                + _("Allowed tags: %(allowed)s.") % {"allowed": ", ".join(ALLOWED_TAGS)}
            )


def _condition_names(condition):
    if isinstance(condition, TemplateLiteral):
        yield from _expression_names(condition.value)
        return
    for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if part is not None:
            yield from _condition_names(part)


def _expression_names(expression: FilterExpression):
    if isinstance(expression.var, Variable) and expression.var.lookups:
        yield expression.var.lookups
    for _func, args in expression.filters:
        for is_lookup, arg in args:
            if is_lookup and arg.lookups:
                yield arg.lookups


def _node_names(nodelist, bound: frozenset = frozenset()):
    """Yield (lookups, bound names) for every variable a compiled sandbox template reads."""
    for node in nodelist:
        if isinstance(node, VariableNode):
            for lookups in _expression_names(node.filter_expression):
                yield lookups, bound
        elif isinstance(node, IfNode):
            for condition, nodes in node.conditions_nodelists:
                if condition is not None:
                    for lookups in _condition_names(condition):
                        yield lookups, bound
                yield from _node_names(nodes, bound)
        elif isinstance(node, WithNode):
            for expression in node.extra_context.values():
                for lookups in _expression_names(expression):
                    yield lookups, bound
            yield from _node_names(node.nodelist, bound | frozenset(node.extra_context))
        elif isinstance(node, TextNode | CommentNode):
            continue
        else:  # pragma: no cover - the sandbox has no other tags
            raise TemplateSyntaxError(f"unexpected template node {node!r}")


def _variables_check(template, extra: frozenset = frozenset()) -> None:
    """Refuse variables that are not documented, and lookups into them (``name.upper``)."""
    for lookups, bound in _node_names(template.nodelist):
        root = lookups[0]
        if root not in VARIABLES and root not in bound and root not in extra:
            raise TemplateSyntaxError(
                _("Unknown variable {{ %(name)s }}. Use one of the listed variables.")
                % {"name": root}
            )
        if len(lookups) > 1:
            raise TemplateSyntaxError(
                _("{{ %(name)s }}: variables have no parts; use a filter instead of a dot.")
                % {"name": ".".join(lookups)}
            )


@functools.lru_cache(maxsize=1024)
def sandbox_compile(source: str, extra: frozenset = frozenset()):
    """Compile a message template in the sandbox; raise TemplateSyntaxError with a reason.

    ``extra`` names variables beyond ``VARIABLES`` (the email layout's subject and body)."""
    _tags_check(source)
    template = _engine().from_string(source)
    _variables_check(template, extra)
    return template


def _render(template, variables: dict, *, autoescape: bool) -> str:
    output = template.render(Context(variables, autoescape=autoescape))
    missing = _INVALID_RE.search(output)
    if missing:
        raise TemplateBroken(f"variable {{{{ {missing.group(1)} }}}} could not be filled in")
    return output


def _tidy(text: str) -> str:
    """Strip trailing spaces and collapse the blank lines that tags leave behind."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """The text of one template before rendering, and where it came from."""

    key: str
    channel: str
    language: str
    subject: str
    body: str
    html: str | None = None  # a shipped HTML body, if any
    origin: str = "shipped"  # "shipped" or "own"


_SUBJECT_RE = re.compile(r"^(?:Onderwerp|Subject):[ \t]*(.*)$")


def parse_shipped(text: str) -> tuple[str, str]:
    """Split a shipped file into (subject, body): an optional first line ``Onderwerp: …`` or
    ``Subject: …`` is the subject.

    >>> parse_shipped("Onderwerp: Herinnering\\n\\nBeste {{ name }},\\n")
    ('Herinnering', 'Beste {{ name }},\\n')
    >>> parse_shipped("Hallo")
    ('', 'Hallo')
    """
    first, _sep, rest = text.partition("\n")
    match = _SUBJECT_RE.match(first)
    if not match:
        return "", text
    return match.group(1).strip(), rest.lstrip("\n")


@functools.lru_cache(maxsize=512)
def _shipped_read(path: Path, mtime_ns: int) -> str:
    return path.read_text(encoding="utf-8")


def _file(path: Path) -> str | None:
    try:
        return _shipped_read(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return None


def shipped_source(key: str, channel: str, language: str) -> Source | None:
    """The shipped default for exactly this key, channel and language, or None."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key) or language not in LANGUAGES:
        return None
    text = _file(MESSAGES_DIR / language / f"{key}.{channel}.txt")
    if text is None:
        return None
    subject, body = parse_shipped(text)
    html = _file(MESSAGES_DIR / language / f"{key}.{channel}.html")
    return Source(key, channel, language, subject, body, html=html)


def template_overrides(creditor) -> dict[tuple[str, str, str], MessageTemplate]:
    """The creditor's own texts, by (key, channel, language)."""
    rows = MessageTemplate.objects.filter(creditor=creditor)
    return {(row.key, row.channel, row.language): row for row in rows}


def template_override_get(*, creditor, key: str, channel: str, language: str):
    """The creditor's own text for one key, channel and language, or None."""
    return MessageTemplate.objects.filter(
        creditor=creditor, key=key, channel=channel, language=language
    ).first()


def _own_source(row: MessageTemplate) -> Source:
    return Source(row.key, row.channel, row.language, row.subject, row.body, origin="own")


def template_source(*, creditor, key: str, channel: str, language: str) -> Source:
    """The text a message uses: the creditor's own for its language, else the shipped one;
    an English text that does not exist falls back to Dutch. Raises TemplateMissing."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    languages = [language] if language == DEFAULT_LANGUAGE else [language, DEFAULT_LANGUAGE]
    creditor_id = getattr(creditor, "pk", creditor)
    own = {}
    if creditor_id is not None:
        rows = MessageTemplate.objects.filter(
            creditor_id=creditor_id, key=key, channel=channel, language__in=languages
        )
        own = {row.language: row for row in rows}
    for lang in languages:
        if lang in own:
            return _own_source(own[lang])
        shipped = shipped_source(key, channel, lang)
        if shipped is not None:
            return shipped
    raise TemplateMissing(key, channel, language)


# -- variables --------------------------------------------------------------------------------


def format_day(day: date | str | None, language: str) -> str:
    """A date for people: ``15 september 2026`` (nl) or ``15 September 2026`` (en).

    >>> format_day("2026-09-15", "nl")
    '15 september 2026'
    >>> format_day(None, "en")
    ''
    """
    if not day:
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


def format_money(cents, language: str, *, sms: bool = False) -> str:
    """Cents for people, per language; empty for a missing amount. In an SMS the euro sign is
    written ``EUR`` (it costs two characters in GSM-7 and some networks drop it).

    >>> format_money(4000, "nl")
    '€ 40,00'
    >>> format_money(123456, "en", sms=True)
    'EUR 1,234.56'
    >>> format_money(None, "nl")
    ''
    """
    if cents is None or cents == "":
        return ""
    text = format_eur(int(cents), language=language)
    if sms:
        text = text.replace("€ ", "EUR ").replace("€", "EUR ")
    return text


def format_iban(iban: str) -> str:
    """``NL91ABNA0417164300`` → ``NL91 ABNA 0417 1643 00``.

    >>> format_iban("nl91abna0417164300")
    'NL91 ABNA 0417 1643 00'
    """
    compact = re.sub(r"\s", "", iban or "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def plan_schedule_text(schedule, language: str, *, sms: bool = False) -> str:
    """A plan's payments, one a line: ``[["2026-12-25", 5000], …]`` → text.

    >>> print(plan_schedule_text([["2026-12-25", 5000], ["2027-01-25", 4550]], "nl"))
    1. 25 december 2026: € 50,00
    2. 25 januari 2027: € 45,50
    """
    lines = []
    for number, (day, cents) in enumerate(schedule or (), 1):
        money = format_money(cents, language, sms=sms)
        lines.append(f"{number}. {format_day(day, language)}: {money}")
    return "\n".join(lines)


def _iban_short(iban: str) -> str:
    """An account in a message about a direct debit: country, check digits and the last four.

    >>> _iban_short("NL91ABNA0417164300")
    'NL91 ... 4300'
    """
    compact = re.sub(r"\s", "", iban or "").upper()
    return f"{compact[:4]} ... {compact[-4:]}" if len(compact) > 8 else compact


def plan_how_to_pay(
    *,
    method: str,
    reference: str,
    creditor_iban: str,
    creditor_name: str,
    mandate_iban: str,
    language: str,
) -> str:
    """How a plan is paid, in plain sentences; empty when the message is not about a plan.

    >>> plan_how_to_pay(method="transfer", reference="RGL000012701",
    ...     creditor_iban="NL91ABNA0417164300", creditor_name="Energie Noord BV",
    ...     mandate_iban="", language="nl")  # doctest: +ELLIPSIS
    'Maak elk bedrag over naar NL91 ABNA 0417 1643 00 van Energie Noord BV. Zet bij de ...'
    """
    en = language == "en"
    if method == "sepa":
        account = f" {_iban_short(mandate_iban)}" if mandate_iban else ""
        if en:
            return (
                f"We collect each amount on its date from your account{account} by direct "
                "debit. You do not need to do anything; just make sure there is enough money "
                "in your account on that day."
            )
        return (
            f"Wij schrijven elk bedrag op de afgesproken datum af van uw rekening{account} "
            "(automatische incasso). U hoeft zelf niets te doen. Zorg wel dat er op die dag "
            "genoeg geld op uw rekening staat."
        )
    if method == "link":
        if en:
            return (
                "A few days before each payment we send you a payment link. With it you pay "
                "with iDEAL."
            )
        return (
            "Een paar dagen voor elke betaling sturen wij u een betaallink. Daarmee betaalt u "
            "met iDEAL."
        )
    if method != "transfer":
        return ""
    if creditor_iban:
        if en:
            return (
                f"Transfer each amount to {format_iban(creditor_iban)} of {creditor_name}. "
                f"Always put this in the description: {reference}. Then we know it is for "
                "your plan. Tip: set up a standing order at your bank, so you do not forget."
            )
        return (
            f"Maak elk bedrag over naar {format_iban(creditor_iban)} van {creditor_name}. "
            f"Zet bij de omschrijving altijd: {reference}. Dan weten wij dat het voor uw "
            "regeling is. Tip: zet bij uw bank een automatische overboeking klaar. Dan vergeet "
            "u het niet."
        )
    if en:
        return (
            f"Pay through your personal page. With a bank transfer, always put {reference} in "
            "the description."
        )
    return (
        f"Betaal via uw persoonlijke pagina. Zet bij een overboeking altijd {reference} in de "
        "omschrijving."
    )


def payment_url(*, portal_url: str, message: Message | None = None) -> str:
    """The link to pay online: the pay page behind the message's personal link, where the
    debtor pays everything or part of it with iDEAL (``/p/<token>/betalen/``).

    Not a fixed-amount payment link (``/b/<code>/``): a message can be read days later, after
    a transfer, costs or interest changed the balance, and the pay page always asks for what is
    open now and allows a partial payment. A ``betaalverzoek`` carries its payment link in the
    message's context instead, which wins over this.

    >>> payment_url(portal_url="https://pay.example/p/abc/")
    'https://pay.example/p/abc/betalen/'
    """
    if not portal_url:
        return ""
    return portal_url.rstrip("/") + "/betalen/"


SAMPLE_TOKEN = "VOORBEELD-voorbeeld-VOORBEELD-vb"  # as long as a real token (32 characters)


def _links(message: Message, now: datetime) -> tuple[str, str]:
    """The portal and payment links: reused from the message's context (a retry sends the same
    text), a new personal link for a saved message, a sample link for a preview."""
    from vaarwater.portal.tokens import access_token_issue, portal_url

    if message.purpose == "verify" or message.template in NO_LINK_KEYS:
        return "", ""
    context = message.context or {}
    portal = context.get("portal_url") or ""
    if not portal:
        if message.pk is not None:
            token = access_token_issue(
                creditor_id=message.creditor_id,
                debtor_id=message.debtor_id,
                case_id=message.case_id,
                now=now,
            )
        else:
            token = SAMPLE_TOKEN
        portal = portal_url(token)
    payment = context.get("payment_url") or payment_url(portal_url=portal, message=message)
    return portal, payment


def _handover(message: Message) -> tuple[str, str]:
    """(kind, party) of the hand-over the case's strategy path ends with: context first."""
    context = message.context or {}
    if context.get("handover_to"):
        return context["handover_to"], context.get("handover_party", "")
    if message.case_id is None:
        return "", ""
    case = message.case
    document = case.strategy_version.document or {}
    steps = (document.get("paths") or {}).get(case.path) or []
    if case.variant != "champion":
        for challenger in document.get("challengers") or []:
            if challenger.get("name") == case.variant and case.path in (
                challenger.get("paths") or {}
            ):
                steps = challenger["paths"][case.path]
    for step in steps:
        if step.get("step") == "hand_over":
            return step.get("to", ""), step.get("party", "")
    return "", ""


HANDOVER_WORDS = {
    "agency": {"nl": "een incassobureau", "en": "a collection agency"},
    "bailiff": {"nl": "een gerechtsdeurwaarder", "en": "a bailiff"},
}


def _creditor_contact(phone: str, email: str, language: str) -> str:
    if language == "en":
        if phone and email:
            return f"call us on {phone} or email {email}"
        if phone:
            return f"call us on {phone}"
        if email:
            return f"email us at {email}"
        return "send us a message through your personal page"
    if phone and email:
        return f"ons bellen op {phone} of mailen naar {email}"
    if phone:
        return f"ons bellen op {phone}"
    if email:
        return f"ons mailen op {email}"
    return "ons een bericht sturen via uw persoonlijke pagina"


def _signal_data(sector: str, language: str) -> str:
    number = sector in SIGNAL_CUSTOMER_NUMBER
    if language == "en":
        items = "your name, address, phone number, email address"
        return items + (", customer number" if number else "") + " and the amount you owe"
    items = "uw naam, adres, telefoonnummer, e-mailadres"
    return items + (", klantnummer" if number else "") + " en het bedrag dat u nog moet betalen"


def message_variables(*, message: Message, now: datetime | None = None) -> dict:
    """The variables of one message, formatted for its language (see ``VARIABLES``).

    For a saved message without links in its context this issues a personal portal link.
    """
    language = message.language if message.language in LANGUAGES else DEFAULT_LANGUAGE
    return _variables(message, language, now or timezone.now())


def _variables(
    message: Message, language: str, now: datetime, source: Source | None = None
) -> dict:
    context = message.context or {}
    debtor, creditor = message.debtor, message.creditor
    sms = message.channel == Channel.SMS

    def money(key: str) -> str:
        return format_money(context.get(key), language, sms=sms)

    costs_cents = context.get("costs_cents")
    vat_cents = context.get("vat_cents") or 0
    net_costs = None if costs_cents is None else int(costs_cents) - int(vat_cents)
    portal, payment = _links(message, now)
    # The hand-over party costs a read of the case's strategy; only its texts need it.
    if source is None or "handover" in source.subject + source.body + (source.html or ""):
        handover_kind, handover_party = _handover(message)
    else:
        handover_kind, handover_party = "", ""
    reference = context.get("case") or (message.case.reference if message.case_id else "")
    phone = getattr(creditor, "phone", "") or ""
    email = getattr(creditor, "email", "") or ""
    remaining = context.get("remaining_cents")
    name = (debtor.name or "").strip()
    if language == "en":
        salutation = f"Dear {name}," if name else "Dear customer,"
    else:
        salutation = f"Beste {name}," if name else "Beste klant,"
    return {
        "name": name,
        "salutation": salutation,
        "customer_number": debtor.external_id,
        "case_reference": reference,
        "claim": money("claim_cents"),
        "principal": money("principal_cents"),
        "costs": format_money(net_costs, language, sms=sms),
        "vat": money("vat_cents") if vat_cents else "",
        "costs_incl_vat": money("costs_cents"),
        "has_vat": bool(vat_cents),
        "oldest_due": format_day(context.get("oldest_due"), language),
        "receipt_on": format_day(context.get("receipt_on"), language),
        "term_ends_on": format_day(context.get("term_ends_on"), language),
        "term_wording": (
            TERM_WORDING["en"]
            if language == "en"
            else context.get("term_wording") or TERM_WORDING["nl"]
        ),
        "today": format_day(timezone.localdate(now), language),
        "portal_url": portal,
        "payment_url": payment,
        "unsubscribe_url": context.get("unsubscribe_url", ""),
        "creditor_name": creditor.name,
        "creditor_phone": phone,
        "creditor_email": email,
        "creditor_iban": format_iban(creditor.iban),
        "creditor_contact": _creditor_contact(phone, email, language),
        "debt_help_name": DEBT_HELP["name"],
        "debt_help_phone": DEBT_HELP["phone"],
        "debt_help_url": DEBT_HELP["url"],
        "signals_municipality": creditor.sector in SIGNAL_SECTORS,
        "signal_data": _signal_data(creditor.sector, language),
        "handover_to": HANDOVER_WORDS.get(handover_kind, {}).get(language, ""),
        "handover_party": handover_party,
        "plan_instalment": money("plan_instalment_cents"),
        "plan_count": str(context.get("plan_count") or ""),
        "plan_first_due": format_day(context.get("plan_first_due"), language),
        "plan_schedule": plan_schedule_text(context.get("plan_schedule"), language, sms=sms),
        "plan_reference": str(context.get("plan_reference") or ""),
        "plan_total": money("plan_total_cents"),
        "plan_waived_costs": (
            money("plan_waived_costs_cents") if context.get("plan_waived_costs_cents") else ""
        ),
        "plan_method": str(context.get("plan_method") or ""),
        "plan_how_to_pay": plan_how_to_pay(
            method=context.get("plan_method") or "",
            reference=context.get("plan_reference") or "",
            creditor_iban=creditor.iban,
            creditor_name=creditor.name,
            mandate_iban=context.get("plan_iban") or "",
            language=language,
        ),
        "plan_paid_count": str(context.get("plan_paid_count") or 0),
        "plan_first_link": bool(context.get("plan_first_link")),
        "plan_url": (portal.rstrip("/") + "/regeling/") if portal else "",
        "instalment_number": str(context.get("instalment_number") or ""),
        "replan": bool(context.get("replan")),
        "instalment_amount": money("instalment_cents"),
        "instalment_due": format_day(context.get("instalment_due"), language),
        "payment_amount": money("paid_cents"),
        "payment_date": format_day(context.get("paid_on"), language),
        "remaining": format_money(remaining, language, sms=sms) if remaining else "",
        "paid_in_full": remaining is not None and int(remaining) <= 0,
        "request_amount": money("request_cents"),
        "request_expires": format_day(context.get("expires_on"), language),
        "deferred_until": format_day(context.get("deferred_until"), language),
        "code": str(context.get("code") or ""),
        "request_summary": str(context.get("summary") or ""),
        "next_step": str(context.get("next_step") or ""),
        "collection_amount": money("collection_cents"),
        "collection_date": format_day(context.get("collection_on"), language),
        "mandate_id": str(context.get("mandate_id") or ""),
        "creditor_sepa_id": str(
            context.get("creditor_sepa_id") or getattr(creditor, "sepa_creditor_id", "") or ""
        ),
        "pay_by": format_day(context.get("pay_by"), language),
        "mandate_ended": bool(context.get("mandate_ended")),
    }


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """What a message says: its subject (email, letter), text and HTML (email, letter), and the
    personal links it carries (for the outbox to keep in the message's context)."""

    subject: str
    text: str
    html: str
    portal_url: str = ""
    payment_url: str = ""


def text_to_html(text: str) -> str:
    """Plain message text as HTML: blank lines part paragraphs, lines starting with ``- `` make
    a list, links become clickable; everything else is escaped.

    >>> print(text_to_html("Hallo <b>\\nZo:\\n- een\\n- twee\\n\\nKlaar"))
    <p>Hallo &lt;b&gt;<br>
    Zo:</p>
    <ul>
    <li>een</li>
    <li>twee</li>
    </ul>
    <p>Klaar</p>
    """
    parts = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        items: list[str] = []
        for line in block.split("\n"):
            if line.startswith("- "):
                if lines:
                    parts.append("<p>" + "<br>\n".join(lines) + "</p>")
                    lines = []
                items.append(f"<li>{urlize(line[2:], autoescape=True)}</li>")
            else:
                if items:
                    parts.append("<ul>\n" + "\n".join(items) + "\n</ul>")
                    items = []
                lines.append(urlize(line, autoescape=True))
        if lines:
            parts.append("<p>" + "<br>\n".join(lines) + "</p>")
        if items:
            parts.append("<ul>\n" + "\n".join(items) + "\n</ul>")
    return "\n".join(parts)


LAYOUT_NAMES = frozenset({"subject", "body_html"})


def _layout(name: str, language: str):
    text = _file(MESSAGES_DIR / language / f"_layout.{name}.html")
    if text is None:
        text = _file(MESSAGES_DIR / DEFAULT_LANGUAGE / f"_layout.{name}.html")
    return None if text is None else sandbox_compile(text, LAYOUT_NAMES)


def _origin(source: Source) -> str:
    return f"{source.origin} template '{source.key}' ({source.channel}, {source.language})"


def source_render(source: Source, variables: dict) -> Content:
    """Render a template source with its variables; raise TemplateBroken with its origin."""
    try:
        text = _tidy(_render(sandbox_compile(source.body), variables, autoescape=False))
        subject = ""
        if source.subject and source.channel in (Channel.EMAIL, Channel.LETTER):
            rendered = _render(sandbox_compile(source.subject), variables, autoescape=False)
            subject = " ".join(rendered.split())
        html = ""
        if source.channel in (Channel.EMAIL, Channel.LETTER):
            if source.html is not None:
                body_html = _render(sandbox_compile(source.html), variables, autoescape=True)
            else:
                body_html = text_to_html(text)
            html = body_html
            layout = _layout(source.channel, source.language)
            if source.channel == Channel.EMAIL and layout is not None:
                context = {**variables, "subject": subject, "body_html": mark_safe(body_html)}
                html = _render(layout, context, autoescape=True)
    except TemplateSyntaxError as exc:
        raise TemplateBroken(f"{_origin(source)} does not compile: {exc}") from exc
    except TemplateBroken as exc:
        raise TemplateBroken(f"{_origin(source)}: {exc}") from exc
    return Content(
        subject=subject,
        text=text,
        html=html,
        portal_url=variables.get("portal_url", ""),
        payment_url=variables.get("payment_url", ""),
    )


def message_content(*, message: Message, now: datetime | None = None) -> Content:
    """Render a message: the creditor's own text or the shipped default, in the message's
    language (English falls back to Dutch). Raises TemplateMissing or TemplateBroken."""
    source = template_source(
        creditor=message.creditor_id,
        key=message.template,
        channel=message.channel,
        language=message.language,
    )
    variables = _variables(message, source.language, now or timezone.now(), source)
    return source_render(source, variables)


# -- samples and previews ---------------------------------------------------------------------


def _sample_context(creditor, key: str, today: date) -> dict:
    from vaarwater.strategy.models import case_reference

    principal = 24550
    context = {
        "case": case_reference(4321),
        "claim_cents": principal,
        "oldest_due": (today - timedelta(days=24)).isoformat(),
    }
    if key == "veertiendagenbrief":
        add_vat = not creditor.can_reclaim_vat
        base = collection_costs(from_cents(principal))
        costs = collection_costs(from_cents(principal), add_vat=add_vat)
        receipt = add_business_days(today, 2)
        context.update(
            principal_cents=principal,
            costs_cents=to_cents(costs),
            vat_cents=to_cents(costs - base) if add_vat else 0,
            receipt_on=receipt.isoformat(),
            term_ends_on=roll_forward(receipt + timedelta(days=14)).isoformat(),
            term_wording=TERM_WORDING["nl"],
        )
    elif key == "regeling-aanbod":
        context.update(
            plan_instalment_cents=4910,
            plan_count=5,
            plan_first_due=(today + timedelta(days=7)).isoformat(),
        )
    elif key in PLAN_KEYS:
        context.update(_sample_plan(key, today, principal))
    elif key == "bedankt-betaling":
        context.update(paid_cents=principal, paid_on=today.isoformat(), remaining_cents=0)
    elif key == "betaalverzoek":
        context.update(request_cents=principal, expires_on=(today + timedelta(days=14)).isoformat())
    elif key == "uitstel-herinnering":
        context.update(deferred_until=(today + timedelta(days=1)).isoformat())
    elif key == "verificatiecode":
        context.update(code="123456")
    elif key in ("incasso-vooraankondiging", "incasso-gestorneerd"):
        returned = key == "incasso-gestorneerd"
        context.update(
            collection_cents=4910,
            collection_on=(today + timedelta(days=-3 if returned else 5)).isoformat(),
            mandate_id="VW-ENERGIE-100234-1",
            creditor_sepa_id=creditor.sepa_creditor_id or "NL69ZZZ123456780000",
            amount_cents=4910,
        )
        if returned:
            context.update(pay_by=(today + timedelta(days=7)).isoformat(), mandate_ended=False)
    elif key == "melding-ontvangen":
        context.update(
            summary="U heeft laten weten dat u het niet eens bent met factuur F-1001.",
            next_step="Een medewerker bekijkt uw melding en neemt binnen 3 werkdagen contact op.",
        )
    elif key == "overdracht-aankondiging":
        kind, party = _sample_handover(creditor)
        context.update(handover_to=kind, handover_party=party)
    return context


# The template keys about an agreed plan (arrangements/followup.py sends most of them).
PLAN_KEYS = frozenset(
    {
        "regeling-bevestiging",
        "termijn-herinnering",
        "termijn-bedankt",
        "termijn-gemist",
        "regeling-voltooid",
        "regeling-beeindigd",
    }
)


def _sample_plan(key: str, today: date, principal: int) -> dict:
    """A sample plan of five payments of € 49,10 (the sample claim), costs of € 40,00 waived."""
    first = today + timedelta(days=7)
    schedule = [[(first + timedelta(days=30 * n)).isoformat(), 4910] for n in range(5)]
    context = {
        "plan_reference": "RGL000432101",
        "plan_method": "transfer",
        "plan_count": 5,
        "plan_instalment_cents": 4910,
        "plan_first_due": first.isoformat(),
        "plan_total_cents": principal,
        "plan_waived_costs_cents": 4000,
        "plan_schedule": schedule,
        "plan_paid_count": 0,
    }
    if key == "termijn-herinnering":
        context.update(
            instalment_number=2,
            instalment_cents=4910,
            amount_cents=4910,
            instalment_due=(today + timedelta(days=3)).isoformat(),
            plan_paid_count=1,
        )
    elif key == "termijn-bedankt":
        context.update(
            instalment_number=3,
            paid_cents=4910,
            paid_on=today.isoformat(),
            plan_paid_count=3,
            remaining_cents=2 * 4910,
        )
    elif key == "termijn-gemist":
        context.update(
            instalment_number=2,
            instalment_cents=4910,
            amount_cents=4910,
            instalment_due=(today - timedelta(days=5)).isoformat(),
            plan_paid_count=1,
            replan=True,
        )
    elif key == "regeling-voltooid":
        context.update(plan_paid_count=5, remaining_cents=0)
    elif key == "regeling-beeindigd":
        context.update(plan_paid_count=1, claim_cents=principal - 4910 + 4000, replan=True)
    return context


def _sample_handover(creditor) -> tuple[str, str]:
    """The hand-over of the creditor's latest strategy version; else by sector."""
    from vaarwater.strategy.models import StrategyVersion

    version = StrategyVersion.objects.filter(creditor=creditor).order_by("-number").first()
    for steps in ((version.document or {}).get("paths") or {}).values() if version else ():
        for step in steps:
            if step.get("step") == "hand_over":
                return step.get("to", "agency"), step.get("party", "")
    if creditor.sector in ("energy", "water"):
        return "agency", "Incassobureau"
    return "bailiff", "Gerechtsdeurwaarder"


def sample_message(*, creditor, key: str, channel: str, language: str) -> Message:
    """An unsaved message of a sample customer, with sample amounts and dates, for a preview."""
    from vaarwater.ledger.models import Debtor

    debtor = Debtor(
        creditor=creditor,
        external_id="100234",
        name="Jan de Vries",
        street="Dorpsstraat",
        house_number="12",
        postcode="1234AB",
        city="Utrecht",
        language=language,
    )
    return Message(
        creditor=creditor,
        debtor=debtor,
        channel=channel,
        template=key,
        language=language,
        purpose="preview",
        not_before=timezone.now(),
        context=_sample_context(creditor, key, timezone.localdate()),
    )


def sample_render(
    *, creditor, key: str, channel: str, language: str, source: Source | None = None
) -> Content:
    """Render a template (the one in use, or ``source``) for the sample customer."""
    message = sample_message(creditor=creditor, key=key, channel=channel, language=language)
    if source is None:
        source = template_source(creditor=creditor, key=key, channel=channel, language=language)
    return source_render(source, _variables(message, source.language, timezone.now(), source))


# -- SMS length -------------------------------------------------------------------------------

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[int, str]:
    """How many SMS parts a text needs, and its encoding ("GSM-7" or "UCS-2").

    GSM-7: 160 septets in one part, 153 per part when split; ``€`` and a few signs take two.
    Any other character (``ë``, ``’``, emoji) makes the whole text UCS-2: 70, then 67 per part.

    >>> sms_segments("a" * 160)
    (1, 'GSM-7')
    >>> sms_segments("a" * 161)
    (2, 'GSM-7')
    >>> sms_segments("financiële")
    (1, 'UCS-2')
    """
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return (1 if septets <= 160 else math.ceil(septets / 153)), "GSM-7"
    units = len(text.encode("utf-16-le")) // 2
    return (1 if units <= 70 else math.ceil(units / 67)), "UCS-2"


# -- a creditor's own texts -------------------------------------------------------------------


def template_check(
    *, creditor, key: str, channel: str, language: str, subject: str, body: str
) -> Source:
    """Check a creditor's own text before it is stored: it compiles in the sandbox, uses only
    the listed variables, renders for the sample customer and, for the 14-day letter, still
    says what the law requires. Returns the source; raises ValidationError per field."""
    errors: dict[str, list[str]] = {}
    if not body.strip():
        errors.setdefault("body", []).append(_("The text may not be empty."))
    if len(body) > MAX_BODY_CHARS:
        errors.setdefault("body", []).append(
            _("The text is too long (at most %(max)s characters).") % {"max": MAX_BODY_CHARS}
        )
    if channel == Channel.EMAIL and not subject.strip():
        errors.setdefault("subject", []).append(_("An email needs a subject."))
    for field, text in (("subject", subject), ("body", body)):
        if field in errors or not text:
            continue
        try:
            sandbox_compile(text)
        except TemplateSyntaxError as exc:
            errors.setdefault(field, []).append(str(exc))
    if errors:
        raise ValidationError(errors)
    source = Source(key, channel, language, subject.strip(), body, origin="own")
    try:
        content = sample_render(
            creditor=creditor, key=key, channel=channel, language=language, source=source
        )
    except TemplateBroken as exc:
        raise ValidationError({"body": [str(exc)]}) from exc
    if key == "veertiendagenbrief":
        message = sample_message(creditor=creditor, key=key, channel=channel, language=language)
        variables = _variables(message, language, timezone.now())
        required = [variables["term_wording"], variables["principal"], variables["costs_incl_vat"]]
        if variables["has_vat"]:
            required.append(variables["vat"])
        lacking = [item for item in required if item not in content.text]
        if lacking:
            raise ValidationError(
                {
                    "body": [
                        _(
                            "A 14-day letter must state the term in the legal words "
                            "({{ term_wording }}), the principal ({{ principal }}) and the exact "
                            "collection costs ({{ costs_incl_vat }}, and {{ vat }} when VAT is "
                            "added). Missing: %(missing)s"
                        )
                        % {"missing": "; ".join(lacking)}
                    ]
                }
            )
    return source


def _known(key: str, channel: str, language: str) -> None:
    if key not in TEMPLATE_KEYS or channel not in CHANNELS or language not in LANGUAGES:
        raise TemplateMissing(key, channel, language)


@transaction.atomic
def message_template_save(
    *, creditor, key: str, channel: str, language: str, subject: str, body: str, actor: Actor
) -> MessageTemplate:
    """Store the creditor's own text for a key, channel and language, after ``template_check``.
    Raises ValidationError (per field) for a text that would not render or not be lawful."""
    _known(key, channel, language)
    if channel not in (Channel.EMAIL, Channel.LETTER):
        subject = ""
    body = body.replace("\r\n", "\n")
    template_check(
        creditor=creditor, key=key, channel=channel, language=language, subject=subject, body=body
    )
    row, created = MessageTemplate.objects.update_or_create(
        creditor=creditor,
        key=key,
        channel=channel,
        language=language,
        defaults={"subject": subject.strip(), "body": body, "updated_by": actor.label[:150]},
    )
    event_record(
        creditor=creditor,
        verb="message_template.saved",
        actor=actor,
        subject=row,
        reason=f"eigen tekst {'gemaakt' if created else 'gewijzigd'}: "
        f"{key} ({channel}, {language})",
        data={"key": key, "channel": channel, "language": language, "created": created},
    )
    return row


@transaction.atomic
def message_template_restore(
    *, creditor, key: str, channel: str, language: str, actor: Actor
) -> bool:
    """Delete the creditor's own text, so the shipped default is used again; False if none."""
    row = (
        MessageTemplate.objects.select_for_update()
        .filter(creditor=creditor, key=key, channel=channel, language=language)
        .first()
    )
    if row is None:
        return False
    event_record(
        creditor=creditor,
        verb="message_template.restored",
        actor=actor,
        subject=row,
        reason=f"standaardtekst terug: {key} ({channel}, {language})",
        data={"key": key, "channel": channel, "language": language, "body": row.body},
    )
    row.delete()
    return True
