"""Back-office pages for a creditor's staff."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse

from vaarwater.ledger.models import Creditor
from vaarwater.ledger.selectors import creditor_totals, debtors_with_balances

PAGE_SIZE = 50


@login_required
def debtor_list(request):
    """List one creditor's debtors with their balances, searchable, 50 to a page."""
    creditors = Creditor.objects.for_user(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    context = {"creditors": creditors, "creditor": creditor, "page": None}
    if creditor is not None:
        search = request.GET.get("q", "").strip()[:100]
        only_open = request.GET.get("open") == "1"
        debtors = debtors_with_balances(creditor, search=search, only_open=only_open)
        paginator = Paginator(debtors, PAGE_SIZE)
        context.update(
            page=paginator.get_page(request.GET.get("page")),
            q=search,
            only_open=only_open,
            totals=creditor_totals(creditor),
        )
    return TemplateResponse(request, "workspace/debtor_list.html", context)
