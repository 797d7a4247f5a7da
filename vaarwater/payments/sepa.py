"""SEPA direct debit (incasso): mandates, collections, pre-notification, pain.008 files, returns.

The life of one direct debit:

1. ``mandate_create`` records the debtor's signed permission: the IBAN (validated, stored
   compact), the account holder in the SEPA character set, the signature date and a mandate id
   unique per creditor. A creditor needs a valid SEPA creditor identifier (incassant-ID) and a
   collection account first.
2. ``collections_plan`` plans one ``Collection`` per instalment (an amount on a day), each with
   its own end-to-end id; ``collections_cancel`` cancels the planned ones of a plan.
3. ``prenotifications_send`` (daily) tells the debtor the amount and the day, at least the
   policy's ``sepa_prenotification_days`` before the debit (message ``incasso-vooraankondiging``).
4. ``batch_create`` puts the pre-notified collections in one pain.008 file (``.001.02`` or
   ``.001.08``), made with ``sepaxml`` and checked against the official XSD before it is stored.
   The first debit under a mandate is FRST, every later one RCUR.
5. The creditor's bank statement shows the money arriving: ``statement_entry_handle`` settles a
   collection (by its end-to-end id) or a whole batch (by its message or payment-information
   id) and books the payment in the ledger.
6. A debit can come back: rejected before settlement (``collection_return(kind="reject")``,
   nothing was booked) or returned after it (a storno, ``kind="storno"``: the booked payment is
   reversed, so the debt is open again). The debtor is told (``incasso-gestorneerd``); a return
   that shows the mandate is dead (no mandate, closed or blocked account, wrong IBAN, deceased)
   revokes it.

Identifiers we make (all in the SEPA identifier character set, at most 35 characters):
mandate ``VW-<creditor>-<customer number>-<n>``, end-to-end ``VWI-<mandate>-<n>``, message
``VWB-<creditor>-<yyyymmdd>-<nnn>``, payment information ``<message id>-F1`` / ``-R1``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources

import holidays
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vaarwater.core.events import Actor, event_fields, event_record
from vaarwater.core.models import Event
from vaarwater.core.money import format_eur
from vaarwater.ledger.validation import validate_sepa_creditor_id

from .sepa_models import (
    Collection,
    CollectionBatch,
    CollectionStatus,
    Mandate,
    MandateStatus,
)

PAIN_02 = "pain.008.001.02"
PAIN_08 = "pain.008.001.08"
SCHEMAS = (PAIN_02, PAIN_08)
SIGNED_VIA = ("portal", "agent", "paper")
FRST, RCUR = "FRST", "RCUR"
ID_MAX = 35
HOLDER_MAX = 70
DESCRIPTION_MAX = 140
# A CORE direct debit must reach the debtor's bank one TARGET business day before the
# collection date (EPC rulebook since 2016); the creditor's own bank wants the file before its
# cut-off the day before that. Two TARGET days from the day the file is made is safe at every
# Dutch bank, also for a file made after the cut-off.
SUBMIT_LEAD_DAYS = 2
# A pre-notification goes out this many days earlier than the policy's minimum, so that a
# message the outbox holds over a Sunday or a holiday still arrives in time.
PRENOTIFY_MARGIN_DAYS = 2
# A returned debit: the debtor is asked to pay within this many days.
PAY_AFTER_RETURN_DAYS = 7
SYSTEM = Actor.system("SEPA-incasso")

# ISO 20022 return/reject reason codes (ExternalStatusReason1Code) a direct debit comes back
# with, explained in Dutch and English.
RETURN_REASONS: dict[str, tuple[str, str]] = {
    "AC01": ("het IBAN is onjuist", "the IBAN is wrong"),
    "AC04": ("de rekening is opgeheven", "the account is closed"),
    "AC06": ("de rekening is geblokkeerd", "the account is blocked"),
    "AC13": ("dit soort rekening kan niet worden geïncasseerd", "the account type is not allowed"),
    "AG01": ("incasso is op deze rekening niet toegestaan", "direct debit is not allowed"),
    "AG02": ("ongeldige bankcode in het bestand", "invalid bank operation code"),
    "AM04": ("er was niet genoeg saldo", "insufficient funds"),
    "AM05": ("dubbele incasso", "duplicate collection"),
    "BE05": ("de incassant is onbekend bij de bank", "creditor identifier not recognised"),
    "CNOR": ("de bank van de incassant is niet bereikbaar", "creditor bank not registered"),
    "DNOR": ("de bank van de klant is niet bereikbaar", "debtor bank not registered"),
    "FF01": ("het bestand is ongeldig", "invalid file format"),
    "FOCR": ("teruggeboekt na een annuleringsverzoek", "returned after a cancellation request"),
    "MD01": ("er is geen (geldige) machtiging", "no mandate"),
    "MD02": ("gegevens van de machtiging ontbreken of kloppen niet", "mandate data missing"),
    "MD06": ("de klant heeft de bank gevraagd het geld terug te boeken", "refund requested"),
    "MD07": ("de rekeninghouder is overleden", "the account holder has died"),
    "MS02": ("de klant heeft de incasso geweigerd", "refused by the debtor"),
    "MS03": ("de bank heeft geen reden gegeven", "no reason given by the bank"),
    "RC01": ("de BIC is onjuist", "the BIC is wrong"),
    "RR01": ("identificatie van de klant ontbreekt (regelgeving)", "regulatory: debtor id"),
    "RR02": ("naam of adres van de klant ontbreekt (regelgeving)", "regulatory: debtor name"),
    "RR03": ("naam of adres van de incassant ontbreekt (regelgeving)", "regulatory: creditor"),
    "RR04": ("afgewezen om een reden van regelgeving", "regulatory reason"),
    "SL01": (
        "geblokkeerd door een dienst van de bank van de klant (een incassoblokkade)",
        "blocked by a service of the debtor's bank (a direct-debit block)",
    ),
}
# Returns that show the mandate cannot be used again: the mandate is revoked and the planned
# debits under it are cancelled.
REVOKING_CODES = frozenset({"AC01", "AC04", "AC06", "MD01", "MD07"})

# The EEA (EU, Iceland, Liechtenstein, Norway) and the EU territories with IBANs of their own.
# In the rest of SEPA (Switzerland, the UK, Monaco, San Marino, ...) a direct debit needs the
# BIC of the debtor's bank.
_EEA = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"
EEA_COUNTRIES = frozenset((_EEA + " AX GF GP MQ YT RE PM BL MF").split())
_SEPA_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
# What we look for in a bank statement's texts (upper-cased first).
E2E_RE = re.compile(r"(?<![A-Z0-9])(VWI-[0-9]+-[0-9]+)(?![0-9])")
BATCH_RE = re.compile(r"(?<![A-Z0-9])(VWB-[A-Z0-9-]+?-[0-9]{8}-[0-9]{3})(?:-([FR][0-9]{1,2}))?")


class SepaError(ValueError):
    """A direct-debit action that cannot be done; ``field`` names the input it is about."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


