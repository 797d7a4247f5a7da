"""The debtor's landing page behind a personal link.

This first version shows what is owed and how to pay by bank transfer, and asks the debtor to
confirm contact details that are old or never confirmed. The full portal (iDEAL, plans,
deferral, problems, help) builds on it.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from vaarwater.contact.learning import response_record
from vaarwater.core.events import Actor, event_record
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import ContactPoint, ContactSource
from vaarwater.ledger.selectors import debtor_position

from .tokens import access_token_check


def stale_contact_points(debtor, *, now=None):
    """Valid contact points the debtor should confirm: never confirmed, or longer ago than
    ``CONTACT_CONFIRM_AFTER_DAYS``."""
    now = now or timezone.now()
    limit = now - timedelta(days=settings.CONTACT_CONFIRM_AFTER_DAYS)
    return [
        point
        for point in debtor.contact_points.filter(invalid_since__isnull=True)
        if point.verified_at is None or point.verified_at < limit
    ]


@require_http_methods(["GET", "POST"])
def landing(request, token):
    """Show the debtor their balance and how to pay; confirm or reject old contact details."""
    access = access_token_check(token)
    if access is None:
        return TemplateResponse(request, "portal/link_invalid.html", status=404)
    debtor = access.debtor
    actor = Actor(kind="debtor", label=debtor.name)
    now = timezone.now()
    if request.method == "POST":
        with transaction.atomic():
            for point in stale_contact_points(debtor, now=now):
                answer = request.POST.get(f"point-{point.pk}")
                if answer == "ok":
                    ContactPoint.objects.filter(pk=point.pk).update(verified_at=now)
                    verb, why = "contact.confirmed", "bevestigd door de klant"
                elif answer == "wrong":
                    ContactPoint.objects.filter(pk=point.pk).update(invalid_since=now)
                    verb, why = "contact.invalid", "klopt niet meer, volgens de klant"
                else:
                    continue
                event_record(
                    creditor=debtor.creditor_id,
                    debtor=debtor,
                    verb=verb,
                    actor=actor,
                    subject=point,
                    reason=f"{point.get_kind_display()} {point.value}: {why}",
                    data={"kind": point.kind, "source": ContactSource.PORTAL},
                )
        return redirect(request.path + "?bevestigd=1")
    if request.session.get(f"opened-{access.pk}") != now.date().isoformat():
        request.session[f"opened-{access.pk}"] = now.date().isoformat()
        with transaction.atomic():
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="portal.opened",
                actor=actor,
                subject=access.case,
                reason="persoonlijke link geopend",
            )
            response_record(debtor_id=debtor.pk, kind="link", at=now)
    position = debtor_position(debtor)
    language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("nl", "en") else "nl"
    today = timezone.localdate()
    overdue = [i for i in position.items.values() if i.due_date < today]
    balance = position.balance
    return TemplateResponse(
        request,
        "portal/landing.html",
        {
            "debtor": debtor,
            "creditor": debtor.creditor,
            "case": access.case,
            "balance": format_eur(max(balance, 0), language=language),
            "overdue": format_eur(sum(i.total for i in overdue), language=language),
            "owes": balance > 0,
            "stale": stale_contact_points(debtor, now=now),
            "confirmed": request.GET.get("bevestigd") == "1",
        },
    )
