"""Synthetic translation, the task of Vaswani et al. (2017) at CPU scale: English -> Sovian.

English sentences come from the synglue grammar (`seminal.synglue.grammar`): transitive clauses
in the past tense, active or passive, optionally negated, whose subject carries a post-nominal
modifier (a PP or a relative clause, nested, with attractor nouns) and discourse adverbs, and whose
object may carry one too. Sovian is an invented verb-final language (its word order is
Basque- or Japanese-like; its function words and suffixes are invented, its stems are the English
concept keys). A sentence is translated by deterministic
rules from its parse tree, so the translation of a string is unique and the rules below can be
checked by hand (tests/test_translation.py does, on hand-made trees).

Rules (EN = the English tree; `+x` is a suffix, written as a separate piece `##x`, see Pieces):

1. Words. A content word becomes its concept's stem, the lexicon key: synonyms collapse
   (hound, dog -> dog; large -> big; pursued -> chase; stones -> rock). "the" and the relativizers
   (that, who, which) are dropped; prepositions become postpositions (POSTPOSITIONS); discourse
   adverbs are translated (ADVERBS); "did" (do-support) is dropped; "not" becomes the particle `ez`.
2. Noun phrase: [modifier] NOUN [ADJ ...]. A post-nominal modifier (PP, relative clause) moves in
   front of its noun (head-final); adjectives move behind it, in their English order.
   The noun is stem (+ak if plural) +case; each adjective agrees in number: stem (+ak if plural).
   Cases: +u nominative (subject of a clause), +a accusative (object of an active clause),
   +ek agentive (the by-phrase of a passive), +en oblique (object of a postposition).
3. Postpositional phrase (EN "P NP"): NP+en POSTPOSITION.
4. Relative clause, moved before its noun: subject relative (EN "that V NP", the noun is the
   agent) -> NP+a stem+ta+ko; object relative (EN "that NP V", the noun is the patient)
   -> NP+u stem+ta+ko. (+ta past, +ko relative; relative verbs do not agree.)
5. Clause: ADVERBS SUBJECT+u [AGENT+ek] [OBJECT+a] [ez] VERB . — subject-object-verb; discourse
   adverbs move to the front; the verb is stem (+tu if passive) +ta (past) and agrees in number
   with the clause's subject head noun: +n singular, +te plural. So the verb's last piece depends
   on a noun that the whole object (and its modifier) separates it from, and on nothing nearer.

Example (tests/test_translation.py):
  EN  the big dogs near the old house indeed did not chase the cat that the boys saw .
  SOV benetan houseen old ondo dogaku bigak boyaku seetako cata ez chasetate.

Pieces: the models read and write a piece-level vocabulary given by the rules, not learned:
English words as they are (lower case, "." a token), Sovian stems as words and every suffix as a
piece `##x` glued to the word before it (WordPiece's convention). One vocabulary for both
languages, built from the training pairs, because the Transformer shares its source, target and
output embeddings (§3.4); the default corpus has 371 types. BLEU is computed on the detokenised
Sovian (pieces glued into words, the full stop onto the last word) with sacrebleu's default
settings (13a tokenisation, exponential smoothing; `BLEU_SIGNATURE`), so a wrong suffix costs the
whole word. Copying the English source as the translation scores 0.15 BLEU on the default dev set.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seminal.errors import SeminalError
from seminal.synglue import grammar as g
from seminal.synglue import lexicon as lx
from seminal.synglue.files import split_rng
from seminal.synglue.grammar import Retry, Tree

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"  # ids 0..3, as seminal.models.transformer
SPECIALS = (PAD, UNK, BOS, EOS)
GLUE = "##"  # a piece that continues the word before it

# Sovian function words and suffixes (rules 1-5)
PLURAL = "ak"
CASES = {"nom": "u", "acc": "a", "agt": "ek", "obl": "en"}
PASSIVE, PAST, RELATIVE = "tu", "ta", "ko"
AGREE = {False: "n", True: "te"}  # the verb agrees with its subject's number: singular, plural
NEGATION = "ez"
POSTPOSITIONS = {"near": "ondo", "behind": "atze", "beside": "alboan", "with": "kin", "under": "azpi",
                 "about": "buruz", "from": "tik"}
ADVERBS = {"indeed": "benetan", "then": "gero", "also": "ere", "in fact": "izatez", "of course": "noski",
           "as expected": "espero bezala"}
DROPPED = frozenset({"the", "that", "who", "which", "did"})

# English surface form -> concept key (no form belongs to two concepts: checked at import)
NOUN_KEYS = {f: n.key for n in lx.NOUNS.values() for pair in n.forms for f in pair if f}
VERB_KEYS = {f: v.key for v in lx.VERBS.values() for forms in v.forms for f in forms}
ADJ_KEYS = {f: a.key for a in lx.ADJS.values() for f in a.forms}
assert len(NOUN_KEYS) == sum(len([f for p in n.forms for f in p if f]) for n in lx.NOUNS.values())


# ---------------------------------------------------------------------------------------------
# English trees -> Sovian pieces (rules 1-5)


def _kids(t: Tree) -> list[Tree]:
    return list(t[1:])


def _is_leaf(t: Tree) -> bool:
    return isinstance(t[1], str)


def _word(t: Tree) -> str:
    return t[1].lower()


def _fail(t: Tree, what: str) -> SeminalError:
    return SeminalError(f"Sovian: {what}: {t!r}")


def _suffixes(stem: str, *suffixes: str) -> list[str]:
    return [stem] + [GLUE + s for s in suffixes if s]


def _noun_phrase(t: Tree, case: str) -> tuple[list[str], bool]:
    """Rule 2: NP -> ([modifier] noun+number+case [adj+number ...]), and whether it is plural."""
    kids = _kids(t)
    if not _is_leaf(kids[0]):  # ("NP", NP, modifier): the modifier moves in front (head-final)
        if len(kids) != 2:
            raise _fail(t, "a modified NP has one head NP and one modifier")
        head, plural = _noun_phrase(kids[0], case)
        return _modifier(kids[1]) + head, plural
    adjs, noun = [], None
    for k in kids:
        tag, word = k[0], _word(k)
        if tag == "DT" and word == "the":
            continue
        if tag == "JJ" and word in ADJ_KEYS:
            adjs.append(ADJ_KEYS[word])
        elif tag in ("NN", "NNS") and word in NOUN_KEYS and noun is None:
            noun = (NOUN_KEYS[word], tag == "NNS")
        else:
            raise _fail(k, "not a word of a Sovian noun phrase (the, adjectives, one noun)")
    if noun is None:
        raise _fail(t, "a noun phrase without a noun")
    stem, plural = noun
    number = PLURAL if plural else ""
    out = _suffixes(stem, number, CASES[case])
    for a in adjs:  # postposed, agreeing in number
        out += _suffixes(a, number)
    return out, plural


def _modifier(t: Tree) -> list[str]:
    """Rules 3 and 4: a PP or a relative clause, in front of the noun it modifies."""
    kids = _kids(t)
    if t[0] == "PP":  # ("PP", ("IN", p), NP)
        prep = _word(kids[0])
        if prep not in POSTPOSITIONS:
            raise _fail(t, f"no Sovian postposition for {prep!r}")
        return _noun_phrase(kids[1], "obl")[0] + [POSTPOSITIONS[prep]]
    if t[0] == "SBAR" and len(kids) == 2 and kids[1][0] == "S":
        s = _kids(kids[1])
        if len(s) == 1 and s[0][0] == "VP":  # subject relative: that V NP
            vp = _kids(s[0])
            if len(vp) == 2 and vp[0][0] == "VBD" and _word(vp[0]) in VERB_KEYS:
                return _noun_phrase(vp[1], "acc")[0] + _suffixes(VERB_KEYS[_word(vp[0])], PAST, RELATIVE)
        if len(s) == 2 and s[0][0] == "NP" and s[1][0] == "VP":  # object relative: that NP V
            vp = _kids(s[1])
            if len(vp) == 1 and vp[0][0] == "VBD" and _word(vp[0]) in VERB_KEYS:
                return _noun_phrase(s[0], "nom")[0] + _suffixes(VERB_KEYS[_word(vp[0])], PAST, RELATIVE)
    raise _fail(t, "not a modifier Sovian has (PP, that V NP, that NP V)")


def _verb_phrase(t: Tree) -> tuple[str, bool, bool, Tree | None, Tree | None]:
    """VP -> (verb key, passive, negated, object NP or None, by-agent NP or None)."""
    kids = _kids(t)
    head = kids[0]
    if head[0] == "VBD" and _word(head) == "did":  # did not V NP
        if len(kids) != 3 or _word(kids[1]) != "not" or kids[2][0] != "VP":
            raise _fail(t, "do-support without 'not V'")
        verb, passive, _, obj, agent = _verb_phrase(kids[2])
        return verb, passive, True, obj, agent
    if head[0] == "VBD" and _word(head) in ("was", "were"):  # was [not] V-ed by NP
        neg = len(kids) == 3 and _word(kids[1]) == "not"
        inner = _kids(kids[-1])
        if len(inner) != 2 or inner[0][0] != "VBN" or inner[1][0] != "PP" or _word(_kids(inner[1])[0]) != "by":
            raise _fail(t, "a passive needs 'V-ed by NP'")
        return VERB_KEYS[_word(inner[0])], True, neg, None, _kids(inner[1])[1]
    if head[0] in ("VBD", "VB") and _word(head) in VERB_KEYS and len(kids) == 2:
        return VERB_KEYS[_word(head)], False, False, kids[1], None
    raise _fail(t, "not a transitive past-tense VP")


def translate_tree(t: Tree) -> list[str]:
    """Rule 5: an English sentence tree (S: NP [ADVP] VP .) -> Sovian pieces."""
    kids = _kids(t)
    if t[0] != "S" or not kids or kids[0][0] != "NP":
        raise _fail(t, "a sentence is S -> NP [ADVP] VP [.]")
    end = [_word(kids.pop())] if _is_leaf(kids[-1]) and kids[-1][0] in g.PUNCT else []
    adverbs: list[str] = []
    if len(kids) == 3 and kids[1][0] == "ADVP":
        phrase = " ".join(_word(k) for k in _kids(kids.pop(1)))
        if phrase not in ADVERBS:
            raise _fail(t, f"no Sovian adverb for {phrase!r}")
        adverbs = ADVERBS[phrase].split()
    if len(kids) != 2 or kids[1][0] != "VP":
        raise _fail(t, "a sentence is S -> NP [ADVP] VP [.]")
    subject, plural = _noun_phrase(kids[0], "nom")
    verb, passive, neg, obj, agent = _verb_phrase(kids[1])
    out = adverbs + subject
    if agent is not None:
        out += _noun_phrase(agent, "agt")[0]
    if obj is not None:
        out += _noun_phrase(obj, "acc")[0]
    if neg:
        out.append(NEGATION)
    return out + _suffixes(verb, PASSIVE if passive else "", PAST, AGREE[plural]) + end


def detokenize(pieces: Iterable[str]) -> str:
    """Pieces -> text: each `##x` and final punctuation glued to the word before it; special
    tokens dropped ("dog ##u chase ##ta ##n ." -> "dogu chasetan.")."""
    words: list[str] = []
    for p in pieces:
        if p in SPECIALS:
            continue
        if p.startswith(GLUE) and words:
            words[-1] += p[len(GLUE):]
        elif p in g.PUNCT and words:
            words[-1] += p
        else:
            words.append(p.removeprefix(GLUE))
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# sampling English sentences from the synglue grammar


@dataclass(frozen=True)
class CorpusConfig:
    seed: int = 0
    train_size: int = 20000  # sentence pairs
    dev_size: int = 500
    test_size: int = 500
    max_filler: int = 8  # most words between the subject's head noun and the verb (modifier + adverbs)
    passive_p: float = 0.3  # share of passive clauses
    negation_p: float = 0.25  # share of negated clauses
    object_modifier_p: float = 0.3  # share of objects (or by-agents) with a modifier of 3-5 words

    def __post_init__(self) -> None:
        if min(self.train_size, self.dev_size, self.test_size) < 1:
            raise ValueError("translation corpus sizes must be >= 1")
        if not 0 <= self.max_filler <= 20:
            raise ValueError(f"translation max_filler must be in 0..20, got {self.max_filler}")


@dataclass(frozen=True)
class Pair:
    source: str  # English, lower case, whitespace-tokenised ("the dog chased the cat .")
    target: str  # Sovian pieces, whitespace-separated ("dog ##u cat ##a chase ##ta ##n .")
    distance: int  # words between the English subject's head noun and the verb's first word


def sample_tree(rng: random.Random, cfg: CorpusConfig) -> tuple[Tree, int]:
    """One English sentence tree and its subject-verb distance (raises Retry on a dead end)."""
    ctx = g.Ctx()
    ev = g.sample_event(rng, ctx)
    passive = rng.random() < cfg.passive_p
    ev = g.Event(ev.agent, ev.verb, ev.patient, neg=rng.random() < cfg.negation_p)
    subject = ev.patient if passive else ev.agent
    n = rng.randint(0, cfg.max_filler)
    mod, adv = g.subject_filler(rng, n, subject.noun, ctx)
    other = ev.agent if passive else ev.patient
    other_mod = g.sample_mod(rng, rng.randint(3, 5), other.noun, ctx) if rng.random() < cfg.object_modifier_p else None
    subject, other = g.with_mod(subject, mod), g.with_mod(other, other_mod)
    agent, patient = (other, subject) if passive else (subject, other)
    tree = g.sentence(g.clause(g.Event(agent, ev.verb, patient, ev.neg), rng, passive, adv, mark=True))
    return tree, g.realize(tree)[1]


def make_pair(tree: Tree, distance: int = 0) -> Pair:
    words, _ = g.realize(tree)
    return Pair(" ".join(w.lower() for w in words), " ".join(translate_tree(tree)), distance)


def generate(cfg: CorpusConfig) -> dict[str, list[Pair]]:
    """{"train", "dev", "test"}: pairs from one seeded stream per split; no English sentence
    occurs twice in the corpus (so dev and test are unseen in training). Same config, same pairs."""
    seen: set[str] = set()
    out: dict[str, list[Pair]] = {}
    for split, size in (("dev", cfg.dev_size), ("test", cfg.test_size), ("train", cfg.train_size)):
        rng = split_rng(cfg.seed, "translation", split)
        pairs: list[Pair] = []
        tries = 0
        while len(pairs) < size:
            tries += 1
            if tries > 50 * size + 1000:
                raise SeminalError(f"translation corpus: only {len(pairs)} distinct {split} sentences "
                                   f"after {tries} draws; lower the sizes")
            try:
                pair = make_pair(*sample_tree(rng, cfg))
            except Retry:
                continue
            if pair.source not in seen:
                seen.add(pair.source)
                pairs.append(pair)
        out[split] = pairs
    return out


def corpus_hash(corpus: dict[str, list[Pair]]) -> str:
    """sha256 of every pair of every split: the corpus's data hash for tracking."""
    h = hashlib.sha256()
    for split in sorted(corpus):
        for p in corpus[split]:
            h.update(f"{split}\t{p.source}\t{p.target}\n".encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# vocabulary and BLEU


class Vocab:
    """Tokens <-> ids: the specials (ids 0-3), then every training token, sorted."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(SPECIALS) + sorted(set(tokens) - set(SPECIALS))
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_pairs(cls, pairs: Iterable[Pair]) -> Vocab:
        return cls([t for p in pairs for t in (*p.source.split(), *p.target.split())])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        unk = self.ids[UNK]
        return [self.ids.get(t, unk) for t in text.split()]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """ids -> tokens, stopping at the first </s>; padding and <s> dropped."""
        out = []
        for i in ids:
            t = self.tokens[int(i)]
            if t == EOS:
                break
            if t not in (PAD, BOS):
                out.append(t)
        return out


BLEU_SIGNATURE = "sacrebleu corpus_bleu, defaults: tokenize=13a, smooth=exp, lowercase=False, 4-grams"


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (Papineni et al. 2002) in [0, 100], one reference per sentence (sacrebleu)."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise SeminalError(f"BLEU: {len(hypotheses)} hypotheses but {len(references)} references")
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)
