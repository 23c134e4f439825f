"""Training, decoding and cost accounting of encoder-decoder models on the translation task.

    result = run(spec, seeds=[0, 1, 2], out=Path("results/experiments/translation/transformer"))

`spec` names the model (`arch`: transformer | lstm_attention), its config, the training config
and the corpus (seminal.translation). For each seed, `out/seed<s>/` gets:

    metrics.json        dev BLEU (beam search), test BLEU, the curve (step, flops, tokens,
                        greedy dev BLEU), parameters, the copy baseline: same bytes for the
                        same spec and seed (CPU, one thread)
    cost.json           process CPU seconds (training steps only, and all), wall seconds,
                        tokens/s, the CPU seconds at each curve point: they vary run to run
    hypotheses.dev.txt  detokenised dev translations, one a line; references.dev.txt beside it
    hypotheses.test.txt, references.test.txt

and one MLflow run (experiment "translation", a parent per model, a child per seed).

- Training (Vaswani §5): a fixed number of optimizer steps over shuffled, length-bucketed batches
  of `batch_size` sentence pairs (seminal.train.epoch_batches, drawn from (seed, epoch)); loss =
  cross-entropy of the next target piece, label-smoothed (§5.4), padding ignored; Adam (§5.3)
  or SGD; the learning rate `lr * factor(step)` (see `lr_factor`); optional gradient clipping.
- Cost: FLOPs are the model's analytic matmul count (`model.forward_flops(B, S, T)` on each
  batch's padded shape) x 3 for forward + backward (backward ~ 2 x forward, Kaplan et al. 2020
  §2.1); CPU seconds are `time.process_time()` summed over training steps only (dev decoding
  excluded); tokens are the real (non-pad) source + target tokens of the batches, as the paper
  counts its batches (§5.1).
- Curve: every `eval_every` steps, greedy BLEU on the first `curve_dev_size` dev sentences.
- Final scores: beam search (beam 4, length penalty 0.6: Vaswani §6.1, GNMT's lp(Y) = ((5 +
  |Y|) / 6)^α with |Y| counting </s>), maximum output length source length + 50 (§6.1), on the
  whole dev and test sets. The paper averages the last 5 checkpoints; we take the last.
- Same spec and seed => same metrics.json (seeded batches, dropout and weights; one thread).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.errors import SeminalError
from seminal.io import read_json, write_json, write_text
from seminal.models.rnn_seq2seq import RNNSeq2Seq, RNNSeq2SeqConfig
from seminal.models.transformer import TransformerConfig, TransformerSeq2Seq
from seminal.train import epoch_batches, seed_everything
from seminal.translation import BLEU_SIGNATURE, CorpusConfig, Pair, Vocab, bleu, corpus_hash, detokenize, generate

PAD_ID, BOS_ID, EOS_ID = 0, 2, 3  # seminal.translation.SPECIALS
ARCHS: dict[str, tuple[type, type]] = {  # arch -> (config class, model class)
    "transformer": (TransformerConfig, TransformerSeq2Seq),  # Vaswani et al. 2017 §3
    "lstm_attention": (RNNSeq2SeqConfig, RNNSeq2Seq),  # Luong et al. 2015 + Bahdanau et al. 2015
}
SCHEDULES = ("constant", "inverse_sqrt")
EXPERIMENT = "translation"  # the MLflow experiment


@dataclass
class Seq2SeqTrainConfig:
    steps: int = 100_000  # Vaswani §5.2: base models trained 100k steps
    batch_size: int = 64  # sentence pairs (the paper: ~25k source + 25k target tokens, §5.1)
    optimizer: str = "adam"  # adam | sgd
    lr: float = 7.0e-4  # peak: Vaswani §5.3 gives d^-0.5 warmup^-0.5 = 512^-0.5 4000^-0.5 for base
    betas: tuple[float, float] = (0.9, 0.98)  # §5.3
    eps: float = 1e-9  # §5.3
    schedule: str = "inverse_sqrt"  # §5.3 | constant (after the linear warmup)
    warmup_steps: int = 4000  # §5.3
    label_smoothing: float = 0.1  # §5.4
    grad_clip: float | None = None  # max global gradient norm (Luong §4.1: 5); None = off
    bucket_size: int = 20  # batches per length-sorted chunk (seminal.train.epoch_batches)
    eval_every: int = 100  # steps between points of the dev-BLEU curve
    curve_dev_size: int = 200  # dev sentences decoded (greedily) for each curve point
    beam: int = 4  # §6.1
    length_penalty: float = 0.6  # §6.1 (GNMT's α)
    decode_batch: int = 100  # sentences per decoding batch
    log_every: int = 50  # steps between progress lines when stderr is not a terminal

    def __post_init__(self) -> None:
        self.betas = tuple(float(b) for b in self.betas)  # type: ignore[assignment]
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer {self.optimizer!r} is not adam or sgd")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule {self.schedule!r} is not one of {SCHEDULES}")
        if min(self.steps, self.batch_size, self.eval_every, self.curve_dev_size, self.beam,
               self.decode_batch, self.bucket_size) < 1:
            raise ValueError("steps, batch_size, eval_every, curve_dev_size, beam, decode_batch and "
                             "bucket_size must be >= 1")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


@dataclass
class Spec:
    """One model of the experiment: what config/config.yaml's `translation:` section gives."""

    name: str
    arch: str
    model_config: Any
    train: Seq2SeqTrainConfig
    corpus: CorpusConfig = field(default_factory=CorpusConfig)


