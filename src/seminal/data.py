"""Reading a benchmark split: GLUE-layout TSV files into plain lists of strings.

GLUE (Wang et al. 2019, "GLUE: A Multi-Task Benchmark and Analysis Platform for Natural
Language Understanding", ICLR) ships each task as tab-separated files whose layouts differ
from task to task (CoLA train/dev have no header, MRPC carries a byte-order mark, STS-B has
ten columns, ...). The benchmark spec (`seminal.benchmark`) says which column holds what;
this module reads the file, checks every row and returns a `Split`.

Rules, all as the official GLUE loaders read these files:
- quoting is disabled (csv.QUOTE_NONE): a line is one record, fields are split on tabs, and
  quote characters are text (MRPC and MNLI contain unbalanced quotes). `quoting: minimal`
  (csv.QUOTE_MINIMAL) is available for a user's own files;
- a byte-order mark is tolerated (encoding `utf-8-sig`), a missing final newline too
  (CoLA dev.tsv, diagnostic.tsv), and a trailing carriage return (CRLF files) is removed;
- every row must have exactly `ncols` fields, every label must be one of the task's labels
  (regression: a finite number). Nothing is skipped: a bad row is an error naming file:line.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seminal.benchmark import SplitSpec, TaskSpec
from seminal.errors import SeminalError

META_HEADER = ["distance", "phenomenon"]


@dataclass
class Split:
    task: str
    split: str
    index: list[str]  # the file's `index` column, else the 0-based row number
    sentence1: list[str]
    sentence2: list[str] | None  # None for single-sentence tasks
    labels: list[str] | None  # raw label strings (regression scores as written); None if unlabelled
    distance: list[int] | None = None  # from the split's .meta.tsv (embedded benchmark only)
    phenomenon: list[str] | None = None

    def __len__(self) -> int:
        return len(self.index)


def _decode(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise SeminalError("file not found", path) from e
    except OSError as e:  # a directory, no permission, ...
        raise SeminalError(f"cannot read ({e.strerror or e})", path) from e
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        # The codec's offset is not a file offset (utf-8-sig counts after the BOM): find the line.
        for number, raw in enumerate(data.split(b"\n"), start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as line_error:
                bad = raw[line_error.start:line_error.start + 1].hex()
                raise SeminalError(f"not valid {encoding} text (byte 0x{bad} at column "
                                   f"{line_error.start + 1})", path, number) from e
        raise SeminalError(f"not valid {encoding} text ({e.reason})", path) from e


def _records(text: str, quoting: str, path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line, fields) for every record of the file, blank lines included (as [])."""
    if quoting == "none":
        lines = text.split("\n")
        if lines[-1] == "":  # the final newline ends the last record; it does not start a new one
            lines.pop()
        return [(i, line.removesuffix("\r").split("\t") if line not in ("", "\r") else [])
                for i, line in enumerate(lines, start=1)]
    if quoting == "minimal":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t",
                            quoting=csv.QUOTE_MINIMAL, strict=True)
        out, start = [], 1
        try:
            for fields in reader:
                out.append((start, fields))
                start = reader.line_num + 1
        except csv.Error as e:
            raise SeminalError(f"malformed quoted TSV ({e})", path, reader.line_num) from e
        return out
    raise SeminalError(f"unknown quoting {quoting!r} (use 'none' or 'minimal')", path)


