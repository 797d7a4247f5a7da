"""Where the tests find the real third-party files (bank statements, XSDs) in ``shared/testdata``.

They live beside the repository (``../shared/testdata``); a clone elsewhere names them with
``VAARWATER_SHARED_TESTDATA``, and on the project's machines they are also at
``/work/shared/testdata``.
"""

import os
from pathlib import Path

_CANDIDATES = [
    os.environ.get("VAARWATER_SHARED_TESTDATA", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "testdata"),
    "/work/shared/testdata",
]

SHARED_TESTDATA = next(
    (Path(path) for path in _CANDIDATES if path and Path(path).is_dir()), Path(_CANDIDATES[1])
)


def totp_device(user, *, key: str | None = None):
    """The user's confirmed TOTP device (made once), as ``vaarwater user totp`` sets it up."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        fields = {"key": key} if key else {}
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True, **fields)
    return device


def totp_code(device, *, at: float | None = None) -> str:
    """The code an authenticator app shows now (or at ``at``) for the device."""
    from vaarwater.workspace.access import current_code

    return current_code(device, at=at)


def login_verified(client, user):
    """Log the test client in as ``user`` past the second factor, as the login page would."""
    from django_otp import DEVICE_ID_SESSION_KEY

    device = totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return user
