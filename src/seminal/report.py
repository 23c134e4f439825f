"""The results table and the plots, from the runs' metrics.json files (never from MLflow).

The table follows the layout of the GLUE paper (Wang et al. 2019, ICLR, Table 4): one row per
model, task columns in GLUE order (CoLA MCC, SST-2 acc, MRPC F1/acc, STS-B Pearson/Spearman,
QQP F1/acc, MNLI-m, MNLI-mm, QNLI, RTE, WNLI), the GLUE average, then the diagnostic set AX.
Differences from the paper's table, all stated in the caption: scores are dev-set scores, and
each cell is the mean ± sample standard deviation (ddof=1) over seeds, ×100; the GLUE average is
the mean over seeds of each seed's GLUE score (`seminal.metrics.glue_average`), so a seed counts
only when it has every trainable task. Tasks outside GLUE (a user's own benchmark) follow WNLI.

Equal records give byte-identical .md/.csv/.tex: rows are sorted by model, values by seed, and
every number is printed with a fixed format.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seminal.benchmark import BenchmarkSpec, TaskSpec
from seminal.errors import SeminalError
from seminal.io import atomic_path, read_json, write_text

GLUE_ORDER = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI")
METRIC_ORDER = ("mcc", "f1", "acc", "pearson", "spearman")  # MRPC/QQP: F1 then acc, as GLUE prints
METRIC_LABEL = {"mcc": "MCC", "f1": "F1", "acc": "Acc", "pearson": "P", "spearman": "S"}
SPLIT_SUFFIX = {"dev_matched": "-m", "dev_mismatched": "-mm"}
GLUE_AVG = "glue_avg"
MISSING = "–"
SCALE = 100.0
REQUIRED_KEYS = ("benchmark", "model", "task", "seed", "eval")


# ---------------------------------------------------------------------------------------------
# loading


def collect(runs_dir: str | Path) -> list[dict[str, Any]]:
    """Every <runs_dir>/<model>/<Task>/seed<k>/metrics.json, sorted by (model, task, seed), with
    the run's measured cost (cost.json beside it: seconds vary run to run, metrics.json does not)."""
    records = []
    for path in sorted(Path(runs_dir).glob("*/*/seed*/metrics.json")):
        rec = read_json(path)
        if not isinstance(rec, dict) or any(k not in rec for k in REQUIRED_KEYS):
            missing = [k for k in REQUIRED_KEYS if not isinstance(rec, dict) or k not in rec]
            raise SeminalError(f"metrics.json lacks {missing}", path)
        model, task, seed = path.parts[-4:-1]
        if (rec["model"], rec["task"], f"seed{rec['seed']}") != (model, task, seed):
            raise SeminalError(f"record says {rec['model']}/{rec['task']}/seed{rec['seed']} "
                               f"but lies in {model}/{task}/{seed}", path)
        cost = path.with_name("cost.json")
        records.append(rec | (read_json(cost) if cost.exists() else {}))
    return sorted(records, key=lambda r: (r["model"], r["task"], int(r["seed"])))


# ---------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class Column:
    key: str  # machine name: "<Task>.<split>.<metric>" or "glue_avg"
    header: str  # as printed: "MRPC F1", "MNLI-m", "GLUE avg"


@dataclass(frozen=True)
class Cell:
    values: tuple[float, ...]  # one per seed, in seed order, unscaled (fractions)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None  # ddof=1


@dataclass
class Row:
    model: str
    paper: str
    seeds: tuple[int, ...]
    params: tuple[int, int]  # (min, max) over tasks: the output layer differs by task
    cpu_minutes: float
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Table:
    benchmark: str
    columns: list[Column]
    rows: list[Row]
    seeds: tuple[int, ...]
    icl_examples: tuple[int, ...] = ()  # dev-subset sizes of the in-context rows (none: no such row)


