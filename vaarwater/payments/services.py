"""Payments: start an iDEAL payment, take its status from Mollie, book it once; payment links.

The rules that keep money right:

- **The status always comes from the provider.** A webhook only says "look again"; the return
  page looks again too. ``payment_sync`` asks Mollie and applies what Mollie says, so a forged
  webhook books nothing (Mollie says ``open``) and a replayed one books nothing new.
- **A payment is booked once.** The request row is locked while its status is applied, the
  booking is linked to it (one-to-one), and the ledger's payment id is Mollie's id, unique per
  creditor: a second booking cannot exist even if two processes race.
- **A double click is one payment.** The pay form carries a one-time nonce; the request is
  unique per debtor and nonce, and Mollie gets the same ``Idempotency-Key`` for it, so a second
  submit (or a retry after a lost answer) returns the same payment and the same checkout.
- **No overpaying through the portal**, and no partial payment below the creditor's minimum
  (``portal.partial_min``) unless it is everything that is left.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur, parse_amount, typed_amount_text
from vaarwater.ledger.models import Debtor, Payment, PaymentSource
from vaarwater.ledger.selectors import debtor_position
from vaarwater.ledger.services import payment_book
from vaarwater.strategy.documents import creditor_settings
from vaarwater.strategy.models import Case, CloseReason
from vaarwater.strategy.services import case_close

from .models import TRANSITIONS, PaymentLink, PaymentRequest, PaymentRequestStatus
from .providers.mollie import consts
from .providers.mollie.client import (
    ProviderError,
    ProviderPayment,
    ProviderRefused,
    ProviderUnknown,
    mollie_payment_create,
    mollie_payment_get,
)
from .selectors import link_state, link_url

log = logging.getLogger(__name__)

# iDEAL takes at most this much in one payment (Mollie's limit for the method).
IDEAL_MAX_CENTS = 5_000_000
# A payment link's code: this many characters from an alphabet without look-alikes (0/o, 1/l/i):
# 31^12 ≈ 2^59 codes, so guessing one is hopeless.
LINK_CODE_LENGTH = 12
LINK_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PROVIDER_ACTOR = Actor.system("iDEAL (Mollie)")
STATUS_WORDS = {
    "open": "gestart",
    "pending": "wordt verwerkt",
    "paid": "betaald",
    "failed": "mislukt",
    "canceled": "geannuleerd",
    "expired": "verlopen",
}


class PaymentError(Exception):
    """A payment that cannot be started (bad amount, used form, provider refused); ``field``
    is the form field the message belongs to ("amount", or "form" for the whole form)."""

    def __init__(self, message: str, *, field: str = "form"):
        super().__init__(message)
        self.message = message
        self.field = field


class PaymentUnavailable(PaymentError):
    """The provider could not be reached: try again later (or pay by bank transfer)."""


# -- amounts -----------------------------------------------------------------------------------


def amount_parse(raw: str) -> int:
    """Read an amount as a debtor types it: ``12,34``, ``12.34``, ``€ 12,34``, ``1.234,56``,
    ``12,-``. Raise PaymentError (field ``amount``) with a reason for anything else.

    >>> amount_parse("€ 12,34")
    1234
    >>> amount_parse("12.34"), amount_parse("1.234,56"), amount_parse("25,-")
    (1234, 123456, 2500)
    """
    text = typed_amount_text(raw or "")
    if not text:
        raise PaymentError(_("Fill in an amount."), field="amount")
    try:
        cents = parse_amount(text)
    except ValueError as exc:
        if str(exc) == "more than two decimals":
            message = _("Use at most two digits after the comma, for example 12,34.")
        else:
            message = _("Fill in an amount in euros, for example 12,34.")
        raise PaymentError(message, field="amount") from exc
    if cents <= 0:
        raise PaymentError(_("Fill in an amount above zero."), field="amount")
    return cents


def portal_policy(debtor: Debtor, case: Case | None = None):
    """The creditor's portal rules (minimum partial payment, how long a link works)."""
    return creditor_settings(debtor.creditor, case=case).portal


