"""Where the daily run's time goes: its phases, their SQL time, and cProfile per phase.

The real ``daily_run`` runs with timers wrapped around its parts (nothing in the engine is
changed; the wrappers are removed afterwards):

- ``holds_release`` and ``debtors_to_look_at`` (before the chunks);
- per chunk, ``Chunk.load`` (loading facts), ``Chunk.write`` (the bulk inserts and updates),
  the ``COMMIT`` at the end of ``chunk_run`` (where PostgreSQL runs the deferred foreign-key
  checks of every row written), and the rest of ``Chunk.run``: deciding, split
  into ``Chunk.facts``, ``Chunk.open_new`` (with its ``Case`` bulk insert),
  ``Chunk.advance`` (the step handlers), ``post_interest`` and ``close_paid``;
- the run's own bookkeeping (``DailyRun`` rows) is what is left.

Every SQL statement is timed with Django's ``execute_wrapper`` (and every ``COPY``, which
goes around it, by wrapping ``psycopg.Cursor.copy``) and charged to the innermost phase that
ran it, so each phase splits into database time (the statement's round trip,
server work included) and Python time (the rest). Statements are grouped by their text with
the parameter lists folded, to show which ones cost most.

The first ``cprofile_chunks`` chunks also run under cProfile, one profiler per phase (load,
decide, write); their phase timings are left out of the per-chunk averages because the
profiler slows Python down.
"""

import cProfile
import io
import pstats
import re
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

FOLD = re.compile(r"(%s|\$\d+|'[^']*'|\b\d+\b)(\s*,\s*(%s|\$\d+|'[^']*'|\b\d+\b))+")
SPACE = re.compile(r"\s+")


def _shape(sql: str) -> str:
    sql = SPACE.sub(" ", sql).strip()
    sql = FOLD.sub("…", sql)
    return sql[:160]


class Phases:
    """Exclusive wall time, SQL time and statement counts per phase, in two buckets: the
    chunks that ran under cProfile and those that did not (``bucket``)."""

    def __init__(self):
        self.stack: list[list] = []  # [name, started, child seconds]
        self.wall = defaultdict(float)
        self.calls = defaultdict(int)
        self.sql = defaultdict(float)
        self.queries = defaultdict(int)
        self.statements = defaultdict(lambda: [0, 0.0])
        self.bucket = "plain"

    def current(self) -> str:
        return self.stack[-1][0] if self.stack else "run (other)"

    def enter(self, name: str) -> None:
        self.stack.append([name, time.perf_counter(), 0.0])

    def leave(self) -> None:
        name, started, child = self.stack.pop()
        elapsed = time.perf_counter() - started
        if self.stack:
            self.stack[-1][2] += elapsed
        key = (self.bucket, name)
        self.wall[key] += elapsed - child
        self.calls[key] += 1

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.add_sql(sql, time.perf_counter() - started)

    def add_sql(self, sql: str, seconds: float) -> None:
        key = (self.bucket, self.current())
        self.sql[key] += seconds
        self.queries[key] += 1
        entry = self.statements[(*key, _shape(sql))]
        entry[0] += 1
        entry[1] += seconds

    def timed_copy(self, original):
        """Wrap ``psycopg.Cursor.copy``: COPY bypasses Django's execute wrappers.

        Database time is the time spent starting the COPY, in ``write()`` (sending a block,
        waiting when the server falls behind) and finishing it (the server's last rows and
        its result); rendering the rows in between is Python time.
        """
        phases = self

        @contextmanager
        def copy(cursor, statement, *args, **kwargs):
            started = time.perf_counter()
            waited = 0.0
            with original(cursor, statement, *args, **kwargs) as cp:
                write = cp.write

                def timed_write(buffer):
                    nonlocal waited
                    t = time.perf_counter()
                    try:
                        return write(buffer)
                    finally:
                        waited += time.perf_counter() - t

                cp.write = timed_write
                waited += time.perf_counter() - started
                yield cp
                finishing = time.perf_counter()
            waited += time.perf_counter() - finishing
            phases.add_sql(str(statement), waited)

        return copy

    def rows(self, bucket: str) -> list[dict]:
        names = [name for b, name in self.wall if b == bucket]
        out = []
        for name in sorted(names, key=lambda n: -self.wall[(bucket, n)]):
            key = (bucket, name)
            out.append(
                {
                    "phase": name,
                    "calls": self.calls[key],
                    "seconds": round(self.wall[key], 3),
                    "sql_seconds": round(self.sql[key], 3),
                    "python_seconds": round(self.wall[key] - self.sql[key], 3),
                    "queries": self.queries[key],
                }
            )
        return out

    def top_statements(self, bucket: str, n: int) -> list[dict]:
        rows = [(k, v) for k, v in self.statements.items() if k[0] == bucket]
        rows.sort(key=lambda kv: -kv[1][1])
        return [
            {"phase": phase, "sql": sql, "count": count, "seconds": round(secs, 3)}
            for (_, phase, sql), (count, secs) in rows[:n]
        ]


