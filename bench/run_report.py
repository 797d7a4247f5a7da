"""Render the daily-run benchmark into the "Daily run" section of docs/performance.md.

Only the part between this section's two markers is rewritten; the import section (with
its own markers, written by ``bench/report.py``) and any prose around them are kept. A page
without these markers gets the section appended.
"""

from pathlib import Path

BEGIN = "<!-- bench:run:begin (written by python -m bench.run_bench) -->"
END = "<!-- bench:run:end -->"

SECTION = f"""## Daily run

Measured with `make bench-run` (`python -m bench.run_bench`); see the method in
`bench/run_bench.py`, `bench/run_orm.py`, `bench/run_floor.py` and `bench/run_profile.py`.

{BEGIN}
{END}
"""

PHASE_NOTES = {
    "load": "loading facts (`Chunk.load`)",
    "write": "writing (`Chunk.write`)",
    "decide: advance": "deciding: the step handlers (`Chunk.advance`)",
    "decide: open_new": "deciding: opening cases (`Chunk.open_new`, with its Case insert)",
    "decide: facts": "deciding: building facts (`Chunk.facts`)",
    "decide: the rest": "deciding: the rest of `Chunk.run`",
    "decide: post_interest": "deciding: interest (`Chunk.post_interest`)",
    "decide: close_paid": "deciding: closing paid cases (`Chunk.close_paid`)",
    "commit": "`COMMIT` of each chunk (deferred foreign-key checks)",
    "chunk: the rest": "the rest of `chunk_run` (transaction, `Chunk()`)",
    "debtors_to_look_at": "finding the debtors (`debtors_to_look_at`)",
    "holds_release": "releasing holds (`holds_release`)",
    "run (other)": "the run's own bookkeeping, cProfiled chunks excluded",
}


