"""The portal's chat assistant: answers from the FAQ and from the debtor's own case.

``chat_answer`` understands a question with the local matcher (``assist``), answers it in the
page's language, and logs it as a ``ChatQuestion`` with the message the debtor received last
(so the creditor sees which letters cause questions). Some intents are answered from the
debtor's own data: what they owe, why costs were added, the next step, how to pay, whether a
payment came in. What it cannot answer it says honestly, offering a priority callback; after
two such questions in one conversation it plans a call for an agent (``chat_callback_plan``).

Answers are data (paragraphs of plain text and ``(label, page)`` links to portal pages), never
HTML: the template escapes everything, the question above all.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from vaarwater.contact.models import CallTask, CallTaskKind, Message
from vaarwater.contact.rendering import format_day, format_iban
from vaarwater.contact.services import FOLLOW_UP_HOURS, call_task_create, follow_up_window
from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import Component, ContactKind, LedgerEntry, Payment
from vaarwater.ledger.selectors import debtor_position
from vaarwater.strategy.models import CaseStatus, CostCharge, Handover, LegalNotice
from vaarwater.strategy.selectors import case_next_step

from .assist import Intent
from .faq import entry_key, entry_phrases, faq_entries, matcher_for
from .models import ChatQuestion

TZ = ZoneInfo("Europe/Amsterdam")
MAX_QUESTION = 500
# A debtor (or a script with their link) asking more than this in an hour gets no answers.
MAX_QUESTIONS_PER_HOUR = 30
# Unanswered questions in one conversation before an agent is asked to call back.
UNANSWERED_FOR_CALLBACK = 2
CALLBACK_PRIORITY = 70

# Intents answered from the debtor's own data (and small talk), with phrasings in both
# languages, so that they work whatever FAQ the creditor loaded.
BUILTIN_PHRASES: dict[str, tuple[str, ...]] = {
    "balance": (
        "hoeveel moet ik betalen",
        "hoeveel moet ik nog betalen",
        "wat moet ik betalen",
        "wat is mijn saldo",
        "saldo",
        "openstaand bedrag",
        "wat staat er nog open",
        "how much do I owe",
        "how much do I still have to pay",
        "what is my balance",
        "balance",
        "amount due",
    ),
    "why_costs": (
        "waarom incassokosten",
        "waarom zijn er kosten bijgekomen",
        "waarom moet ik kosten betalen",
        "waarom is het bedrag hoger",
        "welke kosten zijn er bijgekomen",
        "waarom moet ik meer betalen",
        "waar komen de kosten vandaan",
        "ik begrijp de incassokosten niet",
        "why were costs added",
        "why collection costs",
        "why do I have to pay costs",
        "why is the amount higher",
        "which costs were added",
        "why do I have to pay more",
        "where do these costs come from",
        "I don't understand the costs",
    ),
    "next_step": (
        "wat is de volgende stap",
        "wat gebeurt er nu",
        "wat gaan jullie nu doen",
        "wanneer krijg ik de volgende brief",
        "what is the next step",
        "what happens next",
        "what will you do next",
        "when do I get the next letter",
    ),
    "how_to_pay": (
        "hoe kan ik betalen",
        "hoe betaal ik",
        "naar welk rekeningnummer",
        "betalen met ideal",
        "hoe maak ik het geld over",
        "waar kan ik betalen",
        "how can I pay",
        "how do I pay",
        "which account number",
        "pay with ideal",
        "where can I pay",
        "how do I transfer the money",
    ),
    "payment_received": (
        "ik heb al betaald",
        "ik heb betaald",
        "heeft u mijn betaling ontvangen",
        "is mijn betaling binnen",
        "I already paid",
        "I have already paid",
        "did you receive my payment",
        "did you get my payment",
        "I paid",
        "has my payment arrived",
    ),
    "plan": (
        "kan ik in termijnen betalen",
        "betalingsregeling",
        "kan ik een regeling treffen",
        "can I pay in instalments",
        "payment plan",
        "can I get a payment arrangement",
    ),
    "cant_pay": (
        "ik kan niet betalen",
        "ik heb geen geld",
        "ik ben blut",
        "I can't pay",
        "I have no money",
        "I am broke",
    ),
    "talk_to_person": (
        "ik wil iemand spreken",
        "bel mij terug",
        "kan ik iemand bellen",
        "I want to talk to a person",
        "call me back",
        "can I call someone",
    ),
    "greeting": ("hallo", "hoi", "goedemorgen", "goedemiddag", "hello", "hi", "good morning"),
    "thanks": ("bedankt", "dank je wel", "dank u wel", "thanks", "thank you"),
}
BUILTIN = tuple(Intent(name, phrases) for name, phrases in BUILTIN_PHRASES.items())

# Portal pages an answer may link to (route names under ``portal:``), with their labels.
LINK_LABELS = {
    "nl": {
        "landing": "Overzicht",
        "pay": "Betalen",
        "plan": "Betalingsregeling",
        "defer": "Later betalen",
        "problem": "Probleem melden",
        "help": "Hulp",
        "details": "Mijn gegevens",
        "callback": "Bel mij terug",
    },
    "en": {
        "landing": "Overview",
        "pay": "Pay",
        "plan": "Payment plan",
        "defer": "Pay later",
        "problem": "Report a problem",
        "help": "Help",
        "details": "My details",
        "callback": "Call me back",
    },
}
# The pages an FAQ answer points to, by its intent.
INTENT_LINKS = {
    "why_letter": ("landing",),
    "balance": ("landing", "pay"),
    "how_to_pay": ("pay",),
    "plan": ("plan", "callback"),
    "defer": ("defer",),
    "cant_pay": ("problem", "help", "callback"),
    "dispute": ("problem",),
    "payment_received": ("landing", "callback"),
    "payment_time": ("landing",),
    "why_costs": ("landing", "problem"),
    "fourteen_day_letter": ("landing",),
    "interest": ("landing",),
    "no_payment": ("plan", "callback"),
    "municipality": ("help",),
    "debt_help": ("help",),
    "change_details": ("details", "problem"),
    "stop_messages": ("details",),
    "phishing": ("callback",),
    "talk_to_person": ("callback",),
    "paid_too_much": ("callback",),
}

TEXTS = {
    "nl": {
        "unknown": "Sorry, deze vraag kan ik niet goed beantwoorden. Wilt u dat een medewerker "
        "u terugbelt? Kies dan 'Bel mij terug'. Wij bellen u met voorrang.",
        "rephrase": "U kunt uw vraag ook anders stellen, bijvoorbeeld: 'Hoeveel moet ik nog "
        "betalen?' of 'Kan ik in termijnen betalen?'",
        "callback_planned": "Ik kon uw vragen niet beantwoorden. Daarom heb ik ze doorgegeven "
        "aan een medewerker. Die belt u op {day} tussen {start} en {end} uur.",
        "callback_no_phone": "Wij hebben nog geen telefoonnummer van u. Geef uw nummer door via "
        "'Bel mij terug'.",
        "too_many": "U heeft veel vragen gesteld. Wilt u iemand spreken? Kies 'Bel mij terug'.",
        "hello": "Hallo! Stel uw vraag hieronder. Bijvoorbeeld: 'Hoeveel moet ik nog betalen?'",
        "thanks": "Graag gedaan! Heeft u nog een vraag? Stel die gerust.",
        "nothing_to_pay": "U hoeft op dit moment niets te betalen. Dank u wel!",
        "credit": "U heeft een tegoed van {credit} bij ons.",
        "balance": "U moet in totaal nog {balance} betalen.",
        "balance_overdue": "Daarvan is {overdue} over de betaaldatum.",
        "balance_parts": "Dit bedrag bestaat uit {parts}.",
        "part_principal": "{amount} voor de rekening",
        "part_costs": "{amount} incassokosten",
        "part_interest": "{amount} wettelijke rente",
        "and": " en ",
        "costs_charged": "Op {charged_on} zijn er {costs} incassokosten bijgeboekt.",
        "costs_because": "Dat mocht, omdat wij u op {sent_on} de veertiendagenbrief stuurden "
        "({channel}). Daarin stond dat deze kosten erbij zouden komen als u niet binnen 14 dagen "
        "na ontvangst betaalde. Die termijn liep tot en met {term_ends_on}.",
        "costs_pending": "Er zijn nog geen incassokosten bijgeboekt. Op {sent_on} stuurden wij u "
        "de veertiendagenbrief ({channel}). Betaalt u uiterlijk {term_ends_on}? Dan komen er "
        "geen incassokosten bij. Anders komt er {costs} bij.",
        "costs_due": "Er zijn nog geen incassokosten bijgeboekt. Op {sent_on} stuurden wij u de "
        "veertiendagenbrief ({channel}). De termijn daarin liep tot en met {term_ends_on}. Is "
        "het bedrag toen niet betaald? Dan komt er {costs} aan incassokosten bij.",
        "costs_none": "Er zijn geen incassokosten bij u in rekening gebracht.",
        "costs_other": "Er staat {costs} aan kosten op uw rekening.",
        "interest_booked": "Er is ook {interest} wettelijke rente berekend, omdat de rekening "
        "te laat is betaald.",
        "costs_law": "De wet bepaalt wanneer wij incassokosten mogen rekenen en hoe hoog die "
        "zijn. Klopt er volgens u iets niet? Meld het via 'Probleem melden'.",
        "via_letter": "per brief",
        "via_email": "per e-mail",
        "no_case": "Er loopt op dit moment geen dossier bij ons. U hoeft niets te doen.",
        "closed": "Uw dossier is gesloten. U hoeft niets meer te doen.",
        "handed_over": "Uw dossier is op {day} overgedragen aan {party}. Heeft u vragen over de "
        "betaling? Neem dan contact op met {party}.",
        "held": "Uw dossier staat stil tot en met {until}, omdat {why}. Tot dan sturen wij u geen "
        "herinneringen.",
        "end_of_path": "Er staan op dit moment geen nieuwe stappen gepland. Heeft u vragen? "
        "Laat u dan terugbellen.",
        "step_on": "Volgende stap: rond {day} {action}.",
        "step_soon": "Volgende stap: binnenkort {action}.",
        "prevent": "Betaalt u eerder, of kiest u een betalingsregeling? Dan gebeurt dit niet.",
        "pay_ideal": "U kunt {balance} nu online betalen met iDEAL. Kies hieronder 'Betalen'.",
        "pay_transfer": "U kunt het bedrag ook overmaken naar {iban} ten name van {name}. Zet "
        "'{reference}' in de omschrijving.",
        "payment_last": "Wij hebben uw laatste betaling ontvangen op {day}: {amount}.",
        "payment_none": "Wij hebben nog geen betaling van u ontvangen.",
        "payment_time": "Een betaling met iDEAL zien wij meteen. Een overboeking is meestal "
        "binnen 1 tot 3 werkdagen bij ons. Heeft u langer geleden betaald? Laat u dan "
        "terugbellen.",
        "still_open": "U moet nog {balance} betalen.",
        "all_paid": "Alles is betaald. Dank u wel!",
        "plan": "U kunt zelf een betalingsregeling kiezen. Kies hieronder 'Betalingsregeling'. "
        "Past geen enkele regeling? Laat u dan terugbellen.",
        "cant_pay": "Dat kan iedereen overkomen. Laat het ons weten via 'Probleem melden', dan "
        "zoeken we samen naar een oplossing. Of laat u terugbellen.",
        "debt_help": "Heeft u geldzorgen? U kunt gratis en anoniem hulp krijgen. Bel Geldfit op "
        "0800-8115. Ook uw gemeente helpt gratis.",
        "talk": "Wilt u met iemand praten? Kies 'Bel mij terug'. Dan bellen wij u met voorrang.",
        "talk_phone": "U kunt ons ook zelf bellen: {phone}.",
    },
    "en": {
        "unknown": "Sorry, I cannot answer this question well. Would you like someone to call "
        "you back? Choose 'Call me back'. We will call you with priority.",
        "rephrase": "You can also ask in other words, for example: 'How much do I owe?' or 'Can "
        "I pay in instalments?'",
        "callback_planned": "I could not answer your questions, so I have passed them on to a "
        "member of our staff. They will call you on {day} between {start} and {end}.",
        "callback_no_phone": "We do not have your phone number yet. Please give us your number "
        "via 'Call me back'.",
        "too_many": "You have asked many questions. Would you like to talk to someone? Choose "
        "'Call me back'.",
        "hello": "Hello! Ask your question below. For example: 'How much do I owe?'",
        "thanks": "You are welcome! Do you have another question? Just ask.",
        "nothing_to_pay": "You do not have to pay anything at the moment. Thank you!",
        "credit": "You have a credit of {credit} with us.",
        "balance": "You have to pay {balance} in total.",
        "balance_overdue": "Of this, {overdue} is past its due date.",
        "balance_parts": "This amount is made up of {parts}.",
        "part_principal": "{amount} for the bill",
        "part_costs": "{amount} collection costs",
        "part_interest": "{amount} statutory interest",
        "and": " and ",
        "costs_charged": "On {charged_on}, collection costs of {costs} were added.",
        "costs_because": "This was allowed because we sent you the 14-day letter on {sent_on} "
        "({channel}). It said that these costs would be added if you did not pay within 14 days "
        "after receiving it. That term ran until {term_ends_on} (inclusive).",
        "costs_pending": "No collection costs have been added yet. On {sent_on} we sent you the "
        "14-day letter ({channel}). If you pay by {term_ends_on}, no collection costs are added. "
        "Otherwise {costs} will be added.",
        "costs_due": "No collection costs have been added yet. On {sent_on} we sent you the "
        "14-day letter ({channel}). Its term ran until {term_ends_on} (inclusive). If the amount "
        "was not paid by then, collection costs of {costs} will be added.",
        "costs_none": "No collection costs have been charged to you.",
        "costs_other": "There are {costs} in costs on your bill.",
        "interest_booked": "Statutory interest of {interest} has also been charged, because the "
        "bill was paid late.",
        "costs_law": "The law says when we may charge collection costs and how high they are. "
        "Do you think something is wrong? Report it via 'Report a problem'.",
        "via_letter": "by post",
        "via_email": "by email",
        "no_case": "There is no open file with us at the moment. You do not need to do anything.",
        "closed": "Your file is closed. You do not need to do anything more.",
        "handed_over": "Your file was handed over to {party} on {day}. Do you have questions "
        "about paying? Please contact {party}.",
        "held": "Your file is paused until {until} (inclusive), because {why}. Until then we "
        "will not send you reminders.",
        "end_of_path": "No new steps are planned at the moment. Do you have questions? Ask us to "
        "call you back.",
        "step_on": "Next step: around {day} we will {action}.",
        "step_soon": "Next step: soon we will {action}.",
        "prevent": "If you pay before then, or choose a payment plan, this will not happen.",
        "pay_ideal": "You can pay {balance} online now with iDEAL. Choose 'Pay' below.",
        "pay_transfer": "You can also transfer the amount to {iban} in the name of {name}. Put "
        "'{reference}' in the description.",
        "payment_last": "We received your last payment on {day}: {amount}.",
        "payment_none": "We have not received a payment from you yet.",
        "payment_time": "A payment with iDEAL we see straight away. A bank transfer usually "
        "reaches us within 1 to 3 working days. Did you pay longer ago? Ask us to call you back.",
        "still_open": "You still have to pay {balance}.",
        "all_paid": "Everything is paid. Thank you!",
        "plan": "You can choose a payment plan yourself. Choose 'Payment plan' below. Does no "
        "plan fit? Ask us to call you back.",
        "cant_pay": "This can happen to anyone. Let us know via 'Report a problem' and we will "
        "look for a solution together. Or ask us to call you back.",
        "debt_help": "Do you have money worries? You can get free and anonymous help. Call "
        "Geldfit on 0800-8115. Your municipality also helps for free.",
        "talk": "Would you like to talk to someone? Choose 'Call me back'. We will call you with "
        "priority.",
        "talk_phone": "You can also call us yourself: {phone}.",
    },
}

# Why a case is paused, in words for the debtor (completing "because …").
HOLD_WHY = {
    "nl": {
        "dispute": "wij uitzoeken wat u over de rekening heeft gemeld",
        "arrangement": "u een betalingsregeling heeft",
        "promise": "u heeft beloofd te betalen",
        "debt_help": "u hulp krijgt bij uw schulden",
        "breathing_space": "er een adempauze geldt",
        "deferral": "u uitstel heeft gekregen",
        "review": "wij bekijken wat u heeft gemeld",
    },
    "en": {
        "dispute": "we are looking into what you told us about the bill",
        "arrangement": "you have a payment plan",
        "promise": "you promised to pay",
        "debt_help": "you are getting help with your debts",
        "breathing_space": "a breathing space (adempauze) applies",
        "deferral": "you were given more time to pay",
        "review": "we are looking at what you reported",
    },
}
HOLD_WHY_OTHER = {"nl": "wij uw dossier bekijken", "en": "we are looking at your file"}

# The next step of a strategy path, in words for the debtor. Dutch clauses start with the
# verb ("rond 5 mei sturen wij …"); English ones follow "we will".
PURPOSE_WORDS = {
    "nl": {
        "reminder": "een herinnering",
        "demand": "een aanmaning",
        "plan_offer": "een voorstel voor een betalingsregeling",
        "debt_help_referral": "informatie over gratis hulp bij geldzorgen",
        "info": "een bericht",
    },
    "en": {
        "reminder": "a reminder",
        "demand": "a demand for payment",
        "plan_offer": "a payment plan offer",
        "debt_help_referral": "information about free help with money worries",
        "info": "a message",
    },
}
CHANNEL_WORDS = {
    "nl": {
        "email": " per e-mail",
        "sms": " per sms",
        "whatsapp": " via WhatsApp",
        "letter": " per brief",
    },
    "en": {
        "email": " by email",
        "sms": " by text message",
        "whatsapp": " on WhatsApp",
        "letter": " by post",
    },
}
STEP_ACTIONS = {
    "nl": {
        "message": "sturen wij u {what}{channel}",
        "call_task": "proberen wij u te bellen",
        "fourteen_day_letter": "sturen wij u de veertiendagenbrief{channel}. Dat is een gratis "
        "herinnering. Daarin staat hoeveel incassokosten er bijkomen als u niet binnen 14 dagen "
        "na ontvangst betaalt",
        "charge_costs": "komen de incassokosten uit de veertiendagenbrief erbij{costs}",
        "start_interest": "gaan wij wettelijke rente rekenen over het bedrag dat openstaat",
        "offer_arrangement": "sturen wij u een voorstel voor een betalingsregeling{channel}",
        "municipal_signal": "geven wij uw betalingsachterstand door aan uw gemeente. De gemeente "
        "kan u dan gratis hulp aanbieden",
        "hand_over_agency": "dragen wij uw dossier over aan een incassobureau ({party})",
        "hand_over_bailiff": "dragen wij uw dossier over aan een deurwaarder ({party})",
        "pause": "laten wij uw dossier even rusten",
        "close": "sluiten wij uw dossier",
        "wait_promise": "wachten wij op de betaling die u heeft beloofd",
        "wait_reply": "wachten wij op uw reactie",
    },
    "en": {
        "message": "send you {what}{channel}",
        "call_task": "try to call you",
        "fourteen_day_letter": "send you the 14-day letter{channel}. That is a free reminder. "
        "It states how much collection costs will be added if you do not pay within 14 days "
        "after receiving it",
        "charge_costs": "add the collection costs stated in the 14-day letter{costs}",
        "start_interest": "start charging statutory interest on the open amount",
        "offer_arrangement": "send you a payment plan offer{channel}",
        "municipal_signal": "pass your payment arrears on to your municipality, so that it can "
        "offer you free help",
        "hand_over_agency": "hand your file over to a collection agency ({party})",
        "hand_over_bailiff": "hand your file over to a bailiff ({party})",
        "pause": "let your file rest for a while",
        "close": "close your file",
        "wait_promise": "wait for the payment you promised",
        "wait_reply": "wait for your reply",
    },
}
# Steps that a payment or a payment plan prevents.
PREVENTABLE = {
    "message",
    "call_task",
    "fourteen_day_letter",
    "charge_costs",
    "start_interest",
    "municipal_signal",
    "hand_over",
}


@dataclass
class ChatAnswer:
    """What the assistant says: paragraphs of plain text and links to portal pages."""

    intent: str
    score: float
    answered: bool
    paragraphs: list[str]
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, portal page)
    offer_callback: bool = False
    callback: CallTask | None = None
    question: ChatQuestion | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def link_urls(self, token: str) -> list[tuple[str, str]]:
        """The links as ``(label, url)`` for the debtor's personal link."""
        return [(label, reverse(f"portal:{page}", args=[token])) for label, page in self.links]


