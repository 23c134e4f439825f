"""Skip-gram word2vec with negative sampling: the pretrained vectors of Kim (2014) §3.2.

Mikolov, Sutskever, Chen, Corrado & Dean (2013), "Distributed Representations of Words and
Phrases and their Compositionality", NIPS ("the paper"), and the C tool released with it,
word2vec.c ("the tool"), whose command-line defaults fill in what the paper leaves open.
Trained here on the benchmark's own pretraining corpus; nothing is downloaded.

- §2, eq. (1): skip-gram maximises the average log-probability of the context words within c
  positions of each word. The tool draws, for every centre word, b ~ U{0, ..., window-1} and
  uses the window - b words on each side ("random window shrinking"), which weights a context
  word at distance d by (window - d + 1) / window.
- §2.2, eq. (4): negative sampling replaces log p(w_O | w_I) by
      log s(v'_{w_O} . v_{w_I}) + sum_{i=1..k} log s(-v'_{w_i} . v_{w_I}),  w_i ~ P_n(w),
  with P_n(w) = U(w)^{3/4} / Z, the unigram distribution to the 3/4 power (§2.2). k = 5 is the
  tool's default (the paper: 5-20 for small data sets, 2-5 for large ones). As in the tool, a
  noise word equal to the positive word is skipped (contributes nothing).
- §2.3, eq. (5): frequent words are sub-sampled. The paper discards w with probability
  1 - sqrt(t / f(w)); the tool keeps it with probability (sqrt(f / t) + 1) * t / f, which is what
  we compute (`keep_probability`), with the tool's default t = 1e-3. The paper's t = 1e-5 was
  chosen for corpora of billions of words; on a few million it would discard most tokens.
- The tool: input vectors initialised U[-0.5, 0.5] / dim, output vectors at zero; plain SGD
  whose step size decays linearly from alpha = 0.025 (skip-gram) to alpha * 1e-4 over all
  epochs; words seen fewer than min_count = 5 times are dropped before windows are taken, as
  are the sub-sampled ones; training never crosses the end of a sentence. The vectors written
  out are the input vectors v_w (the tool's syn0), as in the released Google News vectors.

Our input is the encoded corpus of seminal.tokenize: a flat uint16 array of sentencepiece ids,
EOS (id 3) after every sentence and an extra EOS between documents. One vector per piece id,
so the Kim CNN's embedding table is initialised row by row. Deviations, stated where they happen:
- Units are sentencepiece pieces, not words (the whole project shares one tokenizer).
- Kim's Google News vectors were trained with the continuous bag-of-words architecture
  (Kim §3.2; Mikolov's released command: cbow, negative 3, sample 1e-5, min-count 10, on 100B
  words). We train skip-gram, the architecture the paper above is about.
- Pairs are (w_I, w_O) = (word, context) as in eq. (4); the tool trains them the other way round
  (the context word's v predicts the word), which differs only in whose window was shrunk.
- The tool updates the vectors after every (word, context) pair (lock-free, many threads). We
  take `batch_size` pairs at a time, shuffled within chunks of the corpus, and apply their SGD
  updates together (`sgd_step`): the same per-pair gradients and step size, summed where a row
  repeats in a batch.
- The special ids 0..6 ([PAD] [UNK] [BOS] [EOS] [CLS] [SEP] [MASK]) are never trained: EOS is
  the sentence boundary itself, the others are not text. Their rows, and those of pieces seen
  fewer than min_count times, are set like Kim's unknown words (§3.2 and his code): U[-a, a]
  with a chosen so these rows have the variance of the trained ones. [PAD] (0) is a zero vector.
- `max_pairs` (ours, off by default) caps the pairs trained on, to fit a CPU budget; the step
  size then decays over whichever comes first, the epochs or the pair budget.
- `min_tokens` (ours, off by default) gives a small corpus more epochs: ceil(min_tokens / its
  length) when that is more than `epochs`. A budget of 1 epoch fits a corpus of millions of words,
  not WikiText-2's valid split (217k words), whose 1-epoch vectors left Kim's CNN-static at 60%
  on SST-2 dev (71% with 5 epochs).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from seminal.errors import SeminalError
from seminal.io import read_yaml, save_npy, write_json

PAD, EOS = 0, 3  # seminal.tokenize.PAD, EOS
N_SPECIAL = 7  # ids 0..6 are seminal.tokenize.SPECIAL_PIECES: never trained
MIN_ALPHA_FRACTION = 1e-4  # the tool: alpha never falls below starting_alpha * 0.0001
CHUNK_TOKENS = 1_000_000  # corpus ids turned into pairs at a time (cut at a sentence end)


@dataclass
class Word2VecConfig:
    dim: int = 300  # Kim §3.2: 300-d vectors (the tool's -size default is 100)
    window: int = 5  # tool -window 5: max context distance c (§2, eq. 1), randomly shrunk per word
    negative: int = 5  # §2.2 k; tool -negative 5
    ns_exponent: float = 0.75  # §2.2: noise distribution U(w)^{3/4} / Z
    sample: float = 1e-3  # tool -sample 1e-3 (§2.3's t = 1e-5 is for billions of words); 0 = off
    alpha: float = 0.025  # tool -alpha for skip-gram: SGD step, decayed linearly to alpha * 1e-4
    min_count: int = 5  # tool -min-count 5: rarer pieces are dropped from training
    epochs: int = 5  # tool -iter 5
    batch_size: int = 256  # ours: pairs per vectorised SGD step (the tool: one pair at a time)
    max_pairs: int | None = None  # ours: stop after this many (word, context) pairs; None = all epochs
    min_tokens: int | None = None  # ours: more epochs for a shorter corpus, until epochs x its ids >= this

    def __post_init__(self) -> None:
        # ValueError: load_word2vec_config adds the file name
        self.sample, self.alpha = float(self.sample), float(self.alpha)  # YAML reads 1e-3 as a string
        self.ns_exponent = float(self.ns_exponent)
        counts = {"dim": self.dim, "window": self.window, "negative": self.negative,
                  "min_count": self.min_count, "epochs": self.epochs, "batch_size": self.batch_size}
        for name, value in counts.items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"word2vec {name} must be an integer > 0, got {value!r}")
        if self.alpha <= 0:
            raise ValueError(f"word2vec alpha must be > 0, got {self.alpha}")
        if self.sample < 0 or self.ns_exponent < 0:
            raise ValueError(f"word2vec sample and ns_exponent must be >= 0, "
                             f"got {self.sample} and {self.ns_exponent}")
        if self.max_pairs is not None and (not isinstance(self.max_pairs, int) or self.max_pairs <= 0):
            raise ValueError(f"word2vec max_pairs must be > 0 or null, got {self.max_pairs}")
        if self.min_tokens is not None and (not isinstance(self.min_tokens, int) or self.min_tokens <= 0):
            raise ValueError(f"word2vec min_tokens must be > 0 or null, got {self.min_tokens}")

    def epochs_for(self, n_ids: int) -> int:
        """The epochs over a corpus of n_ids: `epochs`, or more where `min_tokens` asks for them."""
        return max(self.epochs, math.ceil(self.min_tokens / n_ids)) if self.min_tokens else self.epochs


def load_word2vec_config(path: str | Path) -> Word2VecConfig:
    """Read config/pretrain/word2vec.yaml: a mapping of Word2VecConfig fields (all optional)."""
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SeminalError("expected a mapping of Word2VecConfig fields", path)
    fields = {f.name for f in dataclasses.fields(Word2VecConfig)}
    for key in raw:
        if key not in fields:
            raise SeminalError(f"unknown word2vec field {key!r} (known: {', '.join(sorted(fields))})",
                               path, _key_line(path, key))
    try:
        return Word2VecConfig(**raw)
    except (TypeError, ValueError) as e:
        raise SeminalError(str(e), path) from e


def _key_line(path: str | Path, key: str) -> int | None:
    """1-based line of a top-level key in a YAML file (for error messages)."""
    node = yaml.compose(Path(path).read_text(encoding="utf-8"))
    for k, _ in getattr(node, "value", []):
        if getattr(k, "value", None) == key:
            return k.start_mark.line + 1
    return None


# ---------------------------------------------------------------------------------------------
# vocabulary statistics: which ids are trained, how often they are kept, how noise is drawn


def count_ids(ids: np.ndarray, vocab_size: int, min_count: int) -> np.ndarray:
    """(V,) int64 training counts: special ids and pieces seen < min_count times count 0."""
    if ids.size and int(ids.max()) >= vocab_size:
        raise ValueError(f"corpus id {int(ids.max())} >= vocab_size {vocab_size}")
    counts = np.bincount(ids, minlength=vocab_size).astype(np.int64)
    counts[:N_SPECIAL] = 0  # EOS is the sentence boundary; the others are not text
    counts[counts < min_count] = 0  # the tool's -min-count: dropped from the vocabulary
    return counts


def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """§2.3 sub-sampling, the tool's formula: keep w with prob. (sqrt(f/t) + 1) t/f, f = c/total
    (total: the trained ids; the tool also counts its end-of-sentence token). Ids with count 0
    are never kept; sample = 0 keeps every trained id."""
    keep = (counts > 0).astype(np.float64)
    if sample > 0 and counts.sum() > 0:
        st = sample * counts.sum()  # t * total, so that f / t = count / st
        c = counts[counts > 0].astype(np.float64)
        keep[counts > 0] = np.minimum(1.0, (np.sqrt(c / st) + 1.0) * st / c)
    return keep


def noise_distribution(counts: np.ndarray, exponent: float) -> np.ndarray:
    """§2.2: P_n(w) = U(w)^{3/4} / Z over the trained ids (raw counts, before sub-sampling)."""
    p = np.where(counts > 0, counts.astype(np.float64) ** exponent, 0.0)
    if p.sum() == 0:
        raise ValueError("no piece occurs min_count times: nothing to train")
    return p / p.sum()


# ---------------------------------------------------------------------------------------------
# (word, context) pairs


def sentence_chunks(ids: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """[start, end) ranges of about `size` ids, each ending just after an EOS (or at the end)."""
    start, n = 0, len(ids)
    while start < n:
        end = min(start + size, n)
        if end < n:
            eos = np.flatnonzero(ids[start:end] == EOS)
            end = start + int(eos[-1]) + 1 if eos.size else end  # a sentence longer than size: cut
        yield start, end
        start = end


def skipgram_pairs(ids: np.ndarray, keep: np.ndarray, window: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(word, context) id pairs of one stretch of the corpus, in corpus order (§2, eq. 1).

    Ids are kept with probability keep[id] (0 for EOS, specials and rare pieces) before windows
    are taken, as in the tool; each kept word w_t draws b ~ U{0..window-1} and pairs with the
    kept words at distance 1..window-b on either side that lie in the same sentence (no EOS
    between them). Returns two int64 arrays (word, context).
    """
    ids = np.asarray(ids, dtype=np.int64)
    sentence = np.cumsum(ids == EOS)  # (N,) sentence number; an EOS belongs to the next one
    kept = rng.random(len(ids)) < keep[ids]
    tok, sentence = ids[kept], sentence[kept]  # (n,) the training stream of the tool
    span = window - rng.integers(0, window, len(tok))  # (n,) window - b, in 1..window
    words, contexts = [], []
    for d in range(1, window + 1):
        same = sentence[:-d] == sentence[d:]  # (n-d,) positions t and t+d in one sentence
        right = np.flatnonzero(same & (span[:-d] >= d))  # word t, context t+d
        left = np.flatnonzero(same & (span[d:] >= d))  # word t+d, context t
        words += [tok[right], tok[left + d]]
        contexts += [tok[right + d], tok[left]]
    return np.concatenate(words), np.concatenate(contexts)


