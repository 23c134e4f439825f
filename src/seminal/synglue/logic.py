"""Exact entailment between quantified sentences, decided by enumerating every possible world.

A sentence of the MNLI-like task has the form Q(A, B): a quantifier over a restrictor set A
(dogs near the house) and a predicate set B (chased the bird), with Q in

    all      every A is B                 some     at least one A is B
    no       no A is B                    somenot  at least one A is not B

The premise is Q1(A1, B1) and the hypothesis Q2(A2, B2). What the words say about the sets is
a relation between restrictors (eq; sub: A2 is a subset of A1; sup: A2 a superset; disj) and
between predicates (eq; indep: unrelated, e.g. the roles were swapped). A world is the set of
kinds of individual that exist, a kind being membership in (A1, A2, B1, B2) consistent with the
relations; restrictors are non-empty (existential import, as NLI annotators read "all dogs").
The label is entailment if the hypothesis holds in every world where the premise does,
contradiction if in none, neutral otherwise (MacCartney & Manning's natural logic gives the same
answers on these forms; enumerating is simpler to trust).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

FORMS = ("all", "some", "no", "somenot")
REL_A = ("eq", "sub", "sup", "disj")
REL_B = ("eq", "indep")
LABELS = ("contradiction", "entailment", "neutral")


def _allowed(t: tuple[int, int, int, int], rel_a: str, rel_b: str) -> bool:
    a1, a2, b1, b2 = t
    ok_a = {"eq": a1 == a2, "sub": a1 or not a2, "sup": a2 or not a1, "disj": not (a1 and a2)}[rel_a]
    return ok_a and (b1 == b2 if rel_b == "eq" else True)


def _truth(form: str, w: np.ndarray, in_ab: int, in_anb: int) -> np.ndarray:
    if form == "all":
        return (w & in_anb) == 0
    if form == "some":
        return (w & in_ab) != 0
    if form == "no":
        return (w & in_ab) == 0
    return (w & in_anb) != 0  # somenot


@functools.cache
def _worlds(rel_a: str, rel_b: str) -> dict:
    types = [t for t in itertools.product((0, 1), repeat=4) if _allowed(t, rel_a, rel_b)]
    w = np.arange(1 << len(types), dtype=np.int64)

    def mask(pred) -> int:
        return sum(1 << i for i, t in enumerate(types) if pred(*t))

    exist = ((w & mask(lambda a1, a2, b1, b2: a1)) != 0) & ((w & mask(lambda a1, a2, b1, b2: a2)) != 0)
    side = {
        1: (mask(lambda a1, a2, b1, b2: a1 and b1), mask(lambda a1, a2, b1, b2: a1 and not b1)),
        2: (mask(lambda a1, a2, b1, b2: a2 and b2), mask(lambda a1, a2, b1, b2: a2 and not b2)),
    }
    return {"w": w, "exist": exist, "side": side}


@functools.cache
def nli_label(p_form: str, h_form: str, rel_a: str, rel_b: str) -> str:
    """entailment | contradiction | neutral for premise Q1(A1,B1), hypothesis Q2(A2,B2)."""
    ws = _worlds(rel_a, rel_b)
    p = _truth(p_form, ws["w"], *ws["side"][1]) & ws["exist"]
    h = _truth(h_form, ws["w"], *ws["side"][2])[p]
    if h.all():
        return "entailment"
    if not h.any():
        return "contradiction"
    return "neutral"


def table() -> dict[tuple[str, str, str, str], str]:
    """Every (premise form, hypothesis form, restrictor relation, predicate relation) -> label."""
    return {k: nli_label(*k) for k in itertools.product(FORMS, FORMS, REL_A, REL_B)}
