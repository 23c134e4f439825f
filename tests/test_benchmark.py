"""seminal.benchmark: the shipped GLUE spec is what GLUE defines; bad specs fail with one line."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from seminal.benchmark import BenchmarkSpec, SplitSpec, TaskSpec, load_benchmark
from seminal.errors import SeminalError

REPO = Path(__file__).parents[1]
GLUE = REPO / "config" / "benchmarks" / "glue.yaml"


@pytest.fixture(scope="module")
def glue() -> BenchmarkSpec:
    return load_benchmark(GLUE)


def test_glue_tasks_metrics_and_submission_files(glue):
    assert glue.name == "glue" and glue.path == GLUE
    assert list(glue.tasks) == ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI", "AX"]
    assert glue.trainable_tasks == list(glue.tasks)[:-1]
    metrics = {name: t.metrics for name, t in glue.tasks.items()}
    assert metrics == {"CoLA": ("mcc",), "SST-2": ("acc",), "MRPC": ("f1", "acc"), "STS-B": ("pearson", "spearman"),
                       "QQP": ("f1", "acc"), "MNLI": ("acc",), "QNLI": ("acc",), "RTE": ("acc",),
                       "WNLI": ("acc",), "AX": ("mcc",)}
    files = sorted(f for t in glue.tasks.values() for f in t.submission.values())
    assert files == sorted(["CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv",
                            "MNLI-mm.tsv", "QNLI.tsv", "RTE.tsv", "WNLI.tsv", "AX.tsv"])
    mnli = glue.task("MNLI")
    assert mnli.eval == ("dev_matched", "dev_mismatched")
    assert mnli.submission == {"test_matched": "MNLI-m.tsv", "test_mismatched": "MNLI-mm.tsv"}
    for name, t in glue.tasks.items():
        if name not in ("MNLI", "AX"):
            assert t.eval == ("dev",) and t.submission == {"test": f"{name}.tsv"}


def test_glue_layouts(glue):
    cola = glue.task("CoLA").splits
    assert cola["train"] == SplitSpec("CoLA/train.tsv", False, 4, {"label": 1, "sentence1": 3})
    assert cola["test"] == SplitSpec("CoLA/test.tsv", True, 2, {"index": 0, "sentence1": 1})
    assert glue.task("MRPC").splits["test"].columns == {"index": 0, "sentence1": 3, "sentence2": 4}
    assert [glue.task("STS-B").splits[s].ncols for s in ("train", "dev", "test")] == [10, 10, 9]
    assert [glue.task("QQP").splits[s].ncols for s in ("train", "dev", "test")] == [6, 6, 3]
    mnli = glue.task("MNLI").splits
    assert {s: (v.ncols, v.columns.get("label")) for s, v in mnli.items()} == {
        "train": (12, 11), "dev_matched": (16, 15), "dev_mismatched": (16, 15),
        "test_matched": (10, None), "test_mismatched": (10, None)}
    assert glue.task("QNLI").splits["train"].file == "QNLI/train.tsv"
    for t in ("QNLI", "RTE", "WNLI"):
        assert [glue.task(t).splits[s].ncols for s in ("train", "dev", "test")] == [4, 4, 3]
    ax = glue.task("AX")
    assert ax.predict_with == "MNLI" and ax.eval == () and "train" not in ax.splits
    assert ax.splits["test"].file == "diagnostic/diagnostic.tsv"
    assert ax.labels == glue.task("MNLI").labels == ("contradiction", "entailment", "neutral")


def test_task_spec_properties(glue):
    sts, sst, mnli = glue.task("STS-B"), glue.task("SST-2"), glue.task("MNLI")
    assert (sts.is_regression, sts.is_pair, sts.num_labels, sts.labels) == (True, True, 1, None)
    assert (sst.is_regression, sst.is_pair, sst.num_labels) == (False, False, 2)
    assert mnli.num_labels == 3 and mnli.quoting == "none" and mnli.encoding == "utf-8-sig"
    with pytest.raises(SeminalError, match=re.escape(f"{GLUE}: unknown task 'MNLI-m'")):
        glue.task("MNLI-m")


# --- bad specs ------------------------------------------------------------------------------

SPLIT = {"file": "T/train.tsv", "header": True, "ncols": 3, "columns": {"sentence1": 1, "label": 2}}
VALID = {"name": "toy", "tasks": {
    "T": {"kind": "single", "output": "classification", "labels": ["a", "b"], "metrics": ["acc"],
          "splits": {"train": SPLIT, "dev": {**SPLIT, "file": "T/dev.tsv"}}},
    "P": {"kind": "pair", "output": "classification", "labels": ["x", "y", "z"], "metrics": ["acc"],
          "splits": {"train": {"file": "P/train.tsv", "columns": {"sentence1": 0, "sentence2": 1, "label": 2}}}},
}}


def _load(tmp_path: Path, raw) -> BenchmarkSpec:
    path = tmp_path / "bench.yaml"
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_benchmark(path)


def test_valid_toy_and_defaults(tmp_path):
    b = _load(tmp_path, VALID)
    assert b.name == "toy" and b.trainable_tasks == ["T", "P"]
    t, p = b.task("T"), b.task("P")
    assert t.eval == ("dev",) and p.eval == () and t.submission == {} and t.predict_with is None
    assert p.splits["train"].ncols == 3 and p.splits["train"].header is True  # ncols from the columns


def _mutate(path: str, value):
    raw = copy.deepcopy(VALID)
    *keys, last = path.split(".")
    node = raw
    for k in keys:
        node = node[k]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return raw


@pytest.mark.parametrize("mutation,message", [
    (("tasks", {}), "non-empty 'tasks'"),
    (("tasks.T.kind", "triple"), "kind must be one of"),
    (("tasks.T.output", "ranking"), "kind must be one of"),
    (("tasks.T.labels", KeyError), "needs 2+ distinct 'labels'"),
    (("tasks.T.labels", ["a", "a"]), "needs 2+ distinct 'labels'"),
    (("tasks.T.labels", "ab"), "needs 2+ distinct 'labels'"),
    (("tasks.T.output", "regression"), "a regression task takes no 'labels'"),
    (("tasks.T.metrics", ["accuracy"]), "metrics ['accuracy'] not in"),
    (("tasks.T.metrics", []), "not in"),
    (("tasks.T.metrics", "acc"), "'metrics' must be a non-empty list"),
    (("tasks.T.splits.train.columns", {"sentence1": 1, "gold": 2}), "unknown column role(s) ['gold']"),
    (("tasks.T.splits.train.columns", {"label": 2}), "columns need a 'sentence1'"),
    (("tasks.T.splits.train.columns", {"sentence1": 3}), "column numbers must be integers in [0, 3)"),
    (("tasks.T.splits.train.columns", {"sentence1": "1"}), "column numbers must be integers"),
    (("tasks.T.splits.train.columns", [1, 2]), "a split needs 'file' and a 'columns' mapping"),
    (("tasks.T.splits.train.file", KeyError), "a split needs 'file'"),
    (("tasks.T.splits.train.header", "no"), "'header' must be true or false"),
    (("tasks.T.splits.train.columns", {"sentence1": 1, "sentence2": 0, "label": 2}), "takes no 'sentence2'"),
    (("tasks.P.splits.train.columns", {"sentence1": 0, "label": 2}), "needs a 'sentence2'"),
    (("tasks.T.splits.train", KeyError), "needs a 'train' split or 'predict_with'"),
    (("tasks.T.splits", ["train"]), "'splits' must be a mapping"),
    (("tasks.T.eval", ["test"]), "split 'test' is used but not defined"),
    (("tasks.T.eval", "dev"), "'eval' must be a list"),
    (("tasks.T.submission", {"test": "T.tsv"}), "split 'test' is used but not defined"),
    (("tasks.T.splits.dev.columns", {"sentence1": 1}), "eval split 'dev' has no 'label' column"),
    (("tasks.T.quoting", "all"), "quoting must be one of"),
    (("tasks.T.encoding", "klingon-8"), "unknown encoding 'klingon-8'"),
    (("tasks.X", {"kind": "single", "labels": ["x", "y", "z"], "metrics": ["mcc"], "predict_with": "Q",
                  "splits": {"test": {"file": "x.tsv", "columns": {"sentence1": 0}}}}),
     "predict_with 'Q' is not a trainable task"),
    (("tasks.X", {"kind": "pair", "labels": ["z", "y", "x"], "metrics": ["mcc"], "predict_with": "P",
                  "splits": {"test": {"file": "x.tsv", "columns": {"sentence1": 0, "sentence2": 1}}}}),
     "same output and labels (in the same order) as P"),
])
def test_bad_spec_is_one_line_naming_the_file(tmp_path, mutation, message):
    with pytest.raises(SeminalError) as err:
        _load(tmp_path, _mutate(*mutation))
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'bench.yaml'}: ") and "\n" not in text
    assert message in text


def test_predict_with_a_matching_task_loads(tmp_path):
    raw = _mutate("tasks.X", {"kind": "pair", "labels": ["x", "y", "z"], "metrics": ["mcc"], "predict_with": "P",
                              "eval": [], "splits": {"test": {"file": "x.tsv", "columns": {"sentence1": 0,
                                                                                         "sentence2": 1}}}})
    b = _load(tmp_path, raw)
    assert b.trainable_tasks == ["T", "P"] and b.task("X").predict_with == "P"


def test_unreadable_files(tmp_path):
    with pytest.raises(SeminalError, match="file not found"):
        load_benchmark(tmp_path / "nope.yaml")
    with pytest.raises(SeminalError, match=r"bench\.yaml:2: invalid YAML"):
        _load(tmp_path, "name: x\n\tbad: tab\n")
    with pytest.raises(SeminalError, match="non-empty 'tasks' mapping"):
        _load(tmp_path, "- just\n- a list\n")


def test_task_spec_defaults():
    t = TaskSpec(name="R", kind="pair", output="regression", labels=None, metrics=("pearson",), splits={})
    assert t.eval == ("dev",) and t.quoting == "none" and t.encoding == "utf-8-sig" and t.num_labels == 1