def read_rows(path: str | Path, ncols: int, header: bool, quoting: str = "none",
              encoding: str = "utf-8-sig") -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Read a TSV file and check that every record (header included) has `ncols` fields.

    Returns (header fields or None, [(line, fields), ...]). Raises SeminalError(path, line).
    """
    path = Path(path)
    text = _decode(path, encoding)
    if text == "":
        raise SeminalError("empty file", path)
    records = _records(text, quoting, path)
    for line, fields in records:
        if len(fields) != ncols:
            what = "blank line" if not fields else f"{len(fields)} tab-separated columns"
            raise SeminalError(f"{what}, expected {ncols}", path, line)
    head = records.pop(0)[1] if header else None
    if not records:
        raise SeminalError("no data rows" + (" after the header" if header else ""), path)
    return head, records


def _is_finite_number(x: str) -> bool:
    try:
        return math.isfinite(float(x))
    except ValueError:
        return False


def _check_label(task: TaskSpec, value: str, path: Path, line: int) -> None:
    if task.is_regression:
        if not _is_finite_number(value):
            raise SeminalError(f"label {value!r} is not a finite number", path, line)
    elif value not in task.labels:  # type: ignore[operator]
        raise SeminalError(f"unknown label {value!r}; task {task.name} has labels "
                           f"{list(task.labels or ())}", path, line)


def _read_meta(path: Path, n: int, data_path: Path) -> tuple[list[int], list[str]]:
    head, rows = read_rows(path, len(META_HEADER), header=True)
    if head != META_HEADER:
        raise SeminalError(f"header {head} must be {'<TAB>'.join(META_HEADER)}", path, 1)
    if len(rows) != n:
        line = rows[n][0] if len(rows) > n else None
        raise SeminalError(f"{len(rows)} meta rows but {data_path} has {n} examples", path, line)
    distance, phenomenon = [], []
    for line, (d, p) in rows:
        try:
            distance.append(int(d))
        except ValueError as e:
            raise SeminalError(f"distance {d!r} is not an integer", path, line) from e
        phenomenon.append(p)
    return distance, phenomenon


def read_split(task: TaskSpec, split: str, root: str | Path) -> Split:
    """Read split `split` of `task`; file paths in the spec are relative to `root`."""
    if split not in task.splits:
        raise SeminalError(f"task {task.name} has no split {split!r} (has {sorted(task.splits)})")
    spec: SplitSpec = task.splits[split]
    path = Path(root) / spec.file
    cols = spec.columns
    if "sentence1" not in cols or task.is_pair != ("sentence2" in cols):
        need = "sentence1 and sentence2" if task.is_pair else "sentence1 and no sentence2"
        raise SeminalError(f"task {task.name} ({task.kind}) split {split}: columns need {need}", path)
    _, rows = read_rows(path, spec.ncols, spec.header, task.quoting, task.encoding)

    s1 = [f[cols["sentence1"]] for _, f in rows]
    s2 = [f[cols["sentence2"]] for _, f in rows] if "sentence2" in cols else None
    if "index" in cols:
        index = [f[cols["index"]] for _, f in rows]
    else:
        index = [str(i) for i in range(len(rows))]
    labels = None
    if "label" in cols:
        labels = [f[cols["label"]] for _, f in rows]
        for (line, _), value in zip(rows, labels):
            _check_label(task, value, path, line)

    distance = phenomenon = None
    if spec.meta:
        distance, phenomenon = _read_meta(Path(root) / spec.meta, len(rows), path)
    return Split(task.name, split, index, s1, s2, labels, distance, phenomenon)


def label_ids(task: TaskSpec, labels: list[str], path: str | Path | None = None) -> np.ndarray:
    """Label strings -> int64 class ids (positions in task.labels), or float32 regression scores."""
    if task.is_regression:
        bad = [i for i, x in enumerate(labels) if not _is_finite_number(x)]
        if bad:
            raise SeminalError(f"label {labels[bad[0]]!r} (row {bad[0]}) is not a finite number", path)
        return np.array([float(x) for x in labels], dtype=np.float32)
    ids = {label: i for i, label in enumerate(task.labels or ())}
    try:
        return np.array([ids[x] for x in labels], dtype=np.int64)
    except KeyError as e:
        row = next(i for i, x in enumerate(labels) if x not in ids)
        raise SeminalError(f"unknown label {labels[row]!r} (row {row}); task {task.name} has "
                           f"labels {list(ids)}", path) from e