# -- pure helpers -----------------------------------------------------------------------------


def sepa_text(value: str) -> str:
    """Text in the SEPA character set: accents dropped, ``&`` as ``+``, anything else a space.

    >>> sepa_text("  Zoë & Jürgen   Ørsted_Bakker! ")
    'Zoe + Jurgen Orsted Bakker'
    """
    from text_unidecode import unidecode

    text = unidecode(value or "").replace("&", "+")
    text = "".join(ch if ch in _SEPA_CHARS else " " for ch in text)
    return " ".join(text.split())


def sepa_id(value: str) -> str:
    """An identifier part: letters and digits, anything else one ``-``, upper case.

    >>> sepa_id("klant 100/234_ä")
    'KLANT-100-234-A'
    """
    from text_unidecode import unidecode

    return re.sub(r"[^A-Za-z0-9]+", "-", unidecode(value or "")).strip("-").upper()


# The creditor identifier is checked where creditors are kept (the ledger); one rule for both.
creditor_id_validate = validate_sepa_creditor_id


def _target_closed(day: date) -> bool:
    return day.weekday() >= 5 or day in _target_holidays(day.year)


@functools.cache
def _target_holidays(year: int):
    # The TARGET2 (ECB) closing days: the days SEPA does not settle.
    return holidays.financial_holidays("XECB", years=year)


def target_roll(day: date) -> date:
    """The day itself, or the next TARGET business day when SEPA does not settle on it.

    >>> target_roll(date(2026, 4, 3))  # Good Friday, then Easter Monday, then Tuesday
    datetime.date(2026, 4, 7)
    """
    while _target_closed(day):
        day += timedelta(days=1)
    return day


def target_add(day: date, count: int) -> date:
    """``count`` TARGET business days after ``day``.

    >>> target_add(date(2026, 12, 24), 1)  # Christmas and Boxing Day are closed
    datetime.date(2026, 12, 28)
    """
    for _ in range(count):
        day = target_roll(day + timedelta(days=1))
    return day


def return_reason_text(code: str, language: str = "nl") -> str:
    """The meaning of a return reason code in words.

    >>> return_reason_text("AM04")
    'er was niet genoeg saldo'
    >>> return_reason_text("XX99", "en")
    'reason code XX99 (not in our list)'
    """
    code = (code or "").strip().upper()
    if code in RETURN_REASONS:
        return RETURN_REASONS[code][1 if language == "en" else 0]
    if not code:
        return "no reason code given" if language == "en" else "de bank gaf geen redencode"
    return (
        f"reason code {code} (not in our list)"
        if language == "en"
        else f"redencode {code} (niet in onze lijst)"
    )


def mask_iban(iban: str) -> str:
    """An IBAN as shown in events: country, check digits and the last four.

    >>> mask_iban("NL91ABNA0417164300")
    'NL91…4300'
    """
    return f"{iban[:4]}…{iban[-4:]}" if len(iban) > 8 else iban


# -- the creditor -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditorSepa:
    """What a creditor needs to collect: identifier, account, bank (BIC may be empty)."""

    creditor_id: str
    iban: str
    bic: str
    name: str


def _bic_of(iban: str) -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        bic = IBAN(iban).bic
    except SchwiftyException:
        return ""
    return str(bic.compact) if bic else ""


def _bic_check(value: str, *, field_name: str) -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        return BIC(value.strip()).compact
    except SchwiftyException as exc:
        raise SepaError(f"invalid BIC {value.strip()!r}: {exc}", field=field_name) from None


def creditor_sepa(creditor) -> CreditorSepa:
    """Check that a creditor can collect by direct debit; SepaError naming what is missing."""
    from vaarwater.ledger.validation import validate_iban

    code = creditor.code
    if not (creditor.sepa_creditor_id or "").strip():
        raise SepaError(
            f"creditor {code} has no SEPA creditor identifier (incassant-ID); ask the bank for "
            "one and enter it on the creditor first",
            field="sepa_creditor_id",
        )
    try:
        creditor_id = creditor_id_validate(creditor.sepa_creditor_id)
    except ValueError as exc:
        raise SepaError(f"creditor {code}: {exc}", field="sepa_creditor_id") from None
    if not (creditor.iban or "").strip():
        raise SepaError(
            f"creditor {code} has no collection account (IBAN) to collect into", field="iban"
        )
    try:
        iban = validate_iban(creditor.iban)
    except ValueError as exc:
        raise SepaError(f"creditor {code}: {exc}", field="iban") from None
    bic = _bic_check(creditor.bic, field_name="bic") if creditor.bic else _bic_of(iban)
    return CreditorSepa(creditor_id, iban, bic, sepa_text(creditor.name)[:HOLDER_MAX])


# -- mandates ---------------------------------------------------------------------------------


def _actor(actor: Actor | None) -> Actor:
    return actor or SYSTEM


def _mandate_id_new(creditor, debtor) -> str:
    base = f"VW-{sepa_id(creditor.code)}-{sepa_id(debtor.external_id)}"
    n = Mandate.objects.filter(creditor=creditor, debtor=debtor).count() + 1
    while True:
        suffix = f"-{n}"
        candidate = base[: ID_MAX - len(suffix)].rstrip("-") + suffix
        if not Mandate.objects.filter(creditor=creditor, mandate_id=candidate).exists():
            return candidate
        n += 1