@dataclass
class _Context:
    debtor: object
    case: object
    language: str
    today: date
    _position: object = None

    @property
    def t(self) -> dict:
        return TEXTS[self.language]

    @property
    def position(self):
        if self._position is None:
            self._position = debtor_position(self.debtor)
        return self._position

    def eur(self, cents: int) -> str:
        return format_eur(cents, language=self.language)

    def day(self, value) -> str:
        return format_day(value, self.language)

    def links(self, *pages: str) -> list[tuple[str, str]]:
        return [(LINK_LABELS[self.language][page], page) for page in pages]


# -- answers from the debtor's own case -----------------------------------------------------


def _balance(ctx: _Context):
    t, position = ctx.t, ctx.position
    balance = position.balance
    if balance <= 0:
        lines = [t["nothing_to_pay"]]
        if balance < 0:
            lines.append(t["credit"].format(credit=ctx.eur(-balance)))
        return lines, ctx.links("landing"), False
    lines = [t["balance"].format(balance=ctx.eur(balance))]
    overdue = sum(i.total for i in position.items.values() if i.due_date < ctx.today)
    if 0 < overdue < balance:
        lines[0] += " " + t["balance_overdue"].format(overdue=ctx.eur(overdue))
    items = position.items.values()
    parts = [
        t[f"part_{name}"].format(amount=ctx.eur(cents))
        for name in ("principal", "costs", "interest")
        if (cents := sum(getattr(i, name) for i in items)) > 0
    ]
    if len(parts) > 1:
        joined = ", ".join(parts[:-1]) + t["and"] + parts[-1]
        lines.append(t["balance_parts"].format(parts=joined))
    return lines, ctx.links("pay", "plan", "defer"), False


