"""``vaarwater creditor create CODE --name ... --sector ...``, ``vaarwater creditor list`` and
``vaarwater creditor letterhead CODE [--logo FILE] [--address ...] ...``."""

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
        create.add_argument(
            "--sepa-creditor-id",
            default="",
            help="the SEPA creditor identifier (incassant-ID) for direct debits",
        )
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
        letterhead = sub.add_parser(
            "letterhead",
            help="set what the creditor's letters show (without options: show it)",
        )
        letterhead.add_argument("code", help="the creditor's code")
        logo = letterhead.add_mutually_exclusive_group()
        logo.add_argument(
            "--logo", default=None, metavar="FILE", help="an SVG or PNG file, smaller than 1 MB"
        )
        logo.add_argument("--no-logo", action="store_true", help="remove the logo")
        letterhead.add_argument(
            "--address",
            default=None,
            help='the sender block, lines separated by \\n: "Postbus 1\\n9700 AA Groningen"',
        )
        letterhead.add_argument("--phone", default=None)
        letterhead.add_argument("--email", default=None)
        letterhead.add_argument("--website", default=None)
        letterhead.add_argument("--bic", default=None, help="the BIC of the collection account")
        letterhead.add_argument(
            "--sepa-creditor-id",
            default=None,
            help="the SEPA creditor identifier (incassant-ID) for direct debits",
        )

    def handle(self, *args, action, **options):
        if action == "letterhead":
            self.letterhead(options)
            return
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
                sepa_creditor_id=options["sepa_creditor_id"],
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

    def letterhead(self, options):
        from pathlib import Path

        from vaarwater.contact.letters.letterhead import (
            LetterheadError,
            creditor_letterhead_set,
            letterhead_lines,
        )

        code = options["code"].strip().upper()
        creditor = Creditor.objects.filter(code=code).first()
        if creditor is None:
            raise CommandError(f"creditor letterhead: {code}: no such creditor")
        logo = None
        if options["logo"] is not None:
            path = Path(options["logo"])
            try:
                if path.stat().st_size >= 1024 * 1024:
                    raise CommandError(
                        f"creditor letterhead: --logo {path}: {path.stat().st_size:,} bytes; "
                        "a logo must be smaller than 1 MB"
                    )
                logo = path.read_bytes()
            except OSError as exc:
                raise CommandError(
                    f"creditor letterhead: --logo {path}: {exc.strerror or exc}"
                ) from None
        try:
            changed = creditor_letterhead_set(
                creditor=creditor,
                logo=logo,
                logo_name=options["logo"] or "",
                remove_logo=options["no_logo"],
                address=options["address"],
                phone=options["phone"],
                email=options["email"],
                website=options["website"],
                bic=options["bic"],
                sepa_creditor_id=options["sepa_creditor_id"],
                actor=Actor.system("vaarwater creditor letterhead"),
            )
        except LetterheadError as exc:
            raise CommandError(f"creditor letterhead: {exc}") from None
        if changed:
            self.stdout.write(f"{creditor.code}: letterhead changed ({', '.join(changed)})")
        for line in letterhead_lines(creditor):
            self.stdout.write(f"  {line}")
