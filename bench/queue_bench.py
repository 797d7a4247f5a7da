"""Call queue and supervisor view benchmark: ``make bench`` / ``python -m bench.queue_bench``.

One creditor (sector energy, on its shipped strategy) with 50,000 debtors (``--debtors``), each
with a phone number, one open invoice, an open case and an open call task of the strategy
(``contact.CallTask``, kind ``strategy``) whose window started an hour before the bench moment.
A third of the tasks have a history of about two earlier calls (``workspace.CallAttempt``: 1 to
3, over the last 30 days and this morning, by 20 agents, mixed outcomes; the task's attempt
count, last attempt and next allowed attempt set as ``queue.attempt_finished`` would). The
data is seeded, so every run loads the same rows.

For every database (SQLite, and PostgreSQL when reachable) the bench process makes a fresh
database, migrates it and loads the data with bulk inserts (not timed; on PostgreSQL followed
by ``ANALYZE``, what autovacuum would do), then times, in a child process, at a fixed allowed
moment (Tuesday 24 November 2026, 10:00 Europe/Amsterdam, passed as ``now=``):

1. **queue**: ``workspace.queue.call_queue(agent, now=..., creditor=...)``, the median of 5
   runs, and its number of queries (``CaptureQueriesContext``, one more run);
2. **takes**: ``queue.queue_next`` 200 times in a row (the 20 agents in turn, 30 seconds apart),
   each call then finished with ``calls.call_outcome_record`` (a fixed mix of outcomes) so the
   next take gets another task; takes per second count the ``queue_next`` calls alone;
3. **supervisor**: ``workspace.supervision.supervision_overview(creditor, period=..., now=...)``
   for today, 7d and 30d (after the takes, so today has their calls too): the median of 5
   runs and the number of queries.

Results are kept in ``var/bench/queue-results.json`` and written into the "Call queue and
supervisor view" section of ``docs/performance.md`` (between its own markers).

Only databases whose name starts with ``vaarwater_bench`` are ever dropped or created.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from . import harness
from .import_bench import log

ROOT = harness.ROOT
CREDITOR = "BENCHQ"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/vaarwater_bench_queue"
SEED = 20261124
TZ = ZoneInfo("Europe/Amsterdam")
# A Tuesday morning: an allowed moment for calls (contact hours, no Sunday or holiday).
MOMENT = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
PERIODS = ("today", "7d", "30d")
# The outcomes the takes are finished with, in turn.
TAKE_OUTCOMES = (
    "no_answer",
    "right_party",
    "voicemail",
    "no_answer",
    "reached",
    "right_party",
    "no_answer",
    "wrong_number",
)
# The history: earlier calls of a task, and its last one (the task is still open, so the
# customer was not spoken to then).
HISTORY_OUTCOMES = (
    ("no_answer", 35),
    ("voicemail", 20),
    ("right_party", 20),
    ("reached", 15),
    ("wrong_number", 10),
)
LAST_OUTCOMES = (("no_answer", 50), ("voicemail", 30), ("reached", 20))
# The queue page's reasons why an open task waits (``queue.WAIT_WORDS``), short.
WAITING = {
    "hours": "outside the contact hours",
    "week": "weekly maximum reached",
    "spread": "called recently (spread)",
    "later": "window not started",
    "claimed": "open with a colleague",
    "busy": "a colleague is calling the customer",
    "assigned": "assigned to a colleague",
    "hold": "case paused",
    "no_phone": "no valid phone number",
    "exhausted": "all attempts used",
    "released": "given back a moment ago",
}
BEGIN = "<!-- bench:queue:begin (written by python -m bench.queue_bench) -->"
END = "<!-- bench:queue:end -->"


# --------------------------------------------------------------------------- the child


def _draw(rng: random.Random, weighted) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights)[0]


def _history_moments(rng: random.Random, count: int) -> list[datetime]:
    """``count`` moments of earlier calls: the last one this morning for one task in ten,
    the others on Monday to Saturday of the last 29 days, between 08:00 and 20:00."""
    moments = set()
    today_last = rng.random() < 0.1
    while len(moments) < count - (1 if today_last else 0):
        day = MOMENT.date() - timedelta(days=rng.randrange(1, 30))
        if day.weekday() == 6:
            continue
        minute = rng.randrange(8 * 60, 19 * 60 + 50)
        moments.add(datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=TZ))
    ordered = sorted(moments)
    if today_last:
        ordered.append(MOMENT - timedelta(minutes=rng.randrange(5, 120)))
    return ordered


def load(debtors: int, agents: int) -> dict:
    """Creditor, strategy, agents, debtors with phone and invoice, cases, call tasks and the
    call history, in bulk (not timed). Returns the counts."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from vaarwater.contact.learning import band_of
    from vaarwater.contact.models import CallTask, CallTaskKind, CallTaskStatus
    from vaarwater.ledger.models import (
        Component,
        ContactKind,
        ContactPoint,
        ContactSource,
        CreditorMembership,
        Debtor,
        EntryKind,
        Invoice,
        LedgerEntry,
        Role,
    )
    from vaarwater.ledger.services import creditor_create
    from vaarwater.strategy.documents import current_version, version_strategy
    from vaarwater.strategy.models import Case
    from vaarwater.workspace.models import CallAttempt
    from vaarwater.workspace.queue import next_try_at

    rng = random.Random(SEED)
    batch = 2000
    creditor = creditor_create(code=CREDITOR, name="Bench Belwachtrij BV", sector="energy")
    version = current_version(creditor, MOMENT.date())  # the shipped energy strategy
    settings = version_strategy(version).settings
    password = make_password(None)
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(
                username=f"agent{n:02d}",
                first_name="Agent",
                last_name=f"{n:02d}",
                password=password,
            )
            for n in range(1, agents + 1)
        ]
    )
    CreditorMembership.objects.bulk_create(
        [CreditorMembership(user=user, creditor=creditor, role=Role.AGENT) for user in users]
    )
    people = Debtor.objects.bulk_create(
        [
            Debtor(creditor=creditor, external_id=str(300000 + i), name=f"Klant {i}")
            for i in range(debtors)
        ],
        batch_size=batch,
    )
    phones = [f"+316{10000000 + i}" for i in range(debtors)]
    ContactPoint.objects.bulk_create(
        [
            ContactPoint(debtor=d, kind=ContactKind.PHONE, value=phone, source=ContactSource.IMPORT)
            for d, phone in zip(people, phones, strict=True)
        ],
        batch_size=batch,
    )
    issued = MOMENT.date() - timedelta(days=60)
    invoices = Invoice.objects.bulk_create(
        [
            Invoice(
                creditor=creditor,
                debtor=d,
                external_id=f"Q{2026000000 + i}",
                issue_date=issued,
                due_date=issued + timedelta(days=14),
                amount_cents=rng.randrange(1500, 60000),
            )
            for i, d in enumerate(people)
        ],
        batch_size=batch,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                creditor=creditor,
                debtor_id=invoice.debtor_id,
                kind=EntryKind.INVOICE,
                component=Component.PRINCIPAL,
                amount_cents=invoice.amount_cents,
                booked_on=invoice.issue_date,
                invoice=invoice,
            )
            for invoice in invoices
        ],
        batch_size=batch,
    )
    opened = issued + timedelta(days=17)
    cases = Case.objects.bulk_create(
        [
            Case(
                creditor=creditor,
                debtor=d,
                opened_on=opened,
                strategy_version=version,
                variant_draw=Decimal(rng.randrange(0, 1_000_000)) / 10_000,
                segment="overig",
                path="standaard",
                anchor_due=issued + timedelta(days=14),
                step_index=3,
                last_step_on=MOMENT.date() - timedelta(days=1),
            )
            for d in people
        ],
        batch_size=batch,
    )
    start = MOMENT - timedelta(hours=1)
    tasks = [
        CallTask(
            creditor=creditor,
            debtor=d,
            case=case,
            window_start=start,
            window_end=start + timedelta(hours=8),
            priority=rng.choice((50, 60, 70)),
            kind=CallTaskKind.STRATEGY,
            reason="bellen (strategie)",
            status=CallTaskStatus.OPEN,
            idempotency_key=f"bench-call-{case.pk}",
        )
        for d, case in zip(people, cases, strict=True)
    ]
    # The history of a third of the tasks: about two calls each.
    attempts = []
    for i, (task, phone) in enumerate(zip(tasks, phones, strict=True)):
        if i % 3:
            continue
        moments = _history_moments(rng, rng.choice((1, 2, 2, 3)))
        for n, started in enumerate(moments):
            last = n == len(moments) - 1
            outcome = _draw(rng, LAST_OUTCOMES if last else HISTORY_OUTCOMES)
            ended = started + timedelta(seconds=rng.randrange(20, 420))
            attempts.append(
                CallAttempt(
                    creditor=creditor,
                    debtor_id=task.debtor_id,
                    case_id=task.case_id,
                    task=task,
                    agent=rng.choice(users),
                    started_at=started,
                    ended_at=ended,
                    band=band_of(started),
                    phone=phone,
                    outcome=outcome,
                )
            )
            if last:
                task.attempts = len(moments)
                task.last_attempt_at = ended
                task.next_attempt_at = next_try_at(
                    started=started, ended=ended, outcome=outcome, settings=settings
                )
    CallTask.objects.bulk_create(tasks, batch_size=batch)
    for attempt in attempts:
        attempt.task_id = attempt.task.pk
    CallAttempt.objects.bulk_create(attempts, batch_size=batch)
    return {
        "debtors": debtors,
        "tasks": len(tasks),
        "with_history": sum(1 for t in tasks if t.attempts),
        "history_attempts": len(attempts),
        "history_today": sum(1 for a in attempts if a.started_at.date() == MOMENT.date()),
        "history_outcomes": dict(Counter(a.outcome for a in attempts)),
        "agents": agents,
        "strategy": version.label,
    }


