"""Statement matching benchmark: ``make bench`` / ``python -m bench.statement_bench``.

One synthetic camt.053.001.02 file of 100,000 transactions (``--transactions``) is made for a
creditor with 20,000 debtors (``--debtors``), each with one open invoice, half of them with a
known IBAN. The transactions are a fixed mix (seeded, so every run imports the same file):

- 40% name an invoice number (free text "Factuur F0012345", or a structured reference),
- 10% name the customer number ("klantnr 100123"),
- 20% carry only the payer's IBAN (a debtor's known IBAN),
- 15% carry only the payer's name, as a bank prints it ("DHR J DE VRIES"), and exactly the
  amount of that debtor's invoice,
- 10% match nobody (unknown payers, gifts),
- 5% are debits (money out).

For every database (SQLite, and PostgreSQL when reachable) the bench process makes a fresh
database, migrates it and loads the debtors and invoices (bulk inserts; not timed), then
times, in a child process:

1. **parse**: ``statement_parse`` of the file (lxml, streaming): transactions per second;
2. **import**: ``statement_import`` of the same file, the real thing: parse, store the
   entries, match every one and book the matches with the ledger's bulk verb
   (``ledger/booking.py``, the same rows as ``payment_book``); the time spent
   loading the creditor's index, deciding and booking is measured apart;
3. **again**: the same file imported again (it changes nothing);
4. **overlap**: the same transactions in another file (another message id): every entry is
   known, nothing is booked.

Results are kept in ``var/bench/statement-results.json`` and written into the "Statement
matching" section of ``docs/performance.md`` (between its own markers).

Only databases whose name starts with ``vaarwater_bench`` are ever dropped or created.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from . import harness
from .import_bench import log

ROOT = harness.ROOT
CREDITOR = "BENCH"
CREDITOR_IBAN = "NL02ABNA0123456789"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/vaarwater_bench_statements"
SEED = 20261102
BOOKING_DAY = date(2026, 11, 2)
BEGIN = "<!-- bench:statements:begin (written by python -m bench.statement_bench) -->"
END = "<!-- bench:statements:end -->"

FIRST = [
    "Jan",
    "Piet",
    "Kees",
    "Henk",
    "Sanne",
    "Anna",
    "Maria",
    "Petra",
    "Fatima",
    "Mohamed",
    "Ahmed",
    "Lotte",
    "Emma",
    "Sophie",
    "Daan",
    "Bram",
    "Lucas",
    "Noah",
    "Julia",
    "Eva",
    "Sara",
    "Tim",
    "Ruud",
    "Ingrid",
    "Wim",
    "Els",
    "Joost",
    "Mila",
    "Yara",
    "Finn",
]
PARTICLE = ("", "", "", "de ", "van ", "van der ", "van den ", "el ", "ter ")
LAST = [
    "Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Kok",
    "Jacobs",
    "Vermeulen",
    "Willems",
    "Hoekstra",
    "Koster",
    "Prins",
    "Huisman",
    "Amrani",
    "Yilmaz",
    "Kaya",
    "Boer",
    "Graaf",
    "Wit",
    "Berg",
    "Dam",
    "Leeuwen",
    "Veen",
    "Heuvel",
    "Linden",
    "Wal",
    "Brink",
    "Kuipers",
    "Maas",
    "Verhoeven",
    "Postma",
    "Schouten",
    "Groot",
    "Timmermans",
    "Wijnands",
    "Scholten",
    "Sarmo",
    "Bouzid",
    "Ozturk",
    "Nguyen",
    "Hoek",
]


def nl_iban(bank: str, account: int) -> str:
    """A Dutch IBAN with valid check digits."""
    number = f"{bank}{account:010d}"
    digits = "".join(str(int(c, 36)) for c in number + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{number}"


# --------------------------------------------------------------------------- the data


def portfolio(debtors: int, seed: int = SEED) -> list[dict]:
    """The creditor's debtors: number, name, IBAN (half of them), one invoice each."""
    rng = random.Random(seed)
    people = []
    for i in range(debtors):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        particle = rng.choice(PARTICLE)
        people.append(
            {
                "number": str(100000 + i),
                "name": f"{first} {particle}{last}",
                "first": first,
                "last": f"{particle}{last}",
                "iban": nl_iban("INGB", 1000000 + i) if i % 2 == 0 else "",
                "invoice": f"F{2026000000 + i}",
                "amount": rng.randrange(1500, 60000),
            }
        )
    return people


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def statement_file(path: Path, people: list[dict], transactions: int, *, message_id: str):
    """Write the camt.053.001.02 file; return the mix actually drawn."""
    rng = random.Random(SEED + transactions)
    mix = {"invoice": 0, "customer": 0, "iban": 0, "name": 0, "unknown": 0, "debit": 0}
    with_iban = [p for p in people if p["iban"]]
    total = 0
    parts = []
    for n in range(transactions):
        draw = rng.random()
        person = rng.choice(people)
        name, iban, ustrd, ref = "", "", "", ""
        credit = True
        amount = person["amount"] if rng.random() < 0.6 else rng.randrange(500, 20000)
        if draw < 0.40:
            kind = "invoice"
            if rng.random() < 0.5:
                ustrd = f"Factuur {person['invoice']} termijn"
            else:
                ref = person["invoice"]
            name = person["name"].upper()
        elif draw < 0.50:
            kind = "customer"
            ustrd = f"klantnr {person['number']} betaling"
            name = person["name"]
        elif draw < 0.70:
            kind = "iban"
            person = rng.choice(with_iban)
            iban, name = person["iban"], f"{person['first'][0]} {person['last']}".upper()
        elif draw < 0.85:
            kind = "name"
            amount = person["amount"]
            name = f"DHR {person['first'][0]} {person['last']}".upper()
        elif draw < 0.95:
            kind = "unknown"
            name = f"{rng.choice(FIRST)} Onbekend{n}"
            ustrd = "gift"
            iban = nl_iban("RABO", 5000000 + n)
        else:
            kind = "debit"
            credit = False
            name, ustrd = "Leverancier BV", f"inkoop {n}"
            iban = nl_iban("ABNA", 4000000 + n % 100)
        mix[kind] += 1
        total += amount if credit else -amount
        indicator = "CRDT" if credit else "DBIT"
        role = "Dbtr" if credit else "Cdtr"
        party = f"<{role}><Nm>{_xml(name)}</Nm></{role}>" if name else ""
        if iban:
            party += f"<{role}Acct><Id><IBAN>{iban}</IBAN></Id></{role}Acct>"
        remittance = ""
        if ustrd or ref:
            remittance = "<RmtInf>"
            if ustrd:
                remittance += f"<Ustrd>{_xml(ustrd)}</Ustrd>"
            if ref:
                remittance += (
                    "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                    f"<Ref>{ref}</Ref></CdtrRefInf></Strd>"
                )
            remittance += "</RmtInf>"
        parts.append(
            f'<Ntry><Amt Ccy="EUR">{_amount(amount)}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{BOOKING_DAY}</Dt></BookgDt>"
            f"<ValDt><Dt>{BOOKING_DAY}</Dt></ValDt><AcctSvcrRef>B{n:08d}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
            "</Domn></BkTxCd><NtryDtls><TxDtls><Refs>"
            f"<EndToEndId>{f'E2E{n:08d}' if n % 3 else 'NOTPROVIDED'}</EndToEndId></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{_amount(amount)}</Amt></TxAmt></AmtDtls>'
            f"<RltdPties>{party}</RltdPties>{remittance}</TxDtls></NtryDtls></Ntry>\n"
        )
    opening = 1000000

    def balance(code, cents):
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="EUR">{_amount(abs(cents))}</Amt>'
            f"<CdtDbtInd>{'CRDT' if cents >= 0 else 'DBIT'}</CdtDbtInd>"
            f"<Dt><Dt>{BOOKING_DAY}</Dt></Dt></Bal>"
        )

    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            f"<BkToCstmrStmt><GrpHdr><MsgId>{message_id}</MsgId>"
            f"<CreDtTm>{BOOKING_DAY}T20:00:00</CreDtTm></GrpHdr>\n"
            f"<Stmt><Id>BENCH-{BOOKING_DAY}</Id><CreDtTm>{BOOKING_DAY}T20:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{CREDITOR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            + balance("OPBD", opening)
            + balance("CLBD", opening + total)
            + "\n"
        )
        out.writelines(parts)
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return mix