def make_spec(raw: dict[str, Any]) -> Spec:
    """{"name", "arch", "model_config": {...}, "train": {...}, "corpus": {...}} -> Spec, with a
    one-line error naming the bad key."""
    from seminal.experiment import make_config

    unknown = set(raw) - {"name", "arch", "model_config", "train", "corpus"}
    if unknown:
        raise SeminalError(f"translation spec: unknown key(s) {sorted(unknown)}")
    name, arch = raw.get("name"), raw.get("arch")
    if not name or arch not in ARCHS:
        raise SeminalError(f"translation spec: needs a name and an arch in {sorted(ARCHS)}, got {name!r}, {arch!r}")
    where = f"translation spec {name}"
    return Spec(str(name), arch, make_config(ARCHS[arch][0], raw.get("model_config"), where, "model_config"),
                make_config(Seq2SeqTrainConfig, raw.get("train"), where, "train"),
                make_config(CorpusConfig, raw.get("corpus"), where, "corpus"))


def build_model(spec: Spec, vocab_size: int) -> nn.Module:
    model_cls = ARCHS[spec.arch][1]
    return model_cls(dataclasses.replace(spec.model_config, vocab_size=vocab_size))


def train_flops(model: nn.Module, batch: int, src_len: int, tgt_len: int) -> int:
    """Training FLOPs of one step: 3 x the forward matmul FLOPs (backward ~ 2 x forward)."""
    return 3 * int(model.forward_flops(batch, src_len, tgt_len))


def lr_factor(cfg: Seq2SeqTrainConfig, step: int) -> float:
    """Multiplier of cfg.lr at optimizer step `step` (1-based): linear warmup to 1 over
    warmup_steps, then 1 (constant) or sqrt(warmup / step) (inverse_sqrt). With lr = d^-0.5 w^-0.5
    the inverse_sqrt rate is exactly Vaswani §5.3's d^-0.5 min(step^-0.5, step w^-1.5)."""
    w = cfg.warmup_steps
    warm = step / w if w and step < w else 1.0
    if cfg.schedule == "inverse_sqrt" and w and step >= w:
        return math.sqrt(w / step)
    return warm


# ---------------------------------------------------------------------------------------------
# batches


@dataclass
class Encoded:
    """A split as id lists: source (no specials) and target pieces followed by </s>."""

    src: list[list[int]]
    tgt: list[list[int]]

    @classmethod
    def of(cls, pairs: Sequence[Pair], vocab: Vocab) -> Encoded:
        return cls([vocab.encode(p.source) for p in pairs], [vocab.encode(p.target) + [EOS_ID] for p in pairs])

    def __len__(self) -> int:
        return len(self.src)


