"""The papers' claims, tested by this pipeline's own runs (issue 6): results/<benchmark>/claims.{md,json}.

Each claim is one effect with a sign fixed so that a positive value is what the paper claims,
its 95% confidence interval, and a verdict computed from the interval alone:

    supported        the interval lies above 0 (the claimed direction)
    not supported    the interval lies below 0 (the other direction)
    inconclusive     the interval contains 0: at this scale (examples, seeds, trials) the data cannot tell
    not run          an input is missing: a model not in this run, an experiment not enabled

The intervals, by kind of evidence (`seminal.stats`):
- dev-set scores (claims 3-7): a paired percentile bootstrap over dev examples. Every model of
  the comparison is scored on the same resamples, each model's seeds on the same resample too
  (the seed-mean); a "score" is the GLUE-style average over the tasks every model ran (a task's
  metrics averaged first, MNLI's two dev splits counting once, AX left out); each task's
  examples (and each distance bucket's, for claim 3) are resampled independently (stratified);
- BLEU (claim 2a): the same paired bootstrap over dev sentences, corpus BLEU recomputed on each
  resample from sacrebleu's sufficient statistics;
- success over trials (claim 1): Newcombe's interval for a difference of two Wilson rates;
- quantities measured once per seed or run (claims 2b, 8): a percentile bootstrap over seeds
  (runs). With three seeds it is close to [min, max], so it excludes 0 only when every seed agrees.

Inputs: the runs of the results table (metrics.json, predictions), the benchmark's dev gold labels,
and — when their experiments are enabled — results/experiments/longlag/summary.json and
results/experiments/translation/summary.json (see the contracts in their modules).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seminal.benchmark import BenchmarkSpec
from seminal.errors import SeminalError
from seminal.evaluate import DISTANCE_BUCKETS, bucket_label
from seminal.io import read_json, write_json, write_text
from seminal.metrics import EXCLUDED_FROM_AVERAGE
from seminal.report import GLUE_ORDER, DevPredictions, Gold, collect, load_dev_predictions
from seminal.stats import (
    N_RESAMPLES,
    Difference,
    bleu_samples,
    bleu_statistics,
    bootstrap_mean,
    bootstrap_mean_difference,
    bootstrap_samples,
    corpus_bleu,
    difference,
    newcombe,
    seed_mean,
    wilson,
)

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NOT_RUN = "supported", "not supported", "inconclusive", "not run"
LONG, SHORT = bucket_label(*DISTANCE_BUCKETS[-1]), bucket_label(*DISTANCE_BUCKETS[0])  # "10+", "1-2"
SHOT_ROW = re.compile(r"^(?P<model>.+)\.(?P<shots>\d+|few)shot$")
LONGLAG_CELLS = ("lstm1997", "lstm", "gru", "rnn")
TIME_FRACTION = 0.9  # claim 8a's fixed dev score: 90% of the weaker model's final dev BLEU


def verdict(lo: float, hi: float) -> str:
    """The one rule: the 95% interval of an effect whose positive sign is the paper's claim."""
    if lo > 0:
        return SUPPORTED
    if hi < 0:
        return NOT_SUPPORTED
    return INCONCLUSIVE


@dataclass
class Claim:
    id: str  # "1a"
    claim: str
    source: str  # the paper, section / table
    experiment: str  # what in this pipeline tests it
    effect_name: str  # what the number measures; positive = as claimed
    unit: str
    reasons: dict[str, str]  # likely reason, by verdict (not supported / inconclusive)
    effect: float | None = None
    lo: float | None = None
    hi: float | None = None
    p_value: float | None = None  # bootstrap p, H1: effect > 0 (where the method has one)
    n: int | None = None  # examples, sentences or trials behind the interval
    method: str = ""
    verdict: str = NOT_RUN
    reason: str = ""
    details: list[str] = field(default_factory=list)

    def measured(self, effect: float, lo: float, hi: float, method: str, p_value: float | None = None,
                 n: int | None = None) -> Claim:
        self.effect, self.lo, self.hi, self.p_value, self.n, self.method = effect, lo, hi, p_value, n, method
        self.verdict = verdict(lo, hi)
        self.reason = self.reasons.get(self.verdict, "")
        return self

    def not_run(self, why: str) -> Claim:
        self.verdict, self.reason = NOT_RUN, why
        return self


# ---------------------------------------------------------------------------------------------
# dev-set comparisons: a weighted sum of models' scores, paired bootstrap over examples


@dataclass(frozen=True)
class Term:
    model: str
    weight: float
    bucket: str | None = None  # a distance bucket ("10+"); None: every example