def mandate_create(
    *,
    debtor,
    iban: str,
    account_holder: str,
    signed_on: date,
    signed_via: str,
    actor: Actor | None = None,
    bic: str = "",
) -> Mandate:
    """Record a signed SEPA mandate (CORE, recurrent) for a debtor.

    The IBAN is validated and stored compact, the BIC taken from it when not given, the account
    holder written in the SEPA character set; the signature may not lie in the future. The
    mandate id is unique per creditor. Raises SepaError naming the field.
    """
    from vaarwater.ledger.validation import validate_iban

    creditor = debtor.creditor
    creditor_sepa(creditor)
    try:
        iban = validate_iban(iban or "")
    except ValueError as exc:
        raise SepaError(str(exc), field="iban") from None
    from schwifty import IBAN

    if not IBAN(iban).in_sepa_zone:
        raise SepaError(f"{iban[:2]} is not in the SEPA area", field="iban")
    bic = _bic_check(bic, field_name="bic") if (bic or "").strip() else _bic_of(iban)
    if not bic and iban[:2] not in EEA_COUNTRIES:
        raise SepaError(
            f"required for an account in {iban[:2]}: outside the EEA a direct debit needs the "
            "BIC of the debtor's bank (EPC rulebook), and it cannot be told from this IBAN",
            field="bic",
        )
    holder = sepa_text(account_holder)
    if not any(ch.isalpha() for ch in holder):
        raise SepaError("required: the name of the account holder", field="account_holder")
    if len(holder) > HOLDER_MAX:
        raise SepaError(
            f"longer than {HOLDER_MAX} characters ({len(holder)}); use the name as the bank "
            "writes it",
            field="account_holder",
        )
    if not isinstance(signed_on, date):
        raise SepaError(f"expected a date, got {signed_on!r}", field="signed_on")
    today = timezone.localdate()
    if signed_on > today:
        raise SepaError(
            f"{signed_on.isoformat()} lies in the future (today is {today.isoformat()})",
            field="signed_on",
        )
    if signed_via not in SIGNED_VIA:
        raise SepaError(
            f"{signed_via!r}: expected one of {', '.join(SIGNED_VIA)}", field="signed_via"
        )
    actor = _actor(actor)
    with transaction.atomic():
        mandate = Mandate.objects.create(
            creditor=creditor,
            debtor=debtor,
            mandate_id=_mandate_id_new(creditor, debtor),
            iban=iban,
            bic=bic,
            account_holder=holder,
            signed_on=signed_on,
            signed_via=signed_via,
            created_by=actor.label[:200],
        )
        event_record(
            creditor=creditor,
            debtor=debtor,
            verb="mandate.created",
            actor=actor,
            subject=mandate,
            reason=f"machtiging voor automatische incasso getekend op {signed_on.isoformat()} "
            f"({signed_via})",
            data={
                "mandate_id": mandate.mandate_id,
                "iban": mask_iban(iban),
                "bic": bic,
                "signed_on": signed_on.isoformat(),
                "signed_via": signed_via,
            },
        )
    return mandate


def mandate_revoke(*, mandate: Mandate, reason: str, actor: Actor | None = None, on=None) -> int:
    """Revoke a mandate and cancel its planned debits; return how many were cancelled.

    Debits already in a file sent to the bank cannot be taken back here (the bank rejects them
    or they are returned). Revoking a revoked mandate changes nothing.
    """
    if not (reason or "").strip():
        raise SepaError("every revocation needs one", field="reason")
    on = on or timezone.localdate()
    actor = _actor(actor)
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.status == MandateStatus.REVOKED:
            return 0
        mandate.status = MandateStatus.REVOKED
        mandate.revoked_on = on
        mandate.revoke_reason = reason
        mandate.save(update_fields=["status", "revoked_on", "revoke_reason"])
        planned = Collection.objects.filter(mandate=mandate, status=CollectionStatus.PLANNED)
        cancelled = _collections_cancel(planned, reason=f"machtiging ingetrokken: {reason}")
        event_record(
            creditor=mandate.creditor_id,
            debtor=mandate.debtor_id,
            verb="mandate.revoked",
            actor=actor,
            subject=mandate,
            reason=reason,
            data={"mandate_id": mandate.mandate_id, "cancelled": cancelled},
            on=on,
        )
    return len(cancelled)


# -- collections ------------------------------------------------------------------------------


def _e2e_new(mandate: Mandate, used: set[str]) -> str:
    n = Collection.objects.filter(mandate=mandate).count() + 1
    while True:
        candidate = f"VWI-{mandate.pk}-{n}"
        if (
            candidate not in used
            and not Collection.objects.filter(end_to_end_id=candidate).exists()
        ):
            used.add(candidate)
            return candidate
        n += 1


def collections_plan(
    *, mandate: Mandate, items: list[tuple[str, int, date, str]], actor: Actor | None = None
) -> list[Collection]:
    """Plan one direct debit per item ``(purpose, amount_cents, due_on, description)``.

    An item whose purpose already has a planned, submitted or settled debit returns that one
    (planning twice plans once). Each new debit gets its own end-to-end id.
    """
    actor = _actor(actor)
    checked = []
    for number, item in enumerate(items, start=1):
        try:
            purpose, amount_cents, due_on, description = item
        except (TypeError, ValueError):
            raise SepaError(
                "expected (purpose, amount_cents, due_on, description)", field=f"items[{number}]"
            ) from None
        where = f"items[{number}]"
        purpose = (purpose or "").strip()
        if not purpose or len(purpose) > 64:
            raise SepaError("purpose: 1 to 64 characters", field=where)
        if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
            raise SepaError(
                f"amount_cents: a positive whole number, got {amount_cents!r}", field=where
            )
        if amount_cents > 99_999_999_999:
            raise SepaError("amount_cents: too large for a direct debit", field=where)
        if not isinstance(due_on, date):
            raise SepaError(f"due_on: expected a date, got {due_on!r}", field=where)
        text = sepa_text(description)[:DESCRIPTION_MAX].strip()
        if not text:
            raise SepaError(
                "description: required (the debtor sees it on their statement)", field=where
            )
        checked.append((purpose, amount_cents, due_on, text))
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.status != MandateStatus.ACTIVE:
            raise SepaError(
                f"mandate {mandate.mandate_id} is revoked ({mandate.revoke_reason}); no new "
                "direct debits under it",
                field="mandate",
            )
        live = (CollectionStatus.PLANNED, CollectionStatus.SUBMITTED, CollectionStatus.SETTLED)
        existing = {
            row.purpose: row
            for row in Collection.objects.filter(
                creditor_id=mandate.creditor_id,
                purpose__in=[item[0] for item in checked],
                status__in=live,
            )
        }
        used: set[str] = set()
        result, made = [], []
        for purpose, amount_cents, due_on, text in checked:
            if purpose in existing:
                result.append(existing[purpose])
                continue
            row = Collection.objects.create(
                creditor_id=mandate.creditor_id,
                debtor_id=mandate.debtor_id,
                mandate=mandate,
                purpose=purpose,
                end_to_end_id=_e2e_new(mandate, used),
                description=text,
                amount_cents=amount_cents,
                due_on=due_on,
            )
            existing[purpose] = row
            result.append(row)
            made.append(row)
        if made:
            event_record(
                creditor=mandate.creditor_id,
                debtor=mandate.debtor_id,
                verb="collections.planned",
                actor=actor,
                subject=mandate,
                reason=f"{len(made)} automatische incasso('s) gepland onder machtiging "
                f"{mandate.mandate_id}",
                data={
                    "collections": [
                        [row.end_to_end_id, row.amount_cents, row.due_on.isoformat(), row.purpose]
                        for row in made
                    ]
                },
            )
    return result