def pad(rows: Sequence[Sequence[int]]) -> torch.Tensor:
    """Right-padded (B, max length) LongTensor."""
    out = np.full((len(rows), max(1, max(len(r) for r in rows))), PAD_ID, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return torch.from_numpy(out)


def make_batch(data: Encoded, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(src (B, S), tgt_in (B, T) = <s> y_1 .. y_n, tgt_out (B, T) = y_1 .. y_n </s>)."""
    src = pad([data.src[i] for i in idx])
    tgt_out = pad([data.tgt[i] for i in idx])
    tgt_in = torch.cat([torch.full((len(idx), 1), BOS_ID), tgt_out[:, :-1]], dim=1)
    tgt_in = tgt_in.masked_fill(tgt_in == EOS_ID, PAD_ID)  # </s> is never an input
    return src, tgt_in, tgt_out


def loss_fn(logits: torch.Tensor, tgt_out: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    """Mean cross-entropy per real target token, against (1 - e) one-hot + e / V (§5.4)."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1), ignore_index=PAD_ID,
                           label_smoothing=label_smoothing)


# ---------------------------------------------------------------------------------------------
# decoding: any model with start(src) -> state and step(state, prefix) -> (logits, state)


@torch.no_grad()
def greedy(model: nn.Module, src: torch.Tensor, max_len: int) -> list[list[int]]:
    """The argmax piece at each step until </s> (or max_len pieces): one id list per sentence."""
    state = model.start(src)
    prefix = torch.full((src.size(0), 1), BOS_ID, dtype=torch.long)
    done = torch.zeros(src.size(0), dtype=torch.bool)
    for _ in range(max_len):
        logits, state = model.step(state, prefix)
        nxt = logits.argmax(-1).masked_fill(done, PAD_ID)  # (B,)
        prefix = torch.cat([prefix, nxt[:, None]], dim=1)
        done |= nxt == EOS_ID
        if done.all():
            break
    return [row[1:].tolist() for row in prefix]


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's lp(Y) = (5 + |Y|)^α / (5 + 1)^α (Wu et al. 2016 §7; Vaswani §6.1: α = 0.6)."""
    return ((5 + length) / 6) ** alpha


@torch.no_grad()
def beam_search(model: nn.Module, src: torch.Tensor, beam: int, alpha: float, max_len: int) -> list[list[int]]:
    """Beam search: each step extends every live hypothesis by every piece and keeps the `beam`
    best by log-probability; a hypothesis ending in </s> among the step's top `beam` is finished,
    scored log P / lp(Y); a sentence stops once it has `beam` finished hypotheses (or at max_len).
    Returns the best finished hypothesis per sentence (the best live one if none finished)."""
    B = src.size(0)
    state = {k: v.repeat_interleave(beam, dim=0) for k, v in model.start(src).items()}  # (B*beam, ...)
    prefix = torch.full((B * beam, 1), BOS_ID, dtype=torch.long)
    scores = torch.full((B, beam), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis (<s>) per sentence at the start
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    for t in range(1, max_len + 1):
        logits, state = model.step(state, prefix)
        logp = F.log_softmax(logits.float(), dim=-1)
        V = logp.size(-1)
        cand = (scores[:, :, None] + logp.view(B, beam, V)).view(B, beam * V)
        top, idx = cand.topk(2 * beam, dim=1)  # (B, 2 beam): at most `beam` of them end in </s>
        origin, token = idx // V, idx % V
        is_eos = token == EOS_ID
        for b, k in (is_eos[:, :beam] & torch.isfinite(top[:, :beam])).nonzero().tolist():
            if len(finished[b]) < beam:
                hyp = prefix[b * beam + origin[b, k], 1:].tolist() + [EOS_ID]
                finished[b].append((float(top[b, k]) / length_penalty(t, alpha), hyp))
        keep = ~is_eos & (torch.cumsum(~is_eos, dim=1) <= beam)  # the `beam` best non-</s> per row
        scores = top[keep].view(B, beam)
        rows = (origin[keep].view(B, beam) + torch.arange(B)[:, None] * beam).view(-1)  # (B*beam,)
        prefix = torch.cat([prefix[rows], token[keep].view(B * beam, 1)], dim=1)
        state = {k: v.index_select(0, rows) for k, v in state.items()}
        if all(len(f) >= beam for f in finished):
            break
    out = []
    for b in range(B):
        if finished[b]:
            out.append(max(finished[b], key=lambda x: x[0])[1])
        else:
            out.append(prefix[b * beam + int(scores[b].argmax()), 1:].tolist())
    return out


def translate(model: nn.Module, data: Encoded, vocab: Vocab, n: int | None, batch_size: int,
              beam: int = 1, alpha: float = 0.6) -> list[str]:
    """Detokenised translations of the first n sentences (all if None), greedy if beam == 1.
    Sentences are decoded in batches of similar length (sorted), returned in their order."""
    was_training = model.training
    model.eval()
    n = len(data) if n is None else min(n, len(data))
    order = sorted(range(n), key=lambda i: (len(data.src[i]), i))
    out: list[str] = [""] * n
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        src = pad([data.src[i] for i in idx])
        max_len = src.size(1) + 50  # §6.1: input length + 50 (within the Transformer's positions)
        max_len = min(max_len, getattr(model.cfg, "max_len", max_len + 1) - 1)
        hyps = greedy(model, src, max_len) if beam == 1 else beam_search(model, src, beam, alpha, max_len)
        for i, h in zip(idx, hyps):
            out[i] = detokenize(vocab.decode(h))
    model.train(was_training)
    return out


# ---------------------------------------------------------------------------------------------
# training


@dataclass
class TrainResult:
    curve: list[dict[str, Any]]  # step, flops, tokens, dev_bleu, train_loss (deterministic)
    seconds: list[float]  # process CPU seconds of training at each curve point
    steps: int
    flops: int
    tokens: int
    train_seconds: float  # process CPU seconds of the training steps (no evaluation)


def train(model: nn.Module, cfg: Seq2SeqTrainConfig, train_data: Encoded, dev: Encoded, dev_refs: list[str],
          vocab: Vocab, seed: int, log: Callable[[dict[str, float], int], None] | None = None) -> TrainResult:
    """cfg.steps optimizer steps; a curve point (greedy dev BLEU) every cfg.eval_every steps and
    at the last step. The caller seeds torch before building the model."""
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr)
    lengths = np.array([len(s) + len(t) for s, t in zip(train_data.src, train_data.tgt)])
    curve: list[dict[str, Any]] = []
    seconds: list[float] = []
    flops = tokens = 0
    cpu = 0.0
    losses: list[float] = []
    epoch, batches = 0, []
    progress = _Progress(cfg.log_every, cfg.steps)
    model.train()
    for step in range(1, cfg.steps + 1):
        if not batches:
            batches = epoch_batches(lengths, cfg.batch_size, cfg.bucket_size, seed, epoch)[::-1]
            epoch += 1
        c0 = time.process_time()
        src, tgt_in, tgt_out = make_batch(train_data, batches.pop())
        lr = cfg.lr * lr_factor(cfg, step)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = loss_fn(model(src, tgt_in), tgt_out, cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        cpu += time.process_time() - c0
        n_tok = int((src != PAD_ID).sum() + (tgt_out != PAD_ID).sum())
        flops += train_flops(model, src.size(0), src.size(1), tgt_in.size(1))
        tokens += n_tok
        losses.append(loss.item())
        progress.update(step, losses[-1], lr, n_tok)
        if log is not None and step % cfg.log_every == 0:
            log({"train_loss": float(np.mean(losses[-cfg.log_every:])), "lr": lr}, step)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            hyps = translate(model, dev, vocab, cfg.curve_dev_size, cfg.decode_batch)
            score = round(bleu(hyps, dev_refs[:len(hyps)]), 4)
            point = {"step": step, "flops": flops, "tokens": tokens, "dev_bleu": score,
                     "train_loss": round(float(np.mean(losses[-cfg.eval_every:])), 6)}
            curve.append(point)
            seconds.append(round(cpu, 3))
            if log is not None:
                log({"dev_bleu_greedy": score, "train_flops": flops, "train_tokens": tokens}, step)
            progress.note(f"step {step}: dev BLEU (greedy, {len(hyps)} sentences) {score:.2f}")
    progress.close()
    return TrainResult(curve, seconds, cfg.steps, flops, tokens, cpu)


class _Progress:
    """A tqdm bar on a terminal; otherwise one line every `every` steps to stderr (log files)."""

    def __init__(self, every: int, total: int):
        self.every, self.tokens, self.t0 = max(1, every), 0, time.process_time()
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, leave=False)

    def update(self, step: int, loss: float, lr: float, tokens: int) -> None:
        self.tokens += tokens
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}", refresh=False)
        elif step % self.every == 0:
            rate = self.tokens / max(1e-9, time.process_time() - self.t0)
            print(f"step {step} loss {loss:.4f} lr {lr:.3e} tok/CPU-s {rate:,.0f}", file=sys.stderr, flush=True)
            self.tokens, self.t0 = 0, time.process_time()

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------------------------
# one model, all seeds: files and MLflow


