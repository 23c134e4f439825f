"""seminal.metrics against values computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seminal.metrics import METRICS, glue_average, task_score

# A binary case with TP=3, FN=1, FP=2, TN=4 (n=10).
Y_TRUE = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
Y_PRED = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])


def test_keys_and_python_floats():
    assert set(METRICS) == {"acc", "f1", "mcc", "pearson", "spearman"}
    for fn in METRICS.values():
        assert type(fn(Y_TRUE, Y_PRED)) is float


def test_accuracy():
    # correct = TP + TN = 3 + 4 = 7 of 10
    assert METRICS["acc"](Y_TRUE, Y_PRED) == pytest.approx(0.7)


def test_f1_of_the_positive_class():
    # precision = TP / (TP + FP) = 3/5 = 0.6; recall = TP / (TP + FN) = 3/4 = 0.75
    # F1 = 2 * 0.6 * 0.75 / (0.6 + 0.75) = 0.9 / 1.35 = 2/3
    assert METRICS["f1"](Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    # class id 1 is positive, not "the minority": swapping ids gives F1 of class 0 instead:
    # TP'=TN=4, FP'=FN=1, FN'=FP=2 -> P=4/5, R=4/6, F1 = 2*0.8*(2/3)/(0.8+2/3) = (16/15)/(22/15) = 8/11
    assert METRICS["f1"](1 - Y_TRUE, 1 - Y_PRED) == pytest.approx(8 / 11)


def test_mcc_binary_by_formula():
    # MCC = (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))
    #     = (3*4 - 2*1) / sqrt(5 * 4 * 6 * 5) = 10 / sqrt(600) = 0.408248...
    assert METRICS["mcc"](Y_TRUE, Y_PRED) == pytest.approx(10 / math.sqrt(600))


def test_mcc_multiclass_is_gorodkin_r3():
    # Three classes (AX uses MNLI's three). c = correct = 4, s = n = 6,
    # t = true counts = [2, 2, 2], p = predicted counts = [2, 3, 1]:
    # R3 = (c*s - sum t_k p_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2))
    #    = (24 - (4 + 6 + 2)) / sqrt((36 - 14)(36 - 12)) = 12 / sqrt(528) = 0.522232...
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    assert METRICS["mcc"](y_true, y_pred) == pytest.approx(12 / math.sqrt(528))


def test_pearson_small_vector():
    # x = [1,2,3,4], y = [2,4,5,9]; means 2.5 and 5.
    # dx = [-1.5,-0.5,0.5,1.5], dy = [-3,-1,0,4]
    # sum dx*dy = 4.5 + 0.5 + 0 + 6 = 11; sum dx^2 = 5; sum dy^2 = 9 + 1 + 0 + 16 = 26
    # r = 11 / sqrt(5 * 26) = 11 / sqrt(130) = 0.964763...
    x, y = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 9])
    assert METRICS["pearson"](x, y) == pytest.approx(11 / math.sqrt(130))


def test_spearman_with_ties():
    # x = [1,2,2,3] -> ranks [1, 2.5, 2.5, 4] (the tie shares ranks 2 and 3)
    # y = [10,20,30,30] -> ranks [1, 2, 3.5, 3.5]
    # Pearson of the ranks (both means 2.5): dx = [-1.5,0,0,1.5], dy = [-1.5,-0.5,1,1]
    # sum dx*dy = 2.25 + 0 + 0 + 1.5 = 3.75; sum dx^2 = 4.5; sum dy^2 = 2.25+0.25+1+1 = 4.5
    # rho = 3.75 / sqrt(4.5 * 4.5) = 5/6
    x, y = np.array([1.0, 2, 2, 3]), np.array([10.0, 20, 30, 30])
    assert METRICS["spearman"](x, y) == pytest.approx(5 / 6)


def test_constant_predictions_do_not_crash():
    # A constant vector has no variance, so every correlation is undefined: we return 0.0.
    y = np.array([0, 1, 0, 1])
    ones = np.ones(4, dtype=int)
    assert METRICS["mcc"](y, ones) == 0.0
    assert METRICS["f1"](y, np.zeros(4, dtype=int)) == 0.0  # no positive predicted: P undefined -> 0
    assert METRICS["acc"](y, ones) == 0.5
    scores = np.array([0.0, 1.5, 3.0, 5.0])
    assert METRICS["pearson"](scores, np.full(4, 2.5)) == 0.0
    assert METRICS["spearman"](scores, np.full(4, 2.5)) == 0.0
    assert METRICS["pearson"](np.full(4, 2.5), scores) == 0.0  # constant gold too
    assert METRICS["pearson"](np.array([1.0]), np.array([2.0])) == 0.0  # one example


def test_bad_shapes():
    for fn in METRICS.values():
        with pytest.raises(ValueError, match="no examples"):
            fn(np.array([]), np.array([]))
        with pytest.raises(ValueError, match="3 gold labels but 2 predictions"):
            fn(np.array([0, 1, 1]), np.array([0, 1]))


def test_task_score_is_the_mean_of_the_metrics():
    assert task_score({"mcc": 0.25}) == 0.25
    assert task_score({"f1": 0.8, "acc": 0.7}) == pytest.approx(0.75)  # (0.8 + 0.7) / 2
    with pytest.raises(ValueError):
        task_score({})


def test_glue_average():
    # CoLA 0.5; MRPC (0.8 + 0.7)/2 = 0.75; MNLI (m 0.6 + mm 0.8)/2 = 0.7; AX excluded.
    # GLUE = (0.5 + 0.75 + 0.7) / 3 = 1.95 / 3 = 0.65 (MNLI counts once, not twice)
    per_task = {"CoLA": {"mcc": 0.5}, "MRPC": {"f1": 0.8, "acc": 0.7},
                "MNLI": {"acc_m": 0.6, "acc_mm": 0.8}, "AX": {"mcc": -0.9}}
    assert glue_average(per_task) == pytest.approx(0.65)
    assert type(glue_average(per_task)) is float
    with pytest.raises(ValueError, match="no tasks"):
        glue_average({"AX": {"mcc": 0.1}})
