"""Confidence intervals and paired tests for the results table and the claims (`seminal.claims`).

- `bootstrap_ci`: percentile bootstrap (Efron & Tibshirani 1993, §13.3) of a dev metric: the
  examples are resampled with replacement, the official metric (`seminal.metrics`) is computed
  on each resample, and the 2.5th and 97.5th percentiles of those values bound the 95% interval.
  With several seeds (predictions of shape (S, n), the same examples), a resample draws the
  examples once and scores every seed on it: the interval is that of the seed-mean, and it
  holds the test-set sampling spread, not the seed-to-seed spread (the table's ± gives that).
- `paired_bootstrap`: the same resamples score two systems, so their difference keeps the
  pairing (Koehn 2004, "Statistical significance tests for machine translation evaluation";
  Berg-Kirkpatrick et al. 2012). The p-value is the share of resamples whose difference is
  <= 0 (one-sided, H1: A > B), or twice the smaller tail (two-sided).
- `permutation_test`: the paired sign-flip test (an approximate randomisation test) for
  accuracy-like metrics, i.e. means of per-example scores: under H0 each example's difference
  is equally likely to have either sign.
- `wilson` (Wilson 1927) and `newcombe` (Newcombe 1998, method 10): a success rate over
  independent trials, and the difference of two.

Vectorised: a resample is a row of multiplicities w (how often each example was drawn), and
every metric is computed from w for all rows at once — accuracy and the confusion counts behind
F1 and MCC as matrix products, Pearson as weighted moments, Spearman from the average rank of
each group of tied values. `tests/test_stats.py` checks each against the official function on
explicitly resampled arrays. Everything is seeded with a numpy Generator: same seed, same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from seminal.metrics import METRICS, task_score

Metric = str | Sequence[str]  # a name in seminal.metrics.METRICS, or several: their mean (task_score)
ALPHA = 0.05
N_RESAMPLES = 1000
_CHUNK = 2_000_000  # resample rows x examples held in memory at once (real GLUE's QQP dev has 40k)


@dataclass(frozen=True)
class Interval:
    value: float  # the estimate on the sample itself
    lo: float
    hi: float


@dataclass(frozen=True)
class Difference:
    diff: float  # statistic(A) - statistic(B) on the sample itself
    lo: float
    hi: float
    p_value: float
    n: int  # examples
    n_resamples: int


def _names(metric: Metric) -> tuple[str, ...]:
    names = (metric,) if isinstance(metric, str) else tuple(metric)
    unknown = [m for m in names if m not in METRICS]
    if not names or unknown:
        raise ValueError(f"unknown metric(s) {unknown or names}; known: {sorted(METRICS)}")
    return names


def score(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The official score: one metric, or the mean of several (`seminal.metrics.task_score`)."""
    return task_score({m: METRICS[m](y_true, y_pred) for m in _names(metric)})


