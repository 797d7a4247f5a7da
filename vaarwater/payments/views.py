"""Payment links for debtors: ``/b/<code>/`` (pay), its QR code, and the page after paying.

A link works without a personal link or login: its code is the secret (about 2^59 codes).
The page shows only the creditor, the amount and the last day, never who the debtor is.
"""

import io

import segno
from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from vaarwater.core.events import Actor
from vaarwater.core.money import format_eur

from . import selectors, services
from .models import PaymentRequestStatus
from .providers.mollie.client import ProviderError


def _private(response):
    """A payment page is personal: never cached by a proxy, never sent on as a referrer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Robots-Tag", "noindex")
    return response


def _language(request, debtor) -> str:
    """The debtor's language unless the visitor chose one; return it ("nl" or "en")."""
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and debtor.language in ("nl", "en"):
        translation.activate(debtor.language)
        request.LANGUAGE_CODE = debtor.language
    code = translation.get_language() or "nl"
    return "en" if code.startswith("en") else "nl"


def _gone(request, state: str):
    status = 404 if state == "unknown" else 410
    return _private(
        TemplateResponse(request, "payments/link_gone.html", {"state": state}, status=status)
    )


def see_other(url: str) -> HttpResponseRedirect:
    """Redirect with 303: the browser follows with a GET (after a POST)."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@require_http_methods(["GET", "POST"])
def link_page(request, code):
    """Show a payment link (creditor, amount, last day) with a button to pay it with iDEAL."""
    link = selectors.link_by_code(code)
    if link is None:
        return _gone(request, "unknown")
    language = _language(request, link.debtor)
    state = selectors.link_state(link)
    if state in ("expired", "revoked"):
        return _gone(request, state)
    amount = selectors.link_amount(link) if state == "live" else 0
    error = ""
    if request.method == "POST" and state == "live" and amount > 0:
        try:
            payment = services.payment_start(
                debtor=link.debtor,
                amount_cents=amount,
                nonce=request.POST.get("nonce", ""),
                case=link.case,
                link=link,
                redirect_url=lambda r: request.build_absolute_uri(
                    reverse("payments:link_return", args=[link.code, r.pk])
                ),
                actor=Actor(kind="debtor", label=f"betaallink {link.code}"),
            )
        except services.PaymentError as exc:
            error = exc.message
        else:
            if payment.checkout_url and not payment.final:
                return see_other(payment.checkout_url)
            return see_other(reverse("payments:link_return", args=[link.code, payment.pk]))
    context = {
        "link": link,
        "creditor": link.creditor,
        "state": state,
        "amount": format_eur(amount, language=language),
        "owes": amount > 0,
        "nonce": services.payment_nonce(),
        "error": error,
        "qr_url": reverse("payments:link_qr", args=[link.code]),
        "short_url": selectors.link_url(link),
    }
    return _private(TemplateResponse(request, "payments/link.html", context))


@require_GET
def link_qr(request, code):
    """The short link as a QR code (SVG), for a letter or a screen."""
    link = selectors.link_by_code(code)
    if link is None:
        return _gone(request, "unknown")
    state = selectors.link_state(link)
    if state != "live":
        return _gone(request, state)
    buffer = io.BytesIO()
    qr = segno.make(selectors.link_url(link), error="m")
    qr.save(buffer, kind="svg", scale=6, border=2, title=f"{link.creditor.name}", xmldecl=False)
    return _private(HttpResponse(buffer.getvalue(), content_type="image/svg+xml"))


@require_GET
def link_return(request, code, pk):
    """Where the bank sends the payer back: paid, not paid, or still being processed."""
    link = selectors.link_by_code(code)
    payment = selectors.link_request(link, pk) if link is not None else None
    if payment is None:
        return _gone(request, "unknown")
    language = _language(request, link.debtor)
    payment = payment_refresh(payment)
    context = {
        "link": link,
        "creditor": link.creditor,
        "payment": payment,
        "amount": format_eur(payment.amount_cents, language=language),
        "outcome": outcome(payment),
    }
    return _private(TemplateResponse(request, "payments/link_return.html", context))


def payment_refresh(payment):
    """Ask the provider again for a request that is not final (so the page is right even when
    the webhook has not arrived); a provider that cannot be reached leaves it as it is."""
    if payment.provider_id and not payment.final:
        try:
            return services.payment_sync(provider_id=payment.provider_id) or payment
        except ProviderError:
            return payment
    return payment


def outcome(payment) -> str:
    """``paid``, ``waiting`` (open, pending) or ``failed`` (failed, canceled, expired)."""
    if payment.status == PaymentRequestStatus.PAID:
        return "paid"
    if payment.status in (PaymentRequestStatus.OPEN, PaymentRequestStatus.PENDING):
        return "waiting" if payment.provider_id else "failed"
    return "failed"