# --------------------------------------------------------------------------- the child


def load_portfolio(people: list[dict]) -> None:
    """Creditor, debtors and invoices with their ledger entries, in bulk (not timed)."""
    from vaarwater.ledger.models import Component, Debtor, EntryKind, Invoice, LedgerEntry
    from vaarwater.ledger.services import creditor_create

    creditor = creditor_create(code=CREDITOR, name="Bench Energie BV", sector="energy")
    creditor.iban = CREDITOR_IBAN
    creditor.save(update_fields=["iban"])
    debtors = Debtor.objects.bulk_create(
        [
            Debtor(creditor=creditor, external_id=p["number"], name=p["name"], iban=p["iban"])
            for p in people
        ],
        batch_size=2000,
    )
    invoices = Invoice.objects.bulk_create(
        [
            Invoice(
                creditor=creditor,
                debtor=debtor,
                external_id=p["invoice"],
                issue_date=BOOKING_DAY - timedelta(days=45),
                due_date=BOOKING_DAY - timedelta(days=31),
                amount_cents=p["amount"],
            )
            for debtor, p in zip(debtors, people, strict=True)
        ],
        batch_size=2000,
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
        batch_size=2000,
    )


def child(opts) -> dict:
    """Runs in its own process, on the database named by VAARWATER_DATABASE_URL."""
    import django

    django.setup()
    from collections import Counter

    from django.core.management import call_command
    from django.db import connection

    from vaarwater.core.events import Actor
    from vaarwater.ledger.models import Payment
    from vaarwater.payments.statement_models import StatementEntry
    from vaarwater.payments.statements import matching, parsing
    from vaarwater.payments.statements.importing import statement_import

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    people = portfolio(opts.debtors)
    load_portfolio(people)
    prepare_seconds = time.perf_counter() - started
    raw = Path(opts.file).read_bytes()
    other = Path(opts.other_file).read_bytes()
    result: dict = {"prepare_seconds": round(prepare_seconds, 1), "bytes": len(raw)}

    t0 = time.perf_counter()
    parsed = parsing.statement_parse(raw, file_name="bench.xml")
    result["parse_seconds"] = time.perf_counter() - t0
    result["parsed"] = sum(len(s.entries) for s in parsed.statements)
    del parsed

    # Time the phases of the import by wrapping what it calls.
    spent: Counter = Counter()

    def timed(name, func):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t

        return wrapper

    matching.payments_book = timed("book", matching.payments_book)
    matching.CreditorIndex.__init__ = timed("index", matching.CreditorIndex.__init__)
    matching.CreditorIndex.decide = timed("decide", matching.CreditorIndex.decide)
    importing_parse = parsing.statement_parse
    from vaarwater.payments.statements import importing

    importing.statement_parse = timed("parse", importing_parse)

    actor = Actor.system("bench")
    t0 = time.perf_counter()
    outcome = statement_import(raw=raw, file_name="bench.xml", actor=actor).statements[0]
    result["import_seconds"] = time.perf_counter() - t0
    result["phases"] = {k: round(v, 2) for k, v in spent.items()}
    result["counts"] = {
        "new": outcome.new,
        "booked": outcome.booked,
        "unmatched": outcome.unmatched,
        "ignored": outcome.ignored,
    }
    result["methods"] = dict(Counter(StatementEntry.objects.values_list("match_method", flat=True)))
    payments = Payment.objects.count()

    t0 = time.perf_counter()
    again = statement_import(raw=raw, file_name="bench.xml", actor=actor).statements[0]
    result["again_seconds"] = time.perf_counter() - t0
    result["again"] = again.outcome
    t0 = time.perf_counter()
    overlap = statement_import(raw=other, file_name="bench-2.xml", actor=actor).statements[0]
    result["overlap_seconds"] = time.perf_counter() - t0
    result["overlap"] = {"new": overlap.new, "known": overlap.known}
    result["payments_after_reimport"] = Payment.objects.count() - payments
    result["database"] = connection.vendor
    return result


