"""Back-office pages about contact: the unreachable worklist and a letter's PDF."""

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from vaarwater.contact.letters.batch import letter_file
from vaarwater.contact.models import Message
from vaarwater.contact.selectors import debtors_unreachable
from vaarwater.ledger.models import Creditor

from .access import back_office_required
from .selectors import visible_creditors, with_case

PAGE_SIZE = 50


@back_office_required
def unreachable(request):
    """Debtors with an active case whom no channel reaches: find new contact details."""
    creditors = Creditor.objects.for_user(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    page = None
    if creditor is not None:
        paginator = Paginator(with_case(debtors_unreachable(creditor)), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "workspace/unreachable.html",
        {"creditors": creditors, "creditor": creditor, "page": page},
    )


@back_office_required
def message_letter(request, pk: int):
    """The PDF of a letter that was sent, for the creditor's own staff only."""
    message = get_object_or_404(
        Message.objects.filter(creditor__in=visible_creditors(request.user), channel="letter"),
        pk=pk,
    )
    if not message.sent_at:
        raise Http404("not sent")
    return FileResponse(
        letter_file(message).open("rb"),
        content_type="application/pdf",
        filename=f"brief-{message.pk}.pdf",
    )
