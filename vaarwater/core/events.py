"""Write events: every state change records who did what, to what, and why."""

from dataclasses import dataclass

from .models import ActorKind, Event


@dataclass(frozen=True)
class Actor:
    """Who caused a change: the system, a user, the debtor or an import."""

    kind: str
    label: str = ""
    user_id: int | None = None

    @classmethod
    def system(cls, label: str = "vaarwater") -> "Actor":
        return cls(ActorKind.SYSTEM, label)

    @classmethod
    def for_user(cls, user) -> "Actor":
        """A back-office user, labelled with their name and username: "Anna de Vries (anna)"."""
        name = user.get_full_name().strip()
        username = user.get_username()
        return cls(ActorKind.USER, f"{name} ({username})" if name else username, user.pk)

    @classmethod
    def for_import(cls, label: str) -> "Actor":
        return cls(ActorKind.IMPORT, label)


def event_record(
    *,
    creditor,
    verb: str,
    actor: Actor,
    subject=None,
    debtor=None,
    reason: str = "",
    data: dict | None = None,
    on=None,
) -> Event:
    """Record one event; call inside the transaction that makes the change."""
    return Event.objects.create(
        **event_fields(
            creditor=creditor,
            verb=verb,
            actor=actor,
            subject=subject,
            debtor=debtor,
            reason=reason,
            data=data,
            on=on,
        )
    )


def event_fields(
    *, creditor, verb, actor, subject=None, debtor=None, reason="", data=None, on=None
) -> dict:
    """Return the field values of an event, for bulk writers that create many at once."""
    creditor_id = creditor if isinstance(creditor, int) else creditor.pk
    debtor_id = debtor if (debtor is None or isinstance(debtor, int)) else debtor.pk
    return {
        "creditor_id": creditor_id,
        "debtor_id": debtor_id,
        "verb": verb,
        "subject_type": subject._meta.label_lower if subject is not None else "",
        "subject_id": subject.pk if subject is not None else None,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user_id,
        "actor_label": actor.label,
        "reason": reason,
        "data": data or {},
        "occurred_on": on,
    }
