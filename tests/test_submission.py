"""The GLUE leaderboard zip: which model, which files, in what order, checked against the test files.

Runs are written by hand in tmp_path (metrics.json + the run's submission files, as
seminal.experiment writes them), against the real GLUE test files in ../shared/data/glue.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from seminal.benchmark import load_benchmark
from seminal.data import read_split
from seminal.errors import SeminalError
from seminal.evaluate import write_submission
from seminal.io import write_json
from seminal.submission import LEADERBOARD_ORDER, choose_model, submit

REPO = Path(__file__).resolve().parents[1]
GLUE = (REPO.parent / "shared" / "data" / "glue").resolve()
pytestmark = pytest.mark.skipif(not GLUE.is_dir(), reason=f"real GLUE files not found at {GLUE}")
SPEC = load_benchmark(REPO / "config" / "benchmarks" / "glue.yaml")


def make_run(runs: Path, model: str, task: str, dev: dict[str, float], predict=None) -> None:
    """A seed-0 run: metrics.json with these dev metrics, and test predictions (default: class 1, or
    a score of 6.2 for STS-B, which the submission must clip to 5)."""
    d = runs / model / task / "seed0"
    write_json(d / "metrics.json", {"model": model, "task": task, "seed": 0,
                                     "eval": {task: {"dev": {"metrics": dev, "n": 10}}}})
    t = SPEC.tasks[task]
    test = read_split(t, "test", GLUE)
    p = predict(len(test)) if predict else (np.full(len(test), 6.2) if t.is_regression else np.ones(len(test), int))
    write_submission(d / "submission", t, "test", test, p)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    r = tmp_path / "runs"
    for model, (rte, sts) in {"a": (0.75, 0.25), "b": (0.625, 0.5), "c": (0.5, 0.5)}.items():
        make_run(r, model, "RTE", {"acc": rte})
        make_run(r, model, "STS-B", {"pearson": sts, "spearman": sts})
    make_run(r, "single", "RTE", {"acc": 0.99})  # ran RTE only: not a candidate for both tasks
    return r


def test_best_is_the_highest_mean_dev_score_over_the_tasks(runs: Path) -> None:
    model, scores = choose_model(runs, ["a", "b", "c", "single"], ["RTE", "STS-B"], 0)
    assert model == "b" and scores == {"RTE": 0.625, "STS-B": 0.5}  # means .5, .5625, .5 (exact in binary)
    assert choose_model(runs, ["c", "a"], ["RTE", "STS-B"], 0)[0] == "a"  # a tie: the first name
    assert choose_model(runs, ["a", "b", "single"], ["RTE"], 0)[0] == "single"
    assert choose_model(runs, ["a", "b"], ["RTE", "STS-B"], 0, choice="a")[0] == "a"
    with pytest.raises(SeminalError, match="model 'single' has no seed-0 run of every task"):
        choose_model(runs, ["a", "single"], ["RTE", "STS-B"], 0, choice="single")
    with pytest.raises(SeminalError, match="no model has a seed-1 run"):
        choose_model(runs, ["a"], ["RTE"], 1)


def test_zip_in_leaderboard_order_with_labels_and_clipped_scores(runs: Path, tmp_path: Path) -> None:
    make_run(runs, "b", "CoLA", {"mcc": 0.3})
    out = tmp_path / "glue_submission.zip"
    record = submit(SPEC, GLUE, runs, ["a", "b", "c"], ["RTE", "STS-B", "CoLA"], 0, "b", out)
    assert record["model"] == "b" and record["files"] == ["CoLA.tsv", "STS-B.tsv", "RTE.tsv"]
    assert LEADERBOARD_ORDER.index("CoLA.tsv") < LEADERBOARD_ORDER.index("STS-B.tsv") < LEADERBOARD_ORDER.index("RTE.tsv")
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == record["files"]
        rte = z.read("RTE.tsv").decode().splitlines()
        sts = z.read("STS-B.tsv").decode().splitlines()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
    assert rte[0] == "index\tprediction" and rte[1] == "0\tnot_entailment" and len(rte) == 3001
    assert sts[1] == "0\t5.000" and len(sts) == 1380  # 6.2 clipped to the scale's top
    first = out.read_bytes()
    submit(SPEC, GLUE, runs, ["a", "b", "c"], ["RTE", "STS-B", "CoLA"], 0, "b", out)
    assert out.read_bytes() == first  # same predictions, same bytes


def test_a_file_that_does_not_match_the_test_split_is_refused(runs: Path, tmp_path: Path) -> None:
    bad = runs / "a" / "RTE" / "seed0" / "submission" / "RTE.tsv"
    lines = bad.read_text().splitlines()
    bad.write_text("\n".join(lines[:-1]) + "\n")  # one prediction missing
    with pytest.raises(SeminalError, match="2999 predictions for 3000 test examples of RTE"):
        submit(SPEC, GLUE, runs, ["a"], ["RTE"], 0, "a", tmp_path / "x.zip")
    bad.write_text("\n".join([lines[0], "0\t1", *lines[2:]]) + "\n")  # CoLA's label string in RTE
    with pytest.raises(SeminalError, match=r"RTE.tsv:2: label '1' is not one of \['entailment', 'not_entailment'\]"):
        submit(SPEC, GLUE, runs, ["a"], ["RTE"], 0, "a", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