def _via(ctx: _Context, channel: str) -> str:
    return ctx.t["via_email"] if channel == "email" else ctx.t["via_letter"]


def _why_costs(ctx: _Context):
    t, debtor = ctx.t, ctx.debtor
    lines = []
    charges = list(
        CostCharge.objects.filter(case__debtor=debtor)
        .select_related("notice")
        .order_by("charged_on", "pk")
    )
    for charge in charges:
        notice = charge.notice
        lines.append(
            t["costs_charged"].format(
                charged_on=ctx.day(charge.charged_on), costs=ctx.eur(charge.amount_cents)
            )
            + " "
            + t["costs_because"].format(
                sent_on=ctx.day(notice.sent_on),
                channel=_via(ctx, notice.channel),
                term_ends_on=ctx.day(notice.term_ends_on),
            )
        )
    booked = (
        LedgerEntry.objects.filter(debtor=debtor)
        .values("component")
        .annotate(s=Sum("amount_cents"))
    )
    totals = {row["component"]: row["s"] or 0 for row in booked}
    if not charges:
        notice = LegalNotice.objects.filter(case=ctx.case).first() if ctx.case is not None else None
        if notice is not None:
            key = "costs_pending" if ctx.today <= notice.term_ends_on else "costs_due"
            lines.append(
                t[key].format(
                    sent_on=ctx.day(notice.sent_on),
                    channel=_via(ctx, notice.channel),
                    term_ends_on=ctx.day(notice.term_ends_on),
                    costs=ctx.eur(notice.costs_cents + notice.vat_cents),
                )
            )
        elif totals.get(Component.COSTS, 0) > 0:
            lines.append(t["costs_other"].format(costs=ctx.eur(totals[Component.COSTS])))
        else:
            lines.append(t["costs_none"])
    if totals.get(Component.INTEREST, 0) > 0:
        lines.append(t["interest_booked"].format(interest=ctx.eur(totals[Component.INTEREST])))
    lines.append(t["costs_law"])
    return lines, ctx.links("landing", "problem"), False