def _as_seeds(y_pred: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(y_pred)
    p = p[None, :] if p.ndim == 1 else p
    if p.ndim != 2 or p.shape[1] != n:
        raise ValueError(f"predictions must have shape (n,) or (seeds, n) with n = {n}, got {np.shape(y_pred)}")
    return p


# ---------------------------------------------------------------------------------------------
# metrics on reweighted samples: w (B, n) multiplicities -> (B,) values


def _confusion(w: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """(B, K, K) counts of (gold, predicted) class ids under the weights."""
    k = int(max(y.max(), p.max())) + 1
    onehot = np.zeros((len(y), k * k))
    onehot[np.arange(len(y)), y * k + p] = 1.0
    return (w @ onehot).reshape(len(w), k, k)


def _f1(c: np.ndarray) -> np.ndarray:
    """Binary F1 of class 1 (GLUE's positive class), 0 when undefined (zero_division=0)."""
    tp = c[:, 1, 1] if c.shape[1] > 1 else np.zeros(len(c))
    fp = c[:, :, 1].sum(axis=1) - tp if c.shape[1] > 1 else np.zeros(len(c))
    fn = c[:, 1, :].sum(axis=1) - tp if c.shape[1] > 1 else np.zeros(len(c))
    den = 2 * tp + fp + fn
    return np.divide(2 * tp, den, out=np.zeros(len(c)), where=den > 0)


def _mcc(c: np.ndarray) -> np.ndarray:
    """Matthews / Gorodkin R_K as scikit-learn computes it; 0 when either side is constant."""
    t, p = c.sum(axis=2), c.sum(axis=1)  # gold and predicted totals per class
    s = c.sum(axis=(1, 2))
    correct = np.trace(c, axis1=1, axis2=2)
    cov_tp = correct * s - (t * p).sum(axis=1)
    cov_pp = s * s - (p * p).sum(axis=1)
    cov_tt = s * s - (t * t).sum(axis=1)
    den = cov_tt * cov_pp
    return np.divide(cov_tp, np.sqrt(den, where=den > 0, out=np.ones_like(den)), out=np.zeros(len(c)), where=den > 0)


def _group_weights(w: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weight of each distinct value of x in each resample (B, G), values in increasing order;
    the group of each example (n,))."""
    values, inverse = np.unique(x, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(values)))
    return np.add.reduceat(w[:, order], starts, axis=1), inverse


def _weighted_pearson(w: np.ndarray, x: np.ndarray, y: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """x, y: (n,) or (B, n). Two-pass weighted moments; 0 where a side is constant (the official rule)."""
    total = w.sum(axis=1, keepdims=True)
    dx = x - (w * x).sum(axis=1, keepdims=True) / total
    dy = y - (w * y).sum(axis=1, keepdims=True) / total
    cov, vx, vy = (w * dx * dy).sum(axis=1), (w * dx * dx).sum(axis=1), (w * dy * dy).sum(axis=1)
    ok = ~constant & (vx > 0) & (vy > 0)
    r = np.divide(cov, np.sqrt(vx * vy, where=ok, out=np.ones_like(vx)), out=np.zeros(len(w)), where=ok)
    return np.clip(r, -1.0, 1.0)


def _constant_rows(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """True where every example drawn in the resample has the same value of x."""
    drawn = w > 0
    return np.where(drawn, x, np.inf).min(axis=1) == np.where(drawn, x, -np.inf).max(axis=1)


def _average_ranks(gw: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Each example's rank within each resample (1-based; ties get their average rank), (B, n)."""
    before = np.cumsum(gw, axis=1) - gw  # resampled values below the group's value
    return (before + (gw + 1) / 2)[:, inverse]


def weighted_scores(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The official `metric` of one system on every resample: w (B, n) multiplicities -> (B,)."""
    y, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    w = np.asarray(w, dtype=np.float64)
    names = _names(metric)
    out = np.zeros(len(w))
    conf = _confusion(w, y.astype(np.int64), p.astype(np.int64)) if {"f1", "mcc"} & set(names) else None
    for m in names:
        if m == "acc":
            out += w @ (y == p).astype(np.float64) / w.sum(axis=1)
        elif m == "f1":
            out += _f1(conf)
        elif m == "mcc":
            out += _mcc(conf)
        else:  # pearson / spearman
            yf, pf = y.astype(np.float64), p.astype(np.float64)
            constant = _constant_rows(w, yf) | _constant_rows(w, pf)
            if m == "pearson":
                out += _weighted_pearson(w, yf, pf, constant)
            else:
                (wy, gy), (wp, gp) = _group_weights(w, yf), _group_weights(w, pf)
                out += _weighted_pearson(w, _average_ranks(wy, gy), _average_ranks(wp, gp), constant)
    return out / len(names)


# ---------------------------------------------------------------------------------------------
# resampling


def resample_weights(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_resamples, n) multiplicities: row b counts how often each example is in resample b."""
    idx = rng.integers(0, n, size=(n_resamples, n))
    flat = (idx + n * np.arange(n_resamples)[:, None]).ravel()
    return np.bincount(flat, minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float64)


def bootstrap_samples(metric: Metric, y_true: np.ndarray, systems: Sequence[np.ndarray],
                      n_resamples: int = N_RESAMPLES, rng: np.random.Generator | None = None) -> np.ndarray:
    """(n_resamples, len(systems)): the seed-mean score of each system, every system scored on
    the same resamples of the examples (paired). A system is predictions (n,) or (seeds, n)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    y = np.asarray(y_true).ravel()
    preds = [_as_seeds(p, len(y)) for p in systems]
    out = np.zeros((n_resamples, len(preds)))
    step = max(1, _CHUNK // max(1, len(y)))
    for start in range(0, n_resamples, step):
        w = resample_weights(len(y), min(step, n_resamples - start), rng)
        for j, p in enumerate(preds):
            out[start:start + len(w), j] = np.mean([weighted_scores(metric, y, ps, w) for ps in p], axis=0)
    return out


def seed_mean(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The official score of each seed's predictions, averaged over seeds."""
    y = np.asarray(y_true).ravel()
    return float(np.mean([score(metric, y, p) for p in _as_seeds(y_pred, len(y))]))


def percentile_ci(samples: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    lo, hi = np.quantile(np.asarray(samples, dtype=np.float64), [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bootstrap_p(samples: np.ndarray, two_sided: bool = False) -> float:
    """Share of resampled differences <= 0 (H1: difference > 0); two-sided: twice the smaller tail."""
    d = np.asarray(samples, dtype=np.float64)
    below = float(np.mean(d <= 0))
    return min(1.0, 2 * min(below, float(np.mean(d >= 0)))) if two_sided else below


def bootstrap_ci(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, n_resamples: int = N_RESAMPLES,
                 seed: int = 0, alpha: float = ALPHA) -> Interval:
    """Percentile bootstrap interval of a dev metric (of the seed-mean, for (seeds, n) predictions)."""
    samples = bootstrap_samples(metric, y_true, [y_pred], n_resamples, np.random.default_rng(seed))[:, 0]
    return Interval(seed_mean(metric, y_true, y_pred), *percentile_ci(samples, alpha))


def difference(observed: float, samples: np.ndarray, n: int, alpha: float = ALPHA,
               two_sided: bool = False) -> Difference:
    """A `Difference` from a statistic's value on the sample and its values on paired resamples."""
    return Difference(float(observed), *percentile_ci(samples, alpha), bootstrap_p(samples, two_sided), n,
                      len(samples))


def paired_bootstrap(metric: Metric, y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                     n_resamples: int = N_RESAMPLES, seed: int = 0, alpha: float = ALPHA,
                     two_sided: bool = False) -> Difference:
    """metric(A) - metric(B) on the same examples (seed-means for (seeds, n) predictions)."""
    s = bootstrap_samples(metric, y_true, [pred_a, pred_b], n_resamples, np.random.default_rng(seed))
    observed = seed_mean(metric, y_true, pred_a) - seed_mean(metric, y_true, pred_b)
    return difference(observed, s[:, 0] - s[:, 1], len(np.asarray(y_true).ravel()), alpha, two_sided)


def permutation_test(scores_a: np.ndarray, scores_b: np.ndarray, n_permutations: int = 10_000, seed: int = 0,
                     two_sided: bool = True) -> float:
    """Paired sign-flip test of mean(scores_a - scores_b), per-example scores (e.g. 1 = correct).

    p = (1 + #{permuted statistic as or more extreme}) / (1 + n_permutations), so never 0; one-
    sided: H1 mean(a - b) > 0. Identical systems give p = 1.
    """
    d = np.asarray(scores_a, dtype=np.float64).ravel() - np.asarray(scores_b, dtype=np.float64).ravel()
    observed = d.mean()
    rng = np.random.default_rng(seed)
    hits = 0
    step = max(1, _CHUNK // max(1, len(d)))
    for start in range(0, n_permutations, step):
        signs = rng.choice(np.array([-1.0, 1.0]), size=(min(step, n_permutations - start), len(d)))
        stat = signs @ d / len(d)
        tol = 1e-12 * max(1.0, abs(observed))  # equal sums in another order may differ in the last bit
        hits += int(np.sum(np.abs(stat) >= abs(observed) - tol) if two_sided else np.sum(stat >= observed - tol))
    return (1 + hits) / (1 + n_permutations)


# ---------------------------------------------------------------------------------------------
# success rates over trials


def _z(alpha: float) -> float:
    return float(norm.ppf(1 - alpha / 2))


def wilson(successes: int, trials: int, alpha: float = ALPHA) -> Interval:
    """Wilson's score interval of a success rate; (0, 0, 1) for no trials."""
    if trials <= 0:
        return Interval(0.0, 0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes in {trials} trials")
    z, n, p = _z(alpha), trials, successes / trials
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # the bounds are exact there, not rounded
    return Interval(p, lo, 1.0 if successes == trials else min(1.0, centre + half))


def newcombe(k1: int, n1: int, k2: int, n2: int, alpha: float = ALPHA) -> Interval:
    """Rate 1 minus rate 2 with Newcombe's hybrid score interval (from the two Wilson intervals)."""
    a, b = wilson(k1, n1, alpha), wilson(k2, n2, alpha)
    d = a.value - b.value
    return Interval(d, d - math.hypot(a.value - a.lo, b.hi - b.value), d + math.hypot(a.hi - a.value, b.value - b.lo))


# ---------------------------------------------------------------------------------------------
# means over a few values (seeds, runs) and corpus BLEU


def bootstrap_mean(values: Sequence[float], n_resamples: int = N_RESAMPLES, seed: int = 0,
                   alpha: float = ALPHA) -> Interval:
    """Percentile bootstrap of a mean, e.g. over paired per-run differences. With 3 values the
    interval is (nearly) [min, max]: it excludes 0 only when every value lies on one side."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no values")
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_resamples, x.size))
    return Interval(float(x.mean()), *percentile_ci(x[idx].mean(axis=1), alpha))


def bootstrap_mean_difference(a: Sequence[float], b: Sequence[float], n_resamples: int = N_RESAMPLES, seed: int = 0,
                              alpha: float = ALPHA, two_sided: bool = False) -> Difference:
    """mean(a) - mean(b) for unpaired groups (e.g. two models' seeds), each resampled on its own."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        raise ValueError("no values")
    rng = np.random.default_rng(seed)
    d = (x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
         - y[rng.integers(0, y.size, size=(n_resamples, y.size))].mean(axis=1))
    return difference(float(x.mean() - y.mean()), d, int(x.size + y.size), alpha, two_sided)


def bleu_statistics(hypotheses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """sacrebleu's sufficient statistics per sentence, (n, 10): hypothesis and reference length,
    then matched and total n-grams for n = 1..4 (sacrebleu's defaults: 13a, exp smoothing)."""
    from sacrebleu.metrics import BLEU

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    return np.asarray(BLEU()._extract_corpus_statistics(list(hypotheses), [list(references)]), dtype=np.int64)


def corpus_bleu(stats: np.ndarray) -> float:
    """Corpus BLEU from summed sufficient statistics: the same number as sacrebleu.corpus_bleu."""
    from sacrebleu.metrics import BLEU

    return float(BLEU()._compute_score_from_stats([int(v) for v in np.asarray(stats).ravel()]).score)


def bleu_samples(systems: Sequence[np.ndarray], n_resamples: int = N_RESAMPLES,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """(n_resamples, len(systems)): the seed-mean corpus BLEU of each system on the same resampled
    sentences. A system is statistics (n, 10) or (seeds, n, 10) from `bleu_statistics`."""
    from sacrebleu.metrics import BLEU

    rng = rng if rng is not None else np.random.default_rng(0)
    stats = [s[None] if s.ndim == 2 else s for s in (np.asarray(x, dtype=np.float64) for x in systems)]
    n = stats[0].shape[1]
    if any(s.ndim != 3 or s.shape[1:] != (n, 10) for s in stats):
        raise ValueError("BLEU statistics must be (n, 10) or (seeds, n, 10), the same n for every system")
    bleu = BLEU()
    out = np.zeros((n_resamples, len(stats)))
    step = max(1, _CHUNK // max(1, n))
    for start in range(0, n_resamples, step):
        w = resample_weights(n, min(step, n_resamples - start), rng)
        for j, s in enumerate(stats):
            sums = np.rint(np.einsum("bn,snk->bsk", w, s)).astype(np.int64)  # (chunk, seeds, 10)
            out[start:start + len(w), j] = [np.mean([bleu._compute_score_from_stats(list(map(int, seed_sums))).score
                                                     for seed_sums in row]) for row in sums]
    return out