def _collections_cancel(queryset, *, reason: str) -> list[str]:
    """Cancel the planned debits of a queryset; trusted: the caller holds the transaction."""
    rows = list(queryset.select_for_update().filter(status=CollectionStatus.PLANNED))
    for row in rows:
        row.status = CollectionStatus.CANCELLED
        row.return_reason = reason
    Collection.objects.bulk_update(rows, ["status", "return_reason", "updated_at"])
    return [row.end_to_end_id for row in rows]


def collections_cancel(*, purpose_prefix: str, reason: str, actor: Actor | None = None) -> int:
    """Cancel the planned (not yet submitted) debits of a purpose; return how many.

    ``purpose_prefix`` matches a purpose exactly, or the purposes that continue it after a
    ``:`` — ``arrangement:5`` cancels ``arrangement:5`` and ``arrangement:5:instalment:2`` but
    never ``arrangement:51``. A prefix ending in ``:`` matches what follows it.
    """
    prefix = (purpose_prefix or "").strip()
    if not prefix:
        raise SepaError("required", field="purpose_prefix")
    if not (reason or "").strip():
        raise SepaError("every cancellation needs one", field="reason")
    starts = prefix if prefix.endswith(":") else prefix + ":"
    actor = _actor(actor)
    with transaction.atomic():
        rows = list(
            Collection.objects.select_for_update()
            .filter(Q(purpose=prefix) | Q(purpose__startswith=starts))
            .filter(status=CollectionStatus.PLANNED)
        )
        for row in rows:
            row.status = CollectionStatus.CANCELLED
            row.return_reason = reason
        Collection.objects.bulk_update(rows, ["status", "return_reason", "updated_at"])
        Event.objects.bulk_create(
            [
                Event(
                    **event_fields(
                        creditor=row.creditor_id,
                        debtor=row.debtor_id,
                        verb="collection.cancelled",
                        actor=actor,
                        subject=row,
                        reason=reason,
                        data={"end_to_end_id": row.end_to_end_id, "purpose": row.purpose},
                    )
                )
                for row in rows
            ]
        )
    return len(rows)


# -- pre-notification -------------------------------------------------------------------------


def prenotification_days(creditor) -> int:
    """The creditor's minimum days between pre-notification and debit (policy)."""
    from vaarwater.strategy.documents import creditor_settings

    return creditor_settings(creditor).arrangements.sepa_prenotification_days


def _active_case(debtor):
    from vaarwater.strategy.models import Case

    return Case.objects.filter(debtor=debtor).active().order_by("-pk").first()


def _message_context(collection: Collection, creditor_sepa_id: str) -> dict:
    from vaarwater.contact.rendering import format_day

    language = collection.debtor.language if collection.debtor.language in ("nl", "en") else "nl"
    return {
        "collection_cents": collection.amount_cents,
        "collection_on": collection.due_on.isoformat(),
        "mandate_id": collection.mandate.mandate_id,
        "creditor_sepa_id": creditor_sepa_id,
        # WhatsApp's approved templates take the amount and the day as ready text.
        "amount_cents": collection.amount_cents,
        "collection_day": format_day(collection.due_on, language),
    }


def prenotifications_send(*, on: date, creditor=None, actor: Actor | None = None) -> int:
    """Tell debtors the amount and day of each coming debit; return how many were told.

    Daily. A planned debit is pre-notified once, as soon as it is due within the policy's
    ``sepa_prenotification_days`` (plus a margin of two days, for a message the outbox holds
    over a Sunday or holiday). A debit that is too close to be told in time is moved to the
    first TARGET day that is far enough ahead first, so the message names the real day. A
    debtor who cannot be reached is tried again the next day.
    """
    from vaarwater.contact.services import message_queue, preferred_channel
    from vaarwater.ledger.models import Creditor

    actor = _actor(actor)
    creditors = [creditor] if creditor is not None else list(Creditor.objects.order_by("code"))
    sent = 0
    for each in creditors:
        if not each.sepa_creditor_id:
            continue
        days = prenotification_days(each)
        window_end = on + timedelta(days=days + PRENOTIFY_MARGIN_DAYS)
        rows = (
            Collection.objects.filter(
                creditor=each,
                status=CollectionStatus.PLANNED,
                prenotified_on__isnull=True,
                due_on__lte=window_end,
                mandate__status=MandateStatus.ACTIVE,
            )
            .select_related("mandate", "debtor")
            .order_by("due_on", "pk")
        )
        for row in rows:
            with transaction.atomic():
                row = (
                    Collection.objects.select_for_update()
                    .select_related("mandate", "debtor")
                    .get(pk=row.pk)
                )
                if row.status != CollectionStatus.PLANNED or row.prenotified_on:
                    continue
                if preferred_channel(row.debtor) is None:
                    continue  # unreachable today: nothing moves, tried again tomorrow
                earliest = target_roll(
                    max(on + timedelta(days=days), target_add(on, SUBMIT_LEAD_DAYS))
                )
                if row.due_on < earliest:
                    _collection_move(
                        row,
                        earliest,
                        actor=actor,
                        on=on,
                        why=f"te dichtbij om de klant {days} dagen van tevoren te laten "
                        "weten wanneer er wordt afgeschreven",
                    )
                message = message_queue(
                    debtor=row.debtor,
                    template="incasso-vooraankondiging",
                    purpose="prenotification",
                    key=f"collection-{row.pk}",
                    case=_active_case(row.debtor),
                    context=_message_context(row, each.sepa_creditor_id),
                    why=f"vooraankondiging: {format_eur(row.amount_cents)} wordt op "
                    f"{row.due_on.isoformat()} afgeschreven (machtiging {row.mandate.mandate_id})",
                    actor=actor,
                )
                if message is None:
                    continue
                row.prenotified_on = on
                row.save(update_fields=["prenotified_on", "updated_at"])
                event_record(
                    creditor=each,
                    debtor=row.debtor,
                    verb="collection.prenotified",
                    actor=actor,
                    subject=row,
                    reason=f"{format_eur(row.amount_cents)} op {row.due_on.isoformat()} "
                    f"aangekondigd via {message.channel}",
                    data={
                        "end_to_end_id": row.end_to_end_id,
                        "due_on": row.due_on.isoformat(),
                        "message": message.pk,
                    },
                    on=on,
                )
                sent += 1
    return sent


def _collection_move(row: Collection, day: date, *, actor: Actor, on: date, why: str) -> None:
    old = row.due_on
    row.due_on = day
    row.save(update_fields=["due_on", "updated_at"])
    event_record(
        creditor=row.creditor_id,
        debtor=row.debtor_id,
        verb="collection.moved",
        actor=actor,
        subject=row,
        reason=f"incassodatum van {old.isoformat()} naar {day.isoformat()}: {why}",
        data={"end_to_end_id": row.end_to_end_id, "from": old.isoformat(), "to": day.isoformat()},
        on=on,
    )


