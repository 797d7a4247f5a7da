"""Which letters cause questions: the portal chat's questions per message template, for the
creditor's own staff."""

from datetime import timedelta

from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language

from vaarwater.ledger.models import Creditor
from vaarwater.portal.faq import chat_question_stats, chat_questions_unanswered

from .access import back_office_required

# The periods a user may look back over, in days; the first is the default.
PERIODS = (90, 30, 365)


@back_office_required
def questions(request):
    """Per template and channel: chat questions, how many were answered, the top intents,
    and the latest questions the chat could not answer."""
    creditors = Creditor.objects.for_user(request.user)
    code = request.GET.get("creditor")
    creditor = creditors.filter(code=code).first() if code else creditors.first()
    if code and creditor is None:
        raise Http404("unknown creditor")
    try:
        days = int(request.GET.get("days", PERIODS[0]))
    except ValueError:
        days = PERIODS[0]
    if days not in PERIODS:
        days = PERIODS[0]
    since = timezone.now() - timedelta(days=days)
    language = "en" if (get_language() or "nl").startswith("en") else "nl"
    rows, unanswered = [], []
    if creditor is not None:
        rows = chat_question_stats(creditor, since=since, language=language)
        unanswered = chat_questions_unanswered(creditor, since=since)
    totals = {
        "questions": sum(r["questions"] for r in rows),
        "answered": sum(r["answered"] for r in rows),
    }
    return TemplateResponse(
        request,
        "workspace/questions.html",
        {
            "creditors": creditors,
            "creditor": creditor,
            "rows": rows,
            "unanswered": unanswered,
            "totals": totals,
            "days": days,
            "periods": PERIODS,
        },
    )
