"""The pretraining corpus: documents of sentences, the requested size, no evaluation sentence."""

from __future__ import annotations

import re

from seminal.benchmark import load_benchmark
from seminal.data import read_split


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", s.lower()).split())


def _documents(path):
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and not text.startswith("\n")
    assert "\n\n\n" not in text and "\t" not in text
    return [d.split("\n") for d in text.rstrip("\n").split("\n\n")]


def test_corpus_is_documents_of_the_requested_size(synglue_dir, small_cfg):
    docs = _documents(synglue_dir / "corpus" / "corpus.txt")
    assert len(docs) > 100
    assert sum(len(d) >= 2 for d in docs) > 0.8 * len(docs)  # multi-sentence documents
    words = sum(len(line.split()) for d in docs for line in d)
    assert small_cfg.corpus_tokens <= words < small_cfg.corpus_tokens + 100
    lines = [line for d in docs for line in d]
    assert all(line.strip() == line and line for line in lines)
    assert sum(line.endswith("?") for line in lines) > 0  # questions, as QQP and QNLI ask them
    assert sum(line.islower() for line in lines) > 0  # reviews in SST-2's lower-cased style


def test_corpus_shares_no_sentence_with_dev_or_test(synglue_dir, spec_path):
    held_out = set()
    spec = load_benchmark(spec_path)
    for task in spec.tasks.values():
        for split in task.splits:
            if split == "train":
                continue
            s = read_split(task, split, synglue_dir)
            held_out.update(_norm(x) for x in s.sentence1)
            held_out.update(_norm(x) for x in s.sentence2 or [])
    assert len(held_out) > 5000
    corpus = {_norm(line) for line in (synglue_dir / "corpus" / "corpus.txt").read_text().splitlines() if line}
    assert not corpus & held_out
    # ... but it is drawn from the same grammar: it covers the evaluation vocabulary
    vocab = {w for line in corpus for w in line.split()}
    eval_vocab = {w for s in held_out for w in s.split()}
    assert len(eval_vocab - vocab) < 0.1 * len(eval_vocab), sorted(eval_vocab - vocab)[:20]
