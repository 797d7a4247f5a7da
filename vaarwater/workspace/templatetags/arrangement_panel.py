"""``{% arrangement_panel case %}``: the payment plan and promises of a case, for its page."""

from django import template

register = template.Library()


@register.inclusion_tag("workspace/arrangement_panel.html")
def arrangement_panel(case):
    """The case's active plan with its instalments, and its latest promises to pay."""
    from vaarwater.arrangements import selectors

    active = selectors.active_arrangement(case)
    return {
        "case": case,
        "active": active,
        "progress": selectors.arrangement_progress(active) if active else None,
        "instalments": selectors.arrangement_instalments(active) if active else [],
        "promises": list(case.promises.order_by("-made_on", "-id")[:5]),
    }
