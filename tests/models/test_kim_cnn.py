"""Kim (2014) CNN: shapes, parameter count by formula, pooling over real tokens only, the max-norm
constraint, the variants, and overfitting one batch."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.models.kim_cnn import KimCNN, KimCNNConfig, build

torch.set_num_threads(1)
TINY = KimCNNConfig(vocab_size=50, num_labels=3, embed_dim=8, filter_widths=(2, 3, 5), num_filters=4)


def task(kind: str = "single", output: str = "classification", labels: tuple | None = ("a", "b")) -> TaskSpec:
    return TaskSpec("T", kind, output, labels, ("acc",), {})


def ids(*rows: list[int], T: int | None = None) -> torch.Tensor:
    T = T or max(len(r) for r in rows)
    return torch.tensor([r + [0] * (T - len(r)) for r in rows])


def test_defaults_are_the_papers() -> None:
    c = KimCNNConfig()
    assert (c.embed_dim, c.filter_widths, c.num_filters, c.dropout, c.max_norm, c.variant) == (
        300, (3, 4, 5), 100, 0.5, 3.0, "rand")


def expected_params(c: KimCNNConfig) -> int:
    embed = c.vocab_size * c.embed_dim * (2 if c.variant == "multichannel" else 1)
    convs = sum(h * c.embed_dim * c.num_filters + c.num_filters for h in c.filter_widths)
    features = c.num_filters * len(c.filter_widths) * (4 if c.pair else 1)
    return embed + convs + features * c.num_labels + c.num_labels


@pytest.mark.parametrize("pair", [False, True])
def test_num_parameters(pair: bool) -> None:
    cfg = replace(TINY, pair=pair)
    assert KimCNN(cfg).num_parameters() == expected_params(cfg)
    paper = KimCNNConfig(vocab_size=1000, num_labels=2)  # 1000*300 + 100*300*(3+4+5) + 300 + 300*2 + 2
    assert KimCNN(paper).num_parameters() == 300_000 + 360_000 + 300 + 602


def test_shapes() -> None:
    torch.manual_seed(0)
    m = build(TINY, task(labels=("a", "b", "c"))).eval()
    assert m(ids([5, 6, 7], [8])).shape == (2, 3)
    p = build(TINY, task("pair", labels=("x", "y"))).eval()
    assert p(ids([5, 6, 7], [8]), ids([9], [10, 11, 12, 13, 14, 15])).shape == (2, 2)
    r = build(TINY, task("pair", "regression", None)).eval()
    assert r(ids([5], [6]), ids([7], [8])).shape == (2,)
    with pytest.raises(SeminalError, match="pass s2"):
        p(ids([5]))


def test_pooling_ignores_padding() -> None:
    """A sentence's output does not depend on how far its batch is padded, and sentences
    shorter than the widest filter (and empty ones) still give finite outputs."""
    torch.manual_seed(0)
    m = KimCNN(TINY).eval()
    rows = [[3, 4, 5, 6, 7, 8], [9, 10], [11], []]
    tight = m(ids(*rows, T=6))
    loose = m(ids(*rows, T=15))
    assert torch.isfinite(tight).all()
    torch.testing.assert_close(tight, loose, rtol=1e-6, atol=1e-6)
    alone = torch.cat([m(ids(r, T=max(1, len(r)))) for r in rows])
    torch.testing.assert_close(tight, alone, rtol=1e-6, atol=1e-6)
    # padding rows of the embedding stay zero and take no gradient
    assert m.embed.weight[0].abs().sum() == 0


def test_max_norm() -> None:
    m = KimCNN(TINY)
    with torch.no_grad():
        m.out.weight.copy_(torch.randn_like(m.out.weight) * 10)
        m.out.weight[1] = 0.1
    small = m.out.weight[1].clone()
    m.apply_max_norm()
    norms = m.out.weight.norm(dim=1)
    assert torch.all(norms <= 3.0 + 1e-5) and torch.allclose(norms[[0, 2]], torch.tensor(3.0))
    assert torch.equal(m.out.weight[1], small)  # rows inside the ball are untouched


def test_variants_need_vectors(tmp_path: Path) -> None:
    for variant in ("static", "non-static", "multichannel"):
        with pytest.raises(SeminalError, match="needs pretrained vectors"):
            KimCNN(replace(TINY, variant=variant))
    with pytest.raises(ValueError, match="variant"):
        KimCNNConfig(variant="dynamic")
    vec = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", vec)
    np.save(tmp_path / "bad.npy", vec[:, :4])
    with pytest.raises(SeminalError, match="bad.npy: word vectors are float32"):
        KimCNN(replace(TINY, variant="static", vectors=str(tmp_path / "bad.npy")))
    static = KimCNN(replace(TINY, variant="static", vectors=str(tmp_path / "v.npy")))
    assert not static.embed.weight.requires_grad
    assert torch.equal(static.embed.weight[1:], torch.from_numpy(vec[1:]))
    assert static.embed.weight[0].abs().sum() == 0
    assert static.num_parameters(trainable_only=True) == expected_params(TINY) - 50 * 8
    multi = KimCNN(replace(TINY, variant="multichannel", vectors=str(tmp_path / "v.npy")))
    assert multi.embed.weight.requires_grad and not multi.static.weight.requires_grad
    assert multi.num_parameters() == expected_params(replace(TINY, variant="multichannel"))
    assert multi(ids([5, 6, 7])).shape == (1, 3)


def test_needs_sizes_from_data() -> None:
    with pytest.raises(SeminalError, match="vocab_size"):
        build(KimCNNConfig(), task())


def test_overfits_one_batch() -> None:
    torch.manual_seed(0)
    m = build(replace(TINY, dropout=0.0), task(labels=("a", "b", "c")))
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1, 50, (12, 7), generator=g)
    x[::3, 4:] = 0  # some padded rows
    y = torch.arange(12) % 3
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        m.apply_max_norm()
    m.eval()
    assert loss.item() < 0.05
    assert torch.equal(m(x).argmax(-1), y)
