"""Peters et al. (2018) ELMo: the char table, the biLM (parameter count by formula, what each
direction reads and predicts, padding invariance), the scalar mix, the frozen features and their
cache, checkpoints, determinism, overfitting one batch, and the shipped configs."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.models.elmo import (
    BOW,
    BYTE0,
    CHAR_PAD,
    EOW,
    N_CHARS,
    SPECIAL0,
    STATE_CACHES,
    BiLM,
    ELMoConfig,
    ELMoFeatures,
    ELMoTaskConfig,
    ScalarMix,
    build,
    build_pretrain,
    char_table,
    make_pretrain_batch,
)
from seminal.models.lstm import LSTMConfig
from seminal.pretrain import PretrainConfig, save_checkpoint
from seminal.tokenize import EOS, SPECIAL_PIECES

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
PIECES = list(SPECIAL_PIECES) + ["\u2581the", "a", "\u2581b", "cd", "\u00e9", "\u2581", ".", "xyz",
                                 "\u2581longpiece", "q", "r", "s", "t"]  # V = 20
TINY = ELMoConfig(vocab_size=len(PIECES), max_chars=8, char_dim=3, filters=((1, 2), (2, 3)), n_highway=1,
                  proj_dim=4, hidden_dim=6, num_layers=2, dropout=0.0, unroll=6)


def bilm(cfg: ELMoConfig = TINY, seed: int = 0) -> BiLM:
    torch.manual_seed(seed)
    return build_pretrain(cfg, PIECES)


def task(kind: str = "single", output: str = "classification") -> TaskSpec:
    labels = None if output == "regression" else ("a", "b")
    return TaskSpec("T", kind, output, labels, ("acc",), {})


def ids(*rows: list[int], T: int | None = None) -> torch.Tensor:
    T = T or max(len(r) for r in rows)
    return torch.tensor([r + [0] * (T - len(r)) for r in rows])


TASK = ELMoTaskConfig(embed_dim=5, hidden_dim=4, num_layers=1, mlp_dim=6, dropout=0.0, mix_dropout=0.0)


# ---------------------------------------------------------------------------------------------
# characters


def test_char_table_for_known_pieces() -> None:
    t = char_table(PIECES, 8)
    assert t.shape == (20, 8) and t.dtype == torch.long

    def b(s: str) -> list[int]:
        return [BYTE0 + x for x in s.encode("utf-8")]

    assert t[7].tolist() == [BOW, *b(" the"), EOW, CHAR_PAD, CHAR_PAD]  # '▁' reads as a space
    assert t[8].tolist() == [BOW, *b("a"), EOW] + [CHAR_PAD] * 5
    assert t[11].tolist() == [BOW, 0xC3 + 1, 0xA9 + 1, EOW] + [CHAR_PAD] * 4  # é: two UTF-8 bytes
    assert t[15].tolist() == [BOW, *b(" longp"), EOW]  # truncated to max_chars - 2 characters
    for k, piece in enumerate(SPECIAL_PIECES):  # one reserved character each, not their letters
        assert t[k].tolist() == [BOW, SPECIAL0 + k, EOW] + [CHAR_PAD] * 5, piece
    assert int(t.max()) < N_CHARS and len(set(map(tuple, t.tolist()))) == len(PIECES)


def test_char_table_from_the_sentencepiece_model(tmp_path: Path) -> None:
    from seminal.tokenize import load_tokenizer, train_tokenizer

    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "home", "quickly", "slowly", "big"]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(words, 6)) + " ." for _ in range(300)) + "\n")
    spm = train_tokenizer([corpus], tmp_path / "spm", vocab_size=30)
    sp = load_tokenizer(spm)
    cfg = replace(TINY, vocab_size=sp.get_piece_size(), spm=str(spm), max_chars=20)
    m = build_pretrain(cfg)
    i = next(i for i in range(7, sp.get_piece_size()) if sp.id_to_piece(i).startswith("\u2581")
             and len(sp.id_to_piece(i)) > 1)
    word = sp.id_to_piece(i)[1:].encode()
    assert m.tokens.chars[i, :len(word) + 3].tolist() == [BOW, BYTE0 + 32, *[BYTE0 + c for c in word], EOW]
    with pytest.raises(SeminalError, match="spm"):
        build_pretrain(replace(cfg, spm=""))
    with pytest.raises(SeminalError, match="vocab_size"):
        build_pretrain(replace(cfg, vocab_size=29))


# ---------------------------------------------------------------------------------------------
# the biLM


def test_defaults_are_the_papers() -> None:
    c = ELMoConfig()
    assert c.filters == ((1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))
    assert (c.char_dim, c.n_highway, c.proj_dim, c.hidden_dim, c.num_layers, c.residual) == (
        16, 2, 512, 4096, 2, True)


def num_params_formula(c: ELMoConfig) -> int:
    P, H, V, L = c.proj_dim, c.hidden_dim, c.vocab_size, c.num_layers
    n_filters = sum(n for _, n in c.filters)
    chars = N_CHARS * c.char_dim + sum(n * (w * c.char_dim + 1) for w, n in c.filters)
    highway = c.n_highway * (n_filters * 2 * n_filters + 2 * n_filters)
    proj = n_filters * P + P
    lstm = 4 * H * (P + P + 2) + P * H  # W_ih, W_hh (from the P-d projection), two biases, W_hr
    return chars + highway + proj + 2 * L * lstm + (P * V + V)  # 2 directions; one shared softmax


def test_num_parameters_closed_form() -> None:
    assert bilm().num_parameters() == num_params_formula(TINY)
    # the paper's size: 93.6M without the softmax (the released "original" ELMo), checked by formula
    c = ELMoConfig(vocab_size=1)
    assert abs(num_params_formula(c) - (c.proj_dim + 1) - 93.6e6) < 0.1e6


def test_each_direction_reads_and_predicts_the_right_tokens() -> None:
    """pretrain_loss against a token-by-token reading: forward LM on t_0..t_k predicts t_{k+1},
    backward LM on t_T..t_k predicts t_{k-1}, with the shared softmax."""
    m = bilm()
    batch = make_pretrain_batch(np.arange(7, 20), TINY, 3, np.random.default_rng(0))
    tok = batch["tokens"]  # (3, 7)
    loss, stats = m.pretrain_loss(batch)
    x = m.tokens(tok)
    T = tok.size(1) - 1
    fwd = torch.stack([m.run(m.fwd, x[:, :k + 1])[-1][:, -1] for k in range(T)], 1)  # (B, T, P)
    bwd = torch.stack([m.run(m.bwd, x[:, k:].flip(1))[-1][:, -1] for k in range(1, T + 1)], 1)
    f = F.cross_entropy(m.softmax(fwd).flatten(0, 1), tok[:, 1:].flatten())
    b = F.cross_entropy(m.softmax(bwd).flatten(0, 1), tok[:, :-1].flatten())
    assert stats["fwd_loss"] == pytest.approx(f.item(), abs=1e-5)
    assert stats["bwd_loss"] == pytest.approx(b.item(), abs=1e-5)
    assert stats["lm_loss"] == pytest.approx(loss.item()) == pytest.approx((f.item() + b.item()) / 2, abs=1e-5)


def test_residual_connection_between_layers() -> None:
    m = bilm()
    x = torch.randn(2, 5, 4)
    h1, h2 = m.run(m.fwd, x)
    torch.testing.assert_close(h2, m.fwd[1](h1)[0] + h1)
    torch.testing.assert_close(bilm(replace(TINY, residual=False)).run(m.fwd, x)[1], m.fwd[1](h1)[0])


def test_pretrain_batches_are_windows_of_the_stream() -> None:
    stream = np.arange(1000, dtype=np.uint16)
    a = make_pretrain_batch(stream, TINY, 8, np.random.default_rng([3, 7]))["tokens"]
    b = make_pretrain_batch(stream, TINY, 8, np.random.default_rng([3, 7]))["tokens"]
    assert a.shape == (8, TINY.unroll + 1) and a.dtype == torch.long
    assert torch.equal(a, b)  # deterministic given the rng
    assert torch.equal(a - a[:, :1], torch.arange(TINY.unroll + 1).expand(8, -1))  # contiguous
    assert not torch.equal(a, make_pretrain_batch(stream, TINY, 8, np.random.default_rng([3, 8]))["tokens"])
    with pytest.raises(SeminalError, match="window"):
        make_pretrain_batch(stream[:5], TINY, 8, np.random.default_rng(0))


def test_states_read_each_sentence_between_eos_and_are_padding_invariant() -> None:
    m = bilm().eval()
    s = [7, 8, 9, 10, 11]
    with torch.no_grad():
        out = m.states(ids(s, [12, 13], T=9))  # (3, 2, 9, 8)
        alone = m.states(ids(s))
        assert out.shape == (3, 2, 9, 8) and not out[:, 1, 2:].any()  # zeros at padding
        torch.testing.assert_close(out[:, 0, :5], alone[:, 0], rtol=0, atol=1e-6)  # padding invariance
        torch.testing.assert_close(out[:, 1, :2], m.states(ids([12, 13]))[:, 0], rtol=0, atol=1e-6)
        # by hand: the forward LM reads [EOS] s [EOS], the backward LM [EOS] reversed(s) [EOS]
        ext = torch.tensor([[EOS, *s, EOS]])
        x = m.tokens(ext)
        fwd = m.run(m.fwd, x)
        bwd = [h.flip(1) for h in m.run(m.bwd, x.flip(1))]
        for j in range(2):
            torch.testing.assert_close(alone[j + 1, 0], torch.cat([fwd[j], bwd[j]], -1)[0, 1:6], rtol=0, atol=1e-6)
        torch.testing.assert_close(alone[0, 0], torch.cat([x, x], -1)[0, 1:6])  # layer 0 = [x; x]
        # changing token 4 leaves the forward states before it and the backward states after it
        other = m.states(ids([7, 8, 9, 15, 11]))
    P = TINY.proj_dim
    torch.testing.assert_close(other[1:, 0, :3, :P], alone[1:, 0, :3, :P])
    torch.testing.assert_close(other[1:, 0, 4:, P:], alone[1:, 0, 4:, P:])
    assert not torch.allclose(other[1:, 0, 3:, :P], alone[1:, 0, 3:, :P])
    assert not torch.allclose(other[1:, 0, :4, P:], alone[1:, 0, :4, P:])


def test_overfits_a_batch() -> None:
    m = bilm(replace(TINY, hidden_dim=16, proj_dim=8))
    batch = make_pretrain_batch(np.random.default_rng(0).integers(7, 20, 200), TINY, 4, np.random.default_rng(1))
    opt = torch.optim.Adam(m.parameters(), lr=2e-2)
    first = m.pretrain_loss(batch)[0].item()
    for _ in range(150):
        loss, stats = m.pretrain_loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 2.0 and stats["fwd_loss"] < 0.1 and stats["bwd_loss"] < 0.1


def test_determinism() -> None:
    batch = make_pretrain_batch(np.arange(7, 20), TINY, 3, np.random.default_rng(0))
    a, b = bilm(replace(TINY, dropout=0.3), seed=1), bilm(replace(TINY, dropout=0.3), seed=1)
    torch.manual_seed(5)
    la = a.pretrain_loss(batch)[1]
    torch.manual_seed(5)
    assert b.pretrain_loss(batch)[1] == la
    assert bilm(seed=2).pretrain_loss(batch)[1] != bilm(seed=1).pretrain_loss(batch)[1]


# ---------------------------------------------------------------------------------------------
# scalar mix and features


def test_scalar_mix_weights_sum_to_one() -> None:
    mix = ScalarMix(3)
    with torch.no_grad():
        mix.s.copy_(torch.tensor([0.3, -1.0, 2.0]))
        mix.gamma.fill_(1.5)
    w = mix.weights()
    assert w.sum().item() == pytest.approx(1.0) and (w > 0).all()
    h = torch.randn(3, 2, 4, 5)
    torch.testing.assert_close(mix(h), 1.5 * (w[0] * h[0] + w[1] * h[1] + w[2] * h[2]))
    assert {n for n, _ in mix.named_parameters()} == {"gamma", "s"}


def test_top_only_uses_only_the_top_layer() -> None:
    mix = ScalarMix(3, top_only=True)
    assert mix.weights().tolist() == [0.0, 0.0, 1.0]
    assert [n for n, _ in mix.named_parameters()] == ["gamma"]
    h = torch.randn(3, 2, 4, 5)
    g = h.clone()
    g[:2] = torch.randn(2, 2, 4, 5)  # other lower layers: same output
    torch.testing.assert_close(mix(h), mix(g))
    torch.testing.assert_close(mix(h), h[2])
    assert not torch.allclose(ScalarMix(3)(h), ScalarMix(3)(g))


def test_cached_features_equal_uncached() -> None:
    STATE_CACHES.clear()
    m = bilm()
    cached, plain = ELMoFeatures(m, cache=True), ELMoFeatures(m, cache=False)
    batches = [ids([7, 8, 9], [10, 11, 12, 13, 14], [8]), ids([10, 11, 12, 13, 14], [9, 9], [7, 8, 9], T=7),
               ids([7, 8, 9], [8])]
    for b in batches:
        torch.testing.assert_close(cached.layer_states(b), plain.layer_states(b), rtol=0, atol=1e-6)
    assert len(cached.cache.states) == 4 and cached.cache.tokens == 3 + 5 + 1 + 2
    small = ELMoFeatures(m, cache=True, cache_tokens=4)  # full: computed, not stored
    for b in batches:
        torch.testing.assert_close(small.layer_states(b), plain.layer_states(b), rtol=0, atol=1e-6)
    assert small.cache.tokens <= 4
    # loading the same biLM weights keeps the cache (fit restores its best epoch), others empty it
    cached.load_state_dict(cached.state_dict())
    assert len(cached.cache.states) == 4
    other = cached.state_dict()
    other["bilm.softmax.bias"] = other["bilm.softmax.bias"] + 1.0
    cached.load_state_dict(other)
    assert len(cached.cache.states) == 0 and cached._table is None


def test_cache_is_shared_by_models_over_the_same_weights() -> None:
    """The seeds of a job build fresh task models over one checkpoint: the second reuses the
    first's states (no biLM call), a biLM with other weights gets its own cache."""
    STATE_CACHES.clear()
    first = ELMoFeatures(bilm())
    b = ids([7, 8, 9], [10, 11, 12])
    expected = first.layer_states(b)
    again = bilm()  # same seed: same weights, a different object
    second = ELMoFeatures(again)
    calls = []
    original = again.states
    again.states = lambda *a, **k: (calls.append(1), original(*a, **k))[1]  # type: ignore[method-assign]
    torch.testing.assert_close(second.layer_states(b), expected, rtol=0, atol=0)
    assert calls == [] and second.cache is first.cache
    other = ELMoFeatures(bilm(seed=1))
    assert other.cache is not first.cache and len(other.cache.states) == 0


