"""The fallback login for a debtor without their personal link: case reference, postcode and
house number.

It must not tell anyone whether a case exists. Every failure gets the same answer, with the
same amount of work (the same queries, a constant-time comparison); attempts are limited per
client and per typed reference, whether or not that reference exists; only hashes of both are
stored. A success issues a new personal link, valid for a day, and records who logged in.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vaarwater.core.events import Actor, event_record
from vaarwater.ledger.models import Debtor
from vaarwater.strategy.models import Case, case_reference

from .models import LoginAttempt
from .tokens import access_token_issue

# Failed tries allowed in ``WINDOW``: per client address, and per typed case reference (so a
# spread-out guesser cannot try postcodes for one case from many addresses).
MAX_PER_CLIENT = 10
MAX_PER_REFERENCE = 5
WINDOW = timedelta(minutes=15)
# A login gives a personal link for this long.
LOGIN_LINK_DAYS = 1
REFERENCE_RE = re.compile(r"^(\d{1,6})-?(\d)$")
POSTCODE_RE = re.compile(r"^([1-9]\d{3})\s*([A-Za-z]{2})$")
HOUSE_RE = re.compile(r"^(\d{1,5})\s*[-/ ]?\s*([A-Za-z0-9]{0,6})$")


class RateLimited(Exception):
    """Too many failed attempts; try again after ``WINDOW``."""


@dataclass(frozen=True)
class LoginResult:
    token: str
    case: Case


def _h(kind: str, value: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def normalise_reference(text: str) -> str:
    """``'12-7'``, ``'000012 7'`` and ``'0000127'`` → ``'000012-7'``; anything else as typed.

    >>> normalise_reference(" 12-7 ")
    '000012-7'
    >>> normalise_reference("0000127")
    '000012-7'
    """
    compact = re.sub(r"\s", "", text or "")
    match = REFERENCE_RE.match(compact)
    if not match:
        return compact.upper()
    return f"{int(match.group(1)):06d}-{match.group(2)}"


def normalise_postcode(text: str) -> str:
    """``'1234 ab'`` → ``'1234AB'``; anything else as typed, upper-case.

    >>> normalise_postcode("1234 ab")
    '1234AB'
    """
    match = POSTCODE_RE.match((text or "").strip())
    return f"{match.group(1)}{match.group(2).upper()}" if match else (text or "").upper()


def normalise_house(text: str) -> str:
    """``'12 a'``, ``'12-A'`` → ``'12A'``.

    >>> normalise_house("12 - a")
    '12A'
    """
    compact = re.sub(r"[\s\-/]", "", text or "")
    return compact.upper()


def _recent_failures(field: str, value: str, now: datetime) -> int:
    return LoginAttempt.objects.filter(
        **{field: value}, succeeded=False, at__gte=now - WINDOW
    ).count()


def _case_for(reference: str) -> Case | None:
    match = re.match(r"^(\d{6})-(\d)$", reference)
    if not match:
        return None
    pk = int(match.group(1))
    if case_reference(pk) != reference:
        return None
    return Case.objects.select_related("debtor").filter(pk=pk).first()


def portal_login(
    *, reference: str, postcode: str, house_number: str, client: str, now: datetime | None = None
) -> LoginResult | None:
    """Return a new personal link when the three details match one case; None otherwise.

    Raises ``RateLimited`` after too many failures from the client or for the reference."""
    now = now or timezone.now()
    reference = normalise_reference(reference)
    client_hash, reference_hash = _h("client", client), _h("reference", reference)
    if (
        _recent_failures("client_hash", client_hash, now) >= MAX_PER_CLIENT
        or _recent_failures("reference_hash", reference_hash, now) >= MAX_PER_REFERENCE
    ):
        raise RateLimited()
    case = _case_for(reference)
    debtor: Debtor | None = case.debtor if case is not None else None
    # Compare even when there is no case, so a miss costs what a hit costs.
    given = f"{normalise_postcode(postcode)}|{normalise_house(house_number)}"
    known = (
        f"{normalise_postcode(debtor.postcode)}|{normalise_house(debtor.house_number)}"
        if debtor is not None and debtor.postcode and debtor.house_number
        else "-"
    )
    matched = hmac.compare_digest(_h("address", given), _h("address", known))
    with transaction.atomic():
        LoginAttempt.objects.create(
            client_hash=client_hash, reference_hash=reference_hash, succeeded=matched, at=now
        )
        if not matched or case is None or debtor is None:
            return None
        token = access_token_issue(
            creditor_id=debtor.creditor_id,
            debtor_id=debtor.pk,
            case_id=case.pk,
            now=now,
            days=LOGIN_LINK_DAYS,
        )
        event_record(
            creditor=debtor.creditor_id,
            debtor=debtor,
            verb="portal.login",
            actor=Actor(kind="debtor", label=debtor.name),
            subject=case,
            reason="ingelogd met dossiernummer, postcode en huisnummer",
        )
    return LoginResult(token=token, case=case)


def attempts_purge(*, now: datetime | None = None) -> int:
    """Forget attempts older than a day (they only matter within ``WINDOW``)."""
    now = now or timezone.now()
    deleted, _ = LoginAttempt.objects.filter(at__lt=now - timedelta(days=1)).delete()
    return deleted
