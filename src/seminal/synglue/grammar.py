"""The synglue grammar: meanings (entities, events) and the phrase-structure trees that express them.

A sentence is built as a tree whose leaves are (tag, word) or (tag, word, mark). Marks 1 and 2
sit on the two tokens a label depends on (a subject head noun and its verb, a negation and the
sentiment word it scopes over, a pronoun and its antecedent); `realize` turns a tree into
tokens and the distance in words between the marks (punctuation does not count).

Meanings are frozen dataclasses, so two sentences mean the same thing exactly when their
meanings are equal: synonyms (dog / hound), voice (active / passive), relative-clause voice and
discourse adverbs ("indeed", "in fact") are surface choices made at rendering time. A post-nominal
modifier (PP or relative clause) always attaches to the noun right before it, so every string has
one derivation and a label computed from the meaning is a function of the string.

The one knob that matters is the length of the material between a subject head and its verb:
`subject_filler` returns a modifier plus adverbs of exactly L words, with attractor nouns of
independent number, gender and kind inside.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from seminal.synglue import lexicon as lx
from seminal.synglue.lexicon import Adj, Noun, Verb

Tree = tuple  # (label, *children); a leaf is (tag, word) or (tag, word, mark)
PUNCT = frozenset({",", ".", "?"})
VOWELS = frozenset("aeiou")


class Retry(Exception):
    """A random choice painted itself into a corner; the caller draws again."""


# ---------------------------------------------------------------------------------------------
# trees -> tokens, text, bracketed parses


def leaf(tag: str, word: str, mark: int = 0) -> tuple:
    return (tag, word, mark) if mark else (tag, word)


def node(label: str, *kids: Tree | None) -> Tree:
    return (label, *[k for k in kids if k is not None])


def leaves(t: Tree, out: list | None = None) -> list:
    out = [] if out is None else out
    if isinstance(t[1], str):
        out.append(t)
    else:
        for k in t[1:]:
            leaves(k, out)
    return out


def realize(t: Tree) -> tuple[list[str], int]:
    """Tokens of a tree (a/an fixed) and the distance in words between marks 1 and 2 (0 if none)."""
    lv = leaves(t)
    words = [x[1] for x in lv]
    for i in range(len(words) - 1):
        if words[i] == "a" and words[i + 1][0] in VOWELS:
            words[i] = "an"
    pos, k = {}, 0
    for x in lv:
        if len(x) == 3:
            pos[x[2]] = k
        if x[1] not in PUNCT:
            k += 1
    dist = abs(pos[2] - pos[1]) if 1 in pos and 2 in pos else 0
    return words, dist


def text(words: list[str], style: str = "std") -> str:
    """std: "The dog ran." (GLUE text); sst: "the dog ran ." (SST-2's lower-cased tokens)."""
    if style == "sst":
        return " ".join(words).lower()
    out: list[str] = []
    for w in words:
        if w in PUNCT and out:
            out[-1] += w
        else:
            out.append(w)
    out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def ptb_parse(t: Tree, words: list[str]) -> str:
    """Penn-Treebank bracketing as in MNLI's sentence*_parse columns."""
    it = iter(words)

    def rec(x: Tree) -> str:
        if isinstance(x[1], str):
            return f"({x[0]} {next(it)})"
        return f"({x[0]} " + " ".join(rec(k) for k in x[1:]) + ")"

    return f"(ROOT {rec(t)})"


def binary_parse(t: Tree, words: list[str]) -> str:
    """Unlabelled, right-binarised bracketing as in MNLI's sentence*_binary_parse columns."""
    it = iter(words)

    def rec(x: Tree) -> str:
        if isinstance(x[1], str):
            return next(it)
        kids = [rec(k) for k in x[1:]]
        while len(kids) > 1:
            kids[-2:] = [f"( {kids[-2]} {kids[-1]} )"]
        return kids[0]

    return rec(t)


def cap_words(words: list[str], style: str = "std") -> list[str]:
    """The tokens as they appear in the text (first word capitalised in std style)."""
    if style == "sst":
        return [w.lower() for w in words]
    return [words[0][:1].upper() + words[0][1:]] + words[1:]


# ---------------------------------------------------------------------------------------------
# meanings


@dataclass(frozen=True)
class Ent:
    """A noun phrase's meaning; the determiner is chosen by the sentence that uses it."""

    noun: Noun
    plural: bool = False
    adjs: tuple[Adj, ...] = ()
    mod: Mod | None = None


@dataclass(frozen=True)
class Mod:
    """A post-nominal modifier: pp (near the house), rs (that chased the cat: head is agent),
    ro (that the cat chased: head is patient)."""

    kind: str
    head: str | Verb
    ent: Ent


@dataclass(frozen=True)
class Event:
    agent: Ent
    verb: Verb
    patient: Ent
    neg: bool = False


def np_len(e: Ent) -> int:
    return 2 + len(e.adjs) + mod_len(e.mod)


def mod_len(m: Mod | None) -> int:
    if m is None:
        return 0
    return (1 if m.kind == "pp" else 2) + np_len(m.ent)


def mod_nouns(m: Mod | None) -> list[Ent]:
    """Every entity inside a modifier, outermost first (the attractors)."""
    out = []
    while m is not None:
        out.append(m.ent)
        m = m.ent.mod
    return out


def pron_of(e: Ent) -> str | None:
    return lx.pronoun(e.noun, e.plural)


# ---------------------------------------------------------------------------------------------
# rendering meanings as trees


def pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))] if len(seq) > 1 else seq[0]


