"""The ``vaarwater`` console command: every management command, without ``manage.py``.

vaarwater creditor create ENERGIE --name "Energie BV" --sector energy
vaarwater import debtors debtors.csv --creditor ENERGIE
vaarwater migrate
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaarwater.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "vaarwater"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
