"""Results table and plots from hand-made metrics.json records with hand-computed numbers."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pytest

from seminal.benchmark import BenchmarkSpec, load_benchmark
from seminal.errors import SeminalError
from seminal.io import write_json
from seminal.report import (
    build_table,
    by_distance,
    collect,
    plot_by_distance,
    plot_confusion,
    plot_learning_curve,
    to_markdown,
    write_table,
)

SPEC = """
name: toy
tasks:                       # deliberately not in GLUE order: the table reorders
  AX:
    kind: pair
    labels: [entailment, neutral, contradiction]
    metrics: [mcc]
    predict_with: MNLI
    splits: {dev: {file: diagnostic/diagnostic-full.tsv, ncols: 5, columns: {index: 0, sentence1: 1, sentence2: 2, label: 3}}}
  MNLI:
    kind: pair
    labels: [entailment, neutral, contradiction]
    metrics: [acc]
    eval: [dev_matched, dev_mismatched]
    splits:
      train: {file: MNLI/train.tsv, ncols: 4, columns: {sentence1: 1, sentence2: 2, label: 3}}
      dev_matched: {file: MNLI/dev_matched.tsv, ncols: 4, columns: {sentence1: 1, sentence2: 2, label: 3}}
      dev_mismatched: {file: MNLI/dev_mismatched.tsv, ncols: 4, columns: {sentence1: 1, sentence2: 2, label: 3}}
  MRPC:
    kind: pair
    labels: ["0", "1"]
    metrics: [acc, f1]       # printed F1 first, as GLUE does
    splits:
      train: {file: MRPC/train.tsv, ncols: 5, columns: {label: 0, sentence1: 3, sentence2: 4}}
      dev: {file: MRPC/dev.tsv, ncols: 5, columns: {label: 0, sentence1: 3, sentence2: 4}}
