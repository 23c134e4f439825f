"""word2vec (skip-gram, negative sampling): the tool's defaults, sub-sampling and noise distribution
against a hand-computed count table, pairs that never cross a sentence end, the random window
shrinking, determinism, the output files, the config loader, and that synonyms of the synglue
lexicon end up closer than unrelated words when trained on the synglue corpus."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
import torch

from seminal.errors import SeminalError
from seminal.word2vec import (EOS, Word2VecConfig, count_ids, keep_probability, load_word2vec_config,
                              noise_distribution, sentence_chunks, skipgram_pairs, train_word2vec)

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
TINY = Word2VecConfig(dim=16, epochs=2, batch_size=64, min_count=1)


def encode(sentences: list[list[int]], doc_ends: set[int] = frozenset()) -> np.ndarray:
    """The encoded-corpus layout: EOS after every sentence, one more after a document's last one."""
    ids: list[int] = []
    for i, s in enumerate(sentences):
        ids += [*s, EOS]
        if i in doc_ends:
            ids.append(EOS)
    return np.asarray(ids, dtype=np.uint16)


def test_defaults_are_the_tools() -> None:
    c = Word2VecConfig()
    assert (c.dim, c.window, c.negative, c.ns_exponent, c.sample, c.alpha, c.min_count, c.epochs) == (
        300, 5, 5, 0.75, 1e-3, 0.025, 5, 5)
    assert c.max_pairs is None


def test_counts_keep_and_noise_by_hand() -> None:
    # corpus: id 7 x1000, 8 x100, 9 x10, 10 x3 (< min_count 5), [UNK]=1 x7, EOS x50
    ids = np.repeat(np.array([7, 8, 9, 10, 1, EOS], dtype=np.uint16), [1000, 100, 10, 3, 7, 50])
    counts = count_ids(ids, vocab_size=12, min_count=5)
    assert counts.tolist() == [0] * 7 + [1000, 100, 10, 0, 0]  # specials and rare pieces: 0
    # tool: keep = (sqrt(f/t) + 1) t/f with f = c/1110, t = 1e-2, i.e. t*total = 11.1
    #   id 7: (sqrt(1000/11.1) + 1) * 11.1/1000 = 10.49158 * 0.0111 = 0.116457
    #   id 8: (sqrt(100/11.1) + 1) * 0.111 = 4.001501 * 0.111 = 0.444167
    #   id 9: (sqrt(10/11.1) + 1) * 1.11 = 2.164 -> 1
    keep = keep_probability(counts, 1e-2)
    np.testing.assert_allclose(keep[7:10], [0.116457, 0.444167, 1.0], atol=1e-6)
    assert keep[:7].sum() == 0 and keep[10:].sum() == 0
    np.testing.assert_array_equal(keep_probability(counts, 0.0), counts > 0)
    # §2.2: 1000^.75 = 177.8279, 100^.75 = 31.6228, 10^.75 = 5.6234; Z = 215.0741
    p = noise_distribution(counts, 0.75)
    np.testing.assert_allclose(p[7:10], [0.826822, 0.147031, 0.026146], atol=1e-6)
    assert p[:7].sum() == 0 and p[10:].sum() == 0 and p.sum() == pytest.approx(1.0)


def test_pairs_never_cross_a_sentence_end() -> None:
    # every position holds a distinct id, so a pair's ids give back its positions
    lengths = [1, 6, 2, 9, 3, 12, 4]
    sentences, start = [], 10
    for n in lengths:
        sentences.append(list(range(start, start + n)))
        start += n
    ids = encode(sentences, doc_ends={2, 4})
    V = start
    sentence_of = {t: k for k, s in enumerate(sentences) for t in s}
    counts = count_ids(ids, V, min_count=1)
    keep = keep_probability(counts, 0.0)
    rng = np.random.default_rng(0)
    for window in (1, 3, 5):
        word, context = skipgram_pairs(ids, keep, window, rng)
        assert len(word) > 0
        assert all(sentence_of[w] == sentence_of[c] for w, c in zip(word.tolist(), context.tolist()))
        assert np.all(np.abs(word - context) <= window) and np.all(word != context)
        assert not np.isin(np.concatenate([word, context]), np.arange(7)).any()  # no EOS, no special
    # window 1 cannot shrink: exactly every adjacent pair inside a sentence, both directions
    word, context = skipgram_pairs(ids, keep, 1, rng)
    want = {(a, b) for s in sentences for a, b in zip(s, s[1:])}
    want |= {(b, a) for a, b in want}
    assert sorted(zip(word.tolist(), context.tolist())) == sorted(want)


