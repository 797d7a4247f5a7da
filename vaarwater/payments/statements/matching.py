"""Match incoming payments on a statement to the debtor they are from, and book them.

For each new entry of a known creditor, in order:

0. ``vaarwater.payments.sepa.statement_entry_handle(entry)``: a direct-debit settlement or
   return is the SEPA module's business; when it says it handled the entry, that is that.
1. A debit (money out) is not a customer payment: IGNORED, except a reversal of an earlier
   credit (the bank took a payment back), which reverses the payment it booked.
2. **reference**: the description names an arrangement's payment reference, an invoice
   number, a case reference (``000012-7``), a customer number or a payment-link code of
   exactly one debtor. A short or bare number (``2026``, ``12345``) counts only after a word
   that says what it is ("factuur 12345", "klant 12345") or with the debtor's IBAN or name.
3. **IBAN**: the other party's IBAN is the known IBAN of exactly one debtor (their own, or
   an active SEPA mandate's), and that debtor owes something.
4. **amount and name**: exactly one debtor owes exactly this amount (their balance, one open
   invoice, or an open instalment) and has a name like the other party's
   (``text.names_similar``: at least half of the shorter name's words, one of them the
   customer's family name, ignoring titles, initials, particles and "en"; words count as
   the same at difflib ratio 0.85).

A match is booked with ``payment_book`` (source BANK, allocation by art. 6:44 BW; a matched
invoice number is passed as the reference, so that invoice is the designated claim of art.
6:43 BW); anything ambiguous or unknown stays UNMATCHED with the reason, for a person.

Everything the rules need is loaded per creditor with a few queries before the first entry
(``CreditorIndex``); the only queries per entry are the booking itself.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from vaarwater.core.events import Actor, event_fields
from vaarwater.core.models import Event
from vaarwater.ledger.booking import Booking, payments_book
from vaarwater.ledger.models import (
    Allocation,
    Component,
    Debtor,
    EntryKind,
    Invoice,
    LedgerEntry,
    PaymentSource,
)
from vaarwater.ledger.services import entry_reverse
from vaarwater.payments import sepa
from vaarwater.payments.models import PaymentLink, PaymentRequest, PaymentRequestStatus
from vaarwater.payments.sepa_models import Mandate, MandateStatus
from vaarwater.payments.statement_models import EntryStatus, StatementEntry

from .text import (
    REFERENCE_WORDS,
    case_reference_pk,
    compact,
    is_weak,
    name_words,
    names_similar,
    surname_words,
    tokens,
)

METHOD_REFERENCE = "reference"
METHOD_IBAN = "iban"
METHOD_NAME_AMOUNT = "name_amount"
METHOD_MANUAL = "manual"
METHOD_REVERSAL = "reversal"
# Above this many debtors owing one amount, names are not compared one by one (the entry
# goes to the worklist): a common amount (€ 50,00) says little, and it bounds the work.
MAX_AMOUNT_CANDIDATES = 300
CHUNK = 900  # ids per IN (...) query: below SQLite's variable limit
UPDATE_FIELDS = [
    "status",
    "match_method",
    "match_reason",
    "debtor",
    "payment",
    "resolved_by",
    "resolved_at",
]


def payment_id_for(entry: StatementEntry) -> str:
    """The ledger payment id of a booked entry: stable, so booking twice is impossible."""
    return f"stmt-{entry.key[:24]}"


@dataclass
class Decision:
    status: str
    reason: str
    method: str = ""
    debtor_id: int | None = None
    reference: str = ""  # the payment's reference; an invoice number designates that invoice


@dataclass
class Hit:
    kind: str  # "arrangement", "invoice", "case", "customer number", "payment link"
    value: str
    debtor_id: int
    weak: bool = False


def _chunks(values, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


class CreditorIndex:
    """What matching needs to know about one creditor's debtors, loaded with a few queries.

    Memory grows with the creditor's debtors and invoices (a few hundred bytes each); case
    references are looked up only for the tokens in the statement that look like one.
    """

    def __init__(self, creditor, entries: list[StatementEntry]):
        self.creditor = creditor
        self.customers: dict[str, int] = {}
        self.numbers: dict[int, str] = {}
        self.names: dict[int, str] = {}
        self.ibans: dict[str, set[int]] = defaultdict(set)
        for pk, number, name, iban in Debtor.objects.filter(creditor=creditor).values_list(
            "id", "external_id", "name", "iban"
        ):
            self.customers[number.upper()] = pk
            self.numbers[pk] = number
            self.names[pk] = name
            if iban:
                self.ibans[iban.replace(" ", "").upper()].add(pk)
        for iban, debtor_id in Mandate.objects.filter(
            creditor=creditor, status=MandateStatus.ACTIVE
        ).values_list("iban", "debtor_id"):
            self.ibans[iban.replace(" ", "").upper()].add(debtor_id)
        self.invoices: dict[str, tuple[int, str]] = {
            number.upper(): (debtor_id, number)
            for number, debtor_id in Invoice.objects.filter(creditor=creditor).values_list(
                "external_id", "debtor_id"
            )
        }
        self.links: dict[str, int] = {
            code.upper(): debtor_id
            for code, debtor_id in PaymentLink.objects.filter(creditor=creditor).values_list(
                "code", "debtor_id"
            )
        }
        self.paid_links: dict[str, set[int]] = defaultdict(set)
        for code, amount in PaymentRequest.objects.filter(
            creditor=creditor, status=PaymentRequestStatus.PAID, link__isnull=False
        ).values_list("link__code", "amount_cents"):
            self.paid_links[code.upper()].add(amount)
        self.arrangements: dict[str, tuple[int, str]] = {}
        self.open_instalments: list[tuple[int, int]] = []
        self._load_arrangements()
        self.balances: dict[int, int] = dict(
            LedgerEntry.objects.filter(creditor=creditor)
            .values("debtor_id")
            .annotate(total=Sum("amount_cents"))
            .filter(total__gt=0)
            .values_list("debtor_id", "total")
        )
        self.amounts: dict[int, set[int]] = defaultdict(set)
        for debtor_id, balance in self.balances.items():
            self.amounts[balance].add(debtor_id)
        for debtor_id, open_cents in self._open_items():
            self.amounts[open_cents].add(debtor_id)
        for debtor_id, due in self.open_instalments:
            if debtor_id in self.balances:
                self.amounts[due].add(debtor_id)
        self.cases: dict[int, int] = self._cases(entries)
        self._words: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    # -- loading ----------------------------------------------------------------------------

    def _load_arrangements(self) -> None:
        try:
            from vaarwater.arrangements.models import Arrangement, Instalment
        except ImportError:  # pragma: no cover - the app is part of the project
            return
        for reference, debtor_id in Arrangement.objects.filter(creditor=self.creditor).values_list(
            "reference", "debtor_id"
        ):
            if compact(reference):
                self.arrangements[compact(reference)] = (debtor_id, reference)
        for amount, paid, debtor_id in Instalment.objects.filter(
            arrangement__creditor=self.creditor,
            arrangement__status="active",
            status__in=["open", "missed"],
        ).values_list("amount_cents", "paid_cents", "arrangement__debtor_id"):
            for due in {amount, amount - paid}:
                if due > 0:
                    self.open_instalments.append((debtor_id, due))

    def _open_items(self):
        """(debtor, cents still open) per invoice of every debtor who owes something."""
        charged = (
            LedgerEntry.objects.filter(creditor=self.creditor, invoice__isnull=False)
            .exclude(component=Component.PAYMENT)
            .values("invoice_id", "debtor_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("invoice_id", "debtor_id", "total")
        )
        paid = dict(
            Allocation.objects.filter(creditor=self.creditor)
            .values("invoice_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("invoice_id", "total")
        )
        for invoice_id, debtor_id, total in charged:
            if debtor_id not in self.balances:
                continue
            open_cents = total - paid.get(invoice_id, 0)
            if open_cents > 0:
                yield debtor_id, open_cents

    def _cases(self, entries) -> dict[int, int]:
        from vaarwater.strategy.models import Case

        wanted = set()
        for entry in entries:
            for token in getattr(entry, "tokens", None) or tokens(_text(entry)):
                pk = case_reference_pk(token)
                if pk is not None:
                    wanted.add(pk)
        found: dict[int, int] = {}
        for chunk in _chunks(wanted):
            found.update(
                Case.objects.filter(creditor=self.creditor, pk__in=chunk).values_list(
                    "pk", "debtor_id"
                )
            )
        return found

    # -- deciding ---------------------------------------------------------------------------

    def words(self, debtor_id: int) -> tuple[frozenset[str], frozenset[str]]:
        """A debtor's name words and family-name words (cached)."""
        words = self._words.get(debtor_id)
        if words is None:
            name = self.names.get(debtor_id, "")
            words = self._words[debtor_id] = (name_words(name), surname_words(name))
        return words

    def alike(self, payer: frozenset[str], debtor_id: int) -> bool:
        return names_similar(payer, *self.words(debtor_id))

    def label(self, debtor_id: int) -> str:
        number = self.numbers.get(debtor_id, "")
        return f"{self.names.get(debtor_id, '?')} ({number})" if number else f"debtor {debtor_id}"

    def _hits(self, entry: StatementEntry, toks: list[str]) -> list[Hit]:
        hits: list[Hit] = []
        for i, token in enumerate(toks):
            named = i > 0 and toks[i - 1] in REFERENCE_WORDS
            weak = is_weak(token) and not named
            invoice = self.invoices.get(token)
            if invoice:
                hits.append(Hit("invoice", invoice[1], invoice[0], weak))
            pk = case_reference_pk(token)
            if pk is not None and pk in self.cases:
                hits.append(Hit("case", token, self.cases[pk]))
            debtor_id = self.customers.get(token)
            if debtor_id:
                hits.append(Hit("customer number", token, debtor_id, weak))
            debtor_id = self.links.get(token)
            if debtor_id:
                hits.append(Hit("payment link", token.lower(), debtor_id))
        if self.arrangements:
            for reference in self._plan_references(entry, toks):
                found = self.arrangements.get(reference)
                if found:
                    hits.append(Hit("arrangement", found[1], found[0]))
        return hits

    def _corroborated(self, hit: Hit, entry: StatementEntry, their_words) -> bool:
        iban = entry.counterparty_iban.upper()
        if iban and hit.debtor_id in self.ibans.get(iban, ()):
            return True
        return self.alike(their_words, hit.debtor_id)

    def decide(self, entry: StatementEntry) -> Decision:
        """Find the debtor of an incoming payment; the reason is a sentence for people."""
        if entry.currency and entry.currency != "EUR":
            return Decision(
                EntryStatus.UNMATCHED,
                f"the amount is in {entry.currency}, not in euros: book it by hand",
            )
        toks = getattr(entry, "tokens", None) or tokens(_text(entry))
        their_words = name_words(entry.counterparty_name)
        notes: list[str] = []
        hits = [
            hit
            for hit in self._hits(entry, toks)
            if not hit.weak or self._corroborated(hit, entry, their_words)
        ]
        paid = [
            hit
            for hit in hits
            if hit.kind == "payment link"
            and entry.amount_cents in self.paid_links.get(hit.value.upper(), ())
        ]
        if paid:
            return Decision(
                EntryStatus.UNMATCHED,
                f"payment link {paid[0].value} was already paid with this amount through the "
                "payment provider: check that this is not the same payment before booking it",
            )
        debtors = {hit.debtor_id for hit in hits}
        if len(debtors) == 1:
            debtor_id = debtors.pop()
            order = ("arrangement", "invoice", "case", "customer number", "payment link")
            hits.sort(key=lambda hit: order.index(hit.kind))
            named = ", ".join(dict.fromkeys(f"{hit.kind} {hit.value}" for hit in hits))
            invoice = next((hit.value for hit in hits if hit.kind == "invoice"), "")
            plan = next((hit.value for hit in hits if hit.kind == "arrangement"), "")
            return Decision(
                EntryStatus.BOOKED,
                f"the description names {named} of {self.label(debtor_id)}",
                METHOD_REFERENCE,
                debtor_id,
                # An invoice number designates that invoice; a plan's reference is what the
                # plan's follow-up looks for on the payment.
                plan or invoice or _reference(entry),
            )
        if len(debtors) > 1:
            named = "; ".join(
                f"{hit.kind} {hit.value} ({self.label(hit.debtor_id)})" for hit in hits[:4]
            )
            return Decision(
                EntryStatus.UNMATCHED,
                f"the description names references of {len(debtors)} different customers: {named}",
            )
        # 3. the other party's IBAN
        iban = entry.counterparty_iban.upper()
        owners = self.ibans.get(iban, set()) if iban else set()
        if len(owners) == 1:
            debtor_id = next(iter(owners))
            if debtor_id in self.balances:
                return Decision(
                    EntryStatus.BOOKED,
                    f"paid from {iban}, the known IBAN of {self.label(debtor_id)}, who owes money",
                    METHOD_IBAN,
                    debtor_id,
                    _reference(entry),
                )
            notes.append(f"{iban} is the IBAN of {self.label(debtor_id)}, who owes nothing now")
        elif len(owners) > 1:
            notes.append(f"{len(owners)} customers have IBAN {iban}")
        # 4. the amount and the name
        candidates = self.amounts.get(entry.amount_cents, set())
        if candidates and their_words:
            if len(candidates) > MAX_AMOUNT_CANDIDATES:
                notes.append(
                    f"{len(candidates)} customers owe exactly this amount: too many to choose "
                    "by name"
                )
            else:
                alike = [d for d in candidates if self.alike(their_words, d)]
                if len(alike) == 1:
                    debtor_id = alike[0]
                    return Decision(
                        EntryStatus.BOOKED,
                        f"{self.label(debtor_id)} owes exactly this amount and the payer's "
                        f"name {entry.counterparty_name!r} is like theirs",
                        METHOD_NAME_AMOUNT,
                        debtor_id,
                        _reference(entry),
                    )
                if len(alike) > 1:
                    notes.append(
                        f"{len(alike)} customers with a name like {entry.counterparty_name!r} "
                        "owe exactly this amount"
                    )
        reason = "no reference, IBAN or name+amount match"
        return Decision(EntryStatus.UNMATCHED, "; ".join([reason, *notes]))

    def _plan_references(self, entry, toks: list[str]) -> list[str]:
        """The plan references in the description, compact: the arrangements app's own
        reading (``reference_candidates``, check digit verified, spaces and dashes allowed);
        without it, one to three consecutive tokens."""
        try:
            from vaarwater.arrangements.selectors import reference_candidates
        except ImportError:  # pragma: no cover - the app is part of the project
            reference_candidates = None
        if reference_candidates is not None:
            return [compact(ref) for ref in reference_candidates(_text(entry))]
        return [
            compact("".join(toks[i : i + n]))
            for i in range(len(toks))
            for n in (1, 2, 3)
            if len(compact("".join(toks[i : i + n]))) >= 4
        ]


