"""``/api/v1/``: cases, their timelines, search and the caller's call queue, as JSON.

For now the API serves the back office's own users: a session that passed the second factor
(as every back-office page asks), with the same tenant rule: only the creditors the user is a
member of, and anything else is a 404 with the same body as an id that does not exist. Token
authentication for creditors' own systems comes with the API issue. Only GET for now, so the
session's CSRF protection is not in the way; a write operation will need the CSRF token.

The OpenAPI schema and its documentation page (``/api/v1/docs``) also need that login.
"""

from datetime import date, datetime
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from ninja import NinjaAPI, Router, Schema, Status
from ninja.security import SessionAuth

from vaarwater.workspace import queue as call_queues
from vaarwater.workspace.access import is_verified
from vaarwater.workspace.selectors import visible_creditors
from vaarwater.workspace.timeline import case_timeline, verb_label

from .selectors import MAX_RESULTS, case_of, cases_search

# A timeline longer than this is cut (newest first); the case page shows it all.
TIMELINE_MAX = 500


class VerifiedSession(SessionAuth):
    """A back-office session: logged in, active and past the second factor (TOTP)."""

    def authenticate(self, request, key):
        return request.user if is_verified(request.user) else None


def login_for_docs(view):
    """The schema and its page are for logged-in back-office users; others go to the login."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_verified(request.user):
            return redirect_to_login(request.get_full_path(), "workspace:login")
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="Vaarwater API",
    version="1",
    description=(
        "Cases, timelines and the call queue of the creditors you work for. "
        "Authentication: your back-office session (password and second factor); "
        "token authentication for creditor systems follows. Amounts are integer cents."
    ),
    auth=VerifiedSession(),
    urls_namespace="api",
    docs_decorator=login_for_docs,
)


class Error(Schema):
    detail: str


class CaseOut(Schema):
    """One case: its reference, state, debtor and what the debtor owes."""

    id: int
    reference: str
    status: str
    opened_on: date
    closed_on: date | None
    creditor: str
    debtor_name: str
    debtor_number: str
    balance_cents: int

    @staticmethod
    def resolve_creditor(case) -> str:
        return case.creditor.code

    @staticmethod
    def resolve_debtor_name(case) -> str:
        return case.debtor.name

    @staticmethod
    def resolve_debtor_number(case) -> str:
        return case.debtor.external_id


class EventOut(Schema):
    """One line of a case's timeline: the day, what happened, who did it and why."""

    id: int
    day: date
    verb: str
    label: str
    who: str
    why: str

    @staticmethod
    def resolve_label(event) -> str:
        return verb_label(event.verb)

    @staticmethod
    def resolve_who(event) -> str:
        return event.actor_label

    @staticmethod
    def resolve_why(event) -> str:
        return event.reason


class QueueItemOut(Schema):
    """A call task in the caller's queue, in the queue's order."""

    id: int
    kind: str
    priority: int
    reason: str
    debtor_name: str
    case_id: int | None
    case_reference: str | None
    window_start: datetime
    window_end: datetime
    attempts: int
    next_attempt_at: datetime | None
    assigned_to: str | None

    @staticmethod
    def resolve_debtor_name(task) -> str:
        return task.debtor.name

    @staticmethod
    def resolve_case_reference(task) -> str | None:
        return task.case.reference if task.case_id else None

    @staticmethod
    def resolve_assigned_to(task) -> str | None:
        return task.assigned_to.get_username() if task.assigned_to_id else None


cases = Router(tags=["cases"])


@cases.get("", response=list[CaseOut], summary="Find cases")
def case_list(request, search: str = "", limit: int = 50):
    """Cases of your creditors, open ones first. ``search`` takes what a caller says: a phone
    number, file reference (``000123-4``), plan reference, customer or invoice number, or a part
    of the debtor's name. At most ``limit`` (up to 100)."""
    return cases_search(visible_creditors(request.user), search, limit=min(limit, MAX_RESULTS))


@cases.get("/{int:case_id}", response={200: CaseOut, 404: Error}, summary="One case")
def case_detail(request, case_id: int):
    """One case; 404 when it does not exist or is not one of your creditors'."""
    return case_of(visible_creditors(request.user), case_id)


@cases.get(
    "/{int:case_id}/timeline", response={200: list[EventOut], 404: Error}, summary="Timeline"
)
def case_events(request, case_id: int):
    """Everything that happened during the case, newest first, with who and why."""
    case = case_of(visible_creditors(request.user), case_id)
    return list(case_timeline(case)[:TIMELINE_MAX])


api.add_router("/cases", cases)


@api.get("/queue", response={200: list[QueueItemOut], 501: Error}, tags=["calls"])
def queue(request):
    """Your call queue: the tasks you may call now, the one to call first at the top."""
    call_queue = getattr(call_queues, "call_queue", None)
    if call_queue is None:
        return Status(501, {"detail": "The call queue is not available yet."})
    return Status(200, [getattr(item, "task", item) for item in call_queue(request.user)])
