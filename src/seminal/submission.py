"""The GLUE leaderboard submission: one model's test-set predictions, every task that ran, one zip.

gluebenchmark.com takes a zip of `<Task>.tsv` files, each a header `index<TAB>prediction` and one
row per test example, labels as the task's files write them (`entailment`, `not_entailment`, ...
for MNLI, AX, QNLI, RTE; 0/1 for CoLA, SST-2, MRPC, QQP, WNLI; STS-B a score in [0, 5]). Each
run already writes its files in that format (`seminal.evaluate.write_submission`, run folder
`submission/`); this module picks the model, checks every file against the benchmark's test
split once more (rows, index order, label strings, STS-B range) and zips them in the
leaderboard's order, with fixed timestamps so that the same predictions give the same bytes.

The model: a name, or `best`, the trained model with the highest mean dev score over the tasks
that ran (each task's score is the mean of its metrics, `seminal.metrics.task_score`; MNLI the
mean of -m and -mm), among the models that ran all of them, at the submission's seed. Ties go to
the first name in sorted order. A leaderboard entry is one model, so tasks are not mixed.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

from seminal.benchmark import BenchmarkSpec
from seminal.data import read_split
from seminal.errors import SeminalError
from seminal.evaluate import STSB_RANGE
from seminal.io import atomic_path, read_json
from seminal.metrics import task_score

LEADERBOARD_ORDER = ("CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "MNLI-mm.tsv",
                     "QNLI.tsv", "RTE.tsv", "WNLI.tsv", "AX.tsv")
HEADER = "index\tprediction"


def dev_scores(runs: Path, model: str, tasks: list[str], seed: int) -> dict[str, float] | None:
    """{task: dev score} of one model at one seed, or None if any task has no metrics.json."""
    out = {}
    for task in tasks:
        path = runs / model / task / f"seed{seed}" / "metrics.json"
        if not path.is_file():
            return None
        ev = read_json(path)["eval"].get(task)
        if not ev:
            raise SeminalError(f"no dev metrics for task {task}", path)
        out[task] = math.fsum(task_score(s["metrics"]) for s in ev.values()) / len(ev)
    return out


def choose_model(runs: Path, models: list[str], tasks: list[str], seed: int, choice: str = "best"
                 ) -> tuple[str, dict[str, float]]:
    """(model, its dev score per task): `choice` itself, or the best model (module docstring)."""
    scored = {m: s for m in sorted(models) if (s := dev_scores(runs, m, tasks, seed)) is not None}
    if choice != "best":
        if choice not in scored:
            raise SeminalError(f"model {choice!r} has no seed-{seed} run of every task {tasks}", runs)
        return choice, scored[choice]
    if not scored:
        raise SeminalError(f"no model has a seed-{seed} run of every task {tasks}", runs)
    best = max(scored, key=lambda m: (math.fsum(scored[m].values()) / len(tasks), -sorted(scored).index(m)))
    return best, scored[best]


def _check(path: Path, spec: BenchmarkSpec, data: Path) -> None:
    """The file's rows are the test split's, in order, with the task's label strings."""
    owners = [(t, s) for t in spec.tasks.values() for s, name in t.submission.items() if name == path.name]
    if not owners:
        raise SeminalError("no task of the benchmark submits a file of this name", path)
    task, split_name = owners[0]
    split = read_split(task, split_name, data)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != HEADER:
        raise SeminalError(f"first line must be {HEADER!r}", path, 1)
    rows = [line.split("\t") for line in lines[1:]]
    if len(rows) != len(split):
        raise SeminalError(f"{len(rows)} predictions for {len(split)} test examples of {task.name}", path)
    for line_no, (fields, index) in enumerate(zip(rows, split.index), start=2):
        if len(fields) != 2 or fields[0] != index:
            raise SeminalError(f"expected index {index!r} and one prediction", path, line_no)
        value = fields[1]
        if task.is_regression:
            if not STSB_RANGE[0] <= float(value) <= STSB_RANGE[1]:
                raise SeminalError(f"score {value} outside {list(STSB_RANGE)}", path, line_no)
        elif value not in (task.labels or ()):
            raise SeminalError(f"label {value!r} is not one of {list(task.labels or ())}", path, line_no)


def write_glue_submission(runs: Path, model: str, tasks: list[str], seed: int, spec: BenchmarkSpec, data: Path,
                          out: Path) -> list[str]:
    """Zip the submission files of the model's seed-`seed` runs of `tasks` (AX comes with MNLI's) to
    `out`; returns their names."""
    files = {f.name: f for t in tasks for f in sorted((runs / model / t / f"seed{seed}" / "submission").glob("*.tsv"))}
    if not files:
        raise SeminalError(f"no submission files for seed {seed}", runs / model)
    order = [n for n in LEADERBOARD_ORDER if n in files] + sorted(n for n in files if n not in LEADERBOARD_ORDER)
    for name in order:
        _check(files[name], spec, data)
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same predictions, same bytes
            z.writestr(info, files[name].read_bytes(), zipfile.ZIP_DEFLATED)
    return order


def submit(spec: BenchmarkSpec, data: Path, runs: Path, models: list[str], tasks: list[str], seed: int,
           choice: str, out: Path) -> dict[str, Any]:
    """Choose the model, write the zip; returns what to record beside it (model, scores, files)."""
    model, scores = choose_model(runs, models, tasks, seed, choice)
    files = write_glue_submission(runs, model, tasks, seed, spec, data, out)
    return {"benchmark": spec.name, "model": model, "choice": choice, "seed": seed,
            "dev_scores": {t: round(v, 6) for t, v in scores.items()},
            "mean_dev_score": round(math.fsum(scores.values()) / len(scores), 6), "files": files}
