"""Provenance: git commit (+ -dirty) and DVC's own data hash, checked against real `dvc add`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from seminal.errors import SeminalError
from seminal.provenance import dvc_hash, environment, git_commit, repo_root

DVC = Path(sys.executable).with_name("dvc")
GIT = shutil.which("git")


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    out = subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True,
                         text=True)
    return out.stdout.strip()


@pytest.mark.skipif(GIT is None, reason="git not installed")
def test_git_commit_clean_dirty_and_outside(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    assert git_commit(repo) == "unknown"  # not a repository
    _git(repo, "init", "-q")
    assert git_commit(repo) == "unknown"  # a repository without commits
    (repo / "a.txt").write_text("one\n")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-q", "-m", "first")
    sha = _git(repo, "rev-parse", "HEAD")
    assert git_commit(repo) == sha and len(sha) == 40
    (repo / "untracked.txt").write_text("x\n")  # untracked files do not make it dirty
    assert git_commit(repo) == sha
    (repo / "a.txt").write_text("two\n")
    assert git_commit(repo) == f"{sha}-dirty"


def test_repo_root_walks_up(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert repo_root(deep) == tmp_path.resolve()


def _make_data(root: Path) -> None:
    d = root / "data" / "bench"
    (d / "CoLA").mkdir(parents=True)
    (d / "MNLI" / "nested" / "deeper").mkdir(parents=True)
    (d / "CoLA" / "train.tsv").write_bytes(b"src\t1\t\tA sentence .\r\nsrc\t0\t*\tbad one\n")
    (d / "MNLI" / "dev.tsv").write_text("index\tsentence1\n0\tx\n")
    (d / "MNLI" / "nested" / "deeper" / "ids.bin").write_bytes(bytes(range(256)) * 50)
    (d / "MNLI" / "nested" / "empty.txt").write_bytes(b"")
    (root / "single.txt").write_text("just one file\n")


def _dvc(root: Path, *args: str) -> None:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run([str(DVC), *args], cwd=root, env=env, check=True, capture_output=True, text=True)


@pytest.mark.skipif(not DVC.exists(), reason="dvc not in the venv")
def test_dvc_hash_matches_dvc_add_and_dvc_lock(tmp_path: Path) -> None:
    _make_data(tmp_path)
    (tmp_path / ".dvcignore").write_text("*.ignored\n")
    (tmp_path / "data" / "bench" / "CoLA" / "skip.ignored").write_text("DVC ignores this\n")
    _dvc(tmp_path, "init", "--no-scm", "-q")
    _dvc(tmp_path, "add", "-q", "data/bench", "single.txt")
    recorded = {p: yaml.safe_load((tmp_path / f"{p}.dvc").read_text())["outs"][0]["md5"]
                for p in ("data/bench", "single.txt")}
    assert recorded["data/bench"].endswith(".dir")
    for p, md5 in recorded.items():
        assert dvc_hash(tmp_path / p) == md5, p

    # the same through a pipeline stage's dvc.lock
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").mkdir()
    (tmp_path / "out" / "sub" / "r.json").write_text('{"acc": 0.5}\n')
    (tmp_path / "out" / "t.md").write_text("| a |\n")
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  report:\n    cmd: 'true'\n    outs: [out]\n    deps: [single.txt]\n")
    _dvc(tmp_path, "commit", "-q", "-f")
    lock = yaml.safe_load((tmp_path / "dvc.lock").read_text())["stages"]["report"]
    assert dvc_hash(tmp_path / "out") == lock["outs"][0]["md5"]
    assert dvc_hash(tmp_path / "single.txt") == lock["deps"][0]["md5"]


def test_dvc_hash_changes_with_content_and_errors(tmp_path: Path) -> None:
    _make_data(tmp_path)
    d = tmp_path / "data" / "bench"
    before = dvc_hash(d)
    assert before == dvc_hash(d)  # deterministic
    (d / "CoLA" / "train.tsv").write_text("changed\n")
    assert dvc_hash(d) != before
    with pytest.raises(SeminalError, match="no such file"):
        dvc_hash(tmp_path / "missing")


def test_environment_fields() -> None:
    env = environment()
    assert set(env) >= {"python", "torch", "platform", "threads"}
    assert env["python"].count(".") == 2 and int(env["threads"]) >= 1