def _step_text(ctx: _Context, case, step, due: date) -> list[str]:
    """The next step of the case's path in words, with when it is due."""
    language, t = ctx.language, ctx.t
    kind = step.step
    costs = ""
    if kind == "charge_costs":
        notice = LegalNotice.objects.filter(case=case).first()
        if notice is not None:
            costs = f" ({ctx.eur(notice.costs_cents + notice.vat_cents)})"
    channel = CHANNEL_WORDS[language].get(getattr(step, "channel", ""), "")
    if kind == "hand_over":
        action = STEP_ACTIONS[language][f"hand_over_{step.to}"].format(party=step.party)
    else:
        action = STEP_ACTIONS[language].get(kind, "")
        action = action.format(
            what=PURPOSE_WORDS[language].get(getattr(step, "purpose", "info"), ""),
            channel=channel,
            costs=costs,
        )
    if not action:
        return [t["end_of_path"]]
    line = (
        t["step_on"].format(day=ctx.day(due), action=action)
        if due > ctx.today
        else t["step_soon"].format(action=action)
    )
    return [line, t["prevent"]] if kind in PREVENTABLE else [line]


def step_sentence(*, debtor, case, step, due: date, language: str, today: date) -> str:
    """A case's next step as one sentence in the debtor's language, with its day (the
    overview page says it the same way as the chat)."""
    ctx = _Context(debtor=debtor, case=case, language=language, today=today)
    return _step_text(ctx, case, step, due)[0]


