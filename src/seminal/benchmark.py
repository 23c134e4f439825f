"""A benchmark is data: a YAML file describing each task's files, format, labels, metrics and prompt.

Both built-in benchmarks (`config/benchmarks/synglue.yaml`, `config/benchmarks/glue.yaml`) and a
user's own are read by this one module, in the spirit of lm-evaluation-harness task YAML. File
paths in the spec are relative to the benchmark's data folder, which the caller supplies. The
format is the JSON schema `workflow/schemas/benchmark.schema.yaml` (every field documented there
and in README.md, "Bring your own benchmark"):

    name: synglue
    tasks:
      CoLA:
        kind: single              # single | pair
        output: classification    # classification | regression
        labels: ["0", "1"]        # label strings exactly as written in the files
        metrics: [mcc]            # names in seminal.metrics.METRICS
        format: tsv               # tsv | csv | label_sentence (Kim 2014: `label sentence` a line)
        eval: [dev]               # splits that are scored (MNLI: dev_matched, dev_mismatched)
        submission: {test: CoLA.tsv}   # split -> GLUE submission file name
        prompt: {template: "{sentence1}\\nquestion ...?\\nanswer", verbalizer: {"0": "no", "1": "yes"}}
        splits:
          train: {file: CoLA/train.tsv, header: false, ncols: 4, columns: {label: 1, sentence1: 3}}
          dev:   {file: CoLA/dev.tsv,   header: false, ncols: 4, columns: {label: 1, sentence1: 3},
                  meta: CoLA/dev.meta.tsv}
          test:  {file: CoLA/test.tsv,  header: true,  ncols: 2, columns: {index: 0, sentence1: 1}}

`columns` maps the roles `index`, `sentence1`, `sentence2`, `label` to 0-based column numbers or
to column names of the header. A split may instead be `files: {label: path, ...}`, one file per
class with one example a line (Kim's MR: rt-polarity.pos / .neg).
`meta` (optional) is a TSV with a header `distance<TAB>phenomenon` and one row per example, in
the same order: the embedded benchmark's dependency-distance annotation.
A task with `predict_with: MNLI` (the diagnostic set AX) has no training split of its own and is
predicted by the model trained on the named task (and uses its prompt).
A task with `cv: {folds: k, seed: s}` (a dataset without a test split, as Kim 2014 evaluates
MR, CR, Subj, MPQA) has only a `train` split; the loader adds its k fold tasks `<Task>.fold<i>`
(i = 1..k), whose train/dev/test files `seminal cv-folds` writes under cv/<Task>/ (seminal.cv).
They are the tasks that are trained; the table reports the mean over folds under <Task>.

Loading checks the schema first (one line naming the file and the key), then what a schema cannot
say: splits named by `eval` exist, column numbers are below `ncols`, a pair task has a sentence2
column, the prompt's verbalizer covers the labels, and so on.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seminal.errors import SeminalError
from seminal.io import read_yaml

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "benchmark.schema.yaml"
ROLES = ("index", "sentence1", "sentence2", "label")
KINDS = ("single", "pair")
OUTPUTS = ("classification", "regression")
FORMATS = ("tsv", "csv", "label_sentence")
QUOTINGS = ("none", "minimal")  # csv.QUOTE_NONE (GLUE) or csv.QUOTE_MINIMAL
CV_DIR = "cv"  # fold files: <data>/cv/<Task>/fold<i>/{train,dev,test}.tsv
CV_SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class SplitSpec:
    file: str | None  # None when the split is one file per class (`files`)
    header: bool
    ncols: int | None  # None: as many as the header has (columns given by name)
    columns: dict[str, int | str]
    meta: str | None = None
    files: dict[str, str] | None = None  # label -> file, one example a line (Kim's MR)

    @property
    def paths(self) -> tuple[str, ...]:
        """The data files of the split (relative to the data folder), `meta` excluded."""
        return tuple(self.files.values()) if self.files else (str(self.file),)


@dataclass(frozen=True)
class Prompt:
    """template: str.format() text with {sentence1} (and {sentence2} for pairs); "\\n" is a line
    break; the template's last line is the answer prefix, the completion follows it after a space.
    verbalizer: label string as in the task files -> the completion word(s)."""

    template: str
    verbalizer: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CVSpec:
    """k-fold cross-validation (Kim 2014, Table 1: "CV" marks datasets without a standard
    train/test split, evaluated by 10-fold cross-validation)."""

    folds: int = 10
    seed: int = 0
    dev_fraction: float = 0.1  # Kim 2014 §3.1: "randomly select 10% of the training data as the dev set"


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
    format: str = "tsv"
    prompt: Prompt | None = None  # the in-context evaluation's prompt (seminal.icl)
    cv: CVSpec | None = None  # cross-validated: trained as its fold tasks, not itself
    fold_of: str | None = None  # a fold task: the name of its cross-validated task

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
        """Tasks a model is trained on: not predicted with another's model, not cross-validated
        (their fold tasks are)."""
        return [t for t, s in self.tasks.items() if s.predict_with is None and s.cv is None]

    def folds(self, name: str) -> list[str]:
        """The fold tasks of a cross-validated task, else [name]."""
        cv = self.task(name).cv
        return [fold_name(name, i) for i in range(1, cv.folds + 1)] if cv else [name]


# ---------------------------------------------------------------------------------------------
# cross-validation folds as tasks


def fold_name(task: str, fold: int) -> str:
    return f"{task}.fold{fold}"


def fold_file(task: str, fold: int, split: str) -> str:
    return f"{CV_DIR}/{task}/fold{fold}/{split}.tsv"


def fold_columns(task: TaskSpec) -> tuple[str, ...]:
    """The header of a fold file: its columns are read by name."""
    return ("index", "sentence1", "sentence2", "label") if task.is_pair else ("index", "sentence1", "label")


def fold_task(task: TaskSpec, fold: int) -> TaskSpec:
    """Fold `fold` (1-based) of a cross-validated task: train on the other folds less a dev slice,
    early-stop on the dev slice (eval[0]), score the held-out fold as `test`. The fold files are
    tab-separated with a header and csv.QUOTE_MINIMAL quoting (any text round-trips), UTF-8."""
    cols = {c: c for c in fold_columns(task)}
    splits = {s: SplitSpec(fold_file(task.name, fold, s), True, None, cols) for s in CV_SPLITS}
    return dataclasses.replace(task, name=fold_name(task.name, fold), splits=splits, eval=("dev", "test"),
                               submission={}, format="tsv", quoting="minimal", encoding="utf-8", cv=None,
                               fold_of=task.name)


# ---------------------------------------------------------------------------------------------
# the schema


@functools.cache
def _validator() -> Any:
    import jsonschema  # late import: only loading a benchmark needs it

    schema = read_yaml(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _where(path: list[Any]) -> tuple[str, str]:
    """('task T split s', 'columns.label') from a path into the document."""
    parts = [str(p) for p in path]
    where = []
    if len(parts) >= 2 and parts[0] == "tasks":
        where.append(f"task {parts[1]}")
        parts = parts[2:]
        if len(parts) >= 2 and parts[0] == "splits":
            where.append(f"split {parts[1]}")
            parts = parts[2:]
    return " ".join(where), ".".join(parts)


def _schema_message(error: Any) -> str:
    """One line for a jsonschema error: '<where>: <key> <what is wrong>'."""
    where, key = _where(list(error.absolute_path))
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, dict):
        custom = custom.get(error.validator)
    v, value = error.validator_value, error.instance
    name = f"'{key}'" if key else "the document" if not where else "it"
    if custom:
        extra = sorted(str(k) for k in set(value) - set(error.schema.get("properties", {}))) if isinstance(
            value, dict) else []
        what = custom.format(extra=extra)
    elif error.validator == "type":
        words = {"object": "a mapping", "array": "a list", "boolean": "true or false", "string": "a string",
                 "integer": "an integer", "number": "a number", "null": "null"}
        what = f"{name} must be " + " or ".join(words[t] for t in ([v] if isinstance(v, str) else v))
    elif error.validator == "enum":
        what = f"{key or 'it'} must be one of {tuple(v)} (got {value!r})"
    elif error.validator == "required":
        missing = next((p for p in v if p not in value), v[0])
        what = f"{name} needs {missing!r}"
    elif error.validator == "additionalProperties":
        extra = sorted(str(k) for k in set(value) - set(error.schema.get("properties", {})))
        known = sorted(error.schema.get("properties", {}))
        what = f"unknown key(s) {extra}" + (f" in {name}" if key else "") + f"; known: {known}"
    elif error.validator == "pattern":
        what = f"{key + ' ' if key else 'name '}{value!r} must match {v}"
    elif error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[error.validator]
        what = f"{name} must be {op} {v} (got {value!r})"
    elif error.validator in ("minItems", "minProperties"):
        what = f"{name} needs at least {v} entries"
    else:
        what = f"{name}: {error.message}"
    return f"{where}: {what}" if where else what


def validate(raw: Any, path: Path) -> None:
    """Check a parsed benchmark file against the schema; raise one line naming the file and key."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(raw))
    if error is not None:
        raise SeminalError(_schema_message(error), path)


