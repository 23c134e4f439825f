"""Example generators for the sentence-pair tasks MRPC, QQP, STS-B, QNLI and RTE.

Each pair is two renderings of meanings (`grammar.Event`, `Question`, facts), and the label is
computed from the meanings: paraphrase iff the meanings are equal (MRPC, QQP), similarity from
slot overlap (STS-B), answerhood (QNLI), membership in the premise's facts (RTE). Meaning-
preserving variation (voice, synonyms, relative-clause voice, discourse adverbs) changes many
words; meaning-changing edits (role swap, attractor swap, negation, a sibling noun or verb)
change few or none, so word overlap is a poor guide and the order of the words decides.
The distance is between sentence 1's subject head noun and its verb (for QNLI: in the sentence),
set by the length of the modifier between them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from seminal.synglue import grammar as g
from seminal.synglue import lexicon as lx
from seminal.synglue.grammar import Ent, Event, Retry, pick
from seminal.synglue.tasks import Example, checked_words

# ---------------------------------------------------------------------------------------------
# shared: an event whose surface subject carries d-1 words before its verb, and edits


def event_nouns(ev: Event) -> list:
    out = []
    for e in (ev.agent, ev.patient):
        if e is not None:
            out += [e.noun] + [x.noun for x in g.mod_nouns(e.mod)]
    return out


def distance_event(rng: random.Random, d: int, ctx: g.Ctx, passive: bool | None = None,
                   neg_p: float = 0.2) -> tuple[Event, bool, tuple[str, ...]]:
    """(event, passive, adverbs): the surface subject has d-1 words before the verb."""
    ev = g.sample_event(rng, ctx)
    passive = rng.random() < 0.35 if passive is None else passive
    subj = ev.patient if passive else ev.agent
    mod, adv = g.subject_filler(rng, d - 1, subj.noun, ctx)
    subj = g.with_mod(subj, mod)
    ev = replace(ev, patient=subj) if passive else replace(ev, agent=subj)
    if rng.random() < 0.15:  # a short modifier on the other entity, after the verb
        other = ev.agent if passive else ev.patient
        other = g.with_mod(other, g.sample_mod(rng, rng.choice((3, 4)), other.noun, ctx))
        ev = replace(ev, agent=other) if passive else replace(ev, patient=other)
    return replace(ev, neg=rng.random() < neg_p), passive, adv


def render(ev: Event, rng: random.Random, passive: bool, adv: tuple[str, ...] = (), mark: bool = False,
           reform: bool = False) -> tuple[str, int]:
    words, dist = g.realize(g.sentence(g.clause(ev, rng, passive, adv, mark, reform)))
    return g.text(words), dist


def surface_variant(rng: random.Random) -> dict:
    return {"passive": rng.random() < 0.5, "adv": g.discourse(rng, rng.choice((0, 0, 0, 1, 2))),
            "reform": rng.random() < 0.5}


def _fresh_noun(rng: random.Random, like: Ent, ev: Event, pool: tuple | None = None) -> Ent:
    """`like` with its noun replaced by a sibling (or, failing that, any unrelated noun)."""
    taken = event_nouns(ev)
    sibs = [n for n in lx.NOUNS.values() if n.parent == like.noun.parent and n != like.noun
            and n.parent is not None and not any(g.related(n, t) for t in taken)]
    if sibs and rng.random() < 0.6:
        n = pick(rng, sibs)
    else:
        ctx = g.Ctx(avoid=list(taken))
        n = g.pick_noun(rng, pool or (g.ANIMATE_POOL if like.noun.animate else g.THING_POOL), ctx)
    return Ent(n, like.plural and n.countable, like.adjs, like.mod)


def swap_roles(ev: Event) -> Event:
    if not (ev.agent.noun.animate and ev.patient.noun.animate and g.takes(ev.verb, ev.agent.noun)):
        raise Retry
    return replace(ev, agent=ev.patient, patient=ev.agent)


def swap_attractor(e: Ent) -> Ent:
    """the old dog near the cats -> the old cats near the dog: the head noun and its modifier's
    noun trade places (adjectives stay put, so the distance to the verb does not change)."""
    m = e.mod
    if m is None:
        raise Retry
    x = m.ent
    inner = Ent(e.noun, e.plural, x.adjs, x.mod)
    if m.kind == "rs" and not (x.noun.animate and g.takes(m.head, e.noun)):
        raise Retry
    if m.kind == "ro" and not (e.noun.animate and g.takes(m.head, x.noun)):
        raise Retry
    return Ent(x.noun, x.plural, e.adjs, g.Mod(m.kind, m.head, inner))


def edit_event(rng: random.Random, ev: Event, kind: str, passive: bool) -> Event:
    """A meaning-changing edit of an event."""
    if kind == "role_swap":
        return swap_roles(ev)
    if kind == "attractor_swap":
        if passive:
            new = swap_attractor(ev.patient)
            if not g.takes(ev.verb, new.noun):
                raise Retry
            return replace(ev, patient=new)
        new = swap_attractor(ev.agent)
        if not new.noun.animate:
            raise Retry
        return replace(ev, agent=new)
    if kind == "negation":
        return replace(ev, neg=not ev.neg)
    if kind == "number":
        role = pick(rng, ("agent", "patient"))
        e = getattr(ev, role)
        if not e.noun.countable:
            raise Retry
        return replace(ev, **{role: Ent(e.noun, not e.plural, e.adjs, e.mod)})
    if kind == "noun_change":
        if rng.random() < 0.5:
            return replace(ev, agent=_fresh_noun(rng, ev.agent, ev, g.ANIMATE_POOL))
        new = _fresh_noun(rng, ev.patient, ev)
        if not g.takes(ev.verb, new.noun):
            raise Retry
        return replace(ev, patient=new)
    if kind == "verb_change":
        for _ in range(20):
            v = pick(rng, g.VERB_LIST)
            if v != ev.verb and g.takes(v, ev.patient.noun):
                return replace(ev, verb=v)
        raise Retry
    raise ValueError(kind)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


# ---------------------------------------------------------------------------------------------
# MRPC: paraphrase iff same meaning

MRPC_EDITS = {"role_swap": 3, "attractor_swap": 2.5, "negation": 0.7, "noun_change": 1.3,
              "verb_change": 1.3, "number": 1.0}


def mrpc(rng: random.Random, y: int, d: int) -> Example:
    ctx = g.Ctx()
    ev, passive, adv = distance_event(rng, d, ctx, neg_p=0.25)
    s1, dist = render(ev, rng, passive, adv, mark=True)
    assert dist == d, s1
    if y == 1:
        ev2, phen = ev, "paraphrase"
    else:
        phen = _weighted(rng, MRPC_EDITS)
        ev2 = edit_event(rng, ev, phen, passive)
    var = surface_variant(rng)
    s2, _ = render(ev2, rng, var["passive"], var["adv"], reform=var["reform"])
    if s2 == s1 or int(ev2 == ev) != y:
        raise Retry
    if y == 1:
        phen = "voice" if var["passive"] != passive else "lexical"
    return Example(s1, s2, str(y), d, phen)


# ---------------------------------------------------------------------------------------------
# questions (QQP, QNLI)


@dataclass(frozen=True)
class Question:
    """asked: yn | agent | patient. For wh questions the asked role of `event` holds the
    which-restrictor (wh == "which") or None (wh == "who" / "what")."""

    asked: str
    event: Event
    wh: str = ""


def question_tree(q: Question, rng: random.Random, passive: bool, adv: tuple[str, ...] = (),
                  mark: bool = False, reform: bool = False) -> g.Tree:
    """Marks the surface subject's head (1) and the verb or auxiliary after it (2)."""
    ev = q.event
    v = g.verb_forms(ev.verb, rng)
    m1 = (lambda e: {e.noun: 1} if mark and e is not None else None)
    m2 = 2 if mark else 0
    qm = g.leaf("?", "?")

    def wh_np(e: Ent | None, mk: bool, by: bool = False) -> g.Tree:
        if q.wh == "which":
            return g.np_tree(e, rng, "which", m1(e) if mk else None, reform)
        word = "whom" if by and q.wh == "who" else q.wh
        return ("WHNP", g.leaf("WP", word, 1 if (mark and mk) else 0))

    def be(e: Ent | None) -> str:
        return "were" if e is not None and e.plural else "was"

    if q.asked == "yn":
        if not passive:
            return ("SQ", g.leaf("VBD", "did"), g.np_tree(ev.agent, rng, "the", m1(ev.agent), reform),
                    *([g.advp(adv)] if adv else []), ("VP", g.leaf("VB", v[0], m2), g.np_tree(ev.patient, rng, "the", None, reform)), qm)
        return ("SQ", g.leaf("VBD", be(ev.patient)), g.np_tree(ev.patient, rng, "the", m1(ev.patient), reform),
                *([g.advp(adv)] if adv else []),
                ("VP", g.leaf("VBN", v[3], m2), ("PP", g.leaf("IN", "by"), g.np_tree(ev.agent, rng, "the", None, reform))), qm)
    if q.asked == "agent":
        if not passive:
            return g.node("SBARQ", wh_np(ev.agent, True), g.advp(adv),
                          ("VP", g.leaf("VBD", v[2], m2), g.np_tree(ev.patient, rng, "the", None, reform)), qm)
        return g.node("SBARQ", ("PP", g.leaf("IN", "by"), wh_np(ev.agent, False, by=True)), g.leaf("VBD", be(ev.patient)),
                      g.np_tree(ev.patient, rng, "the", m1(ev.patient), reform), g.advp(adv),
                      ("VP", g.leaf("VBN", v[3], m2)), qm)
    if not passive:
        return g.node("SBARQ", wh_np(ev.patient, False), g.leaf("VBD", "did"),
                      g.np_tree(ev.agent, rng, "the", m1(ev.agent), reform), g.advp(adv),
                      ("VP", g.leaf("VB", v[0], m2)), qm)
    return g.node("SBARQ", wh_np(ev.patient, True), g.advp(adv), g.leaf("VBD", be(ev.patient), m2),
                  ("VP", g.leaf("VBN", v[3]), ("PP", g.leaf("IN", "by"), g.np_tree(ev.agent, rng, "the", None, reform))), qm)


