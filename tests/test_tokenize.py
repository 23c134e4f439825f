"""sentencepiece training (special ids, determinism), encoding layouts and memory-mapped loading."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm

from seminal.benchmark import BenchmarkSpec, SplitSpec, TaskSpec
from seminal.errors import SeminalError
from seminal.tokenize import (EOS, SPECIAL_PIECES, EncodedSplit, encode_benchmark, encode_corpus,
                              gather_corpus, load_encoded, train_tokenizer)

WORDS = ("the cat dog sat on mat ran quickly over big small house tree a blue green red yellow "
         "bird flew under table chair window door opened closed slowly happily child played").split()


def write_corpus(path: Path, docs: int = 40, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = []
    for _ in range(docs):
        lines += [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 10))) + " ."
                  for _ in range(rng.randint(2, 5))]
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tok")
    return train_tokenizer([write_corpus(d / "corpus.txt")], d / "spm", vocab_size=48)


def test_special_ids(tok: Path) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(tok))
    assert (sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id()) == (0, 1, 2, 3)
    assert [sp.piece_to_id(p) for p in ("[CLS]", "[SEP]", "[MASK]")] == [4, 5, 6]
    assert tuple(sp.id_to_piece(i) for i in range(7)) == SPECIAL_PIECES
    assert sp.get_piece_size() == 48
    assert tok.with_suffix(".vocab").read_text(encoding="utf-8").splitlines()[0] == "[PAD]\t0"


def test_round_trip(tok: Path) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(tok))
    text = "the child played under the big table ."
    assert sp.decode(sp.encode(text)) == text


def test_deterministic(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.txt", docs=80)
    a = train_tokenizer([corpus], tmp_path / "a" / "spm", 48, seed=3, input_sentence_size=150)
    b = train_tokenizer([corpus], tmp_path / "b" / "spm", 48, seed=3, input_sentence_size=150)
    assert a.read_bytes() == b.read_bytes()
    assert a.with_suffix(".vocab").read_bytes() == b.with_suffix(".vocab").read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["spm.model", "spm.vocab"]


def test_bad_vocab_size_is_one_line(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.txt", docs=3)
    with pytest.raises(SeminalError, match="c.txt: sentencepiece"):
        train_tokenizer([corpus], tmp_path / "spm", vocab_size=5000)
    assert not (tmp_path / "spm.model").exists()


def test_encode_corpus_layout(tok: Path, tmp_path: Path) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(tok))
    docs = [["the cat sat .", "a dog ran ."], ["the tree ."], ["big red house ."]]
    text = "\n\n".join("\n".join(d) for d in docs) + "\n\n"
    (tmp_path / "c.txt").write_text("\n" + text, encoding="utf-8")  # leading blank: no EOS
    expected: list[int] = []
    for k, doc in enumerate(docs):
        if k:
            expected.append(EOS)  # the extra EOS between documents
        for s in doc:
            expected += sp.encode(s) + [EOS]
    for chunk in (1, 2, 10_000):  # streamed in chunks: the same bytes whatever the chunk size
        n = encode_corpus(tmp_path / "c.txt", tok, tmp_path / f"ids{chunk}.npy", chunk_lines=chunk)
        ids = np.load(tmp_path / f"ids{chunk}.npy")
        assert ids.dtype == np.uint16 and n == len(ids)
        assert ids.tolist() == expected


def _split_spec(file: str, label: bool, pair: bool) -> SplitSpec:
    cols = {"sentence1": 1}
    if pair:
        cols["sentence2"] = 2
    if label:
        cols["label"] = 3
    return SplitSpec(file, header=False, ncols=4, columns=cols)


def test_encode_benchmark_and_load(tok: Path, tmp_path: Path) -> None:
    pytest.importorskip("seminal.data")
    sp = spm.SentencePieceProcessor(model_file=str(tok))
    data, out = tmp_path / "data", tmp_path / "encoded"
    (data / "S").mkdir(parents=True)
    (data / "P").mkdir()
    (data / "S" / "train.tsv").write_text("0\tthe cat sat .\t-\tpos\n1\ta dog .\t-\tneg\n")
    (data / "S" / "test.tsv").write_text("0\tbig tree .\t-\t-\n")
    (data / "P" / "train.tsv").write_text("0\tthe cat .\ta cat .\t1.5\n1\tred .\tblue door .\t4\n")
    single = TaskSpec("S", "single", "classification", ("neg", "pos"), ("acc",),
                      {"train": _split_spec("S/train.tsv", True, False),
                       "test": _split_spec("S/test.tsv", False, False)})
    pair = TaskSpec("P", "pair", "regression", None, ("pearson",),
                    {"train": _split_spec("P/train.tsv", True, True)})
    encode_benchmark(BenchmarkSpec("t", {"S": single, "P": pair}), data, tok, out)

    s = load_encoded(out / "S" / "train")
    assert len(s) == 2 and not s.is_pair
    assert s.s1_ids.dtype == np.uint16 and s.s1_offsets.dtype == np.int64
    assert isinstance(s.s1_ids, np.memmap)
    assert s.sentence(0).tolist() == sp.encode("the cat sat .")
    assert s.labels.tolist() == [1, 0] and s.labels.dtype == np.int64
    assert sorted(p.name for p in (out / "S" / "test").iterdir()) == ["s1_ids.npy", "s1_offsets.npy"]
    assert load_encoded(out / "S" / "test").labels is None

    p = load_encoded(out / "P" / "train")
    assert p.is_pair and p.sentence(1, which=2).tolist() == sp.encode("blue door .")
    assert p.labels.dtype == np.float32 and p.labels.tolist() == [1.5, 4.0]
    assert p.lengths(2).tolist() == [len(sp.encode("a cat .")), len(sp.encode("blue door ."))]
    assert not [f for f in out.rglob("*") if f.name.startswith(".")]  # no temporaries left


def test_load_encoded_checks(tmp_path: Path) -> None:
    with pytest.raises(SeminalError, match="s1_ids.npy"):
        load_encoded(tmp_path)
    split = EncodedSplit.from_sequences([[7, 8], [], [9]], labels=[0, 1, 1])
    assert len(split) == 3 and split.sentence(1).tolist() == [] and split.lengths().tolist() == [2, 0, 1]
    with pytest.raises(SeminalError, match="no sentence 2"):
        split.sentence(0, which=2)


def test_gather_corpus_joins_files_with_a_document_break(tmp_path: Path) -> None:
    from seminal.tokenize import gather_corpus

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(" = Title = \nfirst line.  \n", encoding="utf-8")
    b.write_text("second file.", encoding="utf-8")  # no final newline
    out = tmp_path / "corpus" / "corpus.txt"
    out.parent.mkdir()
    assert gather_corpus([a, b], out) == 3
    # a.txt is in the WikiText layout (it opens with an article heading): the heading becomes its text
    assert out.read_text(encoding="utf-8") == "Title\nfirst line.\n\nsecond file.\n"


def test_gather_corpus_names_the_bad_file_and_line(tmp_path: Path) -> None:
    from seminal.tokenize import gather_corpus

    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nstill fine\n\xff broken\n")
    out = tmp_path / "corpus.txt"
    with pytest.raises(SeminalError, match=r"bad.txt:3: not UTF-8"):
        gather_corpus([bad], out)
    assert not out.exists()
    with pytest.raises(SeminalError, match="corpus file not found"):
        gather_corpus([tmp_path / "nope.txt"], out)


def test_an_empty_corpus_is_an_error_and_leaves_no_file(tmp_path: Path) -> None:
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(SeminalError, match="the corpus is empty"):
        gather_corpus([blank], tmp_path / "corpus.txt")
    assert not (tmp_path / "corpus.txt").exists()