def amount_check(*, debtor: Debtor, amount_cents: int, case: Case | None = None) -> int:
    """Check an amount a debtor wants to pay now; return the balance. Raises PaymentError
    (field ``amount``): nothing owed, more than owed, below the minimum partial payment."""
    balance = debtor_position(debtor).balance
    language = _language(debtor)
    if balance <= 0:
        raise PaymentError(_("You have nothing left to pay."), field="amount")
    if amount_cents <= 0:
        raise PaymentError(_("Fill in an amount above zero."), field="amount")
    if amount_cents > balance:
        raise PaymentError(
            _("That is more than you owe. You can pay at most %(max)s.")
            % {"max": format_eur(balance, language=language)},
            field="amount",
        )
    minimum = portal_policy(debtor, case).partial_min
    if amount_cents < minimum and amount_cents != balance:
        raise PaymentError(
            _("The smallest amount you can pay online is %(min)s (or everything: %(all)s).")
            % {
                "min": format_eur(minimum, language=language),
                "all": format_eur(balance, language=language),
            },
            field="amount",
        )
    if amount_cents > IDEAL_MAX_CENTS:
        raise PaymentError(
            _("iDEAL takes at most %(max)s at a time. Pay the rest by bank transfer.")
            % {"max": format_eur(IDEAL_MAX_CENTS, language=language)},
            field="amount",
        )
    return balance


def _language(debtor: Debtor) -> str:
    return "en" if (debtor.language or "").startswith("en") else "nl"


# -- starting a payment --------------------------------------------------------------------------


def payment_nonce() -> str:
    """A one-time value for a pay form: the same value submitted twice is one payment."""
    return secrets.token_urlsafe(18)


def webhook_url() -> str:
    """Where Mollie reports a payment's changes (``PUBLIC_URL`` + the webhook path).

    Empty when the real Mollie is used from a laptop (``PUBLIC_URL`` on localhost): Mollie
    refuses a webhook it cannot reach, and the return page asks Mollie itself anyway."""
    host = urlsplit(settings.PUBLIC_URL).hostname or ""
    real_mollie = urlsplit(settings.MOLLIE_API_BASE or consts.API_HOST).hostname == "api.mollie.com"
    if real_mollie and (host == "localhost" or host.startswith("127.") or host == "::1"):
        return ""
    return settings.PUBLIC_URL.rstrip("/") + reverse("payments:mollie_webhook")


def _description(debtor: Debtor, case: Case | None, link: PaymentLink | None) -> str:
    reference = case.reference if case is not None else debtor.external_id
    if link is not None and link.description:
        return f"{debtor.creditor.name} {reference}: {link.description}"[:255]
    return f"{debtor.creditor.name} {reference}"[:255]


def payment_start(
    *,
    debtor: Debtor,
    amount_cents: int,
    nonce: str,
    redirect_url: str | Callable[[PaymentRequest], str],
    actor: Actor,
    case: Case | None = None,
    link: PaymentLink | None = None,
) -> PaymentRequest:
    """Start an iDEAL payment at Mollie and return its request (with ``checkout_url``).

    ``redirect_url`` is where the debtor's browser comes back (a callable gets the request, for
    a URL with its id). The same ``nonce`` again returns the same request and checkout.
    Raises PaymentError for a bad amount or a used form, PaymentUnavailable when Mollie cannot
    be reached.
    """
    if not NONCE_RE.match(nonce or ""):
        raise PaymentError(_("This form has expired. Please try again."))
    key = f"{debtor.pk}-{nonce}"
    request = PaymentRequest.objects.filter(idempotency_key=key).first()
    if request is not None and request.final:
        return request  # the form was used and its payment is over: show how it ended
    if request is None:
        if link is None:
            amount_check(debtor=debtor, amount_cents=amount_cents, case=case)
        request = _request_create(
            debtor=debtor, amount_cents=amount_cents, key=key, case=case, link=link, actor=actor
        )
    if request.amount_cents != amount_cents or request.link_id != (link.pk if link else None):
        raise PaymentError(_("This form was already used. Please choose the amount again."))
    if request.provider_id or request.final:
        return request
    url = redirect_url(request) if callable(redirect_url) else redirect_url
    try:
        remote = mollie_payment_create(
            amount_cents=request.amount_cents,
            description=request.description,
            redirect_url=url,
            webhook_url=webhook_url(),
            metadata={"request": request.pk, "debtor": debtor.external_id},
            idempotency_key=f"vaarwater-{request.idempotency_key}",
            locale=_language(debtor),
        )
    except ProviderRefused as exc:
        log.error("Mollie refused payment request %s: %s", request.pk, exc)
        _request_refused(request.pk, str(exc), actor)
        raise PaymentUnavailable(
            _("Paying with iDEAL is not possible right now. Please pay by bank transfer.")
        ) from exc
    except ProviderError as exc:
        log.warning("Mollie unavailable for payment request %s: %s", request.pk, exc)
        raise PaymentUnavailable(
            _(
                "Paying with iDEAL does not work right now. Please try again in a few minutes, "
                "or pay by bank transfer."
            )
        ) from exc
    return _request_started(request.pk, remote, actor)