# -- pain.008 batches -------------------------------------------------------------------------


@functools.cache
def _xsd(schema: str):
    import xmlschema

    # sepaxml ships the official ISO 20022 schemas (byte for byte the ones in
    # shared/testdata/xsd); building a schema takes a while, so once per process.
    path = resources.files("sepaxml") / "schemas" / f"{schema}.xsd"
    with resources.as_file(path) as file:
        return xmlschema.XMLSchema(str(file))


def pain008_validate(xml: bytes, schema: str) -> None:
    """Check a pain.008 file against its official XSD; SepaError with the first problem."""
    import xmlschema

    try:
        _xsd(schema).validate(xml)
    except xmlschema.XMLSchemaValidationError as exc:
        raise SepaError(
            f"the {schema} file does not validate: {exc.reason} at {exc.path}"
        ) from None
    except (xmlschema.XMLSchemaException, SyntaxError) as exc:
        raise SepaError(f"the {schema} file is not valid XML: {exc}") from None


def _message_id_new(creditor, today: date) -> str:
    code = sepa_id(creditor.code)[:12].rstrip("-")
    n = CollectionBatch.objects.filter(creditor=creditor, created_at__date=today).count() + 1
    while True:
        candidate = f"VWB-{code}-{today:%Y%m%d}-{n:03d}"
        if not CollectionBatch.objects.filter(message_id=candidate).exists():
            return candidate
        n += 1


def _pain008(
    *, sepa: CreditorSepa, schema: str, message_id: str, rows: list[tuple[Collection, str, date]]
) -> bytes:
    """Build the pain.008 file with sepaxml, give it our ids, and check it against the XSD."""
    from lxml import etree
    from sepaxml import SepaDD

    config = {
        "name": sepa.name,
        "IBAN": sepa.iban,
        "creditor_id": sepa.creditor_id,
        "currency": "EUR",
        "batch": True,
        "instrument": "CORE",
    }
    if sepa.bic:
        config["BIC"] = sepa.bic
    document = SepaDD(config, schema=schema, clean=True)
    for row, sequence, day in rows:
        payment = {
            "name": row.mandate.account_holder,
            "IBAN": row.mandate.iban,
            "amount": int(row.amount_cents),
            "type": sequence,
            "collection_date": day,
            "mandate_id": row.mandate.mandate_id,
            "mandate_date": row.mandate.signed_on,
            "description": row.description,
            "endtoend_id": row.end_to_end_id,
        }
        if row.mandate.bic:
            payment["BIC"] = row.mandate.bic
        document.add_payment(payment)
    raw = document.export(validate=False)
    # sepaxml makes random message and payment-information ids; ours are stable and findable
    # in a bank statement.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(raw, parser)
    ns = {"p": root.nsmap[None]}
    root.find("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", ns).text = message_id
    counters = {FRST: 0, RCUR: 0}
    for info in root.findall("p:CstmrDrctDbtInitn/p:PmtInf", ns):
        sequence = info.find("p:PmtTpInf/p:SeqTp", ns).text
        counters[sequence] += 1
        info.find("p:PmtInfId", ns).text = f"{message_id}-{sequence[0]}{counters[sequence]}"
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    pain008_validate(xml, schema)
    return xml


def pain008_groups(xml: str | bytes) -> dict[str, list[str]]:
    """The payment-information blocks of a stored pain.008 file: id → end-to-end ids."""
    from lxml import etree

    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    groups = {}
    for info in root.iter("{*}PmtInf"):
        info_id = info.find("{*}PmtInfId").text
        groups[info_id] = [node.text for node in info.iter("{*}EndToEndId")]
    return groups


