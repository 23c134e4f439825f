"""A user's own data: Kim 2014's two dataset formats (`label sentence` a line; one file per
class), CSV, columns by name, each malformed row an error naming file:line; k-fold
cross-validation (stratified folds fixed by a seed, a dev slice out of the training folds,
every example tested once); the table's mean over folds."""

from __future__ import annotations

import csv
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
import yaml

from seminal.benchmark import load_benchmark
from seminal.cv import assign_folds, write_folds
from seminal.data import read_split
from seminal.errors import SeminalError
from seminal.report import build_table, to_csv, to_markdown


def _bench(tmp_path: Path, tasks: dict) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"name": "mine", "tasks": tasks}, sort_keys=False), encoding="utf-8")
    return path


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


TREC = {"labels": ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"], "metrics": ["acc"], "format": "label_sentence",
        "splits": {"train": {"file": "TREC/train.txt"}, "dev": {"file": "TREC/dev.txt"}}}
MR = {"labels": ["neg", "pos"], "metrics": ["acc"], "encoding": "latin-1",
      "splits": {"train": {"files": {"neg": "rt-polarity.neg", "pos": "rt-polarity.pos"}}}}


# --- Kim's `label sentence` files --------------------------------------------------------------

def test_label_sentence_lines(tmp_path: Path) -> None:
    spec = load_benchmark(_bench(tmp_path, {"TREC": TREC}))
    _write(tmp_path / "TREC/train.txt", "DESC how did serfdom develop in and then leave russia ?\n"
                                        "ENTY\twhat films featured the character popeye doyle ?\r\n"
                                        "HUM  who killed gandhi ?   \n"
                                        "NUM when was 1:10 ?")  # tab or spaces after the label, CRLF, no final newline
    s = read_split(spec.task("TREC"), "train", tmp_path)
    assert s.labels == ["DESC", "ENTY", "HUM", "NUM"] and s.index == ["0", "1", "2", "3"]
    assert s.sentence1 == ["how did serfdom develop in and then leave russia ?",
                           "what films featured the character popeye doyle ?", "who killed gandhi ?   ",
                           "when was 1:10 ?"]
    assert s.sentence2 is None


@pytest.mark.parametrize("text,line,message", [
    ("DESC how ?\nHUM\nLOC where ?\n", 2, "expected `label sentence` (a label, a space, then the text), found a label"),
    ("DESC how ?\nHUM   \n", 2, "expected `label sentence`"),
    ("DESC how ?\n\nLOC where ?\n", 2, "blank line, expected an example"),
    ("DESC how ?\nLOC where ?\ndesc what ?\n", 3, "unknown label 'desc'; task TREC has labels"),
    ("DESC how ?\nDESC:manner how ?\n", 2, "unknown label 'DESC:manner'"),  # TREC's fine labels are not its coarse
])
def test_label_sentence_bad_rows_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    spec = load_benchmark(_bench(tmp_path, {"TREC": TREC}))
    path = _write(tmp_path / "TREC/dev.txt", text)
    with pytest.raises(SeminalError) as err:
        read_split(spec.task("TREC"), "dev", tmp_path)
    assert str(err.value).startswith(f"{path}:{line}: {message}")


# --- Kim's one file per class -----------------------------------------------------------------

def test_one_file_per_class(tmp_path: Path) -> None:
    spec = load_benchmark(_bench(tmp_path, {"MR": MR}))
    _write(tmp_path / "rt-polarity.neg", "simplistic , silly and tedious . \nit's so laddish .\n".encode("latin-1"))
    _write(tmp_path / "rt-polarity.pos", "the rock is destined to be a \"great\" caf\xe9 .\n".encode("latin-1"))
    s = read_split(spec.task("MR"), "train", tmp_path)
    assert s.labels == ["neg", "neg", "pos"] and s.index == ["0", "1", "2"]
    assert s.sentence1 == ["simplistic , silly and tedious . ", "it's so laddish .",
                           'the rock is destined to be a "great" café .']  # latin-1; quotes, spaces are text


def test_one_file_per_class_errors(tmp_path: Path) -> None:
    spec = load_benchmark(_bench(tmp_path, {"MR": MR}))
    _write(tmp_path / "rt-polarity.neg", "fine .\n")
    with pytest.raises(SeminalError, match=re.escape(f"{tmp_path / 'rt-polarity.pos'}: file not found")):
        read_split(spec.task("MR"), "train", tmp_path)
    pos = _write(tmp_path / "rt-polarity.pos", "good .\n  \nbetter .\n")
    with pytest.raises(SeminalError, match=rf"^{re.escape(str(pos))}:2: blank line, expected an example$"):
        read_split(spec.task("MR"), "train", tmp_path)
    utf8 = load_benchmark(_bench(tmp_path, {"MR": MR | {"encoding": "utf-8"}}))
    _write(tmp_path / "rt-polarity.pos", b"good .\ncaf\xe9 .\n")  # latin-1 bytes read as UTF-8
    with pytest.raises(SeminalError, match=r"rt-polarity\.pos:2: not valid utf-8 text \(byte 0xe9"):
        read_split(utf8.task("MR"), "train", tmp_path)


