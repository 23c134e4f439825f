"""The MNLI-like task and the diagnostic set (AX): quantifiers, monotonicity, negation, voice.

A sentence means Q(A, B) (see `logic`): a quantified restrictor (every dog near the house) and a
predicate (chased the bird). The hypothesis is built from the premise by a relation between
restrictors (same noun and modifier; a hyponym or an added modifier; a hypernym or a dropped
modifier; a sibling noun or the premise's attractor noun) and between predicates (same; roles
swapped, another verb or another object), and the label comes from `logic.nli_label`.

The premise's quantifier is drawn independently of the label, so a premise alone says nothing
about it. Matched splits use the training templates (genres plain / passive / relative);
mismatched splits put at least one sentence in a held-out template, named in the genre column:
existential ("there were some dogs that chased the bird"), embedded ("it is true that ...",
"we know that ...") or negated ("it is not the case that ...", "not every dog ...", which turn
the quantifier into its dual). Distance: premise subject head noun
to its verb.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from seminal.synglue import grammar as g
from seminal.synglue import lexicon as lx
from seminal.synglue.grammar import Ent, Retry, pick
from seminal.synglue.logic import FORMS, nli_label
from seminal.synglue.tasks import Example

LABELS = ("contradiction", "entailment", "neutral")
MATCHED = ("active", "passive")
MISMATCHED = ("existential", "embedded", "negated")
# which quantified forms each template can express, for a restrictor that is agent / patient
_CAN = {
    ("active", False): FORMS, ("active", True): ("all", "some", "no"),
    ("passive", False): ("all", "some", "no"), ("passive", True): FORMS,
    ("existential", False): ("some", "no", "somenot"), ("existential", True): ("some", "no", "somenot"),
    ("embedded", False): FORMS, ("embedded", True): (),
    ("negated", False): FORMS, ("negated", True): (),
}
_DETS = {"all": (("every", False), ("each", False), ("all", True)), "some": (("some", True), ("a", False)),
         "no": (("no", True), ("no", False)), "somenot": (("some", True),)}


@dataclass(frozen=True)
class QSent:
    """form(restr, verb-object predicate); swapped: the restrictor is the verb's patient."""

    form: str
    restr: Ent
    verb: lx.Verb
    obj: Ent
    swapped: bool = False


def _np(restr: Ent, det: str, plural: bool, rng: random.Random, marks: dict | None) -> g.Tree:
    return g.np_tree(Ent(restr.noun, plural and restr.noun.countable, restr.adjs, restr.mod), rng, det, marks)


def _core(q: QSent, form: str, passive: bool, rng: random.Random, marks: dict | None,
          adv: tuple[str, ...] = ()) -> g.Tree:
    """The plain clause for `form`; the quantified NP is the subject unless (active, swapped) or
    (passive, not swapped)."""
    det, pl = pick(rng, _DETS[form])
    v = g.verb_forms(q.verb, rng)
    neg = form == "somenot"
    m2 = 2 if marks else 0
    qnp = _np(q.restr, det, pl, rng, marks)
    onp = g.np_tree(q.obj, rng, "the")
    if not passive:
        subj, obj = (onp, qnp) if q.swapped else (qnp, onp)
        vp = (("VP", g.leaf("VBD", "did", m2), g.leaf("RB", "not"), ("VP", g.leaf("VB", v[0]), obj)) if neg
              else ("VP", g.leaf("VBD", v[2], m2), obj))
        return g.node("S", subj, g.advp(adv), vp)
    subj, by = (qnp, onp) if q.swapped else (onp, qnp)
    be = "were" if (pl if q.swapped else q.obj.plural) else "was"
    return g.node("S", subj, g.advp(adv), g.node("VP", g.leaf("VBD", be, m2), g.leaf("RB", "not") if neg else None,
                                                ("VP", g.leaf("VBN", v[3]), ("PP", g.leaf("IN", "by"), by))))


def _it_is_not(s: g.Tree) -> g.Tree:
    return ("S", ("NP", g.leaf("PRP", "it")), ("VP", g.leaf("VBZ", "is"), g.leaf("RB", "not"),
                                               ("NP", g.leaf("DT", "the"), g.leaf("NN", "case")),
                                               ("SBAR", g.leaf("IN", "that"), s)))


def _it_is_true(s: g.Tree, rng: random.Random) -> g.Tree:
    words = pick(rng, (("it", "is", "true"), ("it", "is", "clear"), ("we", "know")))
    tags = {"it": "PRP", "we": "PRP", "is": "VBZ", "know": "VBP", "true": "JJ", "clear": "JJ"}
    return ("S", ("NP", g.leaf("PRP", words[0])), ("VP", *[g.leaf(tags[w], w) for w in words[1:]],
                                                   ("SBAR", g.leaf("IN", "that"), s)))