def _text(entry: StatementEntry) -> str:
    return f"{entry.remittance} {getattr(entry, 'structured_reference', '')}"


def _reference(entry: StatementEntry) -> str:
    text = getattr(entry, "structured_reference", "") or entry.remittance
    return (text or entry.end_to_end_id or "")[:200]


def _debit(entry: StatementEntry, creditor, actor: Actor) -> Decision:
    """Money out, or a payment the bank took back: a reversal undoes the payment it booked."""
    if not getattr(entry, "reversal", False):
        return Decision(EntryStatus.IGNORED, "money out (a debit): not a customer payment")
    if entry.currency and entry.currency != "EUR":
        return Decision(
            EntryStatus.UNMATCHED,
            f"the bank reversed an earlier credit, in {entry.currency}, not in euros: check "
            "by hand whether a booked payment must be reversed",
        )
    candidates = StatementEntry.objects.filter(
        creditor=creditor,
        status=EntryStatus.BOOKED,
        amount_cents=-entry.amount_cents,
        payment__isnull=False,
    ).exclude(pk=entry.pk)
    if entry.end_to_end_id:
        candidates = candidates.filter(end_to_end_id=entry.end_to_end_id)
    elif entry.counterparty_iban:
        candidates = candidates.filter(counterparty_iban=entry.counterparty_iban)
    else:
        candidates = candidates.none()
    found = [
        c
        for c in candidates.select_related("payment")[:5]
        if not LedgerEntry.objects.filter(
            payment_id=c.payment_id, kind=EntryKind.PAYMENT, reversed_by__isnull=False
        ).exists()
    ]
    if len(found) != 1:
        why = "no booked payment to undo was found" if not found else "several could be meant"
        return Decision(
            EntryStatus.UNMATCHED,
            f"the bank reversed an earlier credit, but {why}: check whether a booked payment "
            "must be reversed",
        )
    original = found[0]
    booking = LedgerEntry.objects.get(payment_id=original.payment_id, kind=EntryKind.PAYMENT)
    reason = (
        f"the bank reversed the payment of {original.booking_date:%d-%m-%Y} "
        f"(statement entry {original.pk}) on {entry.booking_date:%d-%m-%Y}"
    )
    entry_reverse(entry=booking, reason=reason, actor=actor)
    return Decision(EntryStatus.BOOKED, reason, METHOD_REVERSAL, original.debtor_id)