def _request_create(*, debtor, amount_cents, key, case, link, actor) -> PaymentRequest:
    try:
        with transaction.atomic():
            return PaymentRequest.objects.create(
                creditor_id=debtor.creditor_id,
                debtor=debtor,
                case=case,
                link=link,
                amount_cents=amount_cents,
                description=_description(debtor, case, link),
                provider=consts.PROVIDER,
                idempotency_key=key,
                started_by=actor.label[:200],
            )
    except IntegrityError:  # the same form, submitted at the same moment: one request
        return PaymentRequest.objects.get(idempotency_key=key)


@transaction.atomic
def _request_started(request_id: int, remote: ProviderPayment, actor: Actor) -> PaymentRequest:
    request = PaymentRequest.objects.select_for_update().get(pk=request_id)
    if request.provider_id:
        return request  # a concurrent submit of the same form stored it first
    request.provider_id = remote.provider_id
    request.checkout_url = remote.checkout_url
    request.save(update_fields=["provider_id", "checkout_url", "updated_at"])
    via = f"betaallink {request.link.code}" if request.link_id else "het portaal"
    event_record(
        creditor=request.creditor_id,
        debtor=request.debtor_id,
        verb="payment.started",
        actor=actor,
        subject=request,
        reason=f"iDEAL-betaling van {format_eur(request.amount_cents)} gestart via {via}",
        data={
            "provider": request.provider,
            "provider_id": remote.provider_id,
            "amount_cents": request.amount_cents,
            "case": request.case_id,
            "link": request.link_id,
        },
    )
    return request


@transaction.atomic
def _request_refused(request_id: int, detail: str, actor: Actor) -> None:
    request = PaymentRequest.objects.select_for_update().get(pk=request_id)
    if request.provider_id or request.final:
        return
    request.status = PaymentRequestStatus.FAILED
    request.save(update_fields=["status", "updated_at"])
    event_record(
        creditor=request.creditor_id,
        debtor=request.debtor_id,
        verb="payment.failed",
        actor=actor,
        subject=request,
        reason=f"iDEAL-betaling kon niet starten: de betaaldienst weigerde ({detail[:200]})",
        data={"amount_cents": request.amount_cents},
    )


# -- the provider's word -------------------------------------------------------------------------


def payment_sync(*, provider_id: str) -> PaymentRequest | None:
    """Ask Mollie for a payment's status and apply it; book it when paid (once).

    Returns the request, or None when the id is not one of ours. A payment Mollie does not
    know changes nothing. Raises ProviderUnavailable when Mollie cannot be reached (a webhook
    then answers with an error, so Mollie tries again later).
    """
    request = PaymentRequest.objects.filter(
        provider=consts.PROVIDER, provider_id=provider_id
    ).first()
    if request is None:
        return None
    if request.final and (request.status != PaymentRequestStatus.PAID or request.payment_id):
        return request  # nothing can change any more: no need to ask
    try:
        remote = mollie_payment_get(provider_id)
    except ProviderUnknown:
        log.warning("Mollie does not know payment %s of request %s", provider_id, request.pk)
        return request
    return payment_apply(request_id=request.pk, remote=remote)


@transaction.atomic
def payment_apply(*, request_id: int, remote: ProviderPayment) -> PaymentRequest:
    """Apply what the provider reports about a request; book it when paid and not yet booked.

    Trusted: ``remote`` came from the provider itself (never from a webhook's body).
    """
    request = PaymentRequest.objects.select_for_update().select_related("debtor").get(pk=request_id)
    if remote.provider_id != request.provider_id:
        raise ValueError(f"{remote.provider_id} is not the payment of request {request.pk}")
    status = remote.status
    if status != request.status:
        if status not in TRANSITIONS[request.status]:
            log.warning(
                "payment request %s: provider says %s after %s; kept",
                request.pk,
                status,
                request.status,
            )
        else:
            _status_record(request, status, remote)
    if request.status == PaymentRequestStatus.PAID and request.payment_id is None:
        _book(request, remote)
    return request


