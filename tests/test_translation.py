"""Synthetic translation (English -> Sovian) and its training loop: the translation rules on
hand-made sentences, the corpus, BLEU against a hand computation, the FLOP formulas against a
hand count and torch's own counter, beam search, overfitting, determinism, the summary contract."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from seminal import seq2seq as s2s
from seminal import translation as T
from seminal.cli import main
from seminal.errors import SeminalError
from seminal.models.rnn_seq2seq import RNNSeq2Seq, RNNSeq2SeqConfig
from seminal.models.transformer import TransformerConfig, TransformerSeq2Seq
from seminal.synglue.grammar import realize

torch.set_num_threads(1)


# ---------------------------------------------------------------------------------------------
# hand-made trees (leaves are (tag, word)), translated by the documented rules


def L(tag: str, word: str) -> tuple:
    return (tag, word)


def NP(*words: tuple) -> tuple:
    return ("NP", L("DT", "the"), *words)


def S(subject: tuple, vp: tuple, adverbs: tuple = ()) -> tuple:
    advp = (("ADVP", *[L("RB", w) for w in adverbs]),) if adverbs else ()
    return ("S", subject, *advp, vp, L(".", "."))


def both(tree: tuple) -> tuple[str, str]:
    return " ".join(realize(tree)[0]), T.detokenize(T.translate_tree(tree))


def test_the_documented_example() -> None:
    subject = ("NP", NP(L("JJ", "big"), L("NNS", "dogs")), ("PP", L("IN", "near"), NP(L("JJ", "old"), L("NN", "house"))))
    obj = ("NP", NP(L("NN", "cat")), ("SBAR", ("WHNP", L("WDT", "that")),
                                      ("S", NP(L("NNS", "boys")), ("VP", L("VBD", "saw")))))
    vp = ("VP", L("VBD", "did"), L("RB", "not"), ("VP", L("VB", "chase"), obj))
    tree = S(subject, vp, ("indeed",))
    assert T.translate_tree(tree) == [
        "benetan", "house", "##en", "old", "ondo",  # adverb first; PP before its noun, oblique case
        "dog", "##ak", "##u", "big", "##ak",  # noun + plural + nominative; adjective after, agreeing
        "boy", "##ak", "##u", "see", "##ta", "##ko",  # object relative: its subject, then V+past+rel
        "cat", "##a",  # the object, accusative
        "ez", "chase", "##ta", "##te", "."]  # negation, verb + past + plural agreement
    assert both(tree) == ("the big dogs near the old house indeed did not chase the cat that the boys saw .",
                          "benetan houseen old ondo dogaku bigak boyaku seetako cata ez chasetate.")


def test_passive_synonyms_and_agent_case() -> None:
    """was not chased by the hounds: agentive +ek, passive +tu, agreement with the (singular)
    surface subject, not with the plural agent; synonyms collapse (hounds -> dog)."""
    vp = ("VP", L("VBD", "was"), L("RB", "not"), ("VP", L("VBN", "pursued"), ("PP", L("IN", "by"), NP(L("NNS", "hounds")))))
    assert both(S(NP(L("NN", "cat")), vp)) == ("the cat was not pursued by the hounds .",
                                               "catu dogakek ez chasetutan.")


def test_subject_relative_and_adjective_agreement() -> None:
    """that helped the kings -> kings in the accusative before help+ta+ko; large -> big, agreeing."""
    subject = ("NP", NP(L("NN", "girl")), ("SBAR", ("WHNP", L("WDT", "who")),
                                           ("S", ("VP", L("VBD", "helped"), NP(L("NNS", "kings"))))))
    vp = ("VP", L("VBD", "pushed"), NP(L("JJ", "large"), L("JJ", "red"), L("NNS", "boxes")))
    assert both(S(subject, vp)) == ("the girl who helped the kings pushed the large red boxes .",
                                    "kingaka helptako girlu boxaka bigak redak pushtan.")


@pytest.mark.parametrize("subject_plural,attractor_plural,object_plural", [
    (False, True, True), (True, False, False), (False, False, True), (True, True, False)])
def test_the_verb_agrees_with_its_subject_only(subject_plural: bool, attractor_plural: bool,
                                               object_plural: bool) -> None:
    """The agreement suffix follows the subject head noun's number, whatever the numbers of the
    noun inside its modifier (an attractor) and of the object between them and the verb."""
    n = {False: ("NN", "boy"), True: ("NNS", "boys")}[subject_plural]
    a = {False: ("NN", "tree"), True: ("NNS", "trees")}[attractor_plural]
    o = {False: ("NN", "ball"), True: ("NNS", "balls")}[object_plural]
    subject = ("NP", NP(L(*n)), ("PP", L("IN", "behind"), NP(L(*a))))
    pieces = T.translate_tree(S(subject, ("VP", L("VBD", "kicked"), NP(L(*o)))))
    assert pieces[-2] == ("##te" if subject_plural else "##n")
    assert T.detokenize(pieces).split()[:2] == [("treeaken" if attractor_plural else "treeen"), "atze"]


@pytest.mark.parametrize("tree,why", [
    (S(("NP", L("DT", "a"), L("NN", "dog")), ("VP", L("VBD", "saw"), NP(L("NN", "cat")))), "noun phrase"),
    (S(NP(L("NN", "dog")), ("VP", L("VBD", "slept"))), "VP"),
    (S(NP(L("NN", "dog")), ("VP", L("VBD", "saw"), NP(L("NN", "cat"))), ("suddenly",)), "adverb"),
    (("S", ("VP", L("VBD", "saw"))), "sentence"),
])
def test_what_sovian_cannot_say_is_an_error(tree: tuple, why: str) -> None:
    with pytest.raises(SeminalError, match=why):
        T.translate_tree(tree)


def test_detokenize() -> None:
    assert T.detokenize(["<s>", "dog", "##u", "cat", "##ak", "##a", "see", "##ta", "##n", ".", "</s>"]) == \
        "dogu cataka seetan."


# ---------------------------------------------------------------------------------------------
# the corpus


SMALL = T.CorpusConfig(seed=3, train_size=300, dev_size=60, test_size=60, max_filler=6)


def test_corpus_is_deterministic_and_dev_test_unseen() -> None:
    a, b = T.generate(SMALL), T.generate(SMALL)
    assert a == b and T.corpus_hash(a) == T.corpus_hash(b)
    assert T.corpus_hash(T.generate(replace(SMALL, seed=4))) != T.corpus_hash(a)
    train = {p.source for p in a["train"]}
    assert not train & {p.source for p in a["dev"] + a["test"]}
    assert {len(v) for v in a.values()} == {300, 60}
    assert max(p.distance for p in a["train"]) <= 6 + 2  # filler + (did/was) + not at most


def test_sampled_sentences_follow_the_rules() -> None:
    """On grammar samples: the translation ends in '.', its verb agrees with the English subject
    head noun, and the Sovian has no article and no English relativizer."""
    rng = random.Random(0)
    n = 0
    while n < 300:
        try:
            tree, _ = T.sample_tree(rng, SMALL)
        except T.Retry:
            continue
        n += 1
        pieces = T.translate_tree(tree)
        head = tree[1]
        while not isinstance(head[1], str) and head[0] == "NP" and not isinstance(head[1][1], str):
            head = head[1]  # the head NP of a modified NP
        plural = any(k[0] == "NNS" for k in head[1:] if isinstance(k[1], str))
        assert pieces[-1] == "." and pieces[-2] == T.GLUE + T.AGREE[plural]
        assert not {"the", "that", "who", "which", "did"} & set(pieces)


def test_vocab_round_trip() -> None:
    corpus = T.generate(SMALL)
    vocab = T.Vocab.from_pairs(corpus["train"])
    assert vocab.tokens[:4] == list(T.SPECIALS)
    p = corpus["train"][0]
    assert vocab.decode(vocab.encode(p.target) + [3, 7]) == p.target.split()  # stops at </s>
    assert vocab.encode("zzz") == [1]


# ---------------------------------------------------------------------------------------------
# BLEU


def test_bleu_equals_a_hand_computation() -> None:
    # hyp "the cat sat on the mat" vs ref "the cat sat on a mat": clipped n-gram precisions
    # 5/6, 3/5, 2/4, 1/3, equal lengths (BP = 1): BLEU = (5/6 * 3/5 * 1/2 * 1/3)^(1/4) = (1/12)^(1/4)
    assert T.bleu(["the cat sat on the mat"], ["the cat sat on a mat"]) == pytest.approx(100 * (1 / 12) ** 0.25)
    # a short hypothesis, every n-gram right: BP = exp(1 - 6/4)
    assert T.bleu(["the cat sat on"], ["the cat sat on the mat"]) == pytest.approx(100 * math.exp(-0.5))
    # corpus level: counts are summed over sentences before the ratio
    two = T.bleu(["a b c d", "the cat sat on the mat"], ["a b c d", "the cat sat on a mat"])
    assert two == pytest.approx(100 * ((9 / 10) * (6 / 8) * (4 / 6) * (2 / 4)) ** 0.25)
    assert T.bleu(["dogu cata seetan."], ["dogu cata seetan."]) == pytest.approx(100.0)  # 13a splits the "."
    assert T.bleu(["dogu seetan."], ["dogu seetan."]) == 0.0  # 3 tokens: no 4-gram, so BLEU is 0
    with pytest.raises(SeminalError):
        T.bleu(["a"], [])


# ---------------------------------------------------------------------------------------------
# FLOPs


def test_transformer_flops_hand_count() -> None:
    """d=4, d_ff=8, 1 layer, 2 heads, V=10; one sentence, S=2 source and T=3 target tokens.
    Each matmul (m x k) @ (k x n) costs 2 m k n."""
    cfg = TransformerConfig(vocab_size=10, n_layers=1, d_model=4, n_heads=2, d_ff=8, max_len=8)
    mm = lambda m, k, n: 2 * m * k * n
    S_, T_, d, f, h, dk = 2, 3, 4, 8, 2, 2
    encoder = mm(S_, d, 3 * d) + h * (mm(S_, dk, S_) + mm(S_, S_, dk)) + mm(S_, d, d) + mm(S_, d, f) + mm(S_, f, d)
    self_attn = mm(T_, d, 3 * d) + h * (mm(T_, dk, T_) + mm(T_, T_, dk)) + mm(T_, d, d)
    cross = mm(T_, d, d) + mm(S_, d, 2 * d) + h * (mm(T_, dk, S_) + mm(T_, S_, dk)) + mm(T_, d, d)
    decoder = self_attn + cross + mm(T_, d, f) + mm(T_, f, d)
    hand = encoder + decoder + mm(T_, d, 10)
    assert hand == 2144
    m = TransformerSeq2Seq(cfg)
    assert m.forward_flops(1, 2, 3) == hand
    assert m.forward_flops(5, 2, 3) == 5 * hand
    assert s2s.train_flops(m, 1, 2, 3) == 3 * hand


def test_rnn_flops_hand_count() -> None:
    """H=2, 1 layer, both directions, input feeding, V=10; S=2, T=3."""
    m = RNNSeq2Seq(RNNSeq2SeqConfig(vocab_size=10, hidden_dim=2, num_layers=1, bidirectional=True, dropout=0.0))
    mm = lambda m_, k, n: 2 * m_ * k * n
    S_, T_, H = 2, 3, 2
    encoder = 2 * S_ * (mm(1, H, 4 * H) + mm(1, H, 4 * H))  # two directions: x W_ih, h W_hh per step
    bridge = mm(1, 2 * H, H)  # [fwd; bwd] -> h_0 of the one decoder layer
    keys = mm(S_, 2 * H, H)  # W_a h̄ for every source position
    decoder = T_ * (mm(1, 2 * H, 4 * H) + mm(1, H, 4 * H))  # input [y; h̃], recurrent h
    attention = T_ * (mm(1, H, S_) + mm(1, S_, 2 * H))  # scores, context
    output = T_ * (mm(1, 3 * H, H) + mm(1, H, 10))  # W_c [c; h], W_s
    hand = encoder + bridge + keys + decoder + attention + output
    assert hand == 856
    assert m.forward_flops(1, 2, 3) == hand


def test_flop_formulas_agree_with_torch_counter() -> None:
    """torch's FlopCounterMode sees every matmul except the fused attention kernel (Transformer)
    and the LSTM cells (aten::lstm): the formulas minus those parts must equal its count."""
    src, tgt = torch.randint(4, 30, (3, 7)), torch.randint(4, 30, (3, 5))
    tr = TransformerSeq2Seq(TransformerConfig(vocab_size=30, n_layers=2, d_model=16, n_heads=4, d_ff=24, max_len=16))
    with FlopCounterMode(display=False) as fc:
        tr(src, tgt)
    B, S_, T_, d = 3, 7, 5, 16
    attention = 2 * (4 * B * S_ * S_ * d + 4 * B * T_ * T_ * d + 4 * B * T_ * S_ * d)
    assert fc.get_total_flops() == tr.forward_flops(B, S_, T_) - attention
    cfg = RNNSeq2SeqConfig(vocab_size=30, hidden_dim=8, num_layers=2, bidirectional=True, dropout=0.0)
    rnn = RNNSeq2Seq(cfg)
    with FlopCounterMode(display=False) as fc:
        rnn(src, tgt)
    H = 8
    cells = B * S_ * (2 * 8 * H * (H + H) + 2 * 8 * H * (2 * H + H)) + B * T_ * (8 * H * (3 * H) + 8 * H * 2 * H)
    assert fc.get_total_flops() == rnn.forward_flops(B, S_, T_) - cells


def test_schedule_is_vaswanis() -> None:
    """lr * lr_factor with lr = d^-0.5 w^-0.5 equals d^-0.5 min(step^-0.5, step w^-1.5) (§5.3)."""
    d, w = 64, 400
    cfg = s2s.Seq2SeqTrainConfig(lr=d ** -0.5 * w ** -0.5, warmup_steps=w)
    for step in (1, 10, 399, 400, 401, 1000, 10_000):
        assert cfg.lr * s2s.lr_factor(cfg, step) == pytest.approx(d ** -0.5 * min(step ** -0.5, step * w ** -1.5))
    const = replace(cfg, schedule="constant", warmup_steps=0)
    assert s2s.lr_factor(const, 1) == s2s.lr_factor(const, 5000) == 1.0


def test_learned_positions_ablation() -> None:
    """Table 3 row (E): a learned (max_len, d) position table instead of the sinusoids; it adds
    exactly max_len * d parameters, and positions still matter (order changes the output)."""
    base = TransformerConfig(vocab_size=30, n_layers=1, d_model=16, n_heads=2, d_ff=32, max_len=20, dropout=0.0)
    learned = replace(base, positions="learned")
    torch.manual_seed(0)
    a, b = TransformerSeq2Seq(base), TransformerSeq2Seq(learned).eval()
    assert b.num_parameters() == a.num_parameters() + 20 * 16
    assert 0.5 * 16 ** -0.5 < float(b.embed.pos.detach().std()) < 1.5 * 16 ** -0.5  # N(0, d^-0.5), tensor2tensor
    tgt = torch.tensor([[2, 7, 8]])
    assert not torch.allclose(b(torch.tensor([[5, 6, 9]]), tgt), b(torch.tensor([[9, 6, 5]]), tgt))
    with pytest.raises(ValueError, match="positions"):
        TransformerConfig(positions="rotary")


# ---------------------------------------------------------------------------------------------
# decoding


class Scripted(nn.Module):
    """A 'model' whose next-piece distribution depends only on the prefix: ids 4='a', 5='b'.
    After <s>: a 0.6, b 0.4. After a: </s> 0.3, a 0.35, b 0.35. After b: </s> 0.9, a 0.05, b 0.05.
    Greedy takes a then a or b (p <= 0.6 * 0.35); beam search finds "b </s>" (0.36)."""

    table: ClassVar[dict[int, dict[int, float]]] = {2: {4: 0.6, 5: 0.4}, 4: {3: 0.3, 4: 0.35, 5: 0.35}, 5: {3: 0.9, 4: 0.05, 5: 0.05}}

    def start(self, src: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"dummy": torch.zeros(src.size(0), 1)}

    def step(self, state: dict, prefix: torch.Tensor) -> tuple[torch.Tensor, dict]:
        logits = torch.full((prefix.size(0), 6), -1e9)
        for i, last in enumerate(prefix[:, -1].tolist()):
            for tok, p in self.table.get(last, {3: 1.0}).items():
                logits[i, tok] = math.log(p)
        return logits, state


def test_beam_search_beats_greedy_on_a_scripted_model() -> None:
    m, src = Scripted(), torch.ones(2, 3, dtype=torch.long)
    assert s2s.greedy(m, src, 2)[0][:1] == [4]
    best = s2s.beam_search(m, src, beam=2, alpha=0.0, max_len=5)
    assert best == [[5, 3], [5, 3]]
    # the length penalty favours longer hypotheses: lp(3) / lp(2) = (8/7)^α
    assert s2s.length_penalty(2, 0.6) == pytest.approx((7 / 6) ** 0.6)


def test_beam_of_one_is_greedy() -> None:
    torch.manual_seed(0)
    m = TransformerSeq2Seq(TransformerConfig(vocab_size=20, n_layers=1, d_model=16, n_heads=2, d_ff=32,
                                             max_len=32)).eval()
    src = torch.randint(4, 20, (5, 6))
    g, b = s2s.greedy(m, src, 12), s2s.beam_search(m, src, beam=1, alpha=0.6, max_len=12)
    cut = [row[:row.index(3) + 1] if 3 in row else row for row in g]
    assert b == cut


def test_transformer_incremental_step_equals_full_decode() -> None:
    torch.manual_seed(0)
    m = TransformerSeq2Seq(TransformerConfig(vocab_size=30, n_layers=2, d_model=16, n_heads=4, d_ff=24,
                                             max_len=16)).eval()
    src = torch.tensor([[5, 6, 7, 0], [8, 9, 10, 11]])
    tgt = torch.tensor([[2, 12, 13, 14, 15], [2, 16, 17, 18, 19]])
    full, state, steps = m(src, tgt), m.start(src), []
    for t in range(1, tgt.size(1) + 1):
        logits, state = m.step(state, tgt[:, :t])
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# training: overfitting, determinism, files, summary


PAIRS = [T.Pair("the dog saw the cat .", "dog ##u cat ##a see ##ta ##n .", 1),
         T.Pair("the dogs saw the cat .", "dog ##ak ##u cat ##a see ##ta ##te .", 1),
         T.Pair("the cat saw the dogs .", "cat ##u dog ##ak ##a see ##ta ##n .", 1),
         T.Pair("the cats were seen by the dog .", "cat ##ak ##u dog ##ek see ##tu ##ta ##te .", 1),
         T.Pair("the big dog did not see the cats .", "dog ##u big cat ##ak ##a ez see ##ta ##n .", 1),
         T.Pair("the cat near the house saw the dog .", "house ##en ondo cat ##u dog ##a see ##ta ##n .", 1)]


@pytest.mark.parametrize("arch,model_config", [
    ("transformer", {"n_layers": 1, "d_model": 32, "n_heads": 4, "d_ff": 64, "dropout": 0.0, "max_len": 32}),
    # init_range 0.3: Luong's 0.1 is for 1000 cells; at 32 it learns this batch in ~200 steps, not 150
    ("lstm_attention", {"hidden_dim": 32, "num_layers": 1, "bidirectional": True, "dropout": 0.0, "init_range": 0.3}),
])
def test_both_models_overfit_a_tiny_batch(arch: str, model_config: dict) -> None:
    """Trained on six pairs, greedy decoding must reproduce every target exactly (BLEU 100)."""
    spec = s2s.make_spec({"name": arch, "arch": arch, "model_config": model_config,
                          "train": {"steps": 150, "batch_size": 6, "lr": 1e-2, "schedule": "constant", "warmup_steps": 0,
                                    "label_smoothing": 0.0, "eval_every": 150, "curve_dev_size": 6}})
    vocab = T.Vocab.from_pairs(PAIRS)
    data = s2s.Encoded.of(PAIRS, vocab)
    refs = [T.detokenize(p.target.split()) for p in PAIRS]
    torch.manual_seed(0)
    model = s2s.build_model(spec, len(vocab))
    result = s2s.train(model, spec.train, data, data, refs, vocab, seed=0)
    assert result.curve[-1]["dev_bleu"] == pytest.approx(100.0)
    assert s2s.translate(model, data, vocab, None, 4, beam=4) == refs
    S_, T_ = max(len(r) for r in data.src), max(len(r) for r in data.tgt)  # every batch: all six pairs
    assert (S_, T_) == (9, 12)
    assert result.flops == 150 * 3 * model.forward_flops(6, S_, T_)
    assert result.tokens == 150 * sum(len(p.source.split()) + len(p.target.split()) + 1 for p in PAIRS)


TINY_SPEC = {"arch": "transformer",
             "model_config": {"n_layers": 1, "d_model": 16, "n_heads": 2, "d_ff": 32, "max_len": 64},
             "train": {"steps": 12, "batch_size": 16, "lr": 3e-3, "warmup_steps": 4, "eval_every": 5,
                       "curve_dev_size": 10, "beam": 2},
             "corpus": {"train_size": 80, "dev_size": 12, "test_size": 12, "max_filler": 4}}


def test_runs_are_deterministic_and_summarised(tmp_path: Path) -> None:
    spec = s2s.make_spec({"name": "tiny", **TINY_SPEC})
    a = s2s.run(spec, [0, 1], tmp_path / "a" / "tiny", track=False)
    s2s.run(spec, [0], tmp_path / "b" / "tiny", track=False)
    first, again = (tmp_path / d / "tiny" / "seed0" for d in ("a", "b"))
    for f in ("metrics.json", "hypotheses.dev.txt", "references.dev.txt", "hypotheses.test.txt"):
        assert (first / f).read_bytes() == (again / f).read_bytes(), f
    assert a[0]["curve"] != a[1]["curve"]  # the seed matters
    assert [p["step"] for p in a[0]["curve"]] == [5, 10, 12]
    cost = json.loads((first / "cost.json").read_text())
    assert len(cost["curve_seconds"]) == 3 and cost["tokens_per_second"] > 0
    assert len((first / "hypotheses.dev.txt").read_text().splitlines()) == 12

    runs = [tmp_path / "a" / "tiny" / "seed0", tmp_path / "a" / "tiny" / "seed1"]
    summary = s2s.summarize(runs, tmp_path / "summary.json", tmp_path / "plots" / "bleu_vs_flops.png", root=tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert list(summary) == ["runs"] and len(summary["runs"]) == 2
    run0 = summary["runs"][0]
    assert set(run0) == {"model", "seed", "params", "bleu", "train_flops", "train_seconds", "tokens_per_second",
                         "hypotheses", "references", "curve"}
    assert set(run0["curve"][0]) == {"step", "seconds", "flops", "tokens", "dev_bleu"}
    assert run0["hypotheses"] == "a/tiny/seed0/hypotheses.dev.txt"  # relative to the root
    assert run0["train_flops"] == a[0]["train_flops"] == run0["curve"][-1]["flops"]
    assert (tmp_path / "plots" / "bleu_vs_flops.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_run_tracks_and_reads_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow passes the spec as JSON: its 1e-09 must arrive as a number (PyYAML alone reads
    JSON's exponent-only floats as strings). The run is tracked in MLflow."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    spec = json.dumps({**TINY_SPEC, "train": {**TINY_SPEC["train"], "steps": 2, "eps": 1e-9, "eval_every": 2}})
    assert "1e-09" in spec
    assert main(["translate", "run", "--model", "x", "--spec", spec, "--seeds", "0", "--out", str(tmp_path / "x")]) == 0
    assert json.loads((tmp_path / "x" / "seed0" / "metrics.json").read_text())["train"]["eps"] == 1e-9
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("translation").experiment_id])
    child = next(r for r in runs if r.info.run_name == "x/seed0")
    assert child.info.status == "FINISHED" and "dev_bleu" in child.data.metrics
    assert {"git_commit", "data_hash", "seed", "task", "model", "benchmark"} <= set(child.data.tags)


def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["translate", "run", "--model", "x", "--spec", "{arch: rnn}", "--seeds", "0", "--out", str(tmp_path)]) == 1
    assert "arch in" in capsys.readouterr().err
    bad = json.dumps({**TINY_SPEC, "train": {"steps": 0}})
    assert main(["translate", "run", "--model", "x", "--spec", bad, "--seeds", "0", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "steps" in err and "\n" not in err


# ---------------------------------------------------------------------------------------------
# the shipped config


def _merge(base: dict, over: dict) -> dict:
    """Snakemake's update_config: nested dicts merged key by key (config.yaml, then ci.yaml)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def test_every_shipped_spec_builds_and_the_pair_has_equal_size() -> None:
    import yaml

    root = Path(__file__).resolve().parents[1]
    default = yaml.safe_load((root / "config" / "config.yaml").read_text())["translation"]
    ci = _merge(default, yaml.safe_load((root / "config" / "ci.yaml").read_text())["translation"])
    for section in (default, ci):
        assert set(section["models"]) <= set(section["specs"])
        for name, raw in section["specs"].items():
            spec = s2s.make_spec({**raw, "name": name, "corpus": section["corpus"]})
            model = s2s.build_model(spec, 50)
            assert model(torch.tensor([[5, 6, 7]]), torch.tensor([[2, 8]])).shape == (1, 2, 50)
    # the default comparison: the same parameter count on the default corpus's vocabulary
    corpus = T.generate(s2s.make_spec({**default["specs"]["transformer"], "name": "t",
                                       "corpus": default["corpus"]}).corpus)
    vocab = len(T.Vocab.from_pairs(corpus["train"]))
    sizes = {m: s2s.build_model(s2s.make_spec({**default["specs"][m], "name": m}), vocab).num_parameters()
             for m in ("transformer", "lstm_attention")}
    assert sizes == {"transformer": 255_680, "lstm_attention": 255_680}, (vocab, sizes)
