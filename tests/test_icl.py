"""In-context learning (Brown et al. 2020, §2.4): prompt construction (the evaluated example is
never a demonstration, a seed fixes the prompts, K=0 has none, the oldest demonstrations are the
first dropped), likelihood scoring on a hand-made model whose answer is known exactly, the
packed completions equal separate forwards, and the default prompts encode without [UNK]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seminal import icl
from seminal.benchmark import TaskSpec, load_benchmark
from seminal.data import Split
from seminal.errors import SeminalError
from seminal.icl import Prompt, build_prompt, choose_demonstrations, evaluate, get_prompt, score_completions
from seminal.models.gpt import GPT, GPTConfig
from seminal.tokenize import EOS, UNK

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
GLUE_TASKS = ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"]
# the prompts are data: each task's `prompt` in its benchmark file
PROMPTS = {n: t.prompt for n, t in load_benchmark(REPO / "config" / "benchmarks" / "synglue.yaml").tasks.items()}


class WordTokenizer:
    """A stand-in for sentencepiece: one id per word (ids from 7 up, in order of first sight);
    words in `split` become two ids (a multi-piece word)."""

    def __init__(self, split: tuple[str, ...] = ("yes",)):
        self.vocab: dict[str, list[int]] = {}
        self.split = split

    def word(self, w: str) -> list[int]:
        if w not in self.vocab:
            n = 7 + sum(len(v) for v in self.vocab.values())
            self.vocab[w] = [n, n + 1] if w in self.split else [n]
        return self.vocab[w]

    def encode(self, x, out_type=int):
        if isinstance(x, list):
            return [self.encode(s) for s in x]
        return [i for w in x.split() for i in self.word(w)]


class Bigram(torch.nn.Module):
    """A hand-made LM: the next-token log-probabilities depend only on the current token, from a
    fixed table, so the score of any completion can be computed by hand."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = table  # (V, V) logits

    def forward(self, idx, pos=None, mask=None):
        return self.table[idx]  # (B, T, V)


def task(name: str, kind: str = "single", labels=("0", "1"), output: str = "classification") -> TaskSpec:
    return TaskSpec(name, kind, output, labels, ("acc",), {}, prompt=PROMPTS.get(name))  # the built-in prompt


def split(s1, labels=None, s2=None, name="train", task_name="T") -> Split:
    return Split(task_name, name, [str(i) for i in range(len(s1))], list(s1), s2, labels)


# ------------------------------------------------------------------------------------------
# prompts


def test_default_prompts_cover_glue_and_match_the_labels() -> None:
    spec = load_benchmark(REPO / "config" / "benchmarks" / "synglue.yaml")
    for name in GLUE_TASKS:
        p = get_prompt(spec.tasks[name])
        assert p is spec.tasks[name].prompt and p == PROMPTS[name]
    assert get_prompt(spec.tasks["AX"]) == PROMPTS["MNLI"]  # AX is predicted as MNLI
    assert PROMPTS["RTE"].template == "{sentence1}\nquestion {sentence2} true or false?\nanswer"
    assert PROMPTS["RTE"].verbalizer == {"entailment": "true", "not_entailment": "false"}


def test_a_callers_prompt_replaces_the_default() -> None:
    t = task("SST-2")
    p = get_prompt(t, {"template": "{sentence1}\nit was", "verbalizer": {"0": "bad", "1": "great"}})
    assert p == Prompt("{sentence1}\nit was", {"0": "bad", "1": "great"})
    with pytest.raises(SeminalError, match="verbalizer labels"):
        get_prompt(t, {"template": "{sentence1}", "verbalizer": {"0": "bad"}})
    with pytest.raises(SeminalError, match="sentence2"):
        get_prompt(task("RTE", "pair"), {"template": "{sentence1} ok", "verbalizer": {"0": "a", "1": "b"}})
    with pytest.raises(SeminalError, match="no default"):
        get_prompt(task("BoolQ"))


def test_demonstrations_never_include_the_evaluated_example() -> None:
    train = split([f"s{i}" for i in range(6)], ["0", "1"] * 3)
    for i in range(6):  # evaluating the training split itself: never its own index
        for seed in range(20):
            assert i not in choose_demonstrations(train, train, i, 5, seed)
    # a dev example whose text is a training example's (case and spacing aside): that one is skipped
    dev = split(["S3 ", "new"], ["0", "1"], name="dev")
    for seed in range(20):
        assert 3 not in choose_demonstrations(train, dev, 0, 6, seed)
        assert len(choose_demonstrations(train, dev, 0, 6, seed)) == 5
    assert sorted(choose_demonstrations(train, dev, 1, 6, 0)) == list(range(6))  # nothing excluded


