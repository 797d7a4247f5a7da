"""Running a day again, or again after a crash halfway, does nothing twice; and ``--dry-run``.

The subprocess tests drive the real ``vaarwater`` command on a SQLite file built from a
generated portfolio; one of them kills ``vaarwater run-day`` with SIGKILL halfway. The
in-process tests crash the run between chunks and inside a chunk's transaction.
"""

import csv
import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction

from vaarwater.core.models import Event
from vaarwater.ledger.services import payment_book
from vaarwater.strategy import run as run_module
from vaarwater.strategy.models import Case, DailyRun, Decision, Outcome
from vaarwater.strategy.run import DETAIL_HEADER, daily_run
from vaarwater.strategy.tests.processes import (
    RUN_TABLES,
    STRATEGY,
    STRATEGY_NO_CHALLENGER,
    cli_environment,
    difference,
    duplicates,
    snapshot,
    sqlite_copy,
    sqlite_open,
    sqlite_path,
    table_counts,
    vaarwater,
    vaarwater_command,
)

# -- a generated portfolio, built once per module with the real command -----------------------

AS_OF = "2026-11-02"
PREP_FROM, PREP_UNTIL = date(2026, 11, 3), date(2026, 11, 23)  # every other day
DAY = date(2026, 11, 25)  # costs, letters, calls, pauses, closes and payments: a busy day
DEBTORS = 1500
CLI_CHUNK = 25
PREP = f"""
from datetime import date, timedelta
from vaarwater.strategy.run import daily_run
day = date.fromisoformat("{PREP_FROM}")
while day <= date.fromisoformat("{PREP_UNTIL}"):
    daily_run(run_date=day)
    day += timedelta(days=2)
"""


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    """A SQLite database made with ``vaarwater``: a creditor with the test strategy, a
    generated portfolio, eleven days of runs and payments for some cases, ready for ``DAY``."""
    root = tmp_path_factory.mktemp("portfolio")
    env = cli_environment(os.environ, root / "portfolio.sqlite3", root / "var")
    vaarwater(env, "migrate", "-v0")
    vaarwater(env, "creditor", "create", "ENERGIE", "--name", "Energie BV", "--sector", "energy")
    (root / "strategy.yaml").write_text(STRATEGY, encoding="utf-8")
    vaarwater(
        env, "strategy", "load", str(root / "strategy.yaml"), "--creditor", "ENERGIE",
        "--from", "2026-01-01",
    )  # fmt: skip
    out = root / "csv"
    vaarwater(
        env, "generate", "--debtors", str(DEBTORS), "--seed", "7", "--as-of", AS_OF,
        "--out", str(out),
    )  # fmt: skip
    for kind in ("debtors", "invoices", "payments"):
        vaarwater(env, "import", kind, str(out / f"{kind}.csv"), "--creditor", "ENERGIE")
    vaarwater(env, "shell", "-c", PREP)
    # The day before DAY some debtors with a case pay everything, some a little.
    db = sqlite_open(sqlite_path(env))
    active = [
        row[0]
        for row in db.execute(
            "SELECT d.external_id FROM strategy_case c JOIN ledger_debtor d ON d.id = c.debtor_id"
            " WHERE c.status != 'closed' ORDER BY d.external_id"
        )
    ]
    db.close()
    assert len(active) > 100, f"expected many open cases after the preparation, not {len(active)}"
    with (out / "extra.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["external_id", "debtor_external_id", "date", "amount", "reference"])
        paid = str(DAY - timedelta(days=1))
        for n, ext in enumerate(active[:60:3]):
            writer.writerow([f"EXTRA-{n}", ext, paid, "5000,00" if n % 2 else "7,50", ""])
    vaarwater(env, "import", "payments", str(out / "extra.csv"), "--creditor", "ENERGIE")
    return sqlite_path(env)


def database(portfolio: Path, cli_env: dict, tmp_path: Path, name: str) -> dict:
    """A copy of the portfolio with an environment of its own (database and VAR_DIR)."""
    env = cli_environment(cli_env, tmp_path / f"{name}.sqlite3", tmp_path / f"var-{name}")
    sqlite_copy(portfolio, sqlite_path(env))
    return env


def db_snapshot(env: dict) -> dict:
    db = sqlite_open(sqlite_path(env))
    try:
        return snapshot(db.cursor())
    finally:
        db.close()


def db_counts(env: dict, tables=RUN_TABLES) -> dict:
    db = sqlite_open(sqlite_path(env))
    try:
        if tables is None:
            tables = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
        return table_counts(db.cursor(), tables)
    finally:
        db.close()


def scalar(env: dict, sql: str, *params):
    db = sqlite_open(sqlite_path(env))
    try:
        return db.execute(sql, params).fetchone()
    finally:
        db.close()


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# -- a real kill --------------------------------------------------------------------------------


@pytest.mark.slow
def test_run_killed_halfway_and_started_again_does_nothing_twice(portfolio, cli_env, tmp_path):
    """SIGKILL ``vaarwater run-day`` after a chunk committed; run it again: the database ends
    up exactly as after one uninterrupted run of the day."""
    reference = database(portfolio, cli_env, tmp_path, "reference")
    killed = database(portfolio, cli_env, tmp_path, "killed")
    day = DAY.isoformat()
    decided_sql = "SELECT COUNT(*) FROM strategy_decision WHERE run_date = ?"

    vaarwater(reference, "run-day", "--date", day, "--chunk-size", str(CLI_CHUNK))
    expected = db_snapshot(reference)
    assert duplicates(expected) == {}
    total = scalar(reference, decided_sql, day)[0]
    chunks = scalar(reference, "SELECT chunks FROM strategy_dailyrun WHERE run_date = ?", day)[0]
    assert chunks >= 10 and total > 200, (chunks, total)
    kinds = {row[3] for row in expected["decisions"] if row[1] == day}
    assert {"charge_costs", "fourteen_day_letter", "call_task", "pause"} <= kinds, kinds

    log = (tmp_path / "killed.out").open("w")
    proc = subprocess.Popen(
        [*vaarwater_command(), "run-day", "--date", day, "--chunk-size", str(CLI_CHUNK)],
        env=killed,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    watch = sqlite_open(sqlite_path(killed))
    progress = None
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            progress = watch.execute(
                "SELECT chunks, chunks_done, finished_at FROM strategy_dailyrun "
                "WHERE run_date = ? ORDER BY id DESC LIMIT 1",
                (day,),
            ).fetchone()
            if progress and progress[1] >= 1:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL, (
        f"run-day was not killed halfway (exit {proc.returncode}, last progress {progress}):\n"
        + (tmp_path / "killed.out").read_text()
    )
    chunks_total, done, finished = watch.execute(
        "SELECT chunks, chunks_done, finished_at FROM strategy_dailyrun WHERE run_date = ?",
        (day,),
    ).fetchone()
    halfway = watch.execute(decided_sql, (day,)).fetchone()[0]
    watch.close()
    assert finished is None and 1 <= done < chunks_total == chunks
    assert 0 < halfway < total, f"{halfway} of {total} decisions before the kill"

    out = vaarwater(killed, "run-day", "--date", day, "--chunk-size", str(CLI_CHUNK))
    assert out.startswith(f"run-day {day}:"), out

    after = db_snapshot(killed)
    assert duplicates(after) == {}
    assert difference(after, expected) == {}
    assert db_counts(killed) == db_counts(reference)
    assert scalar(killed, decided_sql, day)[0] == total
    # The killed run stays unfinished; the restart finished every chunk it had (fewer than
    # the first: the debtors whose cases the first chunks closed as paid are not looked at).
    runs = scalar(
        killed,
        "SELECT COUNT(*), COUNT(finished_at), SUM(chunks_done = chunks AND finished_at IS NOT "
        "NULL) FROM strategy_dailyrun WHERE run_date = ?",
        day,
    )
    assert runs == (2, 1, 1)
    assert files_under(tmp_path / "var-killed" / "handover") == files_under(
        tmp_path / "var-reference" / "handover"
    )


# -- in-process: crashes between chunks and inside one -----------------------------------------

CHUNK = 4
DAYS = [date(2026, 10, 5) + timedelta(days=2 * n) for n in range(24)]  # to 20 November


class Crash(Exception):
    pass


@pytest.fixture
def portfolio_in_db(load_strategy, make_debtor, settings, tmp_path):
    """Forty-eight debtors with different amounts, due dates, invoices and contact points."""
    settings.VAR_DIR = tmp_path / "var"
    # Without the challenger: variants are drawn from debtor ids, which on PostgreSQL depend
    # on the tests that ran before; this way every run of the test decides the same.
    load_strategy(STRATEGY_NO_CHALLENGER)
    debtors = []
    for n in range(48):
        debtors.append(
            make_debtor(
                amount=(2500, 4500, 25000, 60000)[n % 4],
                due=date(2026, 10, 1) + timedelta(days=(n * 3) % 17),
                email=n % 5 != 0,
                phone=None if n % 7 == 0 else ("+31612345678" if n % 3 else "+31201234567"),
                street="" if n % 11 == 0 else "Dorpsstraat",
                invoices=1 + n % 3,
            )
        )
    return debtors


def pay_some(debtors, day: date):
    """On a few days some debtors pay: in full (the case closes) or a little."""
    if day.toordinal() % 3:
        return
    for n, debtor in enumerate(debtors[day.day % 5 :: 9]):
        payment_book(
            debtor=debtor,
            external_id=f"P-{day}-{debtor.pk}",
            date=day - timedelta(days=1),
            amount_cents=200000 if n % 2 else 700,
        )


def current() -> dict:
    with connection.cursor() as cursor:
        return snapshot(cursor)


def counts_now() -> dict:
    with connection.cursor() as cursor:
        return table_counts(cursor)


def reference_run(day: date) -> dict:
    """What one uninterrupted run of the day writes; rolled back again."""
    point = transaction.savepoint()
    try:
        daily_run(run_date=day, chunk_size=CHUNK)
        return current()
    finally:
        transaction.savepoint_rollback(point)


@pytest.mark.parametrize("where", ["between chunks", "inside a chunk"])
def test_run_crashed_halfway_and_started_again_does_nothing_twice(
    portfolio_in_db, monkeypatch, where
):
    """Every day for seven weeks the run crashes after two chunks (or while writing the
    third); started again, it leaves what one uninterrupted run would have."""
    done = {"chunks": 0}
    real_insert = run_module.instances_insert

    def after_chunk(number, total):
        done["chunks"] = number
        if where == "between chunks" and number == 2:
            raise Crash(f"killed after chunk {number} of {total}")

    def instances_insert(model, objs):
        # Events come after a chunk's holds, messages, call tasks and decisions (and the new
        # cases): all of those are written by then and must be rolled back.
        if model is Event and done["chunks"] == 2:
            raise Crash("killed while writing chunk 3")
        return real_insert(model, objs)

    if where == "inside a chunk":
        monkeypatch.setattr(run_module, "instances_insert", instances_insert)
    crashed_days = 0
    for day in DAYS:
        pay_some(portfolio_in_db, day)
        expected = reference_run(day)
        done["chunks"] = 0
        try:
            daily_run(run_date=day, chunk_size=CHUNK, after_chunk=after_chunk)
        except Crash:
            crashed_days += 1
            run = DailyRun.objects.filter(run_date=day).get()
            assert run.finished_at is None and run.chunks_done == 2 < run.chunks
        else:
            assert DailyRun.objects.get(run_date=day).chunks <= 2
        done["chunks"] = -1
        daily_run(run_date=day, chunk_size=CHUNK)
        after = current()
        assert duplicates(after) == {}, day
        assert difference(after, expected) == {}, day
    assert crashed_days >= 20
    kinds = set(Decision.objects.values_list("step_kind", flat=True))
    assert {"charge_costs", "start_interest", "pause", "hand_over", "close"} <= kinds, kinds


# -- the same day twice ---------------------------------------------------------------------


QUIET = ("waiting", "held, skipped", "still deferred", "at the end", "contact waits", "letter")


def test_running_the_same_day_again_changes_nothing(portfolio_in_db):
    """Run every other day twice: the second run writes nothing; the next day goes on."""
    before = None
    for day in DAYS:
        pay_some(portfolio_in_db, day)
        daily_run(run_date=day, chunk_size=CHUNK)
        snap, counts = current(), counts_now()
        if before is not None:
            assert snap != before, f"{day}: the next day did nothing"
            assert (
                Decision.objects.filter(run_date=day).exists()
                or Case.objects.filter(closed_on=day).exists()
            ), day
        again = daily_run(run_date=day, chunk_size=CHUNK)
        assert counts_now() == counts, day
        assert difference(current(), snap) == {}, day
        assert all(key.startswith(QUIET) for key in again.counts), (day, dict(again.counts))
        before = snap
    assert DailyRun.objects.count() == 2 * len(DAYS)
    assert DailyRun.objects.filter(finished_at__isnull=True).count() == 0


# -- the dry run --------------------------------------------------------------------------------

SUMMARY_LINE = re.compile(r"^  (?P<key>\S.*?)\s+(?P<count>[\d,]+)$")


def summary(out: str) -> Counter:
    counts = Counter()
    for line in out.splitlines():
        if match := SUMMARY_LINE.match(line):
            counts[match["key"]] = int(match["count"].replace(",", ""))
    return counts


@pytest.mark.slow
def test_dry_run_prints_a_summary_writes_csv_and_saves_nothing(portfolio, cli_env, tmp_path):
    env = database(portfolio, cli_env, tmp_path, "dry")
    day = DAY.isoformat()
    counts, snap = db_counts(env, tables=None), db_snapshot(env)

    out = vaarwater(env, "run-day", "--date", day, "--dry-run", "--chunk-size", "100")
    lines = out.splitlines()
    assert lines[0].startswith(f"run-day {day} (dry run: nothing was saved): ")
    assert re.search(r"[\d,]+ debtors looked at in \d+ chunk\(s\)", lines[0]), lines[0]
    detail = tmp_path / "var-dry" / "runs" / f"dry-run-{day}.csv"
    assert lines[-1] == f"detail: {detail}"
    predicted = summary(out)
    for key in (
        "done: call_task phone",  # per step and channel
        "done: fourteen_day_letter email",
        "done: charge_costs",
        "done: pause",
        "cases closed (paid)",
        "holds ended",
    ):
        assert predicted[key] > 0, (key, out)

    assert db_counts(env, tables=None) == counts
    assert difference(db_snapshot(env), snap) == {}
    assert scalar(env, "SELECT COUNT(*) FROM strategy_dailyrun WHERE run_date = ?", day)[0] == 0

    with detail.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == DETAIL_HEADER
    rows = [dict(zip(DETAIL_HEADER, row, strict=True)) for row in rows[1:]]
    assert rows and all(row["run_date"] == day for row in rows)

    # The real run afterwards does exactly what the dry run said.
    real = vaarwater(env, "run-day", "--date", day, "--chunk-size", "100")
    assert summary(real) == predicted
    db = sqlite_open(sqlite_path(env))
    decided = Counter(
        db.execute(
            "SELECT d.external_id, x.step_kind, x.channel, x.outcome FROM strategy_decision x "
            "JOIN ledger_debtor d ON d.id = x.debtor_id WHERE x.run_date = ?",
            (day,),
        ).fetchall()
    )
    opened = db.execute("SELECT COUNT(*) FROM strategy_case WHERE opened_on = ?", (day,))
    opened = opened.fetchone()[0]
    closed = db.execute("SELECT COUNT(*) FROM strategy_case WHERE closed_on = ?", (day,))
    closed = closed.fetchone()[0]
    db.close()
    # Besides one row per decision the detail has a row per case opened ("open", "done")
    # and per case closed ("close" with the close reason as outcome; a ``close`` step's own
    # decision is "close" with outcome "done").
    opens = [row for row in rows if row["step"] == "open"]
    closes = [
        row for row in rows if row["step"] == "close" and row["outcome"] not in Outcome.values
    ]
    steps = [row for row in rows if row not in opens and row not in closes]
    assert len(steps) == sum(decided.values()) > 0
    assert Counter((r["debtor"], r["step"], r["channel"], r["outcome"]) for r in steps) == decided
    assert len(opens) == opened
    assert len(closes) == closed > 0
