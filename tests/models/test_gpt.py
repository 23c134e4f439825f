"""Brown et al. (2020) GPT-3, scaled down: parameter count by formula, causal and banded masks on
hand-checked cases, alternating layers, the scaled initialisation, pretraining batches,
determinism, overfitting a batch, checkpoints and every shipped config."""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from seminal.errors import SeminalError
from seminal.models.gpt import (
    GPT,
    PRETRAIN_DEFAULTS,
    CausalSelfAttention,
    GPTConfig,
    banded_mask,
    build_pretrain,
    causal_mask,
    layer_is_sparse,
    make_pretrain_batch,
)

torch.set_num_threads(1)
TINY = GPTConfig(vocab_size=50, n_layer=4, d_model=16, n_head=2, d_ff=40, n_ctx=24, band=3)
CONFIGS = sorted((Path(__file__).resolve().parents[2] / "config" / "pretrain").glob("gpt_*.yaml"))
PRETRAIN_FIELDS = {"optimizer", "lr", "betas", "eps", "weight_decay", "schedule", "warmup_steps",
                   "min_lr_ratio", "batch_size", "max_steps", "grad_clip", "eval_every", "eval_batches",
                   "ckpt_every", "log_every", "valid_fraction"}


def test_defaults_are_gpt3_small() -> None:
    c = GPTConfig()  # Table 2.1, GPT-3 Small
    assert (c.n_layer, c.d_model, c.n_head, c.d_ff, c.n_ctx) == (12, 768, 12, 3072, 2048)
    assert c.d_model // c.n_head == 64 and c.d_ff == 4 * c.d_model
    assert PRETRAIN_DEFAULTS["betas"] == (0.9, 0.95) and PRETRAIN_DEFAULTS["weight_decay"] == 0.1
    assert PRETRAIN_DEFAULTS["grad_clip"] == 1.0 and PRETRAIN_DEFAULTS["min_lr_ratio"] == 0.1
    assert PRETRAIN_DEFAULTS["schedule"] == "cosine" and PRETRAIN_DEFAULTS["lr"] == 6e-4
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(d_model=30, n_head=4)


def closed_form(c: GPTConfig) -> int:
    """wte V d (tied: no output matrix) + wpe n_ctx d + per block [LN 2d, qkv 3d^2 + 3d, proj d^2 + d,
    LN 2d, fc1 d d_ff + d_ff, fc2 d_ff d + d] + final LN 2d."""
    d = c.d_model
    block = 2 * d + 3 * d * d + 3 * d + d * d + d + 2 * d + 2 * d * c.d_ff + c.d_ff + d
    return c.vocab_size * d + c.n_ctx * d + c.n_layer * block + 2 * d


def test_parameter_count_is_the_closed_form() -> None:
    model = GPT(TINY)
    assert model.num_parameters() == closed_form(TINY)
    # GPT-3 Small with GPT-2's 50257-token vocabulary: the paper's 125M (Table 2.1)
    assert abs(closed_form(GPTConfig(vocab_size=50257)) / 1e6 - 125) < 1
    # the output softmax IS the token embedding: no other (V, d) matrix, logits = LN_f(h) wte^T
    assert [n for n, q in model.named_parameters() if q.shape == (50, 16)] == ["wte.weight"]
    seen = []
    model.ln_f.register_forward_hook(lambda m, i, o: seen.append(o))
    logits = model(torch.tensor([[1, 2]]))
    assert torch.allclose(logits, seen[0] @ model.wte.weight.T, atol=1e-6)


def test_causal_and_banded_masks_hand_checked() -> None:
    assert causal_mask(5).int().tolist() == [[1, 0, 0, 0, 0],
                                             [1, 1, 0, 0, 0],
                                             [1, 1, 1, 0, 0],
                                             [1, 1, 1, 1, 0],
                                             [1, 1, 1, 1, 1]]
    assert banded_mask(5, 2).int().tolist() == [[1, 0, 0, 0, 0],  # query t sees t-1 and t
                                                [1, 1, 0, 0, 0],
                                                [0, 1, 1, 0, 0],
                                                [0, 0, 1, 1, 0],
                                                [0, 0, 0, 1, 1]]
    assert banded_mask(4, 1).int().tolist() == torch.eye(4, dtype=torch.int).tolist()  # only itself
    assert torch.equal(banded_mask(5, 5), causal_mask(5)) and torch.equal(banded_mask(5, 9), causal_mask(5))
    with pytest.raises(SeminalError):
        banded_mask(5, 0)