def run_seed(spec: Spec, corpus: dict[str, list[Pair]], vocab: Vocab, seed: int, out: Path,
             tracker: Any = None, provenance: dict[str, str] | None = None) -> dict[str, Any]:
    """Train and evaluate one seed; writes out/{metrics,cost}.json and the dev/test translations."""
    t0, c0 = time.perf_counter(), time.process_time()
    data = {split: Encoded.of(pairs, vocab) for split, pairs in corpus.items()}
    refs = {split: [detokenize(p.target.split()) for p in pairs] for split, pairs in corpus.items()}
    seed_everything(seed)  # the initial weights depend on the seed only
    model = build_model(spec, len(vocab))
    n_params = int(model.num_parameters())
    print(f"{spec.name} seed {seed}: {n_params:,} parameters", file=sys.stderr)
    log = tracker.log_metrics if tracker is not None else None
    result = train(model, spec.train, data["train"], data["dev"], refs["dev"], vocab, seed, log)
    scores, copy = {}, {}
    for split in ("dev", "test"):
        hyps = translate(model, data[split], vocab, None, spec.train.decode_batch, spec.train.beam,
                         spec.train.length_penalty)
        scores[split] = round(bleu(hyps, refs[split]), 4)
        copy[split] = round(bleu([detokenize(p.source.split()) for p in corpus[split]], refs[split]), 4)
        write_text(out / f"hypotheses.{split}.txt", "".join(h + "\n" for h in hyps))
        write_text(out / f"references.{split}.txt", "".join(r + "\n" for r in refs[split]))
    wall, cpu_all = time.perf_counter() - t0, time.process_time() - c0
    record = {
        "model": spec.name, "arch": spec.arch, "seed": seed, "params": n_params,
        "bleu": scores["dev"], "test_bleu": scores["test"], "copy_bleu": copy,
        "decoding": {"beam": spec.train.beam, "length_penalty": spec.train.length_penalty,
                     "max_len": "source length + 50", "curve": "greedy"},
        "bleu_signature": BLEU_SIGNATURE, "steps": result.steps, "train_flops": result.flops,
        "train_tokens": result.tokens, "curve": result.curve, "vocab_size": len(vocab),
        "model_config": dataclasses.asdict(spec.model_config), "train": dataclasses.asdict(spec.train),
        "corpus": dataclasses.asdict(spec.corpus), **(provenance or {}),
    }
    cost = {"train_seconds": round(result.train_seconds, 3), "cpu_seconds": round(cpu_all, 3),
            "wall_seconds": round(wall, 3), "tokens_per_second": round(result.tokens / max(result.train_seconds, 1e-9), 1),
            "curve_seconds": result.seconds, "threads": torch.get_num_threads()}
    write_json(out / "cost.json", cost)
    write_json(out / "metrics.json", record)
    if tracker is not None:
        tracker.log_metrics({"dev_bleu": scores["dev"], "test_bleu": scores["test"], "params": n_params,
                             "train_seconds": cost["train_seconds"], "tokens_per_second": cost["tokens_per_second"],
                             "copy_bleu_dev": copy["dev"]}, step=result.steps)
        for f in ("metrics.json", "cost.json", "hypotheses.dev.txt", "references.dev.txt"):
            tracker.log_artifact(out / f)
    print(f"{spec.name} seed {seed}: dev BLEU {scores['dev']:.2f} (copy {copy['dev']:.2f}), test {scores['test']:.2f}; "
          f"{result.train_seconds:.1f} CPU-s training, {cpu_all:.1f} CPU-s in all, "
          f"{cost['tokens_per_second']:,.0f} tokens/CPU-s", file=sys.stderr)
    return record