def _next_step(ctx: _Context):
    t, case = ctx.t, ctx.case
    if case is None:
        return [t["no_case"]], ctx.links("landing"), False
    if case.status == CaseStatus.CLOSED:
        handover = Handover.objects.filter(case=case).first()
        if handover is not None:
            text = t["handed_over"].format(day=ctx.day(handover.handed_on), party=handover.party)
            return [text], [], False
        return [t["closed"]], ctx.links("landing"), False
    try:
        upcoming = case_next_step(case, today=ctx.today)
    except ValueError:  # a stored document the schema no longer accepts
        upcoming = None
    hold = (
        upcoming.hold
        if upcoming is not None
        else case.holds.filter(released_on__isnull=True, until__gte=ctx.today)
        .order_by("-until")
        .first()
    )
    if hold is not None:
        why = HOLD_WHY[ctx.language].get(hold.kind, HOLD_WHY_OTHER[ctx.language])
        return [t["held"].format(until=ctx.day(hold.until), why=why)], ctx.links("landing"), False
    if upcoming is None:
        return [t["end_of_path"]], ctx.links("callback"), True
    lines = _step_text(ctx, case, upcoming.step, upcoming.due)
    return lines, ctx.links("pay", "plan", "defer"), False


def _how_to_pay(ctx: _Context):
    t, debtor = ctx.t, ctx.debtor
    balance = ctx.position.balance
    if balance <= 0:
        return [t["nothing_to_pay"]], ctx.links("landing"), False
    lines = [t["pay_ideal"].format(balance=ctx.eur(balance))]
    creditor = debtor.creditor
    if creditor.iban:
        reference = ctx.case.reference if ctx.case is not None else debtor.external_id
        lines.append(
            t["pay_transfer"].format(
                iban=format_iban(creditor.iban), name=creditor.name, reference=reference
            )
        )
    return lines, ctx.links("pay", "plan"), False


