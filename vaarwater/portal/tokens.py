"""Issue and check personal-link tokens.

A token is 24 random URL-safe characters plus an 8-character HMAC of them under the site's
secret: a forged or mistyped token is refused without a database lookup, and a real one is found
by the SHA-256 of the whole token (the token itself is never stored).
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import AccessToken

VALID_DAYS = 60
# A link that would expire within this many days is not reused for a new message.
REUSE_MARGIN_DAYS = 30


def _mac(body: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"portal:" + body.encode(), hashlib.sha256).hexdigest()[:8]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_signed(token: str) -> bool:
    """Return True when the token carries a valid signature (it may still be unknown).

    >>> token_signed("x" * 24 + "00000000")
    False
    """
    if len(token) != 32:
        return False
    return hmac.compare_digest(_mac(token[:24]), token[24:])


@transaction.atomic
def access_token_issue(
    *,
    creditor_id: int,
    debtor_id: int,
    case_id: int | None,
    now: datetime | None = None,
    days: int = VALID_DAYS,
) -> str:
    """Return a new personal-link token for the debtor (and case), valid for ``days``."""
    now = now or timezone.now()
    body = secrets.token_urlsafe(18)[:24]
    token = body + _mac(body)
    AccessToken.objects.create(
        creditor_id=creditor_id,
        debtor_id=debtor_id,
        case_id=case_id,
        token_hash=_hash(token),
        expires_at=now + timedelta(days=days),
    )
    return token


def access_token_check(token: str, *, now: datetime | None = None) -> AccessToken | None:
    """Return the live token row for a presented token, or None (forged, unknown, expired,
    revoked). Records when it was last used."""
    if not token_signed(token):
        return None
    now = now or timezone.now()
    row = AccessToken.objects.filter(token_hash=_hash(token)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    AccessToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def access_token_revoke(*, debtor_id: int, now: datetime | None = None) -> int:
    """Revoke every live link of a debtor; return how many."""
    now = now or timezone.now()
    return AccessToken.objects.filter(debtor_id=debtor_id, revoked_at__isnull=True).update(
        revoked_at=now
    )


def live_links(debtor_id: int, *, now: datetime | None = None) -> int:
    """How many of a debtor's personal links work now."""
    now = now or timezone.now()
    return AccessToken.objects.filter(
        debtor_id=debtor_id, revoked_at__isnull=True, expires_at__gt=now
    ).count()


def portal_url(token: str) -> str:
    """The personal link as the debtor sees it."""
    return f"{settings.PUBLIC_URL.rstrip('/')}/p/{token}/"