def _ordered_tasks(spec: BenchmarkSpec) -> tuple[list[TaskSpec], list[TaskSpec]]:
    """(trainable tasks in GLUE order, then others in spec order; diagnostic tasks in spec order)."""
    names = list(spec.tasks)
    trainable = [t for t in spec.tasks.values() if t.predict_with is None]
    trainable.sort(key=lambda t: (GLUE_ORDER.index(t.name) if t.name in GLUE_ORDER else len(GLUE_ORDER),
                                  names.index(t.name)))
    return trainable, [t for t in spec.tasks.values() if t.predict_with is not None]


def _metrics(task: TaskSpec) -> list[str]:
    known = [m for m in METRIC_ORDER if m in task.metrics]
    return known + [m for m in task.metrics if m not in METRIC_ORDER]


def _task_columns(task: TaskSpec) -> list[Column]:
    cols = []
    metrics = _metrics(task)
    for split in task.eval:
        name = task.name + (SPLIT_SUFFIX.get(split, f"-{split}") if len(task.eval) > 1 else "")
        for m in metrics:
            label = "" if len(task.eval) > 1 and len(metrics) == 1 else f" {METRIC_LABEL.get(m, m)}"
            cols.append(Column(f"{task.name}.{split}.{m}", name + label))
    return cols


def columns(spec: BenchmarkSpec) -> list[Column]:
    trainable, diagnostic = _ordered_tasks(spec)
    return ([c for t in trainable for c in _task_columns(t)] + [Column(GLUE_AVG, "GLUE avg")]
            + [c for t in diagnostic for c in _task_columns(t)])


