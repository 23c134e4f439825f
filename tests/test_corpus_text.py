"""Real text for pretraining: WikiText-2 (raw) as distributed, from ../shared/data/corpus (read-only,
never copied into the repository). gather_corpus reads its layout (headings ` = Title = `, blank
lines, `@-@`), the tokenizer trains at the size config.yaml gives real text, and every pretraining
(BERT, ELMo, GPT) runs a few steps on the encoded ids through the same entry point as the rule.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from seminal.io import read_yaml, write_json
from seminal.tokenize import (
    EOS,
    encode_corpus,
    gather_corpus,
    load_tokenizer,
    train_tokenizer,
)

REPO = Path(__file__).resolve().parents[1]
WIKI = (REPO.parent / "shared" / "data" / "corpus" / "wikitext-2-raw" / "wiki.valid.raw").resolve()
pytestmark = pytest.mark.skipif(not WIKI.is_file(), reason=f"WikiText-2 not found at {WIKI} "
                                "(../shared/data/corpus beside the project)")
HEADING = re.compile(r"^ (= )+[^=].* (= )+$")  # a heading of the raw file: ` = Title = `, ` = = Section = = `


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    gather_corpus([WIKI], out)
    return out


def test_wikitext_sections_become_documents_and_its_markup_goes(corpus: Path) -> None:
    raw = WIKI.read_text(encoding="utf-8").splitlines()
    text = corpus.read_text(encoding="utf-8")
    docs = text.rstrip("\n").split("\n\n")
    lines = [line for line in raw if line.strip()]
    # a document per heading that follows text (consecutive headings open one document together)
    starts = [i for i, line in enumerate(lines) if HEADING.match(line) and (i == 0 or not HEADING.match(lines[i - 1]))]
    assert len(docs) == len(starts) > 500
    first_lines = [d.split("\n", 1)[0] for d in docs]
    assert first_lines[0] == "Homarus gammarus" and first_lines[1] == "Description"
    assert all(len(d.split("\n")) >= 2 for d in docs)  # a heading and its text: BERT's NSP needs 2+ lines
    lines = text.splitlines()
    assert sum(bool(x) for x in lines) == sum(bool(x.strip()) for x in raw) == 2461  # nothing dropped
    assert not any(x.startswith("=") or x.endswith("=") or " @-@ " in x or " @,@ " in x for x in lines)
    assert "north-eastern" in text and "M-82 ( Michigan highway )" in lines
    assert " @-@ " in WIKI.read_text(encoding="utf-8")  # the source is untouched


@pytest.fixture(scope="module")
def encoded(corpus: Path) -> tuple[Path, Path]:
    vocab = read_yaml(REPO / "config" / "config.yaml")["tokenizer"]["text_vocab_size"]
    spm = train_tokenizer([corpus], corpus.parent / "spm", vocab)
    ids = corpus.parent / "ids.npy"
    encode_corpus(corpus, spm, ids)
    return spm, ids


def test_tokenizer_at_the_real_text_size_and_the_encoded_stream(corpus: Path, encoded: tuple[Path, Path]) -> None:
    spm, ids_path = encoded
    n_docs = corpus.read_text(encoding="utf-8").count("\n\n") + 1
    sp = load_tokenizer(spm)
    assert sp.get_piece_size() == read_yaml(REPO / "config" / "config.yaml")["tokenizer"]["text_vocab_size"]
    ids = np.load(ids_path)
    breaks = np.flatnonzero((ids[:-1] == EOS) & (ids[1:] == EOS))
    assert len(breaks) == n_docs - 1 == 540  # [EOS] [EOS] between each two documents (sections)
    assert (ids == 1).mean() < 5e-3  # [UNK]: only rare characters (sentencepiece covers 99.95% of them)
    assert sp.decode(ids[: np.flatnonzero(ids == EOS)[0]].tolist()) == "Homarus gammarus"


@pytest.mark.parametrize("name", ["bert", "elmo", "gpt_small"])
def test_each_pretraining_runs_on_the_real_corpus(name: str, encoded: tuple[Path, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from seminal.experiment import pretrain_run

    spm, ids = encoded
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    version = tmp_path / "data_version.json"
    write_json(version, {"path": "data/glue", "data_hash": "0" * 32 + ".dir"})
    out = tmp_path / "out"
    overrides = ["pretrain.max_steps=3", "pretrain.eval_every=3", "pretrain.eval_batches=1",
                 "pretrain.ckpt_every=3", "pretrain.warmup_steps=1", "pretrain.batch_size=4"]
    pretrain_run(REPO / "config" / "pretrain" / f"{name}.yaml", ids, spm, "glue", version, 0, out,
                 tmp_path / "ckpt", overrides=overrides)
    rec = json.loads((out / "metrics.json").read_text())
    assert rec["steps"] == 3 and np.isfinite(rec["valid"]["ppl"]) and rec["valid"]["ppl"] > 1
    assert (out / "model.pt").stat().st_size > 0
