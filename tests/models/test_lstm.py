"""Hochreiter & Schmidhuber (1997) LSTM and the GLUE BiLSTM task model: the 1997 cell's equations,
its equivalence with the modern cell whose forget gate is held open, parameter counts by formula
for every cell, padding invariance, determinism, the ELMo seam, and overfitting one batch."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.models.lstm import (CELLS, LSTM1997, LSTMClassifier, LSTMConfig, RecurrentEncoder, build,
                                 reverse_real)

torch.set_num_threads(1)
TINY = LSTMConfig(vocab_size=50, num_labels=3, embed_dim=6, hidden_dim=5, num_layers=2, mlp_dim=7,
                  dropout=0.0)


def task(kind: str = "single", output: str = "classification", labels: tuple | None = ("a", "b")) -> TaskSpec:
    return TaskSpec("T", kind, output, labels, ("acc",), {})


def ids(*rows: list[int], T: int | None = None) -> torch.Tensor:
    T = T or max(1, max(len(r) for r in rows))
    return torch.tensor([r + [0] * (T - len(r)) for r in rows])


def test_defaults_are_the_glue_baselines() -> None:
    c = LSTMConfig()
    assert (c.cell, c.embed_dim, c.hidden_dim, c.num_layers, c.bidirectional, c.dropout, c.mlp_dim) == (
        "lstm", 300, 1500, 2, True, 0.2, 512)
    with pytest.raises(ValueError, match="cell"):
        LSTMConfig(cell="lstm2000")
    with pytest.raises(SeminalError, match="vocab_size"):
        build(LSTMConfig(), task())


# ---------------------------------------------------------------------------------------------
# the 1997 cell


def test_1997_cell_follows_the_papers_equations() -> None:
    """One cell (H = 1) on a 1-d input, two steps, computed by hand from §4's equations."""
    cell = LSTM1997(input_dim=1, hidden_dim=1, num_directions=1)
    w_x, w_h, b = (0.5, -1.0, 2.0), (0.3, 0.7, -0.4), (0.1, -0.2, 0.05)  # (in, out, c)
    with torch.no_grad():
        cell.w_x.copy_(torch.tensor(w_x).view(1, 1, 3))
        cell.w_h.copy_(torch.tensor(w_h).view(1, 1, 3))
        cell.b.copy_(torch.tensor(b).view(1, 1, 3))
    xs = (0.8, -1.5)
    out = cell(torch.tensor(xs).view(1, 1, 2, 1))  # (K, B, T, D)

    def sig(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    y, s, expected = 0.0, 0.0, []
    for x in xs:
        net_in, net_out, net_c = (w_x[i] * x + w_h[i] * y + b[i] for i in range(3))
        s = s + sig(net_in) * math.tanh(net_c)  # s_c(t) = s_c(t-1) + y_in(t) g(net_c(t))
        y = sig(net_out) * math.tanh(s)  # y_c(t) = y_out(t) h(s_c(t))
        expected.append(y)
    torch.testing.assert_close(out.view(2), torch.tensor(expected), rtol=1e-6, atol=1e-6)


def test_1997_cell_has_no_forget_gate() -> None:
    layer = LSTM1997(input_dim=4, hidden_dim=3, num_directions=2)
    shapes = {n: tuple(p.shape) for n, p in layer.named_parameters()}
    assert shapes == {"w_x": (2, 4, 9), "w_h": (2, 3, 9), "b": (2, 1, 9)}  # 3 blocks: in, out, c
    assert not any("forget" in n for n in shapes)
    # three gate blocks and one bias where torch's cell has four blocks and two biases
    assert sum(p.numel() for p in layer.parameters()) == 2 * 3 * 3 * (4 + 3 + 1)
    assert sum(p.numel() for p in nn.LSTM(4, 3, bidirectional=True).parameters()) == 2 * 4 * 3 * (4 + 3 + 2)


def open_forget_gate(cell97: LSTM1997, k: int, lstm: nn.LSTM, suffix: str) -> None:
    """Copy direction k of a 1997 layer into torch's (i, f, g, o) layout, with a zero-weight forget
    gate whose bias is so large that sigmoid() is exactly 1.0 in float32."""
    i, o, c = cell97.w_x[k].T.chunk(3)
    hi, ho, hc = cell97.w_h[k].T.chunk(3)
    bi, bo, bc = cell97.b[k, 0].chunk(3)
    with torch.no_grad():
        getattr(lstm, f"weight_ih{suffix}").copy_(torch.cat([i, torch.zeros_like(i), c, o]))
        getattr(lstm, f"weight_hh{suffix}").copy_(torch.cat([hi, torch.zeros_like(hi), hc, ho]))
        getattr(lstm, f"bias_ih{suffix}").copy_(torch.cat([bi, torch.full_like(bi, 1e4), bc, bo]))
        getattr(lstm, f"bias_hh{suffix}").zero_()


def test_1997_cell_is_the_modern_cell_with_the_forget_gate_open() -> None:
    """A 2-layer BiLSTM of 1997 cells equals torch's nn.LSTM (packed, its own padding handling)
    whose forget gates are fixed at 1: outputs at every real position and input gradients."""
    torch.manual_seed(0)
    D, H, L = 5, 7, 2
    ours = RecurrentEncoder("lstm1997", D, H, L, bidirectional=True)
    ref = nn.LSTM(D, H, num_layers=L, bidirectional=True, batch_first=True)
    for layer_i, layer in enumerate(ours.layers):
        for k, suffix in enumerate(("", "_reverse")):
            open_forget_gate(layer, k, ref, f"_l{layer_i}{suffix}")
    lengths = torch.tensor([9, 3, 1, 6])
    x = torch.randn(4, 9, D, requires_grad=True)
    real = (torch.arange(9)[None, :] < lengths[:, None])[..., None]  # (B, T, 1)
    y_ours = ours(x, lengths) * real
    (g_ours,) = torch.autograd.grad(y_ours.sum(), x)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    y_ref = nn.utils.rnn.pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=9)[0] * real
    (g_ref,) = torch.autograd.grad(y_ref.sum(), x)
    torch.testing.assert_close(y_ours, y_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g_ours * real, g_ref * real, rtol=1e-5, atol=1e-5)

    # and the whole classifier: the same model with cell 'lstm' and the forget gates held open
    cfg = replace(TINY, pair=True)
    m97 = LSTMClassifier(replace(cfg, cell="lstm1997")).eval()
    m = LSTMClassifier(replace(cfg, cell="lstm")).eval()
    m.load_state_dict({k: v for k, v in m97.state_dict().items() if not k.startswith("encoder.")},
                      strict=False)
    for layer97, pair in zip(m97.encoder.layers, m.encoder.layers):
        for k, lstm in enumerate(pair):
            open_forget_gate(layer97, k, lstm, "_l0")
    s1, s2 = ids([5, 6, 7, 8], [9], [10, 11]), ids([12, 13], [14, 15, 16, 17, 18], [])
    torch.testing.assert_close(m97(s1, s2), m(s1, s2), rtol=1e-5, atol=1e-5)