def _payment_received(ctx: _Context):
    t = ctx.t
    payment = Payment.objects.filter(debtor=ctx.debtor).order_by("-date", "-pk").first()
    balance = ctx.position.balance
    if payment is None:
        lines = [t["payment_none"], t["payment_time"]]
        return lines, ctx.links("landing", "callback"), True
    lines = [
        t["payment_last"].format(day=ctx.day(payment.date), amount=ctx.eur(payment.amount_cents))
    ]
    if balance > 0:
        lines.append(t["still_open"].format(balance=ctx.eur(balance)))
        lines.append(t["payment_time"])
        return lines, ctx.links("pay", "callback"), True
    lines.append(t["all_paid"])
    return lines, ctx.links("landing"), False


def _plan(ctx: _Context):
    return [ctx.t["plan"]], ctx.links("plan", "defer", "callback"), False


def _cant_pay(ctx: _Context):
    return [ctx.t["cant_pay"], ctx.t["debt_help"]], ctx.links("problem", "help", "callback"), True


def _talk_to_person(ctx: _Context):
    lines = [ctx.t["talk"]]
    phone = ctx.debtor.creditor.phone
    if phone:
        lines.append(ctx.t["talk_phone"].format(phone=phone))
    return lines, ctx.links("callback"), True


def _greeting(ctx: _Context):
    return [ctx.t["hello"]], [], False


