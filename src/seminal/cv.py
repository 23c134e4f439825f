"""k-fold cross-validation of a task without a test split, as Kim 2014 evaluates MR, CR, Subj, MPQA.

Kim 2014 (Table 1): "CV: Test set size (CV means there was no standard train/test split and thus
10-fold CV was used)"; §3.1: "For datasets without a standard dev set we randomly select 10% of
the training data as the dev set" (early stopping). A task asks for it in its benchmark file
with `cv: {folds: k, seed: s, dev_fraction: 0.1}` and has one split, `train`: all its examples.

    write_folds(spec.task("MR"), data_root)   # <data_root>/cv/MR/fold<i>/{train,dev,test}.tsv

Our protocol, fixed by the seed:
- Folds are stratified by label: each class's examples (classes in the order of the task's
  labels) are shuffled with numpy.random.default_rng(seed) and dealt to the folds in turn,
  continuing where the previous class stopped, so the fold sizes differ by at most one and every
  fold has its class's share to within one example. A regression task is one class (a shuffled
  deal). Kim does not say how his folds were drawn.
- Fold i (1-based) is scored on fold i (its `test` split) and trained on the k-1 other folds,
  less a dev slice for early stopping: from each class of those examples, the first
  round(dev_fraction x n_class) of a shuffle with default_rng([seed, i]) (stratified too).
- Files: tab-separated with a header (index, sentence1[, sentence2], label), csv.QUOTE_MINIMAL
  quoting (any text round-trips, tabs and newlines included), UTF-8; rows in source order;
  `index` is the source's. They are the splits of the fold tasks <Task>.fold<i>
  (seminal.benchmark.fold_task) that the pipeline trains; the table reports the mean and standard
  deviation over folds (seminal.report).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from seminal.benchmark import TaskSpec, fold_columns, fold_task
from seminal.data import Split, read_split
from seminal.errors import SeminalError
from seminal.io import write_text


def _classes(task: TaskSpec, labels: list[str]) -> list[np.ndarray]:
    """Example indices per class (in the order of task.labels; one class for regression)."""
    y = np.array(labels, dtype=object)
    if task.is_regression:
        return [np.arange(len(labels))]
    return [np.flatnonzero(y == c) for c in task.labels or ()]


def assign_folds(task: TaskSpec, labels: list[str], folds: int, seed: int) -> np.ndarray:
    """The fold (0-based) of every example: stratified, shuffled by `seed`, dealt in turn."""
    rng = np.random.default_rng(seed)
    out = np.full(len(labels), -1, dtype=np.int64)
    start = 0
    for members in _classes(task, labels):
        out[rng.permutation(members)] = (start + np.arange(len(members))) % folds
        start += len(members)
    return out


def dev_slice(task: TaskSpec, labels: list[str], train: np.ndarray, fraction: float, seed: int,
              fold: int) -> np.ndarray:
    """The dev examples taken out of `train` (indices): per class, the first round(fraction x n)
    of a shuffle with default_rng([seed, fold])."""
    rng = np.random.default_rng([seed, fold])
    sub = [labels[i] for i in train]
    picked = [train[rng.permutation(m)[:round(fraction * len(m))]] for m in _classes(task, sub)]
    return np.sort(np.concatenate(picked)) if picked else np.array([], dtype=np.int64)


def _tsv(task: TaskSpec, split: Split, rows: np.ndarray) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(fold_columns(task))
    for i in rows:
        pair = [split.sentence2[i]] if split.sentence2 is not None else []
        w.writerow([split.index[i], split.sentence1[i], *pair, split.labels[i]])  # type: ignore[index]
    return buf.getvalue()


def write_folds(task: TaskSpec, data_root: str | Path) -> list[Path]:
    """Write every fold's train/dev/test files of a cross-validated task; returns their paths."""
    if task.cv is None:
        raise SeminalError(f"task {task.name} has no 'cv' in its benchmark file")
    root = Path(data_root)
    source = read_split(task, "train", root)
    labels = source.labels or []
    k = task.cv.folds
    if len(source) < k:
        raise SeminalError(f"task {task.name}: {len(source)} examples cannot make {k} folds", root / task.splits[
            "train"].paths[0])
    fold_of = assign_folds(task, labels, k, task.cv.seed)
    written = []
    for i in range(1, k + 1):
        train = np.flatnonzero(fold_of != i - 1)
        dev = dev_slice(task, labels, train, task.cv.dev_fraction, task.cv.seed, i)
        if len(dev) == 0 or len(dev) == len(train):
            raise SeminalError(f"task {task.name} fold {i}: a dev_fraction of {task.cv.dev_fraction} of "
                               f"{len(train)} training examples leaves an empty dev or train split")
        rows = {"train": np.setdiff1d(train, dev), "dev": dev, "test": np.flatnonzero(fold_of == i - 1)}
        spec = fold_task(task, i)
        for name, idx in rows.items():
            path = root / str(spec.splits[name].file)
            write_text(path, _tsv(task, source, idx))
            written.append(path)
    return written
