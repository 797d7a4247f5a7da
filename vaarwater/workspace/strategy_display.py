"""Turn a stored strategy document (``StrategyVersion.document``) into text for people.

The document is the validated YAML as a plain dict (money in cents). These functions read it
defensively: a key they do not know is shown as ``key: value`` rather than dropped, so a newer
document still renders in full. Call them while the request's language is active.
"""

from decimal import Decimal

from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from vaarwater.contact.models import Channel
from vaarwater.core.money import format_eur
from vaarwater.ledger.models import Sector

STEP_KINDS = {
    "message": gettext_lazy("Message"),
    "call_task": gettext_lazy("Call task"),
    "fourteen_day_letter": gettext_lazy("14-day letter"),
    "charge_costs": gettext_lazy("Charge collection costs"),
    "start_interest": gettext_lazy("Start statutory interest"),
    "offer_arrangement": gettext_lazy("Offer a payment arrangement"),
    "municipal_signal": gettext_lazy("Early signal to the municipality"),
    "hand_over": gettext_lazy("Hand over"),
    "pause": gettext_lazy("Pause"),
    "close": gettext_lazy("Close the case"),
    "wait_promise": gettext_lazy("Wait for a promise to pay"),
    "wait_reply": gettext_lazy("Wait for a reply"),
}
CHANNELS = {**dict(Channel.choices), "best": gettext_lazy("best channel")}
PURPOSES = {
    "reminder": gettext_lazy("reminder"),
    "demand": gettext_lazy("demand for payment"),
    "plan_offer": gettext_lazy("payment plan offer"),
    "debt_help_referral": gettext_lazy("referral to debt help"),
    "info": gettext_lazy("information"),
}
HANDOVER_TO = {"agency": gettext_lazy("collection agency"), "bailiff": gettext_lazy("bailiff")}
INTEREST_KINDS = {
    "consumer": gettext_lazy("consumer (art. 6:119 BW)"),
    "commercial": gettext_lazy("commercial (art. 6:119a BW)"),
}
SIGNAL_REQUIREMENTS = {
    "written_reminders": gettext_lazy("written reminders"),
    "reminder_spacing_days": gettext_lazy("days between reminders"),
    "personal_contact_attempts": gettext_lazy("personal contact attempts"),
    "contact_channels": gettext_lazy("contact channels"),
    "debt_help_referral": gettext_lazy("referral to debt help"),
    "plan_offer": gettext_lazy("payment plan offered"),
}
SETTINGS = {
    "grace_days": gettext_lazy("Days after the due date before a case opens"),
    "letter_receipt_business_days": gettext_lazy("Assumed receipt of a letter (business days)"),
    "email_receipt_days": gettext_lazy("Assumed receipt of an email (days)"),
    "payday_window_days": gettext_lazy("Payday window (days)"),
    "contact_caps": gettext_lazy("Contact limit"),
    "contact_hours": gettext_lazy("Contact hours"),
    "interest_kind": gettext_lazy("Statutory interest"),
    "best_channel_order": gettext_lazy("Channel order for “best channel”"),
    "handover_min_balance": gettext_lazy("Minimum balance for a hand-over"),
    "calls": gettext_lazy("Call attempts"),
}
# Condition facts that come as a _min/_max pair, with how to show their values.
RANGES = {
    "days_past_due": gettext_lazy("days past due"),
    "balance": gettext_lazy("balance"),
    "open_items": gettext_lazy("open items"),
    "risk_score": gettext_lazy("risk score"),
}
MONEY_KEYS = {"balance_min", "balance_max", "handover_min_balance"}
STEP_SHOWN_ELSEWHERE = {"step", "label", "day", "after", "channel", "template"}


def _eur(cents) -> str:
    return format_eur(int(cents), language=(get_language() or "nl")[:2])


def _yes_no(value) -> str:
    return _("yes") if value else _("no")