# ---------------------------------------------------------------------------------------------
# what the schema cannot say


def _split(raw: dict[str, Any], where: str, path: Path, fmt: str, task_kind: str) -> SplitSpec:
    if "file" in raw and "files" in raw:
        raise SeminalError(f"{where}: give 'file' or 'files' (one file per class), not both", path)
    if "files" in raw:
        if task_kind != "single" or any(k in raw for k in ("header", "ncols", "columns")):
            raise SeminalError(f"{where}: 'files' (one file per class, one sentence a line) is for single-"
                               "sentence tasks and takes no 'header', 'ncols' or 'columns'", path)
        return SplitSpec(None, False, 1, {"sentence1": 0}, raw.get("meta"),
                         {str(k): str(v) for k, v in raw["files"].items()})
    if fmt == "label_sentence":
        if "file" not in raw or any(k in raw for k in ("header", "ncols", "columns")):
            raise SeminalError(f"{where}: a label_sentence split needs 'file' and takes no 'header', 'ncols' or "
                               "'columns' (each line is `label sentence`)", path)
        return SplitSpec(str(raw["file"]), False, 2, {"label": 0, "sentence1": 1}, raw.get("meta"))
    if "file" not in raw or not isinstance(raw.get("columns"), dict):
        raise SeminalError(f"{where}: a split needs 'file' and a 'columns' mapping", path)
    columns = dict(raw["columns"])
    if "sentence1" not in columns:
        raise SeminalError(f"{where}: columns need a 'sentence1'", path)
    if any(isinstance(c, str) and c.strip().isdigit() for c in columns.values()):
        raise SeminalError(f"{where}: column numbers must be integers, not strings (a column name cannot "
                           "be a number)", path)
    header = bool(raw.get("header", True))
    names = [c for c in columns.values() if isinstance(c, str)]
    if names and not header:
        raise SeminalError(f"{where}: columns by name ({names}) need 'header: true'", path)
    numbers = [c for c in columns.values() if isinstance(c, int)]
    ncols = raw.get("ncols", None if names else max(numbers) + 1)
    if ncols is not None and any(not 0 <= c < ncols for c in numbers):
        raise SeminalError(f"{where}: column numbers must be integers in [0, {ncols})", path)
    return SplitSpec(str(raw["file"]), header, ncols, columns, raw.get("meta"))


