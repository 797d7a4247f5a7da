"""Profile one import with cProfile: ``python -m bench.profile_import --size 100000``.

Sets up a fresh bench database exactly as the benchmark does (migrate, creditor, debtors
imported through ``vaarwater import``), then runs ``vaarwater import KIND`` under
``python -m cProfile`` and prints the top functions by cumulative and by own time. The
profile is kept in ``var/bench/profile-<database>-<kind>-<size>.prof`` for ``pstats`` or
snakeviz. Timings under a profiler are slower than the benchmark's; read them as shares.
"""

import argparse
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

from .code import Code
from .import_bench import (
    CREDITOR,
    DEFAULT_PG_URL,
    ROOT,
    PostgresDatabase,
    SqliteDatabase,
    log,
    run_vaarwater,
    vaarwater_command,
)
from .portfolio import portfolio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_import")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--kind", choices=("invoices", "payments"), default="invoices")
    parser.add_argument(
        "--pg-url", default=os.environ.get("VAARWATER_BENCH_PG_URL", DEFAULT_PG_URL)
    )
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--code", default="worktree", help="worktree (default) or a commit to snapshot"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    opts = parser.parse_args(argv)
    var_dir = opts.var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    code = Code(ROOT, var_dir, opts.code)
    code.activate()
    log(f"profiling vaarwater {code.label()} ({code.info['source']})")
    files, _ = portfolio(opts.size, var_dir, log=log)
    work = var_dir / str(opts.size) / opts.database
    work.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(work) if opts.database == "sqlite" else PostgresDatabase(opts.pg_url)
    env = code.env(
        {
            **os.environ,
            "VAARWATER_DATABASE_URL": db.url(),
            "VAARWATER_VAR_DIR": str(work),
            "DJANGO_SETTINGS_MODULE": "vaarwater.settings",
        }
    )
    log_file = work / "profile.log"
    prof = var_dir / f"profile-{opts.database}-{opts.kind}-{opts.size}.prof"
    try:
        db.fresh()
        run_vaarwater(["migrate", "--no-input", "-v", "0"], env, log_file)
        run_vaarwater(
            ["creditor", "create", CREDITOR, "--name", "Bench Energie BV", "--sector", "energy"],
            env,
            log_file,
        )
        needed = ["debtors"] + (["invoices"] if opts.kind == "payments" else [])
        for kind in needed:
            log(f"import {kind} (not profiled)")
            run_vaarwater(
                [
                    "import",
                    kind,
                    str(files / f"{kind}.csv"),
                    "--creditor",
                    CREDITOR,
                    "--no-progress",
                ],
                env,
                log_file,
            )
        log(f"import {opts.kind} under cProfile -> {prof}")
        db.before_timing()
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                str(prof),
                vaarwater_command(),
                "import",
                opts.kind,
                str(files / f"{opts.kind}.csv"),
                "--creditor",
                CREDITOR,
                "--no-progress",
            ],
            env=env,
            check=True,
            cwd=work,  # not the checkout, which `python -m` would put first on sys.path
        )
        log(f"profiled run took {time.perf_counter() - started:.1f} s")
    finally:
        if not opts.keep:
            db.cleanup()
            code.cleanup()
    stats = pstats.Stats(str(prof))
    stats.sort_stats("cumulative").print_stats(opts.top)
    stats.sort_stats("tottime").print_stats(opts.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
