"""``vaarwater user``: back-office users, their roles per creditor and their authenticator app.

vaarwater user add anna --creditor ENERGIE --role agent --name "Anna de Vries"
vaarwater user role anna --creditor ENERGIE --role supervisor
vaarwater user totp anna        # a new authenticator secret, as a QR code and an otpauth:// link
vaarwater user list
vaarwater user unlock anna      # lift a lockout after too many failed logins
"""

import getpass
import io
import sys

import segno
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from vaarwater.ledger.models import Creditor, CreditorMembership, Role
from vaarwater.workspace.access import current_code

DEMO_DEVICE = "demo"  # `vaarwater demo` names its users' devices so; `user code` works only there


class Command(BaseCommand):
    help = "Manage back-office users: add, roles per creditor, authenticator app, unlock."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a user with a role at a creditor")
        add.add_argument("username")
        add.add_argument("--creditor", required=True, help="the creditor's code")
        add.add_argument("--role", choices=Role.values, default=Role.AGENT)
        add.add_argument("--name", default="", help='the full name, e.g. "Anna de Vries"')
        add.add_argument("--email", default="")
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input (else it is asked for)",
        )
        role = sub.add_parser("role", help="give a user a role at a creditor (or take it away)")
        role.add_argument("username")
        role.add_argument("--creditor", required=True)
        group = role.add_mutually_exclusive_group(required=True)
        group.add_argument("--role", choices=Role.values)
        group.add_argument("--remove", action="store_true", help="end the user's access there")
        totp = sub.add_parser("totp", help="set up a new authenticator app for a user")
        totp.add_argument("username")
        sub.add_parser("list", help="list users with their roles")
        unlock = sub.add_parser("unlock", help="lift a lockout after failed logins")
        unlock.add_argument("username")
        code = sub.add_parser("code", help="the current code of a demo user (demo users only)")
        code.add_argument("username")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _user(self, username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user {username!r}: no such user")
        return user

    def _creditor(self, code):
        creditor = Creditor.objects.filter(code=code).first()
        if creditor is None:
            raise CommandError(
                f"--creditor {code!r}: no such creditor (see `vaarwater creditor list`)"
            )
        return creditor

    def _password(self, username, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Password for {username}: ")
            if getpass.getpass("Again: ") != password:
                raise CommandError("the two passwords differ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from exc
        return password

    @transaction.atomic
    def _add(self, *, username, creditor, role, name, email, password_stdin, **_):
        creditor = self._creditor(creditor)
        User = get_user_model()
        if not username.strip() or len(username) > 150:
            raise CommandError("username: 1 to 150 characters")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already; use `vaarwater user role`")
        password = self._password(username, password_stdin)
        first, _sep, last = name.strip().partition(" ")
        user = User.objects.create_user(
            username, email=email, password=password, first_name=first[:150], last_name=last[:150]
        )
        CreditorMembership.objects.create(user=user, creditor=creditor, role=role)
        self.stdout.write(f"added {username}: {role} at {creditor.code}")
        self._show_device(user, self._new_device(user))

    def _role(self, *, username, creditor, role, remove, **_):
        user, creditor = self._user(username), self._creditor(creditor)
        if remove:
            deleted, _n = CreditorMembership.objects.filter(user=user, creditor=creditor).delete()
            self.stdout.write(
                f"{username} has no access to {creditor.code} any more"
                if deleted
                else f"{username} had no access to {creditor.code}"
            )
            return
        CreditorMembership.objects.update_or_create(
            user=user, creditor=creditor, defaults={"role": role}
        )
        self.stdout.write(f"{username}: {role} at {creditor.code}")

    def _new_device(self, user, name: str = "app") -> TOTPDevice:
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user).delete()
            return TOTPDevice.objects.create(user=user, name=name, confirmed=True)

    def _show_device(self, device_user, device: TOTPDevice) -> None:
        url = device.config_url
        buffer = io.StringIO()
        segno.make(url, error="m").terminal(out=buffer, compact=True)
        self.stdout.write(
            f"\nScan this code with an authenticator app (for {device_user.get_username()}):\n"
        )
        self.stdout.write(buffer.getvalue())
        self.stdout.write(f"or enter this link in it: {url}\n")
        self.stdout.write("The login asks for the six-digit code the app then shows.")

    def _totp(self, *, username, **_):
        user = self._user(username)
        self._show_device(user, self._new_device(user))
        self.stdout.write("Any earlier authenticator app of this user no longer works.")

    def _list(self, **_):
        for user in get_user_model().objects.order_by("username"):
            roles = ", ".join(
                f"{m.role} at {m.creditor.code}"
                for m in CreditorMembership.objects.filter(user=user).select_related("creditor")
            )
            if user.is_superuser:
                roles = "administrator everywhere (superuser)" + (f"; {roles}" if roles else "")
            app = (
                "app" if TOTPDevice.objects.filter(user=user, confirmed=True).exists() else "NO app"
            )
            active = "" if user.is_active else " (inactive)"
            self.stdout.write(f"{user.username:<20} {app:<7} {roles or 'no access'}{active}")

    def _unlock(self, *, username, **_):
        from axes.utils import reset

        count = reset(username=username)
        self.stdout.write(f"{username}: {count} lockout record(s) removed")

    def _code(self, *, username, **_):
        device = TOTPDevice.objects.filter(user=self._user(username), name=DEMO_DEVICE).first()
        if device is None:
            raise CommandError(
                f"{username} is not a demo user: only `vaarwater demo` users show their code here"
            )
        self.stdout.write(current_code(device))
