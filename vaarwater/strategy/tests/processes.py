"""Helpers for tests that run the daily run in other processes and compare databases.

``snapshot`` reads what a run wrote through any DB-API cursor (``sqlite3`` on a CLI test's
file, or Django's own connection) and names every row by the debtor's external id instead
of by primary key, so two databases that did the same work compare equal even when their
ids differ (a rolled-back chunk uses up PostgreSQL sequence values).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

# A strategy that reaches every kind of write within a few weeks: messages, call tasks, the
# 14-day letter, costs and interest (ledger entries), a wait, a pause (a hold), a close and
# a hand-over (a file), with a challenger so that variants are drawn too.
STRATEGY = """
strategy: herstart
title: Herstarttest
settings:
  grace_days: 3
  payday_window_days: 0
  contact_caps: {per_day: 1, per_week: 5}
  handover_min_balance: "1"
segments:
  - name: klein
    label: Klein bedrag
    when: {balance_max: "120"}
    path: zacht
  - name: alle
    label: Alle klanten
    path: standaard
paths:
  standaard:
    - {step: message, channel: email, template: herinnering, day: 5, after: due_date}
    - {step: call_task, day: 2}
    - {step: fourteen_day_letter, channel: email, day: 2}
    - {step: charge_costs}
    - {step: start_interest}
    - {step: message, channel: best, template: aanmaning, purpose: demand, day: 2}
    - {step: hand_over, to: agency, party: Incassobureau, day: 3}
  zacht:
    - {step: message, channel: sms, template: herinnering, day: 4, after: due_date}
    - {step: offer_arrangement, day: 2}
    - {step: wait_reply, days: 4}
    - {step: pause, days: 5, reason: rustperiode}
    - {step: call_task, day: 1}
    - {step: close, reason: klaar}
challengers:
  - name: bellen-eerst
    label: Eerst bellen
    share: 30
    paths:
      standaard:
        - {step: call_task, day: 4, after: due_date}
        - {step: message, channel: sms, template: herinnering, day: 2}
        - {step: fourteen_day_letter, channel: letter, day: 2}
        - {step: charge_costs}
        - {step: start_interest}
        - {step: hand_over, to: agency, party: Incassobureau, day: 3}