def batch_create(
    *, creditor, schema: str, up_to: date, actor: Actor | None = None, on: date | None = None
) -> CollectionBatch:
    """Put the creditor's planned debits due on or before ``up_to`` in one pain.008 file.

    Only debits that were pre-notified are taken (the others wait for
    ``prenotifications_send``). Each is collected on its own day, but never earlier than the
    bank accepts (two TARGET days from ``on``), than the pre-notification allows, or on a day
    SEPA is closed: such a debit is moved to the next possible day and the move is recorded. A
    mandate's first debit is FRST, every later one RCUR. The file is validated against the
    official XSD, stored with its SHA-256, and its debits become SUBMITTED. Raises SepaError for
    an unusable creditor, an unknown format, or when nothing is ready (an empty file is never
    made). ``batch.notes`` lists what was moved or left waiting, in words.
    """
    if schema not in SCHEMAS:
        raise SepaError(f"{schema!r}: expected {' or '.join(SCHEMAS)}", field="schema")
    if not isinstance(up_to, date):
        raise SepaError(f"expected a date, got {up_to!r}", field="up_to")
    sepa = creditor_sepa(creditor)
    if schema == PAIN_02 and not sepa.bic:
        raise SepaError(
            f"creditor {creditor.code}: a {PAIN_02} file needs the BIC of the collection "
            "account and none is known for it; enter it on the creditor or use pain.008.001.08",
            field="bic",
        )
    actor = _actor(actor)
    today = on or timezone.localdate()
    days = prenotification_days(creditor)
    earliest = target_add(today, SUBMIT_LEAD_DAYS)
    notes: list[str] = []
    with transaction.atomic():
        candidates = list(
            Collection.objects.select_for_update()
            .filter(
                creditor=creditor,
                status=CollectionStatus.PLANNED,
                due_on__lte=up_to,
                mandate__status=MandateStatus.ACTIVE,
            )
            .select_related("mandate", "debtor")
            .order_by("due_on", "pk")
        )
        ready = [row for row in candidates if row.prenotified_on is not None]
        waiting = len(candidates) - len(ready)
        if waiting:
            notes.append(
                f"{waiting} direct debit(s) wait for their pre-notification "
                "(run the daily run or prenotifications_send first)"
            )
        if not ready:
            raise SepaError(
                f"creditor {creditor.code}: no direct debits to collect up to "
                f"{up_to.isoformat()}"
                + (f"; {notes[0]}" if notes else "")
                + " — an empty file is not made",
                field="up_to",
            )
        mandates = {}
        planned: list[tuple[Collection, str, date]] = []
        for row in ready:
            day = target_roll(max(row.due_on, earliest, row.prenotified_on + timedelta(days=days)))
            if day != row.due_on:
                if row.due_on < earliest:
                    why = "de datum is voorbij of te dichtbij voor de bank"
                elif row.due_on < row.prenotified_on + timedelta(days=days):
                    why = f"minder dan {days} dagen na de vooraankondiging"
                else:
                    why = "SEPA verwerkt op die dag geen incasso's"
                notes.append(f"{row.end_to_end_id}: moved from {row.due_on} to {day}")
                _collection_move(row, day, actor=actor, on=today, why=why)
            mandate = mandates.setdefault(row.mandate_id, row.mandate)
            planned.append((row, "", day))
        # The first debit under a mandate is FRST, later ones RCUR.
        first_seen: set[int] = set()
        sequenced = []
        for row, _none, day in sorted(planned, key=lambda item: (item[2], item[0].pk)):
            mandate = mandates[row.mandate_id]
            if not mandate.first_collected and mandate.pk not in first_seen:
                sequence = FRST
                first_seen.add(mandate.pk)
            else:
                sequence = RCUR
            sequenced.append((row, sequence, day))
        sequenced.sort(key=lambda item: (item[1] != FRST, item[2], item[0].pk))
        message_id = _message_id_new(creditor, today)
        xml = _pain008(sepa=sepa, schema=schema, message_id=message_id, rows=sequenced)
        total = sum(row.amount_cents for row, _s, _d in sequenced)
        batch = CollectionBatch.objects.create(
            creditor=creditor,
            message_id=message_id,
            schema=schema,
            collection_date=min(day for _r, _s, day in sequenced),
            count=len(sequenced),
            total_cents=total,
            xml=xml.decode("utf-8"),
            sha256=hashlib.sha256(xml).hexdigest(),
            created_by=actor.label[:200],
        )
        for row, sequence, _day in sequenced:
            row.status = CollectionStatus.SUBMITTED
            row.batch = batch
            row.sequence = sequence
        Collection.objects.bulk_update(
            [row for row, _s, _d in sequenced], ["status", "batch", "sequence", "updated_at"]
        )
        Mandate.objects.filter(pk__in=first_seen).update(first_collected=True)
        event_record(
            creditor=creditor,
            verb="sepa_batch.created",
            actor=actor,
            subject=batch,
            reason=f"incassobestand {message_id} ({schema}): {len(sequenced)} incasso's, "
            f"{format_eur(total)}",
            data={
                "message_id": message_id,
                "schema": schema,
                "count": len(sequenced),
                "total_cents": total,
                "sha256": batch.sha256,
                "up_to": up_to.isoformat(),
                "notes": notes,
            },
            on=today,
        )
        Event.objects.bulk_create(
            [
                Event(
                    **event_fields(
                        creditor=creditor,
                        debtor=row.debtor_id,
                        verb="collection.submitted",
                        actor=actor,
                        subject=row,
                        reason=f"{format_eur(row.amount_cents)} ({sequence}) in incassobestand "
                        f"{message_id}, incassodatum {day.isoformat()}",
                        data={
                            "end_to_end_id": row.end_to_end_id,
                            "batch": message_id,
                            "sequence": sequence,
                            "collection_date": day.isoformat(),
                        },
                        on=today,
                    )
                )
                for row, sequence, day in sequenced
            ]
        )
    batch.notes = notes
    return batch


# -- settlement and returns -------------------------------------------------------------------

TRANSITIONS = {
    CollectionStatus.PLANNED: {CollectionStatus.SUBMITTED, CollectionStatus.CANCELLED},
    CollectionStatus.SUBMITTED: {CollectionStatus.SETTLED, CollectionStatus.REJECTED},
    CollectionStatus.SETTLED: {CollectionStatus.RETURNED},
}


def _transition(row: Collection, to: str) -> None:
    if to not in TRANSITIONS.get(row.status, set()):
        raise SepaError(
            f"direct debit {row.end_to_end_id} is {row.get_status_display()}; it cannot "
            f"become {CollectionStatus(to).label}"
        )
    row.status = to


def _settle(row: Collection, *, on: date, actor: Actor, how: str):
    """Book one submitted debit as paid. Trusted: the row is locked, in a transaction."""
    from vaarwater.ledger.models import PaymentSource
    from vaarwater.ledger.services import payment_book

    _transition(row, CollectionStatus.SETTLED)
    payment = payment_book(
        debtor=row.debtor,
        external_id=f"sepa-{row.end_to_end_id}",
        date=on,
        amount_cents=row.amount_cents,
        reference=row.description,
        source=PaymentSource.BANK,
        actor=actor,
    )
    row.payment = payment
    row.save(update_fields=["status", "payment", "updated_at"])
    event_record(
        creditor=row.creditor_id,
        debtor=row.debtor_id,
        verb="collection.settled",
        actor=actor,
        subject=row,
        reason=f"{format_eur(row.amount_cents)} geïncasseerd ({how})",
        data={"end_to_end_id": row.end_to_end_id, "payment": payment.external_id},
        on=on,
    )
    return payment