def test_frozen_bilm_gets_no_gradient_and_stays_in_eval() -> None:
    torch.manual_seed(0)
    model = build(TASK, task(), bilm=bilm(replace(TINY, dropout=0.5)))
    model.train()
    elmo = model.features
    assert not elmo.bilm.training and elmo.training
    before = {k: v.clone() for k, v in elmo.bilm.state_dict().items()}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x = ids([7, 8, 9], [10, 11])
    for _ in range(2):
        loss = F.cross_entropy(model(x), torch.tensor([0, 1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(p.grad is None and not p.requires_grad for p in elmo.bilm.parameters())
    assert elmo.mix.s.grad is not None and elmo.mix.gamma.grad is not None
    assert all(torch.equal(v, elmo.bilm.state_dict()[k]) for k, v in before.items())
    n_bilm = elmo.bilm.num_parameters()
    assert model.num_parameters(trainable_only=True) == model.num_parameters() - n_bilm


def test_task_model_is_the_bilstm_with_elmo_at_its_input() -> None:
    model = build(TASK, task("pair"), bilm=bilm())
    assert model.cfg == LSTMConfig(vocab_size=20, num_labels=2, pair=True, embed_dim=5, hidden_dim=4,
                                   num_layers=1, mlp_dim=6, dropout=0.0, extra_dim=2 * TINY.proj_dim)
    model.eval()
    a, b = ids([7, 8, 9], [10]), ids([11, 12], [13, 14, 15])
    out = model(a, b)
    assert out.shape == (2, 2)
    torch.testing.assert_close(model(F.pad(a, (0, 3)), F.pad(b, (0, 2))), out)  # padding invariance
    with pytest.raises(SeminalError, match="vocab_size"):
        build(replace(TASK, vocab_size=21), task(), bilm=bilm())
    with pytest.raises(SeminalError, match="checkpoint"):
        build(TASK, task())


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    m = bilm(seed=3)
    path = tmp_path / "model.pt"
    save_checkpoint(path, "elmo", TINY, m, {"ppl": 1.0})
    model = build(replace(TASK, checkpoint=str(path), vocab_size=20), task())
    loaded = model.features.bilm
    assert torch.equal(loaded.tokens.chars, char_table(PIECES, TINY.max_chars))  # the table travels with it
    assert loaded.cfg == TINY
    x = ids([7, 8, 9, 10], [12])
    with torch.no_grad():
        torch.testing.assert_close(loaded.states(x), m.eval().states(x), rtol=0, atol=1e-6)
    save_checkpoint(path, "gpt", TINY, m, {})
    with pytest.raises(SeminalError, match="expected 'elmo'"):
        build(replace(TASK, checkpoint=str(path)), task())


def test_overfits_a_task_batch_and_is_deterministic() -> None:
    def run(seed: int) -> tuple[float, torch.Tensor]:
        torch.manual_seed(seed)
        model = build(replace(TASK, hidden_dim=8), task(), bilm=bilm())
        x = ids([7, 8, 9], [10, 11], [12, 13, 14, 15], [9, 8], [16], [17, 18, 7])
        y = torch.tensor([0, 1, 1, 0, 1, 0])
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-2)
        for _ in range(60):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        return loss.item(), model(x)

    loss, logits = run(0)
    assert loss < 0.05 and torch.equal(logits.argmax(-1), torch.tensor([0, 1, 1, 0, 1, 0]))
    assert torch.equal(run(0)[1], logits)


# ---------------------------------------------------------------------------------------------
# the shipped configs


def test_task_configs_are_the_bilstm_row_plus_elmo() -> None:
    base = yaml.safe_load((ROOT / "config/models/bilstm.yaml").read_text())
    for name, top in (("elmo", False), ("elmo_top", True)):
        path = ROOT / f"config/models/{name}.yaml"
        mc = yaml.safe_load(path.read_text())
        cfg = ELMoTaskConfig(**mc["model_config"])
        assert mc["model"] == "elmo" and mc["pretrained"] == {"elmo": "checkpoint"}
        assert mc["train"] == base["train"]
        assert cfg.top_only is top
        lstm = {k: v for k, v in asdict(cfg.lstm_config(0)).items() if k in base["model_config"]}
        assert lstm == base["model_config"]


def test_pretrain_config_builds() -> None:
    raw = yaml.safe_load((ROOT / "config/pretrain/elmo.yaml").read_text())
    assert raw["model"] == "elmo"
    cfg = ELMoConfig(**raw["model_config"], vocab_size=len(PIECES))
    assert build_pretrain(cfg, PIECES).num_parameters() == num_params_formula(cfg)
    pc = PretrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw["pretrain"].items()})
    assert pc.max_steps > 0 and pc.optimizer == "adam"
