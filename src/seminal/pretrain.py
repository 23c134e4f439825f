"""The pretraining loop for the language models (ELMo's biLM, BERT, GPT): counted in steps.

    train_ids, valid_ids = split_corpus(np.load("data/synglue/encoded/corpus/ids.npy", mmap_mode="r"))
    result = pretrain(model, make_batch, train_ids, valid_ids, cfg, seed=0, ckpt_dir=Path("ckpt"))

A model is an nn.Module with `pretrain_loss(batch) -> (loss, stats)`: `stats` are per-batch means
and include "lm_loss" (mean per-token negative log-likelihood of the language model, in nats;
perplexity = exp). `make_batch(ids, batch_size, rng) -> dict of tensors` comes with each model
(`make_pretrain_batch` in seminal/models/<paper>.py, with the model config bound).

- Data order: the batch of step s is make_batch(train_ids, batch_size, rng(seed, 0, s)), a pure
  function of (seed, step), so resuming needs no data state and ends exactly where an
  uninterrupted run ends (same weights and curves on the same machine and threads).
- Validation: `eval_batches` fixed batches from the held-out ids (rng(seed, 1, i)), scored every
  `eval_every` steps and at the end; perplexity = exp(mean lm_loss).
- Optimizer and schedule: seminal.train's (weight decay on matrices only; warmup, then linear,
  cosine or inverse-sqrt), with the floor `min_lr_ratio` (GPT-3: cosine to 10% of the peak).
- Checkpoints: ckpt_dir/last.pt every `ckpt_every` steps (model, optimizer, torch RNG, step,
  curves, seconds), written atomically, read with torch.load(weights_only=True).
- The result is saved by `save_checkpoint` as {"model", "config", "state_dict", "metrics"}:
  self-contained, so a task model rebuilds the encoder from it (`load_checkpoint`).

Speed and scale (README, "Performance"; `seminal bench` measures it):
- The corpus is a pre-tokenised id array, memory-mapped (np.load(mmap_mode="r")); a batch is
  cut from it with numpy (no per-step tokenising): ~0.1 ms (GPT) to ~8 ms (BERT's pairs and
  masking) per 32 x 128 batch.
- Device: a GPU when torch sees one (under torchrun the process's LOCAL_RANK), else the CPU;
  the model goes back to the CPU at the end, so what is saved does not depend on it. On a GPU,
  TF32 matmuls, and `precision: bf16` autocasts the forward pass to bfloat16; a CPU always
  computes in fp32 (its bf16 matmuls are ~5x slower than fp32 here: machine-notes).
- `compile: true` runs the model through torch.compile (off by default: measured on this CPU
  in the README).
- Data parallel (torchrun, `init_distributed`): every process makes the same global batch of
  step s and trains on its rows (`shard_rows`, or the model's own `pretrain_shard` when its
  loss is a mean over a count that differs between rows, as BERT's masked tokens);
  DistributedDataParallel averages the gradients, so every step is the step of one process on
  the global batch, whatever the number of processes (tests/test_ddp.py). Rank 0 alone
  validates, writes checkpoints and logs; the logged training loss is the mean over processes.
  Dropout draws from each process's own stream (rank 0: the seed's, as one process; rank r > 0
  reseeded from (seed, r, step)): with dropout, runs at different world sizes are equally valid
  but not equal.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from seminal.errors import SeminalError
from seminal.tokenize import EOS
from seminal.train import _load, _save, differs, fingerprint, lr_factor, make_optimizer, seed_everything

MakeBatch = Callable[[np.ndarray, int, np.random.Generator], dict[str, torch.Tensor]]


@dataclass
class PretrainConfig:
    optimizer: str = "adamw"  # adam | adamw (seminal.train.make_optimizer)
    lr: float = 1e-4  # peak learning rate
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.01  # matrices only
    schedule: str = "linear"  # after warmup: constant | linear | cosine | inverse_sqrt
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0  # floor of linear/cosine decay as a fraction of lr (GPT-3: 0.1)
    batch_size: int = 32  # sequences per step
    max_steps: int = 1000
    grad_clip: float | None = 1.0  # max global grad norm; None = off
    eval_every: int = 200  # steps between validation passes (and one at the end)
    eval_batches: int = 8
    ckpt_every: int = 200  # steps between checkpoints (and one at the end)
    log_every: int = 50  # steps between progress lines when stderr is not a terminal
    valid_fraction: float = 0.01  # of the corpus held out (cut at a document break)
    precision: str = "fp32"  # fp32 | bf16: bfloat16 autocast on a GPU (a CPU stays in fp32)
    compile: bool = False  # torch.compile the model (README, "Performance": no gain on this CPU)

    def __post_init__(self) -> None:
        self.betas = tuple(float(b) for b in self.betas)  # type: ignore[assignment]
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision {self.precision!r} is not fp32 or bf16")
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"pretraining optimizer {self.optimizer!r} is not adam or adamw")
        if self.schedule not in ("constant", "linear", "cosine", "inverse_sqrt"):
            raise ValueError(f"schedule {self.schedule!r} is not constant, linear, cosine or inverse_sqrt")
        if min(self.batch_size, self.eval_every, self.eval_batches, self.ckpt_every) < 1 or self.max_steps < 0:
            raise ValueError("batch_size, eval_every, eval_batches and ckpt_every must be >= 1, max_steps >= 0")
        if not 0.0 <= self.min_lr_ratio <= 1.0 or not 0.0 < self.valid_fraction < 0.5:
            raise ValueError("min_lr_ratio must be in [0, 1] and valid_fraction in (0, 0.5)")


@dataclass
class PretrainResult:
    steps: int
    train_curve: list[dict[str, float]] = field(default_factory=list)  # step, loss, lr (every log_every)
    valid_curve: list[dict[str, float]] = field(default_factory=list)  # step + mean stats, ppl
    tokens: int = 0  # non-padding input tokens seen
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        return self.valid_curve[-1] if self.valid_curve else {}


def split_corpus(ids: np.ndarray, valid_fraction: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """(train, valid) views of the flat id stream; valid = the last ~fraction, cut at a document break."""
    cut = int(len(ids) * (1.0 - valid_fraction))
    window = np.asarray(ids[max(0, cut - 100_000):cut])
    breaks = np.flatnonzero((window[:-1] == EOS) & (window[1:] == EOS))
    if len(breaks):
        cut = max(0, cut - 100_000) + int(breaks[-1]) + 2
    if cut <= 0 or cut >= len(ids):
        raise SeminalError(f"corpus of {len(ids)} ids is too small to hold out {valid_fraction:.0%}")
    return ids[:cut], ids[cut:]


def learning_rate(cfg: PretrainConfig, step: int) -> float:
    """seminal.train's schedule; linear and cosine decay to min_lr_ratio * lr instead of 0."""
    f = lr_factor(cfg, step, cfg.max_steps)  # type: ignore[arg-type]  # same fields as TrainConfig
    if step >= cfg.warmup_steps and cfg.schedule in ("linear", "cosine"):
        f = cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * f
    return cfg.lr * f