def _bucket_mask(distance: np.ndarray | None, bucket: str | None) -> np.ndarray | None:
    if bucket is None:
        return None
    if distance is None:
        return np.zeros(0, dtype=bool)
    for lo, hi in DISTANCE_BUCKETS:
        if bucket_label(lo, hi) == bucket:
            return (distance >= lo) & (distance <= (np.inf if hi is None else hi))
    raise ValueError(f"unknown distance bucket {bucket!r}")


class Scorer:
    """Seed-mean task scores of the runs on stratified, paired resamples of the dev examples.

    A stratum is (task, split, distance bucket) restricted to the examples every model of a
    comparison predicted (the in-context rows predict a fixed dev subset). Its resamples come from
    one stream seeded by (seed, stratum, size): a model's samples do not depend on which other
    models are compared, so they are computed once and cached."""

    def __init__(self, preds: dict[tuple[str, str, str], DevPredictions], spec: BenchmarkSpec,
                 n_resamples: int = N_RESAMPLES, seed: int = 0):
        self.preds, self.spec, self.n_resamples, self.seed = preds, spec, n_resamples, seed
        self._cache: dict[tuple, tuple[float, np.ndarray]] = {}

    def models(self) -> set[str]:
        return {m for m, _, _ in self.preds}

    def splits(self, models: Sequence[str]) -> list[tuple[str, str]]:
        """(task, split) scored by every model, AX (diagnostic) and companion tasks left out, GLUE order."""
        have = [{(t, s) for m2, t, s in self.preds if m2 == m} for m in models]
        common = set.intersection(*have) if have else set()
        keep = [(t, s) for t, s in common if t not in EXCLUDED_FROM_AVERAGE and t in self.spec.tasks
                and self.spec.tasks[t].predict_with is None]
        return sorted(keep, key=lambda ts: (GLUE_ORDER.index(ts[0]) if ts[0] in GLUE_ORDER else 99, ts))

    def _stratum(self, models: Sequence[str], task: str, split: str, bucket: str | None
                 ) -> tuple[str, ...] | None:
        """The example ids every model predicted (and in the bucket), or None when empty."""
        dps = [self.preds[(m, task, split)] for m in models]
        common = set(dps[0].index).intersection(*(d.index for d in dps[1:]))
        first = dps[0]
        keep = np.array([i in common for i in first.index])
        mask = _bucket_mask(first.distance, bucket)
        if mask is not None:
            keep &= mask if mask.size else np.zeros_like(keep)
        ids = tuple(i for i, k in zip(first.index, keep) if k)
        return ids or None

    def _samples(self, model: str, task: str, split: str, bucket: str | None, ids: tuple[str, ...]
                 ) -> tuple[float, np.ndarray]:
        key = (model, task, split, bucket, ids)
        if key not in self._cache:
            import zlib

            dp = self.preds[(model, task, split)]
            pos = {i: k for k, i in enumerate(dp.index)}
            take = np.array([pos[i] for i in ids])
            metrics = self.spec.task(task).metrics
            rng = np.random.default_rng([self.seed, zlib.crc32(f"{task}.{split}.{bucket}".encode()), len(ids)])
            samples = bootstrap_samples(metrics, dp.y[take], [dp.preds[:, take]], self.n_resamples, rng)[:, 0]
            self._cache[key] = (seed_mean(metrics, dp.y[take], dp.preds[:, take]), samples)
        return self._cache[key]

    def combine(self, terms: Sequence[Term]) -> tuple[Difference, list[str]] | None:
        """sum(weight x score) over the terms, a score being the mean over the tasks all the terms'
        models ran (a task's dev splits averaged) of the seed-mean task score, on the term's bucket.
        None if some model has no runs or a task lacks a bucket's examples."""
        models = sorted({t.model for t in terms})
        if not set(models) <= self.models():
            return None
        splits = self.splits(models)
        units = []
        for task, split in splits:
            strata = {b: self._stratum(models, task, split, b) for b in {t.bucket for t in terms}}
            if all(ids is not None for ids in strata.values()):
                units.append((task, split, strata))
        tasks = sorted({t for t, _, _ in units}, key=lambda t: (GLUE_ORDER.index(t) if t in GLUE_ORDER else 99, t))
        if not tasks:
            return None
        observed, samples, n = 0.0, np.zeros(self.n_resamples), 0
        for task, split, strata in units:
            share = 1.0 / (len(tasks) * sum(1 for t, _, _ in units if t == task))
            n += sum(len(ids) for ids in strata.values())
            for term in terms:
                value, s = self._samples(term.model, task, split, term.bucket, strata[term.bucket])
                observed += share * term.weight * value
                samples += share * term.weight * s
        return difference(observed * 100, samples * 100, n), tasks