def render(q: QSent, template: str, rng: random.Random, mark: bool = False, adv: tuple[str, ...] = ()) -> g.Tree:
    marks = {q.restr.noun: 1} if mark else None
    if template in MATCHED:
        return g.sentence(_core(q, q.form, template == "passive", rng, marks, adv))
    if template == "existential":
        det, pl = pick(rng, _DETS[q.form if q.form != "somenot" else "some"])
        pl = pl and q.restr.noun.countable
        v = g.verb_forms(q.verb, rng)
        m2 = 2 if mark else 0
        if q.swapped:
            inner = ("S", g.np_tree(q.obj, rng), g.node("VP", g.leaf("VBD", "did", m2), g.leaf("RB", "not"), g.leaf("VB", v[0]))
                     if q.form == "somenot" else ("VP", g.leaf("VBD", v[2], m2)))
        else:
            vp = (("VP", g.leaf("VBD", "did", m2), g.leaf("RB", "not"), ("VP", g.leaf("VB", v[0]), g.np_tree(q.obj, rng)))
                  if q.form == "somenot" else ("VP", g.leaf("VBD", v[2], m2), g.np_tree(q.obj, rng)))
            inner = g.node("S", g.advp(adv), vp)
        rel = ("WHNP", g.leaf("WDT", "that"))
        return g.sentence(("S", ("NP", g.leaf("EX", "there")),
                           ("VP", g.leaf("VBD", "were" if pl else "was"),
                            ("NP", _np(q.restr, det, pl, rng, marks), ("SBAR", rel, inner)))))
    if template == "embedded":  # it is true that / we know that <the sentence>
        return g.sentence(_it_is_true(_core(q, q.form, False, rng, marks, adv), rng))
    # negated: not every / it is not the case that <the dual form>
    dual = {"all": "somenot", "some": "no", "no": "some", "somenot": "all"}[q.form]
    if q.form == "somenot" and rng.random() < 0.5:
        det, pl = pick(rng, (("not every", False), ("not all", True)))
        v = g.verb_forms(q.verb, rng)
        subj = _np(q.restr, det, pl, rng, marks)
        return g.sentence(g.node("S", subj, g.advp(adv), ("VP", g.leaf("VBD", v[2], 2 if mark else 0), g.np_tree(q.obj, rng))))
    return g.sentence(_it_is_not(_core(replace(q, form=dual), dual, False, rng, marks, adv)))


def _templates(q: QSent, mismatched: bool) -> list[str]:
    """Templates that can express q. The existential one takes no modifier on its restrictor:
    "there was a dog near the cat that chased the bird" could end in a relative clause on "cat"."""
    names = MISMATCHED if mismatched else MATCHED
    return [t for t in names if q.form in _CAN[(t, q.swapped)] and not (t == "existential" and q.restr.mod)]


# ---------------------------------------------------------------------------------------------
# hypotheses


def _related_any(n: lx.Noun, nouns: list[lx.Noun]) -> bool:
    return any(g.related(n, t) for t in nouns)


def _hyp_restr(rng: random.Random, rel: str, p: QSent, taken: list[lx.Noun]) -> tuple[Ent, str]:
    """The hypothesis restrictor in relation `rel` to the premise's, and how it was made."""
    r = p.restr
    others = [t for t in taken if t != r.noun]
    if rel == "eq":
        return r, "same"
    if rel == "sub":
        kids = [n for n in lx.children(r.noun) if not _related_any(n, others)]
        if kids and (r.mod is not None or rng.random() < 0.6):
            return Ent(pick(rng, kids), False, r.adjs, r.mod), "hyponym"
        if r.mod is not None:
            raise Retry
        ctx = g.Ctx(avoid=list(taken))
        return Ent(r.noun, False, r.adjs, g.sample_mod(rng, rng.choice((3, 4)), r.noun, ctx)), "add_modifier"
    if rel == "sup":
        if r.mod is not None and rng.random() < 0.5:
            return Ent(r.noun, False, r.adjs), "drop_modifier"
        ups = lx.ancestors(r.noun)  # "some animals chased the bird" is fine though birds are animals
        if not ups:
            raise Retry
        return Ent(pick(rng, ups), False, r.adjs, r.mod), "hypernym"
    # disjoint
    if r.mod is not None and r.mod.ent.noun.animate and rng.random() < 0.5:
        x = r.mod.ent
        return Ent(x.noun, False, x.adjs), "attractor"
    sibs = [n for n in lx.NOUNS.values() if n.parent == r.noun.parent and n != r.noun
            and not _related_any(n, others)]
    if not sibs:
        raise Retry
    return Ent(pick(rng, sibs), False, r.adjs, r.mod), "sibling"