def _status_record(request: PaymentRequest, status: str, remote: ProviderPayment) -> None:
    request.status = status
    fields = ["status", "updated_at"]
    if status == PaymentRequestStatus.PAID:
        request.paid_at = remote.paid_at or timezone.now()
        fields.append("paid_at")
    request.save(update_fields=fields)
    amount = format_eur(request.amount_cents)
    reasons = {
        "pending": f"iDEAL-betaling van {amount} wordt verwerkt door de bank",
        "paid": f"iDEAL-betaling van {amount} is betaald, volgens Mollie",
        "failed": f"iDEAL-betaling van {amount} is mislukt bij de bank; er is niets afgeschreven",
        "canceled": f"iDEAL-betaling van {amount} is afgebroken door de klant",
        "expired": f"iDEAL-betaling van {amount} is verlopen: niet op tijd afgerond",
    }
    event_record(
        creditor=request.creditor_id,
        debtor=request.debtor_id,
        verb=f"payment.{status}",
        actor=PROVIDER_ACTOR,
        subject=request,
        reason=reasons.get(status, f"iDEAL-betaling {STATUS_WORDS.get(status, status)}"),
        data={
            "provider_id": request.provider_id,
            "provider_status": remote.provider_status,
            "amount_cents": request.amount_cents,
        },
    )


def _book(request: PaymentRequest, remote: ProviderPayment) -> None:
    """Book a paid request in the ledger (art. 6:44 BW), close what is paid, send a receipt.

    Trusted: the caller holds the request's lock inside a transaction."""
    debtor = request.debtor
    paid_on = timezone.localdate(request.paid_at) if request.paid_at else timezone.localdate()
    amount = remote.amount_cents if remote.currency == consts.CURRENCY else 0
    if amount != request.amount_cents:
        log.error(
            "payment request %s: Mollie reports %s %s, we asked %s cents; booking Mollie's",
            request.pk,
            remote.currency,
            remote.amount_cents,
            request.amount_cents,
        )
    if amount <= 0:
        return
    payment = Payment.objects.filter(
        creditor_id=request.creditor_id, external_id=request.provider_id
    ).first()
    if payment is None:
        reference = request.case.reference if request.case_id else debtor.external_id
        payment = payment_book(
            debtor=debtor,
            external_id=request.provider_id,
            date=paid_on,
            amount_cents=amount,
            reference=reference,
            source=PaymentSource.PSP,
            actor=PROVIDER_ACTOR,
        )
    request.payment = payment
    request.save(update_fields=["payment", "updated_at"])
    closed = _close_paid_cases(debtor, request)
    position = debtor_position(debtor)
    _receipt_queue(request, debtor, amount, paid_on, max(position.balance, 0), closed)


def _close_paid_cases(debtor: Debtor, request: PaymentRequest) -> list[Case]:
    """Close the debtor's active case when nothing overdue is left (the daily run's rule)."""
    today = timezone.localdate()
    position = debtor_position(debtor)
    overdue = sum(item.total for item in position.items.values() if item.due_date < today)
    if overdue - position.credit > 0:
        return []
    closed = []
    for case in Case.objects.filter(debtor=debtor).active():
        closed.append(
            case_close(
                case=case,
                reason_code=CloseReason.PAID,
                reason=f"alles wat te laat was, is betaald (iDEAL {request.provider_id})",
                on=today,
                actor=PROVIDER_ACTOR,
            )
        )
    return closed


def _receipt_queue(request, debtor, amount, paid_on: date, remaining: int, closed) -> None:
    from vaarwater.contact.services import message_queue, reachable_channels

    case = request.case or (closed[0] if closed else None)
    channel = "email" if "email" in reachable_channels(debtor) else None
    message_queue(
        debtor=debtor,
        template="bedankt-betaling",
        purpose="receipt",
        key=f"ideal-{request.pk}",
        case=case,
        channel=channel,
        context={
            "paid_cents": amount,
            "paid_on": paid_on.isoformat(),
            "remaining_cents": remaining,
        },
        why=f"bevestiging van de iDEAL-betaling van {format_eur(amount)}",
        actor=PROVIDER_ACTOR,
    )


# -- payment links -------------------------------------------------------------------------------


def _link_code() -> str:
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))


