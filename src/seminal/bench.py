"""`seminal bench`: how fast each model family trains, against a reference implementation.

    seminal bench                                     # every family, 1 thread, a table on stdout
    seminal bench --families gpt bert --threads 2 --steps 10 --out bench.json
    seminal bench --profile gpt                       # + the top ops of torch.profiler, per implementation
    seminal bench --mlflow                            # + the share of a pretraining step spent logging to MLflow
    python -m seminal.bench --device cuda             # bf16 autocast, TF32, SDPA's flash kernels

Per family, at the reference size of shared/reference/machine-notes.md, one training step =
forward, loss, backward, gradient clipping at 1.0 and an AdamW step (seminal.train.make_optimizer,
the same optimizer for ours and the reference, so the ratio compares the models):

    family       ours                                   reference (same sizes)
    bert         BertForPretraining (MLM + NSP)         transformers BertForMaskedLM (sdpa)
    gpt          GPT (alternating dense/banded layers)  transformers GPT2LMHeadModel (sdpa, dense)
    transformer  TransformerClassifier (§3.1 encoder)   torch nn.TransformerEncoder, same embeddings/head
    lstm         LSTMClassifier, the 1997 cell          the same classifier with torch's nn.LSTM cell
    kim_cnn      KimCNN (CNN-rand)                      none

The Transformers are d_model 256, 4 layers, 4 heads, d_ff 1024, batch 32 x 128, vocab 8192; the
BiLSTM 256-d token vectors, 512 cells per direction, batch 32 x 128; Kim's CNN 300-d vectors,
3/4/5 x 100 filters, batch 50 x 64. The `bench` extra (pip install -e .[bench]) installs
transformers; without it the BERT and GPT references are skipped with that reason.

Protocol. Ratios inside one run are what this measures; absolute figures on a shared 2-core
machine move with whatever else runs. Per family: both implementations are built, and each runs
`warmup` steps while its memory high-water mark is taken. Then `steps` rounds: each round
measures the machine's peak (the best of three 2048 x 2048 fp32 matmuls; 8192 x 8192 in the
compute dtype on a GPU), then times one step of each implementation, in alternating order. The
figures are medians over the rounds (one descheduled step does not move them): step time,
tokens/s, and MFU = (model FLOPs of the step / step time) / the same round's peak. Batches are
made before the step (the same batches for both implementations), so the step times the model
and the optimizer only; "data ms" is the time to make one batch, reported apart.
Clock: process CPU time with one thread (the cost measure of this project, immune to waiting
for the CPU), wall time otherwise (--clock overrides).

Model FLOPs, counted analytically (a multiply-add = 2 FLOPs; backward = 2 x forward):
- a Linear of `i` inputs and `o` outputs applied to `n` rows: 6·i·o·n per step;
- attention, per layer and sequence of length T with width d: Q Kᵀ and A V, 2·2·T²·d forward,
  12·T²·d per step; the full T² for causal and banded layers too (nanoGPT's and PaLM's
  convention: MFU counts the model's FLOPs, not what a kernel skips);
- so a Transformer step is 6·N·tokens + 12·L·T·d·tokens, N = the weights used in matmuls
  (embedding lookups are not matmuls; a tied output projection is). Padded positions that a
  model computes are counted (BERT pads to the longest pair); tokens/s counts real tokens only.
- an LSTM layer: 6·(D + H)·G·H per token and direction (G = 4 gates; 3 for the 1997 cell);
- Kim's CNN: 6·E·h·F per window of width h (F filters); the output layers of every model too.
tests/test_bench.py checks these formulas against torch.utils.flop_counter on small models.

Memory: on a CPU the resident-set high-water mark (VmHWM, reset through /proc/self/clear_refs)
during the warm-up steps minus the resident set before the model was built (weights, gradients,
optimizer state, activations, allocator slack), after handing freed heap back with malloc_trim;
on a GPU torch.cuda.max_memory_allocated above what was allocated before.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seminal.errors import SeminalError

Batch = dict[str, torch.Tensor]
FAMILIES = ("bert", "gpt", "transformer", "lstm", "kim_cnn")



@dataclass(frozen=True)
class Size:
    """The reference sizes (shared/reference/machine-notes.md); tests use smaller ones."""

    vocab: int = 8192
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    d_ff: int = 1024
    batch: int = 32
    seq: int = 128
    lstm_embed: int = 256
    lstm_hidden: int = 512
    kim_embed: int = 300
    kim_widths: tuple[int, ...] = (3, 4, 5)
    kim_filters: int = 100
    kim_batch: int = 50
    kim_seq: int = 64


@dataclass
class Impl:
    """One implementation of a family: the model, its loss on a batch, its FLOPs per step."""

    name: str
    model: nn.Module
    loss: Callable[[Batch], torch.Tensor]
    flops: Callable[[Batch], float]  # model FLOPs of one training step on this batch


@dataclass
class Family:
    name: str
    size: str  # in words, for the table
    make_batch: Callable[[np.random.Generator], Batch]
    tokens: Callable[[Batch], int]  # real (non-padding) input tokens
    ours: Callable[[], Impl]
    reference: Callable[[], Impl] | None  # None: the family has no reference
    needs: str | None = None  # a module the reference imports ("transformers")


@dataclass
class Figures:
    """One implementation's medians over the timed rounds."""

    impl: str
    params: int
    step_s: float
    tokens_per_s: float
    mfu: float
    tflop_per_step: float  # 1e12 FLOPs
    peak_mem_mib: float | None
    step_times: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# FLOP formulas (the module docstring)


