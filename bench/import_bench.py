"""Import benchmark: ``make bench`` / ``python -m bench.import_bench``.

For every size the portfolio (debtors.csv, invoices.csv, payments.csv) is generated once
with a fixed seed and as-of date into ``var/bench/<size>/`` and reused afterwards. For every
database the run starts from a fresh database, migrates, creates the creditor and then runs
the real ``vaarwater import`` command in a subprocess, once per file, timing its wall time
(process start and Django setup included: it is what a user waits for):

1. ``import debtors``  (timed, reported)
2. ``import invoices`` (timed; compared with the floor)
3. ``import payments`` (timed, reported; ``--no-payments`` skips it)

The floor (see ``bench/floor.py``) writes the same invoice rows the cheapest way into a
copy of the database taken right after the debtors import: PostgreSQL ``COPY``, or a
plain ``executemany`` INSERT on SQLite. The ratio is import time ÷ floor time.

Results are kept in ``var/bench/results.json`` (a run replaces the earlier result for the
same size, database and code, and keeps the others; ``--fresh-results`` forgets them all)
and rendered into ``docs/performance.md``. The bench databases and their files are removed
at the end unless ``--keep`` is given; the generated CSV files are kept for the next run.

Only databases whose name starts with ``vaarwater_bench`` are ever dropped or created.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .portfolio import AS_OF, SEED, portfolio

ROOT = Path(__file__).resolve().parent.parent
CREDITOR = "BENCH"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/vaarwater_bench"
BENCH_DB_PREFIX = "vaarwater_bench"


_STARTED = time.monotonic()


def log(message: str) -> None:
    """Print with the time since the bench started (Django changes the process's TZ)."""
    elapsed = int(time.monotonic() - _STARTED)
    print(
        f"[{elapsed // 3600:02d}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}] {message}", flush=True
    )


# --------------------------------------------------------------------------- databases


class Database:
    """A fresh bench database: its URL for the app, a copy for the floor, cleanup."""

    name: str

    def url(self) -> str:
        raise NotImplementedError

    def fresh(self) -> None:
        raise NotImplementedError

    def snapshot_for_floor(self) -> None:
        raise NotImplementedError

    def before_timing(self) -> None:
        os.sync()

    def count(self, table: str, *, floor: bool = False) -> int:
        raise NotImplementedError

    def floor(self, invoices_csv: Path, work_dir: Path, *, entries: bool):
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    name = "sqlite"

    def __init__(self, directory: Path):
        self.path = directory / "bench.sqlite3"
        self.floor_path = directory / "floor.sqlite3"

    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def _remove(self, path: Path) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def fresh(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._remove(self.path)
        self._remove(self.floor_path)

    def snapshot_for_floor(self) -> None:
        from .floor import sqlite_checkpoint

        sqlite_checkpoint(self.path)
        self._remove(self.floor_path)
        shutil.copyfile(self.path, self.floor_path)

    def count(self, table: str, *, floor: bool = False) -> int:
        import sqlite3

        conn = sqlite3.connect(self.floor_path if floor else self.path)
        try:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        finally:
            conn.close()

    def floor(self, invoices_csv: Path, work_dir: Path, *, entries: bool):
        from .floor import sqlite_floor

        return sqlite_floor(self.floor_path, CREDITOR, invoices_csv, entries=entries, log=log)

    def cleanup(self) -> None:
        self._remove(self.path)
        self._remove(self.floor_path)


class PostgresDatabase(Database):
    name = "postgresql"

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.db = parts.path.lstrip("/")
        if not self.db.startswith(BENCH_DB_PREFIX):
            raise SystemExit(
                f"--pg-url names database {self.db!r}: the bench only drops and creates "
                f"databases whose name starts with {BENCH_DB_PREFIX!r}"
            )
        self.floor_db = f"{self.db}_floor"
        self._parts = parts

    def _url(self, db: str) -> str:
        return urlunsplit(self._parts._replace(path=f"/{db}"))

    def url(self) -> str:
        return self._url(self.db)

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self._url("postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self._url("postgres")) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def fresh(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{self.floor_db}" WITH (FORCE)',
            f'CREATE DATABASE "{self.db}"',
        )

    def snapshot_for_floor(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.floor_db}" WITH (FORCE)',
            f'CREATE DATABASE "{self.floor_db}" TEMPLATE "{self.db}"',
        )

    def before_timing(self) -> None:
        super().before_timing()
        self._admin("CHECKPOINT")

    def count(self, table: str, *, floor: bool = False) -> int:
        import psycopg

        with psycopg.connect(self._url(self.floor_db if floor else self.db)) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608

    def floor(self, invoices_csv: Path, work_dir: Path, *, entries: bool):
        from .floor import postgresql_floor

        return postgresql_floor(
            self._url(self.floor_db), CREDITOR, invoices_csv, work_dir, entries=entries, log=log
        )

    def cleanup(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{self.floor_db}" WITH (FORCE)',
        )


# --------------------------------------------------------------------------- the command


def vaarwater_command() -> str:
    here = Path(sys.executable).parent / "vaarwater"
    return str(here) if here.exists() else (shutil.which("vaarwater") or "vaarwater")


class CommandFailed(Exception):
    pass


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def run_vaarwater(args: list[str], env: dict, log_file: Path) -> dict:
    """Run ``vaarwater ARGS``; return wall seconds, peak RSS and the last output line.

    Also how busy the machine was meanwhile (``busy_cores``: cores' worth of CPU used by
    everything, database server and other users included) next to what the command used
    itself (``command_cores``): a busy figure well above the command's and the database's
    share means someone else was using the machine and the timing is pessimistic.
    """
    with log_file.open("ab") as out:
        out.write(f"\n$ vaarwater {' '.join(args)}\n".encode())
        out.flush()
        busy0, total0 = cpu_jiffies()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [vaarwater_command(), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=out,
            cwd=log_file.parent,  # not the checkout: `python -m` would import from it
        )
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        busy1, total1 = cpu_jiffies()
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        out.write(stdout)
    text = stdout.decode(errors="replace").strip()
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-5:]
        raise CommandFailed(
            f"vaarwater {' '.join(args)} exited with {proc.returncode}: " + " | ".join(tail)
        )
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "output": text.splitlines()[-1] if text else "",
        "busy_cores": (busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1)
        if total1 > total0
        else None,
        "command_cores": (usage.ru_utime + usage.ru_stime) / seconds if seconds else None,
    }