def payment_link_create(
    *,
    debtor: Debtor,
    amount_cents: int,
    actor: Actor,
    days: int | None = None,
    case: Case | None = None,
    description: str = "",
    purpose: str = "agent",
) -> PaymentLink:
    """Make a payment link for a set amount (at most the balance), working ``days`` days
    (default: the creditor's ``portal.payment_link_days``). Raises PaymentError."""
    balance = debtor_position(debtor).balance
    language = _language(debtor)
    if amount_cents <= 0:
        raise PaymentError(_("Fill in an amount above zero."), field="amount")
    if balance <= 0:
        raise PaymentError(_("This customer has nothing left to pay."), field="amount")
    if amount_cents > balance:
        raise PaymentError(
            _("That is more than the customer owes (%(max)s).")
            % {"max": format_eur(balance, language=language)},
            field="amount",
        )
    if amount_cents > IDEAL_MAX_CENTS:
        raise PaymentError(
            _("iDEAL takes at most %(max)s at a time.")
            % {"max": format_eur(IDEAL_MAX_CENTS, language=language)},
            field="amount",
        )
    if case is not None and case.debtor_id != debtor.pk:
        raise ValueError(f"case {case.pk} is not a case of debtor {debtor.pk}")
    if days is None:
        days = portal_policy(debtor, case).payment_link_days
    if not 1 <= days <= 90:
        raise PaymentError(_("A payment link works 1 to 90 days."), field="days")
    expires_on = timezone.localdate() + timedelta(days=days)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                link = PaymentLink.objects.create(
                    creditor_id=debtor.creditor_id,
                    debtor=debtor,
                    case=case,
                    code=_link_code(),
                    amount_cents=amount_cents,
                    description=description[:200],
                    expires_on=expires_on,
                    purpose=purpose[:32],
                    created_by=actor.label[:200],
                )
                event_record(
                    creditor=debtor.creditor_id,
                    debtor=debtor,
                    verb="payment_link.created",
                    actor=actor,
                    subject=link,
                    reason=f"betaallink voor {format_eur(amount_cents)}, geldig tot en met "
                    f"{expires_on:%d-%m-%Y}" + (f": {description}" if description else ""),
                    data={
                        "amount_cents": amount_cents,
                        "expires_on": expires_on.isoformat(),
                        "case": case.pk if case else None,
                        "purpose": purpose,
                    },
                )
                return link
        except IntegrityError:  # a code that exists already (1 in 2^59): draw again
            continue
    raise RuntimeError("could not draw a free payment-link code")


def payment_link_send(
    *, link: PaymentLink, actor: Actor, channel: str | None = None, on_request: bool = False
):
    """Send a payment link to its debtor (template ``betaalverzoek``) through ``channel``
    (default: the debtor's preferred reachable one). ``on_request``: the debtor asked for it
    (in a call, a chat), so it leaves at once, like a receipt; otherwise the contact rules
    (hours, caps) apply. Sending the same link on the same channel again is the same message.
    Returns the message, or None when the debtor cannot be reached."""
    from vaarwater.contact.services import message_queue

    link = PaymentLink.objects.select_related("debtor", "case").get(pk=link.pk)
    state = link_state(link)
    if state != "live":
        reasons = {
            "paid": _("This payment link has been paid already."),
            "revoked": _("This payment link was revoked."),
            "expired": _("This payment link has expired."),
        }
        raise PaymentError(reasons[state])
    return message_queue(
        debtor=link.debtor,
        template="betaalverzoek",
        purpose="confirmation" if on_request else "payment_request",
        key=f"link-{link.pk}-{channel or 'best'}",
        case=link.case,
        channel=channel,
        context={
            "request_cents": link.amount_cents,
            "expires_on": link.expires_on.isoformat(),
            "payment_url": link_url(link),
        },
        why=f"betaallink voor {format_eur(link.amount_cents)} verstuurd",
        actor=actor,
    )


@transaction.atomic
def payment_link_revoke(*, link: PaymentLink, actor: Actor, reason: str) -> PaymentLink:
    """Stop a link from working (a payment that is already under way still counts)."""
    if not reason.strip():
        raise ValueError("reason: revoking a payment link needs one")
    link = PaymentLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    event_record(
        creditor=link.creditor_id,
        debtor=link.debtor_id,
        verb="payment_link.revoked",
        actor=actor,
        subject=link,
        reason=f"betaallink ingetrokken: {reason}",
        data={"code": link.code},
    )
    return link