def _premise(rng: random.Random, d: int, form: str, template: str) -> tuple[QSent, g.Tree, list[lx.Noun]]:
    ctx = g.Ctx()
    restr = g.sample_ent(rng, g.ANIMATE_POOL, ctx, plural=False)
    v = pick(rng, g.ANIMATE_VERBS)
    obj = g.sample_ent(rng, g.patient_pool(v, rng, ctx, 0.7), ctx)
    n = d - 2 if template == "existential" else d - 1
    if n < 0 or (template == "existential" and n > 2):
        raise Retry
    mod, adv = g.subject_filler(rng, n, restr.noun, ctx)
    q = QSent(form, g.with_mod(restr, mod), v, obj)
    return q, render(q, template, rng, True, adv), ctx.avoid


def mnli_pair(rng: random.Random, y: int, d: int, mismatched: bool, forms: tuple[str, ...] = FORMS,
              rel_b_kinds: tuple[str, ...] = ("same", "swap", "verb", "object")) -> Example:
    want = LABELS[y]
    # premise template and form first, independent of the label
    p_mis = mismatched and rng.random() < 0.5
    p_template = pick(rng, MISMATCHED if 2 <= d <= 4 else MISMATCHED[1:]) if p_mis else "active"
    p_form = pick(rng, [f for f in forms if f in _CAN[(p_template, False)]])
    # every hypothesis design that gives the wanted label from this premise form
    options = []
    for h_form in FORMS:
        for rel_a in ("eq", "sub", "sup", "disj"):
            for kind in rel_b_kinds:
                rel_b = "eq" if kind == "same" else "indep"
                if nli_label(p_form, h_form, rel_a, rel_b) == want:
                    options.append((h_form, rel_a, kind))
    if not options:
        raise Retry
    h_form, rel_a, kind = pick(rng, options)
    p, p_tree, taken = _premise(rng, d, p_form, p_template)
    restr, how_a = _hyp_restr(rng, rel_a, p, taken)
    h = QSent(h_form, restr, p.verb, p.obj)
    if kind == "swap":
        if not (p.obj.noun.animate and g.takes(p.verb, restr.noun)):
            raise Retry
        h = replace(h, swapped=True)
    elif kind == "verb":
        opts = [v for v in g.ANIMATE_VERBS if v != p.verb and g.takes(v, p.obj.noun)]
        h = replace(h, verb=pick(rng, opts))
    elif kind == "object":
        ctx = g.Ctx(avoid=list(taken) + [restr.noun])
        h = replace(h, obj=g.sample_ent(rng, g.patient_pool(p.verb, rng, ctx, 0.7), ctx))
    h_templates = _templates(h, mismatched and (not p_mis or rng.random() < 0.5))
    if not h_templates:
        raise Retry
    h_template = pick(rng, h_templates)
    if mismatched and not (p_mis or h_template in MISMATCHED):
        raise Retry
    h_tree = render(h, h_template, rng)
    w1, dist = g.realize(p_tree)
    w2, _ = g.realize(h_tree)
    assert dist == d, w1
    if w1 == w2:
        raise Retry
    phen = _phenomenon(kind, how_a, p_form, h_form, p_template, h_template)
    if mismatched:
        genre = p_template if p_mis else h_template
    else:
        genre = "passive" if h_template == "passive" else "relative" if p.restr.mod and p.restr.mod.kind != "pp" else "plain"
    c1, c2 = g.cap_words(w1), g.cap_words(w2)
    extra = {"genre": genre, "s1_binary_parse": g.binary_parse(p_tree, c1), "s2_binary_parse": g.binary_parse(h_tree, c2),
             "s1_parse": g.ptb_parse(p_tree, c1), "s2_parse": g.ptb_parse(h_tree, c2)}
    return Example(g.text(w1), g.text(w2), want, d, phen, extra)


def _phenomenon(kind: str, how_a: str, p_form: str, h_form: str, p_t: str, h_t: str) -> str:
    if kind != "same":
        return {"swap": "role_swap", "verb": "verb_change", "object": "object_change"}[kind]
    if how_a != "same":
        return how_a
    if p_form != h_form:
        return "negation" if {p_form, h_form} in ({"some", "somenot"}, {"all", "no"}) else "quantifier"
    if "negated" in (p_t, h_t):
        return "double_negation"
    if "embedded" in (p_t, h_t):
        return "embedding"
    if "existential" in (p_t, h_t):
        return "existential"
    return "voice" if h_t == "passive" else "lexical"


def mnli_matched(rng: random.Random, y: int, d: int) -> Example:
    return mnli_pair(rng, y, d, False)


def mnli_mismatched(rng: random.Random, y: int, d: int) -> Example:
    return mnli_pair(rng, y, d, True)


def diagnostic(rng: random.Random, y: int, d: int) -> Example:
    """AX: MNLI-style pairs over both template sets; one phenomenon per pair."""
    return mnli_pair(rng, y, d, rng.random() < 0.3)
