"""Devlin et al. (2019) BERT: parameter count by formula, MLM masking statistics (15%; 80/10/10),
next-sentence pairs built from the corpus, overfitting a batch (pretraining and a task head),
determinism, the pretrained checkpoint loaded into the task model, padding invariance, configs."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.models.bert import (
    CLS_ID,
    IGNORE,
    MASK_ID,
    N_SPECIAL,
    PAD_ID,
    SEP_ID,
    BertClassifier,
    BertConfig,
    BertTaskConfig,
    build,
    build_pretrain,
    make_pretrain_batch,
    pack_pair,
)

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
TINY = BertConfig(vocab_size=50, n_layers=2, d_model=16, n_heads=2, d_ff=24, max_position=40, max_seq_len=32)
SIZES = ("n_layers", "d_model", "n_heads", "d_ff", "max_position", "type_vocab_size")


def task(kind: str = "pair", output: str = "classification", labels: tuple | None = ("a", "b")) -> TaskSpec:
    return TaskSpec("T", kind, output, labels, ("acc",), {})


def task_cfg(c: BertConfig = TINY, **kw) -> BertTaskConfig:
    return BertTaskConfig(vocab_size=c.vocab_size, **{k: getattr(c, k) for k in SIZES}, **kw)


def ids(*rows: list[int], T: int | None = None) -> torch.Tensor:
    T = T or max(1, max(len(r) for r in rows))
    return torch.tensor([r + [0] * (T - len(r)) for r in rows])


def corpus(n_docs: int, seed: int = 0, random_tokens: int = 0, sentences: tuple[int, int] = (2, 7),
           length: tuple[int, int] = (3, 13)) -> tuple[np.ndarray, list[list[list[int]]]]:
    """A flat id stream (sentences end with [EOS]=3, [EOS] [EOS] ends a document) and its documents.
    Every token of sentence s is 7 + s (so a batch says which sentence each token came from),
    unless random_tokens > 0: then tokens are uniform in [7, 7 + random_tokens)."""
    rng = np.random.default_rng(seed)
    docs, stream, s = [], [], 0
    for _ in range(n_docs):
        doc = []
        for _ in range(int(rng.integers(*sentences))):
            n = int(rng.integers(*length))
            sent = (rng.integers(N_SPECIAL, N_SPECIAL + random_tokens, n) if random_tokens
                    else np.full(n, N_SPECIAL + s)).tolist()
            doc.append(sent)
            stream += sent + [3]
            s += 1
        stream.append(3)
        docs.append(doc)
    return np.asarray(stream, dtype=np.uint16), docs


def test_defaults_are_the_papers() -> None:
    c, t = BertConfig(), BertTaskConfig()  # BERT-base, §3
    assert (c.n_layers, c.d_model, c.n_heads, c.d_ff, c.dropout, c.max_position) == (12, 768, 12, 3072, 0.1, 512)
    assert (c.mask_prob, c.mask_token_prob, c.random_token_prob, c.nsp_prob) == (0.15, 0.8, 0.1, 0.5)
    assert all(getattr(t, k) == getattr(c, k) for k in SIZES)
    with pytest.raises(ValueError, match="divisible"):
        BertConfig(d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="max_seq_len"):
        BertConfig(max_seq_len=600)


# closed form: embeddings V d + P d + 2 d (segments) + 2 d (LN); a layer 4d^2 + 4d (q, k, v, o with
# biases) + 2 d d_ff + d_ff + d (FFN) + 4d (two LNs); pooler d^2 + d; MLM head d^2 + d + 2d + V (the
# decoder is the token embedding, only its bias is new); NSP 2d + 2; the classifier d C + C.
def encoder_params(c: BertConfig) -> int:
    d = c.d_model
    layer = 4 * d * d + 4 * d + 2 * d * c.d_ff + c.d_ff + d + 4 * d
    return (c.vocab_size + c.max_position + c.type_vocab_size + 2) * d + c.n_layers * layer + d * d + d


def pretrain_params(c: BertConfig) -> int:
    d = c.d_model
    return encoder_params(c) + d * d + 3 * d + c.vocab_size + 2 * d + 2


@pytest.mark.parametrize("labels", [1, 3])
def test_num_parameters(labels: int) -> None:
    assert build_pretrain(TINY).num_parameters() == pretrain_params(TINY)
    model = build(task_cfg(), task(labels=None if labels == 1 else ("a", "b", "c"),
                                   output="regression" if labels == 1 else "classification"))
    assert model.num_parameters() == encoder_params(TINY) + 16 * labels + labels
    # written out for TINY: embeddings (50+40+2+2)*16; layers 2*(1024+64+768+24+16+64); pooler 272;
    # MLM 256+48+50; NSP 34
    assert pretrain_params(TINY) == 1504 + 2 * 1960 + 272 + 354 + 34 == 6084


def test_base_model_size() -> None:
    """BERT-base with the released 30,522-piece vocabulary has the paper's ~110M parameters."""
    n = encoder_params(BertConfig(vocab_size=30522))
    assert n == 109_482_240
    assert abs(n - 110e6) / 110e6 < 0.01


