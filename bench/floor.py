"""The floors the import is compared with: the same invoice rows written the cheapest way.

PostgreSQL: one ``COPY ledger_invoice (...) FROM STDIN`` of the rows, already converted to
the table's columns (debtor and contract ids looked up beforehand), into a fresh database
holding the same debtors, with every index and constraint in place. SQLite: a plain
``executemany`` INSERT of the same rows into the same table, in one transaction, on a
connection set up as the application's (WAL, ``synchronous=NORMAL``, foreign keys on).

Only the write is timed (the COPY or the INSERTs and the COMMIT). Reading the CSV, looking
up ids and encoding the rows happen before the clock starts.

As a second, informative floor the same is done for the ledger entries the import books
with every invoice (one ``invoice``/``principal`` entry per invoice), so "invoices +
entries" is the least a row-for-row import has to write.
"""

import csv
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

INVOICE_COLUMNS = (
    "id",
    "creditor_id",
    "debtor_id",
    "contract_id",
    "external_id",
    "issue_date",
    "due_date",
    "amount_cents",
    "description",
    "created_at",
    "updated_at",
)
ENTRY_COLUMNS = (
    "creditor_id",
    "debtor_id",
    "kind",
    "component",
    "amount_cents",
    "booked_on",
    "invoice_id",
    "import_run_id",
    "description",
    "created_at",
)
CONTRACT_COLUMNS = ("id", "creditor_id", "debtor_id", "external_id", "created_at")
SIMPLE_AMOUNT = re.compile(r"^\d+,\d\d$")
COPY_BLOCK = 8 << 20
SQLITE_CHUNK = 50_000


@dataclass
class FloorResult:
    rows: int
    seconds: float
    entry_rows: int = 0
    entry_seconds: float = 0.0


def _cents(raw: str) -> int:
    raw = raw.strip()
    if SIMPLE_AMOUNT.match(raw):
        return int(raw.replace(",", ""))
    from vaarwater.core.money import parse_amount

    return parse_amount(raw)


