"""synglue writes exactly GLUE's file layouts, label spaces and byte-level habits."""

from __future__ import annotations

import pytest

from seminal.benchmark import load_benchmark
from seminal.data import read_split

MNLI = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
        "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
# file -> (header or None, number of columns, label column, label space or "score")
LAYOUT = {
    "CoLA/train.tsv": (None, 4, 1, {"0", "1"}),
    "CoLA/dev.tsv": (None, 4, 1, {"0", "1"}),
    "CoLA/test.tsv": (["index", "sentence"], 2, None, None),
    "SST-2/train.tsv": (["sentence", "label"], 2, 1, {"0", "1"}),
    "SST-2/dev.tsv": (["sentence", "label"], 2, 1, {"0", "1"}),
    "SST-2/test.tsv": (["index", "sentence"], 2, None, None),
    "MRPC/train.tsv": (["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"], 5, 0, {"0", "1"}),
    "MRPC/dev.tsv": (["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"], 5, 0, {"0", "1"}),
    "MRPC/test.tsv": (["index", "#1 ID", "#2 ID", "#1 String", "#2 String"], 5, None, None),
    "STS-B/train.tsv": (["index", "genre", "filename", "year", "old_index", "source1", "source2",
                         "sentence1", "sentence2", "score"], 10, 9, "score"),
    "STS-B/dev.tsv": (["index", "genre", "filename", "year", "old_index", "source1", "source2",
                       "sentence1", "sentence2", "score"], 10, 9, "score"),
    "STS-B/test.tsv": (["index", "genre", "filename", "year", "old_index", "source1", "source2",
                        "sentence1", "sentence2"], 9, None, None),
    "QQP/train.tsv": (["id", "qid1", "qid2", "question1", "question2", "is_duplicate"], 6, 5, {"0", "1"}),
    "QQP/dev.tsv": (["id", "qid1", "qid2", "question1", "question2", "is_duplicate"], 6, 5, {"0", "1"}),
    "QQP/test.tsv": (["id", "question1", "question2"], 3, None, None),
    "MNLI/train.tsv": (MNLI + ["label1", "gold_label"], 12, 11, {"entailment", "neutral", "contradiction"}),
    "MNLI/dev_matched.tsv": (MNLI + ["label1", "label2", "label3", "label4", "label5", "gold_label"], 16, 15,
                             {"entailment", "neutral", "contradiction"}),
    "MNLI/dev_mismatched.tsv": (MNLI + ["label1", "label2", "label3", "label4", "label5", "gold_label"], 16, 15,
                                {"entailment", "neutral", "contradiction"}),
    "MNLI/test_matched.tsv": (MNLI, 10, None, None),
    "MNLI/test_mismatched.tsv": (MNLI, 10, None, None),
    "QNLI/train.tsv": (["index", "question", "sentence", "label"], 4, 3, {"entailment", "not_entailment"}),
    "QNLI/dev.tsv": (["index", "question", "sentence", "label"], 4, 3, {"entailment", "not_entailment"}),
    "QNLI/test.tsv": (["index", "question", "sentence"], 3, None, None),
    "RTE/train.tsv": (["index", "sentence1", "sentence2", "label"], 4, 3, {"entailment", "not_entailment"}),
    "RTE/dev.tsv": (["index", "sentence1", "sentence2", "label"], 4, 3, {"entailment", "not_entailment"}),
    "RTE/test.tsv": (["index", "sentence1", "sentence2"], 3, None, None),
    "WNLI/train.tsv": (["index", "sentence1", "sentence2", "label"], 4, 3, {"0", "1"}),
    "WNLI/dev.tsv": (["index", "sentence1", "sentence2", "label"], 4, 3, {"0", "1"}),
    "WNLI/test.tsv": (["index", "sentence1", "sentence2"], 3, None, None),
    "diagnostic/diagnostic.tsv": (["index", "sentence1", "sentence2"], 3, None, None),
    "diagnostic/diagnostic-full.tsv": (["index", "sentence1", "sentence2", "label", "phenomenon"], 5, 3,
                                       {"entailment", "neutral", "contradiction"}),
}


def _size(name: str, cfg) -> int:
    stem = name.split("/")[1][: -len(".tsv")]
    if stem.startswith("diagnostic"):
        return cfg.diagnostic_size
    return {"train": cfg.train_size, "dev": cfg.dev_size, "test": cfg.test_size}[stem.split("_")[0]]


def test_every_file_is_written_and_nothing_else(synglue_dir):
    written = {str(p.relative_to(synglue_dir)) for p in synglue_dir.rglob("*") if p.is_file()}
    metas = {f[: -len(".tsv")] + ".meta.tsv" for f in LAYOUT}
    assert written == set(LAYOUT) | metas | {"corpus/corpus.txt", "synglue.json"}


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_layout(synglue_dir, small_cfg, read_tsv, name):
    header, ncols, label_col, labels = LAYOUT[name]
    rows = read_tsv(synglue_dir / name)
    if header is not None:
        assert rows[0] == header
        rows = rows[1:]
    assert len(rows) == _size(name, small_cfg)
    assert all(len(r) == ncols for r in rows), "ragged rows"
    may_be_empty = {2} if name.startswith("CoLA") and label_col is not None else set()  # CoLA's mark
    for r in rows:
        assert all((f or i in may_be_empty) and f == f.strip() and "\r" not in f for i, f in enumerate(r)), r
    if label_col is not None and labels == "score":
        scores = [float(r[label_col]) for r in rows]
        assert all(0.0 <= s <= 5.0 for s in scores)
        assert all(len(r[label_col].split(".")[1]) == 3 for r in rows)  # "3.214", as STS-B writes them
    elif label_col is not None:
        assert {r[label_col] for r in rows} == labels
    if "index" in (header or []):
        assert [r[header.index("index")] for r in rows] == [str(i) for i in range(len(rows))]


