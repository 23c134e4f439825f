"""Provenance of a run: which code (git commit), which data (DVC hash), which machine.

Every run records these three so a number in the results table can be traced back to the
exact commit and the exact bytes it came from. The data hash is DVC's own: `dvc_hash(p)` equals
the `md5:` that DVC 3.x writes into `dvc.lock` / `<p>.dvc` for `p` (a file's md5, or for a
directory the md5 of its JSON listing, suffixed `.dir`), computed with DVC's `dvc_data` code
rather than re-derived here, so the two can never drift apart.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from seminal.errors import SeminalError

ROOT_MARKERS = ("dvc.yaml", ".git")


def repo_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: cwd) holding dvc.yaml or .git; else `start`."""
    start = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(root: str | Path) -> str:
    """HEAD's sha, suffixed '-dirty' if tracked files differ from it; 'unknown' outside git
    (or in a repository without commits)."""
    sha = _git(Path(root), "rev-parse", "--verify", "HEAD")
    if not sha:
        return "unknown"
    status = _git(Path(root), "status", "--porcelain", "--untracked-files=no")
    return f"{sha}-dirty" if status else sha  # status None (git failed): report the clean sha


def _dvc_root(path: Path) -> Path:
    """The DVC repository holding `path` (folder with .dvc/), else the folder of `path`: the root
    whose .dvcignore DVC itself would apply."""
    for folder in path.parents:
        if (folder / ".dvc").is_dir():
            return folder
    return path.parent


def dvc_hash(path: str | Path) -> str:
    """The md5 DVC 3.x records for `path`: a file's md5, or '<md5>.dir' for a directory.

    Uses dvc_data's `build` (what `dvc add` / `dvc commit` call) as a dry run, with DVC's ignore
    rules (.git, .hg, .dvc and the repository's .dvcignore), so nothing is written to any cache.
    """
    from dvc.ignore import DvcIgnoreFilter
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_objects.fs import MemoryFileSystem
    from dvc_objects.fs.local import LocalFileSystem

    path = Path(path).resolve()
    if not path.exists():
        raise SeminalError("cannot hash: no such file or directory", path)
    fs = LocalFileSystem()
    odb = HashFileDB(MemoryFileSystem(), "memory://seminal-dvc-hash")  # staging only, in memory
    ignore = DvcIgnoreFilter(fs, str(_dvc_root(path)))
    _, _, obj = build(odb, str(path), fs, "md5", dry_run=True, ignore=ignore)
    value = obj.hash_info.value
    assert value, f"dvc_data returned no hash for {path}"
    return str(value)


def environment() -> dict[str, object]:
    """The machine a run used: Python, torch, platform and thread counts."""
    try:
        import torch

        torch_version, threads = str(torch.__version__), int(torch.get_num_threads())
    except ImportError:  # the sklearn baselines do not need torch
        torch_version, threads = "unavailable", 1
    return {
        "python": sys.version.split()[0],
        "torch": torch_version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "threads": threads,
        "cpus": os.cpu_count() or 1,
    }
