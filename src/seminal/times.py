"""Where the time goes: Snakemake's `benchmark:` files summed per rule and per model (`seminal times`).

A rule with a `benchmark:` directive writes logs/<benchmark>/benchmarks/<rule>[/<model>[/<task>]].tsv:
a header line, then one row per run of the job (`repeat()` runs it more than once) with its wall seconds
(`s`), CPU seconds (`cpu_time`) and peak resident memory in MB (`max_rss`), among others. The file's
path names the rule (its first part) and the model: the file's stem when there are two parts
(train/bert.tsv, pretrain/bert.tsv), else the second part (a rule with a job per (model, task):
rule/bert/RTE.tsv); one part (generate_synglue.tsv) is a job of no model.
Snakemake writes NA where it could not measure (a job too short to sample): counted as 0 here.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from seminal.errors import SeminalError

COLUMNS = ("s", "cpu_time", "max_rss")  # the ones read; Snakemake writes ten


@dataclass(frozen=True)
class Job:
    rule: str
    model: str  # "" for a job of no model (data preparation, tables)
    wall: float  # seconds, summed over the file's rows
    cpu: float  # CPU seconds (user + system), summed over the file's rows
    max_rss: float  # MB, the largest of the file's rows


def _number(text: str, path: Path, line: int, column: str) -> float:
    if text.strip() in ("NA", ""):
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise SeminalError(f"column {column!r} is not a number: {text!r}", path, line) from None
    if not math.isfinite(value) or value < 0:
        raise SeminalError(f"column {column!r} is not a non-negative number: {text!r}", path, line)
    return value


def read_job(path: str | Path, root: str | Path) -> Job:
    """One benchmark file; `root` is the benchmarks folder its path (rule, model) is relative to."""
    path, root = Path(path), Path(root)
    parts = path.relative_to(root).with_suffix("").parts
    rule, model = parts[0], (parts[1] if len(parts) > 1 else "")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows:
        raise SeminalError("empty benchmark file", path, 1)
    header = rows[0]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SeminalError(f"not a Snakemake benchmark file: no column(s) {missing} in the header", path, 1)
    if len(rows) < 2:
        raise SeminalError("benchmark file has a header but no measurement", path, 2)
    at = {c: header.index(c) for c in COLUMNS}
    values = {c: [] for c in COLUMNS}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SeminalError(f"{len(row)} fields, the header has {len(header)}", path, line)
        for c in COLUMNS:
            values[c].append(_number(row[at[c]], path, line, c))
    return Job(rule, model, sum(values["s"]), sum(values["cpu_time"]), max(values["max_rss"]))


def read_jobs(folder: str | Path) -> list[Job]:
    """Every job of a benchmarks folder; given logs/<benchmark>, its benchmarks/ subfolder."""
    folder = Path(folder)
    if (folder / "benchmarks").is_dir():
        folder = folder / "benchmarks"
    files = sorted(folder.rglob("*.tsv"))
    if not files:
        raise SeminalError("no benchmark files (*.tsv): run the workflow first", folder)
    return [read_job(f, folder) for f in files]


def _table(jobs: list[Job], key: Callable[[Job], str], name: str) -> list[str]:
    total = sum(j.wall for j in jobs)
    groups: dict[str, list[Job]] = {}
    for j in jobs:
        groups.setdefault(key(j) or "–", []).append(j)
    lines = [f"| {name} | jobs | wall s | CPU s | share of wall | peak MB |", "|:---|---:|---:|---:|---:|---:|"]
    for label, js in sorted(groups.items(), key=lambda kv: (-sum(j.wall for j in kv[1]), kv[0])):
        wall = sum(j.wall for j in js)
        share = f"{100 * wall / total:.1f}%" if total else "–"
        lines.append(f"| {label} | {len(js)} | {wall:,.1f} | {sum(j.cpu for j in js):,.1f} | {share} | "
                     f"{max(j.max_rss for j in js):,.0f} |")
    lines.append(f"| total | {len(jobs)} | {total:,.1f} | {sum(j.cpu for j in jobs):,.1f} | "
                 f"{'100.0%' if total else '–'} | {max(j.max_rss for j in jobs):,.0f} |")
    return lines


def report(jobs: Iterable[Job], title: str = "") -> str:
    """Markdown: one table per rule, one per model, heaviest first, with totals. Wall seconds are
    job-seconds (the sum over jobs), not the run's elapsed time when jobs ran in parallel."""
    jobs = list(jobs)
    if not jobs:
        raise SeminalError("no jobs to report")
    head = [f"{title}\n"] if title else []
    return "\n".join([*head, *_table(jobs, lambda j: j.rule, "rule"), "",
                      *_table(jobs, lambda j: j.model, "model")]) + "\n"