"""
# The same without the challenger: variants are drawn from debtor ids, so two creditors with
# the same portfolio only decide alike when there is nothing to draw.
STRATEGY_NO_CHALLENGER = STRATEGY.split("challengers:")[0]

# Everything the daily run writes (DailyRun aside: every run adds its own row).
RUN_TABLES = (
    "strategy_case",
    "strategy_casetransition",
    "strategy_decision",
    "strategy_hold",
    "strategy_legalnotice",
    "strategy_costcharge",
    "strategy_municipalsignal",
    "strategy_handover",
    "strategy_strategyversion",
    "contact_message",
    "contact_calltask",
    "ledger_ledgerentry",
    "ledger_allocation",
    "ledger_payment",
    "ledger_invoice",
    "ledger_debtor",
    "ledger_contactpoint",
    "core_event",
)


# -- the real command ------------------------------------------------------------------------


def vaarwater_command() -> list[str]:
    """The installed ``vaarwater`` console script of this virtualenv."""
    script = Path(sys.executable).parent / "vaarwater"
    return [str(script)] if script.exists() else [sys.executable, "-m", "vaarwater.cli"]


def cli_environment(base: dict, database: Path, var_dir: Path) -> dict:
    """An environment for the CLI on a SQLite file, in-process (no broker), whatever the
    environment of the test run says."""
    env = dict(base)
    for name in (
        "VAARWATER_BROKER_URL",
        "VAARWATER_RESULT_BACKEND",
        "VAARWATER_TEST_DATABASE_NAME",
    ):
        env.pop(name, None)
    env["VAARWATER_DATABASE_URL"] = f"sqlite:///{database}"
    env["VAARWATER_VAR_DIR"] = str(var_dir)
    env["DJANGO_SETTINGS_MODULE"] = "vaarwater.settings"
    return env


def vaarwater(env: dict, *args: str, timeout: float = 300) -> str:
    """Run ``vaarwater ARGS`` to completion; fail with its output unless it exits 0."""
    done = subprocess.run(
        [*vaarwater_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"vaarwater {' '.join(args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done.stdout


def sqlite_path(env: dict) -> Path:
    return Path(env["VAARWATER_DATABASE_URL"].removeprefix("sqlite:///"))


def sqlite_open(path: Path) -> sqlite3.Connection:
    """A reader on a CLI test's database (autocommit: every query sees the latest commit)."""
    return sqlite3.connect(path, isolation_level=None, timeout=30)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently (WAL included) with the backup API."""
    src, dst = sqlite_open(source), sqlite_open(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


# -- comparing databases -------------------------------------------------------------------


def _v(value):
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return [tuple(_v(value) for value in row) for row in cursor.fetchall()]


KEY_RE = re.compile(r"^case-(\d+)-(.*)$")


def table_counts(cursor, tables=RUN_TABLES) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed table names
        counts[table] = cursor.fetchone()[0]
    return counts


def snapshot(cursor) -> dict[str, Counter | dict]:
    """What the daily run wrote, row by row, without primary keys or clock times.

    A case is named by (debtor external id, opened on); an idempotency key ``case-<id>-...``
    by the same, so two databases compare equal when they made the same messages.
    """
    cases = {
        pk: f"{ext}@{opened}"
        for pk, ext, opened in _rows(
            cursor,
            "SELECT c.id, d.external_id, c.opened_on FROM strategy_case c "
            "JOIN ledger_debtor d ON d.id = c.debtor_id",
        )
    }

    def case_rows(sql: str) -> Counter:
        """Rows whose first column is a case id, with the id replaced by the case's name."""
        return Counter((cases[row[0]], *row[1:]) for row in _rows(cursor, sql))

    def keyed(sql: str) -> Counter:
        out = Counter()
        for key, *rest in _rows(cursor, sql):
            match = KEY_RE.match(key)
            assert match, f"unexpected idempotency key {key!r}"
            out[(f"case-{cases[int(match.group(1))]}-{match.group(2)}", *rest)] += 1
        return out

    snap: dict[str, Counter | dict] = {
        "cases": case_rows(
            "SELECT id, status, closed_on, close_reason, variant, segment, path, anchor_due, "
            "step_index, last_step_on, last_decision_on, interest_from, interest_posted_until, "
            "waiting_since FROM strategy_case"
        ),
        "decisions": case_rows(
            "SELECT case_id, run_date, step_index, step_kind, channel, template, outcome, "
            "variant, segment, path FROM strategy_decision"
        ),
        "transitions": case_rows(
            "SELECT case_id, from_status, to_status, code, on_date FROM strategy_casetransition"
        ),
        "holds": case_rows(
            "SELECT case_id, kind, starts_on, until, released_on FROM strategy_hold"
        ),
        "notices": case_rows(
            "SELECT case_id, sent_on, channel, receipt_on, term_ends_on, principal_cents, "
            "costs_cents, vat_cents FROM strategy_legalnotice"
        ),
        "charges": case_rows("SELECT case_id, amount_cents, charged_on FROM strategy_costcharge"),
        "signals": case_rows(
            "SELECT case_id, created_on, arrears_cents FROM strategy_municipalsignal"
        ),
        "handovers": case_rows(
            'SELECT case_id, "to", party, handed_on, balance_cents FROM strategy_handover'
        ),
        "messages": keyed(
            "SELECT m.idempotency_key, d.external_id, m.channel, m.template, m.purpose, "
            "m.status FROM contact_message m JOIN ledger_debtor d ON d.id = m.debtor_id"
        ),
        "calls": keyed(
            "SELECT t.idempotency_key, d.external_id, t.priority, t.status "
            "FROM contact_calltask t JOIN ledger_debtor d ON d.id = t.debtor_id"
        ),
        "entries": Counter(
            _rows(
                cursor,
                "SELECT d.external_id, e.kind, e.component, e.amount_cents, e.booked_on, "
                "i.external_id FROM ledger_ledgerentry e "
                "JOIN ledger_debtor d ON d.id = e.debtor_id "
                "LEFT JOIN ledger_invoice i ON i.id = e.invoice_id",
            )
        ),
        "entry_totals": {
            kind: (count, total)
            for kind, count, total in _rows(
                cursor,
                "SELECT kind, COUNT(*), SUM(amount_cents) FROM ledger_ledgerentry GROUP BY kind",
            )
        },
        "allocations": Counter(
            _rows(
                cursor,
                "SELECT d.external_id, a.component, a.amount_cents, i.external_id "
                "FROM ledger_allocation a JOIN ledger_debtor d ON d.id = a.debtor_id "
                "LEFT JOIN ledger_invoice i ON i.id = a.invoice_id",
            )
        ),
        "events": Counter(
            _rows(
                cursor,
                "SELECT e.verb, d.external_id, e.occurred_on, e.actor_label FROM core_event e "
                "LEFT JOIN ledger_debtor d ON d.id = e.debtor_id",
            )
        ),
    }
    return snap


def duplicates(snap: dict) -> dict[str, list]:
    """Rows that occur more than once where the run must write them once."""
    found = {}
    once_per_day = Counter((row[0], row[1]) for row in snap["decisions"].elements())
    found["decisions per case and day"] = [k for k, n in once_per_day.items() if n > 1]
    for name in ("messages", "calls", "charges", "notices", "handovers", "signals"):
        found[name] = [row for row, n in snap[name].items() if n > 1]
    costs = Counter((row[0], row[4]) for row in snap["entries"].elements() if row[1] == "cost")
    found["cost entries per debtor and day"] = [k for k, n in costs.items() if n > 1]
    decided = sum(n for row, n in snap["events"].items() if row[0] == "decision.made")
    if decided != sum(snap["decisions"].values()):
        found["decision events"] = [decided, sum(snap["decisions"].values())]
    return {name: rows for name, rows in found.items() if rows}


def difference(left: dict, right: dict) -> dict[str, tuple]:
    """Per part of two snapshots: (only in left, only in right), for the parts that differ."""
    out = {}
    for name in left.keys() | right.keys():
        a, b = left.get(name), right.get(name)
        if a == b:
            continue
        if isinstance(a, Counter) and isinstance(b, Counter):
            out[name] = (sorted((a - b).items())[:10], sorted((b - a).items())[:10])
        else:
            out[name] = (a, b)
    return out


def kill_group(proc: subprocess.Popen, sig) -> None:
    """Signal a process started with ``start_new_session=True`` and its children."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
