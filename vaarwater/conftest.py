"""Shared test fixtures, and the rules for the PostgreSQL pass.

The suite runs on the database named by ``VAARWATER_DATABASE_URL`` (SQLite by default).
``make test`` runs it a second time with that set to ``VAARWATER_TEST_DATABASE_URL``.
Tests marked ``postgres`` need PostgreSQL: they are left out of a SQLite run and, in the
PostgreSQL run, fail (never skip) when the server cannot be reached.
"""

import csv
import os
from pathlib import Path

import pytest
from django.conf import settings

from vaarwater.ledger.formats import DEBTOR_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    where = db["ENGINE"].rsplit(".", 1)[-1]
    extra = "" if _on_postgres() else " (tests marked postgres run in the PostgreSQL pass)"
    return f"vaarwater database: {where} {db.get('HOST') or ''}{extra}"


@pytest.fixture(autouse=True)
def _postgres_must_connect(request):
    """In the PostgreSQL pass, a postgres test whose server is unreachable fails."""
    if request.node.get_closest_marker("postgres") and not _on_postgres():
        pytest.fail("a postgres test ran without PostgreSQL; set VAARWATER_DATABASE_URL")


@pytest.fixture
def creditor(db):
    from vaarwater.ledger.services import creditor_create

    return creditor_create(code="ENERGIE", name="Energie Noord BV", sector="energy")


@pytest.fixture
def other_creditor(db):
    from vaarwater.ledger.services import creditor_create

    return creditor_create(code="WONEN", name="Woonstichting Zuid", sector="housing")


@pytest.fixture
def write_csv(tmp_path):
    """Write rows (header first) to a CSV file and return its path."""

    def write(name: str, rows, *, delimiter=";", encoding="utf-8", raw: bytes | None = None):
        path = tmp_path / name
        if raw is not None:
            path.write_bytes(raw)
            return path
        with path.open("w", encoding=encoding, newline="") as handle:
            csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
        return path

    return write


DEBTOR_HEADER = list(DEBTOR_COLUMNS)
INVOICE_HEADER = list(INVOICE_COLUMNS)
PAYMENT_HEADER = list(PAYMENT_COLUMNS)


def debtor_row(ext="D1", **over):
    row = {
        "external_id": ext,
        "name": "Jan de Vries",
        "street": "Dorpsstraat",
        "house_number": "12",
        "postcode": "1234 AB",
        "city": "Utrecht",
        "email": "jan@example.nl",
        "phone": "06-12345678",
        "iban": "NL91ABNA0417164300",
        "payday_day": "25",
        "language": "nl",
    }
    row.update(over)
    return [row[c] for c in DEBTOR_HEADER]


def invoice_row(ext="F1", debtor="D1", **over):
    row = {
        "external_id": ext,
        "debtor_external_id": debtor,
        "contract_external_id": "C1",
        "issue_date": "2026-09-01",
        "due_date": "2026-09-15",
        "amount": "120,50",
        "description": "Termijnbedrag september",
    }
    row.update(over)
    return [row[c] for c in INVOICE_HEADER]


def payment_row(ext="P1", debtor="D1", **over):
    row = {
        "external_id": ext,
        "debtor_external_id": debtor,
        "date": "2026-09-20",
        "amount": "50,00",
        "reference": "",
    }
    row.update(over)
    return [row[c] for c in PAYMENT_HEADER]


@pytest.fixture
def cli_env(tmp_path):
    """Environment for running the real ``vaarwater`` command against a fresh SQLite file."""
    env = dict(os.environ)
    env["VAARWATER_DATABASE_URL"] = f"sqlite:///{Path(tmp_path) / 'cli.sqlite3'}"
    env["VAARWATER_VAR_DIR"] = str(tmp_path / "var")
    return env


@pytest.fixture
def english(client):
    """Run a test in English: the test client's language cookie and the active language.

    The interface is Dutch first; tests that check an English wording (an error message, a
    label) ask for English explicitly, as a debtor pressing "English" would."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin client, past the second factor the admin asks for (django-otp)."""
    from vaarwater.testing import login_verified

    login_verified(client, admin_user)
    return client
