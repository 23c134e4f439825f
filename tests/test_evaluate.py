"""seminal.evaluate: scores and distance buckets on hand-made splits, exact output bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seminal.benchmark import TaskSpec, load_benchmark
from seminal.data import Split
from seminal.errors import SeminalError
from seminal.evaluate import DISTANCE_BUCKETS, bucket_label, evaluate, write_predictions, write_submission

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def glue():
    return load_benchmark(REPO / "config" / "benchmarks" / "glue.yaml")


def _toy(metrics: tuple[str, ...] = ("acc",)) -> TaskSpec:
    return TaskSpec(name="Toy", kind="single", output="classification", labels=("neg", "pos"),
                    metrics=metrics, splits={})


def _split(labels, distance=None, task="Toy", name="dev", sentence2=None) -> Split:
    n = len(labels)
    return Split(task, name, [str(i) for i in range(n)], ["s"] * n, sentence2, list(labels), distance,
                 None if distance is None else ["p"] * n)


def test_bucket_labels():
    assert [bucket_label(*b) for b in DISTANCE_BUCKETS] == ["1-2", "3-5", "6-9", "10+"]


def test_evaluate_with_distance_buckets():
    #        distance  gold  pred
    # row 0:   1       pos   pos   right
    # row 1:   2       neg   pos   wrong
    # row 2:   3       pos   pos   right
    # row 3:   5       neg   neg   right
    # row 4:  10       pos   neg   wrong
    # row 5:  40       neg   neg   right
    # row 6:   0       pos   pos   right   (distance 0: in no bucket)
    # overall acc 5/7; 1-2: 1/2; 3-5: 2/2; 6-9: empty, left out; 10+: 1/2
    split = _split(["pos", "neg", "pos", "neg", "pos", "neg", "pos"], distance=[1, 2, 3, 5, 10, 40, 0])
    pred = np.array([1, 1, 1, 0, 0, 0, 1])
    out = evaluate(_toy(), split, pred)
    assert out["n"] == 7 and out["metrics"] == {"acc": pytest.approx(5 / 7)}
    assert out["buckets"] == {"1-2": {"n": 2, "acc": 0.5}, "3-5": {"n": 2, "acc": 1.0},
                              "10+": {"n": 2, "acc": 0.5}}
    assert type(out["n"]) is int and type(out["buckets"]["1-2"]["n"]) is int


def test_evaluate_without_distance_has_no_buckets():
    # TP=1 (row 0), FP=1 (row 1), FN=1 (row 2), TN=1 (row 3): acc 2/4, F1 = 2*0.5*0.5/1 = 0.5,
    # MCC = (1*1 - 1*1) / sqrt(2*2*2*2) = 0
    out = evaluate(_toy(("f1", "acc", "mcc")), _split(["pos", "neg", "pos", "neg"]), np.array([1, 1, 0, 0]))
    assert out == {"metrics": {"f1": 0.5, "acc": 0.5, "mcc": 0.0}, "n": 4}


def test_evaluate_regression(glue):
    sts = glue.task("STS-B")
    split = _split(["1.0", "2.0", "3.0", "4.0"], task="STS-B", sentence2=["t"] * 4)
    # predictions 2,4,5,9 against 1,2,3,4: Pearson 11/sqrt(130) (see test_metrics), Spearman 1
    out = evaluate(sts, split, np.array([2.0, 4.0, 5.0, 9.0]))
    assert out["metrics"]["pearson"] == pytest.approx(11 / 130 ** 0.5)
    assert out["metrics"]["spearman"] == pytest.approx(1.0)


@pytest.mark.parametrize("pred,message", [
    (np.array([1, 0]), r"expected 3 predictions in a 1-d array, got shape \(2,\)"),
    (np.array([[1, 0, 1]]), "expected 3 predictions"),
    (np.array([1.0, 0.0, 1.0]), "class predictions must be integer label ids, got float64"),
    (np.array([0, 2, 1]), r"label ids must be in \[0, 2\)"),
    (np.array([0, -1, 1]), r"label ids must be in \[0, 2\)"),
])
def test_bad_predictions(pred, message):
    with pytest.raises(SeminalError, match=rf"^Toy/dev: {message}"):
        evaluate(_toy(), _split(["pos", "neg", "pos"]), pred)


def test_unlabelled_split_cannot_be_scored():
    split = Split("Toy", "test", ["0"], ["s"], None, None, None, None)
    with pytest.raises(SeminalError, match="Toy/test: split has no gold labels"):
        evaluate(_toy(), split, np.array([0]))


def test_write_predictions_exact_bytes(tmp_path, glue):
    split = _split(["pos", "neg", "pos"])
    split.index = ["a7", "b8", "c9"]
    path = write_predictions(tmp_path / "p" / "dev.tsv", _toy(), split, np.array([1, 0, 0]))
    assert path.read_bytes() == b"index\tprediction\na7\tpos\nb8\tneg\nc9\tneg\n"
    sts = _split(["0", "0"], task="STS-B", sentence2=["t", "t"])
    write_predictions(tmp_path / "sts.tsv", glue.task("STS-B"), sts, np.array([5.4321, -0.25]))
    assert (tmp_path / "sts.tsv").read_bytes() == b"index\tprediction\n0\t5.432\n1\t-0.250\n"  # not clipped
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dev.tsv", "p", "sts.tsv"]  # no temp files


def _test_split(task: str, n: int, name: str = "test") -> Split:
    return Split(task, name, [str(i) for i in range(n)], ["s"] * n, ["t"] * n, None, None, None)


def test_write_submission_exact_bytes(tmp_path, glue):
    out = tmp_path / "submission"
    # RTE: label strings, as in the files
    p = write_submission(out, glue.task("RTE"), "test", _test_split("RTE", 3), np.array([0, 1, 1]))
    assert p == out / "RTE.tsv"
    assert p.read_bytes() == b"index\tprediction\n0\tentailment\n1\tnot_entailment\n2\tnot_entailment\n"
    # CoLA: 0/1 (a single-sentence task)
    cola = Split("CoLA", "test", ["0", "1"], ["a", "b"], None, None, None, None)
    p = write_submission(out, glue.task("CoLA"), "test", cola, np.array([1, 0]))
    assert p.read_bytes() == b"index\tprediction\n0\t1\n1\t0\n"
    # STS-B: %.3f, clipped to [0, 5]; -0.2 becomes 0.000, not -0.000
    p = write_submission(out, glue.task("STS-B"), "test", _test_split("STS-B", 4),
                         np.array([-0.2, 2.34567, 5.7, 0.0]))
    assert p.read_bytes() == b"index\tprediction\n0\t0.000\n1\t2.346\n2\t5.000\n3\t0.000\n"
    # MNLI mismatched and AX: MNLI's label strings
    p = write_submission(out, glue.task("MNLI"), "test_mismatched", _test_split("MNLI", 3, "test_mismatched"),
                         np.array([2, 0, 1]))
    assert p.name == "MNLI-mm.tsv"
    assert p.read_bytes() == b"index\tprediction\n0\tneutral\n1\tcontradiction\n2\tentailment\n"
    p = write_submission(out, glue.task("AX"), "test", _test_split("AX", 1), np.array([1]))
    assert p.read_bytes() == b"index\tprediction\n0\tentailment\n"
    assert sorted(q.name for q in out.iterdir()) == ["AX.tsv", "CoLA.tsv", "MNLI-mm.tsv", "RTE.tsv", "STS-B.tsv"]


def test_write_submission_errors(tmp_path, glue):
    with pytest.raises(SeminalError, match="task RTE has no submission file for split 'dev'"):
        write_submission(tmp_path, glue.task("RTE"), "dev", _test_split("RTE", 1), np.array([0]))
    with pytest.raises(SeminalError, match="finite"):
        write_submission(tmp_path, glue.task("STS-B"), "test", _test_split("STS-B", 1), np.array([np.nan]))
    assert list(tmp_path.iterdir()) == []


def test_distances_must_match_the_examples():
    split = _split(["pos", "neg"], distance=[1, 2])
    split.distance = [1]
    with pytest.raises(SeminalError, match="Toy/dev: 1 distances for 2 examples"):
        evaluate(_toy(), split, np.array([1, 0]))
