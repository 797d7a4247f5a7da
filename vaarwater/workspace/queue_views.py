"""The agent's call queue page and the "next customer" button."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import queue as call_queue
from .access import back_office_required
from .selectors import visible_creditors

# Rows the queue page shows; the button always takes the best one.
PAGE_ITEMS = 50


def _chosen_creditor(request, code: str):
    """The creditors the user may see and the one chosen (the first without a code); 404 for a
    code the user may not see."""
    creditors = visible_creditors(request.user)
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    return creditors, creditor


def _queue_url(creditor) -> str:
    url = reverse("workspace:queue")
    return f"{url}?{urlencode({'creditor': creditor.code})}" if creditor is not None else url


@back_office_required
def queue(request):
    """The agent's queue for one creditor: the button, the best tasks and why others wait."""
    creditors, creditor = _chosen_creditor(request, request.GET.get("creditor", ""))
    overview = call_queue.queue_overview(request.user, creditor=creditor)
    return TemplateResponse(
        request,
        "workspace/queue.html",
        {
            "creditors": creditors,
            "creditor": creditor,
            "items": overview.items[:PAGE_ITEMS],
            "total": len(overview.items),
            "waiting": overview.waiting_rows,
            "open_attempt": overview.open_attempt,
        },
    )


@back_office_required
@require_POST
def queue_next(request):
    """Take the best customer of the queue and open the call screen."""
    code = request.POST.get("creditor") or request.GET.get("creditor", "")
    _creditors, creditor = _chosen_creditor(request, code)
    attempt = call_queue.queue_next(request.user, creditor=creditor)
    if attempt is None:
        messages.info(request, _("There is nobody to call right now."))
        return redirect(_queue_url(creditor))
    return redirect(reverse("workspace:call_detail", args=[attempt.pk]))
