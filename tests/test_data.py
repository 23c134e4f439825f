"""seminal.data: the real GLUE files through config/benchmarks/glue.yaml, MNLI/QQP in their
official layouts, and every kind of bad input (each error names file:line)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from seminal.benchmark import SplitSpec, TaskSpec, load_benchmark
from seminal.data import Split, label_ids, read_rows, read_split
from seminal.errors import SeminalError

REPO = Path(__file__).parents[1]
GLUE_ROOT = Path(__file__).parents[1].parent / "shared" / "data" / "glue"
needs_glue = pytest.mark.skipif(not GLUE_ROOT.is_dir(), reason=f"GLUE reference data not at {GLUE_ROOT}")

# Rows per split, from shared/data/README.md (QNLI train and MNLI/QQP are not shipped there).
GLUE_ROWS = {
    ("CoLA", "train"): 8551, ("CoLA", "dev"): 1043, ("CoLA", "test"): 1063,
    ("SST-2", "train"): 67349, ("SST-2", "dev"): 872, ("SST-2", "test"): 1821,
    ("MRPC", "train"): 3668, ("MRPC", "dev"): 408, ("MRPC", "test"): 1725,
    ("STS-B", "train"): 5749, ("STS-B", "dev"): 1500, ("STS-B", "test"): 1379,
    ("QNLI", "dev"): 5463, ("QNLI", "test"): 5463,
    ("RTE", "train"): 2490, ("RTE", "dev"): 277, ("RTE", "test"): 3000,
    ("WNLI", "train"): 635, ("WNLI", "dev"): 71, ("WNLI", "test"): 146,
    ("AX", "test"): 1104,
}


@pytest.fixture(scope="module")
def glue():
    return load_benchmark(REPO / "config" / "benchmarks" / "glue.yaml")


# --- the real GLUE files -------------------------------------------------------------------

@needs_glue
@pytest.mark.parametrize("task,split", sorted(GLUE_ROWS))
def test_glue_row_counts(glue, task, split):
    spec = glue.task(task)
    s = read_split(spec, split, GLUE_ROOT)
    n = GLUE_ROWS[task, split]
    assert len(s) == len(s.index) == len(s.sentence1) == n
    assert (s.sentence2 is not None) == spec.is_pair and (s.sentence2 is None or len(s.sentence2) == n)
    assert (s.labels is not None) == ("label" in spec.splits[split].columns)
    assert len(set(s.index)) == n  # the index identifies a row
    if s.labels is not None:
        ids = label_ids(spec, s.labels, spec.splits[split].file)
        assert ids.shape == (n,)
        assert ids.dtype == (np.float32 if spec.is_regression else np.int64)


@needs_glue
def test_every_shipped_glue_file_is_described_by_the_spec(glue):
    described = {spec.file for t in glue.tasks.values() for spec in t.splits.values()}
    shipped = {p.relative_to(GLUE_ROOT).as_posix() for p in GLUE_ROOT.rglob("*.tsv")}
    assert shipped <= described
    assert {(t, s) for t, task in glue.tasks.items() for s in task.splits
            if (GLUE_ROOT / task.splits[s].file).exists()} == set(GLUE_ROWS)
    assert "train" in glue.task("QNLI").splits and not (GLUE_ROOT / "QNLI/train.tsv").exists()


@needs_glue
def test_glue_format_traps(glue):
    # MRPC: the byte-order mark is not part of the first header field, quotes are text.
    head, _ = read_rows(GLUE_ROOT / "MRPC/train.tsv", 5, header=True)
    assert head == ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
    mrpc = read_split(glue.task("MRPC"), "train", GLUE_ROOT)
    assert mrpc.labels[:2] == ["1", "0"]
    assert mrpc.sentence1[0].startswith('Amrozi accused his brother, whom he called "the witness"')
    mrpc_test = read_split(glue.task("MRPC"), "test", GLUE_ROOT)
    assert mrpc_test.index[:3] == ["0", "1", "2"] and mrpc_test.labels is None
    # CoLA: train/dev have no header (so the first row is data) and no index column.
    cola = read_split(glue.task("CoLA"), "dev", GLUE_ROOT)
    assert cola.sentence1[0] == "The sailors rode the breeze clear of the rocks."
    assert cola.index[0] == "0" and cola.index[-1] == "1042"
    assert cola.sentence1[-1].endswith("about himself.")  # last line has no final newline
    # SST-2 keeps its text exactly, trailing space included.
    sst = read_split(glue.task("SST-2"), "train", GLUE_ROOT)
    assert sst.sentence1[0] == "hide new secretions from the parental units "
    # STS-B: regression scores stay strings; label_ids turns them into float32.
    sts = read_split(glue.task("STS-B"), "dev", GLUE_ROOT)
    assert sts.labels[:2] == ["5.000", "4.750"]
    np.testing.assert_allclose(label_ids(glue.task("STS-B"), sts.labels[:2]), [5.0, 4.75])
    # AX (diagnostic.tsv: no final newline).
    ax = read_split(glue.task("AX"), "test", GLUE_ROOT)
    assert ax.index[-1] == "1103" and ax.sentence1[0] == "The cat sat on the mat."


# --- MNLI and QQP in their official layouts, written here ------------------------------------

MNLI_HEAD = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse",
             "sentence2_binary_parse", "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]


def _tsv(path: Path, rows: list[list[str]], final_newline: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join("\t".join(r) for r in rows) + ("\n" if final_newline else "")
    path.write_text(text, encoding="utf-8")


def _mnli_row(i: int, s1: str, s2: str, tail: list[str]) -> list[str]:
    return [str(i), f"{i}1", f"{i}1e", "fiction", "( a )", "( b )", "(ROOT a)", "(ROOT b)", s1, s2, *tail]


def test_mnli_official_layout(glue, tmp_path):
    mnli = glue.task("MNLI")
    _tsv(tmp_path / "MNLI/train.tsv", [MNLI_HEAD + ["label1", "gold_label"],
                                       _mnli_row(0, 'He said "yes.', "He agreed.", ["entailment"] * 2),
                                       _mnli_row(1, "It rained.", "It was dry.", ["contradiction"] * 2)])
    five = ["neutral", "neutral", "entailment", "neutral", "neutral"]
    for name in ("dev_matched", "dev_mismatched"):
        _tsv(tmp_path / f"MNLI/{name}.tsv", [MNLI_HEAD + [f"label{k}" for k in range(1, 6)] + ["gold_label"],
                                             _mnli_row(9, "A man.", "A person.", five + ["neutral"])])
    for name in ("test_matched", "test_mismatched"):
        _tsv(tmp_path / f"MNLI/{name}.tsv", [MNLI_HEAD, _mnli_row(7, "x", "y", [])], final_newline=False)

    train = read_split(mnli, "train", tmp_path)
    assert train.sentence1 == ['He said "yes.', "It rained."]  # an unbalanced quote is text
    assert train.sentence2 == ["He agreed.", "It was dry."]
    assert train.labels == ["entailment", "contradiction"] and train.index == ["0", "1"]
    assert label_ids(mnli, train.labels).tolist() == [1, 0]  # contradiction, entailment, neutral
    for name in ("dev_matched", "dev_mismatched"):
        dev = read_split(mnli, name, tmp_path)
        assert dev.labels == ["neutral"] and dev.index == ["9"]  # gold_label is the last column
    test = read_split(mnli, "test_mismatched", tmp_path)
    assert test.labels is None and test.index == ["7"] and test.sentence2 == ["y"]


def test_qqp_official_layout(glue, tmp_path):
    qqp = glue.task("QQP")
    head = ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"]
    rows = [["201", "1", "2", "How do I learn?", "What's the way to learn?", "1"],
            ["202", "3", "4", 'Is "it" true?', "Why?", "0"]]
    _tsv(tmp_path / "QQP/train.tsv", [head] + rows)
    _tsv(tmp_path / "QQP/dev.tsv", [head] + rows[::-1])
    _tsv(tmp_path / "QQP/test.tsv", [["id", "question1", "question2"], ["0", "Why?", "How?"]])
    train = read_split(qqp, "train", tmp_path)
    assert train.index == ["201", "202"] and train.labels == ["1", "0"]
    assert train.sentence1[1] == 'Is "it" true?'
    assert read_split(qqp, "dev", tmp_path).labels == ["0", "1"]
    test = read_split(qqp, "test", tmp_path)
    assert (test.index, test.sentence1, test.sentence2, test.labels) == (["0"], ["Why?"], ["How?"], None)


# --- a tiny task for the format rules and the errors ------------------------------------------

def _task(header: bool = True, quoting: str = "none", meta: str | None = None, regression: bool = False,
          encoding: str = "utf-8-sig") -> TaskSpec:
    columns = {"index": 0, "sentence1": 1, "label": 2}
    return TaskSpec(name="Toy", kind="single", output="regression" if regression else "classification",
                    labels=None if regression else ("neg", "pos"), metrics=("acc",),
                    splits={"dev": SplitSpec("Toy/dev.tsv", header, 3, columns, meta)},
                    quoting=quoting, encoding=encoding)


def _write(tmp_path: Path, text: str | bytes, name: str = "Toy/dev.tsv") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_reads_crlf_bom_and_missing_final_newline(tmp_path):
    _write(tmp_path, b"\xef\xbb\xbfindex\tsentence\tlabel\r\na\tOne.\tpos\r\nb\tTwo.\tneg")
    s = read_split(_task(), "dev", tmp_path)
    assert s == Split("Toy", "dev", ["a", "b"], ["One.", "Two."], None, ["pos", "neg"], None, None)


def test_index_defaults_to_row_number(tmp_path):
    task = TaskSpec(name="Toy", kind="single", output="classification", labels=("0", "1"),
                    metrics=("acc",), splits={"train": SplitSpec("t.tsv", False, 2, {"sentence1": 0, "label": 1})})
    _write(tmp_path, "a\t0\nb\t1\nc\t1\n", "t.tsv")
    assert read_split(task, "train", tmp_path).index == ["0", "1", "2"]


def test_quoting_none_keeps_quotes_and_minimal_parses_them(tmp_path):
    _write(tmp_path, 'index\tsentence\tlabel\n0\t"a\tpos\n')
    assert read_split(_task(), "dev", tmp_path).sentence1 == ['"a']
    # QUOTE_MINIMAL: a quoted field may hold a tab and a newline; line numbers still count lines.
    _write(tmp_path, 'index\tsentence\tlabel\n0\t"x\ty\nz"\tpos\n1\tok\tbad\n')
    with pytest.raises(SeminalError, match=r"dev\.tsv:4: unknown label 'bad'"):
        read_split(_task(quoting="minimal"), "dev", tmp_path)
    _write(tmp_path, 'index\tsentence\tlabel\n0\t"x\ty\nz"\tpos\n')
    assert read_split(_task(quoting="minimal"), "dev", tmp_path).sentence1 == ["x\ty\nz"]


@pytest.mark.parametrize("text,line,message", [
    ("index\tsentence\tlabel\n0\tfine\tpos\n1\ttoo\tmany\tcolumns\n", 3, "4 tab-separated columns, expected 3"),
    ("index\tsentence\tlabel\n0\tno label\n", 2, "2 tab-separated columns, expected 3"),
    ("index\tsentence\n0\tfine\tpos\n", 1, "2 tab-separated columns, expected 3"),  # the header too
    ("index\tsentence\tlabel\n0\ta\tpos\n\n1\tb\tneg\n", 3, "blank line, expected 3"),
    ("index\tsentence\tlabel\n0\ta\tpos\n\n", 3, "blank line, expected 3"),  # never dropped silently
    ("index\tsentence\tlabel\n0\ta\tpos\n1\tb\tPOS\n", 3, "unknown label 'POS'"),
])
def test_bad_rows_name_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, text)
    with pytest.raises(SeminalError) as err:
        read_split(_task(), "dev", tmp_path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_regression_label_must_be_a_finite_number(tmp_path):
    path = _write(tmp_path, "index\tsentence\tlabel\n0\ta\t4.5\n1\tb\thigh\n")
    with pytest.raises(SeminalError, match=rf"^{re.escape(str(path))}:3: label 'high' is not a finite number"):
        read_split(_task(regression=True), "dev", tmp_path)
    _write(tmp_path, "index\tsentence\tlabel\n0\ta\tnan\n")
    with pytest.raises(SeminalError, match=r"dev\.tsv:2: label 'nan'"):
        read_split(_task(regression=True), "dev", tmp_path)


@pytest.mark.parametrize("content,message", [
    (b"", "empty file"),
    (b"\xef\xbb\xbf", "empty file"),
    (b"index\tsentence\tlabel\n", "no data rows after the header"),
])
def test_empty_files(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(SeminalError, match=rf"^{re.escape(str(path))}: {message}$"):
        read_split(_task(), "dev", tmp_path)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_non_utf8_names_the_line(tmp_path, bom):
    path = _write(tmp_path, bom + b"index\tsentence\tlabel\n0\tok\tpos\n1\tcaf\xe9\tneg\n")
    with pytest.raises(SeminalError, match=rf"^{re.escape(str(path))}:3: not valid utf-8-sig text \(byte 0xe9 at column 6\)"):
        read_split(_task(), "dev", tmp_path)


def test_missing_file_and_unknown_split(tmp_path):
    with pytest.raises(SeminalError, match=rf"^{re.escape(str(tmp_path / 'Toy/dev.tsv'))}: file not found$"):
        read_split(_task(), "dev", tmp_path)
    with pytest.raises(SeminalError, match="has no split 'test'"):
        read_split(_task(), "test", tmp_path)


DATA = "index\tsentence\tlabel\n0\ta\tpos\n1\tb\tneg\n2\tc\tpos\n"


def test_meta_fills_distance_and_phenomenon(tmp_path):
    _write(tmp_path, DATA)
    _write(tmp_path, "distance\tphenomenon\n1\tagreement\n4\tnpi\n12\tagreement\n", "Toy/dev.meta.tsv")
    s = read_split(_task(meta="Toy/dev.meta.tsv"), "dev", tmp_path)
    assert s.distance == [1, 4, 12] and s.phenomenon == ["agreement", "npi", "agreement"]


@pytest.mark.parametrize("meta,line,message", [
    ("distance\tphenomenon\n1\ta\n2\tb\n", None, "2 meta rows but"),  # too few
    ("distance\tphenomenon\n1\ta\n2\tb\n3\tc\n4\td\n", 5, "4 meta rows but"),  # too many: first extra
    ("dist\tphenomenon\n1\ta\n2\tb\n3\tc\n", 1, "header"),
    ("distance\tphenomenon\n1\ta\nfar\tb\n3\tc\n", 3, "distance 'far' is not an integer"),
])
def test_meta_errors(tmp_path, meta, line, message):
    _write(tmp_path, DATA)
    path = _write(tmp_path, meta, "Toy/dev.meta.tsv")
    with pytest.raises(SeminalError) as err:
        read_split(_task(meta="Toy/dev.meta.tsv"), "dev", tmp_path)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert str(err.value).startswith(where) and message in str(err.value)


def test_label_ids():
    task = _task()
    assert label_ids(task, ["pos", "neg", "pos"]).tolist() == [1, 0, 1]
    assert label_ids(task, ["pos"]).dtype == np.int64
    with pytest.raises(SeminalError, match=r"^f\.tsv: unknown label 'maybe' \(row 1\)"):
        label_ids(task, ["pos", "maybe"], "f.tsv")
    scores = label_ids(_task(regression=True), ["0.5", "4.000"])
    assert scores.dtype == np.float32 and scores.tolist() == [0.5, 4.0]
    with pytest.raises(SeminalError, match=r"'x' \(row 0\) is not a finite number"):
        label_ids(_task(regression=True), ["x"])