def linear_flops(i: int, o: int, rows: int) -> float:
    return 6.0 * i * o * rows


def encoder_flops(rows: int, seq: int, d: int, layers: int, d_ff: int) -> float:
    """`rows` = sequences x seq positions computed; per layer: q/k/v/out projections, the FFN and attention."""
    per_token = 6.0 * (4 * d * d + 2 * d * d_ff) + 12.0 * seq * d
    return layers * per_token * rows


def lstm_flops(tokens: int, dims: list[int], hidden: int, gates: int, directions: int) -> float:
    return sum(6.0 * (i + hidden) * gates * hidden * tokens * directions for i in dims)


# ---------------------------------------------------------------------------------------------
# the families


def synthetic_corpus(n: int = 1_000_000, vocab: int = Size.vocab, seed: int = 0) -> np.ndarray:
    """A pretraining id stream in the project's format (seminal.tokenize.encode_corpus): sentences of
    5-40 ids ending in [EOS] (id 3), documents of 2-20 sentences ended by a second [EOS]."""
    from seminal.tokenize import EOS

    rng = np.random.default_rng(seed)
    out, total = [], 0
    while total < n:
        for _ in range(int(rng.integers(2, 21))):
            s = rng.integers(7, vocab, size=int(rng.integers(5, 41))).astype(np.uint16)
            out += [s, np.array([EOS], np.uint16)]
            total += len(s) + 1
        out.append(np.array([EOS], np.uint16))
        total += 1
    return np.concatenate(out)


def _hf_quiet() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()


def bert_family(ids: np.ndarray, z: Size = Size()) -> Family:
    from seminal.models import bert

    V, D, L, FF = z.vocab, z.d_model, z.layers, z.d_ff
    cfg = bert.BertConfig(vocab_size=V, n_layers=L, d_model=D, n_heads=z.heads, d_ff=FF, max_seq_len=z.seq)

    def encoder(batch: Batch) -> float:
        rows, seq = batch["input_ids"].shape
        return encoder_flops(rows * seq, seq, D, L, FF)

    def ours() -> Impl:
        model = bert.BertForPretraining(cfg)

        def flops(batch: Batch) -> float:
            m = int((batch["mlm_labels"] != bert.IGNORE).sum())  # logits at the masked positions only
            rows = batch["input_ids"].size(0)
            return (encoder(batch) + linear_flops(D, D, m) + linear_flops(D, V, m)
                    + linear_flops(D, D, rows) + linear_flops(D, 2, rows))  # MLM head, pooler, NSP

        return Impl("ours", model, lambda b: model.pretrain_loss(b)[0], flops)

    def reference() -> Impl:
        from transformers import BertConfig, BertForMaskedLM

        _hf_quiet()
        hf = BertConfig(vocab_size=V, hidden_size=D, num_hidden_layers=L, num_attention_heads=z.heads,
                        intermediate_size=FF, max_position_embeddings=cfg.max_position, hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1, attn_implementation="sdpa")
        model = BertForMaskedLM(hf)

        def loss(b: Batch) -> torch.Tensor:
            return model(input_ids=b["input_ids"], token_type_ids=b["segment_ids"],
                         attention_mask=(b["input_ids"] != bert.PAD_ID).long(), labels=b["mlm_labels"]).loss

        def flops(batch: Batch) -> float:  # its MLM head runs at every position
            n = batch["input_ids"].numel()
            return encoder(batch) + linear_flops(D, D, n) + linear_flops(D, V, n)

        return Impl("transformers BertForMaskedLM", model, loss, flops)

    return Family("bert", f"d{D} x {L} layers, {z.batch} x <={z.seq}, V {V}",
                  lambda rng: bert.make_pretrain_batch(ids, cfg, z.batch, rng),
                  lambda b: int((b["input_ids"] != bert.PAD_ID).sum()), ours, reference, needs="transformers")


