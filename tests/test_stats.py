"""Bootstrap, permutation and success-rate intervals on hand-made cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from seminal.metrics import METRICS
from seminal.stats import (
    bleu_samples,
    bleu_statistics,
    bootstrap_ci,
    bootstrap_mean,
    bootstrap_mean_difference,
    bootstrap_samples,
    corpus_bleu,
    newcombe,
    paired_bootstrap,
    permutation_test,
    resample_weights,
    score,
    weighted_scores,
    wilson,
)


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    y2, y3 = rng.integers(0, 2, 60), rng.integers(0, 3, 60)
    gold = np.round(rng.uniform(0, 5, 60) * 2) / 2  # STS-B-like scores with many ties
    pred = np.round(gold + rng.normal(0, 1.2, 60), 1)
    return [("acc", y2, np.where(rng.random(60) < 0.7, y2, 1 - y2)),
            ("f1", y2, np.where(rng.random(60) < 0.6, y2, 1 - y2)),
            ("mcc", y2, np.where(rng.random(60) < 0.6, y2, 1 - y2)),
            ("mcc", y3, np.where(rng.random(60) < 0.5, y3, rng.integers(0, 3, 60))),  # Gorodkin R_K
            ("acc", y3, rng.integers(0, 3, 60)),
            ("pearson", gold, pred), ("spearman", gold, pred)]


@pytest.mark.parametrize("metric,y,p", _cases(), ids=lambda x: x if isinstance(x, str) else None)
def test_vectorised_metric_equals_the_official_one_on_every_resample(metric: str, y: np.ndarray, p: np.ndarray):
    rng = np.random.default_rng(1)
    idx = rng.integers(0, len(y), size=(40, len(y)))
    w = np.stack([np.bincount(i, minlength=len(y)) for i in idx]).astype(float)
    expected = [METRICS[metric](y[i], p[i]) for i in idx]
    np.testing.assert_allclose(weighted_scores(metric, y, p, w), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("metric", ["mcc", "f1", "pearson", "spearman"])
def test_degenerate_resamples_score_zero_as_the_official_metric_does(metric: str):
    y = np.array([0, 1, 1, 0, 1, 1]) if metric in ("mcc", "f1") else np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    p = np.array([1, 1, 0, 0, 1, 0]) if metric in ("mcc", "f1") else np.array([0.5, 1.0, 2.5, 2.5, 4.0, 1.0])
    w = np.array([[0, 3, 3, 0, 0, 0],    # predictions constant on this resample (both 1, or both 1.0 / 2.5 ...)
                  [0, 0, 0, 6, 0, 0],    # one example drawn six times: both sides constant
                  [1, 1, 1, 1, 1, 1.0]])
    expected = [METRICS[metric](np.repeat(y, row.astype(int)), np.repeat(p, row.astype(int))) for row in w]
    np.testing.assert_allclose(weighted_scores(metric, y, p, w), expected, atol=1e-12)
    assert expected[1] == 0.0


def test_several_metrics_are_averaged_like_task_score():
    y, p = np.array([1, 0, 1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1, 0, 1])
    assert score(("f1", "acc"), y, p) == pytest.approx((METRICS["f1"](y, p) + METRICS["acc"](y, p)) / 2)
    w = np.ones((1, len(y)))
    assert weighted_scores(("f1", "acc"), y, p, w)[0] == pytest.approx(score(("f1", "acc"), y, p))


def test_resample_weights_draw_n_examples_per_row():
    w = resample_weights(50, 30, np.random.default_rng(0))
    assert w.shape == (30, 50) and np.all(w.sum(axis=1) == 50) and w.min() >= 0
    assert np.array_equal(w, resample_weights(50, 30, np.random.default_rng(0)))


def test_bootstrap_ci_of_a_constant_is_degenerate():
    y = np.ones(200, dtype=int)
    ci = bootstrap_ci("acc", y, y, n_resamples=300)
    assert (ci.value, ci.lo, ci.hi) == (1.0, 1.0, 1.0)


def test_bootstrap_ci_of_accuracy_has_the_binomial_width():
    """n = 1000 at 70%: the normal approximation gives +-1.96 * sqrt(.7 * .3 / 1000) = +-0.0284."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000)
    p = y.copy()
    wrong = rng.choice(1000, 300, replace=False)
    p[wrong] = 1 - p[wrong]
    ci = bootstrap_ci("acc", y, p, n_resamples=2000, seed=1)
    assert ci.value == pytest.approx(0.7)
    assert ci.lo < 0.7 < ci.hi
    assert ci.hi - ci.lo == pytest.approx(2 * 0.0284, abs=0.006)


def test_bootstrap_is_reproducible_from_its_seed():
    _, y, p = _cases()[2]
    a = bootstrap_ci("mcc", y, p, n_resamples=200, seed=5)
    assert a == bootstrap_ci("mcc", y, p, n_resamples=200, seed=5)
    assert a != bootstrap_ci("mcc", y, p, n_resamples=200, seed=6)


def test_seeds_are_averaged_on_the_same_resamples():
    y = np.array([0, 1] * 50)
    good, bad = y.copy(), 1 - y
    both = np.stack([good, bad])  # accuracy 1 and 0: their mean is 0.5 on every resample
    ci = bootstrap_ci("acc", y, both, n_resamples=100)
    assert (ci.value, ci.lo, ci.hi) == (0.5, 0.5, 0.5)