def run(spec: Spec, seeds: Sequence[int], out: Path, threads: int = 1, track: bool = True) -> list[dict[str, Any]]:
    """All seeds of one model in one process: the corpus is generated once; out/seed<s>/ each."""
    from seminal import provenance

    torch.set_num_threads(threads)
    corpus = generate(spec.corpus)
    vocab = Vocab.from_pairs(corpus["train"])
    data_hash = corpus_hash(corpus)
    prov = {"data_hash": data_hash, "git_commit": provenance.git_commit(Path.cwd())}
    records = []
    if not track:
        return [run_seed(spec, corpus, vocab, s, out / f"seed{s}", None, prov) for s in seeds]
    from seminal import tracking

    params = {"arch": spec.arch, "model_config": dataclasses.asdict(spec.model_config),
              "train": dataclasses.asdict(spec.train), "corpus": dataclasses.asdict(spec.corpus)}
    parent = tracking.start_parent(EXPERIMENT, spec.name, params=params, tags={"paper": "vaswani2017"})
    for s in seeds:
        tags = {"benchmark": EXPERIMENT, "task": EXPERIMENT, "model": spec.name, "seed": str(s), **prov}
        with tracking.child_run(EXPERIMENT, parent, f"{spec.name}/seed{s}", params | {"seed": s}, tags) as tracker:
            records.append(run_seed(spec, corpus, vocab, s, out / f"seed{s}", tracker, prov))
    return records