def _rng(seed: int, stream: int, i: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, i])


def _tokens(batch: dict[str, torch.Tensor]) -> int:
    x = next(iter(batch.values()))
    return int((x != 0).sum())


# ---------------------------------------------------------------------------------------------
# devices and processes


def init_distributed() -> int:
    """Under torchrun (WORLD_SIZE > 1): join the process group, NCCL with one GPU per process
    (cuda:LOCAL_RANK) where CUDA is available, else gloo; returns this process's rank (0 alone)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return distributed()[0]
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    import atexit

    atexit.register(dist.destroy_process_group)
    return dist.get_rank()


def distributed() -> tuple[int, int]:
    """(rank, world size) of the process group; (0, 1) when there is none."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def default_device() -> torch.device:
    """The GPU of this process (LOCAL_RANK under torchrun) when torch sees one, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def shard_rows(batch: dict[str, torch.Tensor], rank: int, world: int) -> dict[str, torch.Tensor]:
    """Process `rank`'s rows of the global batch: rows rank*B/world .. (rank+1)*B/world - 1 of
    every tensor (dimension 0 is the batch)."""
    n = next(iter(batch.values())).size(0) // world
    return {k: v[rank * n:(rank + 1) * n] for k, v in batch.items()}


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return batch if device.type == "cpu" else {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _autocast(cfg: PretrainConfig, device: torch.device) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16" and device.type == "cuda")


class _Loss(nn.Module):
    """What DistributedDataParallel calls: the model's pretraining loss (DDP needs its own forward
    to run, to all-reduce the gradients in the backward pass)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        return self.model.pretrain_loss(batch)