def _glue_claim(claim: Claim, scorer: Scorer, terms: Sequence[Term], what: str) -> Claim:
    missing = sorted({t.model for t in terms} - scorer.models())
    if missing:
        return claim.not_run(f"not in this run: {', '.join(missing)}")
    out = scorer.combine(terms)
    if out is None:
        return claim.not_run("no task with examples for every model" + (" in every distance bucket"
                                                                        if any(t.bucket for t in terms) else ""))
    d, tasks = out
    claim.details.append(f"tasks: {', '.join(tasks)}")
    return claim.measured(d.diff, d.lo, d.hi, f"paired bootstrap over dev examples ({d.n_resamples} resamples, "
                          f"stratified by task{' and distance bucket' if any(t.bucket for t in terms) else ''}); "
                          f"{what}", d.p_value, d.n)


def _fmt(d: Difference) -> str:
    return f"{d.diff:+.1f} [{d.lo:+.1f}, {d.hi:+.1f}]"


# ---------------------------------------------------------------------------------------------
# the claims


def _tally(runs: list[dict[str, Any]], largest: dict[str, int], cell: str, experiment: str | None = None
           ) -> tuple[int, int]:
    """(successes, trials) of a cell at each experiment's largest T (one experiment, or all)."""
    rs = [r for r in runs if r["cell"] == cell and r["T"] == largest[r["experiment"]]
          and (experiment is None or r["experiment"] == experiment)]
    return sum(bool(r["success"]) for r in rs), len(rs)


def _claims_longlag(summary: dict[str, Any] | None, why: str) -> list[Claim]:
    runs = (summary or {}).get("runs") or []
    largest = {e: max(r["T"] for r in runs if r["experiment"] == e) for e in sorted({r["experiment"] for r in runs})}
    claims = []
    for cid, cell, name in (("1a", "lstm1997", "the 1997 LSTM (no forget gate)"), ("1b", "lstm", "a modern LSTM")):
        c = Claim(cid, f"LSTM bridges long time lags where a plain RNN fails — {name}",
                  "Hochreiter & Schmidhuber 1997, §5 (exp. 1 embedded Reber, 4 adding, 6 temporal order)",
                  "longlag: the paper's tasks and success criteria at small T; trials = seeds",
                  f"success rate {cell} − rnn at each experiment's largest T (trials pooled)", "points ×100",
                  {NOT_SUPPORTED: "at these lags and step budgets the plain RNN learns the task too, or the LSTM "
                                  "misses the criterion within its step cap",
                   INCONCLUSIVE: "too few trials (seeds) at the largest T for the interval to exclude 0"})
        if summary is None:
            claims.append(c.not_run(why))
            continue
        (k1, n1), (k2, n2) = _tally(runs, largest, cell), _tally(runs, largest, "rnn")
        if n1 == 0 or n2 == 0:
            claims.append(c.not_run(f"no trials of {cell if n1 == 0 else 'rnn'} in longlag/summary.json"))
            continue
        d = newcombe(k1, n1, k2, n2)
        c.measured(100 * d.value, 100 * d.lo, 100 * d.hi, "Newcombe's hybrid score interval (two Wilson "
                   "intervals) of the difference of success rates", None, n1 + n2)
        for e, t in largest.items():
            parts = []
            for cl in LONGLAG_CELLS:
                k, n = _tally(runs, largest, cl, e)
                if n:
                    w = wilson(k, n)
                    parts.append(f"{cl} {k}/{n} [{100 * w.lo:.0f}, {100 * w.hi:.0f}]")
            c.details.append(f"{e} T={t}: " + ", ".join(parts) + " (success %, Wilson 95%)")
        claims.append(c)
    return claims