def question_subject(q: Question, passive: bool) -> str:
    """Which role is the surface subject of the rendered question ('wh' when it is who/what)."""
    subj = "patient" if passive else "agent"
    if q.asked != "yn" and subj == q.asked and q.wh != "which":
        return "wh"
    return subj


def sample_question(rng: random.Random, d: int, ctx: g.Ctx) -> tuple[Question, bool, tuple[str, ...]]:
    """A question whose surface subject has d-1 words before the verb after it."""
    for _ in range(20):
        asked = pick(rng, ("yn", "agent", "patient", "agent", "patient"))
        wh = "" if asked == "yn" else pick(rng, ("which", "which", "wh"))
        passive = rng.random() < 0.4
        c = g.Ctx(list(ctx.avoid), ctx.animate, ctx.any)
        ev = g.sample_event(rng, c)
        if wh == "wh":
            filler = getattr(ev, asked)
            wh = "who" if filler.noun.kind == "person" else "what"
            ev = replace(ev, **{asked: None})
        q = Question(asked, ev, wh)
        subj = question_subject(q, passive)
        if subj == "wh":
            if d != 1:
                continue
            ctx.avoid[:] = c.avoid
            return q, passive, ()
        e = getattr(ev, subj)
        mod, adv = g.subject_filler(rng, d - 1, e.noun, c)
        ctx.avoid[:] = c.avoid
        return Question(asked, replace(ev, **{subj: g.with_mod(e, mod)}), wh), passive, adv
    raise Retry