# ---------------------------------------------------------------------------------------------
# training


def sgd_step(w_in: torch.Tensor, w_out: torch.Tensor, word: torch.Tensor, context: torch.Tensor,
             noise: torch.Tensor, lr: float) -> torch.Tensor:
    """One SGD step on eq. (4) for a batch of pairs, updating w_in and w_out in place.

    word, context: (B,) ids; noise: (B, k) noise ids. The gradients are the tool's:
    g = (label - s(v'.v)) * lr; v' += g v; v += sum g v'. Returns the (B,) losses -eq. (4).
    """
    D = w_in.size(1)
    targets = torch.cat([context[:, None], noise], dim=1)  # (B, 1+k): positive, then noise
    v = w_in.index_select(0, word)  # (B, D) input vectors v_{w_I}
    u = w_out.index_select(0, targets.reshape(-1)).view(*targets.shape, D)  # (B, 1+k, D) v'_w
    score = torch.linalg.vecdot(u, v[:, None, :])  # (B, 1+k) v'_w . v_{w_I} (bmm is 5x slower here)
    label = torch.zeros_like(score)
    label[:, 0] = 1.0
    live = torch.ones_like(score)
    live[:, 1:] = (noise != context[:, None]).float()  # the tool skips a noise word == w_O
    g = (label - torch.sigmoid(score)) * live * lr  # (B, 1+k)
    grad_v = torch.bmm(g[:, None, :], u).squeeze(1)  # (B, D), before w_out changes (as the tool)
    w_out.index_add_(0, targets.reshape(-1), (g[:, :, None] * v[:, None, :]).reshape(-1, D))
    w_in.index_add_(0, word, grad_v)
    sign = 2.0 * label - 1.0  # log s(x) for the positive, log s(-x) for the noise words
    return -(torch.nn.functional.logsigmoid(sign * score) * live).sum(dim=1)  # (B,)


