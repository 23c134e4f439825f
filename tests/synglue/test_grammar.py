"""The grammar's pieces by hand: rendering, distances, exact modifier lengths, the NLI oracle."""

from __future__ import annotations

import random

import pytest

from seminal.synglue import grammar as g
from seminal.synglue import lexicon as lx
from seminal.synglue.logic import nli_label, table


def test_hand_built_sentence_and_distance():
    # The cats near the old house run.   head "cats" (1) -> verb "run" (6): 5 words apart
    house = g.Ent(lx.NOUNS["house"], False, (lx.ADJS["old"],))
    cats = g.Ent(lx.NOUNS["cat"], True, (), g.Mod("pp", "near", house))
    rng = random.Random(0)
    t = g.sentence(g.node("S", g.np_tree(cats, rng, "the", {cats.noun: 1}), ("VP", g.leaf("VBP", "run", 2))))
    words, dist = g.realize(t)
    assert g.text(words) == "The cats near the old house run."
    assert g.text(words, "sst") == "the cats near the old house run ."
    assert dist == 5 == g.mod_len(cats.mod) + 1
    assert g.binary_parse(t, g.cap_words(words)) == "( ( ( The cats ) ( near ( the ( old house ) ) ) ) ( run . ) )"
    assert g.ptb_parse(t, g.cap_words(words)) == (
        "(ROOT (S (NP (NP (DT The) (NNS cats)) (PP (IN near) (NP (DT the) (JJ old) (NN house)))) "
        "(VP (VBP run)) (. .)))")


def test_punctuation_does_not_count_and_a_becomes_an():
    t = ("S", g.leaf("RB", "not", 1), g.leaf(",", ","), g.leaf("RB", "overall"), g.leaf(",", ","),
         g.leaf("DT", "a"), g.leaf("JJ", "old", 2))
    words, dist = g.realize(t)
    assert words == ["not", ",", "overall", ",", "an", "old"] and dist == 3


def test_relative_clause_variants_mean_the_same():
    rng = random.Random(1)
    dog = g.Ent(lx.NOUNS["beagle"], False, (), g.Mod("ro", lx.VERBS["see"], g.Ent(lx.NOUNS["king"])))
    plain, _ = g.realize(g.np_tree(dog, rng))
    passive, _ = g.realize(g.np_tree(dog, rng, reform=True))
    assert plain[-3:] == ["the", "king", "saw"]
    assert passive[-4:] == ["seen", "by", "the", "king"] and passive[-5] == "was"


@pytest.mark.parametrize("n", range(0, 14))
def test_subject_filler_has_exactly_n_words(n):
    for seed in range(40):
        rng = random.Random(seed)
        ctx = g.Ctx()
        head = g.sample_ent(rng, g.ANIMATE_POOL, ctx)
        try:
            mod, adv = g.subject_filler(rng, n, head.noun, ctx)
        except g.Retry:
            continue
        assert g.mod_len(mod) + len(adv) == n
        nouns = [head.noun] + [e.noun for e in g.mod_nouns(mod)]
        assert not any(g.related(a, b) for i, a in enumerate(nouns) for b in nouns[i + 1:])


def test_taxonomy():
    dog, poodle, cat, animal = (lx.NOUNS[k] for k in ("dog", "poodle", "cat", "animal"))
    assert lx.is_a(poodle, dog) and lx.is_a(poodle, animal) and not lx.is_a(dog, poodle)
    assert lx.disjoint(dog, cat) and not lx.disjoint(dog, animal)
    assert lx.pronoun(lx.NOUNS["queen"], False) == "she" and lx.pronoun(lx.NOUNS["farmer"], False) is None
    assert lx.pronoun(lx.NOUNS["farmer"], True) == "they"


@pytest.mark.parametrize("case,label", [
    (("all", "all", "sub", "eq"), "entailment"),  # all dogs chased -> all poodles chased
    (("all", "all", "sup", "eq"), "neutral"),  # all dogs -> all animals
    (("some", "some", "sup", "eq"), "entailment"),  # some poodles -> some dogs
    (("some", "some", "sub", "eq"), "neutral"),  # some dogs -> some poodles
    (("no", "no", "sub", "eq"), "entailment"),  # no dogs -> no poodles
    (("no", "no", "sup", "eq"), "neutral"),
    (("no", "some", "eq", "eq"), "contradiction"),
    (("all", "somenot", "eq", "eq"), "contradiction"),
    (("all", "some", "sup", "eq"), "entailment"),  # existential import: dogs exist
    (("some", "somenot", "eq", "eq"), "neutral"),
    (("all", "all", "disj", "eq"), "neutral"),  # all dogs -> all cats
])
def test_nli_oracle(case, label):
    assert nli_label(*case) == label


def test_unrelated_predicates_are_always_neutral():
    assert {v for k, v in table().items() if k[3] == "indep"} == {"neutral"}