def _thanks(ctx: _Context):
    return [ctx.t["thanks"]], [], False


CASE_ANSWERS = {
    "balance": _balance,
    "why_costs": _why_costs,
    "next_step": _next_step,
    "how_to_pay": _how_to_pay,
    "payment_received": _payment_received,
    "plan": _plan,
    "cant_pay": _cant_pay,
    "talk_to_person": _talk_to_person,
    "greeting": _greeting,
    "thanks": _thanks,
}
CASE_INTENTS = frozenset(CASE_ANSWERS)


# -- understanding and logging ----------------------------------------------------------------


def chat_intents(creditor, language: str):
    """The FAQ entries of the page's language and a matcher over every intent the chat knows.

    The other language's entries count too (a question in English on the Dutch page), but only
    for intents the page's language answers.
    """
    entries = faq_entries(creditor, language)
    other = faq_entries(creditor, "en" if language == "nl" else "nl")
    known = {entry_key(e) for e in entries} | CASE_INTENTS
    extra = tuple(
        Intent(e.intent, entry_phrases(e)) for e in other if e.intent and e.intent in known
    )
    return entries, matcher_for(entries, extra + BUILTIN)


def last_message(debtor, *, before: datetime) -> Message | None:
    """The newest message sent to the debtor before a moment (codes to verify left out)."""
    return (
        Message.objects.filter(debtor=debtor, sent_at__isnull=False, sent_at__lte=before)
        .exclude(purpose="verify")
        .order_by("-sent_at", "-pk")
        .first()
    )


def _answer_for(ctx: _Context, entries, matcher, text: str) -> ChatAnswer:
    match = matcher.best(text)
    if match is None:
        best = matcher.rank(text)
        score = best[0].score if best else 0.0
        paragraphs = [ctx.t["unknown"], ctx.t["rephrase"]]
        return ChatAnswer("", score, False, paragraphs, ctx.links("callback"), True)
    if match.intent in CASE_ANSWERS:
        paragraphs, links, offer = CASE_ANSWERS[match.intent](ctx)
        return ChatAnswer(match.intent, match.score, True, paragraphs, links, offer)
    entry = next(e for e in entries if entry_key(e) == match.intent)
    paragraphs = [p.strip() for p in entry.answer.split("\n\n") if p.strip()]
    pages = INTENT_LINKS.get(entry.intent, ())
    offer = "callback" in pages
    return ChatAnswer(match.intent, match.score, True, paragraphs, ctx.links(*pages), offer)