# --------------------------------------------------------------------------- the parent


def run_database(name: str, opts, files: tuple[Path, Path]) -> dict:
    log(f"{name}: fresh database, migrate, {opts.debtors:,} debtors, then the import")
    args = ["--debtors", str(opts.debtors), "--file", str(files[0])]
    args += ["--other-file", str(files[1])]
    return harness.in_fresh_database(
        name,
        module="bench.statement_bench",
        args=args,
        work=opts.var_dir / "statements",
        pg_url=opts.pg_url,
        keep=opts.keep,
    )


def _rate(count, seconds) -> str:
    return f"{count / seconds:,.0f}" if seconds else "-"


def report_block(data: dict) -> str:
    lines = ["", "## Statement matching", ""]
    machine = data.get("machine", {})
    run = data["run"]
    n = run["transactions"]
    lines += [
        f"Measured with `python -m bench.statement_bench` on {run['date']} (code "
        f"`{run['code']}`): one camt.053.001.02 file of {n:,} transactions "
        f"({run['bytes'] / 1e6:,.0f} MB) for a creditor with {run['debtors']:,} debtors, each "
        "with one open invoice, half with a known IBAN. Mix: "
        + ", ".join(f"{kind} {count:,}" for kind, count in run["mix"].items())
        + ".",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('ram_gib', '?')} GiB RAM; Python {machine.get('python', '?')}, "
        f"Django {machine.get('django', '?')}, SQLite {machine.get('sqlite', '?')}"
        + (f", PostgreSQL {machine['postgresql']}" if machine.get("postgresql") else "")
        + ".",
        "",
        "| database | parse s | parse tx/s | import s | import tx/s | index s | decide s "
        "| book s (payments) | store s | import again s | overlapping file s |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, res in run["databases"].items():
        if "error" in res:
            lines.append(f"| {name} | failed: {res['error']} | | | | | | | | | |")
            continue
        phases = res["phases"]
        store = res["import_seconds"] - sum(phases.values())
        lines.append(
            f"| {name} | {res['parse_seconds']:.1f} | {_rate(n, res['parse_seconds'])} "
            f"| {res['import_seconds']:.1f} | {_rate(n, res['import_seconds'])} "
            f"| {phases.get('index', 0):.1f} | {phases.get('decide', 0):.1f} "
            f"| {phases.get('book', 0):.1f} ({res['counts']['booked']:,}) | {store:.1f} "
            f"| {res['again_seconds']:.2f} | {res['overlap_seconds']:.1f} |"
        )
    lines.append("")
    for name, res in run["databases"].items():
        if "error" in res:
            continue
        counts = res["counts"]
        lines.append(
            f"- {name}: {counts['new']:,} entries stored; {counts['booked']:,} booked, "
            f"{counts['unmatched']:,} unmatched, {counts['ignored']:,} ignored; by method "
            + ", ".join(
                f"{method or '(none)'} {count:,}"
                for method, count in sorted(res["methods"].items())
            )
            + f". Importing again: {res['again']}; the overlapping file: "
            f"{res['overlap']['new']:,} new, {res['overlap']['known']:,} known; payments "
            f"added by both: {res['payments_after_reimport']}."
        )
    lines += [
        "",
        "Import tx/s counts every transaction of the file (parse, store, match, book) over the "
        "whole `statement_import` call; *parse* in the table is the parser alone. Within the "
        "import: *index* is loading what the matching needs about the creditor (a few "
        "queries), *decide* the matching rules for all entries in Python, *book* writing the "
        "matched payments (`ledger/booking.py`: positions read once, allocation by art. "
        "6:44 BW, bulk inserts of payments, ledger entries, allocations and `payment.booked` "
        "events), *store* the rest: the entries' keys and the check for known ones, the "
        "entries themselves and the `statement.entry_booked` events (bulk inserts). Importing "
        "again reads the file and finds it imported; the overlapping file (same transactions, "
        "another message id) is read, and every entry found known by its key.",
        "",
    ]
    return "\n".join(lines)