def _invoice_rows(path: Path, debtor_ids: dict[str, int]) -> Iterator[tuple]:
    """(external_id, debtor_id, contract_ext, issue, due, cents, description) per CSV row."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = [h.strip().lower() for h in next(reader)]
        i = {name: n for n, name in enumerate(header)}
        for raw in reader:
            yield (
                raw[i["external_id"]].strip(),
                debtor_ids[raw[i["debtor_external_id"]].strip()],
                raw[i["contract_external_id"]].strip(),
                raw[i["issue_date"]].strip(),
                raw[i["due_date"]].strip(),
                _cents(raw[i["amount"]]),
                raw[i["description"]].strip(),
            )


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return str(value)


def _copy_line(values) -> str:
    return "\t".join(_copy_text(v) for v in values) + "\n"


def _entry_kinds() -> tuple[str, str]:
    from vaarwater.ledger.models import Component, EntryKind

    return str(EntryKind.INVOICE), str(Component.PRINCIPAL)


# --------------------------------------------------------------------------- PostgreSQL


def postgresql_floor(
    url: str, creditor_code: str, invoices_csv: Path, work_dir: Path, *, entries: bool, log
) -> FloorResult:
    import psycopg

    kind, component = _entry_kinds()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    work_dir.mkdir(parents=True, exist_ok=True)
    inv_file = work_dir / "floor_invoices.copy"
    ent_file = work_dir / "floor_entries.copy"
    with psycopg.connect(url) as conn:
        creditor_id = conn.execute(
            "SELECT id FROM ledger_creditor WHERE code = %s", [creditor_code]
        ).fetchone()[0]
        debtor_ids = dict(
            conn.execute(
                "SELECT external_id, id FROM ledger_debtor WHERE creditor_id = %s", [creditor_id]
            ).fetchall()
        )
        run_id = conn.execute(
            "INSERT INTO ledger_importrun (creditor_id, kind, file_name, sha256, rows, created,"
            " updated, unchanged, rejected, started_at) VALUES (%s, 'invoices', 'floor', '',"
            " 0, 0, 0, 0, 0, now()) RETURNING id",
            [creditor_id],
        ).fetchone()[0]
        conn.commit()
        log("  floor: preparing the rows (not timed)")
        contracts: dict[str, tuple[int, int]] = {}
        rows = 0
        with (
            inv_file.open("w", encoding="utf-8") as inv,
            ent_file.open("w", encoding="utf-8") as ent,
        ):
            for rows, (ext, debtor_id, contract, issue, due, cents, desc) in enumerate(
                _invoice_rows(invoices_csv, debtor_ids), start=1
            ):
                contract_id = None
                if contract:
                    if contract not in contracts:
                        contracts[contract] = (len(contracts) + 1, debtor_id)
                    contract_id = contracts[contract][0]
                inv.write(
                    _copy_line(
                        (rows, creditor_id, debtor_id, contract_id, ext, issue, due, cents, desc)
                        + (now, now)
                    )
                )
                if entries:
                    ent.write(
                        _copy_line(
                            (creditor_id, debtor_id, kind, component, cents, issue, rows, run_id)
                            + (desc, now)
                        )
                    )
        del debtor_ids
        contract_copy = f"COPY ledger_contract ({', '.join(CONTRACT_COLUMNS)}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(contract_copy) as cp:
            for ext, (cid, did) in contracts.items():
                cp.write_row((cid, creditor_id, did, ext, now))
        conn.commit()
        del contracts
        conn.execute("CHECKPOINT")
        result = FloorResult(
            rows=rows, seconds=_timed_copy(conn, "ledger_invoice", INVOICE_COLUMNS, inv_file)
        )
        log(f"  floor: COPY {rows:,} invoices in {result.seconds:.1f} s")
        if entries:
            conn.execute("CHECKPOINT")
            result.entry_rows = rows
            result.entry_seconds = _timed_copy(conn, "ledger_ledgerentry", ENTRY_COLUMNS, ent_file)
            log(f"  floor: COPY {rows:,} ledger entries in {result.entry_seconds:.1f} s")
    inv_file.unlink(missing_ok=True)
    ent_file.unlink(missing_ok=True)
    return result


def _timed_copy(conn, table: str, columns, path: Path) -> float:
    """COPY a prepared file (read into memory first) into ``table``; time COPY + COMMIT."""
    blocks = []
    with path.open("rb") as handle:
        while block := handle.read(COPY_BLOCK):
            blocks.append(block)
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for block in blocks:
            cp.write(block)
    conn.commit()
    return time.perf_counter() - started


# --------------------------------------------------------------------------- SQLite


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def sqlite_checkpoint(path: Path) -> None:
    """Fold the WAL into the main file so the file alone can be copied."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def sqlite_floor(
    path: Path, creditor_code: str, invoices_csv: Path, *, entries: bool, log
) -> FloorResult:
    kind, component = _entry_kinds()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn = _sqlite_connect(path)
    try:
        creditor_id = conn.execute(
            "SELECT id FROM ledger_creditor WHERE code = ?", [creditor_code]
        ).fetchone()[0]
        debtor_ids = dict(
            conn.execute(
                "SELECT external_id, id FROM ledger_debtor WHERE creditor_id = ?", [creditor_id]
            ).fetchall()
        )
        cur = conn.execute(
            "INSERT INTO ledger_importrun (creditor_id, kind, file_name, sha256, rows, created,"
            " updated, unchanged, rejected, started_at) VALUES (?, 'invoices', 'floor', '',"
            " 0, 0, 0, 0, 0, ?)",
            [creditor_id, now],
        )
        run_id = cur.lastrowid
        log("  floor: preparing the contracts (not timed)")
        contracts: dict[str, tuple[int, int]] = {}
        for _, debtor_id, contract, *_rest in _invoice_rows(invoices_csv, debtor_ids):
            if contract and contract not in contracts:
                contracts[contract] = (len(contracts) + 1, debtor_id)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO ledger_contract ({', '.join(CONTRACT_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
            ((cid, creditor_id, did, ext, now) for ext, (cid, did) in contracts.items()),
        )
        conn.execute("COMMIT")

        def invoice_row(n, rec):
            ext, debtor_id, contract, issue, due, cents, desc = rec
            cid = contracts[contract][0] if contract else None
            return (n, creditor_id, debtor_id, cid, ext, issue, due, cents, desc, now, now)

        def entry_row(n, rec):
            _, debtor_id, _, issue, _, cents, desc = rec
            return (creditor_id, debtor_id, kind, component, cents, issue, n, run_id, desc, now)

        result = FloorResult(rows=0, seconds=0.0)
        result.rows, result.seconds = _timed_inserts(
            conn, "ledger_invoice", INVOICE_COLUMNS, invoices_csv, debtor_ids, invoice_row
        )
        log(f"  floor: INSERT {result.rows:,} invoices in {result.seconds:.1f} s")
        if entries:
            result.entry_rows, result.entry_seconds = _timed_inserts(
                conn, "ledger_ledgerentry", ENTRY_COLUMNS, invoices_csv, debtor_ids, entry_row
            )
            log(
                f"  floor: INSERT {result.entry_rows:,} ledger entries "
                f"in {result.entry_seconds:.1f} s"
            )
    finally:
        conn.close()
    return result


def _timed_inserts(conn, table, columns, csv_path, debtor_ids, make_row) -> tuple[int, float]:
    """executemany the rows in chunks within one transaction; time only the database calls."""
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    seconds = 0.0
    rows = 0
    chunk: list[tuple] = []
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    seconds += time.perf_counter() - started
    for n, rec in enumerate(_invoice_rows(csv_path, debtor_ids), start=1):
        chunk.append(make_row(n, rec))
        if len(chunk) >= SQLITE_CHUNK:
            started = time.perf_counter()
            conn.executemany(sql, chunk)
            seconds += time.perf_counter() - started
            rows += len(chunk)
            chunk = []
    started = time.perf_counter()
    if chunk:
        conn.executemany(sql, chunk)
    conn.execute("COMMIT")
    seconds += time.perf_counter() - started
    return rows + len(chunk), seconds