def test_mlm_head_is_tied_to_the_token_embeddings() -> None:
    m = build_pretrain(TINY)
    assert m.mlm.embedding[0].weight is m.encoder.embed.tok.weight
    b = make_pretrain_batch(corpus(20, random_tokens=40)[0], TINY, 4, np.random.default_rng(0))
    m.eval()
    before = m(b["input_ids"], b["segment_ids"], b["mlm_labels"])[0]
    with torch.no_grad():
        m.encoder.embed.tok.weight[N_SPECIAL:] += 1.0  # the output layer moves with the input one
    after = m(b["input_ids"], b["segment_ids"], b["mlm_labels"])[0]
    assert not torch.allclose(before, after)


# ---------------------------------------------------------------------------------------------
# pretraining batches


def test_masking_statistics() -> None:
    """§3.1: 15% of the text tokens are predicted; of those 80% [MASK], 10% random, 10% unchanged;
    [CLS], [SEP] and padding are never chosen; random replacements are never special tokens."""
    stream, _ = corpus(300, seed=1, random_tokens=500, length=(10, 30))
    cfg = replace(TINY, vocab_size=N_SPECIAL + 500, max_position=128, max_seq_len=128)
    chosen = text = masked = randomised = kept = 0
    for i in range(8):
        b = make_pretrain_batch(stream, cfg, 256, np.random.default_rng(i))
        x, y = b["input_ids"], b["mlm_labels"]
        special = (x == CLS_ID) | (x == SEP_ID) | (x == PAD_ID)
        is_text = ~special | (y != IGNORE)  # a text token may have become [MASK]
        sel = y != IGNORE
        assert not (sel & ((x == CLS_ID) | (x == SEP_ID) | (x == PAD_ID))).any()
        assert (y[sel] >= N_SPECIAL).all()  # labels are the original text tokens
        n_text = is_text.sum(1)
        assert torch.equal(sel.sum(1), torch.clamp(torch.round(0.15 * n_text.double()).long(), min=1))
        assert (x[sel & (x != MASK_ID)] >= N_SPECIAL).all()  # random tokens are never special
        chosen += int(sel.sum())
        text += int(n_text.sum())
        masked += int((sel & (x == MASK_ID)).sum())
        kept += int((sel & (x == y)).sum())
        randomised += int((sel & (x != MASK_ID) & (x != y)).sum())
    assert chosen > 20_000
    assert abs(chosen / text - 0.15) < 0.002
    assert abs(masked / chosen - 0.8) < 0.01
    # a random token equals the original 1 time in 500: counted as kept
    assert abs(randomised / chosen - 0.1 * 499 / 500) < 0.01
    assert abs(kept / chosen - (0.1 + 0.1 / 500)) < 0.01


