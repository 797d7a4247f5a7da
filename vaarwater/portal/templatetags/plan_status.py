"""``{% plan_status %}``: the debtor's payment plan or open promise, for the portal overview."""

from django import template

from vaarwater.arrangements import selectors as plans

register = template.Library()


@register.inclusion_tag("portal/plan/_status.html", takes_context=True)
def plan_status(context):
    """The active plan (progress, the next payment) or the open promise of the visitor's case."""
    portal = getattr(context.get("request"), "portal", None)
    case = portal.case if portal is not None else None
    if case is None or case.status == "closed":
        return {"show": False}
    active = plans.active_arrangement(case)
    if active is not None:
        paid, count, _paid_cents, _total = plans.arrangement_progress(active)
        upcoming = active.instalments.exclude(status="paid").order_by("number").first()
        return {
            "show": True,
            "token": portal.token,
            "arrangement": active,
            "paid_count": paid,
            "count": count,
            "next": upcoming,
        }
    promise = plans.open_promise(case)
    return {"show": promise is not None, "token": portal.token, "promise": promise}
