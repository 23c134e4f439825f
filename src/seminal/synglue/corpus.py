"""The unlabelled pretraining corpus: multi-sentence documents from the same grammar and lexicon.

A document is either a review (SST-2-style sentences, lower-cased and tokenised like SST-2) or
a story mixing every construction the tasks use, always in its true or well-formed variant:
grammatical agreement, paraphrase pairs, questions followed by their answers, premises followed
by what they entail, pronoun sentences followed by their resolution, quantified statements in
matched and held-out templates. One sentence per line, a blank line between documents.
No line equals (after lower-casing and dropping punctuation) any dev or test sentence, so
pretraining never sees an evaluation sentence.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from seminal.synglue import nli, pairs, tasks
from seminal.synglue.grammar import Retry

_NON_WORD = re.compile(r"[^\w\s]")


def normalize(sentence: str) -> str:
    """The form in which corpus and evaluation sentences are compared."""
    return " ".join(_NON_WORD.sub(" ", sentence.lower()).split())


# (weight, generator, class to ask for, which sentences of the example to keep)
_STORY = (
    (3, tasks.cola, 1, "1"),  # grammatical, present tense
    (2, pairs.mrpc, 1, "12"),  # a sentence and a paraphrase
    (1, pairs.stsb, 4, "1"),
    (2, pairs.qnli, 0, "12"),  # a question and a sentence that answers it
    (1, pairs.qqp, 1, "1"),
    (2, pairs.rte, 0, "12"),  # a premise and a fact it entails
    (2, nli.mnli_matched, 1, "12"),  # a quantified premise and its entailment
    (1, nli.mnli_mismatched, 1, "12"),
    (2, tasks.wnli, 1, "12"),  # a pronoun sentence and its resolution
)
_WEIGHTS = [w for w, *_ in _STORY]


def _sentences(rng: random.Random, gen, y: int, keep: str, max_distance: int) -> list[str]:
    for _ in range(200):
        try:
            ex = gen(rng, y, rng.randint(1, max_distance))
        except Retry:
            continue
        return [ex.s1 if k == "1" else ex.s2 for k in keep]
    return []


def documents(rng: random.Random, max_distance: int) -> Iterator[list[str]]:
    while True:
        if rng.random() < 0.25:
            n, doc = rng.randint(3, 7), []
            for _ in range(n):
                doc += _sentences(rng, tasks.sst, rng.randrange(2), "1", max_distance)
            yield doc
        else:
            n, doc = rng.randint(2, 6), []
            for _ in range(n):
                _, gen, y, keep = rng.choices(_STORY, _WEIGHTS)[0]
                doc += _sentences(rng, gen, y, keep, max_distance)
            yield doc


def corpus_lines(rng: random.Random, n_tokens: int, exclude: set[str], max_distance: int) -> Iterator[str]:
    """Lines of the corpus file (documents separated by an empty line) until n_tokens words."""
    total, first = 0, True
    if n_tokens <= 0:
        return
    for doc in documents(rng, max_distance):
        kept = [s for s in doc if normalize(s) not in exclude]
        if not kept:
            continue
        if not first:
            yield ""
        first = False
        for s in kept:
            yield s
            total += len(s.split())
            if total >= n_tokens:
                return
