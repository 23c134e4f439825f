"""Claims from tiny fake runs written in the real formats (metrics.json, predictions, cost.json,
the experiments' summary.json) with effects of known sign: each verdict both ways, and 'not run'."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seminal.benchmark import BenchmarkSpec, load_benchmark
from seminal.claims import INCONCLUSIVE, NOT_RUN, NOT_SUPPORTED, SUPPORTED, build_claims, to_markdown, verdict
from seminal.data import read_split
from seminal.evaluate import evaluate, write_predictions
from seminal.io import write_json, write_text

SPEC = """
name: toy
tasks:
  SST-2:
    kind: single
    labels: ["0", "1"]
    metrics: [acc]
    splits:
      train: {file: SST-2/train.tsv, ncols: 2, columns: {sentence1: 0, label: 1}}
      dev: {file: SST-2/dev.tsv, ncols: 2, columns: {sentence1: 0, label: 1}, meta: SST-2/dev.meta.tsv}
  RTE:
    kind: pair
    labels: [entailment, not_entailment]
    metrics: [acc]
    splits:
      train: {file: RTE/train.tsv, ncols: 4, columns: {index: 0, sentence1: 1, sentence2: 2, label: 3}}
      dev: {file: RTE/dev.tsv, ncols: 4, columns: {index: 0, sentence1: 1, sentence2: 2, label: 3}, meta: RTE/dev.meta.tsv}