def collection_return(
    *,
    collection: Collection,
    code: str,
    kind: str,
    reason: str = "",
    on: date | None = None,
    actor: Actor | None = None,
) -> Collection:
    """Handle a debit that came back: ``reject`` before settlement, ``storno`` after it.

    A reject books nothing (nothing was booked); a storno reverses the booked payment, so the
    debt is open again. Either way the debtor is asked to pay another way
    (``incasso-gestorneerd``), and a code that shows the mandate is unusable (AC01, AC04, AC06,
    MD01, MD07) revokes it. Returning a debit twice changes nothing the second time.
    """
    from vaarwater.contact.services import message_queue
    from vaarwater.law import roll_forward
    from vaarwater.ledger.models import EntryKind, LedgerEntry
    from vaarwater.ledger.services import entry_reverse

    if kind not in ("storno", "reject"):
        raise SepaError(f"{kind!r}: expected storno or reject", field="kind")
    code = (code or "").strip().upper()
    if code and not re.fullmatch(r"[A-Z0-9]{4}", code):
        raise SepaError(
            f"{code!r}: a reason code has 4 letters or digits, such as MD06", field="code"
        )
    on = on or timezone.localdate()
    actor = _actor(actor)
    meaning = return_reason_text(code)
    with transaction.atomic():
        row = (
            # Lock the collection only: its payment may be null (an outer join).
            Collection.objects.select_for_update(of=("self",))
            .select_related("mandate", "debtor", "payment")
            .get(pk=collection.pk)
        )
        if row.status in (CollectionStatus.RETURNED, CollectionStatus.REJECTED):
            return row  # already handled: a second report changes nothing
        if row.status in (CollectionStatus.PLANNED, CollectionStatus.CANCELLED):
            raise SepaError(
                f"direct debit {row.end_to_end_id} is {row.get_status_display()} and was never "
                "sent to the bank, so it cannot come back"
            )
        if kind == "reject" and row.status == CollectionStatus.SETTLED:
            raise SepaError(
                f"direct debit {row.end_to_end_id} was already collected; a return after "
                "collection is a storno, not a reject",
                field="kind",
            )
        if kind == "storno" and row.status == CollectionStatus.SUBMITTED:
            raise SepaError(
                f"direct debit {row.end_to_end_id} has not been collected yet; a return before "
                "collection is a reject",
                field="kind",
            )
        words = f"{code}: {meaning}" if code else meaning
        why = (
            f"incasso {row.end_to_end_id} "
            + ("teruggeboekt (storno)" if kind == "storno" else "geweigerd (reject)")
            + f", {words}"
            + (f"; {reason.strip()}" if (reason or "").strip() else "")
        )
        if kind == "storno":
            _transition(row, CollectionStatus.RETURNED)
            entry = LedgerEntry.objects.filter(payment=row.payment, kind=EntryKind.PAYMENT).first()
            if entry is not None and not LedgerEntry.objects.filter(reverses=entry).exists():
                entry_reverse(entry=entry, reason=why, actor=actor)
        else:
            _transition(row, CollectionStatus.REJECTED)
            if row.sequence == FRST:
                # The first debit never went through: the next one must be FRST again.
                Mandate.objects.filter(pk=row.mandate_id).update(first_collected=False)
        row.return_code = code
        row.return_reason = why
        row.returned_on = on
        row.save(
            update_fields=["status", "return_code", "return_reason", "returned_on", "updated_at"]
        )
        event_record(
            creditor=row.creditor_id,
            debtor=row.debtor_id,
            verb="collection.returned" if kind == "storno" else "collection.rejected",
            actor=actor,
            subject=row,
            reason=why,
            data={
                "end_to_end_id": row.end_to_end_id,
                "code": code,
                "meaning": meaning,
                "kind": kind,
                "amount_cents": row.amount_cents,
            },
            on=on,
        )
        ended = code in REVOKING_CODES
        if ended:
            mandate_revoke(mandate=row.mandate, reason=why, actor=actor, on=on)
        context = _message_context(row, row.mandate.creditor.sepa_creditor_id)
        context.update(
            pay_by=roll_forward(on + timedelta(days=PAY_AFTER_RETURN_DAYS)).isoformat(),
            mandate_ended=ended,
            return_code=code,
        )
        message_queue(
            debtor=row.debtor,
            template="incasso-gestorneerd",
            purpose="sepa-return",
            key=f"collection-{row.pk}",
            case=_active_case(row.debtor),
            context=context,
            why=why,
            actor=actor,
        )
    return row


def _entry_texts(entry) -> str:
    # The statement import also hands over what the model does not store: the batch's payment
    # information (or message) id of a batch booking (``entry.parsed.batch_id``).
    parsed = getattr(entry, "parsed", None)
    return " ".join(
        (
            entry.end_to_end_id or "",
            entry.remittance or "",
            entry.bank_reference or "",
            getattr(parsed, "batch_id", "") or "",
        )
    ).upper()


def statement_entry_handle(entry) -> bool:
    """Handle a bank-statement entry that belongs to a direct debit; False when it does not.

    Called by the statement import for every entry before ordinary matching. A credit that
    settles collections (one by its end-to-end id, or a whole batch by its payment information
    or message id) books them; a debit that returns one (storno, with a reason code) reverses
    its booking. The entry's status and match fields are set by this function; the caller
    saves the entry.

    Cheap for the entries that are not ours: only a text that carries one of our ids (``VWI-``
    end-to-end, ``VWB-`` message) costs a query. A batch credit settles only when its amount is
    exactly the sum of the batch's (or block's) debits still submitted; otherwise the entry is
    left to ordinary matching with the reason in ``match_reason``.
    """
    if (entry.currency or "EUR") != "EUR" or not entry.amount_cents:
        return False
    text = _entry_texts(entry)
    if "VWI-" not in text and "VWB-" not in text:
        return False
    from .statement_models import EntryStatus

    e2e_ids = list(dict.fromkeys(E2E_RE.findall(text)))
    label = getattr(getattr(entry, "statement", None), "file_name", "") or "bankafschrift"
    actor = Actor.for_import(f"bankafschrift {label}"[:200])
    on = entry.booking_date
    if e2e_ids:
        rows = list(
            Collection.objects.filter(creditor_id=entry.creditor_id, end_to_end_id__in=e2e_ids)
        )
        if len(rows) == 1:
            return _entry_single(entry, rows[0], on=on, actor=actor, status=EntryStatus)
    if entry.amount_cents > 0:
        for message_id, block in BATCH_RE.findall(text):
            if _entry_batch(entry, message_id, block, on=on, actor=actor, status=EntryStatus):
                return True
    return False