def bench_database(db: Database, run: dict, files: Path, manifest: dict, opts, save) -> None:
    """Run every step on a fresh database, adding to ``run`` and saving after each step.

    Order: debtors, invoices, the floor, then payments, so that the slowest step comes last
    and an interrupted run still has the invoices and their floor on record.
    """
    size = run["size"]
    work = opts.var_dir / str(size) / db.name
    work.mkdir(parents=True, exist_ok=True)
    log_file = work / "commands.log"
    log_file.unlink(missing_ok=True)
    env = opts.code.env(
        {
            **os.environ,
            "VAARWATER_DATABASE_URL": db.url(),
            "VAARWATER_VAR_DIR": str(work),
            "DJANGO_SETTINGS_MODULE": "vaarwater.settings",
        }
    )
    rows = manifest["rows"]
    log(f"{size:,} debtors on {db.name}: fresh database, migrate, creditor")
    db.fresh()
    run_vaarwater(["migrate", "--no-input", "-v", "0"], env, log_file)
    run_vaarwater(
        ["creditor", "create", CREDITOR, "--name", "Bench Energie BV", "--sector", "energy"],
        env,
        log_file,
    )

    def step(kind: str, table: str) -> dict | None:
        path = files / f"{kind}.csv"
        log(f"{size:,} debtors on {db.name}: import {kind} ({rows[kind]:,} rows)")
        db.before_timing()
        try:
            res = run_vaarwater(
                ["import", kind, str(path), "--creditor", CREDITOR, "--no-progress"], env, log_file
            )
        except CommandFailed as exc:
            log(f"  FAILED: {exc}")
            run["steps"].append(
                {"name": f"import {kind}", "rows": rows[kind], "status": "failed", "note": str(exc)}
            )
            save(run)
            return None
        stored = db.count(table)
        if stored != rows[kind]:
            log(f"  WARNING: {table} holds {stored:,} rows, expected {rows[kind]:,}")
        record = {
            "name": f"import {kind}",
            "rows": rows[kind],
            "seconds": round(res["seconds"], 2),
            "peak_rss_mb": round(res["peak_rss_mb"]),
            "busy_cores": res["busy_cores"] and round(res["busy_cores"], 2),
            "command_cores": res["command_cores"] and round(res["command_cores"], 2),
            "stored": stored,
            "output": res["output"],
        }
        run["steps"].append(record)
        save(run)
        log(
            f"  {res['seconds']:.1f} s, {rows[kind] / res['seconds']:,.0f} rows/s, "
            f"peak RSS {res['peak_rss_mb']:,.0f} MB, machine busy {res['busy_cores'] or 0:.1f} "
            f"cores (the command {res['command_cores'] or 0:.1f}): {res['output']}"
        )
        return record

    if step("debtors", "ledger_debtor") is None:
        return
    db.snapshot_for_floor()
    invoices = step("invoices", "ledger_invoice")
    if invoices is not None and opts.floor:
        log(f"{size:,} debtors on {db.name}: floor")
        db.before_timing()
        floor = db.floor(files / "invoices.csv", work, entries=opts.entries_floor)
        stored = db.count("ledger_invoice", floor=True)
        if stored != floor.rows or floor.rows != invoices["rows"]:
            log(f"  WARNING: floor wrote {floor.rows:,} rows, table holds {stored:,}")
        invoices["floor"] = {
            "rows": floor.rows,
            "seconds": round(floor.seconds, 2),
            "entry_rows": floor.entry_rows,
            "entry_seconds": round(floor.entry_seconds, 2),
        }
        log(
            f"  floor {floor.rows / floor.seconds:,.0f} rows/s; "
            f"import ÷ floor = {invoices['seconds'] / floor.seconds:.1f}×"
        )
        save(run)
    if not (opts.payments and db.name in opts.payments_databases):
        run["steps"].append(
            {
                "name": "import payments",
                "rows": rows["payments"],
                "status": "not run (--no-payments or --payments-databases)",
            }
        )
        save(run)
    elif invoices is not None:
        step("payments", "ledger_payment")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="debtor counts, comma-separated (default: 100000,1000000)",
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="sqlite and/or postgresql, comma-separated (default: both)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("VAARWATER_BENCH_PG_URL", DEFAULT_PG_URL),
        help=f"PostgreSQL bench database, dropped and created (default: {DEFAULT_PG_URL})",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--payments",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the payments import (default: on)",
    )
    parser.add_argument(
        "--payments-databases",
        default="sqlite,postgresql",
        help="the databases on which to time the payments import (default: both)",
    )
    parser.add_argument(
        "--floor", action=argparse.BooleanOptionalAction, default=True, help="measure the floor"
    )
    parser.add_argument(
        "--entries-floor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the floor of the ledger entries the invoices import books",
    )
    parser.add_argument(
        "--code",
        default="worktree",
        help="worktree (default), or a commit (e.g. HEAD) to measure from a frozen snapshot",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument(
        "--fresh-results", action="store_true", help="forget results of earlier runs"
    )
    opts = parser.parse_args(argv)
    opts.sizes = [int(s.replace("_", "")) for s in opts.sizes.split(",") if s.strip()]
    opts.databases = [d.strip().lower() for d in opts.databases.split(",") if d.strip()]
    for name in opts.databases:
        if name not in ("sqlite", "postgresql"):
            parser.error(f"--databases: unknown {name!r} (sqlite, postgresql)")
    opts.payments_databases = [d.strip().lower() for d in opts.payments_databases.split(",")]
    opts.var_dir = opts.var_dir.resolve()
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaarwater.settings")
    # The bench process only needs the models' names; point it at a file it never opens.
    os.environ["VAARWATER_DATABASE_URL"] = f"sqlite:///{opts.var_dir / 'unused.sqlite3'}"
    os.environ.setdefault("VAARWATER_VAR_DIR", str(opts.var_dir))
    from .code import Code

    opts.var_dir.mkdir(parents=True, exist_ok=True)
    opts.code = Code(ROOT, opts.var_dir, opts.code)
    opts.code.activate()
    log(f"measuring vaarwater {opts.code.label()} ({opts.code.info['source']})")
    import django

    django.setup()
    from .machine import machine_facts

    opts.var_dir.mkdir(parents=True, exist_ok=True)
    results_path = opts.var_dir / "results.json"
    data = (
        {}
        if opts.fresh_results or not results_path.exists()
        else json.loads(results_path.read_text())
    )
    data.update(seed=SEED, as_of=AS_OF.isoformat())
    data.setdefault("runs", [])

    pg = PostgresDatabase(opts.pg_url) if "postgresql" in opts.databases else None
    pg_version = None
    if pg is not None:
        try:
            pg_version = pg.version()
        except Exception as exc:  # noqa: BLE001 - any connection problem: skip PostgreSQL
            log(f"PostgreSQL at {opts.pg_url} is not reachable ({exc}); skipping it")
            opts.databases.remove("postgresql")
            pg = None
    data["machine"] = machine_facts(
        opts.var_dir, pg_version or data.get("machine", {}).get("postgresql")
    )

    def save(run: dict | None = None) -> None:
        if run is not None:
            data["runs"] = [
                r
                for r in data["runs"]
                if (r["size"], r["database"], r.get("code"))
                != (run["size"], run["database"], run.get("code"))
            ] + [run]
        results_path.write_text(json.dumps(data, indent=2) + "\n")
        from .report import write_report

        write_report(opts.out, data)

    failed = False
    for size in opts.sizes:
        started = time.perf_counter()
        files, manifest = portfolio(size, opts.var_dir, log=log)
        save(
            {
                "size": size,
                "database": "-",
                "date": datetime.now().astimezone().strftime("%Y-%m-%d"),
                "steps": [
                    {
                        "name": "generate (3 files)",
                        "rows": sum(manifest["rows"].values()),
                        "seconds": manifest["generate_seconds"],
                    }
                ],
            }
        )
        for name in opts.databases:
            db = SqliteDatabase(opts.var_dir / str(size) / "sqlite") if name == "sqlite" else pg
            run = {
                "size": size,
                "database": name,
                "date": datetime.now().astimezone().strftime("%Y-%m-%d"),
                "code": opts.code.label(),
                "started": datetime.now().astimezone().isoformat(timespec="seconds"),
                "steps": [],
            }
            try:
                bench_database(db, run, files, manifest, opts, save)
                failed |= any(s.get("status") == "failed" for s in run["steps"])
            except Exception as exc:  # noqa: BLE001 - report it, clean up, go on with the next
                failed = True
                log(f"{size:,} debtors on {name}: FAILED: {exc}")
                run["steps"].append({"name": "(bench)", "status": "failed", "note": str(exc)})
                save(run)
            finally:
                if not opts.keep:
                    db.cleanup()
        log(f"{size:,} debtors done in {time.perf_counter() - started:,.0f} s")
    save()
    if not opts.keep:
        opts.code.cleanup()
    log(f"results: {results_path}; page: {opts.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
