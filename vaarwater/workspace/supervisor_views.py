"""The supervisor's view: queue sizes, reach, promises, work per agent; reassigning work."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from vaarwater.contact.models import CallTask
from vaarwater.ledger.models import Creditor, CreditorMembership, Role

from .access import back_office_required
from .supervision import (
    Period,
    ReassignError,
    creditor_members,
    open_tasks,
    supervision_overview,
    tasks_reassign,
    tasks_reassign_all,
)

# The most digits of a database id a form may name (a 64-bit integer has 19).
ID_DIGITS = 18


def supervised_creditors(user):
    """The creditors where the user is at least supervisor."""
    return Creditor.objects.for_user(user, role=Role.SUPERVISOR).order_by("name")


def _page_url(creditor, period: str) -> str:
    query = urlencode({"creditor": creditor.code, "period": Period.parse(period)})
    return f"{reverse('workspace:supervisor')}?{query}"


@back_office_required(role=Role.SUPERVISOR)
def supervisor(request):
    """One creditor's queue, reach, promises and work per agent over a period; the open tasks
    with a form to give them to another agent."""
    creditors = supervised_creditors(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if creditor is None:
        raise Http404("unknown creditor")
    period = Period.parse(request.GET.get("period"))
    overview = supervision_overview(creditor, period=period, now=timezone.now())
    members = creditor_members(creditor)
    context = {
        "creditors": creditors,
        "creditor": creditor,
        "periods": Period.CHOICES,
        "period": period,
        "overview": overview,
        "tasks": open_tasks(creditor),
        "members": members,
        "busy_agents": [a for a in overview.agents if a.open_tasks],
    }
    return TemplateResponse(request, "workspace/supervisor.html", context)


def _user_or_pool(creditor, raw: str):
    """The user a form names by id (``""``: nobody, the pool): a member of the creditor, or a
    user with work of the creditor (a superuser's own callback). Any other id, also one of
    another creditor's user, gets the same message as an id of nobody, so a supervisor learns
    no names of other creditors' people; an inactive member is refused by the service."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > ID_DIGITS:
        raise ReassignError(_("Choose an agent from the list."), field="to_user")
    pk = int(raw)
    known = CreditorMembership.objects.filter(creditor=creditor, user_id=pk).exists() or (
        CallTask.objects.filter(creditor=creditor, assigned_to_id=pk).exists()
    )
    user = get_user_model().objects.filter(pk=pk).first() if known else None
    if user is None:
        raise ReassignError(_("Choose an agent from the list."), field="to_user")
    return user


def _task_ids(creditor, raw: list[str]) -> list[int]:
    """The posted task ids; any that is not an id of this creditor's tasks is a 404, so a
    supervisor learns nothing about another creditor's tasks."""
    values = [value.strip() for value in raw]
    if not all(v.isascii() and v.isdigit() and len(v) <= ID_DIGITS for v in values):
        raise Http404("no such task")  # also an id too large for the database: no 500
    ids = sorted({int(value) for value in values})
    if CallTask.objects.filter(creditor=creditor, pk__in=ids).count() != len(ids):
        raise Http404("no such task")
    return ids


@back_office_required(role=Role.SUPERVISOR)
@require_POST
def supervisor_reassign(request):
    """Give the chosen tasks (``tasks``), or all open tasks of one agent (``from_user``), to
    another agent (``to_user``; empty: back to the pool), with a reason."""
    creditor = get_object_or_404(
        supervised_creditors(request.user), code=request.POST.get("creditor", "")
    )
    period = request.POST.get("period", "")
    reason = request.POST.get("reason", "").strip()[:500]
    try:
        to_user = _user_or_pool(creditor, request.POST.get("to_user", ""))
        if request.POST.get("from_user"):
            from_user = _user_or_pool(creditor, request.POST["from_user"])
            if from_user is None:
                raise ReassignError(_("Choose whose work moves."), field="from_user")
            moved = tasks_reassign_all(
                from_user=from_user,
                to_user=to_user,
                by_user=request.user,
                creditor=creditor,
                reason=reason,
            )
        else:
            moved = tasks_reassign(
                tasks=_task_ids(creditor, request.POST.getlist("tasks")),
                to_user=to_user,
                by_user=request.user,
                creditor=creditor,
                reason=reason,
            )
    except ReassignError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext("%(count)s task moved.", "%(count)s tasks moved.", moved) % {"count": moved},
        )
    return redirect(_page_url(creditor, period))