def _analyze() -> None:
    """ANALYZE a PostgreSQL database after the bulk load (autovacuum may be off here)."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    autocommit = raw.autocommit
    raw.autocommit = True
    try:
        raw.execute("ANALYZE")
    finally:
        raw.autocommit = autocommit


def _timed(func, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        out.append(time.perf_counter() - t0)
    return out


def child(opts) -> dict:
    """Runs in its own process, on the database named by VAARWATER_DATABASE_URL."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from vaarwater.ledger.models import Creditor
    from vaarwater.workspace import calls, queue, supervision

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    counts = load(opts.debtors, opts.agents)
    if connection.vendor == "postgresql":
        _analyze()
    result: dict = {
        "database": connection.vendor,
        "prepare_seconds": round(time.perf_counter() - started, 1),
        "data": counts,
    }
    creditor = Creditor.objects.get(code=CREDITOR)
    agents = list(get_user_model().objects.filter(username__startswith="agent").order_by("pk"))
    agent = agents[0]

    # Other work on the machine shows here (the report gives it).
    load_before = os.getloadavg()[0]

    # 1. The queue.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        items = queue.call_queue(agent, now=MOMENT, creditor=creditor)
    runs = _timed(lambda: queue.call_queue(agent, now=MOMENT, creditor=creditor), opts.runs)
    # One more run with every query timed: how much is SQL, how much the candidates' query.
    spent: list[tuple[float, str]] = []

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((time.perf_counter() - t0, sql))

    with connection.execute_wrapper(timer):
        queue.call_queue(agent, now=MOMENT, creditor=creditor)
    result["queue"] = {
        "runs": [round(r, 4) for r in runs],
        "median_seconds": statistics.median(runs),
        "sql_seconds": sum(t for t, _sql in spent),
        "candidates_seconds": sum(
            t for t, sql in spent if 'FROM "contact_calltask"' in sql and "LIMIT" in sql
        ),
        "queries": len(captured.captured_queries),
        "length": len(items),
        "tiers": dict(Counter(item.tier for item in items)),
        "candidates": queue.CANDIDATES,
        # Why the other open tasks wait (the queue page's counts; read once, not timed).
        "waiting": queue.queue_overview(agent, now=MOMENT, creditor=creditor).waiting,
    }

    # 2. Taking calls one after another, each finished with an outcome.
    executed = [0]

    def counter(execute, sql, params, many, context):
        executed[0] += 1
        return execute(sql, params, many, context)

    take_seconds, take_queries, finish_seconds, finish_queries = [], [], [], []
    outcomes: Counter = Counter()
    closed = 0
    with connection.execute_wrapper(counter):
        for n in range(opts.takes):
            user = agents[n % len(agents)]
            now = MOMENT + timedelta(seconds=30 * n)
            executed[0] = 0
            t0 = time.perf_counter()
            attempt = queue.queue_next(user, now=now, creditor=creditor)
            take_seconds.append(time.perf_counter() - t0)
            take_queries.append(executed[0])
            if attempt is None:
                break
            outcome = TAKE_OUTCOMES[n % len(TAKE_OUTCOMES)]
            executed[0] = 0
            t0 = time.perf_counter()
            calls.call_outcome_record(
                attempt=attempt, agent=user, outcome=outcome, now=now + timedelta(seconds=20)
            )
            finish_seconds.append(time.perf_counter() - t0)
            finish_queries.append(executed[0])
            outcomes[outcome] += 1
            attempt.task.refresh_from_db(fields=["status"])
            closed += attempt.task.status != "open"
    taken = len(finish_seconds)
    result["takes"] = {
        "asked": opts.takes,
        "taken": taken,
        "seconds": sum(take_seconds),
        "median_seconds": statistics.median(take_seconds),
        "max_seconds": max(take_seconds),
        "per_second": taken / sum(take_seconds) if taken else 0,
        "queries_median": statistics.median(take_queries),
        "finish_seconds": sum(finish_seconds),
        "finish_median_seconds": statistics.median(finish_seconds) if finish_seconds else 0,
        "finish_queries_median": statistics.median(finish_queries) if finish_queries else 0,
        "outcomes": dict(outcomes),
        "tasks_closed": closed,
    }

    # 3. The supervisor's numbers.
    result["supervision"] = {}
    for period in PERIODS:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            overview = supervision.supervision_overview(creditor, period=period, now=MOMENT)
        runs = _timed(
            lambda p=period: supervision.supervision_overview(creditor, period=p, now=MOMENT),
            opts.runs,
        )
        result["supervision"][period] = {
            "runs": [round(r, 4) for r in runs],
            "median_seconds": statistics.median(runs),
            "queries": len(captured.captured_queries),
            "attempts": overview.reach.attempts,
            "right_party": overview.reach.right_party,
            "open_tasks": overview.queue_total.open,
            "agents": len(overview.agents),
        }
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


