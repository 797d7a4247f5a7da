"""The installed ``vaarwater`` console command, run as a separate process."""

import subprocess
import sys

import pytest

from vaarwater.conftest import DEBTOR_HEADER, debtor_row

pytestmark = pytest.mark.slow


def vaarwater(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "vaarwater.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_command_end_to_end(cli_env, write_csv):
    """creditor create, import and a bad file's exit status 1 through the real command."""
    assert vaarwater("migrate", "-v0", env=cli_env).returncode == 0
    done = vaarwater(
        "creditor", "create", "WATER", "--name", "Water BV", "--sector", "water", env=cli_env
    )
    assert done.returncode == 0, done.stderr
    good = write_csv("d.csv", [DEBTOR_HEADER, debtor_row("D1")])
    done = vaarwater("import", "debtors", str(good), "--creditor", "WATER", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert "1 created" in done.stdout
    bad = write_csv("bad.csv", [DEBTOR_HEADER, debtor_row("D2", iban="NL00")])
    done = vaarwater("import", "debtors", str(bad), "--creditor", "WATER", env=cli_env)
    assert done.returncode == 1
    assert f"{bad}:2: iban: invalid IBAN 'NL00'" in done.stderr
    done = vaarwater("creditor", "create", "WATER", "--name", "x", "--sector", "water", env=cli_env)
    assert done.returncode != 0 and "already exists" in done.stderr
