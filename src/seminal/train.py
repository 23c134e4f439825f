"""The shared trainer for every torch model: one loop, early stopping on dev, exact resume.

    result = fit(model, task, train, dev, cfg, seed, ckpt_dir, dev_score=score)   # best weights loaded
    preds = predict(model, task, test, cfg.batch_size, max_len=cfg.max_len)

A model is any nn.Module with `forward(s1, s2=None) -> logits (B, C)` or scores (B,) for
regression, taking right-padded LongTensor ids (pad = 0); if it has `apply_max_norm()` (Kim 2014
§2.1) the trainer calls it after every optimizer step.

- Loss: cross-entropy (classification; optionally label-smoothed, Szegedy et al. 2016, as in
  Vaswani et al. 2017 §5.4), mean squared error (regression).
- Batches: each epoch's order is a permutation drawn from (seed, epoch); it is cut into chunks
  of `bucket_size` batches, each chunk sorted by length (stable) and cut into batches, and the
  batches shuffled; a batch is padded to its own longest sentence (dynamic padding). Models
  must therefore not depend on the amount of padding (Kim CNN pools over real positions only).
- Learning rate: `lr * factor(step)`, a pure function of the global step (nanoGPT's get_lr):
  linear warmup for `warmup_steps`, then constant | linear decay to 0 | inverse_sqrt | cosine
  to 0 at the last step. Being a function of the step, it needs no scheduler state.
- Early stopping: after each epoch the dev split is predicted and scored by `dev_score`
  (default: the mean of the task's metrics); training stops after `patience` epochs without a
  strict improvement, and the best epoch's weights are restored at the end.
- Checkpoints: ckpt_dir/last.pt after every epoch (and every `ckpt_every` steps) holds the
  model, optimizer, RNG states (python, numpy, torch), epoch, step, the epoch's batch order and
  the next batch index, the best weights so far and the history; ckpt_dir/best.pt holds the best
  weights. Both are written atomically and read with `torch.load(weights_only=True)`. Calling
  `fit` again with the same arguments resumes from last.pt and ends exactly where an
  uninterrupted run ends (same weights, history and predictions on the same machine/threads);
  on a finished run it only loads the best weights. A checkpoint of another run (its config,
  seed, or `fingerprint`: the starting weights, e.g. other pretrained vectors, and the data)
  is set aside with a line on stderr and the run starts again: Snakemake reruns a job because
  an input changed, and resuming would hand back the old run's numbers.
- Threads: never set here unless `num_threads` is passed; the caller decides (profiles/CLI).
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.io import atomic_path
from seminal.tokenize import PAD, EncodedSplit

OPTIMIZERS = ("adadelta", "adam", "adamw", "sgd")
SCHEDULES = ("constant", "linear", "inverse_sqrt", "cosine")
RESUMABLE_CHANGES = ("max_epochs", "patience", "log_every", "ckpt_every")  # may differ on resume


@dataclass
class TrainConfig:
    optimizer: str = "adam"  # adadelta | adam | adamw | sgd
    lr: float = 1e-3  # peak learning rate
    betas: tuple[float, float] = (0.9, 0.999)  # adam, adamw
    eps: float = 1e-8  # adadelta, adam, adamw
    weight_decay: float = 0.0  # on weights of dim >= 2 only (nanoGPT), never on biases/norms
    rho: float = 0.9  # adadelta
    momentum: float = 0.0  # sgd
    schedule: str = "constant"  # constant | linear | inverse_sqrt | cosine (after warmup)
    warmup_steps: int = 0
    batch_size: int = 32
    max_epochs: int = 10
    patience: int | None = None  # epochs without dev improvement before stopping; None = never
    grad_clip: float | None = None  # max global grad norm; None = off
    max_len: int | None = None  # truncate each sentence to this many tokens; None = off
    bucket_size: int = 100  # batches per length-sorted chunk
    ckpt_every: int = 0  # also write last.pt every N steps inside an epoch; 0 = per epoch only
    log_every: int = 100  # steps between progress lines when stderr is not a terminal
    label_smoothing: float = 0.0  # classification only: cross-entropy against (1-e)*one-hot + e/C

    def __post_init__(self) -> None:
        # ValueError: the config loader (seminal.experiment.make_config) adds the file name
        self.betas = tuple(float(b) for b in self.betas)  # type: ignore[assignment]
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} is not one of {OPTIMIZERS}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule {self.schedule!r} is not one of {SCHEDULES}")
        if self.batch_size < 1 or self.max_epochs < 0 or self.bucket_size < 1:
            raise ValueError("batch_size and bucket_size must be >= 1, max_epochs >= 0")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


@dataclass
class FitResult:
    history: list[dict[str, float]]  # one entry per epoch: epoch, step, train_loss, dev_score
    best_epoch: int  # 1-based; 0 if no epoch ran
    best_score: float
    steps: int
    stopped_early: bool
    train_seconds: float  # wall time, summed over resumed sessions
    cpu_seconds: float  # process CPU time (all threads), summed over resumed sessions
    tokens: int = 0  # training tokens seen (non-pad, after max_len), all epochs: the D of `train_flops`


# ---------------------------------------------------------------------------------------------
# seeds and RNG state (stored as tensors and lists so torch.load(weights_only=True) reads them)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    version, mt, gauss = random.getstate()
    _, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": [version, torch.tensor(mt, dtype=torch.int64), gauss],
            "numpy": [torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
            "torch": torch.get_rng_state()}


def _set_rng_state(state: dict[str, Any]) -> None:
    version, mt, gauss = state["python"]
    random.setstate((version, tuple(int(x) for x in mt.tolist()), gauss))
    keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])


# ---------------------------------------------------------------------------------------------
# batches


def epoch_batches(lengths: np.ndarray, batch_size: int, bucket_size: int, seed: int,
                  epoch: int) -> list[np.ndarray]:
    """The batches (arrays of example indices) of one epoch: shuffled, length-bucketed."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    chunk = batch_size * bucket_size
    batches = []
    for start in range(0, len(order), chunk):
        idx = order[start:start + chunk]
        idx = idx[np.argsort(lengths[idx], kind="stable")]
        batches += [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _pad(split: EncodedSplit, idx: np.ndarray, which: int, max_len: int | None) -> torch.Tensor:
    rows = [split.sentence(int(i), which)[:max_len] for i in idx]
    out = np.full((len(rows), max(1, max(len(r) for r in rows))), PAD, dtype=np.int64)  # (B, T)
    for j, r in enumerate(rows):
        out[j, :len(r)] = r
    return torch.from_numpy(out)


def collate(split: EncodedSplit, idx: np.ndarray, max_len: int | None = None
            ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """(s1 (B, T1), s2 (B, T2) or None, labels (B,) or None), each padded to its own longest."""
    s1 = _pad(split, idx, 1, max_len)
    s2 = _pad(split, idx, 2, max_len) if split.is_pair else None
    y = torch.from_numpy(np.asarray(split.labels[idx])) if split.labels is not None else None
    return s1, s2, y


def _lengths(split: EncodedSplit, max_len: int | None) -> np.ndarray:
    """Tokens per example after truncation (both sentences for pairs): the bucketing key."""
    n = np.minimum(split.lengths(1), max_len or np.iinfo(np.int64).max)
    if split.is_pair:
        n = n + np.minimum(split.lengths(2), max_len or np.iinfo(np.int64).max)
    return n


# ---------------------------------------------------------------------------------------------
# optimizer and learning-rate schedule


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    if cfg.optimizer == "adadelta":
        return torch.optim.Adadelta(groups, lr=cfg.lr, rho=cfg.rho, eps=cfg.eps)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)


def lr_factor(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Multiplier of cfg.lr for the optimizer step number `step` (0-based)."""
    w = cfg.warmup_steps
    if step < w:
        return (step + 1) / w
    if cfg.schedule == "constant":
        return 1.0
    if cfg.schedule == "inverse_sqrt":
        return math.sqrt(max(w, 1) / (step + 1))
    progress = min(1.0, (step - w) / max(1, total_steps - w))
    if cfg.schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))  # cosine


# ---------------------------------------------------------------------------------------------
# predict, loss, checkpoints


@torch.no_grad()
def predict(model: nn.Module, task: TaskSpec, split: EncodedSplit, batch_size: int,
            max_len: int | None = None) -> np.ndarray:
    """Class ids (int64) or scores (float32), in the split's order. Pass the max_len trained with."""
    model.eval()
    order = np.argsort(_lengths(split, max_len), kind="stable")  # similar lengths share a batch
    out = np.zeros(len(split), dtype=np.float32 if task.is_regression else np.int64)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        s1, s2, _ = collate(split, idx, max_len)
        logits = model(s1, s2)
        out[idx] = (logits if task.is_regression else logits.argmax(dim=-1)).numpy()
    return out


def _loss(task: TaskSpec, logits: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0
          ) -> torch.Tensor:
    if task.is_regression:
        return F.mse_loss(logits, y.float())
    return F.cross_entropy(logits, y.long(), label_smoothing=label_smoothing)


def _default_dev_score(task: TaskSpec, dev: EncodedSplit) -> Callable[[np.ndarray], float]:
    from seminal.metrics import METRICS, task_score

    if dev.labels is None:
        raise SeminalError("the dev split has no labels to score", dev.path)
    y = np.asarray(dev.labels)
    return lambda p: task_score({m: METRICS[m](y, p) for m in task.metrics})


def _save(obj: dict[str, Any], path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _load(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, weights_only=True)
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file: one line naming it
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise SeminalError(f"cannot read checkpoint ({type(e).__name__}: {first})", path) from e


def fingerprint(model: nn.Module, *arrays: np.ndarray | None) -> str:
    """sha256 of the model's starting weights and buffers and of the data arrays: what a run
    starts from beyond its config (pretrained vectors or encoder, sizes, the examples)."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    for a in arrays:
        if a is not None:
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def differs(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What a checkpoint's run identity differs in from this run's (config fields by name); [] = none."""
    what = sorted(k for k in now if k != "config" and saved.get(k) != now[k])
    then = saved.get("config", {})
    return sorted(k for k in now.get("config", {}) if then.get(k) != now["config"][k]) + what


def _clone(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}


# ---------------------------------------------------------------------------------------------
# the loop


def fit(model: nn.Module, task: TaskSpec, train: EncodedSplit, dev: EncodedSplit, cfg: TrainConfig,
        seed: int, ckpt_dir: Path, log: Callable[[dict[str, float], int], None] | None = None,
        dev_score: Callable[[np.ndarray], float] | None = None,
        num_threads: int | None = None) -> FitResult:
    """Train `model` on `train`, early-stopping on `dev`; returns with the best weights loaded."""
    if num_threads:
        torch.set_num_threads(num_threads)
    if train.labels is None:
        raise SeminalError("the training split has no labels", train.path)
    if len(train) == 0:
        raise SeminalError("the training split is empty", train.path)
    score_fn = dev_score or _default_dev_score(task, dev)
    ckpt_dir = Path(ckpt_dir)
    last_path, best_path = ckpt_dir / "last.pt", ckpt_dir / "best.pt"
    lengths = _lengths(train, cfg.max_len)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    total_steps = cfg.max_epochs * steps_per_epoch
    optimizer = make_optimizer(model, cfg)
    resumable = {k: v for k, v in asdict(cfg).items()
                 if k not in RESUMABLE_CHANGES or (k == "max_epochs" and cfg.schedule in ("linear", "cosine"))}
    data = [a for split in (train, dev) for a in (split.s1_ids, split.s1_offsets, split.s2_ids,
                                                  split.s2_offsets, split.labels)]
    identity = {"config": resumable, "seed": seed, "start": fingerprint(model, *data)}  # start: also the data's size

    seed_everything(seed)  # dropout etc.; the caller seeds before building the model
    st: dict[str, Any] = {  # everything that changes during training, saved in last.pt
        "epoch": 0, "step": 0, "batch": 0, "batches": None, "loss_sum": 0.0, "loss_n": 0,
        "history": [], "best_score": -math.inf, "best_epoch": 0, "best_model": None,
        "bad_epochs": 0, "stopped": False, "train_seconds": 0.0, "cpu_seconds": 0.0,
    }
    ck = _load(last_path) if last_path.exists() else None
    if ck is not None and (what := differs(ck["identity"], identity)):
        print(f"{last_path}: written by a different run (differs in {what}); starting again",
              file=sys.stderr, flush=True)
        best_path.unlink(missing_ok=True)  # last.pt is replaced at the first save
        ck = None
    if ck is not None:
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        _set_rng_state(ck["rng"])
        st = ck["state"]
        print(f"resuming from {last_path} at epoch {st['epoch'] + 1}, step {st['step']}", file=sys.stderr, flush=True)
        if st["batches"] is not None:  # stored as one flat tensor + offsets
            flat, off = st["batches"]
            st["batches"] = [flat[off[i]:off[i + 1]].numpy() for i in range(len(off) - 1)]

    wall0, cpu0 = time.perf_counter(), time.process_time()
    sec0, cpusec0 = st["train_seconds"], st["cpu_seconds"]

    def save_last() -> None:
        st["train_seconds"] = sec0 + time.perf_counter() - wall0
        st["cpu_seconds"] = cpusec0 + time.process_time() - cpu0
        state = dict(st)
        if st["batches"] is not None:
            off = np.zeros(len(st["batches"]) + 1, dtype=np.int64)
            np.cumsum([len(b) for b in st["batches"]], out=off[1:])
            state["batches"] = [torch.from_numpy(np.concatenate(st["batches"]).astype(np.int64)),
                                torch.from_numpy(off)]
        _save({"identity": identity, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
               "rng": _rng_state(), "state": state}, last_path)

    progress = _Progress(cfg.log_every)
    while not st["stopped"] and st["epoch"] < cfg.max_epochs:
        if st["batches"] is None:
            st["batches"] = epoch_batches(lengths, cfg.batch_size, cfg.bucket_size, seed, st["epoch"])
        model.train()
        progress.start(st["epoch"] + 1, len(st["batches"]), st["batch"])
        while st["batch"] < len(st["batches"]):
            idx = st["batches"][st["batch"]]
            s1, s2, y = collate(train, idx, cfg.max_len)
            lr = cfg.lr * lr_factor(cfg, st["step"], total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = _loss(task, model(s1, s2), y, cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            if hasattr(model, "apply_max_norm"):
                model.apply_max_norm()
            st["step"] += 1
            st["batch"] += 1
            loss_value = loss.item()
            st["loss_sum"] += loss_value * len(idx)
            st["loss_n"] += len(idx)
            tokens = int((s1 != PAD).sum()) + (int((s2 != PAD).sum()) if s2 is not None else 0)
            progress.update(st["step"], loss_value, lr, tokens)
            if log is not None:
                log({"train/loss": loss_value, "train/lr": lr}, st["step"])
            if cfg.ckpt_every and st["step"] % cfg.ckpt_every == 0 and st["batch"] < len(st["batches"]):
                save_last()
        progress.close()

        # end of epoch: score dev, keep the best weights, decide whether to stop
        score = float(score_fn(predict(model, task, dev, cfg.batch_size, cfg.max_len)))
        st["epoch"] += 1
        train_loss = st["loss_sum"] / max(1, st["loss_n"])
        st["history"].append({"epoch": st["epoch"], "step": st["step"], "train_loss": train_loss,
                              "dev_score": score})
        if not math.isnan(score) and score > st["best_score"]:
            st.update(best_score=score, best_epoch=st["epoch"], best_model=_clone(model.state_dict()),
                      bad_epochs=0)
            _save({"model": st["best_model"], "epoch": st["epoch"], "dev_score": score}, best_path)
        else:
            st["bad_epochs"] += 1
            st["stopped"] = cfg.patience is not None and st["bad_epochs"] >= cfg.patience
        st.update(batch=0, batches=None, loss_sum=0.0, loss_n=0)
        save_last()
        print(f"epoch {st['epoch']} train_loss {train_loss:.4f} dev_score {score:.4f}"
              f"{' (best)' if st['best_epoch'] == st['epoch'] else ''}", file=sys.stderr, flush=True)
        if log is not None:
            log({"dev/score": score, "train/epoch_loss": train_loss, "epoch": st["epoch"]}, st["step"])

    if st["best_model"] is not None:
        model.load_state_dict(st["best_model"])
    model.eval()
    return FitResult(history=list(st["history"]), best_epoch=st["best_epoch"],
                     best_score=st["best_score"], steps=st["step"], stopped_early=st["stopped"],
                     train_seconds=sec0 + time.perf_counter() - wall0,
                     cpu_seconds=cpusec0 + time.process_time() - cpu0,
                     tokens=st["epoch"] * int(lengths.sum()))  # every epoch sees every example once


def train_flops(model: nn.Module, tokens: int) -> float:
    """Estimated training FLOPs, C = 6 N D (Kaplan et al. 2020, §2.1): a weight costs 2 FLOPs per
    token forward and 4 backward. N counts weights that multiply: embedding tables are lookups
    (left out, as Kaplan's non-embedding N); frozen weights cost 2 (forward only — in our models
    nothing trainable lies below them, so no gradient flows through). Left out as small at our
    sizes: attention's n_ctx term, and heads applied once per sentence counted as once per token."""
    embedding = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    weights = [p for p in model.parameters() if id(p) not in embedding]
    return float(tokens) * sum((6 if p.requires_grad else 2) * p.numel() for p in weights)


class _Progress:
    """A tqdm bar on a terminal; otherwise one line every `every` steps to stderr (log files)."""

    def __init__(self, every: int):
        self.every, self.tty = max(1, every), sys.stderr.isatty()
        self.bar: Any = None
        self.tokens, self.t0, self.epoch = 0, time.perf_counter(), 0

    def start(self, epoch: int, total: int, done: int) -> None:
        self.epoch, self.tokens, self.t0 = epoch, 0, time.perf_counter()
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=f"epoch {epoch}", leave=False)

    def update(self, step: int, loss: float, lr: float, tokens: int) -> None:
        self.tokens += tokens
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", refresh=False)
        elif step % self.every == 0:
            rate = self.tokens / max(1e-9, time.perf_counter() - self.t0)
            print(f"epoch {self.epoch} step {step} loss {loss:.4f} lr {lr:.3e} tok/s {rate:,.0f}",
                  file=sys.stderr, flush=True)
            self.tokens, self.t0 = 0, time.perf_counter()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

