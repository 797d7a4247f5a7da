"""Reads for the back-office pages, always scoped to the creditors a user may see."""

from itertools import groupby

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from vaarwater.contact.models import CallTask, Message
from vaarwater.ledger.models import Creditor
from vaarwater.strategy.models import Case, LegalNotice, StrategyVersion


def visible_creditors(user) -> QuerySet[Creditor]:
    """The creditors a back-office user may see: all for superusers, else their memberships."""
    return Creditor.objects.for_user(user)


def strategy_versions_by_creditor(creditors) -> list[tuple[Creditor, list[StrategyVersion]]]:
    """Per visible creditor its versions, newest first, with ``case_count`` and ``is_current``.

    The current version is the one the engine picks for a case opened today: the latest
    ``valid_from`` that is not in the future, the highest number among equals.
    """
    today = timezone.localdate()
    versions = (
        StrategyVersion.objects.filter(creditor__in=creditors)
        .select_related("creditor")
        .annotate(case_count=Count("cases"))
        .order_by("creditor__code", "-number")
    )
    result = {creditor.pk: (creditor, []) for creditor in creditors}
    for creditor_id, group in groupby(versions, key=lambda v: v.creditor_id):
        group = list(group)
        applying = [v for v in group if v.valid_from <= today]
        current = max(applying, key=lambda v: (v.valid_from, v.number), default=None)
        for version in group:
            version.is_current = version == current
        result[creditor_id] = (result[creditor_id][0], group)
    return list(result.values())


def strategy_version_get(creditors, pk: int) -> StrategyVersion:
    """One version of a visible creditor, with ``case_count``; 404 for any other."""
    versions = (
        StrategyVersion.objects.filter(creditor__in=creditors)
        .select_related("creditor")
        .annotate(case_count=Count("cases"))
    )
    version = get_object_or_404(versions, pk=pk)
    today = timezone.localdate()
    current = (
        StrategyVersion.objects.filter(creditor_id=version.creditor_id, valid_from__lte=today)
        .order_by("-valid_from", "-number")
        .values_list("pk", flat=True)
        .first()
    )
    version.is_current = current == version.pk
    return version


def cases_for(creditors, *, status: str = "", segment: str = "") -> QuerySet[Case]:
    """Cases of the given creditors, newest first, optionally of one status and segment."""
    cases = Case.objects.filter(creditor__in=creditors).select_related(
        "creditor", "debtor", "strategy_version"
    )
    if status:
        cases = cases.filter(status=status)
    if segment:
        cases = cases.filter(segment=segment)
    return cases.order_by("-opened_on", "-id")


def case_segments(creditors) -> list[str]:
    """The segment names that the creditors' cases use, for the filter."""
    return list(
        Case.objects.filter(creditor__in=creditors)
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )


def case_get(creditors, pk: int) -> Case:
    """One case of a visible creditor; 404 for any other."""
    cases = Case.objects.filter(creditor__in=creditors).select_related(
        "creditor", "debtor", "strategy_version"
    )
    return get_object_or_404(cases, pk=pk)


def case_file(case: Case) -> dict:
    """What the case page shows besides the case itself and its customer view (the timeline,
    contact points, household and risk come from ``customer.customer_view``)."""
    return {
        "holds": list(case.holds.filter(released_on__isnull=True).order_by("until", "id")),
        "notice": LegalNotice.objects.filter(case=case).first(),
        "transitions": list(case.transitions.order_by("-on_date", "-id")),
        "messages": list(
            Message.objects.filter(case=case)
            .prefetch_related("deliveries")
            .order_by("-not_before", "-id")
        ),
        "calls": list(CallTask.objects.filter(case=case).order_by("-window_start", "-id")),
    }


def with_case(debtors: QuerySet) -> QuerySet:
    """Annotate debtors with ``case_id``: their active case, else their latest closed one."""
    latest = Case.objects.filter(debtor_id=OuterRef("pk")).order_by(
        F("closed_on").desc(nulls_first=True), "-opened_on", "-id"
    )
    return debtors.annotate(case_id=Subquery(latest.values("pk")[:1]))
