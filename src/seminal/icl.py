"""In-context learning evaluation (Brown et al. 2020, "Language Models are Few-Shot Learners", §2.4).

No gradient step: each evaluated example is turned into a prompt of K demonstrations drawn from
the task's training split, followed by the example itself, and every candidate completion (the
label rendered as a word, the *verbalizer*) is scored by the language model.

    preds = evaluate(model, sp, task, train, dev, k="few", seed=0, n_ctx=256)

The paper's protocol and ours (§2.4 and Appendix G):
- K demonstrations are drawn at random from the training split for each evaluated example
  ("randomly drawing K examples from that task's training set as conditioning"). Ours: drawn with
  numpy.random.default_rng([seed, i]) for example i, so one seed fixes every prompt, and example
  i's prompt does not depend on which other examples are evaluated or on the batching. A
  training example is never a demonstration of itself: candidates with the same index (when the
  two splits are the same split) or the same text (whitespace and case folded) are skipped.
- K in {0, 1, few}; few = "as many as will fit in the model's context window" (§2.4, 10 to 100
  in the paper). Ours: `k="few"` is `max_few` (default 10) demonstrations, and any K is cut to
  what fits in n_ctx, dropping the oldest (farthest from the query) demonstrations first. With
  n_ctx 256, 8 demonstrations of a single-sentence task fit (~25 tokens each), of a pair task
  about 3-4 (~60-75 tokens each); the number actually used is reported in `stats`.
- Demonstrations are "delimited by 1 or 2 newlines depending on the task" (§2.4), and the
  paper's prompts use newlines inside an example too (RTE: "<premise>\nquestion: <hypothesis>
  True or False?\nanswer:"). The project's sentencepiece model normalises a newline away, and
  the pretraining corpus marks every sentence end with [EOS] (seminal.tokenize.encode_corpus), so
  a newline is rendered as one [EOS]: the line break the model has seen in pretraining. The prompt
  starts with an [EOS] as every corpus sentence does.
- Scoring: "we compute the likelihood of each completion, normalized per token" (§2.4): the mean
  log-probability of the completion's tokens given the prompt; the highest wins. Efficient: when
  every verbalizer is one piece, one forward per prompt and read the next-token distribution;
  otherwise all the completions of a prompt are packed after it in ONE sequence (each completion
  attends to the prompt and to its own earlier tokens only, its positions continuing from the
  prompt's end: exactly the log-probabilities of separate prompt+completion forwards), so the
  cost is again one forward per prompt. Prompts are batched, sorted by length.
- STS-B (regression, 0-5): the paper does not evaluate it. We score the words "zero".."five" and
  predict the expected value sum_s s * p(s), p = softmax over the six per-token-normalised
  log-likelihoods; demonstrations show the gold score rounded to the nearest word. STS-B's
  metrics (Pearson, Spearman) are invariant to the scale and shift of the predictions, so any
  monotone use of the model's preference among the six words is scored fairly.

Templates and verbalizers are data: each task's `prompt` in its benchmark file
(config/benchmarks/*.yaml, `seminal.benchmark.Prompt`); this module only renders and scores them.
The built-in ones follow the paper's style (RTE and CB, Appendix G) and, for tasks the paper does
not have, lm-evaluation-harness's GLUE prompts written in that style. The embedded
benchmark's tokenizer (600 unigram pieces trained on the synglue corpus) cannot encode ':', digits
or most capital letters ([UNK]), so the keywords are lowercase and without the colon
("question ...", "answer"), and the verbalizers are lowercase words that encode without [UNK] in
1-3 pieces: true (2 pieces) / false (3), yes (3) / no (1), good (2) / bad (2), neither (5),
zero..five for STS-B. true, no, good and bad occur in the pretraining corpus; the others do
not, so only the demonstrations can teach the model what they mean - as for GPT-3's smaller
models, the zero-shot column is expected at chance. `check_encodable` lists any [UNK] and the
piece counts for a given tokenizer; a caller's own prompt (`prompt=` mapping with `template` and
`verbalizer`) replaces the benchmark file's for a task.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seminal.benchmark import Prompt, TaskSpec, check_prompt
from seminal.data import Split
from seminal.errors import SeminalError
from seminal.tokenize import EOS, UNK

FEW = "few"
MAX_FEW = 10  # default number of demonstrations for k="few" (the paper's lower end; cut to what fits n_ctx)


def get_prompt(task: TaskSpec, prompt: Prompt | dict[str, Any] | None = None) -> Prompt:
    """The caller's prompt (a Prompt or a {template, verbalizer} mapping), checked against the
    task's labels, or the task's own from its benchmark file (AX: MNLI's, checked on loading)."""
    if isinstance(prompt, dict):
        unknown = set(prompt) - {"template", "verbalizer"}
        if unknown:
            raise SeminalError(f"prompt for {task.name}: unknown key(s) {sorted(unknown)} (template, verbalizer)")
        prompt = Prompt(str(prompt["template"]), {str(k): str(v) for k, v in dict(prompt["verbalizer"]).items()})
    if prompt is not None:
        return check_prompt(task, prompt)
    if task.prompt is None:
        raise SeminalError(f"no default in-context prompt for task {task.name}: give it a `prompt` "
                           "(template, verbalizer) in its benchmark file")
    return task.prompt


def _lines(prompt: Prompt, s1: str, s2: str | None) -> list[str]:
    return prompt.template.format(sentence1=s1, sentence2=s2 if s2 is not None else "").split("\n")


def check_encodable(sp: Any, prompt: Prompt) -> dict[str, Any]:
    """Piece counts of the template's fixed words and of each verbalizer, and any [UNK] pieces."""
    fixed = " ".join(_lines(prompt, "", "")).split()
    report = {"template_pieces": sum(len(sp.encode(w)) for w in fixed),
              "verbalizer_pieces": {w: len(sp.encode(w)) for w in prompt.verbalizer.values()},
              "unk": sorted({w for w in fixed + list(prompt.verbalizer.values()) if UNK in sp.encode(w)})}
    return report


# ---------------------------------------------------------------------------------------------
# prompts as token ids


def _encode_examples(sp: Any, prompt: Prompt, split: Split) -> list[list[int]]:
    """Each example's context ids: its lines joined by [EOS], ending with the answer prefix."""
    s2 = split.sentence2 if split.sentence2 is not None else [None] * len(split)
    rendered = [_lines(prompt, a, b) for a, b in zip(split.sentence1, s2)]
    n_lines = len(rendered[0]) if rendered else 0
    flat = sp.encode([line for lines in rendered for line in lines], out_type=int)
    out = []
    for i in range(len(rendered)):
        ids: list[int] = []
        for j, line_ids in enumerate(flat[i * n_lines:(i + 1) * n_lines]):
            ids.extend(line_ids if j == 0 else [EOS] + line_ids)
        out.append(ids)
    return out


def _label_word(prompt: Prompt, task: TaskSpec, label: str) -> str:
    if not task.is_regression:
        return prompt.verbalizer[label]
    keys = sorted(prompt.verbalizer, key=float)
    return prompt.verbalizer[min(keys, key=lambda k: abs(float(k) - float(label)))]  # nearest score word


def _text_key(split: Split, i: int) -> tuple[str, str]:
    def norm(s: str) -> str:
        return " ".join(s.split()).casefold()
    return norm(split.sentence1[i]), norm(split.sentence2[i]) if split.sentence2 is not None else ""


def choose_demonstrations(train: Split, eval_split: Split, i: int, k: int, seed: int) -> list[int]:
    """Indices into `train` of the k demonstrations for evaluated example i (order: oldest first).
    Never the evaluated example: same index when both are the same split, or the same text."""
    if k <= 0:
        return []
    same_split = train.task == eval_split.task and train.split == eval_split.split
    target = _text_key(eval_split, i)
    rng = np.random.default_rng([seed, i])
    chosen: list[int] = []
    for j in rng.permutation(len(train)):
        j = int(j)
        if (same_split and j == i) or _text_key(train, j) == target:
            continue
        chosen.append(j)
        if len(chosen) == k:
            break
    return chosen


@dataclass
class _Built:
    context: list[int]  # prompt ids, ending with the query's answer prefix
    n_demos: int


def build_prompt(demos: list[list[int]], query: list[int], n_ctx: int, reserve: int) -> _Built:
    """[EOS] demo_1 [EOS] ... demo_m [EOS] query, with the oldest demonstrations dropped until
    it fits n_ctx - reserve tokens (reserve = the longest completion). Each demo ends with its
    completion. A query longer than the budget alone keeps its last tokens."""
    budget = n_ctx - reserve
    kept: list[list[int]] = []
    used = 1 + len(query)
    for d in reversed(demos):  # newest first: the oldest are the first to go
        if used + len(d) + 1 > budget:
            break
        kept.insert(0, d)
        used += len(d) + 1
    ids = [EOS]
    for d in kept:
        ids.extend(d)
        ids.append(EOS)
    ids.extend(query)
    return _Built(ids[-budget:], len(kept))


# ---------------------------------------------------------------------------------------------
# scoring


@torch.no_grad()
def score_completions(model: torch.nn.Module, contexts: list[list[int]], completions: list[list[int]],
                      batch_size: int = 16) -> np.ndarray:
    """(n, L) mean log-probability of each completion's tokens given each context (per-token
    normalised, §2.4). One forward per context: single-piece completions read the next-token
    distribution; longer ones are packed after the context (see the module docstring)."""
    if any(len(c) == 0 for c in completions):
        raise SeminalError("an empty completion cannot be scored")
    n, L = len(contexts), len(completions)
    out = np.zeros((n, L), dtype=np.float64)
    single = all(len(c) == 1 for c in completions)
    comp_flat = [t for c in completions for t in c]
    order = np.argsort([len(c) for c in contexts], kind="stable")
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        lens = [len(contexts[r]) for r in rows]
        extra = 0 if single else len(comp_flat)
        T = max(lens) + extra
        idx = torch.zeros(len(rows), T, dtype=torch.long)
        if single:
            for b, r in enumerate(rows):
                idx[b, :lens[b]] = torch.tensor(contexts[r])
            last = model(idx)[torch.arange(len(rows)), torch.tensor(lens) - 1]  # (B, V)
            logp = torch.log_softmax(last.float(), dim=-1)
            out[rows] = logp[:, [c[0] for c in completions]].double().numpy()
            continue
        pos = torch.zeros(len(rows), T, dtype=torch.long)
        branch = torch.full((len(rows), T), -2, dtype=torch.long)  # -1 context, j completion j, -2 pad
        tgt_pos, tgt_tok, tgt_comp = [], [], []  # per row: predicting position, target id, completion
        for b, r in enumerate(rows):
            Lc = lens[b]
            seq = list(contexts[r]) + comp_flat
            idx[b, :len(seq)] = torch.tensor(seq)
            pos[b, :Lc] = torch.arange(Lc)
            branch[b, :Lc] = -1
            p = Lc
            for j, c in enumerate(completions):
                pos[b, p:p + len(c)] = torch.arange(Lc, Lc + len(c))
                branch[b, p:p + len(c)] = j
                for t in range(len(c)):  # token t of completion j is predicted at ...
                    tgt_pos.append((b, Lc - 1 if t == 0 else p + t - 1))  # ... the previous token
                    tgt_tok.append(c[t])
                    tgt_comp.append((b, j))
                p += len(c)
        # query q may attend key k: k not later, and k in the context or in q's own completion
        mask = (pos[:, None, :] <= pos[:, :, None]) & (
            (branch[:, None, :] == -1) | (branch[:, None, :] == branch[:, :, None]))  # (B, T, T)
        bi = torch.tensor([b for b, _ in tgt_pos])
        ti = torch.tensor([t for _, t in tgt_pos])
        logits = model(idx, pos=pos, mask=mask)[bi, ti]  # (n_targets, V): only where a target is
        lp = torch.log_softmax(logits.float(), dim=-1)[torch.arange(len(tgt_tok)), torch.tensor(tgt_tok)]
        lp = lp.double().numpy()
        sums = np.zeros((len(rows), L))
        counts = np.zeros((len(rows), L))
        np.add.at(sums, tuple(np.array(tgt_comp).T), lp)
        np.add.at(counts, tuple(np.array(tgt_comp).T), 1)
        out[rows] = sums / counts
    return out


def evaluate(model: torch.nn.Module, sp: Any, task: TaskSpec, train: Split, eval_split: Split,
             k: int | str, seed: int, n_ctx: int, batch_size: int = 16, max_few: int = MAX_FEW,
             max_examples: int | None = None, prompt: Prompt | dict[str, Any] | None = None,
             stats: dict[str, Any] | None = None, progress_every: float = 30.0) -> np.ndarray:
    """In-context predictions for `eval_split` (its first `max_examples` examples if set): class
    ids (positions in task.labels, int64) or, for regression, expected scores (float32).

    k: 0, 1, ... or "few" (= max_few, cut to what fits n_ctx). seed fixes the demonstrations.
    stats, if given, is filled with: examples, mean_demos, tokens, seconds, tokens_per_s.
    A progress line goes to stderr every `progress_every` seconds.
    """
    kk = max_few if k == FEW else int(k)
    if kk < 0:
        raise SeminalError(f"k must be >= 0 or 'few', got {k!r}")
    p = get_prompt(task, prompt)
    if kk > 0 and (train.labels is None or len(train) == 0):
        raise SeminalError(f"{task.name}: in-context demonstrations need a labelled training split")
    n = len(eval_split) if max_examples is None else min(len(eval_split), max_examples)
    keys = list(p.verbalizer) if task.is_regression else list(task.labels or ())
    completions = [sp.encode(p.verbalizer[key]) for key in keys]
    reserve = max(len(c) for c in completions)
    queries = _encode_examples(sp, p, eval_split)[:n]
    train_ids = _encode_examples(sp, p, train) if kk > 0 else []
    word_ids = {w: sp.encode(w) for w in set(p.verbalizer.values())}
    demo_cache: dict[int, list[int]] = {}

    def demo(j: int) -> list[int]:
        if j not in demo_cache:
            demo_cache[j] = train_ids[j] + word_ids[_label_word(p, task, train.labels[j])]  # type: ignore[index]
        return demo_cache[j]

    built = [build_prompt([demo(j) for j in choose_demonstrations(train, eval_split, i, kk, seed)],
                          queries[i], n_ctx, reserve) for i in range(n)]
    contexts = [b.context for b in built]
    was_training = model.training
    model.eval()
    t0 = last = time.perf_counter()
    scores = np.zeros((n, len(keys)))
    tokens = 0
    order = np.argsort([len(c) for c in contexts], kind="stable")
    chunk = batch_size * 8  # scored together (sorted by length inside), then a progress check
    try:
        for s in range(0, n, chunk):
            rows = order[s:s + chunk]
            scores[rows] = score_completions(model, [contexts[r] for r in rows], completions, batch_size)
            tokens += sum(len(contexts[r]) for r in rows)
            now = time.perf_counter()
            if now - last >= progress_every or s + chunk >= n:
                last = now
                print(f"icl {task.name} {eval_split.split} k={k} seed={seed}: {min(s + chunk, n)}/{n} "
                      f"examples, {tokens / max(now - t0, 1e-9):,.0f} tok/s", file=sys.stderr, flush=True)
    finally:
        model.train(was_training)
    seconds = time.perf_counter() - t0
    if stats is not None:
        stats.update(examples=n, mean_demos=float(np.mean([b.n_demos for b in built])) if n else 0.0,
                     tokens=tokens, seconds=seconds, tokens_per_s=tokens / max(seconds, 1e-9))
    if task.is_regression:
        values = np.array([float(key) for key in keys])
        w = np.exp(scores - scores.max(1, keepdims=True))
        return ((w / w.sum(1, keepdims=True)) @ values).astype(np.float32)
    return scores.argmax(1).astype(np.int64)