def test_reverse_real() -> None:
    x = torch.tensor([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8], [9, 0, 0, 0, 0]])
    lengths = torch.tensor([3, 5, 1])
    r = reverse_real(x, lengths)
    assert r.tolist() == [[3, 2, 1, 0, 0], [8, 7, 6, 5, 4], [9, 0, 0, 0, 0]]
    assert torch.equal(reverse_real(r, lengths), x)  # its own inverse
    assert reverse_real(x[..., None].expand(3, 5, 2), lengths)[..., 1].tolist() == r.tolist()


# ---------------------------------------------------------------------------------------------
# the task model, every cell


def rnn_params(cell: str, d_in: int, h: int) -> int:
    """Per layer and direction: gate blocks x (input weights + recurrent weights + biases)."""
    blocks = {"lstm": 4, "gru": 3, "rnn": 1, "lstm1997": 3}[cell]
    biases = 1 if cell == "lstm1997" else 2  # torch keeps b_ih and b_hh
    return blocks * h * (d_in + h + biases)


def expected_params(c: LSTMConfig) -> int:
    K = 2 if c.bidirectional else 1
    d_in = c.embed_dim + c.extra_dim
    encoder = sum(K * rnn_params(c.cell, d_in if i == 0 else K * c.hidden_dim, c.hidden_dim)
                  for i in range(c.num_layers))
    features = K * c.hidden_dim * (4 if c.pair else 1)
    head = (features * c.mlp_dim + c.mlp_dim + c.mlp_dim * c.num_labels + c.num_labels if c.mlp_dim
            else features * c.num_labels + c.num_labels)
    return c.vocab_size * c.embed_dim + encoder + head