"""


@pytest.fixture
def spec(tmp_path: Path) -> BenchmarkSpec:
    path = tmp_path / "toy.yaml"
    path.write_text(SPEC)
    return load_benchmark(path)


def _rec(model: str, task: str, seed: int, evals: dict, params: int = 1000, cpu: float = 60.0,
         paper: str | None = "kim2014") -> dict:
    return {"benchmark": "toy", "model": model, "paper": paper, "task": task, "seed": seed,
            "params": params, "train_seconds": 1.0, "cpu_seconds": cpu, "best_epoch": 1,
            "history": [{"epoch": 1, "train_loss": 0.7, "dev_score": 0.5}],
            "eval": evals, "data_hash": "x.dir", "git_commit": "abc"}


def _m(**metrics: float) -> dict:
    return {"metrics": metrics, "n": 100}


def _records() -> list[dict]:
    """alpha: MRPC + MNLI (+AX) x seeds 0-2; beta: MRPC x 3 seeds, MNLI only seeds 0-1, no AX;
    gamma: MRPC seed 0 only (no paper)."""
    recs = []
    f1, acc = (0.80, 0.82, 0.84), (0.70, 0.70, 0.73)
    m, mm, ax = (0.60, 0.63, 0.66), (0.61, 0.61, 0.64), (0.1, 0.2, 0.3)
    for s in range(3):
        recs.append(_rec("alpha", "MRPC", s, {"MRPC": {"dev": _m(acc=acc[s], f1=f1[s])}}, params=1002))
        bucket = {"1-2": {"n": 60, "acc": m[s] + 0.1}, "3-4": {"n": 30, "acc": m[s]},
                  "10+": {"n": 10, "acc": m[s] - 0.2}}
        recs.append(_rec("alpha", "MNLI", s, {
            "MNLI": {"dev_matched": {**_m(acc=m[s]), "buckets": bucket},
                     "dev_mismatched": _m(acc=mm[s])},
            "AX": {"dev": _m(mcc=ax[s])}}, params=1003))
        recs.append(_rec("beta", "MRPC", s, {"MRPC": {"dev": _m(acc=0.6, f1=0.5)}},
                         params=2_500_000, cpu=30.0, paper="vaswani2017"))
    for s, v in ((0, 0.4), (1, 0.5)):
        recs.append(_rec("beta", "MNLI", s, {"MNLI": {"dev_matched": _m(acc=v),
                                                      "dev_mismatched": _m(acc=v)}},
                         params=2_500_000, cpu=30.0, paper="vaswani2017"))
    recs.append(_rec("gamma", "MRPC", 0, {"MRPC": {"dev": _m(acc=0.8, f1=0.9)}}, params=0, cpu=6.0,
                     paper=None))
    return recs


def _md_rows(md: str) -> dict[str, dict[str, str]]:
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    return {r[0]: dict(zip(head, r)) for r in rows}


def test_columns_cells_and_glue_average(spec: BenchmarkSpec) -> None:
    table = build_table(_records(), spec)
    assert [c.header for c in table.columns] == ["MRPC F1", "MRPC Acc", "MNLI-m", "MNLI-mm",
                                                 "GLUE avg", "AX MCC"]
    md = to_markdown(table)
    rows = _md_rows(md)
    assert list(rows) == ["alpha", "beta", "gamma"]
    a, b, g = rows["alpha"], rows["beta"], rows["gamma"]
    # mean ± sample std (ddof=1), x100
    assert a["MRPC F1"] == "82.0 ± 2.0" and a["MRPC Acc"] == "71.0 ± 1.7"
    assert a["MNLI-m"] == "63.0 ± 3.0" and a["MNLI-mm"] == "62.0 ± 1.7" and a["AX MCC"] == "20.0 ± 10.0"
    # per-seed GLUE score (MRPC (F1+acc)/2, MNLI (m+mm)/2): 67.75, 69.0, 71.75
    assert a["GLUE avg"] == "69.5 ± 2.0"
    assert a["Seeds"] == "3" and a["Params"] == "1.0K" and a["CPU-min"] == "6.0" and a["Paper"] == "kim2014"
    # fewer seeds than the row: marked; GLUE avg only over the 2 complete seeds (47.5, 52.5)
    assert b["MNLI-m"] == "45.0 ± 7.1 (n=2)" and b["GLUE avg"] == "50.0 ± 3.5 (n=2)"
    assert b["MRPC F1"] == "50.0 ± 0.0" and b["AX MCC"] == "–" and b["Params"] == "2.50M"
    # one seed: no ±; no MNLI at all: missing cells and no GLUE average
    assert g["MRPC F1"] == "90.0" and g["MNLI-m"] == "–" and g["GLUE avg"] == "–"
    assert g["Seeds"] == "1" and g["Paper"] == "–" and g["Params"] == "0"
    assert md.startswith("Table: toy — dev-set scores ×100") and "{0, 1, 2}" in md.splitlines()[0]


def test_glue_average_matches_metrics_module(spec: BenchmarkSpec) -> None:
    from statistics import fmean

    from seminal.metrics import glue_average

    recs = _records()
    per_seed = []
    for s in range(3):
        mrpc = next(r for r in recs if (r["model"], r["task"], r["seed"]) == ("alpha", "MRPC", s))
        mnli = next(r for r in recs if (r["model"], r["task"], r["seed"]) == ("alpha", "MNLI", s))
        per_seed.append(glue_average({
            "MRPC": mrpc["eval"]["MRPC"]["dev"]["metrics"],
            "MNLI": {"acc_m": mnli["eval"]["MNLI"]["dev_matched"]["metrics"]["acc"],
                     "acc_mm": mnli["eval"]["MNLI"]["dev_mismatched"]["metrics"]["acc"]}}))
    cell = build_table(recs, spec).rows[0].cells["glue_avg"]
    assert cell.values == pytest.approx(per_seed) and cell.mean == pytest.approx(fmean(per_seed))
    assert cell.mean == pytest.approx((0.6775 + 0.69 + 0.7175) / 3)


def test_write_table_is_deterministic_csv_and_tex(spec: BenchmarkSpec, tmp_path: Path) -> None:
    recs = _records()
    write_table(build_table(recs, spec), tmp_path / "a" / "table")
    random.Random(0).shuffle(recs)
    write_table(build_table(recs, spec), tmp_path / "b" / "table")
    for ext in (".md", ".csv", ".tex"):
        one, two = ((tmp_path / d / f"table{ext}").read_bytes() for d in "ab")
        assert one == two and one, ext
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["table.csv", "table.md", "table.tex"]

    rows = {r["model"]: r for r in csv.DictReader(io.StringIO((tmp_path / "a" / "table.csv").read_text()))}
    a = rows["alpha"]
    assert (a["MRPC.dev.f1.mean"], a["MRPC.dev.f1.std"], a["MRPC.dev.f1.n"]) == ("82.0000", "2.0000", "3")
    assert a["glue_avg.mean"] == "69.5000" and a["cpu_minutes"] == "6.0000" and a["seeds"] == "0 1 2"
    g = rows["gamma"]
    assert (g["MRPC.dev.f1.mean"], g["MRPC.dev.f1.std"], g["MRPC.dev.f1.n"]) == ("90.0000", "", "1")
    assert (g["MNLI.dev_matched.acc.mean"], g["MNLI.dev_matched.acc.n"]) == ("", "0")

    tex = (tmp_path / "a" / "table.tex").read_text()
    lines = tex.splitlines()
    assert lines[0].startswith("% toy --- dev-set scores $\\times$100")
    assert lines[1] == r"\begin{tabular}{l" + "r" * 9 + "l}" and lines[2] == r"\toprule"
    assert lines[-2:] == [r"\bottomrule", r"\end{tabular}"] and r"\midrule" in lines
    assert all(ln.endswith(r" \\") and ln.count(" & ") == 10 for ln in lines[3:4] + lines[5:-2])
    assert r"82.0 $\pm$ 2.0" in tex and r"\cite{kim2014}" in tex and not {"±", "–", "—"} & set(tex)


def test_collect_reads_the_run_tree(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    recs = _records()
    for r in reversed(recs):
        write_json(runs / r["model"] / r["task"] / f"seed{r['seed']}" / "metrics.json", r)
    (runs / "alpha" / "MRPC" / "seed0" / "predictions").mkdir()  # other files are ignored
    got = collect(runs)
    assert [(r["model"], r["task"], r["seed"]) for r in got] == sorted(
        (r["model"], r["task"], r["seed"]) for r in recs)
    write_json(runs / "alpha" / "RTE" / "seed9" / "metrics.json", recs[0])  # says MRPC/seed0
    with pytest.raises(SeminalError, match="lies in alpha/RTE/seed9"):
        collect(runs)
    write_json(runs / "alpha" / "RTE" / "seed9" / "metrics.json", {"model": "alpha"})
    with pytest.raises(SeminalError, match="lacks"):
        collect(runs)


def test_bad_records_are_refused(spec: BenchmarkSpec) -> None:
    recs = _records()
    with pytest.raises(SeminalError, match="benchmark"):
        build_table([{**recs[0], "benchmark": "glue"}], spec)
    with pytest.raises(SeminalError, match="two runs of alpha"):
        build_table([recs[0], {**recs[0], "task": "MNLI"}], spec)


def test_by_distance_rows(spec: BenchmarkSpec) -> None:
    rows = by_distance(_records())
    assert [r["bucket"] for r in rows] == ["1-2", "3-4", "10+"]  # numeric order
    first = rows[0]
    assert (first["model"], first["task"], first["split"], first["metric"]) == (
        "alpha", "MNLI", "dev_matched", "acc")
    assert first["mean"] == pytest.approx(0.73) and first["std"] == pytest.approx(0.03)
    assert first["n_seeds"] == 3 and first["n_examples"] == 60


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_pngs(tmp_path: Path) -> None:
    recs = _records()
    plot_by_distance(recs, tmp_path / "plots" / "by_distance.png")
    plot_by_distance([r for r in recs if r["task"] == "MRPC"], tmp_path / "none.png")  # no buckets
    history = [{"epoch": e, "train_loss": 1 / e, "dev_score": 0.5 + e / 100} for e in range(1, 6)]
    plot_learning_curve(history, tmp_path / "curve.png")
    plot_confusion([0, 1, 2, 2, 1], [0, 1, 1, 2, 0], ["entailment", "neutral", "contradiction"],
                   tmp_path / "confusion.png")
    for name in ("plots/by_distance.png", "none.png", "curve.png", "confusion.png"):
        assert _is_png(tmp_path / name), name
    assert not list(tmp_path.glob("**/*.tmp"))  # atomic writes leave nothing behind
    with pytest.raises(SeminalError, match="class ids"):
        plot_confusion([0, 3], [0, 1], ["a", "b"], tmp_path / "bad.png")


# ---------------------------------------------------------------------------------------------
# spread (bootstrap intervals, degenerate runs) and cost, from real run folders


SPREAD_SPEC = """
name: toy
tasks:
  CoLA:
    kind: single
    labels: ["0", "1"]
    metrics: [mcc]
    splits:
      train: {file: CoLA/train.tsv, header: false, ncols: 2, columns: {label: 0, sentence1: 1}}
      dev: {file: CoLA/dev.tsv, header: false, ncols: 2, columns: {label: 0, sentence1: 1}}