def test_layers_alternate_dense_and_banded() -> None:
    model = GPT(TINY)
    assert [b.attn.band for b in model.blocks] == [None, 3, None, 3]
    assert [layer_is_sparse(i, 3) for i in range(4)] == [False, True, False, True]
    dense = GPT(GPTConfig(**{**asdict(TINY), "band": 0}))
    assert [b.attn.band for b in dense.blocks] == [None] * 4


def attention_reach(band: int | None, t_changed: int, T: int = 6) -> list[bool]:
    """Which output positions of one attention layer change when input position t_changed does."""
    torch.manual_seed(0)
    attn = CausalSelfAttention(8, 2, band, 0.0).eval()
    x = torch.randn(1, T, 8)
    y = x.clone()
    y[0, t_changed] += 1.0
    with torch.no_grad():
        diff = (attn(x, None, None) - attn(y, None, None)).abs().amax(-1)[0]
    return (diff > 1e-6).tolist()


def test_banded_attention_sees_only_the_band() -> None:
    # band 2: position 1 is seen by queries 1 and 2 only; dense: by every later query
    assert attention_reach(2, 1) == [False, True, True, False, False, False]
    assert attention_reach(None, 1) == [False, True, True, True, True, True]
    assert attention_reach(3, 0) == [True, True, True, False, False, False]


def test_model_is_causal() -> None:
    torch.manual_seed(1)
    model = GPT(TINY).eval()
    x = torch.randint(0, 50, (2, 20))
    y = x.clone()
    y[:, 12] = (y[:, 12] + 1) % 50
    with torch.no_grad():
        a, b = model(x), model(y)
    assert torch.equal(a[:, :12], b[:, :12])
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_explicit_mask_and_positions_equal_the_default_path() -> None:
    """forward(idx, pos, mask) with the causal mask and 0..T-1 is the plain causal LM (the ICL
    packing relies on it), and the band is applied by position there too."""
    torch.manual_seed(2)
    model = GPT(TINY).eval()
    x = torch.randint(0, 50, (3, 10))
    pos = torch.arange(10).expand(3, 10)
    with torch.no_grad():
        plain = model(x)
        explicit = model(x, pos=pos, mask=causal_mask(10).expand(3, 10, 10))
        no_band = GPT(GPTConfig(**{**asdict(TINY), "band": 0}))
        no_band.load_state_dict(model.state_dict())
        dense = no_band.eval()(x)
    assert torch.allclose(plain, explicit, atol=1e-5)
    assert not torch.allclose(plain[:, 5:], dense[:, 5:], atol=1e-4)  # the band changes far positions
    assert torch.allclose(plain[:, :3], dense[:, :3], atol=1e-5)  # within the band it cannot


def test_scaled_init_of_residual_projections() -> None:
    torch.manual_seed(3)
    c = GPTConfig(vocab_size=100, n_layer=8, d_model=64, n_head=4, d_ff=256, n_ctx=32, band=8)
    model = GPT(c)
    scaled = 0.02 / math.sqrt(2 * c.n_layer)  # GPT-2 §2.3: 1/sqrt(N), N = 2 n_layer
    proj = torch.cat([torch.cat([b.attn.proj.weight.flatten(), b.mlp.fc2.weight.flatten()]) for b in model.blocks])
    other = torch.cat([b.attn.qkv.weight.flatten() for b in model.blocks] + [model.wte.weight.flatten()])
    assert abs(proj.std().item() - scaled) / scaled < 0.05
    assert abs(other.std().item() - 0.02) / 0.02 < 0.05
    assert all(float(b.attn.qkv.bias.detach().abs().max()) == 0 for b in model.blocks)


