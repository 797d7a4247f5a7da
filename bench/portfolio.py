"""Generate (once) and reuse the benchmark portfolios under ``var/bench/<size>/``."""

import json
import time
from datetime import date
from pathlib import Path

SEED = 42
AS_OF = date(2026, 11, 1)
FILES = ("debtors", "invoices", "payments")
MANIFEST = "portfolio.json"


def portfolio(size: int, root: Path, *, log=print) -> tuple[Path, dict]:
    """Return the directory holding ``size`` debtors' CSV files and its manifest.

    The files are generated with a fixed seed and as-of date, so a directory whose manifest
    names the same size, seed and date holds the same bytes and is reused as it is.
    """
    out = root / str(size)
    manifest_path = out / MANIFEST
    wanted = {"debtors": size, "seed": SEED, "as_of": AS_OF.isoformat()}
    if manifest_path.exists() and all((out / f"{n}.csv").exists() for n in FILES):
        manifest = json.loads(manifest_path.read_text())
        if all(manifest.get(k) == v for k, v in wanted.items()):
            log(f"portfolio {size:,}: reusing {out}")
            return out, manifest
    from vaarwater.ledger.generator import generate_portfolio

    log(f"portfolio {size:,}: generating into {out} (seed {SEED}, as of {AS_OF})")
    started = time.perf_counter()
    counts = generate_portfolio(debtors=size, seed=SEED, as_of=AS_OF, out=out, progress=True)
    seconds = time.perf_counter() - started
    manifest = {
        **wanted,
        "rows": counts,
        "bytes": {n: (out / f"{n}.csv").stat().st_size for n in FILES},
        "generate_seconds": round(seconds, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"portfolio {size:,}: generated in {seconds:.1f} s: {counts}")
    return out, manifest


if __name__ == "__main__":
    import sys

    import django

    django.setup()
    for arg in sys.argv[1:]:
        portfolio(int(arg), Path("var/bench"))
