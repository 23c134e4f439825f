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

A user's benchmark may also be written as (`format:` of the task, see seminal.benchmark):
- csv: the same rules with commas (quoting `minimal` by default: RFC 4180 quotes);
- columns by name: `columns: {sentence1: text, label: polarity}` read from the header line;
- label_sentence, Kim 2014's preprocessed datasets (TREC, SST in his repository): one example a
  line, `label sentence`, the label being the first word (e.g. `1 a great movie`);
- one file per class (`files: {pos: rt-polarity.pos, neg: rt-polarity.neg}`, Kim's MR, CR,
  Subj, MPQA): every line of a file is one example's text and has the file's label.
"""

from __future__ import annotations

import csv
import io
import math
import re
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


DELIMITERS = {"tsv": "\t", "csv": ","}
LINES = "lines"  # one example's text a line: the files of a split given one file per class
_LABEL = re.compile(r"[ \t]*(\S+)[ \t]*")  # `label sentence`: the first word, then spaces or tabs


def _lines(text: str) -> list[tuple[int, str]]:
    lines = text.split("\n")
    if lines[-1] == "":  # the final newline ends the last record; it does not start a new one
        lines.pop()
    return [(i, line.removesuffix("\r")) for i, line in enumerate(lines, start=1)]


def _records(text: str, quoting: str, path: Path, fmt: str = "tsv") -> list[tuple[int, list[str]]]:
    """(1-based line, fields) for every record of the file, blank lines included (as [])."""
    if fmt == LINES:
        return [(i, [line] if line.strip() else []) for i, line in _lines(text)]
    if fmt == "label_sentence":  # [label, sentence], or [label] if there is no sentence, [] if blank
        out = []
        for i, line in _lines(text):
            m = _LABEL.match(line)
            sentence = line[m.end():] if m else ""
            out.append((i, [] if not m else [m[1], sentence] if sentence.strip() else [m[1]]))
        return out
    if fmt not in DELIMITERS:
        raise SeminalError(f"unknown format {fmt!r} (use {sorted(DELIMITERS)}, 'label_sentence')", path)
    delimiter = DELIMITERS[fmt]
    if quoting == "none":
        return [(i, line.split(delimiter) if line else []) for i, line in _lines(text)]
    if quoting == "minimal":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                            quoting=csv.QUOTE_MINIMAL, strict=True)
        out, start = [], 1
        try:
            for fields in reader:
                out.append((start, fields))
                start = reader.line_num + 1
        except csv.Error as e:
            raise SeminalError(f"malformed quoted {fmt.upper()} ({e})", path, reader.line_num) from e
        return out
    raise SeminalError(f"unknown quoting {quoting!r} (use 'none' or 'minimal')", path)


def _bad_row(fields: list[str], ncols: int, fmt: str) -> str:
    if not fields:
        return f"blank line, expected {ncols}" if fmt in DELIMITERS else "blank line, expected an example"
    if fmt == "label_sentence":
        return "expected `label sentence` (a label, a space, then the text), found a label alone"
    name = {"tsv": "tab-separated", "csv": "comma-separated"}[fmt]
    return f"{len(fields)} {name} columns, expected {ncols}"


def read_rows(path: str | Path, ncols: int | None, header: bool, quoting: str = "none",
              encoding: str = "utf-8-sig", fmt: str = "tsv") -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Read a TSV (CSV, label_sentence, lines) file and check that every record (header included)
    has `ncols` fields; ncols None: as many as the header has.

    Returns (header fields or None, [(line, fields), ...]). Raises SeminalError(path, line).
    """
    path = Path(path)
    text = _decode(path, encoding)
    if text == "":
        raise SeminalError("empty file", path)
    records = _records(text, quoting, path, fmt)
    if ncols is None:
        if not header:
            raise SeminalError("the number of columns is unknown: give 'ncols' or a header", path)
        ncols = len(records[0][1]) or 1
    expected = {"label_sentence": 2, LINES: 1}.get(fmt, ncols)
    for line, fields in records:
        if len(fields) != expected:
            raise SeminalError(_bad_row(fields, expected, fmt), path, line)
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


def _column_numbers(columns: dict[str, int | str], head: list[str] | None, path: Path) -> dict[str, int]:
    """Roles -> 0-based column numbers; a column given by name is looked up in the header."""
    out = {}
    for role, col in columns.items():
        if isinstance(col, str):
            if head is None or head.count(col) != 1:
                found = "no header" if head is None else f"the header has {head}"
                raise SeminalError(f"column {col!r} ({role}) must be named exactly once in the header; {found}",
                                   path, 1)
            col = head.index(col)
        out[role] = col
    return out


def _read_per_class(task: TaskSpec, split: str, spec: SplitSpec, root: Path) -> Split:
    """One file per class (Kim's MR: rt-polarity.pos/.neg): each line one example of that class,
    the files read in the order the spec lists them; the index is the running row number."""
    s1: list[str] = []
    labels: list[str] = []
    for label, file in (spec.files or {}).items():
        _check_label(task, label, root / file, 1)  # the loader checked it; kept for hand-made specs
        _, rows = read_rows(root / file, 1, False, encoding=task.encoding, fmt=LINES)
        s1 += [f[0] for _, f in rows]
        labels += [label] * len(rows)
    return Split(task.name, split, [str(i) for i in range(len(s1))], s1, None, labels)


def read_split(task: TaskSpec, split: str, root: str | Path) -> Split:
    """Read split `split` of `task`; file paths in the spec are relative to `root`."""
    if split not in task.splits:
        raise SeminalError(f"task {task.name} has no split {split!r} (has {sorted(task.splits)})")
    spec: SplitSpec = task.splits[split]
    if spec.files:
        return _read_per_class(task, split, spec, Path(root))
    path = Path(root) / str(spec.file)
    if "sentence1" not in spec.columns or task.is_pair != ("sentence2" in spec.columns):
        need = "sentence1 and sentence2" if task.is_pair else "sentence1 and no sentence2"
        raise SeminalError(f"task {task.name} ({task.kind}) split {split}: columns need {need}", path)
    head, rows = read_rows(path, spec.ncols, spec.header, task.quoting, task.encoding, task.format)
    cols = _column_numbers(spec.columns, head, path)

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

