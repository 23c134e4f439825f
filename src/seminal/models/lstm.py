"""Hochreiter & Schmidhuber (1997), "Long Short-Term Memory", Neural Computation 9(8), 1735-1780.

The 1997 memory cell, run inside the task model of the GLUE paper's BiLSTM baseline (Wang et al.
2019, §5, after Conneau et al. 2017). Read top to bottom: the 1997 cell -> the recurrent encoder
-> config -> model -> builder.

The 1997 cell (§4, "Memory cells and gate units"; blocks of one cell, §4 "Memory cell blocks"):

    y_in(t)  = f(net_in(t)),   net_in(t)  = W_in  [x(t); y_c(t-1)] + b_in      input gate
    y_out(t) = f(net_out(t)),  net_out(t) = W_out [x(t); y_c(t-1)] + b_out     output gate
                               net_c(t)   = W_c   [x(t); y_c(t-1)] + b_c       cell input
    s_c(t) = s_c(t-1) + y_in(t) * g(net_c(t)),  s_c(0) = 0      the constant error carousel (CEC)
    y_c(t) = y_out(t) * h(s_c(t))

f is the logistic sigmoid. There is NO forget gate: the CEC's self-connection is fixed at 1.0
(the forget gate is Gers, Schmidhuber & Cummins 2000). The cell is therefore the modern LSTM
cell with its forget gate held open at 1, which tests/models/test_lstm.py checks against torch's
nn.LSTM. Deviations from the 1997 cell, stated here and where they happen:
- g and h: the paper squashes g to [-2, 2] (4 sigmoid(x) - 2) and h to [-1, 1] (2 sigmoid(x) - 1)
  (the experiments' set-up, §5); we use tanh for both, as the modern cell does.
- Training: the paper truncates the error flow (errors arriving at the net inputs of a memory
  cell and its gates are not propagated further back in time, §4 "Learning", Appendix A.1) and
  updates the weights online;
  we backpropagate through time in full (autograd) with mini-batches and Adam.
- Inputs: the paper's net inputs sum over all units' activations at t-1 (input units included);
  we feed x(t) at step t, as every modern formulation does.
- Initialisation: PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, as for the
  controls, instead of the paper's U(-0.2, 0.2) / U(-0.1, 0.1) and its negative gate biases
  (§4 "internal state drift", the experiments), so that only the cell differs between rows.

Controls, with the same encoder and head (`cell` in the config): 'lstm', the modern cell with a
forget gate (torch nn.LSTM); 'rnn', an Elman network (nn.RNN, tanh); 'gru', nn.GRU (Cho et al.
2014). The paper's own experiments (embedded Reber grammar, long-lag, adding, multiplication,
temporal order) are not this file's concern: see papers/hochreiter1997/README.md.

The task model (GLUE §5; the GLUE-baselines code, nyu-mll/GLUE-baselines src/models.py):
token vectors -> dropout -> a bidirectional recurrent encoder (2 layers of 1500 cells per
direction) -> dropout -> max pooling over time (real positions only) -> for sentence pairs
[u; v; |u - v|; u * v] -> an MLP with a 512-d tanh hidden layer -> logits, or one score for
regression (STS-B, MSE loss in seminal.train).

Padding: ids are right-padded with 0 and a batch is padded to its own longest sentence. Every
cell runs over the padded batch, which is exact because real tokens always come first: the
forward direction reads them left to right, and the backward direction reads each sentence's own
tokens reversed (`reverse_real`), with its padding left at the end. Padded steps only ever
influence later padded steps, and max pooling ignores them, so a sentence's output does not
depend on how far its batch is padded.

The seam for extra input features (ELMo, Peters et al. 2018 §3.3: the ELMo vector is
concatenated to the token vector at the encoder's input): set `extra_dim` in the config and pass
`features`, a module mapping ids (B, T) -> (B, T, extra_dim), to `build` / `LSTMClassifier`.
`RecurrentEncoder` itself takes any (B, T, input_dim) input with its lengths.

Deviations of the task model from the GLUE baseline (sizes: config/models/*.yaml):
- Token vectors are initialised at random, U(-0.1, 0.1) (`embed_init`), and trained, over
  sentencepiece pieces; GLUE used frozen 300-d GloVe (840B) word vectors. (With PyTorch's
  default N(0, 1), SST-2 stayed near chance for 3 epochs; with U(-0.1, 0.1) it reached 0.99 dev
  accuracy in 4 at the sizes of config/models/bilstm.yaml, one seed.)
- One head for every task: GLUE's code used a linear layer for STS-B and the MLP elsewhere.
- Training (seminal.train): a constant learning rate and the best dev epoch kept; GLUE's code
  decays the rate x0.2 when dev stalls and stops after 5 dev checks without improvement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError

PAD_ID = 0  # seminal.tokenize.PAD
CELLS = ("lstm", "lstm1997", "rnn", "gru")
TORCH_CELLS: dict[str, Callable[..., nn.RNNBase]] = {"lstm": nn.LSTM, "rnn": nn.RNN, "gru": nn.GRU}


# ---------------------------------------------------------------------------------------------
# the 1997 cell


class LSTM1997(nn.Module):
    """One layer of 1997 memory cells (§4) for K directions at once; no forget gate.

    Per direction k: w_x[k] (D, 3H), w_h[k] (H, 3H), b[k] (3H), with the columns in the order
    (input gate, output gate, cell input). Three blocks where the modern cell has four.
    """

    def __init__(self, input_dim: int, hidden_dim: int, num_directions: int = 2):
        super().__init__()
        K, D, H = num_directions, input_dim, hidden_dim
        self.hidden_dim = H
        self.w_x = nn.Parameter(torch.empty(K, D, 3 * H))
        self.w_h = nn.Parameter(torch.empty(K, H, 3 * H))
        self.b = nn.Parameter(torch.empty(K, 1, 3 * H))
        bound = 1.0 / math.sqrt(H)  # PyTorch's nn.LSTM initialisation (see the module docstring)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (K, B, T, D), each direction's input in its own reading order -> y_c (K, B, T, H)."""
        K, B, T, D = x.shape
        H = self.hidden_dim
        # the input part of every net input, for all steps at once: one matmul per direction
        net_x = torch.matmul(x.reshape(K, B * T, D), self.w_x) + self.b  # (K, B*T, 3H)
        net_x = net_x.view(K, B, T, 3 * H).permute(2, 0, 1, 3).contiguous()  # (T, K, B, 3H)
        y = x.new_zeros(K, B, H)  # y_c(0)
        s = x.new_zeros(K, B, H)  # s_c(0) = 0
        ys = []
        # Only the recurrent part loops over time. unbind/split, not indexing: their gradients
        # are one stack/cat, where net_x[t] would allocate a zero (T, K, B, 3H) gradient per step.
        for net_x_t in net_x.unbind(0):
            net = torch.baddbmm(net_x_t, y, self.w_h)  # (K, B, 3H)
            net_gates, net_c = net.split([2 * H, H], dim=-1)
            y_in, y_out = torch.sigmoid(net_gates).chunk(2, dim=-1)  # f: input and output gates
            s = s + y_in * torch.tanh(net_c)  # CEC: s_c(t) = s_c(t-1) + y_in g(net_c(t))
            y = y_out * torch.tanh(s)  # y_c(t) = y_out h(s_c(t))
            ys.append(y)
        return torch.stack(ys, dim=2)  # (K, B, T, H)