# ---------------------------------------------------------------------------------------------
# summary of every run: results/experiments/translation/summary.json + the BLEU-vs-cost plot


def summarize(run_dirs: Sequence[Path], out: Path, plot: Path, root: Path | None = None) -> dict[str, Any]:
    """Read <run>/{metrics,cost}.json of every run folder; write the summary (the data contract
    of issue 6: paths relative to the repo root) and the plot. Runs sorted by (model, seed)."""
    root = (root or Path.cwd()).resolve()
    runs, copy = [], []
    for d in run_dirs:
        m, c = read_json(d / "metrics.json"), read_json(d / "cost.json")
        copy.append(m["copy_bleu"]["dev"])
        if len(c["curve_seconds"]) != len(m["curve"]):
            raise SeminalError("cost.json and metrics.json disagree on the curve's length", d)
        rel = Path(d).resolve().relative_to(root) if Path(d).resolve().is_relative_to(root) else Path(d)
        runs.append({
            "model": m["model"], "seed": m["seed"], "params": m["params"], "bleu": m["bleu"],
            "train_flops": float(m["train_flops"]), "train_seconds": c["train_seconds"],
            "tokens_per_second": c["tokens_per_second"],
            "hypotheses": str(rel / "hypotheses.dev.txt"), "references": str(rel / "references.dev.txt"),
            "curve": [{"step": p["step"], "seconds": s, "flops": float(p["flops"]), "tokens": p["tokens"],
                       "dev_bleu": p["dev_bleu"]} for p, s in zip(m["curve"], c["curve_seconds"])],
        })
    if not runs:
        raise SeminalError("no translation runs to summarise")
    runs.sort(key=lambda r: (r["model"], r["seed"]))
    summary = {"runs": runs}
    write_json(out, summary)
    plot_bleu_vs_cost(runs, plot, copy_bleu=max(copy))
    return summary


def plot_bleu_vs_cost(runs: Sequence[dict[str, Any]], path: Path, copy_bleu: float | None = None) -> None:
    """Two panels: dev BLEU (greedy curve) against training FLOPs and against training CPU
    seconds; one colour per model, one line per seed; the final beam-search BLEU as a marker;
    the copy baseline (the English source as the translation) as a dashed line."""
    from matplotlib.figure import Figure

    from seminal.io import atomic_path

    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    models = sorted({r["model"] for r in runs})
    colours = {m: f"C{i}" for i, m in enumerate(models)}
    for r in runs:
        for ax, key in zip(axes, ("flops", "seconds")):
            xs = [p[key] for p in r["curve"]]
            ys = [p["dev_bleu"] for p in r["curve"]]
            label = r["model"] if r["seed"] == min(x["seed"] for x in runs if x["model"] == r["model"]) else None
            ax.plot(xs, ys, color=colours[r["model"]], alpha=0.8, lw=1.2, label=label)
            ax.plot(xs[-1:], [r["bleu"]], marker="*", ms=9, color=colours[r["model"]], ls="none")
    if copy_bleu is not None:
        for ax in axes:
            ax.axhline(copy_bleu, color="grey", ls="--", lw=1, label=f"copy the source ({copy_bleu:.1f})"
                       if ax is axes[0] else None)
    axes[0].set_xlabel("training FLOPs (analytic matmul count x 3)")
    axes[1].set_xlabel("training CPU seconds (1 thread)")
    axes[0].set_ylabel("dev BLEU")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[1].legend(handles, labels, title="lines: greedy dev BLEU per seed; *: final, beam search", fontsize=8,
                   title_fontsize=8, loc="lower right")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("Synthetic translation (English -> Sovian): dev BLEU against training cost")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