def test_a_seed_fixes_the_prompts_and_k0_has_none() -> None:
    train = split([f"s{i}" for i in range(50)], ["0", "1"] * 25)
    dev = split(["a", "b", "c"], ["0", "1", "0"], name="dev")
    a = [choose_demonstrations(train, dev, i, 4, seed=1) for i in range(3)]
    assert a == [choose_demonstrations(train, dev, i, 4, seed=1) for i in range(3)]
    assert a != [choose_demonstrations(train, dev, i, 4, seed=2) for i in range(3)]
    assert a[0] != a[1]  # each example draws its own
    assert choose_demonstrations(train, dev, 0, 0, seed=1) == []
    built = build_prompt([], [10, 11], n_ctx=20, reserve=1)
    assert built.context == [EOS, 10, 11] and built.n_demos == 0


def test_oldest_demonstrations_are_dropped_first() -> None:
    demos = [[20] * 5, [21] * 5, [22] * 5]
    full = build_prompt(demos, [9, 9], n_ctx=40, reserve=2)
    assert full.context == [EOS] + [20] * 5 + [EOS] + [21] * 5 + [EOS] + [22] * 5 + [EOS] + [9, 9]
    cut = build_prompt(demos, [9, 9], n_ctx=17, reserve=2)  # room for 15: EOS, 2 demos (12), query 2
    assert cut.n_demos == 2 and cut.context == [EOS] + [21] * 5 + [EOS] + [22] * 5 + [EOS] + [9, 9]
    assert build_prompt(demos, [9] * 30, n_ctx=20, reserve=2).context == [9] * 18  # query alone too long


def test_prompt_rendering_with_eos_for_newlines(monkeypatch) -> None:
    sp = WordTokenizer()
    t = task("RTE", "pair", ("entailment", "not_entailment"))
    train = split(["p1 ."], ["entailment"], s2=["h1 ."], task_name="RTE")
    dev = split(["p2 ."], ["not_entailment"], s2=["h2 ."], name="dev", task_name="RTE")
    seen = []
    model = Bigram(torch.zeros(64, 64))

    def spy(contexts, completions):
        seen.append((contexts, completions))
        return np.zeros((len(contexts), len(completions)))

    monkeypatch.setattr(icl, "score_completions", lambda m, c, w, b: spy(c, w))
    evaluate(model, sp, t, train, dev, k=1, seed=0, n_ctx=64)
    ids = lambda text: sp.encode(text)
    demo = ids("p1 .") + [EOS] + ids("question h1 . true or false?") + [EOS] + ids("answer true")
    query = ids("p2 .") + [EOS] + ids("question h2 . true or false?") + [EOS] + ids("answer")
    assert seen[0][0] == [[EOS] + demo + [EOS] + query]
    assert seen[0][1] == [ids("true"), ids("false")]  # in the order of task.labels


# ------------------------------------------------------------------------------------------
# scoring


def test_scores_are_per_token_mean_log_probs_of_a_hand_made_model() -> None:
    V = 12
    table = torch.randn(V, V, generator=torch.Generator().manual_seed(0))
    logp = torch.log_softmax(table, -1).double()
    contexts = [[1, 2, 3], [4, 5], [6]]
    completions = [[7, 8], [9], [10, 11, 7]]
    got = score_completions(Bigram(table), contexts, completions, batch_size=2)
    for i, c in enumerate(contexts):
        for j, w in enumerate(completions):
            prev = [c[-1]] + w[:-1]
            expect = np.mean([float(logp[a, b]) for a, b in zip(prev, w)])
            assert got[i, j] == pytest.approx(expect, abs=1e-9)
    single = score_completions(Bigram(table), contexts, [[9], [7]], batch_size=3)
    assert single[:, 0] == pytest.approx([float(logp[c[-1], 9]) for c in contexts], abs=1e-9)


