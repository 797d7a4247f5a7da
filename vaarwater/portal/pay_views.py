"""Pay now: iDEAL through Mollie, and the page the debtor returns to.

The pay page shows what is open per invoice and lets the debtor pay everything or another
amount (at least the creditor's minimum, at most the balance) with iDEAL, or by bank transfer.
The form carries a one-time nonce: a double click or a second submit is the same payment. After
the bank, the return page asks Mollie itself, so it is right even before the webhook arrives.
"""

from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from vaarwater.core.money import format_eur
from vaarwater.ledger.selectors import debtor_position
from vaarwater.payments import selectors, services
from vaarwater.payments.views import outcome, payment_refresh, see_other

from .access import portal_view


def _case(portal):
    case = portal.case
    return case if case is not None and case.status != "closed" else None


@portal_view
@require_http_methods(["GET", "POST"])
def pay(request):
    """Show the balance and open invoices; start an iDEAL payment for all or part of it."""
    portal = request.portal
    language = portal.language
    debtor = portal.debtor
    errors: dict[str, str] = {}
    choice = "all"
    typed = ""
    if request.method == "POST":
        typed = request.POST.get("amount", "").strip()[:32]
        choice = "other" if typed or request.POST.get("choice") == "other" else "all"
        try:
            if choice == "other":
                amount = services.amount_parse(typed)
            else:
                amount = debtor_position(debtor).balance
            payment = services.payment_start(
                debtor=debtor,
                amount_cents=amount,
                nonce=request.POST.get("nonce", ""),
                case=_case(portal),
                redirect_url=lambda r: request.build_absolute_uri(
                    reverse("portal:pay_return", args=[portal.token, r.pk])
                ),
                actor=portal.actor,
            )
        except services.PaymentError as exc:
            errors[exc.field if exc.field == "amount" and choice == "other" else "form"] = (
                exc.message
            )
        else:
            if payment.checkout_url and not payment.final:
                return see_other(payment.checkout_url)
            return see_other(reverse("portal:pay_return", args=[portal.token, payment.pk]))
    balance, invoices = selectors.open_invoices(debtor)
    policy = services.portal_policy(debtor, _case(portal))
    minimum = min(policy.partial_min, max(balance, 0))
    context = {
        "debtor": debtor,
        "creditor": portal.creditor,
        "case": portal.case,
        "owes": balance > 0,
        "balance": format_eur(max(balance, 0), language=language),
        "invoices": [
            {
                "number": row.number,
                "description": row.description,
                "due_date": row.due_date,
                "open": format_eur(row.open_cents, language=language),
            }
            for row in invoices
        ],
        "minimum": format_eur(minimum, language=language),
        # Part of it only when more than the minimum partial payment is open.
        "can_choose": balance > policy.partial_min,
        "nonce": services.payment_nonce(),
        "choice": choice,
        "typed": typed,
        "errors": errors,
        "reference": portal.case.reference if portal.case else debtor.external_id,
    }
    return TemplateResponse(request, "portal/pay.html", context)


@portal_view
@require_GET
def pay_return(request, pk):
    """After the bank: paid (and what is left), not completed, or still being processed."""
    portal = request.portal
    payment = selectors.debtor_request(portal.debtor, pk)
    if payment is None:
        return TemplateResponse(request, "portal/link_invalid.html", status=404)
    payment = payment_refresh(payment)
    balance = debtor_position(portal.debtor).balance
    context = {
        "payment": payment,
        "outcome": outcome(payment),
        "amount": format_eur(payment.amount_cents, language=portal.language),
        "balance": format_eur(max(balance, 0), language=portal.language),
        "owes": balance > 0,
    }
    return TemplateResponse(request, "portal/pay_return.html", context)


urlpatterns = [
    path("p/<str:token>/betalen/", pay, name="pay"),
    path("p/<str:token>/betaling/<int:pk>/", pay_return, name="pay_return"),
]
