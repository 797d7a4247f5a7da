"""Render the benchmark results into docs/performance.md.

Only the part between the two markers is rewritten, so the prose around it (method,
findings) can be edited by hand. A missing page, or one without markers, is written whole.
"""

from pathlib import Path

BEGIN = "<!-- bench:results:begin (written by python -m bench.import_bench) -->"
END = "<!-- bench:results:end -->"

DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "-": "-"}
FLOOR_NAMES = {"sqlite": "executemany INSERT", "postgresql": "COPY"}

DEFAULT_PAGE = f"""# Import performance

Measured with `make bench` (`python -m bench.import_bench`); see the method in
`bench/import_bench.py` and `bench/floor.py`.

{BEGIN}
{END}
"""


def _num(value, digits=0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _rate(rows, seconds) -> float | None:
    return rows / seconds if rows and seconds else None


def results_block(data: dict) -> str:
    runs = sorted(
        data.get("runs", []),
        key=lambda r: (
            r["size"],
            ["-", "sqlite", "postgresql"].index(r["database"]),
            r.get("started", ""),
        ),
    )
    lines = [
        "| debtors | database | step | rows | seconds | rows/s | floor rows/s | ratio | "
        "peak RSS | busy cores | code |",
        "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    floors = [
        "| debtors | database | floor | rows | seconds | rows/s | import time ÷ floor time "
        "| code |",
        "|--:|---|---|--:|--:|--:|--:|---|",
    ]
    notes = []
    dates = set()
    for run in runs:
        dates.add(run["date"])
        db = DATABASE_NAMES[run["database"]]
        code = f"`{run['code']}`" if run.get("code") else "-"
        for step in run["steps"]:
            if step.get("status", "ok") != "ok":
                notes.append(
                    f"- {run['size']:,} debtors, {db}, {step['name']}: **{step['status']}**"
                    + (f" ({step['note']})" if step.get("note") else "")
                )
                lines.append(
                    f"| {run['size']:,} | {db} | {step['name']} | {_num(step.get('rows'))} | "
                    f"{step['status'].split(' (')[0]} | - | - | - | - | - | {code} |"
                )
                continue
            floor = step.get("floor")
            floor_rate = _rate(floor["rows"], floor["seconds"]) if floor else None
            ratio = step["seconds"] / floor["seconds"] if floor else None
            rss = f"{step['peak_rss_mb']:,.0f} MB" if step.get("peak_rss_mb") else "-"
            busy = step.get("busy_cores")
            busy = "-" if busy is None else f"{busy:.1f} ({step['command_cores']:.1f})"
            lines.append(
                f"| {run['size']:,} | {db} | {step['name']} | {_num(step['rows'])} | "
                f"{_num(step['seconds'], 1)} | {_num(_rate(step['rows'], step['seconds']))} | "
                f"{_num(floor_rate)} | {'-' if ratio is None else f'{ratio:.1f}×'} | {rss} | "
                f"{busy} | {code} |"
            )
            if floor:
                name = FLOOR_NAMES[run["database"]]
                floors.append(
                    f"| {run['size']:,} | {db} | {name} invoices | {_num(floor['rows'])} | "
                    f"{_num(floor['seconds'], 1)} | {_num(floor_rate)} | {ratio:.1f}× | {code} |"
                )
                if floor.get("entry_seconds"):
                    both = floor["seconds"] + floor["entry_seconds"]
                    floors.append(
                        f"| {run['size']:,} | {db} | {name} invoices + ledger entries | "
                        f"{_num(floor['rows'] + floor['entry_rows'])} | {_num(both, 1)} | "
                        f"{_num(_rate(floor['rows'] + floor['entry_rows'], both))} | "
                        f"{step['seconds'] / both:.1f}× | {code} |"
                    )
    for note in data.get("notes", []):
        notes.append(f"- {note}")
    m = data.get("machine", {})
    machine = [
        f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores",
        f"- RAM: {m.get('ram_gib', '?')} GiB",
        f"- Disk (var/bench): {m.get('disk', '?')}",
        f"- OS: {m.get('os', '?')}",
        f"- Python {m.get('python', '?')}, Django {m.get('django', '?')}, "
        f"psycopg {m.get('psycopg', '?')}, SQLite {m.get('sqlite', '?')}, "
        f"PostgreSQL {m.get('postgresql') or 'not measured'}",
    ]
    out = [
        BEGIN,
        "",
        f"Measured on {', '.join(sorted(dates)) or '-'}; "
        f"portfolio seed {data.get('seed')}, as of {data.get('as_of')}.",
        "",
        "### Results",
        "",
        *lines,
        "",
        "### Floors",
        "",
        *floors,
        "",
    ]
    if notes:
        out += ["### Not measured or failed", "", *notes, ""]
    out += ["### Machine", "", *machine, "", END]
    return "\n".join(out)


def write_report(path: Path, data: dict) -> None:
    page = path.read_text(encoding="utf-8") if path.exists() else DEFAULT_PAGE
    if BEGIN not in page or END not in page:
        page = page.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + results_block(data) + tail, encoding="utf-8")