def test_window_shrinking_and_subsampling_rates() -> None:
    """The tool's b ~ U{0..window-1}: a context at distance d is used with probability
    (window - d + 1) / window; sub-sampled ids are removed before windows are taken."""
    n, window = 20_000, 5
    ids = encode([list(range(10, 10 + n))])
    keep = keep_probability(count_ids(ids, 10 + n, 1), 0.0)
    word, context = skipgram_pairs(ids, keep, window, np.random.default_rng(0))
    dist = np.bincount(np.abs(word - context), minlength=window + 1)[1:]
    expected = 2 * n * (window - np.arange(1, window + 1) + 1) / window
    np.testing.assert_allclose(dist, expected, rtol=0.03)
    keep = np.where(np.arange(10 + n) >= 10, 0.25, 0.0)  # keep every id with probability 1/4
    word, _ = skipgram_pairs(ids, keep, 1, np.random.default_rng(1))
    kept = len(word) / 2 + 1  # window 1, one sentence: 2 (kept - 1) pairs
    assert abs(kept - n / 4) < 4 * np.sqrt(n * 0.25 * 0.75)


def test_sentence_chunks_end_at_a_sentence_end() -> None:
    ids = encode([[9] * k for k in (3, 5, 2, 7, 1, 4)], doc_ends={1, 3})
    chunks = list(sentence_chunks(ids, 8))
    assert chunks[0][0] == 0 and chunks[-1][1] == len(ids)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    assert all(ids[end - 1] == EOS for _, end in chunks)


def tiny_corpus(path: Path, seed: int = 0) -> tuple[Path, int]:
    rng = np.random.default_rng(seed)  # two topics: ids 7..22 and 23..39 never share a sentence
    topics = rng.integers(0, 2, 300)
    sentences = [rng.integers(7 + 16 * t, 23 + 17 * t, rng.integers(2, 12)).tolist() for t in topics]
    ids = encode(sentences, doc_ends=set(range(9, 300, 10)))
    np.save(path, ids)
    return path, 45  # ids 40..44 never occur


def test_outputs_and_determinism(tmp_path: Path) -> None:
    corpus, V = tiny_corpus(tmp_path / "ids.npy")
    epochs = []
    m = train_word2vec(corpus, V, TINY, seed=0, out_dir=tmp_path / "a", log=lambda d, e: epochs.append(e))
    train_word2vec(corpus, V, TINY, seed=0, out_dir=tmp_path / "b")
    train_word2vec(corpus, V, TINY, seed=1, out_dir=tmp_path / "c")
    a = np.load(tmp_path / "a" / "vectors.npy")
    assert a.shape == (V, 16) and a.dtype == np.float32 and np.isfinite(a).all()
    assert (tmp_path / "a" / "vectors.npy").read_bytes() == (tmp_path / "b" / "vectors.npy").read_bytes()
    assert not np.array_equal(a, np.load(tmp_path / "c" / "vectors.npy"))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["metrics.json", "vectors.npy"]
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert saved["loss"] == m["loss"] and len(saved["loss"]) == 2 and epochs == [1, 2]
    assert max(saved["loss"]) < 6 * np.log(2)  # below 6 log 2, the loss of the untrained model
    assert saved["pairs_total"] == sum(saved["pairs"]) > 0 and saved["pairs_per_s"] > 0
    assert saved["vocab_trained"] == 33 and saved["config"]["dim"] == 16
    # [PAD] zero; untrained rows (specials, ids 40..44) U[-a, a] with the trained rows' variance
    assert not a[0].any()
    untrained = a[[1, 2, 3, 4, 5, 6, 40, 41, 42, 43, 44]]
    assert np.abs(untrained).max() <= m["unknown_init_a"]
    assert 0.5 < untrained.var() / a[7:40].var() < 2.0