@pytest.mark.parametrize("cell", CELLS)
def test_num_parameters(cell: str) -> None:
    for cfg in (replace(TINY, cell=cell), replace(TINY, cell=cell, pair=True),
                replace(TINY, cell=cell, num_layers=1, bidirectional=False, mlp_dim=0, num_labels=1)):
        assert LSTMClassifier(cfg).num_parameters() == expected_params(cfg), cfg
    # the GLUE baseline's size: 2 x 1500 BiLSTM over 300-d vectors, MLP 512, pairs, 3 classes
    glue = LSTMConfig(vocab_size=30000, num_labels=3, pair=True)
    lstm = 2 * 4 * 1500 * (300 + 1500 + 2) + 2 * 4 * 1500 * (3000 + 1500 + 2)
    assert expected_params(glue) == 30000 * 300 + lstm + 12000 * 512 + 512 + 512 * 3 + 3


@pytest.mark.parametrize("cell", CELLS)
def test_shapes(cell: str) -> None:
    torch.manual_seed(0)
    cfg = replace(TINY, cell=cell)
    assert build(cfg, task(labels=("a", "b", "c"))).eval()(ids([5, 6, 7], [8])).shape == (2, 3)
    p = build(cfg, task("pair", labels=("x", "y"))).eval()
    assert p(ids([5, 6, 7], [8]), ids([9], [10, 11, 12, 13, 14, 15])).shape == (2, 2)
    r = build(cfg, task("pair", "regression", None)).eval()
    assert r(ids([5], [6]), ids([7], [8])).shape == (2,)
    with pytest.raises(SeminalError, match="pass s2"):
        p(ids([5]))


@pytest.mark.parametrize("cell", CELLS)
def test_padding_invariance(cell: str) -> None:
    """A sentence's output does not depend on how far its batch is padded or on its batch-mates,
    in both directions and both layers; an empty sentence still gives finite outputs."""
    torch.manual_seed(0)
    m = LSTMClassifier(replace(TINY, cell=cell)).eval()
    rows = [[3, 4, 5, 6, 7, 8], [9, 10], [11], []]
    tight = m(ids(*rows, T=6))
    loose = m(ids(*rows, T=15))
    assert torch.isfinite(tight).all()
    torch.testing.assert_close(tight, loose, rtol=1e-6, atol=1e-6)
    alone = torch.cat([m(ids(r)) for r in rows])
    torch.testing.assert_close(tight, alone, rtol=1e-6, atol=1e-6)
    # the backward direction matters: reversing a sentence changes its output
    assert not torch.allclose(m(ids([3, 4, 5, 6])), m(ids([6, 5, 4, 3])))
    assert m.embed.weight[0].abs().sum() == 0


@pytest.mark.parametrize("cell", CELLS)
def test_same_seed_same_outputs(cell: str) -> None:
    def run(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        m = build(replace(TINY, cell=cell, dropout=0.3), task("pair"))
        opt = torch.optim.Adam(m.parameters(), lr=0.01)
        s1, s2, y = ids([5, 6, 7], [8, 9]), ids([10], [11, 12, 13]), torch.tensor([0, 1])
        for _ in range(3):  # with dropout on
            loss = F.cross_entropy(m(s1, s2), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return m.eval()(s1, s2).detach()

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


def test_features_seam() -> None:
    """Extra per-token features (ELMo) are concatenated to the token vectors at the encoder input."""

    class Features(nn.Module):  # stands in for ELMo: ids (B, T) -> (B, T, 4)
        def __init__(self) -> None:
            super().__init__()
            self.table = nn.Embedding(50, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.table(x)

    cfg = replace(TINY, extra_dim=4)
    with pytest.raises(SeminalError, match="features module"):
        build(cfg, task())
    with pytest.raises(SeminalError, match="features module"):
        build(TINY, task(), features=Features())
    m = build(cfg, task(), features=Features()).eval()
    assert m.num_parameters() == expected_params(replace(cfg, num_labels=2)) + 50 * 4
    out = m(ids([5, 6, 7], [8]))
    with torch.no_grad():
        m.features.table.weight.add_(1.0)
    assert out.shape == (2, 2) and not torch.allclose(out, m(ids([5, 6, 7], [8])))


@pytest.mark.parametrize("cell", CELLS)
def test_overfits_one_batch(cell: str) -> None:
    torch.manual_seed(0)
    m = build(replace(TINY, cell=cell, num_layers=1), task(labels=("a", "b", "c")))
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1, 50, (12, 7), generator=g)
    x[::3, 4:] = 0  # some padded rows
    y = torch.arange(12) % 3
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(80):
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    assert loss.item() < 0.05, cell
    assert torch.equal(m(x).argmax(-1), y)