def gpt_family(ids: np.ndarray, z: Size = Size()) -> Family:
    from seminal.models import gpt

    V, D, L, FF, T = z.vocab, z.d_model, z.layers, z.d_ff, z.seq
    cfg = gpt.GPTConfig(vocab_size=V, n_layer=L, d_model=D, n_head=z.heads, d_ff=FF, n_ctx=T, band=T // 8)

    def flops(batch: Batch) -> float:
        n = batch["x"].numel()
        return encoder_flops(n, T, D, L, FF) + linear_flops(D, V, n)  # tied output projection

    def lm_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))

    def ours() -> Impl:
        model = gpt.GPT(cfg)
        return Impl("ours", model, lambda b: model.pretrain_loss(b)[0], flops)

    def reference() -> Impl:
        from transformers import GPT2Config, GPT2LMHeadModel

        _hf_quiet()
        hf = GPT2Config(vocab_size=V, n_positions=T, n_embd=D, n_layer=L, n_head=z.heads, n_inner=FF,
                        activation_function="gelu", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        bos_token_id=2, eos_token_id=3, attn_implementation="sdpa")
        model = GPT2LMHeadModel(hf)
        return Impl("transformers GPT2LMHeadModel", model, lambda b: lm_loss(model(input_ids=b["x"]).logits, b["y"]),
                    flops)

    return Family("gpt", f"d{D} x {L} layers, {z.batch} x {T}, V {V}, band {cfg.band}",
                  lambda rng: gpt.make_pretrain_batch(ids, cfg, z.batch, rng), lambda b: b["x"].numel(), ours, reference,
                  needs="transformers")


class TorchTransformerClassifier(nn.Module):
    """The reference for the Transformer: torch's nn.TransformerEncoder (post-LN, ReLU: §3.1) between
    the same embeddings and mean-pooling head as seminal.models.transformer.TransformerClassifier.
    (Its attention projections have biases; ours, as the paper's, do not: 0.4% of the FLOPs.)"""

    def __init__(self, cfg: Any):
        super().__init__()
        from seminal.models import transformer

        self.embed = transformer.Embeddings(cfg.vocab_size, cfg.d_model, cfg.max_len, cfg.dropout)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.head = nn.Linear(cfg.d_model, cfg.num_labels)

    def forward(self, s1: torch.Tensor) -> torch.Tensor:
        from seminal.models.transformer import PAD_ID, with_specials

        ids = with_specials(s1)  # (B, T)
        real = ids != PAD_ID
        x = self.encoder(self.embed(ids), src_key_padding_mask=~real)  # (B, T, d)
        w = real.unsqueeze(-1).to(x.dtype)
        return self.head((x * w).sum(1) / w.sum(1))


def _classification_batch(rng: np.random.Generator, rows: int, length: int, vocab: int) -> Batch:
    s1 = torch.from_numpy(rng.integers(7, vocab, size=(rows, length)))
    return {"s1": s1, "y": torch.from_numpy(rng.integers(0, 2, size=rows))}


def transformer_family(z: Size = Size()) -> Family:
    from seminal.models import transformer

    V, D, L, FF = z.vocab, z.d_model, z.layers, z.d_ff
    cfg = transformer.TransformerConfig(vocab_size=V, num_labels=2, n_layers=L, d_model=D, n_heads=z.heads, d_ff=FF)

    def flops(batch: Batch) -> float:
        rows, seq = batch["s1"].size(0), batch["s1"].size(1) + 2  # [CLS] ... [SEP]
        return encoder_flops(rows * seq, seq, D, L, FF) + linear_flops(D, 2, rows)

    def impl(name: str, model: nn.Module) -> Impl:
        return Impl(name, model, lambda b: F.cross_entropy(model(b["s1"]), b["y"]), flops)

    return Family("transformer", f"d{D} x {L} layers, {z.batch} x {z.seq}, V {V}",
                  lambda rng: _classification_batch(rng, z.batch, z.seq - 2, V), lambda b: b["s1"].numel() + 2 * z.batch,
                  lambda: impl("ours", transformer.TransformerClassifier(cfg)),
                  lambda: impl("torch nn.TransformerEncoder", TorchTransformerClassifier(cfg)))