# --- CSV, columns by name --------------------------------------------------------------------

SIM = {"kind": "pair", "output": "regression", "metrics": ["pearson"], "format": "csv",
       "splits": {"train": {"file": "sim.csv", "columns": {"sentence1": "first", "sentence2": "second",
                                                           "label": "score", "index": "id"}}}}


def test_csv_with_header_and_columns_by_name(tmp_path: Path) -> None:
    spec = load_benchmark(_bench(tmp_path, {"Sim": SIM}))
    _write(tmp_path / "sim.csv", 'id,score,first,second\r\na1,4.5,"A man, walking.","He said ""hi""\nthen left."\r\n'
                                 "a2,0,A cat.,A car.\r\n")
    s = read_split(spec.task("Sim"), "train", tmp_path)
    assert s.index == ["a1", "a2"] and s.labels == ["4.5", "0"]
    assert s.sentence1 == ["A man, walking.", "A cat."] and s.sentence2 == ['He said "hi"\nthen left.', "A car."]


@pytest.mark.parametrize("text,line,message", [
    ("id,score,first,second\na1,4.5,x\n", 2, "3 comma-separated columns, expected 4"),
    ("id,score,first,second\na1,4.5,x,y\na2,high,x,y\n", 3, "label 'high' is not a finite number"),
    ("id,score,first\na1,4.5,x\n", 1, "column 'second' (sentence2) must be named exactly once in the header"),
    ('id,score,first,second\na1,4.5,"x,y\n', 2, "malformed quoted CSV"),
])
def test_csv_bad_rows_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    spec = load_benchmark(_bench(tmp_path, {"Sim": SIM}))
    path = _write(tmp_path / "sim.csv", text)
    with pytest.raises(SeminalError) as err:
        read_split(spec.task("Sim"), "train", tmp_path)
    assert str(err.value).startswith(f"{path}:{line}: {message}")


def test_tsv_columns_by_name(tmp_path: Path) -> None:
    task = {"labels": ["0", "1"], "metrics": ["acc"], "splits": {"train": {
        "file": "t.tsv", "columns": {"sentence1": "sentence", "label": "label"}}}}
    spec = load_benchmark(_bench(tmp_path, {"T": task}))
    _write(tmp_path / "t.tsv", 'label\tsentence\n1\ta "quoted" film\n0\tdull\n')  # tsv: quotes are text
    s = read_split(spec.task("T"), "train", tmp_path)
    assert s.sentence1 == ['a "quoted" film', "dull"] and s.labels == ["1", "0"]


# --- cross-validation ------------------------------------------------------------------------

def _mr(tmp_path: Path, n_neg: int, n_pos: int, folds: int = 3, seed: int = 0, fraction: float = 0.1):
    spec = load_benchmark(_bench(tmp_path, {"MR": MR | {"cv": {"folds": folds, "seed": seed,
                                                               "dev_fraction": fraction}}}))
    _write(tmp_path / "rt-polarity.neg", "".join(f"bad film {i} .\n" for i in range(n_neg)).encode("latin-1"))
    _write(tmp_path / "rt-polarity.pos", "".join(f"good film {i} .\n" for i in range(n_pos)).encode("latin-1"))
    return spec


def test_cv_expands_to_fold_tasks(tmp_path: Path) -> None:
    spec = _mr(tmp_path, 10, 10, folds=4)
    assert list(spec.tasks) == ["MR", "MR.fold1", "MR.fold2", "MR.fold3", "MR.fold4"]
    assert spec.trainable_tasks == spec.folds("MR") == ["MR.fold1", "MR.fold2", "MR.fold3", "MR.fold4"]
    fold = spec.task("MR.fold2")
    assert fold.fold_of == "MR" and fold.eval == ("dev", "test") and fold.cv is None
    assert fold.labels == ("neg", "pos") and fold.splits["test"].file == "cv/MR/fold2/test.tsv"


def test_folds_are_stratified_deterministic_and_partition_the_data(tmp_path: Path) -> None:
    spec = _mr(tmp_path, 70, 130, folds=10)
    paths = write_folds(spec.task("MR"), tmp_path)
    assert len(paths) == 30
    source = read_split(spec.task("MR"), "train", tmp_path)
    text_of = dict(zip(source.index, source.sentence1))
    tested: list[str] = []
    for i in range(1, 11):
        fold = spec.task(f"MR.fold{i}")
        s = {name: read_split(fold, name, tmp_path) for name in ("train", "dev", "test")}
        assert (s["test"].labels.count("neg"), s["test"].labels.count("pos")) == (7, 13)  # stratified
        assert len(s["dev"]) == 18 and (s["dev"].labels.count("neg"), s["dev"].labels.count("pos")) == (6, 12)
        assert len(s["train"]) == 200 - 20 - 18
        ids = [set(x.index) for x in s.values()]
        assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])  # dev comes out of the training folds
        assert len(ids[0] | ids[1] | ids[2]) == 200
        assert all(text_of[j] == t for j, t in zip(s["test"].index, s["test"].sentence1))  # index = the source's
        tested += s["test"].index
    assert sorted(tested) == sorted(source.index)  # every example is tested exactly once
    labels = source.labels
    assert np.array_equal(assign_folds(spec.task("MR"), labels, 10, 0), assign_folds(spec.task("MR"), labels, 10, 0))
    assert not np.array_equal(assign_folds(spec.task("MR"), labels, 10, 0),
                              assign_folds(spec.task("MR"), labels, 10, 1))
    before = [p.read_bytes() for p in paths]
    write_folds(spec.task("MR"), tmp_path)
    assert [p.read_bytes() for p in paths] == before  # the seed fixes the files, byte for byte