def _index(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[int, float]]:
    """(model, '<Task>.<split>.<metric>') -> {seed: value}, from the eval of every record."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    for rec in records:
        seed = int(rec["seed"])
        for task, splits in rec["eval"].items():
            for split, result in splits.items():
                for metric, value in result["metrics"].items():
                    cell = out.setdefault((rec["model"], f"{task}.{split}.{metric}"), {})
                    if seed in cell:
                        raise SeminalError(f"two runs of {rec['model']} report {task}/{split} "
                                           f"for seed {seed}")
                    cell[seed] = float(value)
    return out


def _glue_average(index: dict[tuple[str, str], dict[int, float]], model: str, seed: int,
                  trainable: list[TaskSpec]) -> float | None:
    """The seed's GLUE score, or None if any trainable task's metric is missing for it."""
    from seminal.metrics import glue_average

    per_task: dict[str, dict[str, float]] = {}
    for task in trainable:
        scores = per_task.setdefault(task.name, {})
        for split in task.eval:
            for m in task.metrics:
                value = index.get((model, f"{task.name}.{split}.{m}"), {}).get(seed)
                if value is None:
                    return None
                scores[f"{m}_{split}"] = value  # MNLI: acc_dev_matched, acc_dev_mismatched
    return glue_average(per_task) if per_task else None


def build_table(records: list[dict[str, Any]], spec: BenchmarkSpec) -> Table:
    """One row per model: mean/std/n over seeds for each task metric, the GLUE average, cost."""
    wrong = sorted({r["benchmark"] for r in records} - {spec.name})
    if wrong:
        raise SeminalError(f"records of benchmark(s) {wrong} given for benchmark {spec.name!r}",
                           spec.path)
    cols = columns(spec)
    trainable, _ = _ordered_tasks(spec)
    index = _index(records)
    rows = []
    for model in sorted({r["model"] for r in records}):
        mine = [r for r in records if r["model"] == model]
        seeds = tuple(sorted({int(r["seed"]) for r in mine}))
        params = [int(r.get("params") or 0) for r in mine]
        papers = sorted({str(r["paper"]) for r in mine if r.get("paper")})
        row = Row(model=model, paper=", ".join(papers), seeds=seeds,
                  params=(min(params), max(params)),
                  cpu_minutes=math.fsum(float(r.get("cpu_seconds") or 0.0) for r in mine) / 60)
        for col in cols:
            if col.key == GLUE_AVG:
                per_seed = [_glue_average(index, model, s, trainable) for s in seeds]
                row.cells[col.key] = Cell(tuple(v for v in per_seed if v is not None))
            else:
                by_seed = index.get((model, col.key), {})
                row.cells[col.key] = Cell(tuple(by_seed[s] for s in sorted(by_seed)))
        rows.append(row)
    all_seeds = tuple(sorted({int(r["seed"]) for r in records}))
    icl = tuple(sorted({v["examples"] for r in records for v in (r.get("icl") or {}).values()}))
    return Table(benchmark=spec.name, columns=cols, rows=rows, seeds=all_seeds, icl_examples=icl)


# ---------------------------------------------------------------------------------------------
# formatting and writing


def _num(x: float, digits: int = 1) -> str:
    s = f"{x:.{digits}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s  # no "-0.0"


def format_cell(cell: Cell, row_n: int) -> str:
    """'71.2 ± 0.4' (×100); no ± for one seed; '(n=2)' when the cell has fewer seeds than its row."""
    if cell.mean is None:
        return MISSING
    text = _num(cell.mean * SCALE)
    if cell.std is not None:
        text += " ± " + _num(cell.std * SCALE)
    if cell.n < row_n:
        text += f" (n={cell.n})"
    return text


def format_params(lo: int, hi: int) -> str:
    def one(n: int) -> str:
        if n >= 1_000_000:
            return f"{n / 1e6:.2f}M"
        return f"{n / 1e3:.1f}K" if n >= 1_000 else str(n)

    return one(lo) if one(lo) == one(hi) else f"{one(lo)}–{one(hi)}"


def caption(table: Table) -> str:
    seeds = ", ".join(str(s) for s in table.seeds)
    return (f"{table.benchmark} — dev-set scores ×100, mean ± sample std (ddof=1) over seeds "
            f"{{{seeds}}}; no ± where a model has one seed, (n=k) where a cell has fewer seeds than "
            f"its row. GLUE avg: mean over seeds of each seed's GLUE score (AX excluded; MNLI = mean "
            f"of -m and -mm). CPU-min: training CPU minutes summed over the model's runs. Params: all "
            f"parameters, frozen ones included (ELMo's biLM). "
            f"{MISSING}: not run (the recurrent controls run on single-sentence tasks only)."
            + (f" <model>.<k>shot: in-context learning (K = 0, 1, few demonstrations), no training; scored "
               f"on a fixed random subset of {'/'.join(map(str, table.icl_examples))} examples of each dev "
               f"split; CPU-min = evaluation." if table.icl_examples else ""))


def _rows_text(table: Table) -> tuple[list[str], list[list[str]]]:
    head = ["Model", *[c.header for c in table.columns], "Seeds", "Params", "CPU-min", "Paper"]
    body = []
    for row in table.rows:
        cells = [format_cell(row.cells[c.key], len(row.seeds)) for c in table.columns]
        body.append([row.model, *cells, str(len(row.seeds)), format_params(*row.params),
                     _num(row.cpu_minutes), row.paper or MISSING])
    return head, body


def to_markdown(table: Table) -> str:
    head, body = _rows_text(table)
    lines = [f"Table: {caption(table)}", "",
             "| " + " | ".join(head) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(head) - 2) + [":---"]) + "|"]
    lines += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    """Machine-readable: per column <key>.mean, <key>.std, <key>.n (scores ×100, 4 decimals)."""
    head = ["model", "paper", "seeds", "params_min", "params_max", "cpu_minutes"]
    for c in table.columns:
        head += [f"{c.key}.mean", f"{c.key}.std", f"{c.key}.n"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    for row in table.rows:
        out = [row.model, row.paper, " ".join(str(s) for s in row.seeds), row.params[0], row.params[1],
               f"{row.cpu_minutes:.4f}"]
        for c in table.columns:
            cell = row.cells[c.key]
            out += ["" if cell.mean is None else _num(cell.mean * SCALE, 4),
                    "" if cell.std is None else _num(cell.std * SCALE, 4), cell.n]
        w.writerow(out)
    return buf.getvalue()


_TEX_ESCAPE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
               "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
               "±": r"$\pm$", "×": r"$\times$", "–": "--", "—": "---"}


def _tex(s: str) -> str:
    return "".join(_TEX_ESCAPE.get(ch, ch) for ch in s)


def to_latex(table: Table) -> str:
    """A booktabs tabular (needs \\usepackage{booktabs}); the caption is a comment above it."""
    head, body = _rows_text(table)
    lines = [f"% {_tex(caption(table))}", r"\begin{tabular}{l" + "r" * (len(head) - 2) + "l}",
             r"\toprule", " & ".join(_tex(h) for h in head) + r" \\", r"\midrule"]
    for cells, row in zip(body, table.rows):
        papers = [p.strip() for p in row.paper.split(",") if p.strip()]
        paper = ", ".join(rf"\cite{{{p}}}" for p in papers) or "--"
        lines.append(" & ".join([_tex(x) for x in cells[:-1]] + [paper]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_table(table: Table, out_prefix: str | Path) -> None:
    """<prefix>.md, <prefix>.csv, <prefix>.tex, each written atomically."""
    out_prefix = Path(out_prefix)
    write_text(out_prefix.with_suffix(".md"), to_markdown(table))
    write_text(out_prefix.with_suffix(".csv"), to_csv(table))
    write_text(out_prefix.with_suffix(".tex"), to_latex(table))


# ---------------------------------------------------------------------------------------------
# scores by dependency distance


def _bucket_key(label: str) -> tuple[int, str]:
    lo = label.split("-")[0].rstrip("+")
    return (int(lo) if lo.isdigit() else 10**9, label)


def by_distance(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (model, task, split, bucket, metric): mean/std over seeds (unscaled), n_seeds,
    n_examples; sorted by model, task, split, bucket's lower bound, metric."""
    values: dict[tuple[str, str, str, str, str], dict[int, float]] = {}
    sizes: dict[tuple[str, str, str, str], int] = {}
    for rec in records:
        for task, splits in rec["eval"].items():
            for split, result in splits.items():
                for bucket, scores in (result.get("buckets") or {}).items():
                    sizes[(rec["model"], task, split, bucket)] = int(scores.get("n", 0))
                    for metric, v in scores.items():
                        if metric != "n":
                            key = (rec["model"], task, split, bucket, metric)
                            values.setdefault(key, {})[int(rec["seed"])] = float(v)
    rows = []
    for key in sorted(values, key=lambda k: (k[0], k[1], k[2], _bucket_key(k[3]), k[4])):
        cell = Cell(tuple(values[key][s] for s in sorted(values[key])))
        model, task, split, bucket, metric = key
        rows.append({"model": model, "task": task, "split": split, "bucket": bucket, "metric": metric,
                     "mean": cell.mean, "std": cell.std, "n_seeds": cell.n,
                     "n_examples": sizes[(model, task, split, bucket)]})
    return rows