def check_prompt(task: TaskSpec, prompt: Prompt, path: Path | None = None) -> Prompt:
    """A prompt fits its task: the template's placeholders and the verbalizer's labels."""
    where = f"task {task.name}: prompt" if path is not None else f"prompt for {task.name}"
    if "{sentence1}" not in prompt.template or (task.is_pair != ("{sentence2}" in prompt.template)):
        raise SeminalError(f"{where} ({task.kind}) must use {{sentence1}}"
                           + (" and {sentence2}" if task.is_pair else " and not {sentence2}"), path)
    try:
        prompt.template.format(sentence1="", sentence2="")
    except (KeyError, IndexError, ValueError) as e:
        raise SeminalError(f"{where}: the template may only use {{sentence1}} and {{sentence2}} (write {{{{ "
                           f"and }}}} for literal braces): {e!r}", path) from e
    if task.is_regression:
        try:
            [float(k) for k in prompt.verbalizer]
        except ValueError as e:
            raise SeminalError(f"regression {where}: verbalizer keys must be scores", path) from e
    elif set(prompt.verbalizer) != set(task.labels or ()):
        raise SeminalError(f"{where}: verbalizer labels {sorted(prompt.verbalizer)} "
                           f"!= task labels {sorted(task.labels or ())}", path)
    return prompt


