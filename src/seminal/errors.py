"""One error type for every bad input: a single line that names the file (and line)."""

from __future__ import annotations

from pathlib import Path


class SeminalError(Exception):
    """A user-facing error. `str(err)` is one line; the CLI prints it and exits non-zero."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}".replace("\n", " "))
