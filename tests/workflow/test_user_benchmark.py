"""A user's own benchmark, in Kim 2014's format (MR: one file per class) with 3-fold
cross-validation, run by the real workflow (`ci` profile) in a temporary copy of the repository.

The benchmark file lives outside the repository, as a user's would; its data lies in
data/<name>/ of the copy; the pretraining text (`corpus`) is a small generated file."""

from __future__ import annotations

import csv
import json
import random
import time
from pathlib import Path

import pytest

POSITIVE = ["great", "fine", "wonderful", "moving", "funny", "superb", "charming", "clever"]
NEGATIVE = ["dull", "terrible", "boring", "slow", "silly", "awful", "clumsy", "tedious"]
FILLER = ["the", "a", "film", "movie", "story", "acting", "plot", "cast", "director", "script", "it", "is", "was",
          "and", "but", "with", "very", "rather", "quite", "its", "this", "of", "in", "scenes", "ending", "music"]
# names and places: enough distinct words for the ci profile's 400 sentencepiece pieces
SYLLABLES = (["ka", "lo", "mi", "ne", "su", "tor", "vel", "dra", "pim", "quo", "bre", "zu", "fa", "gho", "wyn", "jex"],
             ["ri", "an", "el", "os", "ul", "ep", "ig", "ay"],
             ["n", "s", "th", "mar", "do", "k", "ve", ""])
NAMES = sorted({a + b + c for a in SYLLABLES[0] for b in SYLLABLES[1] for c in SYLLABLES[2]})

BENCHMARK = """\
# A user's benchmark: Kim 2014's MR layout (rt-polarity.pos / rt-polarity.neg, latin-1, one
# sentence a line), no test split: 3-fold cross-validation.
name: kimmr
tasks:
  MR:
    kind: single
    output: classification
    labels: [neg, pos]
    metrics: [acc]
    encoding: latin-1
    cv: {folds: 3, seed: 0}
    prompt:
      template: "{sentence1}\\nquestion is this review good or bad?\\nanswer"
      verbalizer: {neg: bad, pos: good}
    splits:
      train: {files: {neg: rt-polarity.neg, pos: rt-polarity.pos}}
"""


def sentence(rng: random.Random, polar: list[str]) -> str:
    words = rng.choices(FILLER, k=rng.randint(4, 9)) + rng.choices(polar, k=rng.randint(1, 2))
    words += rng.choices(NAMES, k=2)
    rng.shuffle(words)
    return " ".join(words)


def write_mr(folder: Path, n_pos: int, n_neg: int) -> None:
    rng = random.Random(0)
    folder.mkdir(parents=True)
    for name, n, polar in (("rt-polarity.pos", n_pos, POSITIVE), ("rt-polarity.neg", n_neg, NEGATIVE)):
        lines = [sentence(rng, polar) + (" café" if i % 7 == 0 else "") for i in range(n)]  # a latin-1 byte
        (folder / name).write_bytes("".join(line + "\n" for line in lines).encode("latin-1"))


def test_kim_mr_with_cross_validation_runs_end_to_end(sh, own_repo_copy: Path, tmp_path: Path) -> None:
    repo = own_repo_copy
    write_mr(repo / "data" / "kimmr", n_pos=160, n_neg=140)
    bench = tmp_path / "kimmr.yaml"
    bench.write_text(BENCHMARK, encoding="utf-8")
    rng = random.Random(1)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(sentence(rng, POSITIVE + NEGATIVE) + "\n" for _ in range(3000)), encoding="utf-8")

    small = tmp_path / "tokenizer.yaml"  # the pieces the small corpus allows (sentencepiece refuses more)
    small.write_text("tokenizer: {vocab_size: 400, text_vocab_size: 400}\n", encoding="utf-8")
    args = ["snakemake", "--profile", "profiles/ci", "--configfile", "config/config.yaml", "config/ci.yaml", str(small),
            "--config", f"benchmark={bench}", "models=[majority,kim_cnn_rand]", "seeds=1", f"corpus=[{corpus}]"]
    dry = sh([*args, "tasks=[MR]", "-n", "--quiet", "rules"], repo).stdout  # the task's name selects its folds
    counts = {w[0]: int(w[1]) for w in map(str.split, dry.splitlines()) if len(w) == 2 and w[1].isdigit()}
    assert counts["cv_folds"] == 1 and counts["encode_task"] == 3 and counts["train"] == 2, dry  # a job per model: 3 folds each
    assert "submission" not in counts  # nothing to submit: no test files

    t0 = time.perf_counter()
    sh([*args, "tasks=all"], repo, timeout=600)  # (ci.yaml picks synglue tasks)
    print(f"workflow: {time.perf_counter() - t0:.0f} s")

    results = repo / "results" / "kimmr"
    table = (results / "table.md").read_text(encoding="utf-8")
    lines = [line for line in table.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].split("|")[1:-1]]
    assert "MR (3-fold) Acc" in header and not any("fold1" in h for h in header)
    assert "cross-validation" in table
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[1:-1]] for r in lines[2:]}
    assert sorted(rows) == ["kim_cnn_rand", "majority"]
    with open(results / "table.csv", encoding="utf-8") as f:
        by_model = {r["model"]: r for r in csv.DictReader(f)}
    for model in rows:
        folds = [json.loads((results / f"runs/{model}/MR.fold{i}/seed0/metrics.json").read_text())
                 for i in (1, 2, 3)]
        test_acc = [r["eval"][f"MR.fold{i}"]["test"]["metrics"]["acc"] for i, r in zip((1, 2, 3), folds)]
        assert all(r["eval"][f"MR.fold{i}"]["dev"]["n"] > 0 for i, r in zip((1, 2, 3), folds))  # early stopping
        assert sum(r["eval"][f"MR.fold{i}"]["test"]["n"] for i, r in zip((1, 2, 3), folds)) == 300  # every example once
        mean = 100 * sum(test_acc) / 3
        cell = rows[model][header.index("MR (3-fold) Acc")]
        assert cell.startswith(f"{mean:.1f} ± "), (cell, test_acc)  # the mean over folds, and their std
        assert by_model[model]["MR.cv.acc.n"] == "3"
        assert abs(float(by_model[model]["MR.cv.acc.mean"]) - mean) < 1e-3
    # majority predicts the training folds' majority class (pos): each fold's score is its share of pos.
    # Stratified folds of 100: the 140 neg are dealt 47/47/46 from fold 1, the 160 pos 53/53/54 from
    # where neg stopped (fold 3)
    majority = [json.loads((results / f"runs/majority/MR.fold{i}/seed0/metrics.json").read_text())
                for i in (1, 2, 3)]
    assert [r["eval"][f"MR.fold{i}"]["test"]["metrics"]["acc"] for i, r in zip((1, 2, 3), majority)] \
        == pytest.approx([0.53, 0.53, 0.54])
    assert not (results / "submission").exists()