def lstm_family(z: Size = Size()) -> Family:
    from seminal.models import lstm

    E, Hd, mlp = z.lstm_embed, z.lstm_hidden, z.lstm_hidden

    def impl(cell: str, name: str) -> Impl:
        cfg = lstm.LSTMConfig(vocab_size=z.vocab, num_labels=2, cell=cell, embed_dim=E, hidden_dim=Hd,
                              num_layers=1, bidirectional=True, mlp_dim=mlp)
        model = lstm.LSTMClassifier(cfg)
        gates = 3 if cell == "lstm1997" else 4

        def flops(batch: Batch) -> float:
            rows = batch["s1"].size(0)
            return (lstm_flops(batch["s1"].numel(), [E], Hd, gates, 2)
                    + linear_flops(2 * Hd, mlp, rows) + linear_flops(mlp, 2, rows))

        return Impl(name, model, lambda b: F.cross_entropy(model(b["s1"]), b["y"]), flops)

    return Family("lstm", f"BiLSTM {E}->{Hd}, {z.batch} x {z.seq}",
                  lambda rng: _classification_batch(rng, z.batch, z.seq, z.vocab), lambda b: b["s1"].numel(),
                  lambda: impl("lstm1997", "ours (1997 cell)"), lambda: impl("lstm", "torch nn.LSTM"))


def kim_family(z: Size = Size()) -> Family:
    from seminal.models import kim_cnn

    cfg = kim_cnn.KimCNNConfig(vocab_size=z.vocab, num_labels=2, embed_dim=z.kim_embed, filter_widths=z.kim_widths,
                               num_filters=z.kim_filters)

    def flops(batch: Batch) -> float:
        rows, seq = batch["s1"].shape
        conv = sum(linear_flops(z.kim_embed * h, z.kim_filters, rows * (seq - h + 1)) for h in z.kim_widths)
        return conv + linear_flops(z.kim_filters * len(z.kim_widths), 2, rows)

    def ours() -> Impl:
        model = kim_cnn.KimCNN(cfg)
        return Impl("ours", model, lambda b: F.cross_entropy(model(b["s1"]), b["y"]), flops)

    widths = "/".join(map(str, z.kim_widths))
    return Family("kim_cnn", f"{z.kim_embed}-d, {widths} x {z.kim_filters}, {z.kim_batch} x {z.kim_seq}",
                  lambda rng: _classification_batch(rng, z.kim_batch, z.kim_seq, z.vocab), lambda b: b["s1"].numel(),
                  ours, None)


def make_family(name: str, ids: np.ndarray, size: Size = Size()) -> Family:
    if name == "bert":
        return bert_family(ids, size)
    if name == "gpt":
        return gpt_family(ids, size)
    if name == "transformer":
        return transformer_family(size)
    if name == "lstm":
        return lstm_family(size)
    if name == "kim_cnn":
        return kim_family(size)
    raise SeminalError(f"unknown bench family {name!r} (one of {', '.join(FAMILIES)})")


# ---------------------------------------------------------------------------------------------
# clocks, peak FLOP/s, memory


@dataclass
class Machine:
    device: torch.device
    clock: Callable[[], float]  # time.process_time or time.perf_counter
    autocast: torch.dtype | None  # bf16 on a GPU

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextlib.contextmanager
    def autocasting(self) -> Iterator[None]:
        if self.autocast is None:
            yield
        else:
            with torch.autocast(self.device.type, dtype=self.autocast):
                yield


def measure_peak(m: Machine, repeats: int = 3) -> float:
    """FLOP/s of the best of `repeats` large square matmuls (2048² fp32 on a CPU; 8192² in the
    compute dtype on a GPU, where 2048² is too small to fill the chip)."""
    n = 2048 if m.device.type == "cpu" else 8192
    dtype = m.autocast or torch.float32
    a = torch.randn(n, n, device=m.device, dtype=dtype)
    b = torch.randn(n, n, device=m.device, dtype=dtype)
    a @ b  # warm
    m.sync()
    best = 0.0
    for _ in range(repeats):
        t = m.clock()
        a @ b
        m.sync()
        best = max(best, 2.0 * n**3 / max(m.clock() - t, 1e-9))
    return best