"""


def _spread_run(runs: Path, spec: BenchmarkSpec, data: Path, model: str, seed: int, preds, cost: dict) -> dict:
    from seminal.data import read_split
    from seminal.evaluate import evaluate, write_predictions

    task = spec.task("CoLA")
    split = read_split(task, "dev", data)
    out = runs / model / "CoLA" / f"seed{seed}"
    write_predictions(out / "predictions" / "CoLA.dev.tsv", task, split, np.asarray(preds, dtype=np.int64))
    rec = {"benchmark": "toy", "model": model, "paper": "p", "task": "CoLA", "seed": seed, "params": 10,
           "eval": {"CoLA": {"dev": evaluate(task, split, np.asarray(preds, dtype=np.int64))}}}
    write_json(out / "metrics.json", rec)
    write_json(out / "cost.json", cost)
    return rec


@pytest.fixture
def spread_runs(tmp_path: Path) -> tuple[BenchmarkSpec, Path, Path]:
    (tmp_path / "toy.yaml").write_text(SPREAD_SPEC)
    spec = load_benchmark(tmp_path / "toy.yaml")
    y = np.random.default_rng(0).integers(0, 2, 300)
    (tmp_path / "data/CoLA").mkdir(parents=True)
    (tmp_path / "data/CoLA/dev.tsv").write_text("".join(f"{v}\ts {i}\n" for i, v in enumerate(y)))
    runs = tmp_path / "runs"
    flip = np.random.default_rng(1).random((2, 300)) < 0.2
    for s in range(2):
        _spread_run(runs, spec, tmp_path / "data", "good", s, np.where(flip[s], 1 - y, y),
                    {"cpu_seconds": 30.0, "train_seconds": 40.0, "train_tokens": 1000, "train_flops": 6e6})
        _spread_run(runs, spec, tmp_path / "data", "const", s, np.ones(300) if s == 0 else y, {"cpu_seconds": 3.0})
    return spec, tmp_path / "data", runs


def test_spread_intervals_and_degenerate_runs(spread_runs) -> None:
    from seminal.report import add_spread, to_ci_markdown, to_csv, to_markdown

    spec, data, runs = spread_runs
    records = collect(runs)
    table = build_table(records, spec)
    spread = add_spread(table, records, runs, spec, data, n_resamples=300)
    good = table.rows[1]
    assert good.model == "good"
    lo, hi = spread.ci[("good", "CoLA.dev.mcc")]
    assert lo < good.cells["CoLA.dev.mcc"].mean < hi and hi - lo < 0.25
    assert spread.ci[("good", "glue_avg")] == pytest.approx((lo, hi))  # one task: the GLUE score is its MCC
    # seed 0 of 'const' always says "1": flagged (MCC 0 by construction), seed 1 is the gold itself
    assert spread.degenerate == {("const", "CoLA.dev"): ((0, "1"),)}
    md = to_markdown(table)
    assert "| 50.0 ± 70.7 † |" in md and "- const: CoLA (1, seed 0)" in md and "never re-rolled" in md
    ci = to_ci_markdown(table)
    assert f"| good | {good.cells['CoLA.dev.mcc'].mean * 100:.1f} [{lo * 100:.1f}, {hi * 100:.1f}] |" in ci
    row = {r["model"]: r for r in csv.DictReader(io.StringIO(to_csv(table)))}
    assert (row["const"]["CoLA.dev.mcc.degenerate"], row["good"]["CoLA.dev.mcc.degenerate"]) == ("1", "0")
    assert float(row["good"]["CoLA.dev.mcc.ci_lo"]) == pytest.approx(lo * 100, abs=1e-4)
    assert (row["good"]["train_tokens"], row["good"]["train_flops"]) == ("2000", "1.2e+07")
    assert row["const"]["train_tokens"] == ""  # not recorded by every run: left blank, not summed partially
    # same inputs and seed: the same intervals
    again = build_table(records, spec)
    assert add_spread(again, records, runs, spec, data, n_resamples=300).ci == spread.ci


def test_spread_refuses_predictions_that_disagree_with_metrics(spread_runs) -> None:
    from seminal.report import add_spread

    spec, data, runs = spread_runs
    path = runs / "good/CoLA/seed1/predictions/CoLA.dev.tsv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:-1] + ("0" if lines[1].endswith("1") else "1")
    path.write_text("\n".join(lines) + "\n")
    records = collect(runs)
    with pytest.raises(SeminalError, match="from the predictions but"):
        add_spread(build_table(records, spec), records, runs, spec, data, n_resamples=10)


def test_cost_rows_sum_runs_and_estimate_pretraining_flops(spread_runs, tmp_path: Path) -> None:
    from seminal.report import cost_rows, to_cost_csv

    spec, _, runs = spread_runs
    records = collect(runs)
    pre = tmp_path / "pretrain"
    write_json(pre / "bert/metrics.json", {"params": 1000, "tokens": 500})
    write_json(pre / "bert/cost.json", {"cpu_seconds": 5.0, "train_seconds": 6.0})
    write_json(pre / "word2vec/metrics.json", {"pairs_total": 100, "vocab_size": 50, "trained_ids": 40,
                                               "config": {"dim": 8, "negative": 5}, "cpu_seconds": 2.0,
                                               "seconds": 3.0})
    rows = {r["row"]: r for r in cost_rows(build_table(records, spec), records, [pre / "bert", pre / "word2vec"])}
    assert rows["good"]["train_tokens"] == 2000 and rows["good"]["cpu_seconds"] == 60.0
    assert rows["good"]["tokens_per_cpu_second"] == pytest.approx(2000 / 60)
    assert rows["const"]["train_flops"] is None
    assert rows["pretrain/bert"]["train_flops"] == 6 * 1000 * 500  # C = 6 N D
    assert rows["pretrain/word2vec"]["train_flops"] == 6 * 8 * (1 + 5) * 100  # per pair: 6 d (1 + negatives)
    assert rows["pretrain/word2vec"]["params_min"] == 2 * 50 * 8
    text = to_cost_csv(list(rows.values()))
    assert text.splitlines()[0].startswith("row,kind,runs,params_min") and "pretrain/bert,pretrain,1" in text