def chat_answer(
    *,
    debtor,
    case,
    text: str,
    language: str,
    earlier_unanswered: list[str] | tuple[str, ...] = (),
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ChatAnswer:
    """Answer a debtor's question and log it; plan a callback after repeated non-answers.

    ``earlier_unanswered`` are the questions of this conversation the assistant could not
    answer before; with this one unanswered too, an agent is asked to call back.
    """
    now = now or timezone.now()
    language = language if language in TEXTS else "nl"
    text = " ".join((text or "").split())[:MAX_QUESTION]
    actor = actor or Actor(kind="debtor", label=debtor.name)
    ctx = _Context(debtor=debtor, case=case, language=language, today=timezone.localdate(now))
    recent = ChatQuestion.objects.filter(
        debtor=debtor, created_at__gte=now - timedelta(hours=1)
    ).count()
    if recent >= MAX_QUESTIONS_PER_HOUR:
        return ChatAnswer("", 0.0, False, [ctx.t["too_many"]], ctx.links("callback"), True)
    entries, matcher = chat_intents(debtor.creditor, language)
    answer = _answer_for(ctx, entries, matcher, text)
    message = last_message(debtor, before=now)
    with transaction.atomic():
        question = ChatQuestion.objects.create(
            creditor_id=debtor.creditor_id,
            debtor=debtor,
            case=case,
            text=text,
            language=language,
            intent=answer.intent,
            score=answer.score,
            answered=answer.answered,
            answer=answer.text,
            message=message,
            template=message.template if message is not None else "",
        )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="portal.chat_question",
            actor=actor,
            subject=question,
            reason=(
                f"vraag in de chat: \u201c{text[:120]}\u201d; "
                + (f"beantwoord als '{answer.intent}'" if answer.answered else "niet beantwoord")
            ),
            data={"intent": answer.intent, "score": answer.score, "template": question.template},
        )
        answer.question = question
        unanswered = [*earlier_unanswered, text]
        if not answer.answered and len(unanswered) >= UNANSWERED_FOR_CALLBACK:
            answer.callback = chat_callback_plan(
                debtor=debtor, case=case, questions=unanswered, on=ctx.today, actor=actor
            )
            window = answer.callback.window_start.astimezone(TZ)
            answer.paragraphs = [
                ctx.t["callback_planned"].format(
                    day=ctx.day(window.date()),
                    start=f"{FOLLOW_UP_HOURS[0]:%H:%M}",
                    end=f"{FOLLOW_UP_HOURS[1]:%H:%M}",
                )
            ]
            if not _has_phone(debtor):
                answer.paragraphs.append(ctx.t["callback_no_phone"])
    return answer


def _has_phone(debtor) -> bool:
    return debtor.contact_points.filter(
        kind__in=(ContactKind.PHONE, ContactKind.WHATSAPP), invalid_since__isnull=True
    ).exists()


@transaction.atomic
def chat_callback_plan(*, debtor, case, questions, on: date, actor: Actor) -> CallTask:
    """Plan a priority call for the next business day: the chat could not answer.

    One task per debtor per day; a later question that day is added to its reason.
    """
    start, end = follow_up_window(on)
    day = start.date()
    asked = "; ".join(f"\u201c{q[:200]}\u201d" for q in questions)
    reason = f"klant stelde in de chat vragen die niet beantwoord konden worden: {asked}"
    if not _has_phone(debtor):
        reason += " (geen geldig telefoonnummer bekend)"
    task, created = call_task_create(
        debtor=debtor,
        case=case,
        kind=CallTaskKind.CHAT,
        priority=CALLBACK_PRIORITY,
        start=start,
        end=end,
        reason=reason,
        key=f"chat-{debtor.pk}-{on.isoformat()}",
        actor=actor,
        event_reason=f"terugbellen op {day.isoformat()} 09:00-17:00: de chat kon vragen van de "
        "klant niet beantwoorden",
    )
    if not created:
        new = f"\u201c{questions[-1][:200]}\u201d"
        if new not in task.reason:
            CallTask.objects.filter(pk=task.pk).update(reason=f"{task.reason}; {new}")
            task.reason = f"{task.reason}; {new}"
    return task
