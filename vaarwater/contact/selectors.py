"""Reads about contact, always scoped to a creditor."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from vaarwater.ledger.models import ContactKind, ContactPoint, Debtor
from vaarwater.strategy.models import Case, CaseStatus

from .models import OptOut


def debtors_unreachable(creditor) -> QuerySet[Debtor]:
    """Debtors of a creditor with an active case and no valid channel left: no usable email,
    mobile or WhatsApp (valid and not opted out) and no complete postal address."""

    def usable(kind, channel, extra=None):
        points = ContactPoint.objects.filter(
            debtor_id=OuterRef("pk"), kind=kind, invalid_since__isnull=True
        ).filter(extra or Q())
        blocked = OptOut.objects.filter(
            debtor_id=OuterRef("pk"), channel=channel, ended_at__isnull=True
        )
        return Q(Exists(points)) & ~Q(Exists(blocked))

    has_address = ~Q(street="") & ~Q(postcode="") & ~Q(city="")
    letter_blocked = Exists(
        OptOut.objects.filter(debtor_id=OuterRef("pk"), channel="letter", ended_at__isnull=True)
    )
    reachable = (
        usable(ContactKind.EMAIL, "email")
        | usable(ContactKind.PHONE, "sms", Q(value__startswith="+316"))
        | usable(ContactKind.WHATSAPP, "whatsapp")
        | (has_address & ~Q(letter_blocked))
    )
    active = Case.objects.filter(debtor_id=OuterRef("pk")).exclude(status=CaseStatus.CLOSED)
    return (
        Debtor.objects.filter(creditor=creditor)
        .filter(Exists(active))
        .exclude(reachable)
        .annotate(
            has_phone=Exists(
                ContactPoint.objects.filter(
                    debtor_id=OuterRef("pk"), kind=ContactKind.PHONE, invalid_since__isnull=True
                )
            )
        )
        .order_by("name", "pk")
    )
