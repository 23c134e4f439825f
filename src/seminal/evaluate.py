"""Scoring predictions, writing them out, and writing GLUE submission files.

`evaluate` computes the task's GLUE metrics (Wang et al. 2019, Table 1) and, where a split
carries a dependency distance per example (the embedded benchmark's `.meta.tsv`), the same
metrics per distance bucket, to show how a score changes as dependencies grow longer.

`write_submission` writes one file of the official GLUE submission (gluebenchmark.com):
a header `index<TAB>prediction`, then one row per test example in file order. Labels are
written as the server expects them, which is as they appear in the task's files: strings
for MNLI, AX, QNLI and RTE (`entailment`, `not_entailment`, ...), 0/1 for CoLA, SST-2,
MRPC, QQP and WNLI, and for STS-B a score clipped to the scale's range [0, 5].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seminal.benchmark import TaskSpec
from seminal.data import Split, label_ids
from seminal.errors import SeminalError
from seminal.io import write_text
from seminal.metrics import METRICS

DISTANCE_BUCKETS: tuple[tuple[int, int | None], ...] = ((1, 2), (3, 5), (6, 9), (10, None))
STSB_RANGE = (0.0, 5.0)  # STS-B similarity scores run from 0 (unrelated) to 5 (equivalent)


def bucket_label(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


def _where(split: Split) -> str:
    return f"{split.task}/{split.split}"  # names the split in errors (a Split holds no path)


def _check_predictions(task: TaskSpec, split: Split, predictions: np.ndarray) -> np.ndarray:
    where = _where(split)
    p = np.asarray(predictions)
    if p.ndim != 1 or len(p) != len(split.index):
        raise SeminalError(f"expected {len(split.index)} predictions in a 1-d array, got shape "
                           f"{p.shape}", where)
    if task.is_regression:
        if not np.issubdtype(p.dtype, np.number) or not np.isfinite(p).all():
            raise SeminalError("regression predictions must be finite numbers", where)
        return p.astype(np.float64)
    if not np.issubdtype(p.dtype, np.integer):
        raise SeminalError(f"class predictions must be integer label ids, got {p.dtype}", where)
    if len(p) and (p.min() < 0 or p.max() >= task.num_labels):
        raise SeminalError(f"label ids must be in [0, {task.num_labels}), got "
                           f"[{p.min()}, {p.max()}]", where)
    return p.astype(np.int64)


def _score(task: TaskSpec, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {m: METRICS[m](y_true, y_pred) for m in task.metrics}


def evaluate(task: TaskSpec, split: Split, predictions: np.ndarray) -> dict:
    """{"metrics": {name: v}, "n": n, "buckets": {"1-2": {"n": k, name: v}, ...}}.

    Buckets appear only when the split has distances; empty buckets are left out, and so are
    examples whose distance is in no bucket (below 1: no long-distance dependency).
    """
    if split.labels is None:
        raise SeminalError("split has no gold labels to score against", _where(split))
    y_pred = _check_predictions(task, split, predictions)
    y_true = label_ids(task, split.labels, _where(split))
    out: dict = {"metrics": _score(task, y_true, y_pred), "n": int(len(y_true))}
    if split.distance is not None:
        distance = np.asarray(split.distance)
        if distance.shape != y_true.shape:
            raise SeminalError(f"{len(distance)} distances for {len(y_true)} examples", _where(split))
        out["buckets"] = {}
        for lo, hi in DISTANCE_BUCKETS:
            mask = (distance >= lo) & (distance <= (np.inf if hi is None else hi))
            if mask.any():
                out["buckets"][bucket_label(lo, hi)] = {
                    "n": int(mask.sum()), **_score(task, y_true[mask], y_pred[mask])}
    return out


def _format(task: TaskSpec, p: np.ndarray) -> list[str]:
    if task.is_regression:
        return [f"{x:.3f}" for x in p]
    labels = task.labels or ()
    return [labels[i] for i in p]


def _write(path: Path, index: list[str], values: list[str]) -> None:
    rows = "".join(f"{i}\t{v}\n" for i, v in zip(index, values))
    write_text(path, "index\tprediction\n" + rows)


def write_predictions(path: str | Path, task: TaskSpec, split: Split,
                      predictions: np.ndarray) -> Path:
    """`index<TAB>prediction` per example: label strings, or regression scores as %.3f."""
    p = _check_predictions(task, split, predictions)
    _write(Path(path), split.index, _format(task, p))
    return Path(path)


def write_submission(out_dir: str | Path, task: TaskSpec, split_name: str, split: Split,
                     predictions: np.ndarray) -> Path:
    """Write `out_dir/<task.submission[split_name]>` in the GLUE server's format; return its path."""
    if split_name not in task.submission:
        raise SeminalError(f"task {task.name} has no submission file for split {split_name!r} "
                           f"(has {sorted(task.submission)})")
    p = _check_predictions(task, split, predictions)
    if task.is_regression:
        p = np.clip(p, *STSB_RANGE) + 0.0  # + 0.0 turns a clipped -0.0 into 0.0
    path = Path(out_dir) / task.submission[split_name]
    _write(path, split.index, _format(task, p))
    return path
