"""What the statement and queue benchmarks share: a fresh database per run, the measuring
child process, the code version, the results file and their section of docs/performance.md.

Only PostgreSQL databases whose name starts with ``vaarwater_bench`` are ever created or
dropped.
"""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .import_bench import log

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB_PREFIX = "vaarwater_bench"
SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def pg_admin(url: str, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database (autocommit)."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_version(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres"))) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def commit() -> str:
    """The measured code: the short commit, and whether vaarwater/ or bench/ had changes."""
    try:
        sha = subprocess.run(
            ["git", "--no-optional-locks", "rev-parse", "--short=10", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "vaarwater", "bench"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return f"{sha}{' + uncommitted changes' if dirty else ''}"


def reachable(databases: str, pg_url: str) -> tuple[list[str], str | None]:
    """The databases of ``--databases`` to measure (PostgreSQL left out when it cannot be
    reached), and the PostgreSQL server's version."""
    names = [d.strip() for d in databases.split(",") if d.strip()]
    version = None
    if "postgresql" in names:
        try:
            version = pg_version(pg_url)
        except Exception as exc:  # noqa: BLE001 - any connection problem: skip PostgreSQL
            log(f"PostgreSQL at {pg_url} is not reachable ({exc}); skipping it")
            names.remove("postgresql")
    return names, version


def _sqlite_remove(path: Path) -> None:
    for suffix in SQLITE_FILES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _bench_db(pg_url: str) -> str:
    db = urlsplit(pg_url).path.lstrip("/")
    if not db.startswith(BENCH_DB_PREFIX):
        raise SystemExit(f"--pg-url: the database name must start with {BENCH_DB_PREFIX}")
    return db


def in_fresh_database(
    name: str,
    *,
    module: str,
    args: list[str],
    work: Path,
    pg_url: str,
    keep: bool,
    env: dict | None = None,
) -> dict:
    """Run ``python -m MODULE --child ARGS`` on a new, empty ``name`` database (sqlite or
    postgresql) and return the JSON its last output line holds; the database is removed
    afterwards unless ``keep``."""
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "bench.sqlite3"
    if name == "sqlite":
        _sqlite_remove(db_path)
        url = f"sqlite:///{db_path}"
    else:
        db = _bench_db(pg_url)
        pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', f'CREATE DATABASE "{db}"')
        url = pg_url
    child_env = {
        **os.environ,
        "VAARWATER_DATABASE_URL": url,
        "VAARWATER_VAR_DIR": str(work),
        "DJANGO_SETTINGS_MODULE": "vaarwater.settings",
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        env=child_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if not keep and name == "sqlite":
            _sqlite_remove(db_path)
        elif not keep:
            pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{_bench_db(pg_url)}" WITH (FORCE)')


def save_results(var_dir: Path, file_name: str, run: dict, version: str | None) -> dict:
    """Add the machine to the run and keep both in ``var_dir/file_name``; return them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaarwater.settings")
    os.environ["VAARWATER_DATABASE_URL"] = f"sqlite:///{var_dir / 'unused.sqlite3'}"
    import django

    django.setup()
    from .machine import machine_facts

    data = {"machine": machine_facts(var_dir, version), "run": run}
    (var_dir / file_name).write_text(json.dumps(data, indent=2) + "\n")
    return data


def write_section(path: Path, begin: str, end: str, block: str) -> None:
    """Put ``block`` between the markers in the page (markers added at the end if missing)."""
    page = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if begin not in page or end not in page:
        page = page.rstrip("\n") + "\n\n" + begin + "\n" + end + "\n"
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + begin + "\n" + block + "\n" + end + tail, encoding="utf-8")


def today() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d")