def entries_match(*, creditor, entries: list[StatementEntry], actor: Actor) -> Counter:
    """Match the new entries of one creditor's statement, book the matches, save the entries.

    Trusted: the caller holds the statement's transaction; the entries are new (their keys
    unknown for this creditor) and not saved yet. Decisions are made against the ledger as it
    was before this statement; the matches are booked in the file's order (``booking``), the
    entries inserted in bulk; then reversals, which may undo a payment booked a moment ago.
    Returns a count per status.
    """
    counts: Counter = Counter()
    index: CreditorIndex | None = None
    now = timezone.now()
    booked: list[tuple[StatementEntry, Decision]] = []
    reversals: list[StatementEntry] = []
    for entry in entries:
        before = entry.match_reason
        if entry.amount_cents == 0:
            # Banks list fee-free notices and corrections as 0.00: there is nothing to book
            # (a payment must be more than nothing).
            _apply(
                entry,
                Decision(EntryStatus.IGNORED, "an amount of 0.00: nothing to book"),
                actor,
                now,
            )
            continue
        if sepa.statement_entry_handle(entry):
            continue
        # The SEPA module may say why a credit that looked like a collection was not one.
        note = entry.match_reason if entry.match_reason != before else ""
        if entry.amount_cents < 0:
            if getattr(entry, "reversal", False):
                reversals.append(entry)
                continue
            decision = Decision(EntryStatus.IGNORED, "money out (a debit): not a customer payment")
        elif getattr(entry, "reversal", False):
            decision = Decision(
                EntryStatus.IGNORED, "the bank reversed an earlier debit: not a customer payment"
            )
        elif entry.return_code:
            decision = Decision(
                EntryStatus.IGNORED,
                f"a transfer of ours came back (reason code {entry.return_code}): not a "
                "customer payment",
            )
        else:
            if index is None:
                index = CreditorIndex(creditor, entries)
            decision = index.decide(entry)
        if note:
            decision.reason = f"{decision.reason} (direct debit: {note})"
        _apply(entry, decision, actor, now)
        if decision.status == EntryStatus.BOOKED:
            booked.append((entry, decision))
    payments = payments_book(
        creditor=creditor,
        bookings=[
            Booking(
                debtor_id=decision.debtor_id,
                external_id=payment_id_for(entry),
                date=entry.booking_date,
                amount_cents=entry.amount_cents,
                reference=decision.reference,
            )
            for entry, decision in booked
        ],
        source=PaymentSource.BANK,
        actor=actor,
    )
    for (entry, _decision), payment in zip(booked, payments, strict=True):
        entry.payment = payment
    saved = [entry for entry in entries if entry.pk is not None]  # saved by the SEPA module
    StatementEntry.objects.bulk_create([e for e in entries if e.pk is None], batch_size=1000)
    for entry in saved:
        entry.save(update_fields=UPDATE_FIELDS)
    events = [_booked_event(creditor, entry, decision, actor) for entry, decision in booked]
    # Reversals last: the payment a reversal undoes may have been booked just now.
    for entry in reversals:
        decision = _debit(entry, creditor, actor)
        _apply(entry, decision, actor, now)
        entry.save(update_fields=UPDATE_FIELDS)
        if decision.status == EntryStatus.BOOKED:
            events.append(_booked_event(creditor, entry, decision, actor))
    Event.objects.bulk_create(events, batch_size=1000)
    for entry in entries:
        counts[entry.status] += 1
    return counts


def _apply(entry: StatementEntry, decision: Decision, actor: Actor, now) -> None:
    entry.status = decision.status
    entry.match_reason = decision.reason
    entry.match_method = decision.method
    entry.debtor_id = decision.debtor_id
    if decision.status == EntryStatus.BOOKED:
        entry.resolved_by = actor.label[:200]
        entry.resolved_at = now


def _booked_event(creditor, entry: StatementEntry, decision: Decision, actor: Actor) -> Event:
    return Event(
        **event_fields(
            creditor=creditor.pk,
            debtor=decision.debtor_id,
            verb="statement.entry_booked",
            actor=actor,
            subject=entry,
            reason=decision.reason,
            data={
                "method": decision.method,
                "amount_cents": entry.amount_cents,
                "booking_date": entry.booking_date.isoformat(),
                "payment": entry.payment_id,
            },
            on=entry.booking_date,
        )
    )
