"""synglue: a deterministic, GLUE-shaped benchmark generated from a grammar and lexicon we own.

Nine tasks in exactly the official GLUE file layouts and label spaces (Wang et al. 2019, ICLR),
a diagnostic set (AX) and an unlabelled pretraining corpus, all drawn from one grammar
(`grammar`, `lexicon`). Labels are functions of meaning, so a perfect score is possible; each
task is designed so that word order and structure, not word identity, decide the label (role
swaps, attractors, negation scope, contrast, quantifier monotonicity), which leaves bag-of-words
baselines far from the ceiling. Every example carries the distance in words between the two
tokens its label depends on (`<split>.meta.tsv`), spread evenly over 1..max_distance.

    from seminal.synglue import SynGlueConfig, generate
    generate(Path("data/synglue"), SynGlueConfig(seed=0))

    task    label is a function of                          distance (words) between
    CoLA    subject-verb / reflexive agreement              subject head noun and verb / reflexive
    SST-2   sentiment word x negator or affirmer; contrast  operator (not, certainly) and sentiment word
    MRPC    equality of meaning (voice, synonyms vs roles)  sentence 1's subject head noun and verb
    STS-B   slot overlap: agent, verb, patient, polarity    sentence 1's subject head noun and verb
    QQP     equality of question meaning                    question 1's subject head noun and verb
    MNLI    quantifiers, monotonicity, negation (`logic`)   premise subject head noun and verb
    QNLI    does the sentence answer the question           the sentence's subject head noun and verb
    RTE     is the hypothesis one of the premise's facts    premise subject head noun and verb
    WNLI    the only noun agreeing with the pronoun         pronoun and its antecedent
    AX      as MNLI, one phenomenon per pair                premise subject head noun and verb

Same config, same bytes: every task and split draws from its own seeded stream
(`files.split_rng(seed, task, split)`), so a task does not depend on another's size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from seminal.errors import SeminalError
from seminal.io import atomic_open, write_json
from seminal.synglue.corpus import corpus_lines, normalize
from seminal.synglue.files import TASKS, generate_split, split_rng, write_task

__all__ = ["SynGlueConfig", "generate", "TASKS"]


@dataclass
class SynGlueConfig:
    seed: int = 0
    train_size: int = 5000  # per task (MNLI: matched training templates)
    dev_size: int = 1000  # per dev split (MNLI: each of matched and mismatched)
    test_size: int = 1000  # per test split
    diagnostic_size: int = 1000  # AX pairs (GLUE's diagnostic set has 1104)
    corpus_tokens: int = 5_000_000  # words in corpus/corpus.txt
    max_distance: int = 14  # longest dependency distance; distances are spread over 1..max_distance


def _check(cfg: SynGlueConfig) -> None:
    sizes = (cfg.train_size, cfg.dev_size, cfg.test_size, cfg.diagnostic_size, cfg.corpus_tokens)
    if min(sizes) < 0:
        raise SeminalError(f"synglue sizes must be >= 0, got {cfg}")
    if not 1 <= cfg.max_distance <= 40:
        raise SeminalError(f"synglue max_distance must be in 1..40, got {cfg.max_distance}")


def _size(cfg: SynGlueConfig, split: str) -> int:
    if split == "train":
        return cfg.train_size
    if split == "diagnostic":
        return cfg.diagnostic_size
    return cfg.dev_size if split.startswith("dev") else cfg.test_size


def generate(out_dir: Path, cfg: SynGlueConfig | None = None) -> None:
    """Write <Task>/<split>.tsv (+ .meta.tsv), diagnostic/, corpus/corpus.txt and synglue.json."""
    cfg = cfg or SynGlueConfig()
    _check(cfg)
    out_dir = Path(out_dir)
    held_out: set[str] = set()  # normalised dev/test sentences, kept out of the corpus
    for task in TASKS.values():
        seen: set = set()
        data = {}
        for split, gen in task.splits.items():
            rng = split_rng(cfg.seed, task.name, split)
            data[split] = generate_split(gen, rng, _size(cfg, split), task.num_classes, cfg.max_distance,
                                         seen, f"{task.name}/{split}")
            if split != "train":
                for ex in data[split]:
                    held_out.add(normalize(ex.s1))
                    if ex.s2 is not None:
                        held_out.add(normalize(ex.s2))
        write_task(out_dir, task, data, split_rng(cfg.seed, task.name, "ids"))
    with atomic_open(out_dir / "corpus" / "corpus.txt") as f:
        for line in corpus_lines(split_rng(cfg.seed, "corpus"), cfg.corpus_tokens, held_out, cfg.max_distance):
            f.write(line + "\n")
    write_json(out_dir / "synglue.json", {"generator": "seminal.synglue", "config": dataclasses.asdict(cfg)})