def _plain(value) -> str:
    """A value of a key this module does not know, as readable text."""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _percent(value) -> str:
    """``"12.50"`` → ``"12.5"``: a share without trailing zeros, as the document meant it."""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except ArithmeticError:
        return str(value)


def _channels(names) -> str:
    return ", ".join(str(CHANNELS.get(name, name)) for name in names)


def setting_rows(settings: dict) -> list[tuple[str, str]]:
    """(label, value) per setting, in the document's order."""
    rows = []
    for key, value in (settings or {}).items():
        if key == "contact_caps" and isinstance(value, dict):
            text = _("%(day)s a day, %(week)s a week") % {
                "day": value.get("per_day", "?"),
                "week": value.get("per_week", "?"),
            }
        elif key == "contact_hours" and isinstance(value, dict):
            text = f"{value.get('start', '?')}–{value.get('end', '?')}"
        elif key == "interest_kind":
            text = str(INTEREST_KINDS.get(value, value))
        elif key == "best_channel_order":
            text = _channels(value or [])
        elif key == "calls" and isinstance(value, dict):
            text = _(
                "at most %(week)s a week per customer, at least %(hours)s hours apart, "
                "at most %(max)s per call task"
            ) % {
                "week": value.get("max_attempts_per_week", "?"),
                "hours": value.get("min_hours_between", "?"),
                "max": value.get("max_attempts", "?"),
            }
        elif key in MONEY_KEYS and isinstance(value, int):
            text = _eur(value)
        else:
            text = _plain(value)
        rows.append((str(SETTINGS.get(key, key)), text))
    return rows


def condition_lines(when: dict) -> list[str]:
    """A segment's conditions as one readable line per fact; all of them must hold."""
    when = {k: v for k, v in (when or {}).items() if v not in (None, [], ())}
    lines = []
    for fact, label in RANGES.items():
        low, high = when.pop(f"{fact}_min", None), when.pop(f"{fact}_max", None)
        if fact == "balance":
            low, high = (None if v is None else _eur(v) for v in (low, high))
        values = {"what": label, "low": low, "high": high}
        if low is not None and high is not None:
            lines.append(_("%(what)s from %(low)s to %(high)s") % values)
        elif low is not None:
            lines.append(_("%(what)s at least %(low)s") % values)
        elif high is not None:
            lines.append(_("%(what)s at most %(high)s") % values)
    if "first_time" in when:
        first = when.pop("first_time")
        lines.append(_("late for the first time") if first else _("late before"))
    if "vulnerable" in when:
        lines.append(_("vulnerable") if when.pop("vulnerable") else _("not vulnerable"))
    if "reachable" in when:
        lines.append(
            _("reachable by %(channels)s") % {"channels": _channels(when.pop("reachable"))}
        )
    if "unreachable" in when:
        channels = _channels(when.pop("unreachable"))
        lines.append(_("not reachable by %(channels)s") % {"channels": channels})
    if "sector" in when:
        sectors = dict(Sector.choices)
        names = ", ".join(str(sectors.get(s, s)) for s in when.pop("sector"))
        lines.append(_("sector: %(sectors)s") % {"sectors": names})
    lines += [f"{key}: {_plain(value)}" for key, value in when.items()]
    return lines or [_("every case (no conditions)")]


def step_when(step: dict) -> str:
    """When a step is due: its day offset and what it counts from."""
    day = int(step.get("day", 0))
    if step.get("after", "previous") == "due_date":
        if day == 0:
            return _("on the due date")
        return ngettext(
            "%(day)s day after the due date", "%(day)s days after the due date", day
        ) % {"day": day}
    if day == 0:
        return _("right after the previous step")
    return ngettext(
        "%(day)s day after the previous step", "%(day)s days after the previous step", day
    ) % {"day": day}


