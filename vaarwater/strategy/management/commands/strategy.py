"""``vaarwater strategy load|check|list|show``: the creditor's versioned strategy documents."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor
from vaarwater.strategy.documents import (
    current_version,
    open_cases_on_other_versions,
    strategy_load,
)
from vaarwater.strategy.models import StrategyVersion
from vaarwater.strategy.schema import StrategyInvalid, document_parse


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _creditor(code: str) -> Creditor:
    creditor = Creditor.objects.filter(code=code.strip().upper()).first()
    if creditor is None:
        raise CommandError(f"--creditor {code}: no such creditor")
    return creditor


class Command(BaseCommand):
    help = "Load, check, list and show strategy documents (YAML, one per version)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="validate FILE and store it as a new version")
        load.add_argument("file")
        load.add_argument("--creditor", required=True)
        load.add_argument("--from", dest="valid_from", default=None, help="YYYY-MM-DD (today)")
        check = sub.add_parser("check", help="validate FILE without storing it")
        check.add_argument("file")
        listing = sub.add_parser("list", help="the versions of a creditor")
        listing.add_argument("--creditor", required=True)
        show = sub.add_parser("show", help="print the YAML of a version")
        show.add_argument("--creditor", required=True)
        show.add_argument("--version", type=int, default=None, help="number (current)")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _fail(self, invalid: StrategyInvalid):
        for line in invalid.lines():
            self.stderr.write(line)
        raise CommandError(f"{invalid.source}: {len(invalid.problems)} problem(s); nothing stored")

    def _check(self, file, **options):
        try:
            doc = document_parse(_read(file), source=file)
        except StrategyInvalid as invalid:
            self._fail(invalid)
        steps = sum(len(steps) for steps in doc.paths.values())
        self.stdout.write(
            f"{file}: valid: strategy {doc.strategy}, {len(doc.segments)} segments, "
            f"{len(doc.paths)} paths with {steps} steps, {len(doc.challengers)} challenger(s)"
        )

    def _load(self, file, creditor, valid_from, **options):
        scope = _creditor(creditor)
        if valid_from:
            try:
                start = date.fromisoformat(valid_from)
            except ValueError:
                raise CommandError(f"--from {valid_from!r}: expected YYYY-MM-DD") from None
        else:
            start = date.today()
        try:
            version = strategy_load(
                creditor=scope,
                text=_read(file),
                source=file,
                valid_from=start,
                actor=Actor.system("vaarwater strategy load"),
            )
        except StrategyInvalid as invalid:
            self._fail(invalid)
        self.stdout.write(
            f"stored {scope.code} strategy {version.label} ({version.title}); it applies to "
            f"cases opened from {version.valid_from.isoformat()}"
        )
        others = open_cases_on_other_versions(version)
        for label, count in sorted(others.items()):
            self.stdout.write(f"  {count:,} open case(s) stay on {label} until they close")

    def _list(self, creditor, **options):
        scope = _creditor(creditor)
        current = current_version(scope, date.today())
        for version in StrategyVersion.objects.filter(creditor=scope).order_by("number"):
            mark = "*" if version.pk == current.pk else " "
            origin = "shipped" if version.shipped else version.source_name
            self.stdout.write(
                f"{mark} v{version.number:<3} {version.name:<16} from "
                f"{version.valid_from.isoformat()}  {origin}  ({version.title})"
            )

    def _show(self, creditor, version, **options):
        scope = _creditor(creditor)
        if version is None:
            found = current_version(scope, date.today())
        else:
            found = StrategyVersion.objects.filter(creditor=scope, number=version).first()
            if found is None:
                raise CommandError(f"{scope.code} has no strategy version {version}")
        self.stdout.write(found.source_text)
