"""The debtor's landing page behind a personal link.

The overview: what is owed and why (``explain.py``), what was sent when, what happens next and
how to stop it, and the ways to act (pay, plan, pay later, report a problem, get help). It also
asks the debtor to confirm contact details that are old or never confirmed.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from vaarwater.contact.learning import response_record
from vaarwater.core.events import event_record
from vaarwater.ledger.models import ContactPoint, ContactSource

from .access import portal_view
from .explain import overview


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
@portal_view
def landing(request):
    """Show what the debtor owes and why, what was sent, what happens next and how to act;
    confirm or reject old contact details."""
    portal = request.portal
    debtor = portal.debtor
    actor = portal.actor
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
    access = portal.access
    if request.session.get(f"opened-{access.pk}") != now.date().isoformat():
        request.session[f"opened-{access.pk}"] = now.date().isoformat()
        with transaction.atomic():
            event_record(
                creditor=debtor.creditor_id,
                debtor=debtor,
                verb="portal.opened",
                actor=actor,
                subject=portal.case,
                reason="persoonlijke link geopend",
            )
            response_record(debtor_id=debtor.pk, kind="link", at=now)
    today = timezone.localdate()
    return TemplateResponse(
        request,
        "portal/landing.html",
        {
            "debtor": debtor,
            "creditor": portal.creditor,
            "case": portal.case,
            "o": overview(debtor, portal.case, language=portal.language, today=today),
            "stale": stale_contact_points(debtor, now=now),
            "confirmed": request.GET.get("bevestigd") == "1",
            "reference": portal.case.reference if portal.case else debtor.external_id,
        },
    )