def noun_word(n: Noun, plural: bool, rng: random.Random) -> str:
    f = pick(rng, n.forms)
    return f[1] if plural else f[0]


def verb_forms(v: Verb, rng: random.Random) -> tuple[str, str, str, str]:
    return pick(rng, v.forms)


def relativizer(head: Ent, rng: random.Random) -> str:
    return pick(rng, ("who", "that") if head.noun.kind == "person" else ("that", "which"))


def np_tree(e: Ent, rng: random.Random, det: str = "the", marks: dict | None = None,
            reform: bool = False) -> Tree:
    """NP for an entity. `reform` rewrites modifiers into meaning-preserving variants
    (near the house -> that was near the house; that the cat chased -> that was chased by the cat)."""
    kids: list = [leaf("DT", w) for w in det.split()] if det else []
    for a in e.adjs:
        kids.append(leaf("JJ", pick(rng, a.forms)))
    mark = marks.get(e.noun, 0) if marks else 0
    kids.append(leaf("NNS" if e.plural else "NN", noun_word(e.noun, e.plural, rng), mark))
    np = ("NP", *kids)
    if e.mod is None:
        return np
    return ("NP", np, mod_tree(e.mod, e, rng, reform, marks))


def mod_tree(m: Mod, head: Ent, rng: random.Random, reform: bool = False, marks: dict | None = None) -> Tree:
    be = "were" if head.plural else "was"
    if m.kind == "pp":
        pp = ("PP", leaf("IN", m.head), np_tree(m.ent, rng, "the", marks))
        if reform:
            return ("SBAR", ("WHNP", leaf("WDT", relativizer(head, rng))), ("S", ("VP", leaf("VBD", be), pp)))
        return pp
    v = verb_forms(m.head, rng)  # type: ignore[arg-type]
    wh = ("WHNP", leaf("WDT", relativizer(head, rng)))
    if m.kind == "rs":
        return ("SBAR", wh, ("S", ("VP", leaf("VBD", v[2]), np_tree(m.ent, rng, "the", marks))))
    if reform:
        by = ("PP", leaf("IN", "by"), np_tree(m.ent, rng, "the", marks))
        return ("SBAR", wh, ("S", ("VP", leaf("VBD", be), ("VP", leaf("VBN", v[3]), by))))
    return ("SBAR", wh, ("S", np_tree(m.ent, rng, "the", marks), ("VP", leaf("VBD", v[2]))))


