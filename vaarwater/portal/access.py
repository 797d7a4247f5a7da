"""Who is looking at a portal page: the personal link in the URL, checked on every request.

Every portal page lives under ``/p/<token>/``. ``portal_view`` checks the token (signature,
known, not expired, not revoked) before the view runs, and gives the view ``request.portal``:
the debtor, their creditor, the case the link is for (else the debtor's active case), and the
``Actor`` to record events with. A bad token gets the same calm "this link does not work" page
with status 404, whatever was wrong with it.
"""

from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.template.response import TemplateResponse
from django.utils import translation

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor, Debtor
from vaarwater.strategy.models import Case

from .models import AccessToken
from .tokens import access_token_check


@dataclass
class Portal:
    """What a portal view knows about its visitor."""

    token: str
    access: AccessToken
    debtor: Debtor
    creditor: Creditor
    case: Case | None

    @property
    def actor(self) -> Actor:
        return Actor(kind="debtor", label=self.debtor.name)

    @property
    def language(self) -> str:
        code = translation.get_language() or "nl"
        return "en" if code.startswith("en") else "nl"


def portal_case(access: AccessToken) -> Case | None:
    """The case a link is for: its own case while open, else the debtor's newest active case,
    else its own (closed) case."""
    if access.case_id is not None and access.case.status != "closed":
        return access.case
    active = Case.objects.filter(debtor_id=access.debtor_id).active().order_by("-opened_on").first()
    return active or access.case


def _language_chosen(request) -> bool:
    return settings.LANGUAGE_COOKIE_NAME in request.COOKIES


def portal_view(view):
    """Run ``view(request, *args)`` for a valid personal link; else the invalid-link page."""

    @wraps(view)
    def wrapper(request, token, *args, **kwargs):
        access = access_token_check(token)
        if access is None:
            return TemplateResponse(request, "portal/link_invalid.html", status=404)
        debtor = Debtor.objects.select_related("creditor").get(pk=access.debtor_id)
        if not _language_chosen(request) and debtor.language in ("nl", "en"):
            translation.activate(debtor.language)
            request.LANGUAGE_CODE = debtor.language
        request.portal = Portal(
            token=token,
            access=access,
            debtor=debtor,
            creditor=debtor.creditor,
            case=portal_case(access),
        )
        response = view(request, *args, **kwargs)
        # A personal link must never be cached by a shared proxy or leak through the referrer.
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("X-Robots-Tag", "noindex")
        return response

    return wrapper
