"""``vaarwater debt-help load FILE | show POSTCODE``: the table of municipal debt help by
postcode that the portal refers debtors to (see ``portal/data/schuldhulp.csv``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vaarwater.portal.models import DebtHelpArea
from vaarwater.portal.selfservice import (
    DebtHelpInvalid,
    debt_help_for_postcode,
    debt_help_load,
    is_fallback,
    postcode_digits,
)


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


class Command(BaseCommand):
    help = (
        "Load the table of municipal debt help by postcode from a CSV file (replacing it), or "
        "show which debt help a postcode gets."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "load", help="check FILE and replace the table with it (nothing changes on an error)"
        )
        load.add_argument("file")
        show = sub.add_parser("show", help="the debt help for a postcode (3511 or 3511 AB)")
        show.add_argument("postcode", nargs="+")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _load(self, file, **options):
        try:
            parsed = debt_help_load(text=_read(file), source=file)
        except DebtHelpInvalid as invalid:
            for line in invalid.lines():
                self.stderr.write(line)
            raise CommandError(
                f"{file}: {len(invalid.problems)} problem(s); nothing loaded, the table is "
                "unchanged"
            ) from None
        municipalities = {a.municipality_code for a in parsed.areas if a.municipality_code}
        self.stdout.write(
            f"{file}: loaded {len(parsed.areas)} postcode ranges "
            f"({len(municipalities)} municipalities)"
        )
        for start, end in parsed.gaps:
            self.stderr.write(
                f"note: postcodes {start}-{end} have no row; the portal shows only Geldfit there"
            )

    def _show(self, postcode, **options):
        text = " ".join(postcode)
        if postcode_digits(text) is None:
            raise CommandError(f"{text!r}: expected a postcode like 3511 or 3511 AB")
        area = debt_help_for_postcode(text)
        if area is None:
            self.stdout.write(f"{text}: no row in the table ({DebtHelpArea.objects.count()} rows)")
            return
        kind = "region fallback" if is_fallback(area) else area.municipality_code
        self.stdout.write(f"{text}: {area.municipality} ({kind})")
        self.stdout.write(f"  {area.name}")
        for label, value in (("phone", area.phone), ("email", area.email), ("web", area.url)):
            if value:
                self.stdout.write(f"  {label}: {value}")
        self.stdout.write(f"  range: {area.postcode_from}-{area.postcode_to}")