class _Progress:
    """A tqdm bar on a terminal; otherwise one line per corpus chunk to stderr (log files)."""

    def __init__(self, total: int):
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="id", unit_scale=True, desc="word2vec", leave=False)

    def update(self, epoch: int, done: int, total: int, tokens: int, loss: float, lr: float,
               pairs_per_s: float) -> None:
        if self.bar is not None:
            self.bar.update(tokens)
            self.bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}", lr=f"{lr:.2e}",
                                 pairs_s=f"{pairs_per_s:,.0f}", refresh=False)
        else:
            print(f"word2vec epoch {epoch} ids {done:,}/{total:,} loss {loss:.4f} lr {lr:.3e} "
                  f"pairs/s {pairs_per_s:,.0f}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_word2vec(corpus_ids: Path, vocab_size: int, cfg: Word2VecConfig, seed: int, out_dir: Path,
                   log: Callable[[dict[str, float], int], None] | None = None,
                   num_threads: int | None = 1) -> dict[str, Any]:
    """Train skip-gram vectors on an encoded corpus; write out_dir/vectors.npy and metrics.json.

    vectors.npy: float32 (vocab_size, cfg.dim), row i = piece id i (see the module docstring
    for the rows that are not trained). metrics.json: loss per epoch (mean of -eq. (4) per pair),
    pairs per epoch, pairs/s, seconds and the corpus statistics. `log(metrics, epoch)` is called
    after every epoch (tracking). Same corpus, config and seed => the same vectors.npy bytes
    on CPU (metrics.json also holds timings). Returns the metrics.

    num_threads: torch threads for the run (restored afterwards; None = leave the caller's).
    Default 1: each step's tensors are small and memory-bound, so a second thread gains little,
    and on a 2-core machine shared with other jobs, 2 threads ran 17x slower than 1 (measured).
    """
    corpus_ids, out_dir = Path(corpus_ids), Path(out_dir)
    try:
        ids = np.load(corpus_ids, mmap_mode="r")
    except (OSError, ValueError) as e:
        raise SeminalError(f"cannot read the encoded corpus ({e})", corpus_ids) from e
    if ids.ndim != 1 or ids.dtype != np.uint16:
        raise SeminalError(f"encoded corpus is {ids.dtype}{ids.shape}, expected flat uint16", corpus_ids)
    try:
        counts = count_ids(ids, vocab_size, cfg.min_count)
        noise_cdf = np.cumsum(noise_distribution(counts, cfg.ns_exponent))
    except ValueError as e:
        raise SeminalError(str(e), corpus_ids) from e
    keep = keep_probability(counts, cfg.sample)

    threads_before = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        w_in, history = _train(ids, counts, keep, noise_cdf, cfg, seed, log)
    finally:
        torch.set_num_threads(threads_before)

    vectors = w_in.numpy().astype(np.float32)
    trained = counts > 0
    # Kim §3.2 (his code): words without a pretrained vector get U[-a, a], with a such that
    # they have the variance of the pretrained ones; [PAD] is a zero vector.
    a = float(np.sqrt(3.0 * vectors[trained].var()))
    untrained = np.flatnonzero(~trained)
    vectors[untrained] = np.random.default_rng([seed, 1]).uniform(-a, a, (len(untrained), cfg.dim))
    vectors[PAD] = 0.0

    pairs_total = sum(history["pairs"])
    metrics = {
        **history,
        "pairs_total": pairs_total,
        "pairs_per_s": pairs_total / max(history["seconds"], 1e-9),
        "epochs_run": len(history["loss"]),
        "corpus_ids": int(len(ids)),
        "trained_ids": int(counts.sum()),
        "vocab_trained": int(trained.sum()),
        "vocab_size": int(vocab_size),
        "unknown_init_a": a,
        "seed": seed,
        "threads": num_threads or threads_before,
        "config": dataclasses.asdict(cfg),
    }
    save_npy(out_dir / "vectors.npy", vectors)
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def _train(ids: np.ndarray, counts: np.ndarray, keep: np.ndarray, noise_cdf: np.ndarray,
           cfg: Word2VecConfig, seed: int, log: Callable[[dict[str, float], int], None] | None
           ) -> tuple[torch.Tensor, dict[str, Any]]:
    """The epochs: pairs chunk by chunk, shuffled, in batches of SGD steps. Returns w_in."""
    V, D, n = len(counts), cfg.dim, len(ids)
    rng = np.random.default_rng(seed)  # every draw: sub-sampling, windows, order, noise
    gen = torch.Generator().manual_seed(seed)
    w_in = (torch.rand(V, D, generator=gen) - 0.5) / D  # the tool's syn0 init
    w_out = torch.zeros(V, D)  # the tool's syn1neg
    noise_cdf = noise_cdf / noise_cdf[-1]
    epochs = cfg.epochs_for(n)
    total = epochs * n  # the step size decays over every id of every epoch (the tool)
    budget = cfg.max_pairs or sys.maxsize
    progress = _Progress(total)
    history: dict[str, Any] = {"loss": [], "pairs": []}
    pairs_done, t0, cpu0, lr = 0, time.perf_counter(), time.process_time(), cfg.alpha
    with torch.no_grad():
        for epoch in range(1, epochs + 1):
            loss_sum, pairs_epoch = 0.0, 0
            for start, end in sentence_chunks(ids, CHUNK_TOKENS):
                word, context = skipgram_pairs(ids[start:end], keep, cfg.window, rng)
                order = rng.permutation(len(word))  # deviation: shuffled within the chunk
                word, context = torch.from_numpy(word[order]), torch.from_numpy(context[order])
                at, to = ((epoch - 1) * n + start) / total, ((epoch - 1) * n + end) / total
                for i in range(0, len(word), cfg.batch_size):
                    j = min(i + cfg.batch_size, len(word), i + budget - pairs_done)
                    if j <= i:
                        break
                    done = max(at + (to - at) * i / len(word), pairs_done / budget)
                    lr = cfg.alpha * max(MIN_ALPHA_FRACTION, 1.0 - done)  # linear decay (the tool)
                    noise = np.searchsorted(noise_cdf, rng.random((j - i, cfg.negative)), side="right")
                    noise = torch.from_numpy(np.minimum(noise, V - 1))  # (B, k) ~ P_n(w), §2.2
                    loss_sum += float(sgd_step(w_in, w_out, word[i:j], context[i:j], noise, lr).sum())
                    pairs_epoch += j - i
                    pairs_done += j - i
                rate = pairs_done / max(time.perf_counter() - t0, 1e-9)
                progress.update(epoch, (epoch - 1) * n + end, total, end - start,
                                loss_sum / max(1, pairs_epoch), lr, rate)
                if pairs_done >= budget:
                    break
            history["loss"].append(loss_sum / max(1, pairs_epoch))
            history["pairs"].append(pairs_epoch)
            if log is not None:
                log({"word2vec/loss": history["loss"][-1], "word2vec/pairs": float(pairs_epoch)}, epoch)
            if pairs_done >= budget:
                break
    progress.close()
    history["seconds"] = time.perf_counter() - t0
    history["cpu_seconds"] = time.process_time() - cpu0  # all threads
    return w_in, history