def _cv(task: TaskSpec, raw: dict[str, Any], path: Path) -> CVSpec:
    where = f"task {task.name}"
    if set(task.splits) != {"train"} or "eval" in raw or task.submission or task.predict_with:
        raise SeminalError(f"{where}: a task with 'cv' has one split, 'train' (all its examples), and no 'eval', "
                           "'submission' or 'predict_with': its folds make the dev and test splits", path)
    if "label" not in task.splits["train"].columns and not task.splits["train"].files:
        raise SeminalError(f"{where}: the 'train' split of a cross-validated task needs labels", path)
    if task.splits["train"].meta:
        raise SeminalError(f"{where}: 'meta' is not carried into cross-validation folds", path)
    return CVSpec(**raw["cv"])


def _task(name: str, raw: dict[str, Any], path: Path) -> TaskSpec:
    where = f"task {name}"
    kind, output = raw.get("kind", "single"), raw.get("output", "classification")
    fmt = raw.get("format", "tsv")
    labels = raw.get("labels")
    distinct = isinstance(labels, list) and len(set(map(str, labels))) == len(labels) >= 2
    if output == "classification" and not distinct:
        raise SeminalError(f"{where}: a classification task needs 2+ distinct 'labels'", path)
    if output == "regression" and labels is not None:
        raise SeminalError(f"{where}: a regression task takes no 'labels'", path)
    if fmt == "label_sentence" and kind == "pair":
        raise SeminalError(f"{where}: format label_sentence is for single-sentence tasks", path)
    splits = {str(s): _split(v, f"{where} split {s}", path, fmt, kind) for s, v in (raw.get("splits") or {}).items()}
    for s, spec in splits.items():
        if (kind == "pair") != ("sentence2" in spec.columns):
            rule = "needs a" if kind == "pair" else "takes no"
            raise SeminalError(f"{where} split {s}: a {kind} task {rule} 'sentence2' column", path)
        if spec.files is not None:
            unknown = sorted(set(spec.files) - set(map(str, labels or ())))
            if output != "classification" or unknown:
                raise SeminalError(f"{where} split {s}: 'files' keys must be the task's labels (unknown: "
                                   f"{unknown})", path)
    submission = raw.get("submission", {})
    evals = tuple(raw.get("eval", ["dev"] if "dev" in splits else []))
    for s in evals + tuple(submission):
        if s not in splits:
            raise SeminalError(f"{where}: split {s!r} is used but not defined", path)
    for s in evals:
        if "label" not in splits[s].columns and splits[s].files is None:
            raise SeminalError(f"{where}: eval split {s!r} has no 'label' column", path)
    quoting = raw.get("quoting", "minimal" if fmt == "csv" else "none")
    encoding = raw.get("encoding", "utf-8-sig")
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
    task = TaskSpec(
        name=name, kind=kind, output=output,
        labels=tuple(str(x) for x in labels) if labels else None,
        metrics=tuple(raw["metrics"]), splits=splits, eval=evals,
        submission=dict(submission), predict_with=raw.get("predict_with"),
        quoting=quoting, encoding=encoding, format=fmt,
    )
    if "prompt" in raw:
        p = raw["prompt"]
        prompt = Prompt(p["template"], {str(k): v for k, v in p["verbalizer"].items()})
        task = dataclasses.replace(task, prompt=check_prompt(task, prompt, path))
    if "cv" in raw:
        task = dataclasses.replace(task, cv=_cv(task, raw, path))
    return task


def load_benchmark(path: str | Path) -> BenchmarkSpec:
    """Read and validate a benchmark file; every problem is one line naming the file."""
    path = Path(path)
    raw = read_yaml(path)
    validate(raw, path)
    tasks = {str(n): _task(str(n), t, path) for n, t in raw["tasks"].items()}
    for t in list(tasks.values()):
        if t.predict_with is None:
            continue
        base = tasks.get(t.predict_with)
        if base is None or base.predict_with is not None or base.cv is not None:
            raise SeminalError(f"task {t.name}: predict_with {t.predict_with!r} is not a trainable "
                               "task", path)
        if (base.output, base.labels) != (t.output, t.labels):
            raise SeminalError(f"task {t.name}: must have the same output and labels (in the same "
                               f"order) as {base.name}, whose model predicts it", path)
        if t.prompt is None and base.prompt is not None:  # AX is evaluated as MNLI is
            tasks[t.name] = dataclasses.replace(t, prompt=base.prompt)
    expanded: dict[str, TaskSpec] = {}
    for name, t in tasks.items():
        expanded[name] = t
        for i in range(1, t.cv.folds + 1) if t.cv else ():
            expanded[fold_name(name, i)] = fold_task(t, i)
    return BenchmarkSpec(name=str(raw.get("name", path.stem)), tasks=expanded, path=path)
