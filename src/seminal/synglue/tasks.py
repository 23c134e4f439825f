"""Example generators for the single-sentence tasks (CoLA, SST-2) and the pronoun task (WNLI).

Every generator is `gen(rng, y, d) -> Example`: y is the class to produce (an index into the
task's labels) and d the dependency distance to produce; the caller draws (y, d) from a
balanced plan, so labels and distances are independent of each other. Labels follow from the
meaning by construction, and each design makes a label depend on a pair of tokens d words apart
whose *combination* decides it (an exclusive-or a bag of words cannot represent):

  CoLA   grammatical iff the verb agrees in number with the subject head noun, across attractor
         PPs and relative clauses (Linzen et al. 2016); reflexives agree with the subject;
         coordinated subjects take plural verbs.
  SST-2  positive iff the sentiment word's polarity, flipped by the negator (not, never) or kept
         by the affirmer (certainly, truly) that scopes over it, is positive; with contrast
         ("X, but Y"; "although X, Y") the main clause decides.
  WNLI   sentence 2 replaces the pronoun with a candidate noun; 1 iff it is the pronoun's
         antecedent, the only noun in sentence 1 that agrees with it in gender and number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from seminal.synglue import grammar as g
from seminal.synglue import lexicon as lx
from seminal.synglue.grammar import pick


@dataclass
class Example:
    s1: str
    s2: str | None
    label: str  # as written in the files; STS-B: the score with 3 decimals
    distance: int
    phenomenon: str
    extra: dict = field(default_factory=dict)  # task-specific columns (CoLA source, MNLI genre, parses)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.s1, self.s2)


def checked_words(t: g.Tree, d: int) -> list[str]:
    words, dist = g.realize(t)
    if dist != d:
        raise AssertionError(f"built distance {dist}, wanted {d}: {' '.join(words)}")
    return words


# ---------------------------------------------------------------------------------------------
# CoLA: agreement

DETS = {False: ("the", "the", "the", "this", "that"), True: ("the", "the", "the", "these", "those")}


def _present_vp(rng: random.Random, plural: bool, ctx: g.Ctx) -> g.Tree:
    """A present-tense VP whose first word agrees with a subject of the given number (mark 2)."""
    kind = rng.randrange(6)
    if kind == 0:
        base, s3, _ = pick(rng, lx.INTRANSITIVE)
        return ("VP", g.leaf("VBP" if plural else "VBZ", base if plural else s3, 2))
    if kind == 1:
        v = pick(rng, g.VERB_LIST)
        f = g.verb_forms(v, rng)
        obj = g.np_tree(g.sample_ent(rng, g.patient_pool(v, rng, ctx), ctx), rng)
        return ("VP", g.leaf("VBP" if plural else "VBZ", f[0] if plural else f[1], 2), obj)
    if kind in (2, 3):
        be = ("are", "is") if kind == 2 else ("were", "was")
        adj = pick(rng, pick(rng, g.ADJ_LIST).forms)
        return ("VP", g.leaf("VBP" if kind == 2 else "VBD", be[0] if plural else be[1], 2), ("ADJP", g.leaf("JJ", adj)))
    v = pick(rng, g.VERB_LIST)
    f = g.verb_forms(v, rng)
    obj = g.np_tree(g.sample_ent(rng, g.patient_pool(v, rng, ctx), ctx), rng)
    if kind == 4:
        return ("VP", g.leaf("VBP" if plural else "VBZ", "have" if plural else "has", 2), ("VP", g.leaf("VBN", f[3]), obj))
    return ("VP", g.leaf("VBP" if plural else "VBZ", "do" if plural else "does", 2), g.leaf("RB", "not"),
            ("VP", g.leaf("VB", f[0]), obj))


def cola_agreement(rng: random.Random, good: bool, d: int) -> tuple[g.Tree, str]:
    ctx = g.Ctx()
    head = g.sample_ent(rng, g.ANIMATE_POOL, ctx, plural=rng.random() < 0.5)
    mod, adv = g.subject_filler(rng, d - 1, head.noun, ctx)
    head = g.with_mod(head, mod)
    subj = g.np_tree(head, rng, pick(rng, DETS[head.plural]), {head.noun: 1})
    vp = _present_vp(rng, head.plural == good, ctx)
    return g.sentence(g.node("S", subj, g.advp(adv), vp)), "agreement"


def cola_reflexive(rng: random.Random, good: bool, d: int) -> tuple[g.Tree, str]:
    """The king near the girls praised himself / *themselves. Distance head -> reflexive."""
    ctx = g.Ctx()
    head = g.sample_ent(rng, lx.GENDERED + lx.ANIMALS, ctx, plural=rng.random() < 0.4)
    if head.noun.parent is None:
        raise g.Retry
    mod, adv = g.subject_filler(rng, d - 2, head.noun, ctx)
    head = g.with_mod(head, mod)
    right = g.pron_of(head)
    if good:
        refl = lx.REFLEXIVE[right]
    else:
        lures = [p for e in g.mod_nouns(mod) if (p := g.pron_of(e)) and p != right]
        wrong = lures if lures and rng.random() < 0.6 else [p for p in lx.REFLEXIVE if p != right]
        refl = lx.REFLEXIVE[pick(rng, wrong)]
    v = g.verb_forms(pick(rng, g.ANIMATE_VERBS), rng)
    subj = g.np_tree(head, rng, pick(rng, DETS[head.plural]), {head.noun: 1})
    vp = ("VP", g.leaf("VBD", v[2]), ("NP", g.leaf("PRP", refl, 2)))
    return g.sentence(g.node("S", subj, g.advp(adv), vp)), "reflexive"


def cola_coordination(rng: random.Random, good: bool, d: int) -> tuple[g.Tree, str]:
    """The dog and the cat near the house run / *runs. Distance first conjunct -> verb."""
    ctx = g.Ctx()
    first = g.sample_ent(rng, g.ANIMATE_POOL, ctx, plural=rng.random() < 0.3, adj_p=0.0)
    n_adv = rng.choice((0, 0, 1, 2)) if d >= 6 else 0
    second = g.sample_np(rng, d - 2 - n_adv, g.ANIMATE_POOL, ctx, plural=rng.random() < 0.3)
    subj = ("NP", g.np_tree(first, rng, "the", {first.noun: 1}), g.leaf("CC", "and"), g.np_tree(second, rng))
    vp = _present_vp(rng, good, ctx)
    return g.sentence(g.node("S", subj, g.advp(g.discourse(rng, n_adv)), vp)), "coordination"


def cola(rng: random.Random, y: int, d: int) -> Example:
    good = y == 1
    r = rng.random()
    if d >= 2 and r < 0.25:
        t, phen = cola_reflexive(rng, good, d)
    elif d >= 4 and r < 0.37:
        t, phen = cola_coordination(rng, good, d)
    else:
        t, phen = cola_agreement(rng, good, d)
    words = checked_words(t, d)
    source = {"agreement": "sg01", "reflexive": "sg02", "coordination": "sg03"}[phen]
    return Example(g.text(words), None, str(y), d, phen, {"source": source, "mark": "" if good else "*"})


# ---------------------------------------------------------------------------------------------
# SST-2: negation scope and contrast

_FILLER_BY_LEN: dict[int, list[tuple[str, ...]]] = {}
for _f in lx.FILLERS:
    _FILLER_BY_LEN.setdefault(len(_f.split()), []).append(tuple(_f.split()))


def _sst_filler(rng: random.Random, k: int) -> list[tuple]:
    """Exactly k words (commas not counted) between an operator and the sentiment word:
    up to two intensifiers after parenthetical phrases ("not , in the end , very good")."""
    if k == 0:
        return []
    n_int = pick(rng, [i for i in (0, 1, 1, 2) if i <= k])
    rest, phrases = k - n_int, []
    while rest:
        if rest in _FILLER_BY_LEN and (rest <= 2 or rng.random() < 0.7):
            n = rest
        else:
            n = pick(rng, [a for a in _FILLER_BY_LEN if a < rest])
        phrase = pick(rng, _FILLER_BY_LEN[n])
        if phrase in phrases:
            raise g.Retry
        phrases.append(phrase)
        rest -= n
    out: list[tuple] = []
    for p in phrases:
        out += [g.leaf(",", ",")] + [g.leaf("RB", w) for w in p]
    if phrases:
        out.append(g.leaf(",", ","))
    if n_int == 1:
        out.append(g.leaf("RB", pick(rng, lx.INTENSIFIERS)))
    elif n_int == 2:
        out += [g.leaf("RB", w) for w in pick(rng, lx.INTENSIFIERS2).split()]
    return out


def _sentiment(rng: random.Random, pol: bool) -> tuple[str, str, bool]:
    """(operator, adjective, negated) whose combination has polarity `pol`."""
    adj_pos = rng.random() < 0.5
    neg = adj_pos != pol
    return pick(rng, lx.NEGATORS if neg else lx.AFFIRMERS), pick(rng, lx.POSITIVE if adj_pos else lx.NEGATIVE), neg


def _work_np(rng: random.Random, ctx: g.Ctx, plural: bool) -> g.Tree:
    e = g.sample_ent(rng, lx.WORKS, ctx, plural=plural)
    det = pick(rng, ("the", "the", "these") if e.plural else ("the", "the", "this"))
    r = rng.random()
    if r < 0.2:
        return g.np_tree(g.with_mod(e, g.sample_mod(rng, rng.randint(3, 5), e.noun, ctx, "pp")), rng, det)
    np = g.np_tree(e, rng, det)
    if r < 0.35:  # a sentiment verb the label does not depend on
        who = pick(rng, lx.CRITICS)
        return ("NP", np, ("SBAR", ("WHNP", g.leaf("WDT", "that")), ("S", *[g.leaf("NN", w) for w in who.split()],
                                                                  g.leaf("VBD", pick(rng, lx.RC_SENTIMENT)))))
    if r < 0.45:  # a negation the label does not depend on
        return ("NP", np, ("SBAR", ("WHNP", g.leaf("WDT", "that")),
                           ("S", *[g.leaf("VB", w) for w in pick(rng, lx.RC_NEUTRAL).split()])))
    return np


def sst_copula(rng: random.Random, pol: bool, d: int, mark: bool) -> tuple[g.Tree, bool]:
    """the film [mods] was OP [filler] ADJ; distance OP -> ADJ."""
    ctx = g.Ctx()
    plural = rng.random() < 0.25
    subj = _work_np(rng, ctx, plural)
    if subj[0] == "NP" and subj[1][0] == "DT" and not plural and rng.random() < 0.1:
        subj = ("NP", g.leaf("PRP", "it"))
    op, adj, neg = _sentiment(rng, pol)
    be = pick(rng, ("were", "are") if plural else ("was", "is"))
    vp = ("VP", g.leaf("VBD", be), g.leaf("RB", op, 1 if mark else 0), *_sst_filler(rng, d - 1),
          ("ADJP", g.leaf("JJ", adj, 2 if mark else 0)))
    return ("S", subj, vp), neg


def sst_find(rng: random.Random, pol: bool, d: int, mark: bool) -> tuple[g.Tree, bool]:
    """the critics did not find the film [mods] [filler] ADJ; distance OP -> ADJ (d >= 4)."""
    ctx = g.Ctx()
    op, adj, neg = _sentiment(rng, pol)
    m = 2 + rng.randrange(min(d - 4, 5) + 1)
    film = g.sample_np(rng, m, lx.WORKS, ctx, "pp ro", plural=rng.random() < 0.25)
    who = ("NP", *[g.leaf("NN", w) for w in pick(rng, lx.CRITICS).split()])
    m1 = 1 if mark else 0
    if op == "not":
        verb = [g.leaf("VBD", "did"), g.leaf("RB", "not", m1), g.leaf("VB", "find")]
    else:
        verb = [g.leaf("RB", op, m1), g.leaf("VBD", "found")]
    vp = ("VP", *verb, g.np_tree(film, rng, pick(rng, ("the", "this") if not film.plural else ("the", "these"))),
          *_sst_filler(rng, d - 2 - m), ("ADJP", g.leaf("JJ", adj, 2 if mark else 0)))
    return ("S", who, vp), neg


def sst(rng: random.Random, y: int, d: int) -> Example:
    pol = y == 1
    build = sst_find if d >= 4 and rng.random() < 0.3 else sst_copula
    main, neg = build(rng, pol, d, True)
    phen = "negation" if neg else "affirmation"
    if rng.random() < 0.4:  # a distractor clause of random polarity; the main clause decides
        other, _ = sst_copula(rng, rng.random() < 0.5, rng.randint(1, 5), False)
        comma = g.leaf(",", ",")
        form = rng.randrange(3)
        if form == 0:
            main = ("S", other, comma, g.leaf("CC", "but"), main)
        elif form == 1:
            main = ("S", ("SBAR", g.leaf("IN", pick(rng, ("although", "though"))), other), comma, main)
        else:
            conj = [g.leaf("IN", w) for w in pick(rng, ("although", "even though", "though")).split()]
            main = ("S", main, comma, ("SBAR", *conj, other))
        phen = "contrast"
    words = checked_words(g.sentence(main), d)
    return Example(g.text(words, "sst"), None, str(y), d, phen)


# ---------------------------------------------------------------------------------------------
# WNLI: pronoun resolution by agreement

WN_ANIMATE = tuple(n for n in lx.GENDERED + lx.ANIMALS if n.parent is not None)
WN_ANY = WN_ANIMATE + lx.THINGS
GAPS = {0: ((),), 1: (("because",), ("and",), ("so",), ("when",), ("after",)),
        2: (("and", "then"), ("but", "then"), ("even", "though"), ("just", "because"))}


def wnli(rng: random.Random, y: int, d: int) -> Example:
    pron = pick(rng, ("he", "she", "it", "they"))
    where = pick(rng, ("obj", "attr") if d <= 3 else ("obj", "subj", "subj"))
    # the gap between the object NP and the pronoun: 0 = "told the girl she", 1-2 = a connective
    if where == "obj":
        gaps = [k for k in (0, 1, 2) if d - 1 - k == 0 or d - 1 - k >= 3]
    elif where == "attr":
        gaps = [d - 1]
    else:
        gaps = [0, 1, 2]
    gap = pick(rng, gaps)
    ante_ok = (lambda n, pl: lx.pronoun(n, pl) == pron)
    other_ok = (lambda n, pl: lx.pronoun(n, pl) not in (pron, None))
    ctx = g.Ctx(animate=WN_ANIMATE, any=WN_ANY, ok=other_ok, plural_p=0.3)
    ante_ctx = g.Ctx(ctx.avoid, WN_ANIMATE, WN_ANY, ante_ok, 0.5 if pron != "they" else 1.0)
    pool = {"he": WN_ANIMATE, "she": WN_ANIMATE, "it": lx.ANIMALS, "they": WN_ANIMATE}[pron]

    if where == "subj":
        m2 = 2 + rng.randrange(min(d - 4, 3) + 1)
        l1 = d - 2 - m2 - gap
        if l1 < 0:
            raise g.Retry
        e1 = g.sample_ent(rng, pool, ante_ctx)
        mod1, adv = g.subject_filler(rng, l1, e1.noun, ctx)
        e1 = g.with_mod(e1, mod1)
        e2 = g.sample_np(rng, m2, WN_ANIMATE, ctx)
        ante = e1
    else:
        e1 = g.sample_ent(rng, WN_ANIMATE, ctx)
        mod1, adv = g.subject_filler(rng, rng.choice((0, 0, 0, 1, 3, 4)), e1.noun, ctx)
        e1 = g.with_mod(e1, mod1)
        if where == "obj":
            e2 = g.sample_ent(rng, pool, ante_ctx)
            if d - 1 - gap:  # after "told", a relative clause could read as the told content
                e2 = g.with_mod(e2, g.sample_mod(rng, d - 1 - gap, e2.noun, ctx, "pp" if gap == 0 else "pp rs ro"))
            ante = e2
        else:  # the antecedent closes the object's PP: "the boy near the queens because they"
            e2 = g.sample_ent(rng, WN_ANIMATE, ctx, adj_p=0.0)
            inner = g.sample_ent(rng, pool, ante_ctx)
            e2 = g.with_mod(e2, g.Mod("pp", pick(rng, lx.PREPOSITIONS), inner))
            ante = inner
    if ante.noun.parent is None:
        raise g.Retry
    nouns = [e1] + g.mod_nouns(e1.mod) + [e2] + g.mod_nouns(e2.mod)
    if sum(g.pron_of(e) == pron for e in nouns) != 1:
        raise g.Retry
    marks = {ante.noun: 1}
    if gap == 0 or (gap == 1 and rng.random() < 0.3 and (e2.mod is None or e2.mod.kind == "pp")):
        verb = g.leaf("VBD", pick(rng, lx.TELL_VERBS))
        conj = [] if gap == 0 else [g.leaf("IN", "that")]
    else:
        verb = g.leaf("VBD", g.verb_forms(pick(rng, g.ANIMATE_VERBS), rng)[2])
        conj = [g.leaf("IN", w) for w in pick(rng, GAPS[gap])]
    pred_words = pick(rng, lx.PREDICATES).split()
    t = g.sentence(g.node(
        "S", g.np_tree(e1, rng, "the", marks), g.advp(adv),
        ("VP", verb, g.np_tree(e2, rng, "the", marks)), *conj,
        ("S", ("NP", g.leaf("PRP", pron, 2)), ("VP", *[g.leaf("VB", w) for w in pred_words]))))
    words = checked_words(t, d)
    if y == 1:
        cand = ante
    else:
        others = [e for e in nouns if e is not ante]
        main = [e for e in others if e in (e1, e2)]
        cand = pick(rng, main if main and rng.random() < 0.7 else others)
    cand_words = ["the", g.noun_word(cand.noun, cand.plural, rng)] + pred_words + ["."]
    phen = "pronoun_number" if pron == "they" else "pronoun_gender"
    return Example(g.text(words), g.text(cand_words), str(y), d, phen)