def step_details(step: dict) -> list[str]:
    """What else a step says beyond its kind, timing, channel and template."""
    rest = {k: v for k, v in step.items() if k not in STEP_SHOWN_ELSEWHERE and v is not None}
    lines = []
    if "at" in rest:
        lines.append(_("at %(time)s") % {"time": rest.pop("at")})
    if "start" in rest or "end" in rest:
        lines.append(
            _("between %(start)s and %(end)s")
            % {"start": rest.pop("start", "?"), "end": rest.pop("end", "?")}
        )
    if "purpose" in rest:
        purpose = rest.pop("purpose")
        lines.append(_("purpose: %(purpose)s") % {"purpose": PURPOSES.get(purpose, purpose)})
    if "priority" in rest:
        lines.append(_("priority %(n)s") % {"n": rest.pop("priority")})
    if "days" in rest:
        days = int(rest.pop("days"))
        lines.append(ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if "max_days" in rest:
        days = int(rest.pop("max_days"))
        lines.append(ngettext("at most %(n)s day", "at most %(n)s days", days) % {"n": days})
    if "to" in rest:
        to = rest.pop("to")
        lines.append(
            _("to %(to)s: %(party)s")
            % {"to": HANDOVER_TO.get(to, to), "party": rest.pop("party", "")}
        )
    if "reason" in rest:
        lines.append(_("reason: %(reason)s") % {"reason": rest.pop("reason")})
    if isinstance(rest.get("requires"), dict):
        parts = [
            f"{SIGNAL_REQUIREMENTS.get(k, k)}: {_plain(v)}" for k, v in rest.pop("requires").items()
        ]
        lines.append(_("requires %(what)s") % {"what": "; ".join(parts)})
    lines += [f"{key}: {_plain(value)}" for key, value in rest.items()]
    return lines


def step_rows(steps) -> list[dict]:
    """One display row per step, numbered from 1 (step index 0 is step 1)."""
    rows = []
    for index, step in enumerate(steps or []):
        kind = step.get("step", "")
        rows.append(
            {
                "number": index + 1,
                "kind": kind,
                "kind_label": capfirst(str(STEP_KINDS.get(kind, kind))),
                "when": step_when(step),
                "channel": str(CHANNELS.get(step.get("channel"), step.get("channel") or "")),
                "template": step.get("template", ""),
                "label": step.get("label", ""),
                "details": step_details(step),
            }
        )
    return rows


def path_steps(document: dict, path: str, variant: str = "champion") -> list[dict]:
    """The steps a case on ``path`` follows: the challenger's own path if it varies it."""
    if variant != "champion":
        for challenger in document.get("challengers") or []:
            if challenger.get("name") == variant and path in (challenger.get("paths") or {}):
                return challenger["paths"][path]
    return (document.get("paths") or {}).get(path) or []


def document_view(document: dict) -> dict:
    """Everything the strategy page shows, from the stored document."""
    challengers = []
    for challenger in document.get("challengers") or []:
        challengers.append(
            {
                "name": challenger.get("name", ""),
                "label": challenger.get("label", ""),
                "share": _percent(challenger.get("share", "")),
                "paths": [
                    {"name": name, "steps": step_rows(steps)}
                    for name, steps in (challenger.get("paths") or {}).items()
                ],
            }
        )
    try:
        taken = sum(Decimal(str(c.get("share", 0))) for c in document.get("challengers") or [])
        champion_share = _percent(100 - taken)
    except ArithmeticError:
        champion_share = ""
    sector = document.get("sector")
    return {
        "description": document.get("description", ""),
        "sector": str(dict(Sector.choices).get(sector, sector or "")),
        "settings": setting_rows(document.get("settings") or {}),
        "segments": [
            {
                "name": segment.get("name", ""),
                "label": segment.get("label", ""),
                "conditions": condition_lines(segment.get("when") or {}),
                "path": segment.get("path", ""),
            }
            for segment in document.get("segments") or []
        ],
        "paths": [
            {"name": name, "steps": step_rows(steps)}
            for name, steps in (document.get("paths") or {}).items()
        ],
        "challengers": challengers,
        "champion_share": champion_share,
    }