def render_question(q: Question, rng: random.Random, passive: bool, adv=(), mark=False, reform=False) -> tuple[str, int]:
    words, dist = g.realize(question_tree(q, rng, passive, adv, mark, reform))
    return g.text(words), dist


# ---------------------------------------------------------------------------------------------
# QQP: duplicate iff same question

QQP_EDITS = {"flip_asked": 3, "role_swap": 2, "attractor_swap": 2, "noun_change": 1.5, "verb_change": 1.2,
             "number": 1.0}


def edit_question(rng: random.Random, q: Question, kind: str, passive: bool) -> Question:
    ev = q.event
    if kind == "flip_asked" or (kind == "role_swap" and q.asked != "yn"):
        if q.asked == "yn":
            raise Retry
        other = "patient" if q.asked == "agent" else "agent"
        known, filler = getattr(ev, other), getattr(ev, q.asked)
        # the known entity moves into the asked role's place, the question asks the other role
        new = replace(ev, **{q.asked: known, other: filler})
        if not new_ok(new):
            raise Retry
        return Question(other, new, q.wh)
    if q.asked != "yn" and kind in ("noun_change", "number", "attractor_swap"):
        role = "patient" if q.asked == "agent" else "agent"
        if kind == "attractor_swap":
            e = swap_attractor(getattr(ev, role))
            new = replace(ev, **{role: e})
            if not new_ok(new):
                raise Retry
            return Question(q.asked, new, q.wh)
        if kind == "number":
            e = getattr(ev, role)
            if not e.noun.countable:
                raise Retry
            return Question(q.asked, replace(ev, **{role: Ent(e.noun, not e.plural, e.adjs, e.mod)}), q.wh)
        e = _fresh_noun(rng, getattr(ev, role), ev)
        new = replace(ev, **{role: e})
        if not new_ok(new):
            raise Retry
        return Question(q.asked, new, q.wh)
    if kind == "verb_change":
        for _ in range(20):
            v = pick(rng, g.VERB_LIST)
            if v != ev.verb and (ev.patient is None or g.takes(v, ev.patient.noun)):
                return Question(q.asked, replace(ev, verb=v), q.wh)
        raise Retry
    # yn questions
    if kind == "role_swap":
        return Question("yn", swap_roles(ev), "")
    if kind == "attractor_swap":
        subj = "patient" if passive else "agent"
        new = replace(ev, **{subj: swap_attractor(getattr(ev, subj))})
        if not new_ok(new):
            raise Retry
        return Question("yn", new, "")
    return Question("yn", edit_event(rng, ev, kind, passive), "")