def test_packed_completions_equal_separate_forwards() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=30, n_layer=3, d_model=16, n_head=2, d_ff=32, n_ctx=40, band=3)).eval()
    contexts = [[3, 5, 7, 9, 11], [4, 4, 8], [1, 2, 3, 4, 5, 6, 7, 8]]
    completions = [[10, 11, 12], [13], [14, 15]]
    got = score_completions(model, contexts, completions, batch_size=2)
    with torch.no_grad():
        for i, c in enumerate(contexts):
            for j, w in enumerate(completions):
                lp = torch.log_softmax(model(torch.tensor([c + w])), -1)[0]
                expect = np.mean([float(lp[len(c) - 1 + t, w[t]]) for t in range(len(w))])
                assert got[i, j] == pytest.approx(expect, abs=1e-5)


def rigged(sp: WordTokenizer, prefer: dict[str, float], V: int = 64) -> Bigram:
    """After the word 'answer' the next-token logits favour the given words; all else uniform."""
    table = torch.zeros(V, V)
    for w, bonus in prefer.items():
        table[sp.encode("answer")[0], sp.encode(w)[0]] = bonus
    return Bigram(table)


def test_evaluate_predicts_the_rigged_answer() -> None:
    sp = WordTokenizer(split=("yes",))
    t = task("CoLA")
    train = split(["a b", "c d", "e f"], ["0", "1", "0"])
    dev = split(["g h", "i j"], ["1", "0"], name="dev")
    for k in (0, 1, "few"):
        stats: dict = {}
        pred = evaluate(rigged(sp, {"no": 3.0}), sp, t, train, dev, k=k, seed=0, n_ctx=64, stats=stats)
        assert pred.tolist() == [0, 0] and pred.dtype == np.int64
        assert stats["mean_demos"] == {0: 0, 1: 1, "few": 3}[k] and stats["examples"] == 2
    # "yes" is two pieces: its score is the mean of log p(y1 | answer) and log p(y2 | y1)
    pred = evaluate(rigged(sp, {"yes": 3.0}), sp, t, train, dev, k=0, seed=0, n_ctx=64)
    assert pred.tolist() == [1, 1]
    assert evaluate(rigged(sp, {"no": 3.0}), sp, t, train, dev, 0, 0, 64, max_examples=1).shape == (1,)


def test_stsb_expected_value_over_score_words() -> None:
    sp = WordTokenizer(split=())
    t = TaskSpec("STS-B", "pair", "regression", None, ("pearson",), {}, prompt=PROMPTS["STS-B"])
    train = split(["a"], ["4.6"], s2=["b"], task_name="STS-B")
    dev = split(["c"], ["1.0"], s2=["d"], name="dev", task_name="STS-B")
    sp.encode("answer zero one two three four five")
    bonus = {"zero": 0.0, "one": 0.0, "two": 0.0, "three": 2.0, "four": 0.0, "five": 1.0}
    pred = evaluate(rigged(sp, bonus), sp, t, train, dev, k=0, seed=0, n_ctx=64)
    w = np.exp(np.array(list(bonus.values())))  # every word is one piece: p(s) ∝ exp(logit)
    assert pred.dtype == np.float32 and pred[0] == pytest.approx(float(w @ np.arange(6) / w.sum()), rel=1e-5)
    assert icl._label_word(PROMPTS["STS-B"], t, "4.6") == "five"  # demos: nearest word
    assert icl._label_word(PROMPTS["STS-B"], t, "1.4") == "one"


# ------------------------------------------------------------------------------------------
# the project's tokenizer


@pytest.fixture(scope="module")
def synglue_sp(tmp_path_factory):
    """data/synglue's tokenizer when built, else one trained on a small generated synglue corpus."""
    built = REPO / "data" / "synglue" / "tokenizer" / "spm.model"
    from seminal.tokenize import load_tokenizer, train_tokenizer
    if built.exists():
        return load_tokenizer(built)
    from seminal.synglue import SynGlueConfig, generate
    out = tmp_path_factory.mktemp("synglue_icl")
    generate(out, SynGlueConfig(train_size=20, dev_size=10, test_size=10, diagnostic_size=10, corpus_tokens=60_000))
    return load_tokenizer(train_tokenizer([out / "corpus" / "corpus.txt"], out / "spm", vocab_size=400))


def test_default_prompts_encode_without_unk(synglue_sp) -> None:
    for name, prompt in PROMPTS.items():
        report = icl.check_encodable(synglue_sp, prompt)
        assert report["unk"] == [], name
        assert max(report["verbalizer_pieces"].values()) <= 6, name
    assert UNK in synglue_sp.encode("answer:")  # why the templates have no colon
