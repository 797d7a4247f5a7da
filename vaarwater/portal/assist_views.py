"""FAQ and chat assistant: the creditor's questions and answers, searchable, and a chat that
answers from the FAQ and from the debtor's own case.

The chat works without JavaScript: a question is a plain form POST to ``portal:chat``, which
answers, keeps the last turns of the conversation in the session and redirects back to the
FAQ page (POST-redirect-GET), where the conversation is shown.
"""

from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .access import portal_view
from .chat import INTENT_LINKS, LINK_LABELS, MAX_QUESTION, chat_answer
from .faq import faq_for

# Turns of the conversation shown (and kept in the session).
TURNS_KEPT = 6
MAX_SEARCH = 200


def _key(request) -> str:
    return f"chat-{request.portal.access.pk}"


def _conversation(request) -> dict:
    stored = request.session.get(_key(request))
    if not isinstance(stored, dict):
        stored = {}
    return {
        "turns": list(stored.get("turns", [])),
        "unanswered": list(stored.get("unanswered", [])),
    }


def _links(token: str, links) -> list[tuple[str, str]]:
    return [(label, reverse(f"portal:{page}", args=[token])) for label, page in links]


def _faq_page(request, *, question: str = "", error: str = "", status: int = 200):
    portal = request.portal
    language = portal.language
    query = request.GET.get("q", "").strip()[:MAX_SEARCH]
    entries = faq_for(portal.creditor, language, query)
    labels = LINK_LABELS[language]
    items = [
        {
            "id": f"vraag-{entry.pk}",
            "question": entry.question,
            "paragraphs": [p.strip() for p in entry.answer.split("\n\n") if p.strip()],
            "links": _links(
                portal.token, [(labels[p], p) for p in INTENT_LINKS.get(entry.intent, ())]
            ),
        }
        for entry in entries
    ]
    conversation = _conversation(request)
    turns = []
    for turn in conversation["turns"]:
        links = [
            (label, reverse(f"portal:{page}", args=[portal.token]), page == "callback")
            for label, page in turn.get("links", [])
            if page in labels
        ]
        turns.append({**turn, "links": links})
    context = {
        "query": query,
        "items": items,
        "turns": turns,
        "question": question,
        "error": error,
        "max_question": MAX_QUESTION,
    }
    return TemplateResponse(request, "portal/faq.html", context, status=status)


@require_GET
@portal_view
def faq(request):
    """The FAQ (searchable with ``?q=``) and the chat with its conversation so far."""
    return _faq_page(request)


@require_http_methods(["GET", "POST"])
@portal_view
def chat(request):
    """Answer a question (or start the conversation again), then show the FAQ page."""
    target = reverse("portal:faq", args=[request.portal.token])
    if request.method == "GET":
        return redirect(target)
    if request.POST.get("action") == "clear":
        request.session.pop(_key(request), None)
        return redirect(target + "#chat")
    question = " ".join(request.POST.get("question", "").split())
    if not question:
        return _faq_page(request, error=_("Type your question."))
    if len(question) > MAX_QUESTION:
        error = _("Your question is too long: use at most %(n)s characters.") % {"n": MAX_QUESTION}
        return _faq_page(request, question=question, error=error)
    portal = request.portal
    conversation = _conversation(request)
    answer = chat_answer(
        debtor=portal.debtor,
        case=portal.case,
        text=question,
        language=portal.language,
        earlier_unanswered=conversation["unanswered"],
        actor=portal.actor,
    )
    conversation["turns"].append(
        {
            "question": question,
            "paragraphs": answer.paragraphs,
            "links": [list(link) for link in answer.links],
            "answered": answer.answered,
            "offer_callback": answer.offer_callback,
            "callback_planned": answer.callback is not None,
        }
    )
    conversation["turns"] = conversation["turns"][-TURNS_KEPT:]
    if not answer.answered:
        # Kept after a callback was planned too: later questions are added to that task.
        conversation["unanswered"] = [*conversation["unanswered"], question][-5:]
    request.session[_key(request)] = conversation
    return redirect(target + "#antwoord")


urlpatterns = [
    path("p/<str:token>/vragen/", faq, name="faq"),
    path("p/<str:token>/chat/", chat, name="chat"),
]
