"""Build strategy-engine rows for the workspace tests straight through the ORM."""

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone

from vaarwater.core.models import ActorKind, Event
from vaarwater.ledger.models import CreditorMembership, Debtor
from vaarwater.strategy.models import Case, StrategyVersion

NONE_WHEN = {
    "days_past_due_min": None,
    "days_past_due_max": None,
    "balance_min": None,
    "balance_max": None,
    "open_items_min": None,
    "open_items_max": None,
    "first_time": None,
    "vulnerable": None,
    "risk_score_min": None,
    "risk_score_max": None,
    "reachable": [],
    "unreachable": [],
    "sector": [],
}

# The shape ``Strategy.model_dump(mode="json")`` stores: money in cents, unset facts as null.
DOCUMENT = {
    "strategy": "energie-standaard",
    "title": "Energie standaard",
    "sector": "energy",
    "description": "",
    "settings": {
        "grace_days": 3,
        "letter_receipt_business_days": 2,
        "email_receipt_days": 0,
        "payday_window_days": 5,
        "contact_caps": {"per_day": 1, "per_week": 2},
        "contact_hours": {"start": "08:00", "end": "20:00"},
        "interest_kind": "consumer",
        "best_channel_order": ["email", "sms", "whatsapp", "letter"],
        "handover_min_balance": 5000,
    },
    "segments": [
        {
            "name": "kwetsbaar",
            "label": "Kwetsbare klanten",
            "when": {
                **NONE_WHEN,
                "days_past_due_min": 10,
                "days_past_due_max": 30,
                "balance_min": 50000,
                "vulnerable": True,
            },
            "path": "zacht",
        },
        {"name": "overig", "label": "Alle anderen", "when": NONE_WHEN, "path": "standaard"},
    ],
    "paths": {
        "standaard": [
            {
                "label": "Eerste herinnering",
                "day": 3,
                "after": "due_date",
                "step": "message",
                "channel": "email",
                "template": "herinnering-1",
                "at": None,
                "purpose": "reminder",
            },
            {
                "label": "",
                "day": 7,
                "after": "previous",
                "step": "fourteen_day_letter",
                "channel": "letter",
                "template": "veertiendagenbrief",
                "at": None,
            },
            {
                "label": "Bellen",
                "day": 2,
                "after": "previous",
                "step": "call_task",
                "start": "09:00",
                "end": "17:00",
                "priority": 60,
            },
            {"label": "", "day": 1, "after": "previous", "step": "charge_costs"},
        ],
        "zacht": [
            {
                "label": "",
                "day": 0,
                "after": "previous",
                "step": "pause",
                "days": 14,
                "reason": "rust voor de klant",
            },
        ],
    },
    "challengers": [
        {
            "name": "sms-eerst",
            "label": "SMS eerst",
            "share": "12.5",
            "paths": {
                "standaard": [
                    {
                        "label": "SMS-herinnering",
                        "day": 3,
                        "after": "due_date",
                        "step": "message",
                        "channel": "sms",
                        "template": "herinnering-sms",
                        "at": None,
                        "purpose": "reminder",
                    }
                ]
            },
        }
    ],
}
SOURCE = "strategy: energie-standaard\ntitle: Energie standaard\n# bron-yaml-markering\n"


def agent_for(creditor, username="agent", role="agent"):
    """A back-office user with ``role`` (agent, supervisor, administrator) at ``creditor``."""
    user = get_user_model().objects.create_user(username, password="pw-agent-123")
    CreditorMembership.objects.create(user=user, creditor=creditor, role=role)
    return user


def version_create(creditor, *, number=None, valid_from=date(2026, 1, 1), **over):
    """A stored version; numbered after any the creditor has (a new one may start shipped)."""
    if number is None:
        latest = StrategyVersion.objects.filter(creditor=creditor).aggregate(n=Max("number"))
        number = (latest["n"] or 0) + 1
    fields = {
        "creditor": creditor,
        "name": "energie-standaard",
        "number": number,
        "title": f"Energie standaard {over.pop('tag', number)}",
        "valid_from": valid_from,
        "document": DOCUMENT,
        "source_text": SOURCE,
        "source_name": "strategie.yaml",
        # Parsed strategies are cached by (id, hash): a unique hash per version, so a reused
        # id after a test's rollback never returns an earlier test's settings.
        "sha256": hashlib.sha256(f"{creditor.pk}-{number}-{uuid4()}".encode()).hexdigest(),
        "loaded_by": "beheerder",
    }
    fields.update(over)
    return StrategyVersion.objects.create(**fields)


def case_create(version, *, debtor=None, opened_on=None, **over):
    creditor = version.creditor
    if debtor is None:
        debtor = Debtor.objects.create(
            creditor=creditor, external_id=f"D{Debtor.objects.count() + 1}", name="Jan de Vries"
        )
    opened_on = opened_on or timezone.localdate() - timedelta(days=20)
    fields = {
        "creditor": creditor,
        "debtor": debtor,
        "opened_on": opened_on,
        "strategy_version": version,
        "variant_draw": Decimal("42.1234"),
        "segment": "overig",
        "path": "standaard",
        "anchor_due": opened_on - timedelta(days=3),
    }
    fields.update(over)
    return Case.objects.create(**fields)


def event_create(debtor, verb, reason, *, on=None, created_at: datetime | None = None, **over):
    """An event of the debtor; ``created_at`` is forced after saving (it is auto_now_add)."""
    event = Event.objects.create(
        creditor_id=debtor.creditor_id,
        debtor=debtor,
        verb=verb,
        reason=reason,
        actor_kind=over.pop("actor_kind", ActorKind.SYSTEM),
        actor_label=over.pop("actor_label", "vaarwater"),
        occurred_on=on,
        **over,
    )
    if created_at is not None:
        # A queryset update, not save(): events are append-only.
        Event.objects.filter(pk=event.pk).update(created_at=created_at)
        event.created_at = created_at
    return event
