"""Requests from customers that wait for an agent: priority callbacks, reported problems and
questions the chat could not answer (the full call queue comes with the agent workspace)."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus
from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.models import Creditor
from vaarwater.portal.models import ProblemReport

from .access import back_office_required
from .selectors import visible_creditors

PORTAL_KINDS = (CallTaskKind.CALLBACK, CallTaskKind.PROBLEM, CallTaskKind.CHAT)


class DoneForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def portal_tasks(creditor):
    """Open tasks from the portal for one creditor, most urgent first."""
    return (
        CallTask.objects.filter(
            creditor=creditor, kind__in=PORTAL_KINDS, status=CallTaskStatus.OPEN
        )
        .select_related("debtor", "case")
        .order_by("-priority", "window_start", "pk")
    )


@back_office_required
def task_list(request):
    """The open requests from customers of the chosen creditor."""
    creditors = Creditor.objects.for_user(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    tasks = list(portal_tasks(creditor)[:200]) if creditor is not None else []
    problems = {
        p.task_id: p for p in ProblemReport.objects.filter(task_id__in=[t.pk for t in tasks])
    }
    for task in tasks:
        task.problem = problems.get(task.pk)
    return TemplateResponse(
        request,
        "workspace/tasks.html",
        {"creditors": creditors, "creditor": creditor, "tasks": tasks, "form": DoneForm()},
    )


@back_office_required
@require_POST
def task_done(request, pk: int):
    """Mark a request handled, with what was done; it is an event on the customer's timeline."""
    task = get_object_or_404(
        CallTask.objects.filter(creditor__in=visible_creditors(request.user)), pk=pk
    )
    form = DoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what was done before closing the request."))
        return redirect("workspace:task_list")
    with transaction.atomic():
        task = CallTask.objects.select_for_update().get(pk=task.pk)
        if task.status != CallTaskStatus.OPEN:
            messages.info(request, _("This request was already handled."))
            return redirect("workspace:task_list")
        task.status = CallTaskStatus.DONE
        task.save(update_fields=["status"])
        event_record(
            creditor=task.creditor_id,
            debtor=task.debtor_id,
            verb="call_task.done",
            actor=Actor.for_user(request.user),
            subject=task,
            reason=form.cleaned_data["note"],
            data={"kind": task.kind, "case": task.case_id},
            on=timezone.localdate(),
        )
    messages.success(request, _("The request is handled."))
    return redirect("workspace:task_list")
