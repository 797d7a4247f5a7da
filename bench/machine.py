"""Facts about the machine a benchmark ran on, for the results page."""

import os
import platform
import shutil
import sqlite3
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _disk(path: Path) -> str:
    """The filesystem holding ``path``: device, type, size and whether it spins."""
    try:
        out = subprocess.run(
            ["df", "-P", "-T", str(path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
        device, fstype = out.split()[:2]
    except (OSError, subprocess.CalledProcessError, ValueError):
        device, fstype = "?", "?"
    total = shutil.disk_usage(path).total / 1024**3
    kind = ""
    name = Path(device).name.rstrip("0123456789")
    rotational = Path(f"/sys/block/{name}/queue/rotational")
    if rotational.exists():
        kind = f"kernel reports rotational={rotational.read_text().strip()}"
    return ", ".join(p for p in (f"{device} ({fstype})", f"{total:.0f} GiB", kind) if p)


def machine_facts(var_dir: Path, pg_version: str | None) -> dict:
    import django
    import psycopg

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "disk": _disk(var_dir),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
    }