def write_report(path: Path, data: dict) -> None:
    harness.write_section(path, BEGIN, END, report_block(data))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.statement_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--debtors", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("VAARWATER_BENCH_STATEMENT_PG_URL", DEFAULT_PG_URL),
        help=f"PostgreSQL bench database, dropped and created (default: {DEFAULT_PG_URL})",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--no-report", action="store_true", help="do not touch the docs page")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the docs page from the last results (var/bench/statement-results.json)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--other-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    if opts.child:
        print(json.dumps(child(opts)))
        return 0
    opts.var_dir = opts.var_dir.resolve()
    if opts.report_only:
        write_report(opts.out, json.loads((opts.var_dir / "statement-results.json").read_text()))
        return 0
    work = opts.var_dir / "statements"
    work.mkdir(parents=True, exist_ok=True)
    people = portfolio(opts.debtors)
    log(f"writing the statement: {opts.transactions:,} transactions, {opts.debtors:,} debtors")
    started = time.perf_counter()
    first = work / f"statement-{opts.transactions}.xml"
    second = work / f"statement-{opts.transactions}-reissued.xml"
    mix = statement_file(first, people, opts.transactions, message_id="BENCH-1")
    statement_file(second, people, opts.transactions, message_id="BENCH-2")
    log(f"  {time.perf_counter() - started:.1f} s, {first.stat().st_size / 1e6:,.0f} MB")
    databases, pg_version = harness.reachable(opts.databases, opts.pg_url)
    run = {
        "date": harness.today(),
        "code": harness.commit(),
        "transactions": opts.transactions,
        "debtors": opts.debtors,
        "bytes": first.stat().st_size,
        "mix": mix,
        "databases": {},
    }
    failed = False
    for name in databases:
        try:
            res = run_database(name, opts, (first, second))
        except Exception as exc:  # noqa: BLE001 - report it and go on with the next
            failed = True
            log(f"{name}: FAILED: {exc}")
            run["databases"][name] = {"error": str(exc)}
            continue
        run["databases"][name] = res
        n = opts.transactions
        log(
            f"{name}: parse {res['parse_seconds']:.1f} s ({_rate(n, res['parse_seconds'])} tx/s); "
            f"import {res['import_seconds']:.1f} s ({_rate(n, res['import_seconds'])} tx/s), "
            f"phases {res['phases']}; {res['counts']}; again {res['again_seconds']:.2f} s; "
            f"overlap {res['overlap_seconds']:.1f} s {res['overlap']}"
        )
    data = harness.save_results(opts.var_dir, "statement-results.json", run, pg_version)
    results = opts.var_dir / "statement-results.json"
    if not opts.no_report:
        write_report(opts.out, data)
        log(f"results: {results}; page: {opts.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
