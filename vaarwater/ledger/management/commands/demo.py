"""``vaarwater demo``: migrate, generate and import a demo portfolio, create demo logins."""

import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from vaarwater.ledger.generator import generate_portfolio
from vaarwater.ledger.importing import csv_import
from vaarwater.ledger.models import Creditor, CreditorMembership, Sector
from vaarwater.ledger.services import creditor_create

DEMO_CREDITOR = "DEMO-ENERGIE"
DEMO_PASSWORD = "vaarwater-demo"  # noqa: S105 - printed on purpose; demo data only
DEMO_USERS = (  # username, superuser, role at the demo creditor, what
    ("beheer", True, "", "administrator: every creditor, every admin page"),
    ("teamleider", False, "supervisor", f"supervisor of {DEMO_CREDITOR}: the supervisor view"),
    ("medewerker", False, "agent", f"agent of {DEMO_CREDITOR} only: the call queue"),
)


class Command(BaseCommand):
    help = "Set up the demo: database, a synthetic energy supplier's portfolio and demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--debtors", type=int, default=500)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--dir", default=None, help="where the generated CSV files go")
        parser.add_argument(
            "--days", type=int, default=21, help="simulated days of the daily run, ending today"
        )

    def handle(self, *args, debtors, seed, dir, days, **options):
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write("database migrated")
        creditor = Creditor.objects.filter(code=DEMO_CREDITOR).first() or creditor_create(
            code=DEMO_CREDITOR,
            name="Demo Energie BV",
            sector=Sector.ENERGY,
            iban="NL02ABNA0123456789",
            sepa_creditor_id="NL68ZZZ012345670001",
        )
        out = Path(dir) if dir else Path(tempfile.mkdtemp(prefix="vaarwater-demo-"))
        counts = generate_portfolio(debtors=debtors, seed=seed, as_of=date.today(), out=out)
        self.stdout.write(f"generated {counts} in {out}")
        for kind in ("debtors", "invoices", "payments"):
            result = csv_import(kind=kind, path=out / f"{kind}.csv", creditor=creditor)
            self.stdout.write(
                f"imported {kind}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged"
            )
        self._daily_cycle(days)
        self._statement(creditor, out)
        self._users(creditor)
        self._portal_links(creditor)

    def _portal_links(self, creditor, count: int = 3):
        """Print personal links of a few debtors with an open case: the debtor's side."""
        from django.conf import settings

        from vaarwater.portal.tokens import access_token_issue, portal_url
        from vaarwater.strategy.models import Case

        cases = Case.objects.for_creditor(creditor).active().order_by("pk")[:count]
        if not cases:
            return
        self.stdout.write("\nThe debtor portal (personal links, as in the messages):")
        for case in cases:
            token = access_token_issue(
                creditor_id=creditor.pk, debtor_id=case.debtor_id, case_id=case.pk
            )
            self.stdout.write(f"  {case.debtor.name:<28} {portal_url(token)}")
        base = settings.PUBLIC_URL.rstrip("/")
        self.stdout.write(
            f"Without a link: {base}/p/ (file number, postcode, house number). iDEAL payments "
            "go to the Mollie simulator at http://127.0.0.1:8025/."
        )

    def _statement(self, creditor, out: Path, count: int = 8):
        """Write today's bank statement with transfers of a few debtors with an open case (by
        invoice number, by case reference, by IBAN only, by name and amount, and one stranger
        the matching cannot place) and import it, as ``vaarwater import-statement`` does."""
        from vaarwater.core.events import Actor
        from vaarwater.ledger.selectors import debtor_position
        from vaarwater.payments.statements.importing import outcome_line, statement_import
        from vaarwater.payments.statements.synthetic import Stmt, Tx, camt053
        from vaarwater.strategy.models import Case

        today = date.today()
        txs = []
        cases = Case.objects.for_creditor(creditor).active().select_related("debtor")
        for n, case in enumerate(cases.order_by("-pk")[:count]):
            debtor = case.debtor
            position = debtor_position(debtor)
            item = min(position.items.values(), key=lambda it: it.due_date, default=None)
            if item is None:
                continue
            number = debtor.invoices.get(pk=item.invoice_id).external_id
            way = n % 4
            txs.append(
                Tx(
                    item.total,
                    name=debtor.name,
                    iban=debtor.iban if way in (0, 2) else "",
                    ustrd=(
                        f"Factuur {number}"
                        if way == 0
                        else f"Dossier {case.reference}"
                        if way == 1
                        else ""
                    ),
                    booked=today,
                )
            )
        txs.append(Tx(4250, name="J. Onbekend", ustrd="betaling", booked=today))
        path = out / f"bankafschrift-{today.isoformat()}.xml"
        path.write_bytes(
            camt053(
                [Stmt(txs=txs, account=creditor.iban, statement_id=f"DEMO-{today}", day=today)],
                message_id=f"DEMO-{today}",
            )
        )
        result = statement_import(
            path=path, file_name=path.name, creditor=None, actor=Actor.system("vaarwater demo")
        )
        self.stdout.write(f"\nbank statement {path}:")
        for outcome in result.statements:
            self.stdout.write(f"  {outcome_line(outcome)}")
        self.stdout.write(
            "  unmatched payments wait at http://127.0.0.1:8000/statements/; importing the file "
            f"again changes nothing: vaarwater import-statement {path}"
        )

    def _daily_cycle(self, days: int):
        """Run the daily cycle for the last ``days`` days, so cases stand at different steps:
        the strategy's run, then the outbox at three moments of the day (email to files under
        var/mail, SMS and WhatsApp to the local simulator, letters to var/letters), then the
        day's print batch."""
        from vaarwater.contact.demo import contact_services, outbox_day
        from vaarwater.strategy.run import daily_run

        today = date.today()
        with contact_services(self.stdout) as services:
            for back in range(days - 1, -1, -1):
                day = today - timedelta(days=back)
                result = daily_run(run_date=day)
                done = sum(n for key, n in result.counts.items() if key.startswith("done"))
                opened = result.counts.get("cases opened", 0)
                sent = outbox_day(day)
                self.stdout.write(
                    f"daily run {day.isoformat()}: {opened} cases opened, {done} steps taken; "
                    f"messages sent: {sent}"
                )
            services.settle()

    @transaction.atomic
    def _users(self, creditor):
        User = get_user_model()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from vaarwater.workspace.management.commands.user import DEMO_DEVICE

        self.stdout.write(f"\nDemo logins (password for each: {DEMO_PASSWORD}):")
        for username, superuser, role, what in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = superuser
            user.set_password(DEMO_PASSWORD)
            user.save()
            if not superuser:
                CreditorMembership.objects.update_or_create(
                    user=user, creditor=creditor, defaults={"role": role}
                )
                self._grant_view(user)
            TOTPDevice.objects.get_or_create(
                user=user, name=DEMO_DEVICE, defaults={"confirmed": True}
            )
            self.stdout.write(f"  {username:<12} {what}")
        self.stdout.write(
            "\nOpen http://127.0.0.1:8000/ and log in. The login also asks for the code of an "
            "authenticator app; for the demo users, `.venv/bin/vaarwater user code medewerker` "
            "prints it (or set up an app with `.venv/bin/vaarwater user totp medewerker`)."
        )

    def _grant_view(self, user):
        from django.contrib.auth.models import Permission

        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label__in=["ledger", "core", "strategy", "contact"],
                codename__startswith="view_",
            )
        )