def test_pair_budget(tmp_path: Path) -> None:
    corpus, V = tiny_corpus(tmp_path / "ids.npy")
    m = train_word2vec(corpus, V, Word2VecConfig(dim=8, epochs=3, batch_size=50, min_count=1,
                                                 max_pairs=777), seed=0, out_dir=tmp_path / "o")
    assert m["pairs_total"] == 777 and m["epochs_run"] < 3  # stopped inside an epoch


def test_a_short_corpus_gets_epochs_up_to_min_tokens(tmp_path: Path) -> None:
    cfg = Word2VecConfig(epochs=1, min_tokens=1_500_000)
    assert cfg.epochs_for(8_269_734) == 1  # synglue's corpus: unchanged
    assert cfg.epochs_for(303_204) == 5  # WikiText-2 valid: ceil(1.5M / 303k)
    assert cfg.epochs_for(1_500_000) == 1 and cfg.epochs_for(1_499_999) == 2
    assert Word2VecConfig(epochs=3).epochs_for(10) == 3  # off by default
    corpus, V = tiny_corpus(tmp_path / "ids.npy")
    n = len(np.load(corpus))
    epochs = []
    m = train_word2vec(corpus, V, dataclasses.replace(TINY, epochs=1, min_tokens=3 * n - 1), seed=0,
                       out_dir=tmp_path / "o", log=lambda d, e: epochs.append(e))
    assert m["epochs_run"] == 3 and epochs == [1, 2, 3] and m["config"]["min_tokens"] == 3 * n - 1
    with pytest.raises(ValueError, match="min_tokens must be > 0"):
        Word2VecConfig(min_tokens=0)


