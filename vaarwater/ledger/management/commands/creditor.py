"""``vaarwater creditor create CODE --name ... --sector ...`` and ``vaarwater creditor list``."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor, Sector
from vaarwater.ledger.services import LedgerError, creditor_create


class Command(BaseCommand):
    help = "Create or list creditors (tenants)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a creditor")
        create.add_argument("code", help="short code, e.g. ENERGIE (letters, digits, - or _)")
        create.add_argument("--name", required=True)
        create.add_argument("--sector", required=True, choices=Sector.values)
        create.add_argument("--iban", default="", help="the creditor's collection account")
        vat = create.add_mutually_exclusive_group()
        vat.add_argument(
            "--can-reclaim-vat",
            dest="can_reclaim_vat",
            action="store_true",
            default=True,
            help="the creditor reclaims VAT (default)",
        )
        vat.add_argument(
            "--cannot-reclaim-vat",
            dest="can_reclaim_vat",
            action="store_false",
            help="21%% VAT may be added to collection costs",
        )
        sub.add_parser("list", help="list creditors")

    def handle(self, *args, action, **options):
        if action == "list":
            for creditor in Creditor.objects.all():
                self.stdout.write(f"{creditor.code}\t{creditor.sector}\t{creditor.name}")
            return
        try:
            creditor = creditor_create(
                code=options["code"],
                name=options["name"],
                sector=options["sector"],
                can_reclaim_vat=options["can_reclaim_vat"],
                iban=options["iban"],
                actor=Actor.system("vaarwater creditor create"),
            )
        except (LedgerError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created creditor {creditor.code} ({creditor.name}, {creditor.sector})")
        from vaarwater.strategy.documents import current_version

        version = current_version(creditor, date.today())
        self.stdout.write(
            f"it starts on the shipped strategy {version.label} ({version.title}) until it "
            "loads its own (vaarwater strategy load FILE --creditor CODE)"
        )