def reverse_real(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first lengths[b] steps, leaving its padding in place. x (B, T, ...).

    Its own inverse, so it maps the backward direction's outputs back to the input positions."""
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device).expand(B, T)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
    idx = idx.view(B, T, *([1] * (x.dim() - 2))).expand_as(x)
    return torch.gather(x, 1, idx)


# ---------------------------------------------------------------------------------------------
# the encoder: any cell, states at every position


class RecurrentEncoder(nn.Module):
    """A stack of (bi)directional recurrent layers: (B, T, input_dim) + lengths -> (B, T, K*H).

    Layer i, direction k is `layers[i]` (LSTM1997, both directions in one module) or
    `layers[i][k]` (a one-layer, one-direction torch nn.LSTM / nn.RNN / nn.GRU). The backward
    direction reads `reverse_real(x)`; states at padded positions are undefined: mask them.
    (torch's own bidirectional modules would need packed sequences, whose backward pass on CPU
    allocates a zero gradient of the whole packed batch per time step: ~1.5x slower here.)"""

    def __init__(self, cell: str, input_dim: int, hidden_dim: int, num_layers: int,
                 bidirectional: bool):
        super().__init__()
        self.cell = cell
        K = 2 if bidirectional else 1
        self.num_directions, self.output_dim = K, K * hidden_dim
        dims = [input_dim] + [K * hidden_dim] * (num_layers - 1)  # each layer's input width
        if cell == "lstm1997":
            self.layers = nn.ModuleList(LSTM1997(d, hidden_dim, K) for d in dims)
        else:
            self.layers = nn.ModuleList(
                nn.ModuleList(TORCH_CELLS[cell](d, hidden_dim, batch_first=True) for _ in range(K))
                for d in dims)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x (B, T, input_dim), lengths (B,) >= 1 -> states (B, T, K*H)."""
        for layer in self.layers:
            reads = [x, reverse_real(x, lengths)][:self.num_directions]  # each direction's order
            if self.cell == "lstm1997":
                ys = list(layer(torch.stack(reads)))  # K x (B, T, H), one time loop for both
            else:
                ys = [rnn(r)[0] for rnn, r in zip(layer, reads)]  # K x (B, T, H)
            if self.num_directions == 2:
                ys[1] = reverse_real(ys[1], lengths)  # back to the input positions
            x = torch.cat(ys, dim=-1)  # (B, T, K*H)
        return x


# ---------------------------------------------------------------------------------------------
# config, model, builder


@dataclass
class LSTMConfig:
    vocab_size: int = 0  # set from the tokenizer
    num_labels: int = 2  # set from the task; 1 = regression
    pair: bool = False  # set from the task: two sentences, combined as [u; v; |u-v|; u*v]
    cell: str = "lstm"  # lstm | lstm1997 (§4, no forget gate) | rnn | gru
    embed_dim: int = 300  # GLUE §5: 300-d GloVe vectors
    hidden_dim: int = 1500  # GLUE §5: 1500 units per direction
    num_layers: int = 2  # GLUE §5: two layers
    bidirectional: bool = True  # GLUE §5: BiLSTM
    dropout: float = 0.2  # not in the paper; GLUE-baselines code: on token vectors and states
    embed_init: float = 0.1  # not in the paper (GLUE: GloVe vectors): random token vectors U(-a, a)
    mlp_dim: int = 512  # GLUE §5: MLP classifier, 512-d hidden layer (tanh in the code); 0 = linear
    extra_dim: int = 0  # width of extra per-token input features (ELMo); 0 = none

    def __post_init__(self) -> None:
        # ValueError: the config loader (seminal.experiment.make_config) adds the file name
        if self.cell not in CELLS:
            raise ValueError(f"LSTM cell {self.cell!r} is not one of {CELLS}")
        if min(self.embed_dim, self.hidden_dim, self.num_layers) < 1:
            raise ValueError("LSTM embed_dim, hidden_dim and num_layers must be >= 1")
        if min(self.mlp_dim, self.extra_dim) < 0:
            raise ValueError("LSTM mlp_dim and extra_dim must be >= 0")
        if self.embed_init <= 0:
            raise ValueError(f"LSTM embed_init must be > 0, got {self.embed_init}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LSTM dropout must be in [0, 1), got {self.dropout}")


class LSTMClassifier(nn.Module):
    def __init__(self, cfg: LSTMConfig, features: nn.Module | None = None):
        super().__init__()
        if cfg.vocab_size <= 0 or cfg.num_labels <= 0:
            raise SeminalError("the LSTM model needs vocab_size and num_labels (set them from the data)")
        if (features is None) != (cfg.extra_dim == 0):
            has = "no" if features is None else "a"
            raise SeminalError(f"the LSTM model has extra_dim {cfg.extra_dim} but {has} features "
                               "module: pass both or neither")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=PAD_ID)
        nn.init.uniform_(self.embed.weight, -cfg.embed_init, cfg.embed_init)
        with torch.no_grad():
            self.embed.weight[PAD_ID] = 0.0
        self.features = features  # ids (B, T) -> (B, T, extra_dim), e.g. ELMo; None = none
        self.dropout = nn.Dropout(cfg.dropout)
        self.encoder = RecurrentEncoder(cfg.cell, cfg.embed_dim + cfg.extra_dim, cfg.hidden_dim,
                                        cfg.num_layers, cfg.bidirectional)
        n_features = self.encoder.output_dim * (4 if cfg.pair else 1)
        if cfg.mlp_dim:
            self.head: nn.Module = nn.Sequential(nn.Linear(n_features, cfg.mlp_dim), nn.Tanh(),
                                                 nn.Linear(cfg.mlp_dim, cfg.num_labels))
        else:
            self.head = nn.Linear(n_features, cfg.num_labels)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T) right-padded ids -> (B, K*H) sentence vectors, max-pooled over real tokens."""
        lengths = (ids != PAD_ID).sum(dim=1).clamp(min=1)  # an empty sentence reads one pad token
        x = self.embed(ids)  # (B, T, E)
        if self.features is not None:  # the ELMo seam: concatenated to the token vectors
            x = torch.cat([x, self.features(ids)], dim=-1)  # (B, T, E + extra_dim)
        h = self.dropout(self.encoder(self.dropout(x), lengths))  # (B, T, K*H)
        real = torch.arange(ids.size(1), device=ids.device)[None, :] < lengths[:, None]  # (B, T)
        return h.masked_fill(~real[:, :, None], float("-inf")).max(dim=1).values  # (B, K*H)

    def forward(self, s1: torch.Tensor, s2: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, num_labels), or scores (B,) when num_labels == 1 (regression)."""
        if self.cfg.pair:
            if s2 is None:
                raise SeminalError("this LSTM model was built for sentence pairs; pass s2")
            T = max(s1.size(1), s2.size(1))  # one pass of the shared encoder over both sentences
            both = torch.cat([F.pad(s1, (0, T - s1.size(1))), F.pad(s2, (0, T - s2.size(1)))])
            u, v = self.encode(both).chunk(2)  # (B, K*H) each
            z = torch.cat([u, v, (u - v).abs(), u * v], dim=1)  # (B, 4 K*H)
        else:
            z = self.encode(s1)
        logits = self.head(z)
        return logits.squeeze(1) if self.cfg.num_labels == 1 else logits

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def build(cfg: LSTMConfig, task: TaskSpec, features: nn.Module | None = None) -> LSTMClassifier:
    """The registry's builder: the task sets the output size and whether inputs are pairs."""
    return LSTMClassifier(replace(cfg, num_labels=task.num_labels, pair=task.is_pair), features)
