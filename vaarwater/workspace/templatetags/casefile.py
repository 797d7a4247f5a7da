from django import template
from django.utils.translation import gettext_lazy as _

from vaarwater.strategy.models import CaseStatus, CloseReason, case_reference

from ..strategy_display import CHANNELS
from ..timeline import verb_label as _verb_label

register = template.Library()

TRANSITION_CODES = {
    "opened": _("opened"),
    "hold": _("hold"),
    "hold_ended": _("hold ended"),
    **dict(CloseReason.choices),
}


@register.filter
def verb_label(verb):
    """An event verb as a readable, translated label."""
    return _verb_label(verb)


@register.filter
def reference(case_id):
    """A case id as the reference printed on letters."""
    return case_reference(int(case_id)) if case_id else ""


@register.filter
def case_status(code):
    """A case status code as its translated label."""
    return dict(CaseStatus.choices).get(code, code or "—")


@register.filter
def transition_code(code):
    """Why a case changed status, as a translated label."""
    return TRANSITION_CODES.get(code, code)


@register.filter
def channel(code):
    """A channel code (email, sms, …, best) as its translated label."""
    return CHANNELS.get(code, code)


@register.inclusion_tag("workspace/_customer_view.html", takes_context=True)
def customer_view(context, case, part=""):
    """``{% customer_view case %}``: the customer view of a case; ``part`` "summary" or
    "timeline" renders one half. The request's ``?show=`` and ``?scope=`` filter the timeline.
    Worked out once per page, however many parts it shows."""
    from ..customer import customer_view as build

    request = context.get("request")
    query = request.GET if request is not None else {}
    show, scope = query.get("show", "all"), query.get("scope", "case")
    key = ("customer_view", case.pk, show, scope)
    cache = context.render_context
    if key not in cache:
        cache[key] = build(case, show=show, scope=scope)
    return {**cache[key], "part": part, "request": request}
