"""The paper column: our dev scores beside the numbers the papers report for the same task and metric.

Each papers/<citekey>/reported.yaml may hold a `glue_rows` section naming rows of our table and,
per `<Task>.<metric>` (metric names as in metrics.json: acc, f1, mcc, pearson, spearman), the
paper's score ×100 on real GLUE:

    glue_rows:
      source: "Wang et al. 2019, Table 4 (single-task BiLSTM), GLUE test set"
      rows:
        bilstm: {CoLA.mcc: 15.7, SST-2.acc: 85.9}

Only real GLUE is comparable: the embedded benchmark's tasks share GLUE's names, not its data, so
for any other benchmark the file says so and lists nothing. The papers mostly report test-set
scores and ours are dev-set scores: the Source column says which, and the difference is read
with that in mind (dev scores usually run a little higher than test).
"""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seminal.errors import SeminalError
from seminal.io import read_yaml

COMPARABLE = ("glue",)  # benchmarks whose tasks are the papers' tasks


@dataclass(frozen=True)
class Reported:
    model: str  # a row of our table
    task: str
    metric: str
    value: float  # ×100, as the paper prints it
    source: str


def load_reported(papers_dir: str | Path) -> list[Reported]:
    """Every `glue_rows` entry of papers/*/reported.yaml, with one-line errors naming the file."""
    out = []
    for path in sorted(Path(papers_dir).glob("*/reported.yaml")):
        section = (read_yaml(path) or {}).get("glue_rows")
        if section is None:
            continue
        if not isinstance(section, dict) or not isinstance(section.get("rows"), dict) or "source" not in section:
            raise SeminalError("glue_rows needs 'source' and 'rows: {model: {Task.metric: value}}'", path)
        for model, scores in section["rows"].items():
            for key, value in (scores or {}).items():
                task, _, metric = str(key).rpartition(".")
                if not task or not isinstance(value, int | float):
                    raise SeminalError(f"glue_rows.rows.{model}.{key}: expected Task.metric: number", path)
                out.append(Reported(str(model), task, metric, float(value), str(section["source"])))
    return out


def _scored(splits: dict[str, Any]) -> str:
    """The split a task's score is read from: dev, else the first scored one."""
    return "dev" if "dev" in splits else min(splits, default="dev")


def _ours(records: list[dict[str, Any]], model: str, task: str, metric: str) -> list[float]:
    """Our dev score ×100 of each seed of (model, task) (the first scored split of the task)."""
    values = []
    for r in records:
        if r["model"] != model or r["task"] != task or task not in r.get("eval", {}):
            continue
        splits = r["eval"][task]
        value = splits[_scored(splits)]["metrics"].get(metric)
        if value is not None:
            values.append(100.0 * float(value))
    return values


def _scored_split(records: list[dict[str, Any]], model: str, task: str) -> str:
    """The split `_ours` reads for (model, task)."""
    return _scored(next((r["eval"][task] for r in records if r["model"] == model and task in r.get("eval", {})), {}))


def paper_markdown(records: list[dict[str, Any]], reported: list[Reported], benchmark: str,
                   degenerate: Collection[tuple[str, str]] = ()) -> str:
    """The comparison table (markdown): one line per reported (row, task, metric) that ran.
    `degenerate`: the (model, "<task>.<split>") cells with a constant-predictor run
    (seminal.report.Spread.degenerate); they are marked † here as in table.md, since a constant
    predictor's accuracy is the class balance of the split, not something the model learned."""
    if benchmark not in COMPARABLE:
        return (f"# Paper column: {benchmark}\n\nNo paper reports these tasks: the papers' numbers are on "
                f"real GLUE (`--config benchmark=glue`), and {benchmark}'s tasks share GLUE's names, not its "
                f"data.\n")
    lines = [f"# Paper column: {benchmark}", "",
             ("Our dev score (×100, mean ± sample std over seeds, n) beside the paper's number for the same "
              "task and metric (papers/*/reported.yaml, `glue_rows`). The papers report test-set scores "
              "unless the source says dev, and at their full sizes: read the difference with both in mind."),
             "", "| Model | Task | Metric | Ours (dev) | Paper | Ours − paper | Source |",
             "|:---|:---|:---|---:|---:|---:|:---|"]
    marked = False
    for rep in sorted(reported, key=lambda x: (x.model, x.task, x.metric)):
        ours = _ours(records, rep.model, rep.task, rep.metric)
        if not ours:
            continue  # that row or task did not run
        mean = statistics.fmean(ours)
        spread = f" ± {statistics.stdev(ours):.1f}" if len(ours) > 1 else ""
        mark = " †" if (rep.model, f"{rep.task}.{_scored_split(records, rep.model, rep.task)}") in degenerate else ""
        marked = marked or bool(mark)
        lines.append(f"| {rep.model} | {rep.task} | {rep.metric} | {mean:.1f}{spread} (n={len(ours)}){mark} | "
                     f"{rep.value:.1f} | {mean - rep.value:+.1f} | {rep.source} |")
    if len(lines) == 6:
        lines.append("| – | – | – | – | – | – | none of the reported rows ran |")
    if marked:
        lines += ["", ("† A run of the cell predicted one value for every dev example (a constant predictor, "
                       "listed under table.md): its score is the class balance of the split, not a comparison.")]
    return "\n".join(lines) + "\n"