def advp(words: tuple[str, ...]) -> Tree | None:
    return ("ADVP", *[leaf("RB", w) for w in words]) if words else None


def clause(ev: Event, rng: random.Random, passive: bool = False, adv: tuple[str, ...] = (),
           mark: bool = False, reform: bool = False, agent_det: str = "the",
           patient_det: str = "the") -> Tree:
    """S for an event in the past tense; marks the subject head (1) and the first verb (2)."""
    m2 = 2 if mark else 0
    v = verb_forms(ev.verb, rng)
    if not passive:
        subj = np_tree(ev.agent, rng, agent_det, {ev.agent.noun: 1} if mark else None, reform)
        obj = np_tree(ev.patient, rng, patient_det, None, reform)
        if ev.neg:
            vp = ("VP", leaf("VBD", "did", m2), leaf("RB", "not"), ("VP", leaf("VB", v[0]), obj))
        else:
            vp = ("VP", leaf("VBD", v[2], m2), obj)
    else:
        subj = np_tree(ev.patient, rng, patient_det, {ev.patient.noun: 1} if mark else None, reform)
        by = ("PP", leaf("IN", "by"), np_tree(ev.agent, rng, agent_det, None, reform))
        be = "were" if ev.patient.plural else "was"
        vp = node("VP", leaf("VBD", be, m2), leaf("RB", "not") if ev.neg else None,
                  ("VP", leaf("VBN", v[3]), by))
    return node("S", subj, advp(adv), vp)


def sentence(t: Tree, end: str = ".") -> Tree:
    return (t[0], *t[1:], leaf(end, end))


# ---------------------------------------------------------------------------------------------
# sampling meanings

ANC = {n.key: {n.key} | {a.key for a in lx.ancestors(n)} for n in lx.NOUNS.values()}
ANIMATE_POOL = tuple(n for n in lx.ANIMATE if n.parent is not None)
PERSON_POOL = tuple(n for n in ANIMATE_POOL if n.kind == "person")
THING_POOL = lx.THINGS
ANY_POOL = ANIMATE_POOL + THING_POOL + THING_POOL  # modifiers: mostly things, often animate
ADJ_LIST = tuple(lx.ADJS.values())
VERB_LIST = tuple(lx.VERBS.values())
ANIMATE_VERBS = tuple(v for v in VERB_LIST if v.patient in "ax")  # can take an animate patient


def related(a: Noun, b: Noun) -> bool:
    return a.key in ANC[b.key] or b.key in ANC[a.key]


@dataclass
class Ctx:
    """What one sentence's sampling must respect: nouns already used (no two taxonomically
    related nouns in a sentence), the noun pools, and an optional test on (noun, plural)."""

    avoid: list[Noun] = field(default_factory=list)
    animate: tuple[Noun, ...] = ANIMATE_POOL
    any: tuple[Noun, ...] = ANY_POOL
    ok: Callable[[Noun, bool], bool] | None = None
    plural_p: float = 0.35


def pick_noun(rng: random.Random, pool: tuple[Noun, ...], ctx: Ctx) -> Noun:
    """A noun unrelated (in the taxonomy) to every noun already in the sentence."""
    for _ in range(60):
        n = pool[rng.randrange(len(pool))]
        if not any(related(n, a) for a in ctx.avoid):
            ctx.avoid.append(n)
            return n
    raise Retry


def patient_pool(v: Verb, rng: random.Random, ctx: Ctx, animate_p: float = 0.5) -> tuple[Noun, ...]:
    if v.patient == "a":
        return ctx.animate
    if v.patient == "t":
        return THING_POOL
    return ctx.animate if rng.random() < animate_p else THING_POOL


def takes(v: Verb, n: Noun) -> bool:
    return v.patient == "x" or (v.patient == "a") == n.animate


def sample_adjs(rng: random.Random, k: int) -> tuple[Adj, ...]:
    out: list[Adj] = []
    while len(out) < k:
        a = ADJ_LIST[rng.randrange(len(ADJ_LIST))]
        if a not in out:
            out.append(a)
    return tuple(out)


