"""The long-time-lag experiments of Hochreiter & Schmidhuber (1997), §5, at small scale.

Claim tested (issue 6, claim 1): LSTM bridges long time lags where a plain recurrent net fails.
Three of the paper's own tasks, each with the paper's success criterion, run with the 1997 cell
(no forget gate), the modern LSTM, a GRU and an Elman RNN (`seminal.models.lstm`, unidirectional,
one layer). Read top to bottom: generators -> grammar -> success criteria -> model -> training ->
one (experiment, cell) job with its files and MLflow runs -> summary and plot.

The tasks (numpy, deterministic from a seed):

- `adding` (§5.4, experiment 4): a sequence of T to T + T/10 pairs (value in [-1, 1], marker).
  One of the first ten pairs and one of the first T/2 - 1 still unmarked pairs carry marker 1.0;
  the first and the last pair carry -1.0, the rest 0.0 (a marked first pair has its value set
  to 0). Target at the sequence end: 0.5 + (X1 + X2) / 4. A sequence is processed correctly if
  the absolute error at its end is below 0.04. Minimal time lag: T/2.
- `reber` (§5.1, experiment 1): the embedded Reber grammar, next-symbol prediction with a local
  (one-hot) code of its 7 symbols. A string is predicted correctly if at every step the outputs
  of the possible next symbols are the most active ones. 256 training and 256 other test strings.
  Here T is a minimal string length (0 = the grammar's own lengths, the paper's task; T > 0
  rejects shorter strings, a longer-lag variant that the paper does not have).
- `temporal_order` (§5.6, experiment 6a): a sequence of length T to T + T/10 (paper: 100-110) of
  the symbols a, b, c, d, starting with E and ending with the trigger B, with X or Y at one
  position in [T/10, 2T/10] and one in [T/2, 6T/10] (paper: 10-20 and 50-60). Four classes by
  the order: XX -> Q, XY -> R, YX -> S, YY -> U. A sequence is classified correctly if the error
  of every output unit at the end is below 0.3.

Trial success (the paper stops training "once the average training error is below 0.01 [0.1 for
temporal order] and the 2000 most recent sequences were processed correctly", then counts wrong
test sequences out of 2560; a Reber trial succeeds when "all string symbols of all sequences in
both test set and training set are predicted correctly"): every `check_every` steps we score a
fixed held-out check set (`n_check` sequences; for Reber the 256 training plus the 256 test
strings, as the paper does); the trial succeeds at the first check where every sequence is
processed correctly, and stops there. `steps` is that step (or the cap); the paper reports
sequences seen (= steps * batch_size). `final_error` is the fraction of `n_test` = 2560 fresh
test sequences (Reber: the 256 test strings) processed wrongly by the same criterion.

Deviations from the paper, and why (papers/hochreiter1997/README.md has the table):
- Training: the paper trains online (one sequence at a time, plain gradient descent, learning
  rate 0.1-1.0) with truncated gradients (RTRL-like, §4 and Appendix A.1). We backpropagate
  through time in full with mini-batches and Adam (the paper's learning rates are for a
  different optimiser and do not transfer), and clip the gradient norm at `clip`.
- The network: input projection -> one recurrent layer of `hidden_dim` units -> linear output.
  The paper's nets are 2-4 memory-cell blocks of 1-2 cells with the output layer fed by the
  cells only; its outputs are logistic units trained on squared error. Ours: a linear output
  with squared error (adding) and softmax outputs with cross-entropy (Reber: the actual next
  symbol is the target; temporal order: the class), scored on the softmax probabilities.
- The cells (seminal.models.lstm): tanh for g and h, PyTorch's initialisation, except for three
  gate biases set after it. `input_gate_bias`: the paper biases the input gates negatively
  against internal state drift (§4; -3 and -6 for the two blocks of experiment 4); we set one
  value for all cells of both LSTMs. `keep_gate_bias`: the modern LSTM's forget gate and the
  GRU's update gate start near 1 (remembering), as later work advises for long lags (5 is
  the top of the "chrono" initialisation, log(T_max - 1) for T_max ~ 150, Tallec & Ollivier
  2018); with PyTorch's initialisation (and, for the LSTM, with +1, Jozefowicz et al. 2015)
  neither learned the adding problem within the step cap (papers/hochreiter1997/ has the numbers).
  The Elman RNN gets no such help (an identity-initialised RNN, Le et al. 2015, is known to
  do better): the claim is about the cells as commonly initialised plus the paper's remedy.
- `fused_1997`: the 1997 cell can run as torch's fused nn.LSTM with its forget gate held open
  (exactly the same function, tested) instead of LSTM1997's Python loop over time, at ~1/5 of
  the CPU time per step; the default run uses it to fit its CPU budget.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seminal.errors import SeminalError
from seminal.io import parse_mapping
from seminal.models.lstm import CELLS, RecurrentEncoder

EXPERIMENTS = ("adding", "reber", "temporal_order")
PLOT_CELLS = ("lstm1997", "lstm", "gru", "rnn")  # the order of summary rows and plot legends
PAPER = "hochreiter1997"
MLFLOW_EXPERIMENT = "longlag"  # the MLflow experiment (and the runs' benchmark tag)

# The paper's success criteria, in words (summary.json "criteria").
CRITERIA = {
    "adding": "a sequence is processed correctly if the absolute error at its end is below 0.04 (§5.4, exp. 4); "
              "trial success: every sequence of the held-out check set correct; final_error: fraction of "
              "2560 test sequences wrong (paper: 1 / 0 / 1 of 2560 at T = 100 / 500 / 1000)",
    "reber": "a string is predicted correctly if at every step the outputs of the possible next symbols are "
             "the most active ones (§5.1, exp. 1); trial success: all 256 training and 256 test strings "
             "correct (paper: 100% of LSTM trials, 0% for Elman nets); final_error: fraction of test strings wrong",
    "temporal_order": "a sequence is classified correctly if every output's absolute error at the end is "
                      "below 0.3 (§5.6, exp. 6a); trial success: every sequence of the held-out check set "
                      "correct; final_error: fraction of 2560 test sequences wrong (paper: 1 of 2560)",
}


# ---------------------------------------------------------------------------------------------
# a batch of sequences


@dataclass
class Batch:
    x: np.ndarray  # (N, L, n_in) float32, zeros after each sequence's end
    lengths: np.ndarray  # (N,) int64, real steps per sequence
    target: np.ndarray  # adding (N,) float32 | temporal_order (N,) int64 class | reber (N, L) int64 next symbol, -1 = pad
    allowed: np.ndarray | None = None  # reber only: (N, L, 7) bool, the grammar's possible next symbols

    def __len__(self) -> int:
        return len(self.lengths)

    def take(self, idx: np.ndarray | slice) -> Batch:
        """The sequences `idx`, cut to the longest of them."""
        lengths = self.lengths[idx]
        L = int(lengths.max())
        return Batch(self.x[idx, :L], lengths, self.target[idx, :L] if self.target.ndim == 2 else self.target[idx],
                     None if self.allowed is None else self.allowed[idx, :L])


# ---------------------------------------------------------------------------------------------
# the adding problem (§5.4, experiment 4)


def adding(rng: np.random.Generator, n: int, T: int) -> Batch:
    """n sequences of T .. T + T//10 pairs (value, marker); target 0.5 + (X1 + X2) / 4.

    X1: one of the first 10 pairs (for T < 20, of the first T//2); X2: one of the first
    T//2 - 1 still unmarked pairs (position 0 included). The first and last pair carry marker -1
    unless marked; a marked first pair (by X1 or X2) has its value set to 0, as in the paper."""
    if T < 4:
        raise SeminalError(f"adding problem needs T >= 4, got {T}")
    lengths = rng.integers(T, T + T // 10 + 1, size=n)
    L = int(lengths.max())
    values = rng.uniform(-1.0, 1.0, size=(n, L))
    first = rng.integers(0, min(10, T // 2), size=n)  # X1's position
    k = rng.integers(0, T // 2 - 1, size=n)  # X2: the k-th of the first T//2 - 1 unmarked pairs
    second = k + (k >= first)
    rows = np.arange(n)
    values[rows[(first == 0) | (second == 0)], 0] = 0.0  # "in the rare case where the first pair ... gets marked, we set X1 to zero"
    markers = np.zeros((n, L))
    markers[:, 0] = -1.0
    markers[rows, lengths - 1] = -1.0
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    real = np.arange(L)[None, :] < lengths[:, None]
    x = np.stack([values * real, markers * real], axis=-1).astype(np.float32)
    target = (0.5 + (values[rows, first] + values[rows, second]) / 4.0).astype(np.float32)
    return Batch(x, lengths.astype(np.int64), target)


# ---------------------------------------------------------------------------------------------
# the embedded Reber grammar (§5.1, experiment 1; Cleeremans et al. 1989, Fahlman 1991)

SYMBOLS = "BTPSXVE"
# The Reber grammar as a finite automaton: state -> {symbol: next state}; state 7 accepts.
REBER = {0: {"B": 1}, 1: {"T": 2, "P": 3}, 2: {"S": 2, "X": 4}, 3: {"T": 3, "V": 5},
         4: {"X": 3, "S": 6}, 5: {"P": 4, "V": 6}, 6: {"E": 7}, 7: {}}
REBER_ACCEPT = 7


def _moves(state: tuple) -> dict[str, tuple]:
    """The embedded grammar B (T|P) <Reber string> (same T|P) E as an automaton over states
    ('start',) ('open',) ('inner', branch, q) ('close',) ('done',)."""
    phase = state[0]
    if phase == "start":
        return {"B": ("open",)}
    if phase == "open":
        return {"T": ("inner", "T", 0), "P": ("inner", "P", 0)}
    if phase == "inner":
        _, branch, q = state
        if q == REBER_ACCEPT:
            return {branch: ("close",)}  # the symbol that needs the long memory
        return {sym: ("inner", branch, nq) for sym, nq in REBER[q].items()}
    if phase == "close":
        return {"E": ("done",)}
    return {}


def successors(string: str) -> list[frozenset[str]] | None:
    """The possible next symbols after each prefix string[:t+1], t = 0 .. len-1; None if
    `string` is not a prefix of an embedded Reber string."""
    state: tuple = ("start",)
    out = []
    for sym in string:
        nxt = _moves(state).get(sym)
        if nxt is None:
            return None
        state = nxt
        out.append(frozenset(_moves(state)))
    return out


def accepts(string: str) -> bool:
    """Whether `string` is an embedded Reber string (ends with the last E, nothing after it)."""
    succ = successors(string)
    return succ is not None and len(string) > 0 and succ[-1] == frozenset()


def embedded_reber(rng: np.random.Generator, min_length: int = 0) -> str:
    """One string; every branch of the automaton taken with equal probability; strings shorter
    than `min_length` are rejected and drawn again."""
    while True:
        state: tuple = ("start",)
        out = []
        while moves := _moves(state):
            syms = sorted(moves)
            sym = syms[int(rng.integers(len(syms)))]
            out.append(sym)
            state = moves[sym]
        if len(out) >= min_length:
            return "".join(out)


def reber_strings(rng: np.random.Generator, n: int, min_length: int = 0,
                  exclude: frozenset[str] = frozenset()) -> list[str]:
    """n strings, none in `exclude` (the paper's test strings are not training strings)."""
    out: list[str] = []
    while len(out) < n:
        s = embedded_reber(rng, min_length)
        if s not in exclude:
            out.append(s)
    return out


def reber_batch(strings: Sequence[str]) -> Batch:
    """Inputs: one-hot symbols s[0 .. n-2]; targets: s[1 .. n-1]; allowed: the possible successors."""
    idx = {s: i for i, s in enumerate(SYMBOLS)}
    lengths = np.array([len(s) - 1 for s in strings], dtype=np.int64)
    N, L, V = len(strings), int(lengths.max()), len(SYMBOLS)
    x = np.zeros((N, L, V), dtype=np.float32)
    target = np.full((N, L), -1, dtype=np.int64)
    allowed = np.zeros((N, L, V), dtype=bool)
    for i, s in enumerate(strings):
        succ = successors(s)
        if succ is None or succ[-1]:
            raise SeminalError(f"not an embedded Reber string: {s!r}")
        for t in range(len(s) - 1):
            x[i, t, idx[s[t]]] = 1.0
            target[i, t] = idx[s[t + 1]]
            allowed[i, t, [idx[c] for c in succ[t]]] = True
    return Batch(x, lengths, target, allowed)


# ---------------------------------------------------------------------------------------------
# temporal order (§5.6, experiment 6a)

ORDER_SYMBOLS = "abcdXYEB"  # E starts a sequence, B (the trigger) ends it
ORDER_CLASSES = ("Q", "R", "S", "U")  # XX, XY, YX, YY


def temporal_order(rng: np.random.Generator, n: int, T: int) -> Batch:
    """n sequences of length T .. T + T//10: E, random a-d, X/Y at t1 in [T/10, 2T/10] and
    t2 in [T/2, 6T/10], B at the end; class = 2 [first is Y] + [second is Y]."""
    if T < 10:
        raise SeminalError(f"temporal order needs T >= 10, got {T}")
    lengths = rng.integers(T, T + T // 10 + 1, size=n)
    L = int(lengths.max())
    sym = rng.integers(0, 4, size=(n, L))  # a, b, c, d
    t1 = rng.integers(T // 10, 2 * T // 10 + 1, size=n)
    t2 = rng.integers(T // 2, 6 * T // 10 + 1, size=n)
    is_y = rng.integers(0, 2, size=(n, 2))
    rows = np.arange(n)
    sym[rows, t1] = 4 + is_y[:, 0]  # X = 4, Y = 5
    sym[rows, t2] = 4 + is_y[:, 1]
    sym[:, 0] = 6  # E
    sym[rows, lengths - 1] = 7  # B, the trigger
    real = np.arange(L)[None, :] < lengths[:, None]
    x = (np.eye(len(ORDER_SYMBOLS), dtype=np.float32)[sym] * real[:, :, None]).astype(np.float32)
    target = (2 * is_y[:, 0] + is_y[:, 1]).astype(np.int64)
    return Batch(x, lengths.astype(np.int64), target)


# ---------------------------------------------------------------------------------------------
# the paper's success criteria, per sequence

ADDING_TOLERANCE = 0.04  # §5.4: "absolute error at the sequence end below 0.04"
ORDER_TOLERANCE = 0.3  # §5.6: "final absolute error of all output units below 0.3"


def adding_correct(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N,) predictions and targets -> (N,) bool."""
    return np.abs(np.asarray(pred) - np.asarray(target)) < ADDING_TOLERANCE


def order_correct(probs: np.ndarray, label: np.ndarray) -> np.ndarray:
    """(N, 4) output activations (here softmax probabilities), (N,) classes -> (N,) bool: every
    unit within 0.3 of its one-hot target."""
    probs = np.asarray(probs)
    onehot = np.eye(probs.shape[1])[np.asarray(label)]
    return (np.abs(probs - onehot) < ORDER_TOLERANCE).all(axis=1)


def reber_correct(scores: np.ndarray, allowed: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, L, 7) outputs, (N, L, 7) possible successors, (N,) lengths -> (N,) bool: at every real
    step, every possible next symbol scores above every impossible one (ties are wrong)."""
    scores, allowed = np.asarray(scores, dtype=np.float64), np.asarray(allowed, dtype=bool)
    lowest_allowed = np.where(allowed, scores, np.inf).min(axis=-1)  # (N, L)
    highest_other = np.where(allowed, -np.inf, scores).max(axis=-1)
    step_ok = lowest_allowed > highest_other
    real = np.arange(scores.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return (step_ok | ~real).all(axis=1)


# ---------------------------------------------------------------------------------------------
# the model: input projection -> one unidirectional recurrent layer -> linear output


OPEN = 1e4  # a forget-gate bias at which sigmoid is 1.0 exactly in float32 (and its gradient 0.0)


class LongLagNet(nn.Module):
    """x (B, L, n_in) -> Linear -> one unidirectional recurrent layer (seminal.models.lstm) -> Linear.

    `fused_1997`: run the 1997 cell as torch's fused nn.LSTM with its forget gate held open (zero
    forget-gate weights, bias OPEN: f = 1 exactly, so no gradient ever reaches those rows) instead of
    LSTM1997's Python loop over time. The two compute the same function (tests/models/test_lstm.py,
    tests/test_longlag.py); the fused one is ~5x cheaper per step on CPU and has one more bias
    vector (torch's b_hh on the three other gates, which only adds to b_ih)."""

    def __init__(self, cell: str, n_in: int, n_out: int, hidden_dim: int, input_gate_bias: float = 0.0,
                 fused_1997: bool = False, keep_gate_bias: float = 0.0):
        super().__init__()
        H = hidden_dim
        self.cell, self.fused_1997 = cell, fused_1997 and cell == "lstm1997"
        self.proj = nn.Linear(n_in, H)
        self.rnn = RecurrentEncoder("lstm" if self.fused_1997 else cell, H, H, num_layers=1, bidirectional=False)
        self.out = nn.Linear(H, n_out)
        with torch.no_grad():
            if self.fused_1997:  # torch's rows: (input, forget, cell, output)
                lstm = self.rnn.layers[0][0]
                for w in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_hh_l0):
                    w[H:2 * H] = 0.0
                lstm.bias_ih_l0[H:2 * H] = OPEN
            if input_gate_bias:  # §4 "internal state drift": negatively biased input gates (LSTM cells only)
                if cell == "lstm1997" and not self.fused_1997:  # columns (input gate, output gate, cell input)
                    self.rnn.layers[0].b[:, :, :H] = input_gate_bias
                elif cell in ("lstm", "lstm1997"):  # torch's two biases are summed
                    self.rnn.layers[0][0].bias_ih_l0[:H] = input_gate_bias
                    self.rnn.layers[0][0].bias_hh_l0[:H] = 0.0
            if keep_gate_bias and cell in ("lstm", "gru"):  # start remembering: torch's rows 2 of 4 (LSTM: forget
                # gate f, c' = f c + ...) or 2 of 3 (GRU: update gate z, h' = (1 - z) n + z h)
                self.rnn.layers[0][0].bias_ih_l0[H:2 * H] = keep_gate_bias
                self.rnn.layers[0][0].bias_hh_l0[H:2 * H] = 0.0

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, every_step: bool) -> torch.Tensor:
        """x (B, L, n_in) -> outputs (B, L, n_out) at every step, or (B, n_out) at each sequence's end."""
        h = self.rnn(self.proj(x), lengths)  # (B, L, H)
        if not every_step:
            h = h[torch.arange(h.size(0)), lengths - 1]  # (B, H): the last real step
        return self.out(h)

    def num_parameters(self) -> int:
        """Trainable weights: the held-open forget gate's rows of the fused 1997 cell not counted."""
        n = sum(p.numel() for p in self.parameters())
        if self.fused_1997:
            lstm = self.rnn.layers[0][0]
            H = lstm.hidden_size
            n -= H * (lstm.input_size + H + 2)
        return n


# ---------------------------------------------------------------------------------------------
# config and training


@dataclass
class LongLagConfig:
    hidden_dim: int = 4  # §5.4 exp. 4 and §5.6 exp. 6a: 2 memory-cell blocks of size 2
    batch_size: int = 1  # §5: online learning, one sequence per update
    lr: float = 1e-3  # Adam's default; the paper's 0.5 (§5.4) is for online plain gradient descent
    clip: float = 1.0  # not in the paper (truncated gradients keep its errors bounded): gradient norm clip
    input_gate_bias: float = 0.0  # §5.4 exp. 4 initialises the input gate biases at -3 and -6; 0 = off
    keep_gate_bias: float = 0.0  # modern LSTM's forget gate, GRU's update gate start at sigmoid(b); 0 = PyTorch's init
    fused_1997: bool = False  # run the 1997 cell as nn.LSTM with the forget gate held open (same function, faster)
    max_steps: int = 100_000  # step cap; the paper trains until its stop criterion holds
    check_every: int = 50  # steps between scorings of the held-out check set
    n_check: int = 2000  # §5.4: "the 2000 most recent sequences were processed correctly"
    n_test: int = 2560  # §5.4, §5.6: 2560 test sequences
    n_reber: int = 256  # §5.1: 256 training and 256 test strings (Fahlman 1991)

    def __post_init__(self) -> None:
        if min(self.hidden_dim, self.batch_size, self.max_steps, self.check_every, self.n_check,
               self.n_test, self.n_reber) < 1:
            raise ValueError("longlag hidden_dim, batch_size, max_steps, check_every, n_check, n_test "
                             "and n_reber must be >= 1")
        if self.lr <= 0 or self.clip <= 0:
            raise ValueError("longlag lr and clip must be > 0")


def _io_sizes(experiment: str) -> tuple[int, int]:
    return {"adding": (2, 1), "reber": (len(SYMBOLS), len(SYMBOLS)),
            "temporal_order": (len(ORDER_SYMBOLS), len(ORDER_CLASSES))}[experiment]


@dataclass
class Data:
    """Where a trial's sequences come from: a fresh training batch per step (or a sample of the
    fixed training strings, Reber), a fixed check set, a fixed test set."""
    train: Callable[[int], Batch]  # step -> batch
    check: Batch
    test: Batch


def make_data(experiment: str, T: int, seed: int, cfg: LongLagConfig) -> Data:
    """Independent, seeded streams: training (seed, 0), check (seed, 1), test (seed, 2)."""
    train_rng, check_rng, test_rng = (np.random.default_rng([seed, i]) for i in range(3))
    if experiment == "reber":
        train_strings = reber_strings(train_rng, cfg.n_reber, T)
        test_strings = reber_strings(test_rng, cfg.n_reber, T, exclude=frozenset(train_strings))
        pick_rng = np.random.default_rng([seed, 3])
        train_set = reber_batch(train_strings)

        def train(step: int) -> Batch:  # "training exemplars are picked randomly from the training set"
            return train_set.take(pick_rng.integers(0, len(train_set), cfg.batch_size))

        return Data(train, reber_batch(train_strings + test_strings), reber_batch(test_strings))
    gen = {"adding": adding, "temporal_order": temporal_order}.get(experiment)
    if gen is None:
        raise SeminalError(f"unknown long-lag experiment {experiment!r} (known: {', '.join(EXPERIMENTS)})")
    return Data(lambda step: gen(train_rng, cfg.batch_size, T), gen(check_rng, cfg.n_check, T),
                gen(test_rng, cfg.n_test, T))


def _tensors(b: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(b.x), torch.from_numpy(b.lengths), torch.from_numpy(b.target)


def loss_fn(experiment: str, model: LongLagNet, b: Batch) -> torch.Tensor:
    x, lengths, target = _tensors(b)
    if experiment == "adding":
        return F.mse_loss(model(x, lengths, every_step=False).squeeze(-1), target)
    if experiment == "temporal_order":
        return F.cross_entropy(model(x, lengths, every_step=False), target)
    out = model(x, lengths, every_step=True)  # reber: predict the next symbol at every step
    return F.cross_entropy(out.flatten(0, 1), target.flatten(), ignore_index=-1)


@torch.no_grad()
def correct(experiment: str, model: LongLagNet, b: Batch, chunk: int = 1024) -> np.ndarray:
    """(N,) bool: which sequences the model processes correctly by the paper's criterion."""
    out = []
    for i in range(0, len(b), chunk):
        part = b.take(slice(i, i + chunk))  # a chunk runs only as long as its own longest sequence
        x, lengths, _ = _tensors(part)
        if experiment == "adding":
            out.append(adding_correct(model(x, lengths, every_step=False).squeeze(-1).numpy(), part.target))
        elif experiment == "temporal_order":
            out.append(order_correct(model(x, lengths, every_step=False).softmax(-1).numpy(), part.target))
        else:
            out.append(reber_correct(model(x, lengths, every_step=True).numpy(), part.allowed, part.lengths))
    return np.concatenate(out)


@dataclass
class TrialResult:
    success: bool
    steps: int  # the step of the successful check, else the steps run (the cap)
    sequences: int  # steps * batch_size: the paper's "sequences seen"
    final_error: float  # fraction of test sequences processed wrongly
    test_wrong: int
    n_test: int
    params: int
    curve: list[dict[str, float]]  # per check: step, mean training loss since the last check, check-set wrong


def train_trial(experiment: str, cell: str, T: int, seed: int, cfg: LongLagConfig,
                log: Callable[[dict[str, float], int], None] | None = None) -> TrialResult:
    """One trial: train until every check-set sequence is right (success) or `max_steps`."""
    if experiment not in EXPERIMENTS:
        raise SeminalError(f"unknown long-lag experiment {experiment!r} (known: {', '.join(EXPERIMENTS)})")
    if cell not in CELLS:
        raise SeminalError(f"unknown cell {cell!r} (known: {', '.join(CELLS)})")
    data = make_data(experiment, T, seed, cfg)
    torch.manual_seed(seed)
    n_in, n_out = _io_sizes(experiment)
    model = LongLagNet(cell, n_in, n_out, cfg.hidden_dim, cfg.input_gate_bias, cfg.fused_1997,
                       cfg.keep_gate_bias)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    curve: list[dict[str, float]] = []
    losses: list[float] = []
    success, step = False, 0
    while step < cfg.max_steps and not success:
        step += 1
        model.train()
        loss = loss_fn(experiment, model, data.train(step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        losses.append(loss.item())
        if log is not None:
            log({"train_loss": losses[-1]}, step)
        if step % cfg.check_every == 0 or step == cfg.max_steps:
            model.eval()
            wrong = int((~correct(experiment, model, data.check)).sum())
            success = wrong == 0
            point = {"step": step, "train_loss": float(np.mean(losses)), "check_wrong": wrong}
            curve.append(point)
            losses = []
            if log is not None:
                log({"check_wrong": wrong, "check_error": wrong / len(data.check)}, step)
    model.eval()
    test_wrong = int((~correct(experiment, model, data.test)).sum())
    return TrialResult(success=success, steps=step, sequences=step * cfg.batch_size,
                       final_error=test_wrong / len(data.test), test_wrong=test_wrong, n_test=len(data.test),
                       params=model.num_parameters(), curve=curve)


# ---------------------------------------------------------------------------------------------
# one pipeline job: an (experiment, cell) over its T values and seeds, files + MLflow runs


def run_dir(out: str | Path, T: int, seed: int) -> Path:
    return Path(out) / f"T{T}" / f"seed{seed}"


def data_hash(experiment: str, T: int, seed: int, cfg: LongLagConfig) -> str:
    """The data are generated, not stored: their 'hash' names the generator and its inputs."""
    spec = {"experiment": experiment, "T": T, "seed": seed, "batch_size": cfg.batch_size, "n_check": cfg.n_check,
            "n_test": cfg.n_test, "n_reber": cfg.n_reber}
    return "generated:" + hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


class _Progress:
    """A tqdm bar on a terminal; otherwise one line per check-set scoring (log files)."""

    def __init__(self, name: str, total: int):
        self.name, self.bar = name, None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=name, leave=False)

    def __call__(self, metrics: dict[str, float], step: int) -> None:
        if self.bar is not None and "train_loss" in metrics:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{metrics['train_loss']:.4f}", refresh=False)
        elif self.bar is None and "check_wrong" in metrics:
            print(f"{self.name} step {step}: {int(metrics['check_wrong'])} check sequences wrong", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(experiment: str, cell: str, Ts: Sequence[int], seeds: Sequence[int], cfg: LongLagConfig,
        out: str | Path, threads: int = 1) -> list[dict[str, Any]]:
    """Every (T, seed) trial of one (experiment, cell); each an MLflow child run of one parent.
    Writes out/T<T>/seed<s>/{metrics.json (deterministic), cost.json (timings)}."""
    from seminal import provenance, tracking
    from seminal.io import write_json

    torch.set_num_threads(threads)
    commit = provenance.git_commit(Path.cwd())
    model_name = f"longlag/{experiment}/{cell}"
    parent = tracking.start_parent(MLFLOW_EXPERIMENT, model_name, params={"config": dataclasses.asdict(cfg)},
                                   tags={"paper": PAPER, "experiment": experiment, "cell": cell})
    records = []
    for T in Ts:
        for seed in seeds:
            dh = data_hash(experiment, T, seed, cfg)
            tags = {"benchmark": MLFLOW_EXPERIMENT, "model": cell, "task": f"{experiment}.T{T}", "seed": str(seed),
                    "git_commit": commit, "data_hash": dh, "paper": PAPER, "experiment": experiment}
            params = {"experiment": experiment, "cell": cell, "T": T, "seed": seed, "config": dataclasses.asdict(cfg)}
            name = f"{experiment}/{cell}/T{T}/seed{seed}"
            with tracking.child_run(MLFLOW_EXPERIMENT, parent, name, params, tags) as tr:
                progress = _Progress(f"longlag {name}", cfg.max_steps)

                def log(metrics: dict[str, float], step: int, tr: Any = tr, progress: _Progress = progress) -> None:
                    tr.log_metrics(metrics, step)
                    progress(metrics, step)

                t0, c0 = time.perf_counter(), time.process_time()
                res = train_trial(experiment, cell, T, seed, cfg, log=log)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                progress.close()
                record = {"experiment": experiment, "cell": cell, "T": T, "seed": seed, "paper": PAPER,
                          "criterion": CRITERIA[experiment], "config": dataclasses.asdict(cfg),
                          **dataclasses.asdict(res), "data_hash": dh, "git_commit": commit}
                d = run_dir(out, T, seed)
                write_json(d / "cost.json", {"train_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                                             "threads": threads})
                write_json(d / "metrics.json", record)  # no timings: the same bytes for the same config and seed
                tr.log_metrics({"success": float(res.success), "steps_to_stop": res.steps, "sequences": res.sequences,
                                "final_error": res.final_error, "test_wrong": res.test_wrong, "params": res.params,
                                "cpu_seconds": cpu, "train_seconds": wall}, res.steps)
                tr.log_artifact(d / "metrics.json")
            verdict = f"success after {res.steps} steps" if res.success else f"no success in {res.steps} steps"
            print(f"longlag {experiment} T={T} {cell} seed {seed}: {verdict}, test wrong "
                  f"{res.test_wrong}/{res.n_test}; {cpu:.1f} s CPU", file=sys.stderr, flush=True)
            records.append(record)
    return records


# ---------------------------------------------------------------------------------------------
# summary.json and the plot (success rate against T, one line per cell, one panel per experiment)


def summarize(jobs: Sequence[str | Path]) -> dict[str, Any]:
    """Read <job>/T<T>/seed<s>/{metrics,cost}.json of every job folder (<experiment>/<cell>) into
    the summary record of the team contract: {"criteria": {...}, "runs": [...]}."""
    from seminal.io import read_json

    rows = []
    for job in jobs:
        paths = sorted(Path(job).glob("T*/seed*/metrics.json"))
        if not paths:
            raise SeminalError("no long-lag runs in this folder (T*/seed*/metrics.json)", job)
        for path in paths:
            m = read_json(path)
            cost = read_json(path.with_name("cost.json"))
            rows.append({"experiment": m["experiment"], "T": int(m["T"]), "cell": m["cell"], "seed": int(m["seed"]),
                         "success": bool(m["success"]), "final_error": float(m["final_error"]),
                         "steps": int(m["steps"]), "cpu_seconds": float(cost["cpu_seconds"])})
    if not rows:
        raise SeminalError("no long-lag job folders given")
    rows.sort(key=lambda r: (EXPERIMENTS.index(r["experiment"]), r["T"], PLOT_CELLS.index(r["cell"]), r["seed"]))
    return {"criteria": {e: CRITERIA[e] for e in EXPERIMENTS if any(r["experiment"] == e for r in rows)},
            "runs": rows}


def success_rates(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, int], tuple[int, int]]:
    """(experiment, cell, T) -> (successful trials, trials)."""
    out: dict[tuple[str, str, int], tuple[int, int]] = {}
    for r in rows:
        k, n = out.get((r["experiment"], r["cell"], r["T"]), (0, 0))
        out[(r["experiment"], r["cell"], r["T"])] = (k + int(r["success"]), n + 1)
    return out


def plot(summary: dict[str, Any], path: str | Path) -> None:
    """Success rate against T, one line per cell (dodged sideways so equal rates stay visible, each
    point labelled successes/trials), one panel per experiment."""
    from matplotlib.figure import Figure

    from seminal.io import atomic_path

    rates = success_rates(summary["runs"])
    experiments = [e for e in EXPERIMENTS if any(k[0] == e for k in rates)]
    fig = Figure(figsize=(4.2 * len(experiments), 3.6), layout="constrained")
    axes = fig.subplots(1, len(experiments), squeeze=False)[0]
    for ax, exp in zip(axes, experiments):
        Ts = sorted({k[2] for k in rates if k[0] == exp})
        cells = [c for c in PLOT_CELLS if any(k[:2] == (exp, c) for k in rates)]
        for j, cell in enumerate(cells):
            dx = 0.08 * (j - (len(cells) - 1) / 2)
            pts = [(i + dx, *rates[(exp, cell, T)]) for i, T in enumerate(Ts) if (exp, cell, T) in rates]
            ax.plot([p[0] for p in pts], [p[1] / p[2] for p in pts], marker="osD^"[j % 4], label=cell)
            for x, k, n in pts:
                ax.annotate(f"{k}/{n}", (x, k / n), textcoords="offset points", xytext=(0, 6), ha="center",
                            fontsize="x-small")
        ax.set_xticks(range(len(Ts)), [str(T) if T else "paper" for T in Ts])
        ax.set_xlim(-0.5, len(Ts) - 0.5)
        xlabel = "minimal string length" if exp == "reber" else "T (sequence length)"
        ax.set(title=exp, xlabel=xlabel, ylabel="success rate (trials)", ylim=(-0.08, 1.15))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small", loc="center left")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", pad_inches=0.1, metadata={"Software": None})


def write_summary(jobs: Sequence[str | Path], out: str | Path, plot_path: str | Path) -> dict[str, Any]:
    from seminal.io import write_json

    summary = summarize(jobs)
    write_json(out, summary)
    plot(summary, plot_path)
    return summary


def load_config(text: str | None) -> LongLagConfig:
    """A YAML/JSON mapping of LongLagConfig fields (the rule passes config.yaml's values) -> config."""
    raw = parse_mapping(text, "longlag config (LongLagConfig fields)")
    fields = {f.name for f in dataclasses.fields(LongLagConfig)}
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise SeminalError(f"longlag config: unknown field(s) {unknown} (known: {', '.join(sorted(fields))})")
    try:
        return LongLagConfig(**raw)
    except (TypeError, ValueError) as e:
        raise SeminalError(f"longlag config: {e}") from e