def _segments_of(row_x: np.ndarray, row_seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) original tokens of one packed row, checking [CLS] A [SEP] B [SEP] [PAD]... layout."""
    n = int((row_x != PAD_ID).sum())
    assert (row_x[n:] == PAD_ID).all() and row_x[0] == CLS_ID and row_x[n - 1] == SEP_ID
    seps = np.flatnonzero(row_x[:n] == SEP_ID)
    assert len(seps) == 2
    first = seps[0]
    expect = np.r_[np.zeros(first + 1), np.ones(n - first - 1), np.zeros(len(row_x) - n)]
    assert np.array_equal(row_seg, expect)  # segment 0: [CLS] A [SEP]; 1: B [SEP]; padding 0
    return row_x[1:first], row_x[first + 1:n - 1]


def test_nsp_pairs() -> None:
    """§3.1 / A.1: 50% IsNext, where B is the text that follows A in the same document (A ends at
    the end of a sentence, B starts with the next one); NotNext B comes from another document."""
    stream, docs = corpus(200, seed=2)
    sent_doc = np.concatenate([[d] * len(doc) for d, doc in enumerate(docs)])
    sent_len = np.array([len(s) for doc in docs for s in doc])
    text_of = {d: np.concatenate(doc) for d, doc in enumerate(docs)}
    cfg = replace(TINY, vocab_size=N_SPECIAL + len(sent_len), max_position=48, max_seq_len=48)
    nexts, total = 0, 0
    for i in range(4):
        b = make_pretrain_batch(stream, cfg, 256, np.random.default_rng(i))
        x, seg, y = b["input_ids"].numpy(), b["segment_ids"].numpy(), b["mlm_labels"].numpy()
        orig = np.where(y != IGNORE, y, x)  # undo the masking
        assert x.shape[1] <= cfg.max_seq_len
        for r in range(len(x)):
            a, bb = _segments_of(orig[r], seg[r])
            assert len(a) >= 1 and len(bb) >= 1
            sa, sb = a[-1] - N_SPECIAL, bb[0] - N_SPECIAL  # last sentence of A, first of B
            da, db = sent_doc[sa], sent_doc[sb]
            doc_text = text_of[da] - N_SPECIAL
            a_end = np.flatnonzero(doc_text == sa)[-1] + 1  # A ends where its last sentence ends
            assert np.array_equal(a - N_SPECIAL, doc_text[a_end - len(a):a_end])  # contiguous text of doc da
            if b["is_next"][r]:
                nexts += 1
                assert db == da and sb == sa + 1  # the actual next sentence
                assert np.array_equal(bb - N_SPECIAL, doc_text[a_end:a_end + len(bb)])
            else:
                assert db != da
                assert len(bb) <= sent_len[sb] or np.array_equal(  # B: from a sentence start onwards
                    bb - N_SPECIAL, (text_of[db] - N_SPECIAL)[np.flatnonzero(text_of[db] - N_SPECIAL == sb)[0]:][:len(bb)])
                assert (bb[: min(len(bb), sent_len[sb])] - N_SPECIAL == sb).all()
        total += len(x)
    assert abs(nexts / total - 0.5) < 0.05


def test_pair_lengths_fill_the_target() -> None:
    """Pairs use the room: most are max_seq_len long (short_seq_prob 0.1 and document ends aside)."""
    stream, _ = corpus(100, seed=3, random_tokens=40)
    cfg = replace(TINY, vocab_size=N_SPECIAL + 40, max_seq_len=24, max_position=24, short_seq_prob=0.0)
    b = make_pretrain_batch(stream, cfg, 512, np.random.default_rng(0))
    n = (b["input_ids"] != PAD_ID).sum(1)
    assert int(n.max()) == 24 and float((n == 24).float().mean()) > 0.5


def test_batches_are_deterministic() -> None:
    stream, _ = corpus(50, random_tokens=40)
    one = make_pretrain_batch(stream, TINY, 8, np.random.default_rng([3, 0, 7]))
    two = make_pretrain_batch(stream.copy(), TINY, 8, np.random.default_rng([3, 0, 7]))
    other = make_pretrain_batch(stream, TINY, 8, np.random.default_rng([3, 0, 8]))
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert not torch.equal(one["input_ids"], other["input_ids"])
    assert list(one) == ["input_ids", "segment_ids", "mlm_labels", "is_next"]  # input_ids first: token counts


def test_corpus_is_checked() -> None:
    with pytest.raises(SeminalError, match="two documents"):
        make_pretrain_batch(np.array([9, 9, 3, 8, 3, 3], dtype=np.uint16), TINY, 2, np.random.default_rng(0))
    with pytest.raises(SeminalError, match="vocab_size"):
        make_pretrain_batch(corpus(20)[0], TINY, 2, np.random.default_rng(0))  # ids up to 7 + ~80


# ---------------------------------------------------------------------------------------------
# the models


def test_pretraining_overfits_a_batch_and_is_deterministic() -> None:
    stream, _ = corpus(30, random_tokens=40)
    cfg = replace(TINY, vocab_size=N_SPECIAL + 40, dropout=0.0, attention_dropout=0.0)
    batch = make_pretrain_batch(stream, cfg, 8, np.random.default_rng(0))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = build_pretrain(cfg)
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        _, first = m.pretrain_loss(batch)
        for _ in range(80):
            loss, stats = m.pretrain_loss(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        runs.append((first, stats, loss.item()))
    (first, stats, loss), again = runs[0], runs[1]
    assert abs(first["lm_loss"] - np.log(cfg.vocab_size)) < 0.5  # starts near uniform
    assert stats["lm_loss"] < 0.05 and stats["mlm_acc"] == 1.0 and stats["nsp_acc"] == 1.0
    assert set(stats) == {"lm_loss", "mlm_acc", "nsp_loss", "nsp_acc"}
    assert again[2] == loss  # same seed, same numbers


def test_pack_pair_by_hand() -> None:
    x, seg = pack_pair(ids([7, 8], [9]), ids([10], [11, 12, 13]))
    assert x.tolist() == [[CLS_ID, 7, 8, SEP_ID, 10, SEP_ID, 0], [CLS_ID, 9, SEP_ID, 11, 12, 13, SEP_ID]]
    assert seg.tolist() == [[0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1, 1]]
    x, seg = pack_pair(ids([7, 8], [9]))
    assert x.tolist() == [[CLS_ID, 7, 8, SEP_ID], [CLS_ID, 9, SEP_ID, 0]] and not seg.any()


@pytest.mark.parametrize("kind", ["single", "pair"])
def test_classifier_ignores_padding(kind: str) -> None:
    torch.manual_seed(0)
    model = build(task_cfg(), task(kind)).eval()
    a, b = [[7, 8, 9], [10]], [[11], [12, 13, 14, 15]]
    s2 = (ids(*b), ids(*b, T=9)) if kind == "pair" else (None, None)
    short = model(ids(*a), s2[0])
    long = model(ids(*a, T=11), s2[1])
    alone = model(ids(a[0]), ids(b[0]) if kind == "pair" else None)
    torch.testing.assert_close(short, long, rtol=0, atol=1e-6)
    torch.testing.assert_close(short[:1], alone, rtol=0, atol=1e-6)
    if kind == "pair":  # the segments matter: swapping a and b changes the output
        assert not torch.allclose(model(ids(*b), ids(*a)), short)


def test_task_head_overfits() -> None:
    torch.manual_seed(0)
    cfg = task_cfg(dropout=0.0, attention_dropout=0.0, classifier_dropout=0.0)
    rng = np.random.default_rng(0)
    s1 = torch.from_numpy(rng.integers(N_SPECIAL, 50, (16, 6)))
    s2 = torch.from_numpy(rng.integers(N_SPECIAL, 50, (16, 5)))
    y, score = torch.arange(16) % 3, torch.linspace(0, 5, 16)
    for t, target in ((task(labels=("a", "b", "c")), y), (task(output="regression", labels=None), score)):
        model = build(cfg, t)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(80):
            out = model(s1, s2)
            loss = (torch.nn.functional.mse_loss(out, target) if t.is_regression
                    else torch.nn.functional.cross_entropy(out, target))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if t.is_regression:
            assert out.shape == (16,) and loss.item() < 0.1  # targets have variance 3.2
        else:
            assert (out.argmax(-1) == y).all()


def _checkpoint(tmp_path: Path, cfg: BertConfig = TINY, name: str = "bert") -> tuple[Path, dict]:
    """A pretraining model with non-initial weights, saved as seminal.pretrain.save_checkpoint does."""
    torch.manual_seed(1)
    m = build_pretrain(cfg)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path = tmp_path / "model.pt"
    torch.save({"model": name, "config": asdict(cfg), "state_dict": m.state_dict(), "metrics": {}}, path)
    return path, m.state_dict()


def test_checkpoint_is_loaded_into_the_task_model(tmp_path: Path) -> None:
    path, state = _checkpoint(tmp_path)
    torch.manual_seed(0)
    pre = build(task_cfg(checkpoint=str(path)), task())
    torch.manual_seed(0)
    scratch = build(task_cfg(), task())
    mine = pre.state_dict()
    for k, v in state.items():
        if k.startswith(("encoder.", "pooler.")):
            assert torch.equal(mine[k], v), k
            assert not torch.equal(scratch.state_dict()[k], v), k
    assert not any(k.startswith(("mlm.", "nsp.")) for k in mine)  # the pretraining heads are dropped
    assert torch.equal(mine["head.weight"], scratch.state_dict()["head.weight"])  # same new layer
    assert pre.num_parameters() == scratch.num_parameters()
    x = ids([7, 8, 9], [10, 11])
    pre.eval(), scratch.eval()
    assert not torch.allclose(pre(x, x), scratch(x, x))


def test_checkpoint_mismatch_is_refused(tmp_path: Path) -> None:
    path, _ = _checkpoint(tmp_path)
    with pytest.raises(SeminalError, match="d_ff: task 32 vs checkpoint 24"):
        build(replace(task_cfg(checkpoint=str(path)), d_ff=32), task())
    with pytest.raises(SeminalError, match="vocab_size"):
        build(replace(task_cfg(checkpoint=str(path)), vocab_size=60), task())
    other, _ = _checkpoint(tmp_path, name="gpt")
    with pytest.raises(SeminalError, match="expected 'bert'"):
        build(task_cfg(checkpoint=str(other)), task())
    with pytest.raises(SeminalError, match="not found"):
        build(task_cfg(checkpoint=str(tmp_path / "missing.pt")), task())


def test_shipped_configs_agree() -> None:
    """config/pretrain/bert.yaml loads; the two task rows use its encoder sizes (pretrained vs not)."""
    from seminal.experiment import make_config
    from seminal.pretrain import PretrainConfig
    from seminal.train import TrainConfig

    pre = yaml.safe_load((ROOT / "config/pretrain/bert.yaml").read_text())
    cfg = make_config(BertConfig, pre["model_config"], "bert.yaml", "model_config")
    pcfg = make_config(PretrainConfig, pre["pretrain"], "bert.yaml", "pretrain")
    assert pre["model"] == "bert" and pcfg.optimizer == "adamw" and pcfg.weight_decay == 0.01
    assert pcfg.schedule == "linear" and 0 < pcfg.warmup_steps < pcfg.max_steps
    rows = {n: yaml.safe_load((ROOT / f"config/models/{n}.yaml").read_text()) for n in ("bert", "bert_scratch")}
    assert rows["bert"]["pretrained"] == {"bert": "checkpoint"} and "pretrained" not in rows["bert_scratch"]
    assert rows["bert_scratch"]["model_config"].get("checkpoint", None) is None
    assert rows["bert"]["train"] == rows["bert_scratch"]["train"]  # the comparison changes one thing
    for raw in rows.values():
        assert raw["model"] == "bert"
        t = make_config(BertTaskConfig, raw["model_config"], "row.yaml", "model_config")
        assert all(getattr(t, k) == getattr(cfg, k) for k in SIZES)
        train = make_config(TrainConfig, raw["train"], "row.yaml", "train")
        assert train.optimizer == "adamw" and train.weight_decay == 0.01 and train.schedule == "linear"
        # a packed pair of two truncated sentences fits the position table
        assert 2 * train.max_len + 3 <= t.max_position
    assert isinstance(build(replace(make_config(BertTaskConfig, rows["bert_scratch"]["model_config"], "r", "m"),
                                    vocab_size=100), task()), BertClassifier)