def test_fold_files_round_trip_any_text(tmp_path: Path) -> None:
    spec = load_benchmark(_bench(tmp_path, {"P": {
        "kind": "pair", "output": "regression", "metrics": ["pearson"], "format": "csv", "cv": {"folds": 2},
        "splits": {"train": {"file": "p.csv", "header": False, "columns": {"sentence1": 0, "sentence2": 1,
                                                                          "label": 2}}}}}))
    rows = [['tab\there', 'quote " and ""two""', "1.5"], ["new\nline", "comma, here", "2"], ['"', "x", "0"],
            [" lead", "trail ", "3"], ["a", "b", "4"], ["c", "d", "5"], ["e", "f", "1"], ["g", "h", "2"],
            ["i", "j", "3"], ["k", "l", "4"], ["m", "n", "0"], ["o", "p", "5"]]
    buf = "".join(",".join('"' + f.replace('"', '""') + '"' for f in r) + "\n" for r in rows)
    _write(tmp_path / "p.csv", buf)
    write_folds(spec.task("P"), tmp_path)
    seen = {}
    for i in (1, 2):
        for name in ("train", "dev", "test"):
            s = read_split(spec.task(f"P.fold{i}"), name, tmp_path)
            for j, a, b, y in zip(s.index, s.sentence1, s.sentence2, s.labels):
                seen.setdefault(j, set()).add((a, b, y))
    assert {j: v.pop() for j, v in seen.items()} == {str(k): tuple(r) for k, r in enumerate(rows)}


def test_cv_errors(tmp_path: Path) -> None:
    spec = _mr(tmp_path, 1, 1, folds=3)
    with pytest.raises(SeminalError, match="2 examples cannot make 3 folds"):
        write_folds(spec.task("MR"), tmp_path)
    spec = _mr(tmp_path, 2, 2, folds=2, fraction=0.1)
    with pytest.raises(SeminalError, match="leaves an empty dev or train split"):
        write_folds(spec.task("MR"), tmp_path)
    with pytest.raises(SeminalError, match="has no 'cv'"):
        write_folds(spec.task("MR.fold1"), tmp_path)


# --- the table: one column, the mean over folds ------------------------------------------------

def _rec(model: str, fold: int, seed: int, acc: float) -> dict:
    return {"benchmark": "mine", "model": model, "paper": "kim2014", "task": f"MR.fold{fold}", "seed": seed,
            "params": 10, "cpu_seconds": 6.0, "eval": {f"MR.fold{fold}": {
                "dev": {"metrics": {"acc": 0.99}, "n": 5}, "test": {"metrics": {"acc": acc}, "n": 20}}}}


def test_table_reports_the_mean_and_std_over_folds(tmp_path: Path) -> None:
    spec = _mr(tmp_path, 10, 10, folds=3)
    accs = {1: 0.70, 2: 0.80, 3: 0.75}
    records = [_rec("kim_cnn_rand", i, 0, a) for i, a in accs.items()] + [_rec("majority", 1, 0, 0.5)]
    table = build_table(records, spec)
    assert [c.header for c in table.columns] == ["MR (3-fold) Acc", "GLUE avg"]
    kim, majority = table.rows
    cell = kim.cells["MR.cv.acc"]
    assert cell.values == (0.70, 0.80, 0.75) and cell.mean == pytest.approx(0.75)
    assert cell.std == pytest.approx(statistics.stdev([0.70, 0.80, 0.75]))
    assert kim.cells["glue_avg"].mean == pytest.approx(0.75)  # the task's score: its mean over folds
    assert majority.cells["glue_avg"].n == 0  # two folds missing: no average
    md = to_markdown(table)
    assert "| kim_cnn_rand | 75.0 ± 5.0 | 75.0 | 1 |" in md and "50.0 (n=1) |" in md
    assert "k-fold cross-validation as Kim 2014" in md
    row = next(r for r in csv.DictReader(to_csv(table).splitlines()) if r["model"] == "kim_cnn_rand")
    assert (row["MR.cv.acc.mean"], row["MR.cv.acc.std"], row["MR.cv.acc.n"]) == ("75.0000", "5.0000", "3")
    two_seeds = records[:3] + [_rec("kim_cnn_rand", i, 1, a - 0.1) for i, a in accs.items()]
    cell = build_table(two_seeds, spec).rows[0].cells["MR.cv.acc"]
    assert cell.n == 6 and cell.mean == pytest.approx(0.70)  # every (seed, fold)
