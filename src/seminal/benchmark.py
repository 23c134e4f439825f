"""A benchmark is data: a YAML file describing each task's files, columns, labels and metrics.

Both built-in benchmarks (`config/benchmarks/synglue.yaml`, `config/benchmarks/glue.yaml`) and a
user's own are read by this one module, in the spirit of lm-evaluation-harness task YAML. File
paths in the spec are relative to the benchmark's data folder, which the caller supplies.

    name: synglue
    tasks:
      CoLA:
        kind: single              # single | pair
        output: classification    # classification | regression
        labels: ["0", "1"]        # label strings exactly as written in the files
        metrics: [mcc]            # names in seminal.metrics.METRICS
        eval: [dev]               # splits that are scored (MNLI: dev_matched, dev_mismatched)
        submission: {test: CoLA.tsv}   # split -> GLUE submission file name
        splits:
          train: {file: CoLA/train.tsv, header: false, ncols: 4, columns: {label: 1, sentence1: 3}}
          dev:   {file: CoLA/dev.tsv,   header: false, ncols: 4, columns: {label: 1, sentence1: 3},
                  meta: CoLA/dev.meta.tsv}
          test:  {file: CoLA/test.tsv,  header: true,  ncols: 2, columns: {index: 0, sentence1: 1}}

`columns` maps the roles `index`, `sentence1`, `sentence2`, `label` to 0-based column numbers.
`meta` (optional) is a TSV with a header `distance<TAB>phenomenon` and one row per example, in
the same order: the embedded benchmark's dependency-distance annotation.
A task with `predict_with: MNLI` (the diagnostic set AX) has no training split of its own and is
predicted by the model trained on the named task.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seminal.errors import SeminalError
from seminal.io import read_yaml

ROLES = ("index", "sentence1", "sentence2", "label")
KINDS = ("single", "pair")
OUTPUTS = ("classification", "regression")
QUOTINGS = ("none", "minimal")  # csv.QUOTE_NONE (GLUE) or csv.QUOTE_MINIMAL


@dataclass(frozen=True)
class SplitSpec:
    file: str
    header: bool
    ncols: int
    columns: dict[str, int]
    meta: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: str
    output: str
    labels: tuple[str, ...] | None
    metrics: tuple[str, ...]
    splits: dict[str, SplitSpec]
    eval: tuple[str, ...] = ("dev",)
    submission: dict[str, str] = field(default_factory=dict)
    predict_with: str | None = None
    quoting: str = "none"  # GLUE files are read with csv.QUOTE_NONE, as the official loaders do
    encoding: str = "utf-8-sig"  # tolerate a byte-order mark (MRPC ships one)

    @property
    def is_pair(self) -> bool:
        return self.kind == "pair"

    @property
    def is_regression(self) -> bool:
        return self.output == "regression"

    @property
    def num_labels(self) -> int:
        return 1 if self.labels is None else len(self.labels)


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    tasks: dict[str, TaskSpec]
    path: Path | None = None

    def task(self, name: str) -> TaskSpec:
        if name not in self.tasks:
            known = ", ".join(self.tasks)
            raise SeminalError(f"unknown task {name!r} (known: {known})", self.path)
        return self.tasks[name]

    @property
    def trainable_tasks(self) -> list[str]:
        return [t for t, s in self.tasks.items() if s.predict_with is None]


def _split(raw: Any, where: str, path: Path) -> SplitSpec:
    if not isinstance(raw, dict) or "file" not in raw or not isinstance(raw.get("columns"), dict):
        raise SeminalError(f"{where}: a split needs 'file' and a 'columns' mapping", path)
    columns = dict(raw["columns"])
    bad = set(columns) - set(ROLES)
    if bad:
        raise SeminalError(f"{where}: unknown column role(s) {sorted(bad)}; use {ROLES}", path)
    if "sentence1" not in columns:
        raise SeminalError(f"{where}: columns need a 'sentence1'", path)
    if any(not isinstance(c, int) or isinstance(c, bool) for c in columns.values()):
        raise SeminalError(f"{where}: column numbers must be integers", path)
    if not isinstance(raw.get("header", True), bool):
        raise SeminalError(f"{where}: 'header' must be true or false", path)
    ncols = raw.get("ncols", max(columns.values()) + 1)
    if not isinstance(ncols, int) or any(not 0 <= c < ncols for c in columns.values()):
        raise SeminalError(f"{where}: column numbers must be integers in [0, {ncols})", path)
    return SplitSpec(str(raw["file"]), bool(raw.get("header", True)), ncols,
                     {k: int(v) for k, v in columns.items()}, raw.get("meta"))


def _task(name: str, raw: Any, path: Path) -> TaskSpec:
    where = f"task {name}"
    if not isinstance(raw, dict):
        raise SeminalError(f"{where}: expected a mapping", path)
    kind, output = raw.get("kind", "single"), raw.get("output", "classification")
    if kind not in KINDS or output not in OUTPUTS:
        raise SeminalError(f"{where}: kind must be one of {KINDS}, output one of {OUTPUTS}", path)
    labels = raw.get("labels")
    distinct = isinstance(labels, list) and len(set(map(str, labels))) == len(labels) >= 2
    if output == "classification" and not distinct:
        raise SeminalError(f"{where}: a classification task needs 2+ distinct 'labels'", path)
    if output == "regression" and labels is not None:
        raise SeminalError(f"{where}: a regression task takes no 'labels'", path)
    if not isinstance(raw.get("splits") or {}, dict):
        raise SeminalError(f"{where}: 'splits' must be a mapping", path)
    splits = {s: _split(v, f"{where} split {s}", path) for s, v in (raw.get("splits") or {}).items()}
    for s, spec in splits.items():
        if (kind == "pair") != ("sentence2" in spec.columns):
            rule = "needs a" if kind == "pair" else "takes no"
            raise SeminalError(f"{where} split {s}: a {kind} task {rule} 'sentence2' column", path)
    submission = raw.get("submission", {})
    if not isinstance(raw.get("eval", []), list) or not isinstance(submission, dict):
        raise SeminalError(f"{where}: 'eval' must be a list and 'submission' a mapping", path)
    evals = tuple(raw.get("eval", ["dev"] if "dev" in splits else []))
    for s in evals + tuple(submission):
        if s not in splits:
            raise SeminalError(f"{where}: split {s!r} is used but not defined", path)
    for s in evals:
        if "label" not in splits[s].columns:
            raise SeminalError(f"{where}: eval split {s!r} has no 'label' column", path)
    quoting, encoding = raw.get("quoting", "none"), raw.get("encoding", "utf-8-sig")
    if quoting not in QUOTINGS:
        raise SeminalError(f"{where}: quoting must be one of {QUOTINGS}", path)
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError) as e:
        raise SeminalError(f"{where}: unknown encoding {encoding!r}", path) from e
    if raw.get("predict_with") is None and "train" not in splits:
        raise SeminalError(f"{where}: needs a 'train' split or 'predict_with'", path)
    from seminal.metrics import METRICS  # late import: metrics imports nothing from here

    metrics = raw.get("metrics")
    if not isinstance(metrics, list):
        raise SeminalError(f"{where}: 'metrics' must be a non-empty list of {sorted(METRICS)}", path)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise SeminalError(f"{where}: metrics {unknown or '[]'} not in {sorted(METRICS)}", path)
    return TaskSpec(
        name=name, kind=kind, output=output,
        labels=tuple(str(x) for x in labels) if labels else None,
        metrics=tuple(raw["metrics"]), splits=splits, eval=evals,
        submission=dict(submission), predict_with=raw.get("predict_with"),
        quoting=quoting, encoding=encoding,
    )


def load_benchmark(path: str | Path) -> BenchmarkSpec:
    """Read and validate a benchmark file; every problem is one line naming the file."""
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("tasks"), dict) or not raw["tasks"]:
        raise SeminalError("a benchmark file needs 'name' and a non-empty 'tasks' mapping", path)
    tasks = {str(n): _task(str(n), t, path) for n, t in raw["tasks"].items()}
    for t in tasks.values():
        if t.predict_with is None:
            continue
        base = tasks.get(t.predict_with)
        if base is None or base.predict_with is not None:
            raise SeminalError(f"task {t.name}: predict_with {t.predict_with!r} is not a trainable "
                               "task", path)
        if (base.output, base.labels) != (t.output, t.labels):
            raise SeminalError(f"task {t.name}: must have the same output and labels (in the same "
                               f"order) as {base.name}, whose model predicts it", path)
    return BenchmarkSpec(name=str(raw.get("name", path.stem)), tasks=tasks, path=path)
