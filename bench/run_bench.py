"""Daily-run benchmark: ``make bench-run`` / ``python -m bench.run_bench``.

What it measures, for one portfolio size on PostgreSQL (default 1,000,000 debtors):

1. **the engine**: the real ``vaarwater.strategy.run.daily_run`` for day D, in this process
   (Django set up once, not timed), with the default chunk size: wall time, cases per
   second, what it did (debtors looked at, cases opened, decisions and other rows written);
   ``--days N`` goes on with the next N-1 days on the same database, each timed on its own;
2. **(a) a per-case ORM loop** (``bench/run_orm.py``), the way classic dunning modules work:
   per debtor a few ORM reads, ``get_or_create`` of the case, the same first step decided,
   and every row its own ``objects.create`` in a transaction per case; timed on the first
   ``--orm-sample`` candidate debtors and **extrapolated** to all of them;
3. **(b) the floor** (``bench/run_floor.py``): the same number of cases and decisions
   written by set-based ``INSERT ... SELECT`` statements that read the ledger in SQL;
4. **where the time goes** (``bench/run_profile.py``): the engine again, with every chunk
   split into its phases (loading facts, deciding, writing, commit) and the SQL time of each
   phase measured; the first ``--profile-chunks`` chunks also under cProfile.

Each of the four runs on its own ``CREATE DATABASE ... TEMPLATE`` copy of the prepared
database (see ``bench/run_db.py``), so all start from the same state. The prepared database
(portfolio generated with ``bench/portfolio.py``, imported with ``csv_import``) is kept and
reused; preparing it is timed and reported apart and never counted.

D defaults to the first day on or after the portfolio's as-of date on which the engine may
contact debtors and post goes out: the as-of date 2026-11-01 is a Sunday, on which the run
would open every case but, rightly, send nothing and so decide nothing.

Results are kept in ``var/bench/run-results.json`` and written into the "Daily run" section
of ``docs/performance.md`` (between its own markers; the import section is left alone).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from .import_bench import cpu_jiffies, log
from .portfolio import AS_OF, SEED, portfolio
from .run_db import BenchDatabases, use

ROOT = Path(__file__).resolve().parent.parent
CREDITOR = "BENCH"
CREDITOR_NAME = "Bench Energie BV"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/vaarwater_bench_run"
GOAL_SECONDS = 60
GOAL_RATIO = 3


# --------------------------------------------------------------------------- preparation


def _wanted(size: int) -> dict:
    return {"debtors": size, "seed": SEED, "as_of": AS_OF.isoformat(), "creditor": CREDITOR}


def _pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]


def _vacuum(statement: str = "VACUUM (FREEZE, ANALYZE)") -> None:
    """VACUUM or ANALYZE the current database (outside a transaction).

    Autovacuum may be off on the bench server (it is on this machine): without statistics
    the planner takes ``debtor_id IN (...)`` on a freshly imported table for the whole table
    and scans it for every chunk, so preparing and measuring analyze explicitly.
    """
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    autocommit = raw.autocommit
    raw.autocommit = True
    try:
        raw.execute(statement)
    finally:
        raw.autocommit = autocommit


def prepare(opts) -> dict:
    """Build the prepared database unless a matching one exists; return its marker.

    Runs in a child process (``--prepare-only``), so the import's memory and warm caches
    do not follow the measurements.
    """
    from django.core.management import call_command

    dbs = BenchDatabases(opts.pg_url, opts.debtors)
    wanted = _wanted(opts.debtors)
    marker = dbs.marker() if dbs.exists(dbs.prepared) else None
    if marker and marker.get("complete") and all(marker.get(k) == v for k, v in wanted.items()):
        log(f"prepared database {dbs.prepared}: reusing it ({marker.get('prepared_at')})")
        use(dbs.prepared)
        pending = _pending_migrations()
        if pending:
            log(f"  migrating it: {', '.join(pending)}")
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            _vacuum()
            marker.setdefault("migrated_later", []).append(
                {"migrations": pending, "seconds": round(time.perf_counter() - started, 1)}
            )
            from django.db import connection

            connection.close()
            dbs.set_marker(marker)
        return marker

    files, manifest = portfolio(opts.debtors, opts.var_dir, log=log)
    log(f"prepared database {dbs.prepared}: creating it")
    dbs.create_prepared()
    use(dbs.prepared)
    steps = {"generate": manifest["generate_seconds"]}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    from vaarwater.ledger.importing import csv_import
    from vaarwater.ledger.services import creditor_create

    creditor = creditor_create(code=CREDITOR, name=CREDITOR_NAME, sector="energy")
    steps["migrate + creditor"] = round(time.perf_counter() - started, 1)
    rows = {}
    for kind in ("debtors", "invoices", "payments"):
        log(f"  import {kind} ({manifest['rows'][kind]:,} rows)")
        started = time.perf_counter()
        result = csv_import(
            kind=kind, path=files / f"{kind}.csv", creditor=creditor, progress=False
        )
        _vacuum("ANALYZE")
        steps[f"import {kind}"] = round(time.perf_counter() - started, 1)
        rows[kind] = result.rows
        log(f"    {steps[f'import {kind}']:,.1f} s: {result.created:,} created")
    log("  VACUUM (FREEZE, ANALYZE)")
    started = time.perf_counter()
    _vacuum()
    steps["vacuum"] = round(time.perf_counter() - started, 1)
    from django.db import connection

    connection.close()
    marker = {
        **wanted,
        "complete": True,
        "rows": rows,
        "steps": steps,
        "prepared_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "bytes": dbs.size_bytes(dbs.prepared),
    }
    dbs.set_marker(marker)
    log(f"prepared database {dbs.prepared}: done, {marker['bytes'] / 1024**3:.1f} GiB")
    return marker


# --------------------------------------------------------------------------- measuring


def first_contact_day(on: date) -> date:
    from vaarwater.law import is_business_day
    from vaarwater.strategy.run import contact_allowed_on

    while not (contact_allowed_on(on) and is_business_day(on)):
        on += timedelta(days=1)
    return on


def written_tables() -> dict[str, str]:
    """Label -> table of everything the run (or a contender) may write."""
    from vaarwater.contact.models import CallTask, Message
    from vaarwater.core.models import Event
    from vaarwater.ledger.models import LedgerEntry
    from vaarwater.strategy import models as s

    models = {
        "cases": s.Case,
        "decisions": s.Decision,
        "events": Event,
        "messages": Message,
        "call tasks": CallTask,
        "transitions": s.CaseTransition,
        "legal notices": s.LegalNotice,
        "holds": s.Hold,
        "ledger entries": LedgerEntry,
    }
    return {label: model._meta.db_table for label, model in models.items()}


def max_ids() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for label, table in written_tables().items():
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
            out[label] = cursor.fetchone()[0]
    return out


def rows_since(before: dict[str, int]) -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for label, table in written_tables().items():
            cursor.execute(f"SELECT count(*) FROM {table} WHERE id > %s", [before[label]])  # noqa: S608
            out[label] = cursor.fetchone()[0]
    return out


def ensure_strategy(day: date):
    """Load the creditor's shipped strategy (what the run's first lookup would do), untimed."""
    from vaarwater.ledger.models import Creditor
    from vaarwater.strategy.documents import current_version

    creditor = Creditor.objects.get(code=CREDITOR)
    return creditor, current_version(creditor, day)


class Meter:
    """Wall time, this process's CPU time and the whole machine's busy cores of a block."""

    def __enter__(self):
        self.busy0, self.total0 = cpu_jiffies()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        busy1, total1 = cpu_jiffies()
        self.busy_cores = (
            (busy1 - self.busy0) / (total1 - self.total0) * (os.cpu_count() or 1)
            if total1 > self.total0
            else None
        )
        return False

    def record(self) -> dict:
        return {
            "seconds": round(self.seconds, 2),
            "process_cpu_seconds": round(self.cpu, 2),
            "busy_cores": self.busy_cores and round(self.busy_cores, 2),
        }


def measure_engine(dbs: BenchDatabases, opts) -> dict:
    from vaarwater.strategy.run import daily_run

    name = dbs.copy("engine")
    use(name)
    ensure_strategy(opts.day)
    days = []
    for n in range(opts.days):
        day = opts.day + timedelta(days=n)
        if n:
            _vacuum("ANALYZE")  # what autovacuum would have done after the day before
        dbs.before_timing()
        before = max_ids()
        log(f"engine: daily_run({day}, chunk_size={opts.chunk_size})")
        with Meter() as meter:
            result = daily_run(run_date=day, chunk_size=opts.chunk_size)
        written = rows_since(before)
        record = {
            "day": day.isoformat(),
            "weekday": day.strftime("%A"),
            **meter.record(),
            "debtors_looked_at": result.debtors,
            "chunks": result.chunks,
            "cases_opened": result.counts.get("cases opened", 0),
            "decisions": written["decisions"],
            "written": written,
            "counts": dict(sorted(result.counts.items())),
        }
        days.append(record)
        log(
            f"  {meter.seconds:,.1f} s: {result.debtors:,} debtors looked at, "
            f"{record['cases_opened']:,} cases opened, {record['decisions']:,} decisions, "
            f"{result.debtors / meter.seconds:,.0f} cases/s (process CPU {meter.cpu:,.1f} s, "
            f"machine busy {meter.busy_cores or 0:.1f} cores)"
        )
    engine = {"days": days}
    engine["decided"] = (
        _decided_sample(opts.orm_sample_ids, opts.day) if opts.orm_sample_ids else {}
    )
    use("postgres")
    if not opts.keep:
        dbs.drop(name)
    return engine


def _decided_sample(debtor_ids: list[int], day: date) -> dict:
    """What the engine decided on D for the ORM sample: debtor id -> (step, outcome, channel)."""
    from vaarwater.strategy.models import Decision

    return {
        str(debtor_id): [kind, outcome, channel]
        for debtor_id, kind, outcome, channel in Decision.objects.filter(
            debtor_id__in=debtor_ids, run_date=day
        ).values_list("debtor_id", "step_kind", "outcome", "channel")
    }


def measure_orm(dbs: BenchDatabases, opts) -> dict:
    from .run_orm import orm_run

    name = dbs.copy("orm")
    use(name)
    creditor, version = ensure_strategy(opts.day)
    dbs.before_timing()
    log(f"(a) per-case ORM loop on the first {opts.orm_sample:,} candidate debtors")
    result = orm_run(
        run_date=opts.day, creditor=creditor, version=version, sample=opts.orm_sample, log=log
    )
    use("postgres")
    if not opts.keep:
        dbs.drop(name)
    return result


def measure_floor(dbs: BenchDatabases, opts, day1: dict) -> dict:
    from .run_floor import floor_run

    name = dbs.copy("floor")
    use(name)
    creditor, version = ensure_strategy(opts.day)
    from django.db import connection

    connection.close()
    dbs.before_timing()
    log("(b) the floor: set-based INSERT ... SELECT")
    result = floor_run(
        dbs.url(name),
        run_date=opts.day,
        creditor_id=creditor.pk,
        version_id=version.pk,
        decisions=day1.get("decisions"),
        cases=day1.get("cases_opened"),
        engine_written=day1.get("written"),
        count_eligible=opts.eligible,
        log=log,
    )
    use("postgres")
    if not opts.keep:
        dbs.drop(name)
    return result


def measure_profile(dbs: BenchDatabases, opts) -> dict:
    """Profile day D + ``--profile-day`` - 1; the days before it run first, untimed."""
    from vaarwater.strategy.run import daily_run

    from .run_profile import profiled_run

    name = dbs.copy("profile")
    use(name)
    ensure_strategy(opts.day)
    profiled = opts.day + timedelta(days=opts.profile_day - 1)
    for n in range(opts.profile_day - 1):
        before = opts.day + timedelta(days=n)
        log(f"where the time goes: first daily_run({before}), not profiled")
        daily_run(run_date=before, chunk_size=opts.chunk_size)
        _vacuum("ANALYZE")
    dbs.before_timing()
    log(
        f"where the time goes: daily_run({profiled}) with phase timers, "
        f"cProfile on the first {opts.profile_chunks} chunk(s)"
    )
    out_dir = opts.var_dir / "run" / str(opts.debtors) / profiled.isoformat()
    result = profiled_run(
        run_date=profiled,
        chunk_size=opts.chunk_size,
        cprofile_chunks=opts.profile_chunks,
        out_dir=out_dir,
        log=log,
    )
    result["day"] = profiled.isoformat()
    use("postgres")
    if not opts.keep:
        dbs.drop(name)
    return result


# --------------------------------------------------------------------------- the command


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.run_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--debtors", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="day D of the run (default: the first contact day on or after the as-of date)",
    )
    parser.add_argument(
        "--days", type=int, default=1, help="run D and the next days on the engine's copy"
    )
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument(
        "--orm-sample",
        type=int,
        default=20_000,
        help="candidate debtors the per-case ORM loop is timed on (then extrapolated)",
    )
    parser.add_argument(
        "--profile-chunks",
        type=int,
        default=10,
        help="chunks of the profiled run that also run under cProfile (0: none)",
    )
    parser.add_argument(
        "--profile-day",
        type=int,
        default=1,
        help="profile day D + N - 1 (default 1: D itself); the days before run first",
    )
    parser.add_argument(
        "--only",
        default="engine,orm,floor,profile",
        help="which measurements, comma-separated (default: engine,orm,floor,profile)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("VAARWATER_BENCH_RUN_PG_URL", DEFAULT_PG_URL),
        help="base name of the bench databases (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--code",
        default="frozen",
        help="frozen (default: a copy of the working tree taken at the start, so edits made "
        "during the run change nothing), worktree, or a commit (e.g. HEAD); the database is "
        "always prepared with the working tree",
    )
    parser.add_argument(
        "--eligible",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="count (untimed) how many cases the whole ledger calls for (default: on)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the measured copies")
    parser.add_argument("--no-report", action="store_true", help="do not touch the docs page")
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    opts.only = {s.strip() for s in opts.only.split(",") if s.strip()}
    unknown = opts.only - {"engine", "orm", "floor", "profile"}
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
    opts.var_dir = opts.var_dir.resolve()
    return opts


def _setup_django(opts, code=None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "vaarwater.settings"
    # In-process chunks: no Celery broker, whatever the environment says.
    os.environ.pop("VAARWATER_BROKER_URL", None)
    os.environ["VAARWATER_DATABASE_URL"] = BenchDatabases(opts.pg_url, opts.debtors).url("postgres")
    os.environ["VAARWATER_VAR_DIR"] = str(opts.var_dir / "run" / "var")
    if code is not None:
        code.activate()
    import django

    django.setup()


def main(argv=None) -> int:
    opts = parse_args(argv)
    opts.var_dir.mkdir(parents=True, exist_ok=True)
    if opts.prepare_only:
        _setup_django(opts)
        marker = prepare(opts)
        print(json.dumps(marker))
        return 0

    from .code import Code

    code = Code(ROOT, opts.var_dir, opts.code)
    _setup_django(opts, code)
    from .machine import machine_facts

    dbs = BenchDatabases(opts.pg_url, opts.debtors)
    log(f"daily-run bench: vaarwater {code.label()}, {opts.debtors:,} debtors")
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "bench.run_bench", *(argv or sys.argv[1:]), "--prepare-only"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    if child.returncode != 0:
        log("preparing the database failed")
        return 1
    marker = json.loads(child.stdout.strip().splitlines()[-1])
    prepare_seconds = time.perf_counter() - started
    opts.day = opts.date or first_contact_day(AS_OF)
    dbs.drop_copies()
    day = opts.day.isoformat()
    run = {
        "size": opts.debtors,
        "database": "postgresql",
        "date": datetime.now().astimezone().strftime("%Y-%m-%d"),
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "code": code.label(),
        "run_date": day,
        "chunk_size": opts.chunk_size,
        "prepared": marker,
        "prepare_seconds_this_time": round(prepare_seconds, 1),
    }
    results_path = opts.var_dir / "run-results.json"
    data = json.loads(results_path.read_text()) if results_path.exists() else {"runs": []}
    data["machine"] = machine_facts(opts.var_dir, dbs.server_version())
    data["machine"]["pg_settings"] = dbs.server_settings()

    parts = ("engine", "orm", "floor")
    earlier = [r for r in data["runs"] if (r["size"], r.get("run_date")) == (run["size"], day)]
    run["profiles"] = {}
    if earlier and earlier[-1].get("code") == run["code"]:
        # A partial run (--only) of the same code completes the earlier record.
        run.update({k: v for k, v in earlier[-1].items() if k in parts and k not in opts.only})
        run["profiles"] = {
            key: {**value, "day": value.get("day", key)}
            for key, value in (earlier[-1].get("profiles") or {}).items()
        }
        if earlier[-1].get("profile"):  # results written before profiles were kept per day
            run["profiles"].setdefault(day, {**earlier[-1]["profile"], "day": day})

    def save():
        # One record per size and day: the latest measurement.
        data["runs"] = [
            r for r in data["runs"] if (r["size"], r.get("run_date")) != (run["size"], day)
        ] + [run]
        results_path.write_text(json.dumps(data, indent=2) + "\n")
        if not opts.no_report:
            from .run_report import write_run_report

            write_run_report(opts.out, data)

    from .run_orm import candidates

    use(dbs.prepared)
    opts.orm_sample_ids = candidates(opts.day)[: opts.orm_sample] if "orm" in opts.only else []
    use("postgres")
    if "engine" in opts.only:
        run["engine"] = measure_engine(dbs, opts)
        save()
    if "orm" in opts.only:
        run["orm"] = measure_orm(dbs, opts)
        decided = run.get("engine", {}).get("decided")
        if decided:
            from .run_orm import agreement

            run["orm"]["agreement"] = agreement(decided, run["orm"].pop("decided"))
            log(f"  agreement with the engine: {run['orm']['agreement']}")
        else:
            run["orm"].pop("decided", None)
        save()
    if "engine" in run:
        run["engine"].pop("decided", None)
    if "floor" in opts.only:
        day1 = run.get("engine", {}).get("days", [{}])[0]
        run["floor"] = measure_floor(dbs, opts, day1)
        save()
    if "profile" in opts.only:
        profile = measure_profile(dbs, opts)
        run["profiles"][profile["day"]] = profile
        save()
    save()
    if not opts.keep:
        code.cleanup()
    log(f"results: {results_path}" + ("" if opts.no_report else f"; page: {opts.out}"))
    from .run_report import summary_table

    print(summary_table(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