def new_ok(ev: Event) -> bool:
    """Animacy: agents are animate and the verb takes the patient (None = who/what)."""
    if ev.agent is not None and not ev.agent.noun.animate:
        return False
    if ev.patient is not None and not g.takes(ev.verb, ev.patient.noun):
        return False
    if ev.agent is None and ev.patient is None:
        return False
    return True


def qqp(rng: random.Random, y: int, d: int) -> Example:
    ctx = g.Ctx()
    q, passive, adv = sample_question(rng, d, ctx)
    s1, dist = render_question(q, rng, passive, adv, mark=True)
    assert dist == d, s1
    if y == 1:
        q2, phen = q, "paraphrase"
    else:
        phen = _weighted(rng, QQP_EDITS)
        q2 = edit_question(rng, q, phen, passive)
    var = surface_variant(rng)
    s2, _ = render_question(q2, rng, var["passive"], var["adv"], reform=var["reform"])
    if s2 == s1 or int(q2 == q) != y:
        raise Retry
    if y == 1:
        phen = "voice" if var["passive"] != passive else "lexical"
    return Example(s1, s2, str(y), d, phen)


# ---------------------------------------------------------------------------------------------
# STS-B: similarity from slot overlap

STS_WEIGHTS = {"agent": 2.0, "verb": 1.5, "patient": 2.0, "polarity": 1.0}
_SIMS = {"agent": (1.0, 0.5, 0.0), "verb": (1.0, 0.0), "patient": (1.0, 0.5, 0.0), "polarity": (1.0, 0.0)}


