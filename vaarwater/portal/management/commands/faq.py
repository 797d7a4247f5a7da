"""``vaarwater faq load|export|remove|reload-shipped``: a creditor's own portal FAQ.

vaarwater faq load faq.json --creditor ENERGIE [--language nl]
vaarwater faq export --creditor ENERGIE [--language en] [--output faq.en.json]
vaarwater faq remove --creditor ENERGIE --language nl
vaarwater faq reload-shipped
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vaarwater.core.events import Actor
from vaarwater.ledger.models import Creditor
from vaarwater.portal.faq import (
    LANGUAGES,
    FaqInvalid,
    faq_export,
    faq_load,
    faq_read,
    faq_remove,
    shipped_reload,
)


def _creditor(code: str) -> Creditor:
    creditor = Creditor.objects.filter(code=code.strip().upper()).first()
    if creditor is None:
        raise CommandError(f"--creditor {code}: no such creditor")
    return creditor


class Command(BaseCommand):
    help = "Load, export or remove a creditor's own FAQ for the portal and its chat (JSON)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="validate FILE and make it the creditor's FAQ")
        load.add_argument("file")
        load.add_argument("--creditor", required=True)
        load.add_argument(
            "--language", choices=LANGUAGES, default=None, help="the file's own, else nl"
        )
        export = sub.add_parser("export", help="print the FAQ the creditor's debtors see")
        export.add_argument("--creditor", required=True)
        export.add_argument("--language", choices=LANGUAGES, default="nl")
        export.add_argument("--output", default=None, help="write to this file (stdout)")
        remove = sub.add_parser("remove", help="drop the creditor's own FAQ: shipped again")
        remove.add_argument("--creditor", required=True)
        remove.add_argument("--language", choices=LANGUAGES, required=True)
        sub.add_parser("reload-shipped", help="store the shipped FAQ again (after an upgrade)")

    def handle(self, *args, action, **options):
        getattr(self, "_" + action.replace("-", "_"))(**options)

    def _load(self, file, creditor, language, **options):
        scope = _creditor(creditor)
        try:
            language, items = faq_read(file, language=language)
        except FaqInvalid as invalid:
            for line in invalid.lines():
                self.stderr.write(line)
            raise CommandError(
                f"{file}: {len(invalid.problems)} problem(s); nothing loaded"
            ) from None
        count = faq_load(
            creditor=scope,
            language=language,
            items=items,
            source=Path(file).name,
            actor=Actor.system("vaarwater faq load"),
        )
        self.stdout.write(
            f"loaded {count} question(s) for {scope.code} ({language}); they replace the "
            "shipped FAQ in that language"
        )

    def _export(self, creditor, language, output, **options):
        data = faq_export(_creditor(creditor), language)
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {len(data['entries'])} question(s) to {output}")
        else:
            self.stdout.write(text, ending="")

    def _remove(self, creditor, language, **options):
        scope = _creditor(creditor)
        removed = faq_remove(
            creditor=scope, language=language, actor=Actor.system("vaarwater faq remove")
        )
        self.stdout.write(
            f"removed {removed} question(s) of {scope.code} ({language}); "
            "its debtors see the shipped FAQ"
        )

    def _reload_shipped(self, **options):
        for language in LANGUAGES:
            self.stdout.write(f"shipped FAQ ({language}): {shipped_reload(language)} question(s)")