# --------------------------------------------------------------------------- the parent


def run_database(name: str, opts) -> dict:
    log(f"{name}: fresh database, migrate, {opts.debtors:,} debtors, then the measurements")
    args = ["--debtors", str(opts.debtors), "--agents", str(opts.agents)]
    args += ["--takes", str(opts.takes), "--runs", str(opts.runs)]
    return harness.in_fresh_database(
        name,
        module="bench.queue_bench",
        args=args,
        work=opts.var_dir / "queue",
        pg_url=opts.pg_url,
        keep=opts.keep,
        # As in production: DEBUG keeps every query in memory, which costs time and fills
        # Django's query log (CaptureQueriesContext counts nothing once it is full).
        env={"VAARWATER_DEBUG": "false"},
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def report_block(data: dict) -> str:
    machine = data.get("machine", {})
    run = data["run"]
    shown = {n: r for n, r in run["databases"].items() if "error" not in r}
    facts = next(iter(shown.values()))["data"] if shown else {}
    lines = [
        "",
        "## Call queue and supervisor view",
        "",
        f"Measured with `python -m bench.queue_bench` on {run['date']} (code `{run['code']}`) "
        f"for the moment {run['moment']}: one creditor on its shipped strategy "
        f"({facts.get('strategy', '?')}) with {run['debtors']:,} debtors, each with a phone "
        "number, one open invoice, an open case and an open call task of the strategy whose "
        f"window started an hour before; {facts.get('with_history', 0):,} tasks (a third) "
        f"have {facts.get('history_attempts', 0):,} earlier calls by {run['agents']} agents "
        f"over the last 30 days ({facts.get('history_today', 0):,} of them this morning), "
        "outcomes "
        + ", ".join(
            f"{outcome} {n:,}" for outcome, n in sorted(facts.get("history_outcomes", {}).items())
        )
        + ".",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('ram_gib', '?')} GiB RAM; Python {machine.get('python', '?')}, "
        f"Django {machine.get('django', '?')}, SQLite {machine.get('sqlite', '?')}"
        + (f", PostgreSQL {machine['postgresql']}" if machine.get("postgresql") else "")
        + ".",
        "",
        f"| database | queue ms (median of {run['runs']}) | of which SQL ms (candidates) "
        "| queue queries | in the queue | takes | take ms (median) | takes/s "
        "| queries per take | outcome ms (median) | queries per outcome |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, res in run["databases"].items():
        if "error" in res:
            lines.append(f"| {name} | failed: {res['error']} | | | | | | | | | |")
            continue
        q, t = res["queue"], res["takes"]
        lines.append(
            f"| {name} | {_ms(q['median_seconds'])} | {_ms(q['sql_seconds'])} "
            f"({_ms(q['candidates_seconds'])}) | {q['queries']} | {q['length']:,} "
            f"| {t['taken']} | {_ms(t['median_seconds'])} | {t['per_second']:,.1f} "
            f"| {t['queries_median']:g} | {_ms(t['finish_median_seconds'])} "
            f"| {t['finish_queries_median']:g} |"
        )
    lines += [
        "",
        f"| database | period | calls counted | queries | ms (median of {run['runs']}) |",
        "|---|---|--:|--:|--:|",
    ]
    for name, res in shown.items():
        for period, sup in res["supervision"].items():
            lines.append(
                f"| {name} | {period} | {sup['attempts']:,} | {sup['queries']} "
                f"| {_ms(sup['median_seconds'])} |"
            )
    lines += [
        "",
        "*Queue* is `workspace.queue.call_queue(agent, now=…, creditor=…)`: the "
        f"{_candidates(shown)} best candidates read and scored, the ones that may be called now "
        "kept (*in the queue*). The other open tasks, by the queue page's reasons: "
        + _waiting(shown)
        + " (these come in as the ones above them are done). *Of which SQL* is the time "
        "spent in the database calls of one more run, in "
        "brackets the candidates' query alone (the open tasks that have started, with their "
        "customer and case, sorted by kind, priority and window, the first "
        f"{_candidates(shown)}); the rest is Python (making the rows, scoring, reasons). "
        f"*Takes* are {run['takes']} `queue_next` calls in a row (the {run['agents']} agents in "
        "turn, 30 seconds apart), each one rebuilding the queue, locking and claiming the top "
        "task, starting the call and recording `call.started`; *takes/s* counts those calls "
        "alone. Each take is then finished with `calls.call_outcome_record` (*outcome*: "
        + ", ".join(f"{o} {n}" for o, n in sorted(_take_outcomes(shown).items()))
        + "), which closes the task or sets its next attempt, so the next take gets another "
        "task. The supervisor's numbers are "
        "`workspace.supervision.supervision_overview(creditor, period=…, now=…)`, measured after "
        "the takes (*today* includes their calls); *calls counted* are the period's calls with "
        "an outcome. Loading the data is not timed; on PostgreSQL it is followed by `ANALYZE`. "
        "The machine's load average (1 minute) before and after the measurements: "
        + "; ".join(
            f"{name} {res['load_average'][0]:.1f} and {res['load_average'][1]:.1f}"
            for name, res in shown.items()
            if "load_average" in res
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def _candidates(shown: dict) -> str:
    for res in shown.values():
        return f"{res['queue']['candidates']:,}"
    return "?"


def _waiting(shown: dict) -> str:
    parts = []
    for name, res in shown.items():
        waiting = res["queue"].get("waiting", {})
        words = [f"{WAITING.get(code, code)} {n:,}" for code, n in waiting.items()]
        beyond = res["data"]["tasks"] - res["queue"]["length"] - sum(waiting.values())
        if beyond:
            words.append(f"not among the candidates {beyond:,}")
        parts.append(f"{name}: {', '.join(words) or 'none'}")
    return "; ".join(parts)


def _take_outcomes(shown: dict) -> Counter:
    for res in shown.values():
        return Counter(res["takes"]["outcomes"])
    return Counter()


def write_report(path: Path, data: dict) -> None:
    harness.write_section(path, BEGIN, END, report_block(data))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.queue_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--debtors", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--takes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each read")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("VAARWATER_BENCH_QUEUE_PG_URL", DEFAULT_PG_URL),
        help=f"PostgreSQL bench database, dropped and created (default: {DEFAULT_PG_URL})",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--no-report", action="store_true", help="do not touch the docs page")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the docs page from the last results (var/bench/queue-results.json)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    if opts.child:
        print(json.dumps(child(opts)))
        return 0
    opts.var_dir = opts.var_dir.resolve()
    if opts.report_only:
        write_report(opts.out, json.loads((opts.var_dir / "queue-results.json").read_text()))
        return 0
    databases, pg_version = harness.reachable(opts.databases, opts.pg_url)
    run = {
        "date": harness.today(),
        "code": harness.commit(),
        "moment": f"{MOMENT:%A %d %B %Y %H:%M} (Europe/Amsterdam)",
        "debtors": opts.debtors,
        "agents": opts.agents,
        "takes": opts.takes,
        "runs": opts.runs,
        "databases": {},
    }
    failed = False
    for name in databases:
        try:
            res = run_database(name, opts)
        except Exception as exc:  # noqa: BLE001 - report it and go on with the next
            failed = True
            log(f"{name}: FAILED: {exc}")
            run["databases"][name] = {"error": str(exc)}
            continue
        run["databases"][name] = res
        q, t = res["queue"], res["takes"]
        log(
            f"{name}: prepared in {res['prepare_seconds']:.0f} s; queue {_ms(q['median_seconds'])} "
            f"ms, {q['queries']} queries, {q['length']} in it; {t['taken']} takes, "
            f"{t['per_second']:.1f}/s ({_ms(t['median_seconds'])} ms, {t['queries_median']:g} "
            f"queries each); outcome {_ms(t['finish_median_seconds'])} ms; supervisor "
            + ", ".join(
                f"{p} {_ms(s['median_seconds'])} ms ({s['queries']} queries, {s['attempts']:,} "
                "calls)"
                for p, s in res["supervision"].items()
            )
        )
    data = harness.save_results(opts.var_dir, "queue-results.json", run, pg_version)
    results = opts.var_dir / "queue-results.json"
    if not opts.no_report:
        write_report(opts.out, data)
        log(f"results: {results}; page: {opts.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