def _entry_single(entry, row: Collection, *, on, actor, status) -> bool:
    amount = abs(entry.amount_cents)
    entry.match_method = "sepa"
    with transaction.atomic():
        row = Collection.objects.select_for_update().select_related("debtor").get(pk=row.pk)
        if entry.amount_cents > 0:
            if row.status == CollectionStatus.SUBMITTED:
                if amount != row.amount_cents:
                    entry.match_reason = (
                        f"incasso {row.end_to_end_id}: bijgeschreven {format_eur(amount)}, "
                        f"verwacht {format_eur(row.amount_cents)}; niet geboekt"
                    )
                    entry.match_method = ""
                    return False
                entry.payment = _settle(row, on=on, actor=actor, how="op het bankafschrift")
                entry.debtor_id = row.debtor_id
                entry.status = status.COLLECTION
                entry.match_reason = (
                    f"incasso {row.end_to_end_id} ({row.mandate.mandate_id}) geïncasseerd"
                )
                return True
            if row.status in (CollectionStatus.SETTLED, CollectionStatus.RETURNED):
                entry.debtor_id = row.debtor_id
                entry.status = status.COLLECTION
                entry.match_reason = f"incasso {row.end_to_end_id} was al geboekt"
                return True
            # Rejected, cancelled or never sent, yet money with its id arrived: perhaps the
            # bank collected after all, perhaps this undoes a return seen before (statements
            # imported out of order). Ordinary matching would book it on the debtor (by the
            # mandate's IBAN) and could count the same money twice: a person decides.
            entry.status = status.UNMATCHED
            entry.match_method = ""
            entry.match_reason = (
                f"incasso {row.end_to_end_id} is {row.get_status_display()}, maar er is "
                f"{format_eur(amount)} voor bijgeschreven; niet automatisch geboekt: controleer "
                "bij de bank of de incasso toch is uitgevoerd"
            )
            return True
        # A debit: the collection came back.
        code = (entry.return_code or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{4}", code):
            code = ""  # a bank's odd code must not stop the import; "no reason code given"
        if row.status in (CollectionStatus.RETURNED, CollectionStatus.REJECTED):
            entry.debtor_id = row.debtor_id
            entry.status = status.RETURN
            entry.match_reason = f"incasso {row.end_to_end_id} was al teruggeboekt"
            return True
        if row.status == CollectionStatus.SETTLED and amount == row.amount_cents:
            collection_return(
                collection=row,
                code=code,
                kind="storno",
                reason="op het bankafschrift",
                on=on,
                actor=actor,
            )
        elif row.status == CollectionStatus.SUBMITTED and amount == row.amount_cents:
            collection_return(
                collection=row,
                code=code,
                kind="reject",
                reason="op het bankafschrift",
                on=on,
                actor=actor,
            )
        else:
            entry.match_method = ""
            entry.match_reason = (
                f"afschrijving van {format_eur(amount)} noemt incasso {row.end_to_end_id} "
                f"({row.get_status_display()}, {format_eur(row.amount_cents)}); niet verwerkt"
            )
            return False
        entry.debtor_id = row.debtor_id
        entry.status = status.RETURN
        entry.match_reason = (
            f"incasso {row.end_to_end_id} teruggeboekt: {code or '-'} {return_reason_text(code)}"
        )
    return True


def _entry_batch(entry, message_id: str, block: str, *, on, actor, status) -> bool:
    batch = CollectionBatch.objects.filter(
        creditor_id=entry.creditor_id, message_id=message_id
    ).first()
    if batch is None:
        return False
    if block:
        info_id = f"{message_id}-{block}"
        e2e_ids = pain008_groups(batch.xml).get(info_id)
        if e2e_ids is None:
            return False
        rows = Collection.objects.filter(batch=batch, end_to_end_id__in=e2e_ids)
        what = f"blok {info_id}"
    else:
        rows = Collection.objects.filter(batch=batch)
        what = f"bestand {message_id}"
    with transaction.atomic():
        rows = list(
            rows.select_for_update(of=("self",)).select_related("debtor", "mandate").order_by("pk")
        )
        open_rows = [row for row in rows if row.status == CollectionStatus.SUBMITTED]
        expected = sum(row.amount_cents for row in open_rows)
        entry.match_method = "sepa"
        if not open_rows and any(row.status == CollectionStatus.SETTLED for row in rows):
            entry.status = status.COLLECTION
            entry.match_reason = f"incasso's van {what} waren al geboekt"
            return True
        if entry.amount_cents != expected:
            entry.match_method = ""
            entry.match_reason = (
                f"{what}: bijgeschreven {format_eur(entry.amount_cents)}, openstaand "
                f"{format_eur(expected)} ({len(open_rows)} incasso's); niet geboekt — verwerk "
                "eerst de weigeringen (vaarwater sepa-return --reject of sepa-status)"
            )
            return False
        for row in open_rows:
            _settle(row, on=on, actor=actor, how=f"in één bedrag voor {what}")
        entry.status = status.COLLECTION
        entry.match_reason = (
            f"{what}: {len(open_rows)} incasso's geïncasseerd, {format_eur(expected)}"
        )
    return True


# -- pain.002 status reports ------------------------------------------------------------------


@dataclass
class StatusReport:
    """What a pain.002 status report did: rejected debits, ids we do not know."""

    message_id: str = ""
    original_message_id: str = ""
    rejected: list[Collection] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def status_report_apply(
    *, raw: bytes, actor: Actor | None = None, on: date | None = None
) -> StatusReport:
    """Apply a pain.002 payment status report: its rejected debits become REJECTED.

    A rejected group (the whole file) or payment-information block rejects all its debits; a
    rejected transaction rejects one. Accepted statuses change nothing. Debits already rejected
    are listed as unchanged. Raises SepaError for a file that is not a pain.002 report.
    """
    from lxml import etree

    actor = _actor(actor)
    on = on or timezone.localdate()
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SepaError(f"not XML: {exc}") from None
    namespace = etree.QName(root).namespace or ""
    if "pain.002" not in namespace or root.find("{*}CstmrPmtStsRpt") is None:
        raise SepaError(f"not a pain.002 payment status report (namespace {namespace or 'none'!r})")

    def text(node, path: str) -> str:
        found = node.find(path) if node is not None else None
        return (found.text or "").strip() if found is not None else ""

    report = root.find("{*}CstmrPmtStsRpt")
    result = StatusReport(message_id=text(report, "{*}GrpHdr/{*}MsgId"))
    group = report.find("{*}OrgnlGrpInfAndSts")
    result.original_message_id = text(group, "{*}OrgnlMsgId")
    batch = CollectionBatch.objects.filter(message_id=result.original_message_id).first()
    rejects: dict[str, str] = {}  # end-to-end id -> reason code
    if text(group, "{*}GrpSts") == "RJCT":
        code = text(group, "{*}StsRsnInf/{*}Rsn/{*}Cd")
        if batch is None:
            result.unknown.append(result.original_message_id)
        else:
            for e2e in Collection.objects.filter(batch=batch).values_list(
                "end_to_end_id", flat=True
            ):
                rejects[e2e] = code
    groups = pain008_groups(batch.xml) if batch is not None else {}
    for info in report.findall("{*}OrgnlPmtInfAndSts"):
        info_id = text(info, "{*}OrgnlPmtInfId")
        if text(info, "{*}PmtInfSts") == "RJCT":
            code = text(info, "{*}StsRsnInf/{*}Rsn/{*}Cd")
            if info_id in groups:
                for e2e in groups[info_id]:
                    rejects.setdefault(e2e, code)
            else:
                result.unknown.append(info_id)
        for tx in info.findall("{*}TxInfAndSts"):
            if text(tx, "{*}TxSts") == "RJCT":
                rejects[text(tx, "{*}OrgnlEndToEndId")] = text(tx, "{*}StsRsnInf/{*}Rsn/{*}Cd")
    # Only the debits of the file the report is about: an end-to-end id of another file (of
    # another creditor, perhaps) is not this report's to reject.
    rows = (
        {
            row.end_to_end_id: row
            for row in Collection.objects.filter(batch=batch, end_to_end_id__in=rejects)
        }
        if batch is not None
        else {}
    )
    for e2e, code in rejects.items():
        row = rows.get(e2e)
        if row is None:
            result.unknown.append(e2e)
        elif row.status != CollectionStatus.SUBMITTED:
            result.unchanged.append(e2e)
        else:
            result.rejected.append(
                collection_return(
                    collection=row,
                    code=code,
                    kind="reject",
                    reason=f"statusrapport {result.message_id}",
                    on=on,
                    actor=actor,
                )
            )
    return result