def profiled_run(*, run_date, chunk_size, cprofile_chunks, out_dir: Path, log) -> dict:
    from vaarwater.strategy import run as engine

    phases = Phases()
    profilers = {name: cProfile.Profile() for name in ("load", "decide", "write")}
    state = {"chunk": 0, "active": None}
    originals = []

    def switch(to):
        """Make ``to``'s profiler the active one (None: none); return the one before."""
        before = state["active"]
        if before is not None:
            profilers[before].disable()
        if to is not None and state["chunk"] <= cprofile_chunks:
            profilers[to].enable()
            state["active"] = to
        else:
            state["active"] = None
        return before

    def wrap(owner, attr, label, profile_as=None):
        original = getattr(owner, attr)
        originals.append((owner, attr, original))

        def wrapper(*args, **kwargs):
            phases.enter(label)
            before = switch(profile_as) if profile_as else None
            try:
                return original(*args, **kwargs)
            finally:
                if profile_as:
                    switch(before)
                phases.leave()

        setattr(owner, attr, wrapper)

    def chunk_run(*args, **kwargs):
        state["chunk"] += 1
        phases.bucket = "cprofile" if state["chunk"] <= cprofile_chunks else "plain"
        phases.enter("chunk: the rest")
        try:
            return original_chunk_run(*args, **kwargs)
        finally:
            phases.leave()
            phases.bucket = "plain"

    original_chunk_run = engine.chunk_run
    originals.append((engine, "chunk_run", original_chunk_run))
    engine.chunk_run = chunk_run
    wrap(engine, "holds_release", "holds_release")
    wrap(engine, "debtors_to_look_at", "debtors_to_look_at")
    wrap(engine.Chunk, "run", "decide: the rest", "decide")
    wrap(engine.Chunk, "load", "load", "load")
    wrap(engine.Chunk, "facts", "decide: facts")
    wrap(engine.Chunk, "open_new", "decide: open_new")
    wrap(engine.Chunk, "advance", "decide: advance")
    wrap(engine.Chunk, "post_interest", "decide: post_interest")
    wrap(engine.Chunk, "close_paid", "decide: close_paid")
    wrap(engine.Chunk, "write", "write", "write")
    original_commit = connection.commit

    def commit():
        started = time.perf_counter()
        phases.enter("commit")
        try:
            return original_commit()
        finally:
            phases.leave()
            key = (phases.bucket, "commit")  # database time: the deferred checks run here
            phases.sql[key] += time.perf_counter() - started
            phases.queries[key] += 1

    connection.commit = commit  # what Atomic.__exit__ calls at the end of each chunk
    import psycopg

    original_copy = psycopg.Cursor.copy
    psycopg.Cursor.copy = phases.timed_copy(original_copy)
    try:
        started = time.perf_counter()
        with connection.execute_wrapper(phases.execute):
            phases.enter("run (other)")
            try:
                result = engine.daily_run(run_date=run_date, chunk_size=chunk_size)
            finally:
                phases.leave()
        seconds = time.perf_counter() - started
    finally:
        switch(None)
        del connection.commit
        psycopg.Cursor.copy = original_copy
        for owner, attr, original in reversed(originals):
            setattr(owner, attr, original)

    measured_chunks = max(0, result.chunks - cprofile_chunks)
    # The phases of the chunks without cProfile; at a size with no such chunks, those of the
    # cProfiled ones (slower in Python) rather than none.
    bucket = "plain" if measured_chunks else "cprofile"
    rows = phases.rows(bucket)
    if bucket == "cprofile":
        rows = phases.rows("plain") + rows
    out_dir.mkdir(parents=True, exist_ok=True)
    top = {}
    for name, profiler in profilers.items():
        top[name] = _top(profiler, 12)
        if top[name]:
            profiler.dump_stats(out_dir / f"profile-{name}.pstats")
    summary = {
        "seconds": round(seconds, 2),
        "chunks": result.chunks,
        "measured_chunks": measured_chunks,
        "phases_under_cprofile": bucket == "cprofile",
        "cprofile_chunks": min(cprofile_chunks, result.chunks),
        "debtors_looked_at": result.debtors,
        "phases": rows,
        "statements": phases.top_statements(bucket, 15),
        "cprofile_top": top,
        "pstats_dir": str(out_dir),
    }
    which = f"{measured_chunks} chunk(s) without" if measured_chunks else "chunks under"
    log(f"  {seconds:,.1f} s with timers; phases over the {which} cProfile:")
    for row in rows:
        log(
            f"    {row['phase']:<32} {row['seconds']:>9.2f} s  SQL {row['sql_seconds']:>8.2f} s "
            f"({row['queries']:,} statements)  Python {row['python_seconds']:>8.2f} s"
        )
    return summary


def _top(profiler: cProfile.Profile, n: int) -> dict:
    """Two lists: the functions with the most own time (tottime), and the engine's functions
    and Django ``QuerySet`` methods with the most cumulative time (where the time is spent,
    seen from the code that asks for it)."""
    profiler.create_stats()
    if not profiler.stats:
        return {}
    stats = pstats.Stats(profiler, stream=io.StringIO())
    own = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:n]
    entry = sorted(
        (
            kv
            for kv in stats.stats.items()
            if "/vaarwater/" in kv[0][0] or kv[0][0].endswith("django/db/models/query.py")
        ),
        key=lambda kv: -kv[1][3],
    )[:n]
    return {"own": _rows(stats, own), "cumulative": _rows(stats, entry)}


def _rows(stats, items) -> list[dict]:
    total = sum(v[2] for v in stats.stats.values())
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in items:
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({func})",
                "calls": nc,
                "tottime": round(tt, 3),
                "cumtime": round(ct, 3),
                "share": round(tt / total, 3) if total else 0,
            }
        )
    return rows


def _short(filename: str) -> str:
    if "/vaarwater/" in filename:
        return "vaarwater/" + filename.split("/vaarwater/", 1)[1]
    for marker in ("/site-packages/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename
