"""The GLUE metrics and the GLUE score (Wang et al. 2019, ICLR: Table 1 and the leaderboard).

Each metric is `fn(y_true, y_pred) -> float`, a fraction in [-1, 1] (the results table scales
by 100). Class metrics take int class ids; `f1` is binary F1 of class id 1, the positive
class in MRPC ("1" = paraphrase) and QQP ("1" = duplicate), as GLUE scores them. `mcc` is
Matthews' correlation; with more than two classes it is Gorodkin's R3 coefficient, which is
what GLUE reports for the diagnostic set (AX). `pearson` and `spearman` score STS-B.

Degenerate inputs do not crash: a correlation of a constant vector is undefined (its
variance is zero, so the formula divides by zero). We return 0.0, "no correlation", for it,
as scikit-learn already does for MCC: a model that predicts one value for everything has
shown no association with the gold labels, and a NaN would poison every average above it.

The GLUE score averages the metrics of each task first (MRPC: F1 and accuracy; STS-B:
Pearson and Spearman; MNLI: matched and mismatched accuracy) and then the tasks, with the
diagnostic set AX left out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# scikit-learn and scipy are imported inside the metric functions: they cost a second of start-up,
# which the jobs that only read a benchmark file (seminal.benchmark checks metric names) skip.

EXCLUDED_FROM_AVERAGE = ("AX",)  # the diagnostic set is reported, never averaged in


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} gold labels but {y_pred.size} predictions")
    if y_true.size == 0:
        raise ValueError("no examples to score")
    return y_true, y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    y_true, y_pred = _pair(y_true, y_pred)
    return float(f1_score(y_true, y_pred, pos_label=1, average="binary", zero_division=0.0))


def mcc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import matthews_corrcoef

    y_true, y_pred = _pair(y_true, y_pred)
    return float(matthews_corrcoef(y_true, y_pred))  # 0.0 when either side is constant


def _constant(x: np.ndarray) -> bool:
    return x.size < 2 or bool(np.all(x == x[0]))


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from scipy import stats

    y_true, y_pred = _pair(y_true, y_pred)
    if _constant(y_true) or _constant(y_pred):
        return 0.0  # undefined (zero variance): see the module docstring
    return float(stats.pearsonr(y_true.astype(np.float64), y_pred.astype(np.float64)).statistic)


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from scipy import stats

    y_true, y_pred = _pair(y_true, y_pred)
    if _constant(y_true) or _constant(y_pred):
        return 0.0  # undefined (zero variance): see the module docstring
    return float(stats.spearmanr(y_true, y_pred).statistic)  # ties get their average rank


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "acc": accuracy,
    "f1": f1,
    "mcc": mcc,
    "pearson": pearson,
    "spearman": spearman,
}


def task_score(metrics: dict[str, float]) -> float:
    """One number per task: the mean of its metrics (MRPC: (F1 + acc) / 2)."""
    if not metrics:
        raise ValueError("a task needs at least one metric to score")
    return float(np.mean([float(v) for v in metrics.values()]))


def glue_average(per_task: dict[str, dict[str, float]]) -> float:
    """The GLUE score: mean over tasks (AX excluded) of each task's `task_score`.

    MNLI counts once, its two metrics being matched and mismatched accuracy, e.g.
    {"MNLI": {"acc_m": 0.80, "acc_mm": 0.81}}.
    """
    scores = [task_score(m) for t, m in per_task.items() if t not in EXCLUDED_FROM_AVERAGE]
    if not scores:
        raise ValueError("no tasks to average (AX is not averaged)")
    return float(np.mean(scores))