def test_bad_corpus(tmp_path: Path) -> None:
    corpus, _ = tiny_corpus(tmp_path / "ids.npy")
    with pytest.raises(SeminalError, match=r"ids\.npy: corpus id 39 >= vocab_size 20"):
        train_word2vec(corpus, 20, TINY, seed=0, out_dir=tmp_path / "o")
    np.save(tmp_path / "f.npy", np.zeros(5, dtype=np.float32))
    with pytest.raises(SeminalError, match=r"f\.npy: encoded corpus is float32"):
        train_word2vec(tmp_path / "f.npy", 20, TINY, seed=0, out_dir=tmp_path / "o")
    np.save(tmp_path / "rare.npy", encode([[7, 8]]))
    with pytest.raises(SeminalError, match="min_count"):
        train_word2vec(tmp_path / "rare.npy", 20, Word2VecConfig(dim=4), seed=0, out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_config_file(tmp_path: Path) -> None:
    shipped = load_word2vec_config(ROOT / "config" / "pretrain" / "word2vec.yaml")
    for kim in sorted((ROOT / "config" / "models").glob("kim_cnn_*.yaml")):  # vectors fit the CNN
        raw = yaml.safe_load(kim.read_text())
        if raw.get("pretrained"):
            assert raw["model_config"]["embed_dim"] == shipped.dim, kim.name
    assert shipped.max_pairs and shipped.epochs >= 1
    bad = tmp_path / "w2v.yaml"
    bad.write_text("dim: 50\nwindw: 3\n")
    with pytest.raises(SeminalError, match=r"w2v\.yaml:2: unknown word2vec field 'windw'"):
        load_word2vec_config(bad)
    bad.write_text("dim: 0\n")
    with pytest.raises(SeminalError, match=r"w2v\.yaml: word2vec dim must be an integer > 0"):
        load_word2vec_config(bad)
    bad.write_text("sample: 1e-5\n")  # YAML 1.1 reads this as a string
    assert load_word2vec_config(bad).sample == 1e-5
    bad.write_text("- dim\n")
    with pytest.raises(SeminalError, match="mapping"):
        load_word2vec_config(bad)


# ---------------------------------------------------------------------------------------------
# quality: trained on the synglue corpus, synonyms are closer than unrelated words


def synglue_corpus(out: Path, words: int) -> tuple[Path, dict[str, int]]:
    """The synglue pretraining corpus, one id per word (lower-cased, punctuation split off)."""
    from seminal.synglue import SynGlueConfig, generate

    generate(out, SynGlueConfig(train_size=0, dev_size=0, test_size=0, diagnostic_size=0,
                                corpus_tokens=words))
    vocab: dict[str, int] = {}
    ids: list[int] = []
    blank = False
    for line in (out / "corpus" / "corpus.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            blank = True
            continue
        if blank:
            ids.append(EOS)  # the extra EOS between documents
            blank = False
        ids += [vocab.setdefault(w, 7 + len(vocab)) for w in re.findall(r"\w+|[^\w\s]", line.lower())]
        ids.append(EOS)
    np.save(out / "ids.npy", np.asarray(ids, dtype=np.uint16))
    return out / "ids.npy", vocab


def lexicon_pairs() -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Synonyms (surface variants of one concept: interchangeable by construction), and the nouns
    and the verbs and adjectives of the lexicon (a noun and a verb are unrelated)."""
    from seminal.synglue.lexicon import ADJS, NOUNS, VERBS

    synonyms: list[tuple[str, str]] = []
    for n in NOUNS.values():
        for (s1, p1), (s2, p2) in itertools.combinations(n.forms, 2):
            synonyms += [(s1, s2), (p1, p2)] if p1 and p2 else [(s1, s2)]
    for v in VERBS.values():
        for f1, f2 in itertools.combinations(v.forms, 2):
            synonyms += [(a, b) for a, b in zip(f1, f2) if a != b]
    for a in ADJS.values():
        synonyms += list(itertools.combinations(a.forms, 2))
    nouns = [w for n in NOUNS.values() for forms in n.forms for w in forms if w]
    others = [w for v in VERBS.values() for forms in v.forms for w in forms]
    others += [w for a in ADJS.values() for w in a.forms]
    return synonyms, nouns, sorted(set(others) - set(nouns))


def test_synonyms_are_closer_than_unrelated_words(tmp_path: Path) -> None:
    corpus, vocab = synglue_corpus(tmp_path / "synglue", 200_000)
    cfg = Word2VecConfig(dim=16, epochs=3)  # the tool's other defaults
    loss = train_word2vec(corpus, 7 + len(vocab), cfg, seed=0, out_dir=tmp_path / "w2v")["loss"]
    assert loss[0] > loss[1] > loss[2]
    vec = np.load(tmp_path / "w2v" / "vectors.npy")
    vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
    counts = np.bincount(np.load(corpus), minlength=len(vec))
    synonyms, nouns, others = lexicon_pairs()
    frequent = {w for w in vocab if counts[vocab[w]] >= 50}  # well trained (most of the lexicon)
    synonyms = [(a, b) for a, b in synonyms if a in frequent and b in frequent]
    nouns, others = [w for w in nouns if w in frequent], [w for w in others if w in frequent]

    def cos(a: str, b: str) -> float:
        return float(vec[vocab[a]] @ vec[vocab[b]])

    syn = np.array([cos(a, b) for a, b in synonyms])
    unrelated = np.array([cos(a, b) for a in nouns for b in others])
    # per word: its synonym is closer than the words of the other part of speech
    wins = np.mean([cos(a, b) > cos(a, x) for a, b in synonyms for x in (others if a in nouns else nouns)])
    print(f"synonyms n={len(syn)} mean {syn.mean():.3f} median {np.median(syn):.3f}; unrelated "
          f"n={len(unrelated)} mean {unrelated.mean():.3f} q99 {np.quantile(unrelated, 0.99):.3f}; "
          f"synonym closer for {wins:.2%}")
    assert len(syn) >= 40 and len(unrelated) >= 5000
    assert syn.mean() > unrelated.mean() + 0.2
    assert np.median(syn) > np.quantile(unrelated, 0.99)
    assert wins > 0.97
