"""Which code the benchmark measures: the working tree, or a frozen snapshot of a commit.

``--code worktree`` (the default) runs the ``vaarwater`` package as it is on disk and
records the commit with a note when ``vaarwater/`` has uncommitted changes. ``--code REV``
(e.g. ``HEAD``) extracts that commit's ``vaarwater/`` with ``git archive`` (read-only for
the repository) into ``var/bench/code-<sha>/`` and puts it first on ``PYTHONPATH`` for
every command, so edits made while a long run is going cannot change what it measures.
``--code frozen`` copies the working tree's ``vaarwater/`` as it is at the start (uncommitted
changes included) into ``var/bench/code-frozen/`` and measures that copy, for the same reason.
"""

import io
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--no-optional-locks", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


class Code:
    """The measured code: ``info`` for the results, ``env`` for the subprocesses."""

    def __init__(self, root: Path, var_dir: Path, rev: str):
        self.root = root
        self.path: Path | None = None
        try:
            if rev in ("worktree", "frozen"):
                commit = _git(root, "rev-parse", "--short=10", "HEAD")
                dirty = bool(_git(root, "status", "--porcelain", "--", "vaarwater"))
                self.info = {"commit": commit, "dirty": dirty, "source": "worktree"}
                if rev == "frozen":
                    self._freeze(var_dir)
                return
            commit = _git(root, "rev-parse", "--short=10", f"{rev}^{{commit}}")
        except (OSError, subprocess.CalledProcessError) as exc:
            if rev != "worktree":
                raise SystemExit(f"--code {rev}: not a commit in {root} ({exc})") from None
            self.info = {"commit": "unknown", "dirty": None, "source": "worktree"}
            return
        self.info = {"commit": commit, "dirty": False, "source": "snapshot"}
        self.path = var_dir / f"code-{commit}"
        if not (self.path / "vaarwater" / "__init__.py").exists():
            shutil.rmtree(self.path, ignore_errors=True)
            archive = subprocess.run(
                ["git", "--no-optional-locks", "archive", "--format=tar", commit, "vaarwater"],
                cwd=root,
                capture_output=True,
                check=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(self.path, filter="data")

    def _freeze(self, var_dir: Path) -> None:
        self.path = var_dir / "code-frozen"
        shutil.rmtree(self.path, ignore_errors=True)
        shutil.copytree(
            self.root / "vaarwater",
            self.path / "vaarwater",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
        )
        self.info["source"] = "frozen worktree"
        self.info["frozen_at"] = time.strftime("%Y-%m-%d %H:%M")

    def activate(self) -> None:
        """Import ``vaarwater`` from the snapshot in this process too."""
        if self.path is not None:
            sys.path.insert(0, str(self.path))

    def env(self, env: dict) -> dict:
        if self.path is None:
            return env
        existing = env.get("PYTHONPATH")
        return {**env, "PYTHONPATH": f"{self.path}:{existing}" if existing else str(self.path)}

    def label(self) -> str:
        if self.info["source"] == "snapshot":
            return self.info["commit"]
        if self.info["source"] == "frozen worktree" and self.info["dirty"]:
            return f"{self.info['commit']} + uncommitted changes as of {self.info['frozen_at']}"
        return self.info["commit"] + (" + uncommitted changes" if self.info["dirty"] else "")

    def cleanup(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