def ent_sim(a: Ent, b: Ent) -> float:
    if a.noun == b.noun and a.plural == b.plural:
        return 1.0
    return 0.5 if g.related(a.noun, b.noun) else 0.0


def sts_score(e1: Event, e2: Event) -> float:
    s = (STS_WEIGHTS["agent"] * ent_sim(e1.agent, e2.agent) + STS_WEIGHTS["verb"] * (e1.verb == e2.verb)
         + STS_WEIGHTS["patient"] * ent_sim(e1.patient, e2.patient) + STS_WEIGHTS["polarity"] * (e1.neg == e2.neg))
    return round(5.0 * s / sum(STS_WEIGHTS.values()), 3)


def _sts_combos() -> dict[int, list[dict[str, float]]]:
    out: dict[int, list] = {}
    for a in _SIMS["agent"]:
        for v in _SIMS["verb"]:
            for p in _SIMS["patient"]:
                for n in _SIMS["polarity"]:
                    sims = {"agent": a, "verb": v, "patient": p, "polarity": n}
                    s = 5.0 * sum(STS_WEIGHTS[k] * x for k, x in sims.items()) / sum(STS_WEIGHTS.values())
                    out.setdefault(min(int(s), 4), []).append(sims)
    return out


STS_COMBOS = _sts_combos()


def _partial(rng: random.Random, e: Ent, ev: Event) -> Ent:
    """Half-similar: the other number, or a hypernym / hyponym not clashing with the sentence."""
    taken = [n for n in event_nouns(ev) if n != e.noun]
    opts = [n for n in lx.ancestors(e.noun)[:1] + lx.children(e.noun)
            if not any(g.related(n, t) for t in taken)]
    if opts and (rng.random() < 0.6 or not e.noun.countable):
        return Ent(pick(rng, opts), e.plural, e.adjs, e.mod)
    if not e.noun.countable:
        raise Retry
    return Ent(e.noun, not e.plural, e.adjs, e.mod)


def stsb(rng: random.Random, y: int, d: int) -> Example:
    ctx = g.Ctx()
    ev, passive, adv = distance_event(rng, d, ctx, neg_p=0.3)
    s1, dist = render(ev, rng, passive, adv, mark=True)
    assert dist == d, s1
    sims = pick(rng, STS_COMBOS[y])
    ev2 = ev
    # dissimilar entities mostly come from moving words around, not from new words
    if sims["agent"] == 0 and sims["patient"] == 0 and rng.random() < 0.85:
        ev2 = swap_roles(ev2)
        phen = "role_swap"
    else:
        phen = "attractor_swap" if sims["agent"] == 0 and ev.agent.mod and rng.random() < 0.85 else ""
        for role in ("agent", "patient"):
            e = getattr(ev2, role)
            if sims[role] == 0.5:
                ev2 = replace(ev2, **{role: _partial(rng, e, ev2)})
            elif sims[role] == 0:
                if phen == "attractor_swap" and role == "agent":
                    ev2 = replace(ev2, agent=swap_attractor(e))
                else:
                    ev2 = replace(ev2, **{role: _fresh_noun(rng, e, ev2, g.ANIMATE_POOL if role == "agent" else None)})
        if not new_ok(ev2):
            raise Retry
        phen = phen or ("paraphrase" if all(x == 1 for x in sims.values()) else "overlap")
    if sims["verb"] == 0:
        ev2 = edit_event(rng, ev2, "verb_change", passive)
    if sims["polarity"] == 0:
        ev2 = replace(ev2, neg=not ev2.neg)
    var = surface_variant(rng)
    s2, _ = render(ev2, rng, var["passive"], var["adv"], reform=var["reform"])
    score = sts_score(ev, ev2)
    if min(int(score), 4) != y or s2 == s1:
        raise Retry
    genre = {None: "main-captions", "pp": "main-news"}.get(ev.agent.mod.kind if ev.agent.mod else None, "main-forum")
    return Example(s1, s2, f"{score:.3f}", d, phen, {"genre": genre})