def test_pretrain_batch_windows() -> None:
    ids = np.arange(1000, dtype=np.uint16)
    b = make_pretrain_batch(ids, TINY, 5, np.random.default_rng(7))
    x, y = b["x"], b["y"]
    assert x.shape == y.shape == (5, TINY.n_ctx) and x.dtype == torch.long
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)  # contiguous windows
    assert torch.equal(x[:, 1:] - x[:, :-1], torch.ones(5, TINY.n_ctx - 1, dtype=torch.long))
    again = make_pretrain_batch(ids, TINY, 5, np.random.default_rng(7))
    other = make_pretrain_batch(ids, TINY, 5, np.random.default_rng(8))
    assert torch.equal(again["x"], x) and not torch.equal(other["x"], x)
    edge = make_pretrain_batch(np.arange(TINY.n_ctx + 1, dtype=np.uint16), TINY, 2, np.random.default_rng(0))
    assert edge["x"][0].tolist() == list(range(TINY.n_ctx))  # exactly one window fits
    with pytest.raises(SeminalError, match="fewer"):
        make_pretrain_batch(np.arange(TINY.n_ctx, dtype=np.uint16), TINY, 2, np.random.default_rng(0))


def test_loss_stats_and_long_input() -> None:
    torch.manual_seed(4)
    model = build_pretrain(TINY)
    batch = make_pretrain_batch(np.random.default_rng(0).integers(0, 50, 500), TINY, 4, np.random.default_rng(0))
    loss, stats = model.pretrain_loss(batch)
    assert set(stats) == {"lm_loss"} and stats["lm_loss"] == pytest.approx(float(loss.detach()))
    assert abs(stats["lm_loss"] - math.log(50)) < 0.3  # near uniform at initialisation
    with pytest.raises(SeminalError, match="n_ctx"):
        model(torch.zeros(1, TINY.n_ctx + 1, dtype=torch.long))


def train_steps(seed: int, steps: int, batch: dict[str, torch.Tensor] | None = None) -> list[float]:
    torch.manual_seed(seed)
    model = build_pretrain(TINY)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    ids = np.random.default_rng(0).integers(0, 50, 2000)
    losses = []
    for s in range(steps):
        b = batch or make_pretrain_batch(ids, TINY, 4, np.random.default_rng([seed, s]))
        loss, _ = model.pretrain_loss(b)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def test_determinism() -> None:
    assert train_steps(5, 4) == train_steps(5, 4)
    assert train_steps(5, 4) != train_steps(6, 4)


def test_overfits_a_batch() -> None:
    batch = make_pretrain_batch(np.random.default_rng(1).integers(0, 50, 300), TINY, 2, np.random.default_rng(0))
    losses = train_steps(0, 150, batch)
    assert losses[0] > 3.5 and losses[-1] < 0.2


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(5)
    model = GPT(TINY).eval()
    path = tmp_path / "model.pt"
    torch.save({"model": "gpt", "config": asdict(TINY), "state_dict": model.state_dict()}, path)
    ck = torch.load(path, weights_only=True)
    again = GPT(GPTConfig(**ck["config"])).eval()
    again.load_state_dict(ck["state_dict"])
    x = torch.randint(0, 50, (2, 9))
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    assert raw["model"] == "gpt"
    known = {f.name for f in fields(GPTConfig)}
    assert set(raw["model_config"]) <= known - {"vocab_size"}
    assert set(raw["pretrain"]) <= PRETRAIN_FIELDS
    cfg = GPTConfig(**raw["model_config"], vocab_size=600)
    assert cfg.d_ff == 4 * cfg.d_model and 0 < cfg.band < cfg.n_ctx
    p = raw["pretrain"]
    assert tuple(p["betas"]) == (0.9, 0.95) and p["weight_decay"] == 0.1 and p["grad_clip"] == 1.0
    assert p["schedule"] == "cosine" and p["min_lr_ratio"] == 0.1 and p["optimizer"] == "adamw"
    assert 0 < p["warmup_steps"] < p["max_steps"]


def test_three_sizes_span_an_order_of_magnitude() -> None:
    assert [p.stem for p in CONFIGS] == ["gpt_large", "gpt_medium", "gpt_small"]
    n = {p.stem: GPT(GPTConfig(**yaml.safe_load(p.read_text())["model_config"], vocab_size=600)).num_parameters()
         for p in CONFIGS}
    assert n["gpt_small"] < n["gpt_medium"] < n["gpt_large"] and n["gpt_large"] >= 8 * n["gpt_small"]
    ctx = {yaml.safe_load(p.read_text())["model_config"]["n_ctx"] for p in CONFIGS}
    tokens = {yaml.safe_load(p.read_text())["pretrain"]["max_steps"] * yaml.safe_load(p.read_text())["pretrain"]["batch_size"]
              for p in CONFIGS}
    assert len(ctx) == 1 and len(tokens) == 1  # same context and same training tokens for every size
