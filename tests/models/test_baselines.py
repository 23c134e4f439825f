"""Majority and TF-IDF + logistic regression baselines on toy data with hand-checked answers."""

from __future__ import annotations

import numpy as np
import pytest

from seminal.benchmark import SplitSpec, TaskSpec
from seminal.models.baselines import Majority, MajorityConfig, TfidfLogReg, TfidfLogRegConfig

_SPLITS = {"train": SplitSpec("train.tsv", True, 2, {"sentence1": 0, "label": 1})}


def _task(kind="single", output="classification", labels=("0", "1")) -> TaskSpec:
    return TaskSpec(name="toy", kind=kind, output=output, labels=labels if output == "classification" else None,
                    metrics=("acc",), splits=_SPLITS)


def test_majority_predicts_the_most_frequent_class():
    task = _task(labels=("a", "b", "c"))
    m = Majority(MajorityConfig(), task).fit(["x"] * 6, None, np.array([2, 1, 2, 0, 2, 1]))
    pred = m.predict(["p", "q", "r"])
    assert pred.tolist() == [2, 2, 2] and pred.dtype == np.int64
    tie = Majority(MajorityConfig(), task).fit(["x"] * 4, None, np.array([2, 1, 1, 2]))
    assert tie.predict(["p"]).tolist() == [1]  # ties go to the lowest class id
    assert m.num_parameters() == 1


def test_majority_regression_predicts_the_training_mean():
    task = _task(kind="pair", output="regression")
    m = Majority(MajorityConfig(), task).fit(["a"] * 4, ["b"] * 4, np.array([0.0, 1.0, 2.0, 5.0], dtype=np.float32))
    pred = m.predict(["x", "y"], ["z", "w"])
    assert pred.tolist() == [2.0, 2.0] and pred.dtype == np.float64


def test_majority_before_fit_is_an_error():
    with pytest.raises(RuntimeError):
        Majority(MajorityConfig(), _task()).predict(["x"])


TOY = [("the film was great", 1), ("a great and moving story", 1), ("truly great acting", 1),
       ("the film was awful", 0), ("an awful and boring story", 0), ("truly awful acting", 0)]


def test_tfidf_learns_a_separable_task():
    s = [x for x, _ in TOY] * 3
    y = np.array([c for _, c in TOY] * 3)
    m = TfidfLogReg(TfidfLogRegConfig(C=10.0), _task()).fit(s, None, y)
    pred = m.predict(["great music", "awful music", "the story was great"])
    assert pred.tolist() == [1, 0, 1] and pred.dtype == np.int64
    # one coefficient per n-gram (unigrams + bigrams of the training text) and an intercept
    assert m.num_parameters() == len(m.vectorizer.vocabulary_) + 1


def test_tfidf_pairs_use_u_v_absdiff_product():
    """Duplicate iff the two sentences are the same: only |u - v| and u * v can tell."""
    words = ["dog", "cat", "bird", "horse", "fish", "cow"]
    s1, s2, y = [], [], []
    for i, a in enumerate(words):
        for j, b in enumerate(words):
            s1.append(a)
            s2.append(b)
            y.append(int(i == j))
    task = _task(kind="pair")
    m = TfidfLogReg(TfidfLogRegConfig(C=100.0), task).fit(s1 * 2, s2 * 2, np.array(y * 2))
    assert (m.predict(s1, s2) == np.array(y)).all()
    v = len(m.vectorizer.vocabulary_)
    assert m._features(s1[:2], s2[:2]).shape == (2, 4 * v)
    assert m.num_parameters() == 4 * v + 1


def test_tfidf_multiclass_and_regression():
    s = ["red", "green", "blue"] * 4
    m = TfidfLogReg(TfidfLogRegConfig(C=100.0), _task(labels=("r", "g", "b"))).fit(s, None, np.array([0, 1, 2] * 4))
    assert m.predict(["blue", "red"]).tolist() == [2, 0]
    assert m.num_parameters() == 3 * 3 + 3
    reg = TfidfLogReg(TfidfLogRegConfig(alpha=1e-3), _task(kind="pair", output="regression"))
    reg.fit(["low", "high"] * 3, ["x", "x"] * 3, np.array([0.0, 5.0] * 3))
    pred = reg.predict(["high", "low"], ["x", "x"])
    assert pred.dtype == np.float64 and pred[0] > 4.5 and pred[1] < 0.5


def test_tfidf_is_deterministic_and_survives_one_class():
    s = [x for x, _ in TOY]
    y = np.array([c for _, c in TOY])
    a = TfidfLogReg(TfidfLogRegConfig(), _task()).fit(s, None, y)
    b = TfidfLogReg(TfidfLogRegConfig(), _task()).fit(s, None, y)
    assert np.array_equal(a.model.coef_, b.model.coef_)
    one = TfidfLogReg(TfidfLogRegConfig(), _task()).fit(s, None, np.ones(len(s), dtype=np.int64))
    assert one.predict(["anything"]).tolist() == [1]