# ---------------------------------------------------------------------------------------------
# QNLI: does the sentence answer the question?

QNLI_EDITS = {"role_swap": 3, "attractor_swap": 2, "negation": 1, "noun_change": 1.5, "verb_change": 1.2,
              "restrictor": 1.3}


def answers(q: Question, ev: Event) -> bool:
    if ev.neg or ev.verb != q.event.verb:
        return False
    known_role = "patient" if q.asked == "agent" else "agent"
    k, kq = getattr(ev, known_role), getattr(q.event, known_role)
    if k.noun != kq.noun or k.plural != kq.plural:
        return False
    f = getattr(ev, q.asked)
    if q.wh == "who":
        return f.noun.kind == "person"
    if q.wh == "what":
        return f.noun.kind != "person"
    r = getattr(q.event, q.asked)
    return lx.is_a(f.noun, r.noun) and f.plural == r.plural


def qnli(rng: random.Random, y: int, d: int) -> Example:
    ctx = g.Ctx()
    ev = g.sample_event(rng, ctx)
    asked = pick(rng, ("agent", "patient"))
    filler = getattr(ev, asked)
    if rng.random() < 0.55:
        ups = [filler.noun] + [a for a in lx.ancestors(filler.noun) if a.parent is not None or rng.random() < 0.5]
        q = Question(asked, replace(ev, **{asked: Ent(pick(rng, ups), filler.plural)}), "which")
    else:
        q = Question(asked, replace(ev, **{asked: None}), "who" if filler.noun.kind == "person" else "what")
    # the sentence: the event (maybe edited), with d-1 words between its subject and verb
    phen = "answer"
    if y == 1:
        phen = _weighted(rng, QNLI_EDITS)
        if phen == "restrictor":
            if q.wh == "which":
                r = getattr(q.event, asked)
                opts = [n for n in g.ANIMATE_POOL + g.THING_POOL if not lx.is_a(n, r.noun)
                        and not any(g.related(n, t) for t in event_nouns(ev) if t != filler.noun)]
            else:
                want_person = q.wh != "who"
                opts = [n for n in (g.PERSON_POOL if want_person else g.THING_POOL + lx.ANIMALS)
                        if not any(g.related(n, t) for t in event_nouns(ev) if t != filler.noun)]
            n = pick(rng, opts)
            ev = replace(ev, **{asked: Ent(n, filler.plural and n.countable, filler.adjs)})
            if not new_ok(ev):
                raise Retry
        elif phen != "attractor_swap":
            ev = edit_event(rng, ev, phen, False)
    passive = rng.random() < 0.35
    subj = "patient" if passive else "agent"
    c = g.Ctx(avoid=event_nouns(ev))
    mod, adv = g.subject_filler(rng, d - 1, getattr(ev, subj).noun, c)
    ev = replace(ev, **{subj: g.with_mod(getattr(ev, subj), mod)})
    if phen == "attractor_swap":
        ev = edit_event(rng, ev, "attractor_swap", passive)
    if int(answers(q, ev)) != 1 - y:  # labels: entailment (0), not_entailment (1)
        raise Retry
    sent, dist = render(ev, rng, passive, adv, mark=True)
    assert dist == d, sent
    var = surface_variant(rng)
    question, _ = render_question(q, rng, var["passive"], (), reform=var["reform"])
    return Example(question, sent, ("entailment", "not_entailment")[y], d, phen)