def _mean_over_ranks(values: dict[str, float], world: int, device: torch.device) -> dict[str, float]:
    t = torch.tensor(list(values.values()), dtype=torch.float64, device=device)
    dist.all_reduce(t)  # sum
    return dict(zip(values, (t / world).tolist()))


@torch.no_grad()
def evaluate(model: nn.Module, make_batch: MakeBatch, valid_ids: np.ndarray, cfg: PretrainConfig,
             seed: int) -> dict[str, float]:
    """Mean of each stat over the fixed validation batches; ppl = exp(lm_loss)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    sums: dict[str, float] = {}
    for i in range(cfg.eval_batches):
        with _autocast(cfg, device):
            _, stats = model.pretrain_loss(_to(make_batch(valid_ids, cfg.batch_size, _rng(seed, 1, i)), device))
        for k, v in stats.items():
            sums[k] = sums.get(k, 0.0) + float(v)
    model.train(was_training)
    out = {k: v / cfg.eval_batches for k, v in sums.items()}
    if "lm_loss" in out:
        out["ppl"] = math.exp(min(out["lm_loss"], 50.0))
    return out


def pretrain(model: nn.Module, make_batch: MakeBatch, train_ids: np.ndarray, valid_ids: np.ndarray,
             cfg: PretrainConfig, seed: int, ckpt_dir: Path,
             log: Callable[[dict[str, float], int], None] | None = None,
             device: torch.device | str | None = None) -> PretrainResult:
    """Train for cfg.max_steps steps (resuming from ckpt_dir/last.pt if present), on `device`
    (default: `default_device()`), data-parallel when torch.distributed is initialised."""
    rank, world = distributed()
    if cfg.batch_size % world:
        raise SeminalError(f"pretraining batch_size {cfg.batch_size} does not split evenly over {world} processes")
    device = torch.device(device) if device is not None else default_device()
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # TF32 for the fp32 matmuls (autocast leaves some)
        torch.backends.cudnn.allow_tf32 = True
    model.to(device)
    last_path = Path(ckpt_dir) / "last.pt"
    optimizer = make_optimizer(model, cfg)  # type: ignore[arg-type]  # same fields as TrainConfig
    identity = {"config": {k: v for k, v in asdict(cfg).items() if k not in ("log_every", "compile")},
                "seed": seed, "start": fingerprint(model, train_ids, valid_ids)}  # the model's sizes and init, the corpus
    seed_everything(seed)
    res = PretrainResult(steps=0)
    ck = _load(last_path) if last_path.exists() else None
    if ck is not None and (what := differs(ck["identity"], identity)):
        if rank == 0:  # set aside: the first save replaces it
            print(f"{last_path}: written by a different pretraining run (differs in {what}); starting again",
                  file=sys.stderr, flush=True)
        ck = None
    if ck is not None:
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["torch_rng"])
        res = PretrainResult(**ck["result"])
        if rank == 0:
            print(f"resuming from {last_path} at step {res.steps}", file=sys.stderr, flush=True)
    if rank > 0:  # dropout: a stream of its own (the module docstring)
        torch.manual_seed(int(np.random.SeedSequence([seed, rank, res.steps]).generate_state(1)[0]))
    if cfg.compile:
        model.compile()  # in place: the state_dict keys stay the same
    loss_fn: Callable[[dict[str, torch.Tensor]], tuple[torch.Tensor, dict[str, float]]] = model.pretrain_loss
    shard: Callable[..., dict[str, torch.Tensor]] = getattr(model, "pretrain_shard", shard_rows)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        loss_fn = DistributedDataParallel(_Loss(model), device_ids=[device] if device.type == "cuda" else None,
                                          broadcast_buffers=False)
        if rank == 0:
            print(f"data parallel: {world} processes ({dist.get_backend()}), {cfg.batch_size // world} of the "
                  f"{cfg.batch_size} sequences of a step each", file=sys.stderr, flush=True)
    wall0, cpu0, sec0, cpusec0 = time.perf_counter(), time.process_time(), res.train_seconds, res.cpu_seconds

    def clock() -> None:
        res.train_seconds = sec0 + time.perf_counter() - wall0
        res.cpu_seconds = cpusec0 + time.process_time() - cpu0

    def save_last() -> None:
        clock()
        _save({"identity": identity, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
               "torch_rng": torch.get_rng_state(), "result": asdict(res)}, last_path)

    def validate() -> None:
        stats = evaluate(model, make_batch, valid_ids, cfg, seed)
        res.valid_curve.append({"step": res.steps, **stats})
        print(f"step {res.steps} valid " + " ".join(f"{k} {v:.4f}" for k, v in stats.items()),
              file=sys.stderr, flush=True)
        if log is not None:
            log({f"valid/{k}": v for k, v in stats.items()}, res.steps)

    progress = _Progress(cfg.max_steps, res.steps, cfg.log_every) if rank == 0 else None
    model.train()
    while res.steps < cfg.max_steps:
        batch = make_batch(train_ids, cfg.batch_size, _rng(seed, 0, res.steps))  # the global batch
        n = _tokens(batch)
        if world > 1:
            batch = shard(batch, rank, world)
        lr = learning_rate(cfg, res.steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with _autocast(cfg, device):
            loss, stats = loss_fn(_to(batch, device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        res.steps += 1
        res.tokens += n
        logged = res.steps % max(1, cfg.log_every) == 0 or res.steps == cfg.max_steps  # the last step too
        loss_value = loss.item()
        if world > 1 and logged:  # the global batch's loss: the mean of the processes' shares
            means = _mean_over_ranks({"loss": loss_value} | {k: float(v) for k, v in stats.items()}, world, device)
            loss_value, stats = means.pop("loss"), means
        if progress is not None:
            progress.update(res.steps, loss_value, lr, n)
        if logged:
            res.train_curve.append({"step": res.steps, "loss": loss_value, "lr": lr})
            if log is not None and rank == 0:
                log({"train/loss": loss_value, "train/lr": lr} | {f"train/{k}": float(v) for k, v in stats.items()},
                    res.steps)
        if rank == 0 and (res.steps % cfg.eval_every == 0 or res.steps == cfg.max_steps):
            validate()
        if rank == 0 and (res.steps % cfg.ckpt_every == 0 or res.steps == cfg.max_steps):
            save_last()
    if progress is not None:
        progress.close()
    if rank == 0 and (not res.valid_curve or res.valid_curve[-1]["step"] != res.steps):
        validate()  # max_steps 0
    clock()
    model.eval()
    model.to("cpu")
    return res


# ---------------------------------------------------------------------------------------------
# the self-contained result


def save_checkpoint(path: Path, name: str, config: Any, model: nn.Module, metrics: dict[str, Any]) -> None:
    """{"model": registry name, "config": asdict(config), "state_dict", "metrics"}, atomically."""
    _save({"model": name, "config": asdict(config), "state_dict": model.state_dict(),
           "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}}, Path(path))


def load_checkpoint(path: str | Path, expect_model: str | None = None
                    ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(config dict, state_dict) of a pretrained model; a clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise SeminalError("pretrained checkpoint not found", path)
    ck = _load(path)
    if not isinstance(ck, dict) or "state_dict" not in ck or "config" not in ck:
        raise SeminalError("not a seminal pretrained checkpoint (no config/state_dict)", path)
    if expect_model is not None and ck.get("model") != expect_model:
        raise SeminalError(f"checkpoint holds a {ck.get('model')!r} model, expected {expect_model!r}", path)
    return ck["config"], ck["state_dict"]


class _Progress:
    """A tqdm bar on a terminal; otherwise a line every `every` steps (Snakemake logs)."""

    def __init__(self, total: int, done: int, every: int):
        self.every, self.tokens, self.t0 = max(1, every), 0, time.perf_counter()
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc="pretrain", leave=False)

    def update(self, step: int, loss: float, lr: float, tokens: int) -> bool:
        """Count a step; True on the steps that are logged (every `every`)."""
        self.tokens += tokens
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", refresh=False)
        if step % self.every:
            return False
        if self.bar is None:
            rate = self.tokens / max(1e-9, time.perf_counter() - self.t0)
            print(f"step {step} loss {loss:.4f} lr {lr:.3e} tok/s {rate:,.0f}", file=sys.stderr, flush=True)
        self.tokens, self.t0 = 0, time.perf_counter()
        return True

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
