"""Strategy services: the state machine of a case, holds, closing. Views and commands call these.

The daily run (``run.py``) makes the same changes for many cases at once; it uses
``transition_check`` and ``transition_rows`` from here so that both follow one map.
"""

from datetime import date

from django.db import transaction

from vaarwater.core.events import Actor, event_fields, event_record
from vaarwater.core.models import Event

from .models import TRANSITIONS, Case, CaseStatus, CaseTransition, Hold, HoldKind


class CaseError(ValueError):
    """A change a case's state machine or rules do not allow."""


def transition_check(from_status: str | None, to_status: str, code: str) -> None:
    allowed = TRANSITIONS.get((from_status, to_status))
    if allowed is None:
        raise CaseError(f"a case cannot go from {from_status or 'nothing'} to {to_status}")
    if code not in allowed:
        raise CaseError(
            f"{from_status or 'nothing'} → {to_status}: {code!r} is not a reason for it; "
            f"expected one of {', '.join(allowed)}"
        )


def transition_rows(
    case: Case, from_status, to_status, code: str, reason: str, on: date, actor: Actor
) -> tuple[CaseTransition, Event]:
    """The transition row and its event, unsaved, after checking the map."""
    transition_check(from_status, to_status, code)
    transition = CaseTransition(
        case=case,
        from_status=from_status or "",
        to_status=to_status,
        code=code,
        reason=reason,
        on_date=on,
        actor_label=actor.label,
    )
    fields = event_fields(
        creditor=case.creditor_id,
        debtor=case.debtor_id,
        verb=f"case.{code if to_status != CaseStatus.CLOSED else 'closed'}",
        actor=actor,
        reason=reason,
        data={"case": case.pk, "from": from_status or "", "to": to_status, "code": code},
        on=on,
    )
    fields.update(subject_type="strategy.case", subject_id=case.pk)
    event = Event(**fields)
    return transition, event


def _transition(case: Case, to_status: str, code: str, reason: str, on: date, actor: Actor):
    transition, event = transition_rows(case, case.status, to_status, code, reason, on, actor)
    transition.save()
    event.save()
    case.status = to_status
    if to_status == CaseStatus.CLOSED:
        case.closed_on = on
        case.close_reason = code
    case.save(update_fields=["status", "closed_on", "close_reason", "updated_at"])


def case_close(*, case: Case, reason_code: str, reason: str, on: date, actor: Actor) -> Case:
    """Close a case (paid, arrangement fulfilled, written off, handed over, by hand)."""
    if not reason:
        raise CaseError("reason: closing a case needs one")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _transition(case, CaseStatus.CLOSED, reason_code, reason, on, actor)
        for hold in case.holds.filter(released_on__isnull=True):
            hold.released_on = on
            hold.release_reason = "case closed"
            hold.save(update_fields=["released_on", "release_reason"])
    return case


def hold_place(
    *,
    case: Case,
    kind: str,
    reason: str,
    until: date,
    on: date | None = None,
    actor: Actor | None = None,
) -> Hold:
    """Pause a case until a date, for a reason. The daily run skips it until the hold ends."""
    on = on or date.today()
    actor = actor or Actor.system()
    if kind not in HoldKind.values:
        raise CaseError(f"kind {kind!r}: expected one of {', '.join(HoldKind.values)}")
    if not reason.strip():
        raise CaseError("reason: every hold needs one")
    if until < on:
        raise CaseError(f"until {until}: must not be before {on}")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status == CaseStatus.CLOSED:
            raise CaseError(f"case {case.reference} is closed")
        hold = Hold.objects.create(
            case=case, kind=kind, reason=reason, starts_on=on, until=until, created_by=actor.label
        )
        text = f"{HoldKind(kind).label} tot en met {until:%d-%m-%Y}: {reason}"
        event_record(
            creditor=case.creditor,
            debtor=case.debtor,
            verb="hold.placed",
            actor=actor,
            subject=hold,
            reason=text,
            data={"case": case.pk, "kind": kind, "until": until.isoformat()},
            on=on,
        )
        if case.status == CaseStatus.OPEN:
            _transition(case, CaseStatus.HELD, "hold", text, on, actor)
    return hold


def hold_release(
    *, hold: Hold, reason: str, on: date | None = None, actor: Actor | None = None
) -> Hold:
    """End a hold early; the case resumes when no other hold is active."""
    on = on or date.today()
    actor = actor or Actor.system()
    with transaction.atomic():
        hold = Hold.objects.select_for_update().select_related("case").get(pk=hold.pk)
        if hold.released_on is not None:
            raise CaseError("this hold has already ended")
        hold.released_on = on
        hold.release_reason = reason
        hold.save(update_fields=["released_on", "release_reason"])
        case = hold.case
        event_record(
            creditor=case.creditor,
            debtor=case.debtor,
            verb="hold.ended",
            actor=actor,
            subject=hold,
            reason=reason,
            data={"case": case.pk, "kind": hold.kind},
            on=on,
        )
        others = case.holds.filter(released_on__isnull=True).exclude(pk=hold.pk)
        if case.status == CaseStatus.HELD and not others.exists():
            _transition(case, CaseStatus.OPEN, "hold_ended", reason, on, actor)
    return hold
