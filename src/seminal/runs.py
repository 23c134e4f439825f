"""Reading finished runs for people: summarise one, compare two (`seminal summary`, `seminal compare`).

A run folder is results/<benchmark>/runs/<model>/<Task>/seed<k>/ (metrics.json, cost.json,
run.json); a pretraining folder is results/<benchmark>/pretrain/<name>/ (metrics.json, run.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seminal.errors import SeminalError
from seminal.io import read_json


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """metrics.json merged with cost.json and run.json (when present) of one run folder."""
    d = Path(run_dir)
    if not (d / "metrics.json").is_file():
        raise SeminalError("not a run folder (no metrics.json)", d)
    rec = read_json(d / "metrics.json")
    for extra in ("cost.json", "run.json"):
        if (d / extra).is_file():
            rec[extra.removesuffix(".json")] = read_json(d / extra)
    return rec


def scores(rec: dict[str, Any]) -> dict[str, float]:
    """Flat {"<Task>.<split>.<metric>": value} of a task run; {"valid.<stat>": value} of a pretraining."""
    if "eval" in rec:
        return {f"{t}.{s}.{m}": v for t, splits in rec["eval"].items() for s, r in splits.items()
                for m, v in r["metrics"].items()}
    return {f"valid.{k}": v for k, v in (rec.get("valid") or {}).items() if k != "step"}


def summary(run_dir: str | Path) -> str:
    rec = load_run(run_dir)
    cost, run = rec.get("cost", {}), rec.get("run", {})
    lines = [f"{rec['model']} on {rec.get('task', 'pretraining')} (seed {rec['seed']}, benchmark {rec['benchmark']})",
             f"  parameters     {rec['params']:,}"]
    if rec.get("best_epoch") is not None:
        lines.append(f"  best epoch     {rec['best_epoch']} of {len(rec.get('history') or [])}")
    if "steps" in rec:
        lines.append(f"  steps          {rec['steps']:,} ({rec['tokens']:,} tokens)")
    seconds = cost or rec
    if "train_seconds" in seconds:
        lines.append(f"  time           {seconds['train_seconds']:.1f} s wall, {seconds['cpu_seconds']:.1f} s CPU")
    lines.append(f"  git commit     {rec['git_commit']}")
    lines.append(f"  data (DVC)     {rec['data_hash']}")
    if run.get("mlflow_run_id"):
        lines.append(f"  MLflow run     {run['mlflow_run_id']}")
    lines.append("  scores" + ("" if "eval" in rec else " (held-out corpus)"))
    for key, value in scores(rec).items():
        lines.append(f"    {key:<34} {value:.4f}")
    for task, splits in (rec.get("eval") or {}).items():
        for split, r in splits.items():
            if r.get("buckets"):
                cells = ", ".join(f"{b}: {next(v for k, v in m.items() if k != 'n'):.3f} (n={m['n']})"
                                  for b, m in sorted(r["buckets"].items(), key=_bucket_start))
                lines.append(f"    {task}.{split} by distance  {cells}")
    return "\n".join(lines)


def _bucket_start(item: tuple[str, Any]) -> int:
    return int(item[0].split("-")[0].rstrip("+"))  # "1-2", "3-5", "10+"


def compare(a_dir: str | Path, b_dir: str | Path) -> str:
    """Scores of two runs side by side with the difference b - a, on the keys both have."""
    a, b = load_run(a_dir), load_run(b_dir)
    sa, sb = scores(a), scores(b)
    common = [k for k in sa if k in sb]
    if not common:
        raise SeminalError(f"runs share no score to compare ({a_dir} vs {b_dir})", b_dir)
    name_a = f"{a['model']}/seed{a['seed']}"
    name_b = f"{b['model']}/seed{b['seed']}"
    width = max(len(k) for k in common)
    lines = [f"{'':<{width}}  {name_a:>18}  {name_b:>18}  {'b - a':>8}"]
    lines += [f"{k:<{width}}  {sa[k]:>18.4f}  {sb[k]:>18.4f}  {sb[k] - sa[k]:>+8.4f}" for k in common]
    only = sorted(set(sa) ^ set(sb))
    if only:
        lines.append(f"(in one run only: {', '.join(only)})")
    return "\n".join(lines)
