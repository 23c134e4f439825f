"""Workflow tests run Snakemake and DVC in a temporary copy of the repository, never in the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's snakemake, dvc and seminal live beside python


def run(args: list[str], cwd: Path, check: bool = True, timeout: int = 1200,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SNAKEMAKE_"))}, **(env or {})}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def copy_repo(dest: Path) -> Path:
    """The files git would ship (tracked + untracked, not ignored), committed in a fresh repository."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    run(["git", "init", "-q", "-b", "main"], dest)
    run(["git", "add", "-A"], dest)
    # a fixed author and date: two copies of the same files get the same commit, which every run records
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy", "--date", "2026-01-01T00:00:00Z"],
        dest, env={"GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"})
    return dest


@pytest.fixture(scope="session")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("ws") / "repo")


@pytest.fixture(scope="session")
def make_repo_copy(tmp_path_factory: pytest.TempPathFactory):
    """`make_repo_copy(name)`: another copy of the repository, with its own results and MLflow store."""
    return lambda name: copy_repo(tmp_path_factory.mktemp(name) / "repo")


@pytest.fixture(scope="session")
def sh():
    """`sh(args, cwd, check=True, timeout=…)`: run a command with the venv's tools first on PATH."""
    return run


@pytest.fixture(scope="session")
def ran(sh, repo_copy: Path) -> Path:
    """The repository copy after a full `snakemake --profile profiles/ci` (shared by the workflow tests)."""
    sh(["snakemake", "--profile", "profiles/ci"], repo_copy, timeout=1800)
    sh(["snakemake", "--profile", "profiles/ci", "--report", "results/synglue/report.html"], repo_copy)
    return repo_copy


@pytest.fixture
def own_repo_copy(tmp_path: Path) -> Path:
    """A copy of the repository for this test alone (a run that must not touch the session's copy)."""
    return copy_repo(tmp_path / "repo")