# ---------------------------------------------------------------------------------------------
# RTE: is the hypothesis one of the premise's facts?


@dataclass(frozen=True)
class Fact:
    """agent-verb-patient (rel is a Verb) or located-preposition-landmark (rel is a str)."""

    a: Ent  # noun and number only; determiner "the" or, when indefinite, "a"/"some"
    rel: object
    b: Ent
    neg: bool = False
    indefinite: bool = False


def _bare(e: Ent) -> Ent:
    return Ent(e.noun, e.plural)


def facts_of(ev: Event, extra_agent: Ent | None = None, reading: str = "low", passive: bool = False) -> list[Fact]:
    """What the premise asserts. Modifiers attach to the nearest noun in the grammar ("low");
    a reader could also attach a nested modifier to the outermost noun of its chain, or a PP
    after a coordination to both conjuncts ("high"), or a PP after the verb to the verb ("vp").
    RTE keeps a hypothesis only if all three readings agree on it."""
    agents = [ev.agent] + ([extra_agent] if extra_agent is not None else [])
    out = [Fact(_bare(a), ev.verb, _bare(ev.patient), ev.neg) for a in agents]

    def walk(e: Ent, top: Ent, after_verb: bool) -> None:
        m = e.mod
        if m is None:
            return
        head = top if reading == "high" else e
        if m.kind == "pp":
            if not (reading == "vp" and after_verb and e is top):
                out.append(Fact(_bare(head), m.head, _bare(m.ent)))
        elif m.kind == "rs":
            out.append(Fact(_bare(head), m.head, _bare(m.ent)))
        else:
            out.append(Fact(_bare(m.ent), m.head, _bare(head)))
        walk(m.ent, top, after_verb)

    for e in agents:
        walk(e, e, passive)
    walk(ev.patient, ev.patient, not passive)
    if reading == "high" and extra_agent is not None and extra_agent.mod and extra_agent.mod.kind == "pp":
        out.append(Fact(_bare(ev.agent), extra_agent.mod.head, _bare(extra_agent.mod.ent)))
    return out


def entailed(h: Fact, facts: list[Fact]) -> bool:
    for f in facts:
        if f.rel != h.rel or f.neg != h.neg or f.b != h.b:
            continue
        if h.indefinite:
            if lx.is_a(f.a.noun, h.a.noun) and f.a.plural == h.a.plural:
                return True
        elif f.a == h.a:
            return True
    return False


def fact_tree(h: Fact, rng: random.Random, passive: bool) -> g.Tree:
    det = ("some" if h.a.plural else "a") if h.indefinite else "the"
    if isinstance(h.rel, str):
        be = "were" if h.a.plural else "was"
        return g.sentence(("S", g.np_tree(h.a, rng, det), ("VP", g.leaf("VBD", be),
                                                             ("PP", g.leaf("IN", h.rel), g.np_tree(h.b, rng)))))
    ev = Event(h.a, h.rel, h.b, h.neg)  # type: ignore[arg-type]
    return g.sentence(g.clause(ev, rng, passive and not h.indefinite, agent_det=det))


RTE_EDITS = {"role_swap": 3, "negation": 1.5, "attractor": 2.5, "hyponym": 1.2, "noun_change": 1, "verb_change": 1}