def sample_ent(rng: random.Random, pool: tuple[Noun, ...], ctx: Ctx, plural: bool | None = None,
               adj_p: float = 0.15) -> Ent:
    for _ in range(30):
        n = pick_noun(rng, pool, ctx)
        pl = (rng.random() < ctx.plural_p) if plural is None else plural
        pl = pl and n.countable
        if ctx.ok is not None and not ctx.ok(n, pl):
            if plural is None and n.countable and ctx.ok(n, not pl):
                pl = not pl
            else:
                ctx.avoid.remove(n)
                continue
        return Ent(n, pl, sample_adjs(rng, 1) if rng.random() < adj_p else ())
    raise Retry


def sample_np(rng: random.Random, m: int, pool: tuple[Noun, ...], ctx: Ctx, kinds: str = "pp rs ro",
              plural: bool | None = None) -> Ent:
    """An entity whose NP is exactly m >= 2 words (det + adjectives + noun + modifier)."""
    if m <= 4:
        a = m - 2
    else:
        a = rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0]
        if 0 < m - 2 - a < 3:
            a = 0
    e = sample_ent(rng, pool, ctx, plural, adj_p=0.0)
    r = m - 2 - a
    return Ent(e.noun, e.plural, sample_adjs(rng, a), sample_mod(rng, r, e.noun, ctx, kinds) if r else None)


def sample_mod(rng: random.Random, n: int, head: Noun, ctx: Ctx, kinds: str = "pp rs ro") -> Mod:
    """A modifier of exactly n >= 3 words for `head`, nesting further modifiers when long."""
    options = ["pp"] if "pp" in kinds else []
    if n >= 4:
        if "rs" in kinds and head.animate:
            options.append("rs")
        if "ro" in kinds:
            options.append("ro")
    if not options:
        raise Retry
    kind = pick(rng, options)
    if kind == "pp":
        prep = pick(rng, lx.WORK_PREPOSITIONS if head.kind == "work" else lx.PREPOSITIONS)
        return Mod("pp", prep, sample_np(rng, n - 1, ctx.any, ctx, kinds))
    if kind == "rs":
        v = pick(rng, VERB_LIST)
        return Mod("rs", v, sample_np(rng, n - 2, patient_pool(v, rng, ctx), ctx, kinds))
    for _ in range(20):
        v = pick(rng, VERB_LIST)
        if takes(v, head):
            return Mod("ro", v, sample_np(rng, n - 2, ctx.animate, ctx, kinds))
    raise Retry


def discourse(rng: random.Random, n: int) -> tuple[str, ...]:
    if n == 0:
        return ()
    return tuple(pick(rng, lx.DISCOURSE1 if n == 1 else lx.DISCOURSE2).split())


def subject_filler(rng: random.Random, n: int, head: Noun, ctx: Ctx,
                   kinds: str = "pp rs ro") -> tuple[Mod | None, tuple[str, ...]]:
    """Material of exactly n words between a subject head and its verb: a modifier (with
    attractor nouns) and/or discourse adverbs. n <= 2 uses adverbs only."""
    if n <= 2:
        return None, discourse(rng, n)
    r = rng.choices((0, 1, 2), (0.75, 0.15, 0.10))[0]
    if n - r < 3:
        r = 0
    return sample_mod(rng, n - r, head, ctx, kinds), discourse(rng, r)


def with_mod(e: Ent, m: Mod | None) -> Ent:
    return Ent(e.noun, e.plural, e.adjs, m)


def sample_event(rng: random.Random, ctx: Ctx, animate_patient: float = 0.85) -> Event:
    agent = sample_ent(rng, ctx.animate, ctx)
    v = pick(rng, ANIMATE_VERBS if rng.random() < animate_patient else VERB_LIST)
    pool = patient_pool(v, rng, ctx, animate_patient)
    return Event(agent, v, sample_ent(rng, pool, ctx))