# ---------------------------------------------------------------------------------------------
# plots (matplotlib's object API on the Agg canvas: no pyplot state, no display needed)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig: Any, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", pad_inches=0.1,
                    metadata={"Software": None})


def _primary(metrics: set[str]) -> str:
    return next((m for m in METRIC_ORDER if m in metrics), sorted(metrics)[0])


def plot_by_distance(records: list[dict[str, Any]], path: str | Path) -> None:
    """Score (×100) against dependency-distance bucket, one line per model, one panel per scored
    split (its first metric in GLUE's order); error bars are the std over seeds."""
    rows = by_distance(records)
    panels: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        panels.setdefault((r["task"], r["split"]), set()).add(r["metric"])
    if not panels:
        fig = _figure(5, 2)
        fig.text(0.5, 0.5, "no dependency-distance annotation in these runs", ha="center")
        _save(fig, path)
        return
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = _figure(4.2 * ncols, 3.2 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, ((task, split), metrics) in zip(axes, sorted(panels.items())):
        metric = _primary(metrics)
        mine = [r for r in rows if (r["task"], r["split"], r["metric"]) == (task, split, metric)]
        buckets = sorted({r["bucket"] for r in mine}, key=_bucket_key)
        for model in sorted({r["model"] for r in mine}):
            pts = {r["bucket"]: r for r in mine if r["model"] == model}
            xs = [i for i, b in enumerate(buckets) if b in pts]
            ys = [pts[buckets[i]]["mean"] * SCALE for i in xs]
            es = [(pts[buckets[i]]["std"] or 0.0) * SCALE for i in xs]
            ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=model)
        ax.set_xticks(range(len(buckets)), buckets)
        ax.set_title(f"{task} {split}")
        ax.set_xlabel("dependency distance (words)")
        ax.set_ylabel(f"{METRIC_LABEL.get(metric, metric)} ×100")
        ax.grid(alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small")
    _save(fig, path)


def plot_learning_curve(history: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Training loss and dev score per epoch; the best dev epoch is marked."""
    fig = _figure(8, 3)
    ax_loss, ax_dev = fig.subplots(1, 2)
    loss = [(h["epoch"], h["train_loss"]) for h in history if h.get("train_loss") is not None]
    dev = [(h["epoch"], h["dev_score"]) for h in history if h.get("dev_score") is not None]
    if loss:
        ax_loss.plot(*zip(*loss), marker="o")
    if dev:
        ax_dev.plot(*zip(*dev), marker="o", color="tab:green")
        best = max(dev, key=lambda p: p[1])
        ax_dev.plot([best[0]], [best[1]], marker="*", markersize=14, color="tab:red", label="best")
        ax_dev.legend(fontsize="small")
    ax_loss.set(title="training loss", xlabel="epoch", ylabel="loss")
    ax_dev.set(title="dev score", xlabel="epoch", ylabel="score")
    for ax in (ax_loss, ax_dev):
        ax.grid(alpha=0.3)
    _save(fig, path)


def plot_pretrain_curves(train_curve: Sequence[dict[str, float]], valid_curve: Sequence[dict[str, float]],
                         path: str | Path, title: str = "") -> None:
    """Pretraining: training loss and held-out perplexity against the step."""
    fig = _figure(8, 3)
    ax_loss, ax_ppl = fig.subplots(1, 2)
    if train_curve:
        ax_loss.plot([c["step"] for c in train_curve], [c["loss"] for c in train_curve])
    ppl = [(c["step"], c["ppl"]) for c in valid_curve if "ppl" in c]
    if ppl:
        ax_ppl.plot(*zip(*ppl), marker="o", color="tab:green")
        ax_ppl.set_yscale("log")
    ax_loss.set(xlabel="step", ylabel="training loss", title=title)
    ax_ppl.set(xlabel="step", ylabel="held-out perplexity")
    _save(fig, path)


def plot_confusion(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray,
                   labels: Sequence[str], path: str | Path) -> None:
    """Counts of (gold, predicted) class ids; colour = share of the gold row."""
    t, p = np.asarray(y_true, dtype=np.int64).ravel(), np.asarray(y_pred, dtype=np.int64).ravel()
    k = len(labels)
    if t.shape != p.shape or (t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= k)):
        raise SeminalError(f"confusion matrix needs equally long class ids in [0, {k})", path)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = _figure(1.2 * k + 2.5, 1.1 * k + 1.8)
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), labels, rotation=30, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set(xlabel="predicted", ylabel="gold")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of gold row")
    _save(fig, path)