def test_identical_systems_differ_by_zero_with_p_one():
    _, y, p = _cases()[3]
    d = paired_bootstrap("mcc", y, p, p.copy(), n_resamples=300)
    assert (d.diff, d.lo, d.hi, d.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert paired_bootstrap("mcc", y, p, p, n_resamples=300, two_sided=True).p_value == 1.0


def test_a_system_better_on_every_example_has_p_near_zero():
    """B is right on a subset of the examples A gets right: every resample favours A (or ties)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    a = np.where(rng.random(500) < 0.8, y, 1 - y)
    b = np.where((a == y) & (rng.random(500) < 0.5), y, 1 - y)  # right only where A is right
    d = paired_bootstrap("acc", y, a, b, n_resamples=1000)
    assert d.diff == pytest.approx(np.mean(a == y) - np.mean(b == y))
    assert d.lo > 0 and d.p_value == 0.0
    reverse = paired_bootstrap("acc", y, b, a, n_resamples=1000)
    assert reverse.hi < 0 and reverse.p_value == 1.0


def test_a_systems_samples_do_not_depend_on_the_systems_beside_it():
    _, y, p = _cases()[1]
    q = np.roll(p, 3)
    s = bootstrap_samples("f1", y, [p, q], 50, np.random.default_rng(2))
    only_p = bootstrap_samples("f1", y, [p], 50, np.random.default_rng(2))
    np.testing.assert_allclose(s[:, 0], only_p[:, 0])


def test_permutation_test_on_identical_systems_gives_one():
    c = np.array([1, 0, 1, 1, 0])
    assert permutation_test(c, c, n_permutations=500) == 1.0


def test_permutation_test_equals_the_exact_sign_test():
    """10 discordant examples, 8 favour A: the sign-flip test is the sign test,
    two-sided p = 2 * P(Bin(10, 1/2) >= 8) = 2 * 56 / 1024 = 0.109375; one-sided 0.0546875."""
    a = np.array([1] * 8 + [0] * 2 + [1] * 30 + [0] * 10)
    b = np.array([0] * 8 + [1] * 2 + [1] * 30 + [0] * 10)
    assert permutation_test(a, b, n_permutations=40_000, seed=1) == pytest.approx(0.109375, abs=0.006)
    assert permutation_test(a, b, n_permutations=40_000, seed=1, two_sided=False) == pytest.approx(0.0546875,
                                                                                                    abs=0.005)


def test_permutation_test_when_a_wins_every_example():
    a, b = np.ones(30), np.zeros(30)  # P(|T| >= 1) = 2 / 2^30 under H0
    assert permutation_test(a, b, n_permutations=999) == pytest.approx(1 / 1000)


def test_wilson_against_hand_computed_values():
    """8/10: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.71674, half-width 0.22658 (z = 1.95996)."""
    ci = wilson(8, 10)
    assert (ci.value, ci.lo, ci.hi) == (0.8, pytest.approx(0.49016, abs=1e-5), pytest.approx(0.94332, abs=1e-5))
    zero = wilson(0, 10)  # upper bound z^2 / (n + z^2) = 3.8415 / 13.8415
    assert (zero.lo, zero.hi) == (0.0, pytest.approx(0.27753, abs=1e-5))
    assert wilson(10, 10).hi == 1.0 and (wilson(0, 0).lo, wilson(0, 0).hi) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_newcombe_against_the_published_example():
    """Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339."""
    d = newcombe(56, 70, 48, 80)
    assert (d.value, d.lo, d.hi) == (pytest.approx(0.2), pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))


def test_unknown_metric_and_bad_shapes_raise():
    with pytest.raises(ValueError, match="unknown metric"):
        score("bleu", np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        bootstrap_ci("acc", np.zeros(3), np.zeros((2, 4)))


def test_means_over_a_few_seeds():
    assert bootstrap_mean([2.0, 2.0, 2.0]) == bootstrap_mean([2.0, 2.0, 2.0], seed=9)
    ci = bootstrap_mean([1.0, 2.0, 3.0], n_resamples=2000)
    assert (ci.value, ci.lo, ci.hi) == (2.0, 1.0, 3.0)  # 3 values: P(all three the minimum) = 1/27 > 2.5%
    d = bootstrap_mean_difference([5.0, 6.0, 7.0], [1.0, 2.0, 3.0], n_resamples=2000)
    assert d.diff == 4.0 and 2.0 <= d.lo < 4.0 < d.hi <= 6.0 and d.p_value == 0.0  # every pair of seeds agrees
    assert bootstrap_mean_difference([1.0, 2.0], [1.0, 2.0], n_resamples=500).lo < 0


def test_corpus_bleu_from_statistics_equals_sacrebleu_and_pairs_on_sentences():
    import sacrebleu

    refs = ["the cat sat on the mat", "a dog ran home", "he is here today", "this is not it", "we go home now"]
    hyps = ["the cat sat on a mat", "the dog ran", "he is here today", "this is it", "we went home now"]
    stats = bleu_statistics(hyps, refs)
    assert stats.shape == (5, 10)
    assert corpus_bleu(stats.sum(axis=0)) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=1e-12)
    perfect = bleu_statistics(refs, refs)
    s = bleu_samples([perfect, stats, np.stack([stats, stats])], 200, np.random.default_rng(0))
    np.testing.assert_allclose(s[:, 0], 100.0)
    assert np.all(s[:, 0] >= s[:, 1] - 1e-9) and np.array_equal(s[:, 1], s[:, 2])
    w = np.bincount(np.random.default_rng(0).integers(0, 5, 5), minlength=5)  # the first resample, drawn again
    again = [h for h, k in zip(hyps, w) for _ in range(k)], [r for r, k in zip(refs, w) for _ in range(k)]
    assert s[0, 1] == pytest.approx(sacrebleu.corpus_bleu(again[0], [again[1]]).score)