"""
N = 400  # dev examples per task: the first half at distance 1-2, the second at 10+
SHORT, LONG = np.arange(N) < N // 2, np.arange(N) >= N // 2
GOLD = {"SST-2": np.random.default_rng(0).integers(0, 2, N), "RTE": np.random.default_rng(1).integers(0, 2, N)}
SUBSET = np.sort(np.random.default_rng(2).choice(N, 120, replace=False))  # the in-context rows' dev subset


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchmarkSpec, Path]:
    root = tmp_path_factory.mktemp("bench")
    (root / "toy.yaml").write_text(SPEC)
    data = root / "data"
    y = GOLD
    dist = np.where(SHORT, 1, 12)
    write_text(data / "SST-2/dev.tsv", "sentence\tlabel\n" + "".join(f"words {i}\t{v}\n" for i, v in enumerate(y["SST-2"])))
    rte = ["entailment", "not_entailment"]
    write_text(data / "RTE/dev.tsv", "index\tsentence1\tsentence2\tlabel\n"
               + "".join(f"{i}\ta {i}\tb {i}\t{rte[v]}\n" for i, v in enumerate(y["RTE"])))
    for task in ("SST-2", "RTE"):
        write_text(data / f"{task}/dev.meta.tsv", "distance\tphenomenon\n" + "".join(f"{d}\tx\n" for d in dist))
    return load_benchmark(root / "toy.yaml"), data


def _predict(task: str, correct: np.ndarray) -> np.ndarray:
    return np.where(correct, GOLD[task], 1 - GOLD[task]).astype(np.int64)


def _correct(rng: np.random.Generator, short: float, long: float) -> np.ndarray:
    """Exactly `short` / `long` of the short / long examples right."""
    out = np.zeros(N, dtype=bool)
    for mask, share in ((SHORT, short), (LONG, long)):
        idx = np.flatnonzero(mask)
        out[rng.choice(idx, round(share * len(idx)), replace=False)] = True
    return out


def write_run(runs: Path, spec: BenchmarkSpec, data: Path, model: str, short: float, long: float,
              seeds: int = 3, subset: np.ndarray | None = None, cost: dict | None = None, paper: str = "x") -> None:
    """A model's run folders as seminal.experiment writes them: predictions, metrics.json (scored
    with seminal.evaluate), cost.json."""
    for seed in range(seeds):
        rng = np.random.default_rng([hash(model) % 2**32, seed])
        for name in spec.tasks:
            task = spec.task(name)
            split = read_split(task, "dev", data)
            if subset is None:
                preds = _predict(name, _correct(rng, short, long))
            else:  # in context: a fixed dev subset, `short` of it right
                right = np.zeros(N, dtype=bool)
                right[rng.choice(subset, round(short * len(subset)), replace=False)] = True
                preds = _predict(name, right)
                from seminal.experiment import _subset

                split, preds = _subset(split, subset), preds[subset]
            out = runs / model / name / f"seed{seed}"
            write_predictions(out / "predictions" / f"{name}.dev.tsv", task, split, preds)
            write_json(out / "metrics.json", {"benchmark": "toy", "model": model, "paper": paper, "task": name,
                                              "seed": seed, "params": 1000 * (2 if "large" in model else 1),
                                              "eval": {name: {"dev": evaluate(task, split, preds)}},
                                              "history": [], "best_epoch": None})
            write_json(out / "cost.json", {"cpu_seconds": 10.0, "train_seconds": 11.0} | (cost or {}))


@pytest.fixture(scope="module")
def runs(bench: tuple[BenchmarkSpec, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec, data = bench
    runs = tmp_path_factory.mktemp("results") / "runs"
    write_run(runs, spec, data, "transformer", 0.6, 0.9, cost={"train_tokens": 2000, "train_flops": 1e9})
    write_run(runs, spec, data, "kim_cnn_rand", 0.8, 0.5)
    write_run(runs, spec, data, "bilstm", 0.7, 0.7, cost={"train_tokens": 1000, "train_flops": 1e9})
    write_run(runs, spec, data, "elmo", 0.55, 0.55)
    write_run(runs, spec, data, "bert", 0.8, 0.8, paper="devlin2019")
    write_run(runs, spec, data, "bert_scratch", 0.6, 0.6, paper="devlin2019")
    for size, few in (("gpt_small", 0.5), ("gpt_large", 0.9)):
        write_run(runs, spec, data, f"{size}.0shot", 0.5, 0.5, subset=SUBSET)
        write_run(runs, spec, data, f"{size}.fewshot", few, few, subset=SUBSET)
    return runs


def _longlag(tmp: Path, successes: dict[str, int]) -> Path:
    runs = [{"experiment": e, "T": t, "cell": cell, "seed": s, "success": s < successes[cell] if t == 100 else True,
             "final_error": 0.0, "steps": 10, "cpu_seconds": 1.0}
            for e in ("adding", "reber") for t in (10, 100) for cell in successes for s in range(5)]
    path = tmp / "longlag" / "summary.json"
    write_json(path, {"criteria": {"adding": "abs error < 0.04"}, "runs": runs})
    return path


def _translation(tmp: Path) -> Path:
    rng = np.random.default_rng(0)
    words = ["le", "chat", "noir", "mange", "la", "souris", "grise", "vite", "ici", "demain"]
    refs = [" ".join(rng.choice(words, 8)) for _ in range(150)]
    write_text(tmp / "refs.txt", "\n".join(refs) + "\n")
    runs = []
    for model, keep, speed in (("transformer", 1.0, 1.0), ("lstm_attention", 0.6, 3.0)):
        for seed in range(3):
            hyps = [" ".join(w for w in r.split() if rng.random() < keep) or "le" for r in refs]
            write_text(tmp / f"{model}{seed}.txt", "\n".join(hyps) + "\n")
            curve = [{"step": k * 100, "seconds": speed * k * 10.0, "flops": speed * k * 1e9, "tokens": k * 1000,
                      "dev_bleu": min(100 * keep, 25.0 * k) - seed} for k in range(1, 5)]
            runs.append({"model": model, "seed": seed, "params": 5000, "bleu": curve[-1]["dev_bleu"],
                         "train_flops": curve[-1]["flops"], "train_seconds": curve[-1]["seconds"],
                         "tokens_per_second": 100.0 / speed, "hypotheses": f"{model}{seed}.txt",
                         "references": "refs.txt", "curve": curve})
    write_json(tmp / "translation" / "summary.json", {"runs": runs})
    return tmp / "translation" / "summary.json"


def test_verdict_rule():
    assert verdict(0.1, 2.0) == SUPPORTED and verdict(-2.0, -0.1) == NOT_SUPPORTED
    assert verdict(-1.0, 1.0) == verdict(0.0, 1.0) == verdict(0.0, 0.0) == INCONCLUSIVE


def test_known_effects_give_the_expected_verdicts(bench, runs: Path, tmp_path: Path):
    spec, data = bench
    ll = _longlag(tmp_path, {"lstm1997": 5, "lstm": 0, "gru": 2, "rnn": 0})
    result = build_claims(runs, spec, data, longlag=ll, translation=_translation(tmp_path), root=tmp_path,
                          n_resamples=300)
    got = {c.id: c for c in result.claims}
    assert [c.id for c in result.claims] == ["1a", "1b", "2a", "2b", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b",
                                             "7a", "7b", "8a", "8b"]
    expected = {"1a": SUPPORTED, "1b": INCONCLUSIVE, "2a": SUPPORTED, "2b": SUPPORTED, "3a": SUPPORTED,
                "3b": SUPPORTED, "3c": SUPPORTED, "4": NOT_RUN, "5a": NOT_SUPPORTED, "5b": NOT_RUN,
                "6a": SUPPORTED, "6b": NOT_RUN, "7a": SUPPORTED, "7b": SUPPORTED, "8a": SUPPORTED, "8b": SUPPORTED}
    assert {k: c.verdict for k, c in got.items()} == expected
    # the measured effects are the constructed ones (scores x 100, mean over the two tasks)
    assert got["3a"].effect == pytest.approx(40.0) and got["3b"].effect == pytest.approx(60.0)
    assert got["3c"].effect == pytest.approx(20.0) and got["5a"].effect == pytest.approx(-15.0)
    assert got["6a"].effect == pytest.approx(20.0) and got["1a"].effect == pytest.approx(100.0)
    assert got["7a"].effect == pytest.approx(40.0) and got["7b"].effect == pytest.approx(40.0)
    assert got["8b"].effect == pytest.approx(np.log10(2.0))
    assert got["2a"].effect > 20 and got["2a"].p_value == 0.0 and got["2a"].n == 150
    for c in got.values():
        if c.verdict in (SUPPORTED, NOT_SUPPORTED):
            assert c.lo <= c.effect <= c.hi and c.method
    assert got["5a"].reason and not got["6a"].reason  # a likely reason only where the claim does not hold
    assert got["6b"].reason == "not tested: one size in this run"
    assert "not in this run: kim_cnn_multichannel" in got["4"].reason
    md = to_markdown(result)
    assert md.count("\n| ") == 17 and "**not supported**" in md and "Newcombe" in md


def test_the_other_direction_is_not_supported(bench, runs: Path, tmp_path: Path):
    spec, data = bench
    ll = _longlag(tmp_path, {"lstm1997": 0, "lstm": 0, "rnn": 5})
    got = {c.id: c for c in build_claims(runs, spec, data, longlag=ll, n_resamples=200).claims}
    assert got["1a"].verdict == got["1b"].verdict == NOT_SUPPORTED and got["1a"].effect == pytest.approx(-100.0)
    assert got["2a"].verdict == NOT_RUN and "not enabled" in got["2a"].reason


def test_nothing_run_is_not_run_everywhere(bench, tmp_path: Path):
    spec, data = bench
    result = build_claims(tmp_path / "no-runs", spec, data, longlag=tmp_path / "absent.json",
                          translation=tmp_path / "absent2.json", n_resamples=50)
    assert {c.verdict for c in result.claims} == {NOT_RUN}
    assert all(c.reason for c in result.claims) and "not found" in result.claims[0].reason
    assert "| 8b |" in to_markdown(result) and result.fewshot == []


def test_cli_writes_claims_plots_and_one_mlflow_run(bench, runs: Path, tmp_path: Path):
    spec, data = bench
    write_json(tmp_path / "data_version.json", {"data_hash": "abc.dir"})
    env = os.environ | {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    cmd = [sys.executable, "-m", "seminal.cli", "claims", "--benchmark", str(spec.path), "--runs", str(runs),
           "--data", str(data), "--out", str(tmp_path / "claims.md"), "--json", str(tmp_path / "claims.json"),
           "--plots", str(tmp_path / "plots"), "--data-version", str(tmp_path / "data_version.json"),
           "--resamples", "100", "--extra-plots", str(Path(__file__).parent / "no-such.png")]
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1 and "no-such.png" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    proc = subprocess.run(cmd[:-2], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert [c["id"] for c in doc["claims"]][:3] == ["1a", "1b", "2a"] and doc["n_resamples"] == 100
    assert {p["shots"] for p in doc["fewshot"]} == {"0", "few"}
    assert all((tmp_path / "plots" / f).stat().st_size > 1000 for f in ("fewshot.png", "learning_curves.png"))
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    (run,) = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
    assert run.info.run_name == "claims" and run.data.tags["seminal.role"] == "claims"
    assert run.data.tags["claim_6a.verdict"] == SUPPORTED and "claim_6a.effect" in run.data.metrics
    assert run.data.tags["data_hash"] == "abc.dir"
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"claims.md", "claims.json", "fewshot.png", "learning_curves.png"} <= names