def test_cola_columns(synglue_dir, read_tsv):
    for r in read_tsv(synglue_dir / "CoLA/train.tsv"):
        assert r[2] == ("*" if r[1] == "0" else "")  # the original-label mark, as in CoLA
        assert r[0].startswith("sg")


def test_mnli_columns(synglue_dir, read_tsv):
    for split in ("train", "dev_matched", "dev_mismatched"):
        rows = read_tsv(synglue_dir / f"MNLI/{split}.tsv")[1:]
        for r in rows:
            assert r[2].startswith(r[1])  # pairID extends promptID
            assert r[4].startswith("( ") and r[6].startswith("(ROOT (S")
            assert len(set(r[10:])) == 1  # every annotator label equals the gold label
        genres = {r[3] for r in rows}
        assert genres <= ({"existential", "embedded", "negated"} if split == "dev_mismatched" else {"plain", "passive", "relative"})


def test_mnli_parses_match_the_text(synglue_dir, read_tsv):
    rows = read_tsv(synglue_dir / "MNLI/dev_matched.tsv")[1:50]
    for r in rows:
        leaves = [t.rstrip(")") for t in r[6].split() if t.endswith(")")]
        assert " ".join(leaves).replace(" .", ".").replace(" ,", ",") == r[8]
        assert r[4].replace("( ", "").replace(" )", "").replace(" .", ".") == r[8]


def test_diagnostic_files_hold_the_same_pairs(synglue_dir, read_tsv):
    plain = read_tsv(synglue_dir / "diagnostic/diagnostic.tsv")
    full = read_tsv(synglue_dir / "diagnostic/diagnostic-full.tsv")
    assert [r[:3] for r in full] == [r[:3] for r in plain]
    assert all(r[4] for r in full[1:])


def test_byte_level_habits_of_glue(synglue_dir):
    """CoLA dev and diagnostic.tsv lack a final newline; MRPC train/dev start with a BOM."""
    assert not (synglue_dir / "CoLA/dev.tsv").read_bytes().endswith(b"\n")
    assert not (synglue_dir / "diagnostic/diagnostic.tsv").read_bytes().endswith(b"\n")
    assert (synglue_dir / "CoLA/train.tsv").read_bytes().endswith(b"\n")
    for split in ("train", "dev"):
        assert (synglue_dir / f"MRPC/{split}.tsv").read_bytes().startswith(b"\xef\xbb\xbfQuality\t")
    assert (synglue_dir / "MRPC/test.tsv").read_bytes().startswith(b"index\t")


@pytest.mark.parametrize("name", [n for n in LAYOUT if not n.startswith(("MNLI", "QQP", "diagnostic/diagnostic-full"))])
def test_same_header_bytes_as_real_glue(synglue_dir, glue_dir, name):
    real = glue_dir / name
    if not real.exists():
        pytest.skip(f"{name} not in the reference data (../shared/data/glue)")
    ours, theirs = (synglue_dir / name).read_bytes(), real.read_bytes()
    assert ours.split(b"\n")[0].count(b"\t") == theirs.split(b"\n")[0].count(b"\t")
    if LAYOUT[name][0] is not None:
        assert ours.split(b"\n")[0] == theirs.split(b"\n")[0]  # BOM included
    assert ours.endswith(b"\n") == theirs.endswith(b"\n")


def test_meta_files(synglue_dir, small_cfg, read_tsv):
    for name in LAYOUT:
        meta = read_tsv(synglue_dir / (name[: -len(".tsv")] + ".meta.tsv"))
        assert meta[0] == ["distance", "phenomenon"]
        assert len(meta) - 1 == _size(name, small_cfg)
        assert all(r[0].isdigit() and r[1] for r in meta[1:])


def test_benchmark_spec_reads_every_split(synglue_dir, spec_path):
    spec = load_benchmark(spec_path)
    assert spec.name == "synglue"
    assert list(spec.tasks) == ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI", "AX"]
    metrics = {"CoLA": ("mcc",), "SST-2": ("acc",), "MRPC": ("f1", "acc"), "STS-B": ("pearson", "spearman"),
               "QQP": ("f1", "acc"), "MNLI": ("acc",), "QNLI": ("acc",), "RTE": ("acc",), "WNLI": ("acc",),
               "AX": ("mcc",)}
    assert {t: s.metrics for t, s in spec.tasks.items()} == metrics
    assert spec.tasks["MNLI"].eval == ("dev_matched", "dev_mismatched")
    assert spec.tasks["MNLI"].submission == {"test_matched": "MNLI-m.tsv", "test_mismatched": "MNLI-mm.tsv"}
    ax = spec.tasks["AX"]
    assert (ax.predict_with, ax.eval, ax.submission, ax.labels) == ("MNLI", ("dev",), {"test": "AX.tsv"},
                                                                   spec.tasks["MNLI"].labels)
    names = {f for t in spec.tasks.values() for f in t.submission.values()}
    assert names == {"CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "MNLI-mm.tsv",
                     "QNLI.tsv", "RTE.tsv", "WNLI.tsv", "AX.tsv"}
    for task in spec.tasks.values():
        for split in task.splits:
            s = read_split(task, split, synglue_dir)
            assert len(s) > 0 and s.distance is not None and len(s.distance) == len(s)
            assert (s.sentence2 is None) == (task.kind == "single")
            assert (s.labels is None) == (split.startswith("test"))