def _by_model(summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in summary.get("runs") or []:
        by_model.setdefault(r["model"], []).append(r)
    for runs in by_model.values():
        runs.sort(key=lambda r: int(r["seed"]))
    return by_model


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as e:
        raise SeminalError("file not found (named in translation/summary.json)", path) from e


def _hypotheses(path: Path, n: int) -> list[str]:
    lines = _lines(path)
    if len(lines) != n:
        raise SeminalError(f"{len(lines)} hypotheses for {n} references", path)
    return lines


def _claims_translation(summary: dict[str, Any] | None, why: str, root: Path, n_resamples: int,
                        seed: int) -> list[Claim]:
    quality = Claim("2a", "The Transformer beats recurrent models in quality",
                    "Vaswani et al. 2017, §6.1, Table 2",
                    "translation: synthetic English → reordered, inflected target; Transformer vs LSTM "
                    "encoder-decoder with attention",
                    "dev corpus BLEU (sacrebleu), Transformer − LSTM+attention, seed-means", "BLEU",
                    {NOT_SUPPORTED: "at this size and data the recurrent model with attention is the better "
                                    "learner; the paper's gap needs its scale (65M parameters, 4.5M pairs)",
                     INCONCLUSIVE: "the dev set and the seeds are too few to separate the two"})
    cost = Claim("2b", "… at lower training cost", "Vaswani et al. 2017, §6.1, Table 2 (training FLOPs)",
                 "translation: dev-BLEU curves against estimated training FLOPs",
                 "dev BLEU the Transformer reached within the LSTM's training FLOPs − the LSTM's final dev BLEU",
                 "BLEU",
                 {NOT_SUPPORTED: "at this size the Transformer needs more FLOPs than the LSTM for the same BLEU "
                                 "(short sentences keep recurrence cheap)",
                  INCONCLUSIVE: "the seeds disagree: too few seeds for the interval to exclude 0"})
    speed = Claim("8a", "Transformers train faster than RNNs — time to a fixed dev score",
                  "Vaswani et al. 2017, §1, §6.1 (training time)",
                  "translation: wall time along the dev-BLEU curves of the same run",
                  f"log10(LSTM seconds / Transformer seconds) to reach {TIME_FRACTION:.0%} of the weaker model's "
                  f"final dev BLEU", "log10 ratio",
                  {NOT_SUPPORTED: "on CPU, with one thread and short sequences, recurrence is not the "
                                  "bottleneck; the paper's speed-up is parallelism on GPUs",
                   INCONCLUSIVE: "the seeds disagree, or wall time is too noisy on a shared machine"})
    claims = [quality, cost, speed]
    if summary is None:
        return [c.not_run(why) for c in claims]
    runs = _by_model(summary)
    missing = [m for m in ("transformer", "lstm_attention") if m not in runs]
    if missing:
        return [c.not_run(f"no {' or '.join(missing)} runs in translation/summary.json") for c in claims]
    tr, ls = runs["transformer"], runs["lstm_attention"]

    # 2a: paired bootstrap of corpus BLEU over dev sentences (seeds pooled)
    refs = {tuple(_lines(root / r["references"])) for r in tr + ls}
    if len(refs) != 1:
        quality.not_run("the runs were scored against different references")
    else:
        ref = list(next(iter(refs)))
        stats = [np.stack([bleu_statistics(_hypotheses(root / r["hypotheses"], len(ref)), ref) for r in rs])
                 for rs in (tr, ls)]
        s = bleu_samples(stats, n_resamples, np.random.default_rng([seed, 2]))
        observed = [float(np.mean([corpus_bleu(x.sum(axis=0)) for x in st])) for st in stats]
        d = difference(observed[0] - observed[1], s[:, 0] - s[:, 1], len(ref))
        quality.measured(d.diff, d.lo, d.hi, f"paired bootstrap over {len(ref)} dev sentences ({n_resamples} "
                         "resamples), corpus BLEU from sacrebleu's sufficient statistics", d.p_value, d.n)
        quality.details.append(f"BLEU: transformer {observed[0]:.2f} (seeds {len(tr)}), lstm_attention "
                               f"{observed[1]:.2f} (seeds {len(ls)})")
        for name, rs in (("transformer", tr), ("lstm_attention", ls)):
            quality.details.append(f"{name}: params {rs[0]['params']:,}, training FLOPs "
                                   f"{np.mean([r['train_flops'] for r in rs]):.3g}, "
                                   f"{np.mean([r['train_seconds'] for r in rs]):.0f} s, "
                                   f"{np.mean([r['tokens_per_second'] for r in rs]):.0f} tokens/s")

    # 2b: quality at equal cost, from the curves
    curves_ok = all(r.get("curve") for r in tr + ls)
    if not curves_ok:
        cost.not_run("runs without a dev-BLEU curve")
        speed.not_run("runs without a dev-BLEU curve")
        return claims
    budget = float(np.mean([r["curve"][-1]["flops"] for r in ls]))
    lstm_final = [float(r["curve"][-1]["dev_bleu"]) for r in ls]
    within = [max((p["dev_bleu"] for p in r["curve"] if p["flops"] <= budget), default=0.0) for r in tr]
    d = bootstrap_mean_difference(within, lstm_final, n_resamples, seed)
    cost.measured(d.diff, d.lo, d.hi, "percentile bootstrap over seeds (each model's seeds resampled)", d.p_value,
                  len(within) + len(lstm_final))
    cost.details.append(f"LSTM's training FLOPs {budget:.3g}; Transformer's dev BLEU within them, per seed: "
                        + ", ".join(f"{x:.2f}" for x in within) + "; LSTM final: "
                        + ", ".join(f"{x:.2f}" for x in lstm_final))

    # 8a: time to a fixed dev score
    target = TIME_FRACTION * min(np.mean([r["curve"][-1]["dev_bleu"] for r in rs]) for rs in (tr, ls))

    def seconds_to(r: dict[str, Any]) -> tuple[float, bool]:
        hit = next((p for p in r["curve"] if p["dev_bleu"] >= target), None)
        return (float(hit["seconds"]), True) if hit else (float(r["curve"][-1]["seconds"]), False)

    t_tr, t_ls = [seconds_to(r) for r in tr], [seconds_to(r) for r in ls]
    if min(x for x, _ in t_tr + t_ls) <= 0:
        speed.not_run("a curve reaches the target at 0 seconds")
        return claims
    d = bootstrap_mean_difference([math.log10(x) for x, _ in t_ls], [math.log10(x) for x, _ in t_tr],
                                  n_resamples, seed)
    speed.measured(d.diff, d.lo, d.hi, "percentile bootstrap over seeds of the mean log10 seconds", d.p_value,
                   len(t_tr) + len(t_ls))
    censored = sum(not ok for _, ok in t_tr + t_ls)
    speed.details.append(f"target dev BLEU {target:.2f}; seconds to reach it: transformer "
                         + ", ".join(f"{x:.0f}" for x, _ in t_tr) + "; lstm_attention "
                         + ", ".join(f"{x:.0f}" for x, _ in t_ls)
                         + (f" ({censored} run(s) never reached it: their total time is used)" if censored else ""))
    return claims


def _shot_rows(models: set[str]) -> dict[str, dict[str, str]]:
    """{base model: {shots: row}} for rows named <model>.<k>shot."""
    out: dict[str, dict[str, str]] = {}
    for row in models:
        m = SHOT_ROW.match(row)
        if m:
            out.setdefault(m["model"], {})[m["shots"]] = row
    return out


def _claims_glue(scorer: Scorer, params: dict[str, int], papers: dict[str, str]) -> list[Claim]:
    avg = "score = GLUE-style average over the tasks both models ran, ×100"
    claims = []

    c = Claim("3a", "Transformers handle long-range dependencies better than CNNs",
              "the comparison this project starts from; Vaswani et al. 2017, §4 (path length)",
              "synglue dev examples whose label depends on words ≥ 10 apart (meta distance)",
              f"task score on distance {LONG}, Transformer − Kim CNN-rand", "points ×100",
              {NOT_SUPPORTED: "the benchmark's longest dependency (≤ 14 words) lies within reach of the CNN's "
                              "filters and pooling, and small data favours the CNN's locality prior",
               INCONCLUSIVE: "few dev examples per distance bucket"})
    claims.append(_glue_claim(c, scorer, [Term("transformer", 1, LONG), Term("kim_cnn_rand", -1, LONG)], avg))
    c = Claim("3b", "CNNs capture local patterns but fall behind on long-range dependencies",
              "the comparison this project starts from", "synglue dev examples by dependency distance",
              f"(Transformer − CNN-rand) at distance {LONG} minus the same at {SHORT}", "points ×100",
              {NOT_SUPPORTED: "the CNN loses no more than the Transformer as dependencies lengthen: at ≤ 14 "
                              "words, max-pooled filters still see both ends",
               INCONCLUSIVE: "the gap changes less than the sampling error of two distance buckets"})
    claims.append(_glue_claim(c, scorer, [Term("transformer", 1, LONG), Term("kim_cnn_rand", -1, LONG),
                                          Term("transformer", -1, SHORT), Term("kim_cnn_rand", 1, SHORT)], avg))
    c = Claim("3c", "Transformers handle long range best (vs the BiLSTM)", "the comparison this project starts from",
              "synglue dev examples whose label depends on words ≥ 10 apart",
              f"task score on distance {LONG}, Transformer − BiLSTM", "points ×100",
              {NOT_SUPPORTED: "with a few thousand training examples per task the BiLSTM's recurrence is the better prior; "
                              "self-attention from scratch needs more data",
               INCONCLUSIVE: "few dev examples per distance bucket"})
    claims.append(_glue_claim(c, scorer, [Term("transformer", 1, LONG), Term("bilstm", -1, LONG)], avg))

    variants = ["kim_cnn_static", "kim_cnn_nonstatic", "kim_cnn_multichannel"]
    c = Claim("4", "Pretrained vectors help Kim's CNN", "Kim 2014, §4.1, Table 2 (CNN-rand vs the others)",
              "GLUE-style dev tasks; word2vec trained on the benchmark's corpus",
              "score, mean of CNN-static / non-static / multichannel − CNN-rand", "points ×100",
              {NOT_SUPPORTED: "word2vec trained on a 5M-word synthetic corpus carries little the task data do not "
                              "(the paper's vectors: 100B words of news)",
               INCONCLUSIVE: "the variants differ from CNN-rand by less than the sampling error"})
    present = [v for v in variants if v in scorer.models()]
    _glue_claim(c, scorer, [*(Term(v, 1 / len(present), None) for v in present), Term("kim_cnn_rand", -1)]
                if present else [Term(v, 1) for v in variants], avg)
    for v in present:
        out = scorer.combine([Term(v, 1), Term("kim_cnn_rand", -1)]) if "kim_cnn_rand" in scorer.models() else None
        if out:
            c.details.append(f"{v} − kim_cnn_rand: {_fmt(out[0])} (p = {out[0].p_value:.3f})")
    claims.append(c)

    c = Claim("5a", "ELMo's deep contextual representations help", "Peters et al. 2018, Table 1; GLUE paper Table 4",
              "GLUE-style dev tasks; the biLM pretrained on the benchmark's corpus, frozen",
              "score, BiLSTM + ELMo − BiLSTM", "points ×100",
              {NOT_SUPPORTED: "a small biLM pretrained on a synthetic corpus, frozen, adds noise the task "
                              "model must learn to ignore",
               INCONCLUSIVE: "the difference is within the sampling error"})
    claims.append(_glue_claim(c, scorer, [Term("elmo", 1), Term("bilstm", -1)], avg))
    c = Claim("5b", "ELMo: all layers beat the top layer", "Peters et al. 2018, §5.1, Table 2",
              "GLUE-style dev tasks", "score, ELMo (all layers, scalar mix) − ELMo (top layer)", "points ×100",
              {NOT_SUPPORTED: "a 2-layer biLM has little depth to mix; the learned mix adds parameters the "
                              "small tasks cannot fit",
               INCONCLUSIVE: "the difference is within the sampling error"})
    claims.append(_glue_claim(c, scorer, [Term("elmo", 1), Term("elmo_top", -1)], avg))

    c = Claim("6a", "Pretraining then fine-tuning beats training the same encoder from scratch",
              "Devlin et al. 2019, §1, §5 (and Table 6's pretrained sizes)",
              "GLUE-style dev tasks; BERT pretrained (MLM + NSP) on the benchmark's corpus",
              "score, BERT − the same encoder from random initialisation", "points ×100",
              {NOT_SUPPORTED: "pretraining too short to learn more than the fine-tuning data teaches",
               INCONCLUSIVE: "both rows are near chance on most tasks at this pretraining budget"})
    claims.append(_glue_claim(c, scorer, [Term("bert", 1), Term("bert_scratch", -1)], avg))
    c = Claim("6b", "BERT: bigger is better", "Devlin et al. 2019, §5.2, Table 6", "GLUE-style dev tasks",
              "score, largest pretrained BERT − smallest", "points ×100",
              {NOT_SUPPORTED: "the larger model is undertrained at the same pretraining budget",
               INCONCLUSIVE: "the difference is within the sampling error"})
    berts = sorted({m for m in scorer.models() if papers.get(m) == "devlin2019" and "scratch" not in m},
                   key=lambda m: params.get(m, 0))
    if len({params.get(m, 0) for m in berts}) < 2:
        claims.append(c.not_run("not tested: one size in this run"))
    else:
        claims.append(_glue_claim(c, scorer, [Term(berts[-1], 1), Term(berts[0], -1)],
                                  f"{berts[-1]} ({params[berts[-1]]:,} params) vs {berts[0]} "
                                  f"({params[berts[0]]:,}); {avg}"))

    icl = "score = average over the tasks of the in-context rows, on their fixed dev subset, ×100"
    sizes = {b: rows for b, rows in _shot_rows(scorer.models()).items() if {"0", "few"} <= set(rows)}
    by_size = sorted(sizes, key=lambda b: params.get(sizes[b]["few"], 0))
    c = Claim("7a", "Few-shot beats zero-shot (largest model)", "Brown et al. 2020, §3, Figure 1.2, Table H.1",
              "in-context learning of the pretrained GPTs on the dev tasks, K = 0 vs few demonstrations",
              "score, few-shot − zero-shot, largest GPT", "points ×100",
              {NOT_SUPPORTED: "demonstrations in a 256-token context distract a model this small (the paper "
                              "sees no gain at 125M either)",
               INCONCLUSIVE: "at ~1M parameters in-context learning is near chance with or without "
                             "demonstrations (the paper: the gain appears with size)"})
    if not by_size:
        claims.append(c.not_run("no GPT rows with 0- and few-shot settings in this run"))
    else:
        big = sizes[by_size[-1]]
        _glue_claim(c, scorer, [Term(big["few"], 1), Term(big["0"], -1)], f"{by_size[-1]}; {icl}")
        for b in by_size:
            out = scorer.combine([Term(sizes[b]["few"], 1), Term(sizes[b]["0"], -1)])
            if out:
                c.details.append(f"{b} ({params.get(sizes[b]['few'], 0):,} params): few − zero {_fmt(out[0])}")
        claims.append(c)
    c = Claim("7b", "… and the few-shot gain grows with model size", "Brown et al. 2020, Figures 1.2, 1.3",
              "the same rows", "(few − zero) of the largest GPT minus (few − zero) of the smallest", "points ×100",
              {NOT_SUPPORTED: "over a ~10x range of tiny models the gain shrinks; the paper's trend spans "
                              "125M-175B parameters",
               INCONCLUSIVE: "our sizes span too small a range (and sit below the paper's smallest) to show "
                             "the trend"})
    if len(by_size) < 2:
        claims.append(c.not_run("fewer than two GPT sizes with 0- and few-shot settings in this run"))
    else:
        big, small = sizes[by_size[-1]], sizes[by_size[0]]
        claims.append(_glue_claim(c, scorer, [Term(big["few"], 1), Term(big["0"], -1), Term(small["few"], -1),
                                              Term(small["0"], 1)], f"{by_size[-1]} vs {by_size[0]}; {icl}"))
    return claims


def _claim_throughput(records: list[dict[str, Any]], n_resamples: int, seed: int) -> Claim:
    c = Claim("8b", "Transformers train faster than RNNs — tokens per CPU second",
              "Vaswani et al. 2017, §1 (recurrence precludes parallelisation)",
              "GLUE-style tasks: the training tokens and CPU seconds of each run (cost.json)",
              "log10(Transformer tokens/s ÷ BiLSTM tokens/s), paired by task and seed", "log10 ratio",
              {NOT_SUPPORTED: "on one CPU thread the Transformer's larger per-token matmuls cost more than the "
                              "BiLSTM's sequential steps; the paper's speed-up is parallelism on GPUs",
               INCONCLUSIVE: "the runs disagree (CPU time is noisy on a shared machine)"})
    rate = {(r["model"], r["task"], int(r["seed"])): r["train_tokens"] / r["cpu_seconds"] for r in records
            if r["model"] in ("transformer", "bilstm") and r.get("train_tokens") and r.get("cpu_seconds")}
    pairs = sorted({(t, s) for m, t, s in rate if m == "transformer"} & {(t, s) for m, t, s in rate if m == "bilstm"})
    if not pairs:
        have = {r["model"] for r in records}
        why = ("not in this run: " + ", ".join(m for m in ("transformer", "bilstm") if m not in have)
               if not {"transformer", "bilstm"} <= have else "training tokens not recorded in cost.json (older runs)")
        return c.not_run(why)
    logs = [math.log10(rate[("transformer", t, s)] / rate[("bilstm", t, s)]) for t, s in pairs]
    ci = bootstrap_mean(logs, n_resamples, seed)
    c.measured(ci.value, ci.lo, ci.hi, f"percentile bootstrap over {len(pairs)} (task, seed) run pairs", None,
               len(pairs))
    for m in ("transformer", "bilstm"):
        c.details.append(f"{m}: {np.median([v for (mm, _, _), v in rate.items() if mm == m]):.0f} training tokens "
                         "per CPU second (median over runs)")
    return c


# ---------------------------------------------------------------------------------------------
# everything, and the files


@dataclass
class Claims:
    benchmark: str
    n_resamples: int
    seed: int
    claims: list[Claim]
    fewshot: list[dict[str, Any]] = field(default_factory=list)  # the few-shot plot's points


def _fewshot_points(scorer: Scorer, params: dict[str, int]) -> list[dict[str, Any]]:
    """Per GPT size and K: the in-context score (×100) with its 95% bootstrap interval."""
    points = []
    for base, rows in sorted(_shot_rows(scorer.models()).items()):
        for shots, row in sorted(rows.items()):
            out = scorer.combine([Term(row, 1)])
            if out:
                d = out[0]
                points.append({"model": base, "shots": shots, "params": params.get(row, 0), "score": d.diff,
                               "lo": d.lo, "hi": d.hi})
    return points


def build_claims(runs: str | Path, spec: BenchmarkSpec, data: str | Path, longlag: str | Path | None = None,
                 translation: str | Path | None = None, root: str | Path = ".", n_resamples: int = N_RESAMPLES,
                 seed: int = 0, models: Sequence[str] = ()) -> Claims:
    """Every claim from the runs (and the experiments' summaries, when given and present)."""
    records = [r for r in collect(runs) if not models or r["model"] in models] if Path(runs).is_dir() else []
    preds = load_dev_predictions(records, runs, Gold(spec, data)) if records else {}
    scorer = Scorer(preds, spec, n_resamples, seed)
    params = {r["model"]: int(r.get("params") or 0) for r in records}
    papers = {r["model"]: str(r.get("paper") or "") for r in records}

    def summary(path: str | Path | None, name: str, key: str) -> tuple[dict[str, Any] | None, str]:
        if path is None:
            return None, f"{name} experiment not enabled (config {key}.enabled)"
        if not Path(path).is_file():
            return None, f"{path} not found ({name} experiment not run)"
        return read_json(path), ""

    ll, ll_why = summary(longlag, "long-lag", "longlag")
    tr, tr_why = summary(translation, "translation", "translation")
    claims = [*_claims_longlag(ll, ll_why), *_claims_translation(tr, tr_why, Path(root), n_resamples, seed)]
    claims += _claims_glue(scorer, params, papers)
    claims.append(_claim_throughput(records, n_resamples, seed))
    order = {c.id: i for i, c in enumerate(sorted(claims, key=lambda c: (int(c.id[0]), c.id)))}
    claims.sort(key=lambda c: order[c.id])
    return Claims(spec.name, n_resamples, seed, claims, _fewshot_points(scorer, params))


RULE = ("Verdicts: each effect is signed so that a positive value is what the paper claims; **supported** if its "
        "95% interval lies above 0, **not supported** if below 0, **inconclusive** if it contains 0 (the data "
        "at this scale cannot tell), **not run** if an input is missing. The likely reason is a short "
        "per-claim text chosen by the verdict — a hypothesis, not a measurement.")


def _num(x: float | None, unit: str) -> str:
    if x is None:
        return "–"
    return f"{x:+.3f}" if unit.startswith("log") else f"{x:+.1f}" if unit != "BLEU" else f"{x:+.2f}"


def _effect(c: Claim) -> str:
    if c.effect is None:
        return "–"
    return f"{_num(c.effect, c.unit)} [{_num(c.lo, c.unit)}, {_num(c.hi, c.unit)}] {c.unit}"


def to_markdown(result: Claims) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = [f"# Claims — {result.benchmark}", "",
             (f"The papers' claims, tested by this run. {RULE} Bootstrap: {result.n_resamples} resamples, seed "
              f"{result.seed}; the method behind each interval is under *Details*."), "",
             "| # | Claim | Source | Experiment | Measured effect [95% CI] | Verdict | Likely reason |",
             "|:---|:---|:---|:---|---:|:---|:---|"]
    for c in result.claims:
        lines.append("| " + " | ".join(cell(x) for x in (
            c.id, c.claim, c.source, c.experiment, f"{c.effect_name}: {_effect(c)}", f"**{c.verdict}**",
            c.reason or "–")) + " |")
    lines += ["", "## Details", ""]
    for c in result.claims:
        if c.verdict == NOT_RUN:
            lines += [f"**{c.id}. {c.claim}** — not run: {c.reason}.", ""]
            continue
        lines.append(f"**{c.id}. {c.claim}** — {c.verdict}. {c.effect_name}: {_effect(c)}"
                     + (f", p = {c.p_value:.3f} (share of resamples ≤ 0)" if c.p_value is not None else "")
                     + (f", n = {c.n:,}" if c.n is not None else "") + ".")
        if c.method:
            lines.append(f"Method: {c.method}.")
        lines += [f"- {d}" for d in c.details]
        lines.append("")
    return "\n".join(lines)


def to_json(result: Claims) -> dict[str, Any]:
    return {"benchmark": result.benchmark, "n_resamples": result.n_resamples, "seed": result.seed, "rule": RULE,
            "claims": [{k: v for k, v in asdict(c).items() if k != "reasons"} for c in result.claims],
            "fewshot": result.fewshot}


def write_claims(result: Claims, md: str | Path, js: str | Path) -> None:
    write_text(md, to_markdown(result))
    write_json(js, to_json(result))


def track(result: Claims, data_hash: str, artifacts: Sequence[str | Path]) -> str:
    """One MLflow run 'claims' in the benchmark's experiment: each effect and its interval as
    metrics, each verdict as a tag, claims.md/json and the plots as artifacts. Returns its id."""
    from seminal import provenance, tracking

    tags = {"benchmark": result.benchmark, "model": "claims", "task": "claims", "seed": str(result.seed),
            "git_commit": provenance.git_commit(Path.cwd()), "data_hash": data_hash, "seminal.role": "claims"}
    params = {"n_resamples": result.n_resamples, "seed": result.seed}
    with tracking.child_run(result.benchmark, None, "claims", params, tags) as tracker:
        tracker.set_tags({f"claim_{c.id}.verdict": c.verdict for c in result.claims})
        tracker.log_metrics({f"claim_{c.id}.{k}": v for c in result.claims if c.effect is not None
                             for k, v in (("effect", c.effect), ("ci_lo", c.lo), ("ci_hi", c.hi))}, step=0)
        for path in artifacts:
            tracker.log_artifact(path)
        return tracker.run_id
