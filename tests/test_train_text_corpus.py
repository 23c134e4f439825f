"""The fallback pretraining corpus (no `corpus=` for a benchmark other than synglue): the text of
the tasks' train splits, from the real GLUE files in ../shared/data/glue (read, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seminal.benchmark import load_benchmark
from seminal.cli import main
from seminal.data import read_split
from seminal.errors import SeminalError
from seminal.tokenize import train_text_corpus

REPO = Path(__file__).resolve().parents[1]
GLUE = (REPO.parent / "shared" / "data" / "glue").resolve()
SPEC = load_benchmark(REPO / "config" / "benchmarks" / "glue.yaml")
pytestmark = pytest.mark.skipif(not (GLUE / "RTE" / "train.tsv").is_file(),
                                reason=f"real GLUE not found at {GLUE} (../shared/data beside the project)")


def documents(path: Path) -> list[list[str]]:
    return [block.split("\n") for block in path.read_text(encoding="utf-8").strip("\n").split("\n\n")]


def test_one_document_per_train_example_no_labels_no_dev_text(tmp_path: Path) -> None:
    out = tmp_path / "corpus.txt"
    docs, lines = train_text_corpus(SPEC, GLUE, out, tasks=["CoLA", "RTE", "AX"])  # AX: no train split
    cola, rte = read_split(SPEC.task("CoLA"), "train", GLUE), read_split(SPEC.task("RTE"), "train", GLUE)
    got = documents(out)
    assert (docs, lines) == (len(got), sum(map(len, got)))
    # CoLA: one sentence per document; RTE: its two sentences, in order (the NSP pairs BERT will see)
    assert got[0] == [" ".join(cola.sentence1[0].split())]
    first_rte = next(d for d in got if len(d) == 2)
    assert first_rte == [" ".join(rte.sentence1[0].split()), " ".join(rte.sentence2[0].split())]
    assert len(got) == len({tuple(d) for d in got})  # exact duplicates dropped
    norm = lambda *xs: tuple(" ".join(x.split()) for x in xs)  # noqa: E731
    assert {tuple(d) for d in got} == {norm(s) for s in cola.sentence1} | {norm(*p) for p in zip(rte.sentence1, rte.sentence2)}
    text = out.read_text(encoding="utf-8")
    assert "not_entailment" not in text.split() and "entailment" not in text.split()  # no label column
    dev = read_split(SPEC.task("RTE"), "dev", GLUE)
    dev_only = {x for p in zip(dev.sentence1, dev.sentence2) for x in norm(*p)} - \
        {x for p in zip(rte.sentence1, rte.sentence2) for x in norm(*p)}  # (a few dev sentences recur in train)
    assert len(dev_only) > 400 and not dev_only & set(text.splitlines())


def test_the_cli_says_it_fell_back_and_refuses_without_a_benchmark(tmp_path: Path, capsys) -> None:
    out = tmp_path / "corpus.txt"
    main(["gather-corpus", "--out", str(out), "--benchmark", str(REPO / "config/benchmarks/glue.yaml"),
          "--data", str(GLUE), "--tasks", "WNLI"])
    assert "no corpus given: pretraining on the train splits' text" in capsys.readouterr().err
    assert len(documents(out)) > 600  # WNLI: 635 training pairs
    assert main(["gather-corpus", "--out", str(tmp_path / "none.txt")]) == 1
    assert not (tmp_path / "none.txt").exists()
    assert "--benchmark and --data" in capsys.readouterr().err


def test_no_train_split_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(SeminalError, match="no train split"):
        train_text_corpus(SPEC, GLUE, tmp_path / "corpus.txt", tasks=["AX"])
    assert not (tmp_path / "corpus.txt").exists()
