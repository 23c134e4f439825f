"""Labels and distances recomputed from the written sentences with the lexicon alone.

These re-derive what the generator claims, row by row, without using its code paths: agreement
and reflexives for CoLA, operator-times-polarity for SST-2, the unique agreeing antecedent for
WNLI, and the subject-head-to-verb distance for the pair tasks.
"""

from __future__ import annotations

from collections import Counter

from seminal.benchmark import load_benchmark
from seminal.data import read_split
from seminal.synglue import lexicon as lx

NOUN = {}
for _n in lx.NOUNS.values():
    for _sg, _pl in _n.forms:
        NOUN[_sg] = (_n, False)
        if _pl:
            NOUN[_pl] = (_n, True)
SINGULAR_VERB = {f[1] for v in lx.VERBS.values() for f in v.forms} | {s for _, s, _ in lx.INTRANSITIVE} | {
    "is", "was", "has", "does"}
PLURAL_VERB = {f[0] for v in lx.VERBS.values() for f in v.forms} | {b for b, _, _ in lx.INTRANSITIVE} | {
    "are", "were", "have", "do"}
PAST = {f[i] for v in lx.VERBS.values() for f in v.forms for i in (2, 3)} | {"did", "was", "were"}


def words(s: str) -> list[str]:
    return [w for w in (t.strip(".,?").lower() for t in s.split()) if w]


def first_noun(ws: list[str]) -> int:
    return next(i for i, w in enumerate(ws) if w in NOUN)


def _split(spec_path, root, task, split):
    spec = load_benchmark(spec_path)
    return read_split(spec.task(task), split, root)


def test_cola_labels_follow_agreement(synglue_dir, spec_path, read_tsv):
    rows = read_tsv(synglue_dir / "CoLA" / "train.tsv")
    meta = read_tsv(synglue_dir / "CoLA" / "train.meta.tsv")[1:]
    checked = Counter()
    for (source, label, _, sentence), (dist, phen) in zip(rows, meta):
        ws = words(sentence)
        h = first_noun(ws)
        noun, plural = NOUN[ws[h]]
        target = ws[h + int(dist)]  # the token the label depends on, `distance` words after the head
        if phen == "reflexive":
            assert target in lx.REFLEXIVE.values(), sentence
            good = target == lx.REFLEXIVE[lx.pronoun(noun, plural)]
        else:
            assert target in SINGULAR_VERB | PLURAL_VERB, sentence
            plural_subject = plural if phen == "agreement" else True  # coordinated subjects are plural
            good = (target in PLURAL_VERB) == plural_subject
        assert good == (label == "1"), sentence
        checked[phen] += 1
    assert min(checked.values()) > 100 and len(checked) == 3


def test_sst2_labels_follow_negation_scope(synglue_dir, spec_path):
    s = _split(spec_path, synglue_dir, "SST-2", "train")
    operators = set(lx.NEGATORS) | set(lx.AFFIRMERS)
    checked = 0
    for sentence, label, dist, phen in zip(s.sentence1, s.labels, s.distance, s.phenomenon):
        ws = words(sentence)
        if phen == "contrast" or "that" in ws:  # one clause, no relative clause
            continue
        (op,) = [i for i, w in enumerate(ws) if w in operators]
        adj = len(ws) - 1
        assert adj - op == dist, sentence
        positive = ws[adj] in lx.POSITIVE
        assert positive or ws[adj] in lx.NEGATIVE
        assert (positive != (ws[op] in lx.NEGATORS)) == (label == "1"), sentence
        checked += 1
    assert checked > 300


def test_wnli_labels_follow_the_unique_agreeing_antecedent(synglue_dir, spec_path):
    s = _split(spec_path, synglue_dir, "WNLI", "train")
    for s1, s2, label, dist in zip(s.sentence1, s.sentence2, s.labels, s.distance):
        ws = words(s1)
        ((p, pron),) = [(i, w) for i, w in enumerate(ws) if w in ("he", "she", "it", "they")]
        agreeing = [i for i, w in enumerate(ws) if w in NOUN and lx.pronoun(*NOUN[w]) == pron]
        assert len(agreeing) == 1, s1  # no ambiguity
        (a,) = agreeing
        assert p - a == dist, s1
        candidate = NOUN[words(s2)[first_noun(words(s2))]]
        assert (candidate == NOUN[ws[a]]) == (label == "1"), (s1, s2)


def test_pair_distances_run_from_subject_head_to_verb(synglue_dir, spec_path):
    checked = Counter()
    for task, split, column in (("MRPC", "train", 1), ("STS-B", "train", 1), ("RTE", "train", 1),
                                ("QNLI", "train", 2), ("MNLI", "train", 1), ("MNLI", "dev_mismatched", 1)):
        s = _split(spec_path, synglue_dir, task, split)
        sentences = s.sentence1 if column == 1 else s.sentence2
        for sentence, dist in zip(sentences, s.distance):
            ws = words(sentence)
            if ws[:2] == ["it", "is"]:  # "it is not the case that ...": the subject comes later
                continue
            h = first_noun(ws)
            assert ws[h + dist] in PAST, (task, sentence, dist)
            checked[task] += 1
    assert min(checked.values()) > 400


def test_distances_cover_every_bucket(synglue_dir, spec_path, small_cfg):
    spec = load_benchmark(spec_path)
    for task in spec.tasks.values():
        for split in task.splits:
            s = read_split(task, split, synglue_dir)
            d = s.distance
            assert min(d) >= 1 and max(d) <= small_cfg.max_distance
            for lo, hi in ((1, 2), (3, 5), (6, 9), (10, small_cfg.max_distance)):
                share = sum(lo <= x <= hi for x in d) / len(d)
                assert share >= 0.10, (task.name, split, lo, hi, share)
            if s.labels is not None and not task.is_regression and len(s) >= 500:
                near = Counter(lab for lab, x in zip(s.labels, d) if x <= 2)  # balanced within a bucket
                assert max(near.values()) - min(near.values()) <= 0.2 * sum(near.values()), (task.name, near)
