"""The synglue lexicon: every word the embedded benchmark can use, with the features its labels need.

Nouns carry number forms, a pronoun gender (m, f, n; c = a person of either gender), a kind
(person, animal, thing, work) and a parent concept, which gives a three-level taxonomy
(animal > dog > poodle; person > athlete > runner) for hypernymy and quantifier monotonicity.
Synonyms are surface variants of one concept (dog / hound): a sentence pair that differs only in
them means the same thing. Two concepts are disjoint unless one is an ancestor of the other.

Verbs carry base, third-person singular, past and participle forms and the kind of patient they
take (a: animate, t: thing, x: any). Sentiment adjectives, negators, affirmers, intensifiers and
fillers serve the SST-2-like task. The tables are plain text so they read like a dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Noun:
    key: str
    forms: tuple[tuple[str, str], ...]  # (singular, plural) per synonym; plural "" = mass noun
    gender: str  # m | f | n | c
    kind: str  # person | animal | thing | work
    parent: str | None

    @property
    def animate(self) -> bool:
        return self.kind in ("person", "animal")

    @property
    def countable(self) -> bool:
        return bool(self.forms[0][1])

    def __repr__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Verb:
    key: str
    forms: tuple[tuple[str, str, str, str], ...]  # (base, 3sg, past, participle) per synonym
    patient: str  # a | t | x

    def __repr__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Adj:
    key: str
    forms: tuple[str, ...]  # synonyms

    def __repr__(self) -> str:
        return self.key


_NOUNS = """
# key        forms (singular/plural, synonyms after a comma)   gender kind   parent
animal       animal/animals                      n animal -
dog          dog/dogs,hound/hounds               n animal animal
poodle       poodle/poodles                      n animal dog
terrier      terrier/terriers                    n animal dog
beagle       beagle/beagles                      n animal dog
cat          cat/cats                            n animal animal
kitten       kitten/kittens                      n animal cat
tabby        tabby/tabbies                       n animal cat
tomcat       tomcat/tomcats                      n animal cat
bird         bird/birds                          n animal animal
sparrow      sparrow/sparrows                    n animal bird
parrot       parrot/parrots                      n animal bird
robin        robin/robins                        n animal bird
horse        horse/horses,steed/steeds           n animal animal
pony         pony/ponies                         n animal horse
foal         foal/foals                          n animal horse
colt         colt/colts                          n animal horse
person       person/people                       c person -
musician     musician/musicians                  c person person
singer       singer/singers                      c person musician
drummer      drummer/drummers                    c person musician
pianist      pianist/pianists                    c person musician
athlete      athlete/athletes                    c person person
runner       runner/runners                      c person athlete
swimmer      swimmer/swimmers                    c person athlete
boxer        boxer/boxers                        c person athlete
worker       worker/workers                      c person person
farmer       farmer/farmers                      c person worker
baker        baker/bakers                        c person worker
builder      builder/builders                    c person worker
child        child/children,kid/kids             c person person
boy          boy/boys                            m person child
girl         girl/girls                          f person child
doctor       doctor/doctors,physician/physicians c person person
lawyer       lawyer/lawyers,attorney/attorneys   c person person
student      student/students,pupil/pupils       c person person
teacher      teacher/teachers                    c person person
king         king/kings                          m person person
queen        queen/queens                        f person person
man          man/men                             m person person
woman        woman/women                         f person person
father       father/fathers                      m person person
mother       mother/mothers                      f person person
brother      brother/brothers                    m person person
sister       sister/sisters                      f person person
prince       prince/princes                      m person person
princess     princess/princesses                 f person person
uncle        uncle/uncles                        m person person
aunt         aunt/aunts                          f person person
duke         duke/dukes                          m person person
duchess      duchess/duchesses                   f person person
monk         monk/monks                          m person person
nun          nun/nuns                            f person person
husband      husband/husbands                    m person person
wife         wife/wives                          f person person
son          son/sons                            m person person
daughter     daughter/daughters                  f person person
house        house/houses                        n thing -
tree         tree/trees                          n thing -
car          car/cars,automobile/automobiles     n thing -
bridge       bridge/bridges                      n thing -
river        river/rivers                        n thing -
table        table/tables                        n thing -
door         door/doors                          n thing -
window       window/windows                      n thing -
road         road/roads,street/streets           n thing -
box          box/boxes                           n thing -
ball         ball/balls                          n thing -
hat          hat/hats                            n thing -
chair        chair/chairs                        n thing -
fence        fence/fences                        n thing -
garden       garden/gardens                      n thing -
wall         wall/walls                          n thing -
lamp         lamp/lamps                          n thing -
book         book/books                          n thing -
bag          bag/bags                            n thing -
boat         boat/boats                          n thing -
rock         rock/rocks,stone/stones             n thing -
gate         gate/gates                          n thing -
barn         barn/barns                          n thing -
tower        tower/towers                        n thing -
shop         shop/shops,store/stores             n thing -
sofa         sofa/sofas,couch/couches            n thing -
gift         gift/gifts,present/presents         n thing -
bench        bench/benches                       n thing -
kite         kite/kites                          n thing -
basket       basket/baskets                      n thing -
clock        clock/clocks                        n thing -
statue       statue/statues                      n thing -
film         film/films,movie/movies             n work -
story        story/stories                       n work -
plot         plot/plots                          n work -
script       script/scripts                      n work -
ending       ending/endings                      n work -
soundtrack   soundtrack/soundtracks              n work -
performance  performance/performances            n work -
sequel       sequel/sequels                      n work -
comedy       comedy/comedies                     n work -
drama        drama/dramas                        n work -
thriller     thriller/thrillers                  n work -
documentary  documentary/documentaries           n work -
screenplay   screenplay/screenplays              n work -
finale       finale/finales                      n work -
episode      episode/episodes                    n work -
scene        scene/scenes                        n work -
song         song/songs                          n work -
joke         joke/jokes                          n work -
acting       acting/                             n work -
dialogue     dialogue/                           n work -
music        music/                              n work -
direction    direction/                          n work -
editing      editing/                            n work -
"""

_VERBS = """
# key     forms (base,3sg,past,participle; synonyms after a semicolon)                 patient
chase     chase,chases,chased,chased;pursue,pursues,pursued,pursued                    a
help      help,helps,helped,helped;assist,assists,assisted,assisted                    a
watch     watch,watches,watched,watched;observe,observes,observed,observed             x
greet     greet,greets,greeted,greeted;welcome,welcomes,welcomed,welcomed              a
follow    follow,follows,followed,followed;trail,trails,trailed,trailed                x
meet      meet,meets,met,met;encounter,encounters,encountered,encountered              a
push      push,pushes,pushed,pushed;shove,shoves,shoved,shoved                         x
hit       hit,hits,hit,hit;strike,strikes,struck,struck                                x
frighten  frighten,frightens,frightened,frightened;scare,scares,scared,scared          a
hug       hug,hugs,hugged,hugged;embrace,embraces,embraced,embraced                    a
choose    choose,chooses,chose,chosen;select,selects,selected,selected                 x
praise    praise,praises,praised,praised;commend,commends,commended,commended          a
protect   protect,protects,protected,protected;shield,shields,shielded,shielded        a
fix       fix,fixes,fixed,fixed;repair,repairs,repaired,repaired                       t
buy       buy,buys,bought,bought;purchase,purchases,purchased,purchased                t
see       see,sees,saw,seen                                                            x
kick      kick,kicks,kicked,kicked                                                     x
bite      bite,bites,bit,bitten                                                        a
carry     carry,carries,carried,carried                                                x
visit     visit,visits,visited,visited                                                 a
call      call,calls,called,called                                                     a
find      find,finds,found,found                                                       x
thank     thank,thanks,thanked,thanked                                                 a
teach     teach,teaches,taught,taught                                                  a
feed      feed,feeds,fed,fed                                                           a
wash      wash,washes,washed,washed                                                    x
paint     paint,paints,painted,painted                                                 x
catch     catch,catches,caught,caught                                                  x
pull      pull,pulls,pulled,pulled                                                     x
ignore    ignore,ignores,ignored,ignored                                               x
admire    admire,admires,admired,admired                                               x
avoid     avoid,avoids,avoided,avoided                                                 x
"""

# intransitive verbs: (base, 3sg, past)
INTRANSITIVE = (
    ("sleep", "sleeps", "slept"), ("run", "runs", "ran"), ("smile", "smiles", "smiled"),
    ("laugh", "laughs", "laughed"), ("wait", "waits", "waited"), ("arrive", "arrives", "arrived"),
    ("sing", "sings", "sang"), ("dance", "dances", "danced"), ("swim", "swims", "swam"),
    ("shout", "shouts", "shouted"), ("jump", "jumps", "jumped"), ("rest", "rests", "rested"),
    ("work", "works", "worked"), ("play", "plays", "played"), ("cry", "cries", "cried"),
)

_ADJS = """
old young big,large small,little tall quiet,silent brown white black grey red green noisy
sleepy famous lazy shy strong gentle fierce busy calm proud
"""

PREPOSITIONS = ("near", "behind", "beside", "with", "under")
WORK_PREPOSITIONS = ("about", "with", "from")

# --- SST-2-like sentiment -------------------------------------------------------------------
POSITIVE = ("good", "great", "excellent", "wonderful", "brilliant", "charming", "delightful",
            "moving", "clever", "funny", "beautiful", "engaging", "fresh", "gripping", "superb",
            "touching", "witty", "enjoyable", "inspired", "thoughtful")
NEGATIVE = ("bad", "awful", "terrible", "dull", "boring", "tedious", "weak", "clumsy", "bland",
            "flat", "lifeless", "predictable", "messy", "pointless", "silly", "shallow",
            "tiresome", "dreadful", "stale", "forgettable")
NEGATORS = ("not", "never")  # flip the polarity of the sentiment word they scope over
AFFIRMERS = ("certainly", "clearly", "definitely", "truly")  # same slot, no flip
INTENSIFIERS = ("very", "quite", "so", "rather", "really", "extremely", "remarkably")
INTENSIFIERS2 = ("so very", "really very", "really quite", "quite remarkably")
# parenthetical fillers between the operator and the sentiment word (set off by commas)
FILLERS = (
    "at times", "for me", "overall", "in the end", "in a way", "in my opinion", "to be honest",
    "on the whole", "at least for me", "from start to finish", "if you ask me",
    "for the most part", "despite the long running time", "as far as i can tell",
    "for all its famous names", "in spite of what the trailer promised",
    "as far as i am concerned", "judging by the first half hour of it",
)
CRITICS = ("the critics", "the audience", "my friends", "we", "i", "most viewers")
RC_SENTIMENT = ("loved", "hated", "praised", "panned", "adored", "disliked")
RC_NEUTRAL = ("did not win any prize", "won a prize", "opened last week", "did not open last week",
              "came out in the spring", "nobody expected")

# --- discourse adverbials: neutral words between a subject and its verb -----------------------
DISCOURSE1 = ("indeed", "then", "also")
DISCOURSE2 = ("in fact", "of course", "as expected")

# --- WNLI-like predicates --------------------------------------------------------------------
PREDICATES = (  # after a pronoun or a noun phrase; none shows number, so only the nouns do
    "smiled", "laughed", "left early", "fell asleep", "cried", "waited", "shouted", "ran away",
    "sang", "danced", "arrived late", "stayed home", "looked tired", "felt sick", "got lost",
    "won the prize",
)
TELL_VERBS = ("told", "warned", "reminded", "promised")


def _parse_nouns(text: str) -> dict[str, Noun]:
    out = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        key, forms, gender, kind, parent = line.split()
        pairs = tuple(tuple(f.split("/")) for f in forms.split(","))
        out[key] = Noun(key, pairs, gender, kind, None if parent == "-" else parent)  # type: ignore[arg-type]
    return out


def _parse_verbs(text: str) -> dict[str, Verb]:
    out = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        key, forms, patient = line.split()
        out[key] = Verb(key, tuple(tuple(f.split(",")) for f in forms.split(";")), patient)  # type: ignore[arg-type]
    return out


NOUNS: dict[str, Noun] = _parse_nouns(_NOUNS)
VERBS: dict[str, Verb] = _parse_verbs(_VERBS)
ADJS: dict[str, Adj] = {a.split(",")[0]: Adj(a.split(",")[0], tuple(a.split(","))) for a in _ADJS.split()}

ANIMATE = tuple(n for n in NOUNS.values() if n.animate)
THINGS = tuple(n for n in NOUNS.values() if n.kind == "thing")
WORKS = tuple(n for n in NOUNS.values() if n.kind == "work")
GENDERED = tuple(n for n in ANIMATE if n.gender in "mf")
ANIMALS = tuple(n for n in ANIMATE if n.kind == "animal")


def ancestors(noun: Noun) -> list[Noun]:
    out, p = [], noun.parent
    while p is not None:
        out.append(NOUNS[p])
        p = NOUNS[p].parent
    return out


def children(noun: Noun) -> list[Noun]:
    return [n for n in NOUNS.values() if n.parent == noun.key]


def is_a(a: Noun, b: Noun) -> bool:
    """True when every `a` is a `b` (a equals b or b is an ancestor of a)."""
    return a == b or b in ancestors(a)


def disjoint(a: Noun, b: Noun) -> bool:
    return not is_a(a, b) and not is_a(b, a)


def pronoun(noun: Noun, plural: bool) -> str | None:
    """The subject pronoun that can refer to this noun; None for a person of either gender."""
    if plural:
        return "they"
    return {"m": "he", "f": "she", "n": "it"}.get(noun.gender)


REFLEXIVE = {"he": "himself", "she": "herself", "it": "itself", "they": "themselves"}
