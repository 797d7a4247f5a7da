"""Back-office login: password plus TOTP code, lockout after failures, roles per creditor."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor, CreditorMembership, Role
from vaarwater.testing import login_verified, totp_code, totp_device
from vaarwater.workspace.access import has_role, role_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(creditor):
    user = get_user_model().objects.create_user("anna", password="pw-anna-12345")
    CreditorMembership.objects.create(user=user, creditor=creditor, role=Role.AGENT)
    return user


def _login(client, username="anna", password="pw-anna-12345", code="000000", next=""):
    data = {"username": username, "password": password, "code": code}
    if next:
        data["next"] = next
    return client.post("/login/", data, REMOTE_ADDR="10.0.0.1")


def test_password_and_code_log_in(client, agent):
    device = totp_device(agent)
    response = _login(client, code=totp_code(device), next="/cases/")
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200


def test_a_wrong_code_is_refused_like_a_wrong_password(client, agent):
    device = totp_device(agent)
    good = totp_code(device)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    bad_code = _login(client, code=wrong)
    bad_password = _login(client, password="nope-nope-nope", code=good)
    assert bad_code.status_code == bad_password.status_code == 401
    # The same message: which part was wrong is not told.
    assert bad_code.context["error"] == bad_password.context["error"]
    assert client.get("/cases/").status_code == 302  # still not logged in


def test_a_password_alone_never_logs_in(client, agent):
    """Without a confirmed authenticator app there is no way in, and the user is told why."""
    response = _login(client, code="123456")
    assert response.status_code == 401 and "authenticator" in response.context["error"]
    assert client.get("/").status_code == 302


def test_lockout_after_repeated_failures_even_with_the_right_code(client, agent, settings):
    device = totp_device(agent)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, password="wrong-wrong-wrong", code=totp_code(device))
    response = _login(client, code=totp_code(device))
    assert response.status_code == 429
    assert client.get("/cases/").status_code == 302
    # An administrator lifts it.
    out = io.StringIO()
    call_command("user", "unlock", "anna", stdout=out)
    assert "removed" in out.getvalue()
    assert _login(client, code=totp_code(device)).status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, agent, settings):
    device = totp_device(agent)
    good = totp_code(device)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, code=wrong)
    assert _login(client, code=good).status_code == 429


def test_logged_in_without_the_second_factor_is_not_enough(client, agent):
    client.force_login(agent)  # a session without the TOTP step
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/admin/").status_code == 302  # the admin asks for it too


def test_an_outside_next_address_is_ignored(client, agent):
    device = totp_device(agent)
    response = _login(client, code=totp_code(device), next="https://evil.example/")
    assert response["Location"] == "/"


def test_logout(client, agent):
    login_verified(client, agent)
    assert client.get("/cases/").status_code == 200
    client.post("/logout/")
    assert client.get("/cases/").status_code == 302


def test_admin_login_goes_to_the_back_office_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/admin/"


def test_roles_per_creditor(creditor, other_creditor, agent):
    CreditorMembership.objects.create(user=agent, creditor=other_creditor, role=Role.SUPERVISOR)
    assert role_at(agent, creditor) == Role.AGENT
    assert has_role(agent, other_creditor, Role.SUPERVISOR)
    assert not has_role(agent, creditor, Role.SUPERVISOR)
    assert list(Creditor.objects.for_user(agent, Role.SUPERVISOR)) == [other_creditor]
    assert set(Creditor.objects.for_user(agent)) == {creditor, other_creditor}
    agent.is_active = False
    assert not Creditor.objects.for_user(agent).exists()


def test_an_agent_cannot_open_the_supervisor_view(client, agent):
    login_verified(client, agent)
    assert client.get("/supervisor/").status_code == 403


def test_events_carry_the_agents_name():
    user = get_user_model()(username="anna", first_name="Anna", last_name="de Vries")
    assert Actor.for_user(user).label == "Anna de Vries (anna)"
    assert Actor.for_user(get_user_model()(username="piet")).label == "piet"


def test_user_command_adds_a_user_with_role_and_app(creditor, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    out = io.StringIO()
    call_command(
        "user", "add", "bram", "--creditor", creditor.code, "--role", "supervisor",
        "--name", "Bram Jansen", "--password-stdin", stdout=out,
    )  # fmt: skip
    user = get_user_model().objects.get(username="bram")
    assert user.get_full_name() == "Bram Jansen" and user.check_password("a-long-password-1")
    assert role_at(user, creditor) == Role.SUPERVISOR
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and "otpauth://totp/" in out.getvalue()
    call_command("user", "role", "bram", "--creditor", creditor.code, "--role", "agent")
    assert role_at(user, creditor) == Role.AGENT
    call_command("user", "totp", "bram", stdout=io.StringIO())
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert TOTPDevice.objects.get(user=user).key != device.key  # the old app no longer works
    listing = io.StringIO()
    call_command("user", "list", stdout=listing)
    assert "bram" in listing.getvalue() and f"agent at {creditor.code}" in listing.getvalue()
    call_command("user", "role", "bram", "--creditor", creditor.code, "--remove")
    assert role_at(user, creditor) is None


def test_user_command_refuses_bad_input(creditor, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="password"):
        call_command("user", "add", "x", "--creditor", creditor.code, "--password-stdin")
    with pytest.raises(CommandError, match="no such creditor"):
        call_command("user", "add", "x", "--creditor", "NOPE", "--password-stdin")
    with pytest.raises(CommandError, match="no such user"):
        call_command("user", "totp", "nobody")
    get_user_model().objects.create_user("real", password="pw-real-12345")
    with pytest.raises(CommandError, match="not a demo user"):
        call_command("user", "code", "real")