def _n(value, digits=0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _x(ratio) -> str:
    return "-" if ratio is None else f"{ratio:.1f}×"


def ratios(run: dict) -> dict:
    """The headline numbers of one run: seconds, cases per second and the ratios."""
    day = (run.get("engine") or {}).get("days", [{}])[0]
    engine = day.get("seconds")
    looked = day.get("debtors_looked_at")
    floor = run.get("floor") or {}
    orm = run.get("orm") or {}
    orm_s = orm.get("extrapolated_seconds")

    def ratio(a, b):
        return a / b if a and b else None

    return {
        "engine_seconds": engine,
        "looked_at": looked,
        "engine_rate": ratio(looked, engine),
        "orm_seconds": orm_s,
        "orm_rate": ratio(looked, orm_s),
        "floor_decisions": floor.get("decisions_seconds"),
        "floor_rate": ratio(looked, floor.get("decisions_seconds")),
        "floor_cd_rate": ratio(looked, floor.get("cases_plus_decisions_seconds")),
        "floor_all_rate": ratio(looked, floor.get("all_seconds")),
        "floor_cases_decisions": floor.get("cases_plus_decisions_seconds"),
        "floor_all": floor.get("all_seconds"),
        "run_over_floor": ratio(engine, floor.get("decisions_seconds")),
        "run_over_floor_cd": ratio(engine, floor.get("cases_plus_decisions_seconds")),
        "run_over_floor_all": ratio(engine, floor.get("all_seconds")),
        "orm_over_run": ratio(orm_s, engine),
    }


def summary_table(run: dict) -> str:
    r = ratios(run)
    day = (run.get("engine") or {}).get("days", [{}])[0]
    orm = run.get("orm") or {}
    floor = run.get("floor") or {}
    lines = [
        f"daily run, {run['size']:,} debtors, day {run['run_date']}, code {run['code']}",
        f"{'':<44}{'seconds':>12}{'cases/s':>12}",
        f"{'engine: daily_run':<44}{_n(r['engine_seconds'], 1):>12}{_n(r['engine_rate']):>12}",
    ]
    if orm:
        label = "(a) per-case ORM loop" + (" (extrapolated)" if orm.get("extrapolated") else "")
        lines.append(f"{label:<44}{_n(r['orm_seconds'], 1):>12}{_n(r['orm_rate']):>12}")
    for line in floor.get("lines", []):
        name = f"(b) floor: {line['name']} ({line['rows']:,} rows)"
        lines.append(f"{name:<44}{_n(line['seconds'], 2):>12}")
    lines += [
        "",
        f"debtors looked at {_n(day.get('debtors_looked_at'))}, cases opened "
        f"{_n(day.get('cases_opened'))}, decisions {_n(day.get('decisions'))}",
        f"run ÷ floor (decisions) {_x(r['run_over_floor'])}, run ÷ floor (cases + decisions) "
        f"{_x(r['run_over_floor_cd'])}, run ÷ floor (all rows) {_x(r['run_over_floor_all'])}, "
        f"ORM ÷ run {_x(r['orm_over_run'])}",
    ]
    return "\n".join(lines)


def _goal_lines(run: dict) -> list[str]:
    r = ratios(run)
    out = []
    seconds = r["engine_seconds"]
    if seconds is not None:
        met = seconds < 60
        out.append(
            f"- **Under 60 s for the whole run: {'met' if met else 'not met'}** "
            f"({seconds:,.1f} s at {run['size']:,} debtors)."
        )
    if r["run_over_floor"] is not None:
        met = r["run_over_floor"] <= 3
        met_cd = r["run_over_floor_cd"] is not None and r["run_over_floor_cd"] <= 3
        out.append(
            f"- **Within 3× of the floor: {'met' if met else 'not met'}** against the "
            f"issue's floor, the decisions statement ({_x(r['run_over_floor'])}); "
            f"{'met' if met_cd else 'not met'} against cases + decisions "
            f"({_x(r['run_over_floor_cd'])}). Against every row the run writes, set-based, "
            f"it is {_x(r['run_over_floor_all'])}."
        )
    return out


def _run_block(run: dict) -> list[str]:
    r = ratios(run)
    days = (run.get("engine") or {}).get("days", [])
    orm = run.get("orm") or {}
    floor = run.get("floor") or {}
    out = [
        f"### {run['size']:,} debtors, day {run['run_date']} (code `{run['code']}`)",
        "",
        f"Measured on {run['date']}; chunk size {run['chunk_size']:,}. Cases per second = "
        "debtors the run looked at ÷ seconds, the same numerator for all three.",
        "",
        "| contender | seconds | cases/s | ratio |",
        "|---|--:|--:|--:|",
        f"| the engine: `daily_run` | {_n(r['engine_seconds'], 1)} | {_n(r['engine_rate'])} | |",
    ]
    if orm:
        label = "(a) per-case ORM loop"
        if orm.get("extrapolated"):
            label += (
                f", **extrapolated** from {orm['sample']:,} of {orm['candidates']:,} "
                f"candidates ({orm['sample_seconds']:,.1f} s, {orm['ms_per_debtor']:.2f} ms "
                f"and {orm['queries_per_debtor']:.0f} queries a debtor)"
            )
        out.append(
            f"| {label} | {_n(r['orm_seconds'], 1)} | {_n(r['orm_rate'])} | "
            f"ORM ÷ run {_x(r['orm_over_run'])} |"
        )
    lines = {line["name"]: line for line in floor.get("lines", [])}
    if lines:
        out.append(
            f"| (b) floor: decisions, one `INSERT … SELECT` ({_n(lines['decisions']['rows'])} "
            f"rows) | {_n(r['floor_decisions'], 2)} | {_n(r['floor_rate'])} | run ÷ floor "
            f"{_x(r['run_over_floor'])} |"
        )
        out.append(
            f"| (b) floor, second line: the cases they need, `INSERT … SELECT` from the ledger "
            f"({_n(lines['cases']['rows'])} rows) | {_n(lines['cases']['seconds'], 2)} | - | - |"
        )
        out.append(
            f"| (b) floor: cases + decisions | {_n(r['floor_cases_decisions'], 2)} | "
            f"{_n(r['floor_cd_rate'])} | "
            f"run ÷ floor {_x(r['run_over_floor_cd'])} |"
        )
        rest = [
            line
            for name, line in lines.items()
            if name not in ("cases", "decisions") and line["rows"]
        ]
        if rest:
            names = ", ".join(f"{line['name']} {line['rows']:,}" for line in rest)
            out.append(
                f"| (b) floor, informative: every row the run writes ({names} more) | "
                f"{_n(r['floor_all'], 2)} | {_n(r['floor_all_rate'])} | "
                f"run ÷ floor {_x(r['run_over_floor_all'])} |"
            )
    out.append("")
    out += _goal_lines(run)
    out.append("")
    if days:
        out += [
            "What the engine did:",
            "",
            "| day | seconds | debtors looked at | chunks | cases opened | decisions | "
            "rows written | process CPU | busy cores |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for day in days:
            written = ", ".join(f"{k} {v:,}" for k, v in day["written"].items() if v)
            out.append(
                f"| {day['day']} ({day['weekday']}) | {day['seconds']:,.1f} | "
                f"{day['debtors_looked_at']:,} | {day['chunks']:,} | {day['cases_opened']:,} | "
                f"{day['decisions']:,} | {written} | {day['process_cpu_seconds']:,.1f} s | "
                f"{_n(day.get('busy_cores'), 1)} |"
            )
        out.append("")
        counts = days[0].get("counts", {})
        if counts:
            out.append(
                "Its counts on the first day: "
                + "; ".join(f"{k} {v:,}" for k, v in counts.items())
                + "."
            )
            out.append("")
    if orm.get("agreement"):
        a = orm["agreement"]
        out += [
            f"The ORM loop decided the same (step, outcome, channel) as the engine for "
            f"{a['same']:,} of the {a['debtors_with_a_decision']:,} sample debtors that got a "
            f"decision from either ({a['different']:,} differ).",
            "",
        ]
    for profile in sorted((run.get("profiles") or {}).values(), key=lambda p: p.get("day", "")):
        out += _profile_block(profile)
    prep = run.get("prepared") or {}
    if prep:
        steps = ", ".join(f"{k} {v:,.0f} s" for k, v in (prep.get("steps") or {}).items())
        size = prep.get("bytes")
        out += [
            f"Preparation (not counted): {steps}"
            + (f"; database {size / 1024**3:,.1f} GiB" if size else "")
            + f"; prepared {prep.get('prepared_at', '?')}, reused afterwards. Each measurement "
            "ran on its own `CREATE DATABASE … TEMPLATE` copy of it.",
            "",
        ]
    return out


def _profile_block(profile: dict) -> list[str]:
    which = (
        f"the {profile['measured_chunks']:,} chunks that ran without cProfile (the first "
        f"{profile['cprofile_chunks']} ran under it)"
        if not profile.get("phases_under_cprofile")
        else "the chunks, all of which ran under cProfile (slower in Python)"
    )
    out = [
        f"#### Where the time goes, {profile.get('day', '')}",
        "",
        f"The engine again on a fresh copy, with phase timers: {profile['seconds']:,.1f} s for "
        f"{profile['chunks']:,} chunks. The phase times below cover {which}. SQL = time in "
        "statements and COPY (round trip and server work, the deferred foreign-key checks of "
        "`COMMIT` included); Python = the rest.",
        "",
        "| phase | seconds | SQL s | statements | Python s |",
        "|---|--:|--:|--:|--:|",
    ]
    for row in profile["phases"]:
        out.append(
            f"| {PHASE_NOTES.get(row['phase'], row['phase'])} | {row['seconds']:,.2f} | "
            f"{row['sql_seconds']:,.2f} | {row['queries']:,} | "
            f"{max(0.0, row['python_seconds']):,.2f} |"
        )
    out += [
        "",
        "The most expensive statements (parameter lists folded to …):",
        "",
        "| phase | statement | times | seconds |",
        "|---|---|--:|--:|",
    ]
    for st in profile["statements"][:10]:
        sql = st["sql"].replace("|", "\\|")
        out.append(f"| {st['phase']} | `{sql}` | {st['count']:,} | {st['seconds']:,.2f} |")
    out.append("")
    for phase, tops in (profile.get("cprofile_top") or {}).items():
        for kind, title in (
            ("cumulative", "the engine's functions and QuerySet methods by cumulative time"),
            ("own", "functions by own time"),
        ):
            rows = (tops or {}).get(kind)
            if not rows:
                continue
            out += [
                f"cProfile, {phase} phase, {title} (first {profile['cprofile_chunks']} chunk(s)):",
                "",
                "| function | calls | own s | cumulative s |",
                "|---|--:|--:|--:|",
            ]
            for row in rows[:6]:
                out.append(
                    f"| `{row['function']}` | {row['calls']:,} | {row['tottime']:,.3f} | "
                    f"{row['cumtime']:,.3f} |"
                )
            out.append("")
    return out


def results_block(data: dict) -> str:
    runs = sorted(data.get("runs", []), key=lambda r: (r["size"], r.get("started", "")))
    out = [BEGIN, ""]
    for run in runs:
        out += _run_block(run)
    m = data.get("machine", {})
    out += [
        "#### Machine",
        "",
        f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores",
        f"- RAM: {m.get('ram_gib', '?')} GiB",
        f"- Disk (var/bench): {m.get('disk', '?')}",
        f"- OS: {m.get('os', '?')}",
        f"- Python {m.get('python', '?')}, Django {m.get('django', '?')}, "
        f"psycopg {m.get('psycopg', '?')}, PostgreSQL {m.get('postgresql') or '?'}"
        + (
            " ("
            + ", ".join(f"{k} {v}" for k, v in m["pg_settings"].items())
            + "; the bench changes none of them)"
            if m.get("pg_settings")
            else ""
        ),
        "",
        END,
    ]
    return "\n".join(out)


def write_run_report(path: Path, data: dict) -> None:
    page = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN not in page or END not in page:
        page = page.rstrip("\n") + "\n\n" + SECTION
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + results_block(data) + tail, encoding="utf-8")
