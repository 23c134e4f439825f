"""Atomic file output: everything is written to a temporary file beside the target, then renamed.

A crash, a full disk or a kill -9 therefore never leaves a half-written output, and an
earlier version of the file stays intact until the new one is complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml

from seminal.errors import SeminalError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """`open()` that writes to a temporary file and renames it onto `path` on success."""
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    with atomic_path(path) as tmp:
        try:
            with open(tmp, mode, **kwargs) as f:
                yield f
        except OSError as e:  # e.g. ENOSPC: name the real target, not the temporary file
            raise SeminalError(f"cannot write ({e.strerror or e})", path) from e


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def write_json(path: str | Path, obj: Any) -> None:
    """Deterministic JSON (sorted keys, fixed indent) so equal results give equal bytes."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_npy(path: str | Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as f:
        np.save(f, array)


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SeminalError("file not found", path) from e
    except json.JSONDecodeError as e:
        raise SeminalError(f"invalid JSON: {e.msg}", path, e.lineno) from e


def read_yaml(path: str | Path) -> Any:
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SeminalError("file not found", path) from e
    except yaml.YAMLError as e:
        line = e.problem_mark.line + 1 if getattr(e, "problem_mark", None) else None
        raise SeminalError(f"invalid YAML: {getattr(e, 'problem', e)}", path, line) from e


def parse_mapping(text: str | None, what: str) -> dict[str, Any]:
    """A JSON or YAML mapping given on the command line ({} for none). JSON first: PyYAML reads
    JSON's 1e-09 as a string (YAML 1.1 floats need a dot). Errors name `what` in one line."""
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SeminalError(f"{what} is not JSON or YAML: {e}".splitlines()[0]) from e
    if raw is None:  # an empty document, or null
        return {}
    if not isinstance(raw, dict):
        raise SeminalError(f"{what} must be a mapping")
    return raw