def rte(rng: random.Random, y: int, d: int) -> Example:
    ctx = g.Ctx()
    coord = None
    if d >= 4 and rng.random() < 0.2:  # the dog and the cat near the house chased the bird
        ev = g.sample_event(rng, ctx)
        n_adv = rng.choice((0, 0, 1)) if d >= 5 else 0
        coord = g.sample_np(rng, d - 2 - n_adv, g.ANIMATE_POOL, ctx)
        adv, passive = g.discourse(rng, n_adv), False
        ev = replace(ev, agent=Ent(ev.agent.noun, ev.agent.plural, ev.agent.adjs), neg=rng.random() < 0.2)
        subj = ("NP", g.np_tree(ev.agent, rng, "the", {ev.agent.noun: 1}), g.leaf("CC", "and"), g.np_tree(coord, rng))
        v = g.verb_forms(ev.verb, rng)
        obj = g.np_tree(ev.patient, rng)
        vp = (("VP", g.leaf("VBD", "did", 2), g.leaf("RB", "not"), ("VP", g.leaf("VB", v[0]), obj)) if ev.neg
              else ("VP", g.leaf("VBD", v[2], 2), obj))
        words = checked_words(g.sentence(g.node("S", subj, g.advp(adv), vp)), d)
        premise = g.text(words)
    else:
        ev, passive, adv = distance_event(rng, d, ctx, neg_p=0.2)
        premise, dist = render(ev, rng, passive, adv, mark=True)
        assert dist == d, premise
    facts = facts_of(ev, coord)
    main = facts[: 2 if coord is not None else 1]
    f = pick(rng, main) if rng.random() < 0.55 else pick(rng, facts)
    phen = ("coordination" if coord is not None and f in main else "main_clause" if f in main
            else "prepositional" if isinstance(f.rel, str) else "relative_clause")
    h = f
    if y == 0 and not f.neg and rng.random() < 0.3 and lx.ancestors(f.a.noun):
        h = replace(f, a=Ent(pick(rng, lx.ancestors(f.a.noun)), f.a.plural), indefinite=True)
        phen = "hypernym"
    elif y == 1:
        kind = _weighted(rng, RTE_EDITS)
        nouns = [x.a for x in facts] + [x.b for x in facts]
        if kind == "role_swap":
            if isinstance(f.rel, str) or not (f.b.noun.animate and f.a.noun.animate):
                raise Retry
            h = replace(f, a=f.b, b=f.a)
        elif kind == "negation":
            if isinstance(f.rel, str):
                raise Retry
            h = replace(f, neg=not f.neg)
        elif kind == "attractor":  # another entity of the premise in the fact's subject slot
            opts = [e for e in nouns if e.noun != f.a.noun and e.noun != f.b.noun and e.noun.animate]
            if not opts:
                raise Retry
            h = replace(f, a=pick(rng, opts))
        elif kind == "hyponym":
            kids = [n for n in lx.children(f.a.noun) if n.countable]
            if not kids or f.neg:
                raise Retry
            h = replace(f, a=Ent(pick(rng, kids), f.a.plural), indefinite=True)
        elif kind == "noun_change":
            taken = [e.noun for e in nouns]
            n = g.pick_noun(rng, g.ANIMATE_POOL, g.Ctx(avoid=taken))
            h = replace(f, a=Ent(n, f.a.plural))
        else:
            if isinstance(f.rel, str):
                h = replace(f, rel=pick(rng, [p for p in lx.PREPOSITIONS if p != f.rel]))
            else:
                opts = [v for v in g.VERB_LIST if v != f.rel and g.takes(v, f.b.noun)]
                h = replace(f, rel=pick(rng, opts))
        phen = kind
    if isinstance(h.rel, lx.Verb) and not (h.a.noun.animate and g.takes(h.rel, h.b.noun)):
        raise Retry
    if entailed(h, facts) != (y == 0):  # labels: entailment (0), not_entailment (1)
        raise Retry
    if any(entailed(h, facts_of(ev, coord, r, passive)) != (y == 0) for r in ("high", "vp")):
        raise Retry  # the label would depend on how a reader attaches a modifier
    words, _ = g.realize(fact_tree(h, rng, rng.random() < 0.3))
    if g.text(words) == premise:
        raise Retry
    return Example(premise, g.text(words), ("entailment", "not_entailment")[y], d, phen)
