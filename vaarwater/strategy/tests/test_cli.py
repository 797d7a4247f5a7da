"""The ``vaarwater strategy`` and ``vaarwater run-day`` commands, and the demo's daily cycle."""

import subprocess
import sys
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from vaarwater.strategy.models import Case, Decision, StrategyVersion
from vaarwater.strategy.tests.conftest import BASIC

BAD = """strategy: Slecht!
title: x
segments:
  - {name: a, label: A, path: nergens, when: {balance_min: veel}}
paths:
  p:
    - {step: charge_costs}
    - {step: message, channel: fax, template: herinnering}
"""


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_load_stores_a_version_and_says_from_when(creditor, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASIC, encoding="utf-8")
    out, _ = run("strategy", "load", str(path), "--creditor", "energie", "--from", "2026-12-01")
    assert "stored ENERGIE strategy test v1 (Teststrategie)" in out
    assert "applies to cases opened from 2026-12-01" in out
    version = StrategyVersion.objects.get()
    assert version.source_text == BASIC and not version.shipped
    out, _ = run("strategy", "list", "--creditor", "ENERGIE")
    # v1 applies from December; until then the shipped strategy does (stored as v2 by list).
    assert "v1" in out and "2026-12-01" in out and "shipped" in out
    out, _ = run("strategy", "show", "--creditor", "ENERGIE", "--version", "1")
    assert "Teststrategie" in out


def test_invalid_document_is_refused_with_every_problem(creditor, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("strategy", "load", str(path), "--creditor", "ENERGIE", stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    assert f"{path}: strategy: String should match pattern '^[a-z0-9][a-z0-9_-]{{0,63}}$'" in (
        lines
    )
    assert any(
        line.startswith(f"{path}: segments.0.when.balance_min: 'veel' is not an amount")
        for line in lines
    )
    assert any(line.startswith(f"{path}: paths.p.1.channel: Input should be") for line in lines)
    assert not StrategyVersion.objects.exists()


def test_semantic_problems_are_named(creditor, tmp_path):
    path = tmp_path / "sem.yaml"
    path.write_text(BAD.replace("Slecht!", "slecht").replace("fax", "sms").replace("veel", "5"))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("strategy", "check", str(path), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert f"{path}: segments.0.path: no path named 'nergens'; paths are: p" in lines
    assert any(
        line.startswith(f"{path}: paths.p.0.step: charge_costs needs a fourteen_day_letter")
        for line in lines
    )


def test_unknown_creditor_and_missing_file(creditor, tmp_path):
    with pytest.raises(CommandError, match="no such creditor"):
        run("strategy", "load", str(tmp_path / "x.yaml"), "--creditor", "NOPE")
    with pytest.raises(CommandError, match="no such file"):
        run("strategy", "load", str(tmp_path / "x.yaml"), "--creditor", "ENERGIE")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("run-day", "--date", "23-11-2026")


def test_run_day_prints_a_summary(load_strategy, make_debtor):
    load_strategy()
    make_debtor(due=date(2026, 10, 1))
    out, _ = run("run-day", "--date", "2026-10-06")
    assert "run-day 2026-10-06: 1 debtors looked at in 1 chunk(s)" in out
    assert "cases opened" in out and "done: message email" in out
    assert Decision.objects.count() == 1


def test_demo_runs_simulated_days(db, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    out, _ = run("demo", "--debtors", "80", "--dir", str(tmp_path / "csv"), "--days", "6")
    assert out.count("daily run ") == 6
    assert Case.objects.exists() and Decision.objects.exists()


@pytest.mark.slow
def test_vaarwater_command_end_to_end(cli_env, tmp_path):
    """The real console script: migrate, create a creditor, load a bad and a good strategy."""
    vaarwater = [sys.executable, "-m", "vaarwater.cli"]

    def cli(*args, check=True):
        return subprocess.run(
            [*vaarwater, *args], env=cli_env, capture_output=True, text=True, check=check
        )

    cli("migrate", "-v", "0")
    cli("creditor", "create", "WATER", "--name", "Water BV", "--sector", "water")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    result = cli("strategy", "load", str(bad), "--creditor", "WATER", check=False)
    assert result.returncode != 0
    assert f"{bad}: paths.p.1.channel:" in result.stderr
    good = tmp_path / "good.yaml"
    good.write_text(BASIC, encoding="utf-8")
    result = cli("strategy", "load", str(good), "--creditor", "WATER")
    assert "stored WATER strategy test v2" in result.stdout  # v1: the shipped one
    result = cli("run-day", "--date", "2026-11-23", "--dry-run")
    assert "dry run: nothing was saved" in result.stdout


def test_days_run_in_order(load_strategy, make_debtor):
    load_strategy()
    make_debtor(due=date(2026, 10, 1))
    run("run-day", "--date", "2026-10-10")
    with pytest.raises(CommandError, match="2026-10-10 has already run; days run in order"):
        run("run-day", "--date", "2026-10-09")
    out, _ = run("run-day", "--date", "2026-10-09", "--dry-run")  # a look back is fine
    assert "dry run" in out
    run("run-day", "--date", "2026-10-10")  # the same day again is fine (and does nothing)
