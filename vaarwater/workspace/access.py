"""Who may use the back office, and what: login with password plus TOTP, roles per creditor.

Every back-office view is wrapped in :func:`back_office_required`: the user must be logged in
*and* have passed the second factor in this session (django-otp's ``is_verified``), and, for
pages with a ``role``, hold at least that role at one creditor. What a user sees is then scoped
per creditor with ``Creditor.objects.for_user(user, role)``: a case of a creditor the user has
no (sufficient) membership at is a 404, never a 403, so its existence is not revealed.
"""

from functools import wraps

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse

from vaarwater.ledger.models import Creditor, Role


def is_verified(user) -> bool:
    """Logged in, active and past the second factor in this session."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "is_verified", lambda: False)()
    )


def back_office_required(view=None, *, role: str = Role.AGENT):
    """Require a verified login and, at one creditor at least, ``role`` (agent by default).

    Not logged in or not verified: to the login page (JSON 401 for ``/api/``). Verified but
    without the role anywhere: 403 (the page exists for some users, not for this one).
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not is_verified(request.user):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "Not authenticated"}, status=401)
                return redirect_to_login(request.get_full_path(), "workspace:login")
            if not Creditor.objects.for_user(request.user, role).exists():
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def role_at(user, creditor) -> str | None:
    """The user's role at one creditor (superusers are administrators everywhere)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMINISTRATOR
    membership = creditor.memberships.filter(user=user).first()
    return membership.role if membership else None


def has_role(user, creditor, role: str) -> bool:
    """Whether the user holds at least ``role`` at ``creditor``."""
    held = role_at(user, creditor)
    return held is not None and held in Role.at_least(role)


def roles(request) -> dict:
    """Template context: ``can_supervise`` shows the supervisor view in the menu."""
    user = getattr(request, "user", None)
    if not is_verified(user):
        return {"can_supervise": False}
    return {"can_supervise": lambda: Creditor.objects.for_user(user, Role.SUPERVISOR).exists()}


def current_code(device, *, at: float | None = None) -> str:
    """The code an authenticator app shows now (or at ``at``) for a TOTP device: for the demo
    users (``vaarwater user code``) and the tests."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


__all__ = [
    "REDIRECT_FIELD_NAME",
    "back_office_required",
    "current_code",
    "has_role",
    "is_verified",
    "role_at",
]