def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _proc_status_bytes(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak memory of a block of code above the level when it started (see the module docstring)."""

    def __init__(self, m: Machine):
        self.m, self.start, self.peak = m, 0, None

    def __enter__(self) -> Self:
        gc.collect()
        if self.m.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.m.device)
            self.start = torch.cuda.memory_allocated(self.m.device)
            return self
        libc = _libc()
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)  # freed heap back to the OS, so that reused pages count again
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            self.start = _proc_status_bytes("VmRSS") or 0
        except OSError:
            self.start = -1  # no /proc: no figure
        return self

    def __exit__(self, *exc: object) -> None:
        if self.m.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.m.device) - self.start
        elif self.start >= 0:
            hwm = _proc_status_bytes("VmHWM")
            self.peak = None if hwm is None else hwm - self.start


# ---------------------------------------------------------------------------------------------
# timing


def train_step(impl: Impl, optimizer: torch.optim.Optimizer, batch: Batch, m: Machine) -> None:
    """What seminal.pretrain's loop does per step: loss, zero_grad, backward, clip at 1.0, step."""
    with m.autocasting():
        loss = impl.loss(batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(impl.model.parameters(), 1.0)
    optimizer.step()


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    from seminal.pretrain import PretrainConfig
    from seminal.train import make_optimizer

    return make_optimizer(model, PretrainConfig(lr=1e-4))  # type: ignore[arg-type]  # the loop's own


def _to(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@dataclass
class Runner:
    impl: Impl
    optimizer: torch.optim.Optimizer
    peak_mem: float | None = None
    times: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # tokens / s per timed step
    mfus: list[float] = field(default_factory=list)
    flops: list[float] = field(default_factory=list)

    def step(self, batch: Batch, m: Machine) -> float:
        m.sync()
        t = m.clock()
        train_step(self.impl, self.optimizer, batch, m)
        m.sync()
        return m.clock() - t


def run_family(fam: Family, m: Machine, steps: int, warmup: int, seed: int = 0, compile_models: bool = False,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Warm-up (with the memory high-water mark) then `steps` alternating rounds; medians."""
    rng = np.random.default_rng([seed, 7])
    t0 = time.perf_counter()
    batches = [fam.make_batch(rng) for _ in range(warmup + steps)]
    data_ms = 1000 * (time.perf_counter() - t0) / len(batches)
    batches = [_to(b, m.device) for b in batches]
    builders: list[Callable[[], Impl]] = [fam.ours]
    skipped = None
    if fam.reference is None:
        skipped = "no reference implementation for this family"
    elif fam.needs and importlib.util.find_spec(fam.needs) is None:
        skipped = f"reference skipped: {fam.needs} not installed (pip install -e .[bench])"
    else:
        builders.append(fam.reference)
    runners = []
    measure_peak(m)  # the BLAS's first-use buffers, before any memory is measured
    for build in builders:
        with PeakMemory(m) as mem:
            torch.manual_seed(seed)
            impl = build()
            impl.model.to(m.device).train()
            if compile_models:
                impl.model.compile()
            r = Runner(impl, _optimizer(impl.model))
            for b in batches[:warmup]:
                r.step(b, m)
        r.peak_mem = mem.peak
        runners.append(r)
        log(f"  {fam.name}: {impl.name} warmed up")
    peaks = []
    for i, batch in enumerate(batches[warmup:]):
        peak = measure_peak(m)
        peaks.append(peak)
        order = runners if i % 2 == 0 else runners[::-1]
        for r in order:
            dt = r.step(batch, m)
            f = r.impl.flops(batch)
            r.times.append(dt)
            r.flops.append(f)
            r.rates.append(fam.tokens(batch) / dt)
            r.mfus.append(f / dt / peak)
    figures = []
    for r in runners:
        figures.append(Figures(
            impl=r.impl.name, params=sum(p.numel() for p in r.impl.model.parameters()),
            step_s=statistics.median(r.times), tokens_per_s=statistics.median(r.rates), mfu=statistics.median(r.mfus),
            tflop_per_step=statistics.median(r.flops) / 1e12,
            peak_mem_mib=None if r.peak_mem is None else r.peak_mem / 2**20, step_times=[round(t, 4) for t in r.times]))
    out: dict[str, Any] = {"family": fam.name, "size": fam.size, "data_ms_per_batch": data_ms,
                           "peak_flops": statistics.median(peaks), "ours": asdict(figures[0])}
    if len(figures) > 1:
        out["reference"] = asdict(figures[1])
        out["ratio_tokens_per_s"] = figures[0].tokens_per_s / figures[1].tokens_per_s
        # the same ratio per round (both steps ran within seconds of each other), its median
        out["ratio_per_round"] = statistics.median(a / b for a, b in zip(runners[0].rates, runners[1].rates))
    else:
        out["reference_skipped"] = skipped
    for r in runners:
        del r.optimizer, r.impl
    gc.collect()
    return out


# ---------------------------------------------------------------------------------------------
# profile: where the time goes


def profile_family(fam: Family, m: Machine, steps: int = 2, rows: int = 12) -> dict[str, str]:
    """torch.profiler's table of the top ops by self time over `steps` steps, per implementation."""
    from torch.profiler import ProfilerActivity, profile

    rng = np.random.default_rng([0, 8])
    batches = [_to(fam.make_batch(rng), m.device) for _ in range(steps + 1)]
    tables = {}
    builders = [fam.ours] + ([fam.reference] if fam.reference is not None
                             and (not fam.needs or importlib.util.find_spec(fam.needs)) else [])
    for build in builders:
        torch.manual_seed(0)
        impl = build()
        impl.model.to(m.device).train()
        r = Runner(impl, _optimizer(impl.model))
        r.step(batches[0], m)  # warm-up, outside the profile
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if m.device.type == "cuda" else [])
        with profile(activities=activities) as prof:
            for b in batches[1:]:
                r.step(b, m)
        sort = "self_cuda_time_total" if m.device.type == "cuda" else "self_cpu_time_total"
        tables[impl.name] = prof.key_averages().table(sort_by=sort, row_limit=rows)
    return tables


# ---------------------------------------------------------------------------------------------
# MLflow's share of a pretraining step


def mlflow_overhead(m: Machine, steps: int = 60, log_every: int = 1) -> dict[str, float]:
    """Run seminal.pretrain's loop on a small GPT (config/pretrain/gpt_small.yaml's sizes, the
    project's fastest step, so the largest share) logging to a real MLflow run in a temporary
    sqlite store, every `log_every` steps; time spent inside the log calls (and the final flush)
    over the loop's time."""
    import os
    import tempfile

    from seminal import tracking
    from seminal.models import gpt
    from seminal.pretrain import PretrainConfig, pretrain, split_corpus

    cfg = gpt.GPTConfig(vocab_size=600, n_layer=2, d_model=64, n_head=4, d_ff=256, n_ctx=256, band=32)
    pcfg = PretrainConfig(lr=2e-3, batch_size=8, max_steps=steps, eval_every=steps, ckpt_every=steps,
                          log_every=log_every, eval_batches=2)
    train_ids, valid_ids = split_corpus(synthetic_corpus(200_000, vocab=600), 0.05)
    spent = [0.0]
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("MLFLOW_TRACKING_URI")
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        try:
            tags = {k: "bench" for k in tracking.REQUIRED}
            with tracking.child_run("bench", None, "mlflow-overhead", {}, tags) as tracker:
                def log(metrics: dict[str, float], step: int) -> None:
                    t = time.perf_counter()
                    tracker.log_metrics(metrics, step)
                    spent[0] += time.perf_counter() - t

                torch.manual_seed(0)
                model = gpt.GPT(cfg)
                res = pretrain(model, lambda ids, b, rng: gpt.make_pretrain_batch(ids, cfg, b, rng), train_ids,
                               valid_ids, pcfg, seed=0, ckpt_dir=Path(tmp) / "ckpt", log=log)
                t = time.perf_counter()
                tracker.flush()
                spent[0] += time.perf_counter() - t
        finally:
            if old is None:
                os.environ.pop("MLFLOW_TRACKING_URI", None)
            else:
                os.environ["MLFLOW_TRACKING_URI"] = old
    return {"steps": steps, "log_every": log_every, "loop_seconds": res.train_seconds, "logging_seconds": spent[0],
            "percent_of_step_time": 100.0 * spent[0] / res.train_seconds}


# ---------------------------------------------------------------------------------------------
# the table and the entry point


def _fmt_mem(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def format_table(results: list[dict[str, Any]], threads: int, clock: str, device: str) -> str:
    lines = [f"seminal bench: {device}, {threads} thread(s), clock = {clock}; medians over the timed rounds",
             "", "| family | implementation | params | step s | tokens/s | MFU | peak mem MiB | ours/ref tokens/s |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for key in ("ours", "reference"):
            f = r.get(key)
            if f is None:
                continue
            ratio = f"{r['ratio_tokens_per_s']:.2f}x" if key == "ours" and "ratio_tokens_per_s" in r else ""
            lines.append(f"| {r['family']} | {f['impl']} | {f['params'] / 1e6:.2f}M | {f['step_s']:.3f} | "
                         f"{f['tokens_per_s']:,.0f} | {100 * f['mfu']:.0f}% | {_fmt_mem(f['peak_mem_mib'])} | {ratio} |")
    lines.append("")
    for r in results:
        note = f"- {r['family']} ({r['size']}): peak {r['peak_flops'] / 1e9:,.0f} GFLOP/s, " \
               f"{r['ours']['tflop_per_step'] * 1e3:,.1f} GFLOP per step (ours), data {r['data_ms_per_batch']:.1f} ms/batch"
        if "ratio_per_round" in r:
            note += f", per-round ratio {r['ratio_per_round']:.2f}x"
        if r.get("reference_skipped"):
            note += f"; {r['reference_skipped']}"
        lines.append(note)
    return "\n".join(lines)


def bench(families: list[str], steps: int = 6, warmup: int = 2, threads: int = 1, device: str = "cpu",
          clock: str | None = None, out: Path | None = None, profile: list[str] = (), compile_models: bool = False,
          mlflow: bool = False, corpus: Path | None = None, size: Size = Size()) -> dict[str, Any]:
    """Run the benchmark; print the table (and profiles); write JSON to `out` if given."""
    from seminal.io import write_json

    unknown = sorted((set(families) | set(profile)) - set(FAMILIES))
    if unknown:
        raise SeminalError(f"unknown bench family {unknown} (choose from {', '.join(FAMILIES)})")
    if steps < 1 or warmup < 0 or threads < 1:
        raise SeminalError("--steps and --threads must be >= 1, --warmup >= 0")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SeminalError("--device cuda: this torch build sees no GPU (torch.cuda.is_available() is False)")
        torch.backends.cuda.matmul.allow_tf32 = True  # TF32 for the fp32 matmuls autocast leaves
        torch.backends.cudnn.allow_tf32 = True
    torch.set_num_threads(threads)
    clock = clock or ("cpu" if threads == 1 and dev.type == "cpu" else "wall")
    m = Machine(dev, time.process_time if clock == "cpu" else time.perf_counter,
                torch.bfloat16 if dev.type == "cuda" else None)
    ids = np.load(corpus, mmap_mode="r") if corpus else synthetic_corpus(vocab=size.vocab)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = []
    for name in families:
        log(f"bench {name} ...")
        results.append(run_family(make_family(name, ids, size), m, steps, warmup, compile_models=compile_models,
                                  log=log))
    report: dict[str, Any] = {"device": str(dev), "threads": threads, "clock": clock, "steps": steps,
                              "warmup": warmup, "compile": compile_models, "torch": torch.__version__,
                              "dtype": "bf16 autocast" if m.autocast else "fp32", "families": results}
    if results:
        print(format_table(results, threads, clock, str(dev)))
    if profile:
        report["profiles"] = {}
        for name in profile:
            tables = profile_family(make_family(name, ids, size), m)
            report["profiles"][name] = tables
            for impl, table in tables.items():
                print(f"\n### profile: {name}, {impl}\n{table}")
    if mlflow:
        report["mlflow"] = [mlflow_overhead(m, log_every=1), mlflow_overhead(m, steps=100, log_every=50)]
        for r in report["mlflow"]:
            print(f"\nMLflow logging, every {r['log_every']} step(s): {r['logging_seconds'] * 1e3:.1f} ms of "
                  f"{r['loop_seconds']:.2f} s = {r['percent_of_step_time']:.2f}% of the loop")
    if out is not None:
        write_json(out, report)
    return report


if __name__ == "__main__":
    from seminal.cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
