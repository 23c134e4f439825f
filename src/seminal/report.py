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
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seminal.benchmark import BenchmarkSpec, TaskSpec, fold_name
from seminal.errors import SeminalError
from seminal.io import atomic_path, read_json, write_text

GLUE_ORDER = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI")
METRIC_ORDER = ("mcc", "f1", "acc", "pearson", "spearman")  # MRPC/QQP: F1 then acc, as GLUE prints
METRIC_LABEL = {"mcc": "MCC", "f1": "F1", "acc": "Acc", "pearson": "P", "spearman": "S"}
SPLIT_SUFFIX = {"dev_matched": "-m", "dev_mismatched": "-mm"}
GLUE_AVG = "glue_avg"
MISSING = "–"
DEGENERATE = "†"  # a cell with a constant-predictor run (see `add_spread`)
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
    sources: tuple[str, ...] = ()  # a cross-validated task ("<Task>.cv.<metric>"): its folds' cells, pooled


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
    train_tokens: int | None = None  # summed over runs; None unless every run recorded it (cost.json)
    train_flops: float | None = None  # estimated (seminal.train.train_flops), summed likewise


@dataclass
class Table:
    benchmark: str
    columns: list[Column]
    rows: list[Row]
    seeds: tuple[int, ...]
    icl_examples: tuple[int, ...] = ()  # dev-subset sizes of the in-context rows (none: no such row)
    spread: Spread | None = None  # bootstrap intervals and degenerate runs (`add_spread`)


def _ordered_tasks(spec: BenchmarkSpec) -> tuple[list[TaskSpec], list[TaskSpec]]:
    """(trainable tasks in GLUE order, then others in spec order; diagnostic tasks in spec order).
    A cross-validated task stands for its fold tasks, which get no column of their own."""
    names = list(spec.tasks)
    trainable = [t for t in spec.tasks.values() if t.predict_with is None and t.fold_of is None]
    trainable.sort(key=lambda t: (GLUE_ORDER.index(t.name) if t.name in GLUE_ORDER else len(GLUE_ORDER),
                                  names.index(t.name)))
    return trainable, [t for t in spec.tasks.values() if t.predict_with is not None]


def _metrics(task: TaskSpec) -> list[str]:
    known = [m for m in METRIC_ORDER if m in task.metrics]
    return known + [m for m in task.metrics if m not in METRIC_ORDER]


def _fold_keys(task: TaskSpec, metric: str) -> tuple[str, ...]:
    """A cross-validated task's cells: each fold's held-out split (`test`) scored by `metric`."""
    return tuple(f"{fold_name(task.name, i)}.test.{metric}" for i in range(1, task.cv.folds + 1)) if task.cv else ()


def _task_columns(task: TaskSpec) -> list[Column]:
    cols = []
    metrics = _metrics(task)
    if task.cv is not None:  # one column per metric, over the held-out folds (Kim 2014's "CV")
        return [Column(f"{task.name}.cv.{m}", f"{task.name} ({task.cv.folds}-fold) {METRIC_LABEL.get(m, m)}",
                       _fold_keys(task, m)) for m in metrics]
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
        for m in task.metrics if task.cv else ():  # cross-validated: the mean over its folds
            folds = [index.get((model, key), {}).get(seed) for key in _fold_keys(task, m)]
            if None in folds:
                return None
            scores[f"{m}_cv"] = statistics.fmean(folds)  # type: ignore[arg-type]
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
        if all("train_tokens" in r and "train_flops" in r for r in mine):
            row.train_tokens = sum(int(r["train_tokens"]) for r in mine)
            row.train_flops = math.fsum(float(r["train_flops"]) for r in mine)
        for col in cols:
            if col.key == GLUE_AVG:
                per_seed = [_glue_average(index, model, s, trainable) for s in seeds]
                row.cells[col.key] = Cell(tuple(v for v in per_seed if v is not None))
            elif col.sources:  # cross-validated: every (seed, fold) score, seed by seed
                values = [index.get((model, key), {}).get(s) for s in seeds for key in col.sources]
                row.cells[col.key] = Cell(tuple(v for v in values if v is not None))
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
            f"{MISSING}: not run (the recurrent controls run on single-sentence tasks only; a task "
            f"absent from the data folder)."
            + (f" <model>.<k>shot: in-context learning (K = 0, 1, few demonstrations), no training; scored "
               f"on a fixed random subset of {'/'.join(map(str, table.icl_examples))} examples of each dev "
               f"split; CPU-min = evaluation." if table.icl_examples else "")
            + (" <Task> (k-fold): k-fold cross-validation as Kim 2014 (no standard test split): mean ± std "
               "over the k held-out folds (× seeds), each fold trained on the other folds less a dev slice "
               "for early stopping; (n=k) where folds are missing." if any(c.sources for c in table.columns) else ""))


def _degenerate_mark(table: Table, model: str, key: str) -> str:
    """DEGENERATE after a cell whose runs include a constant predictor (`add_spread`)."""
    if table.spread is None or key == GLUE_AVG:
        return ""
    return f" {DEGENERATE}" if table.spread.degenerate.get((model, key.rsplit(".", 1)[0])) else ""


def _rows_text(table: Table) -> tuple[list[str], list[list[str]]]:
    head = ["Model", *[c.header for c in table.columns], "Seeds", "Params", "CPU-min", "Paper"]
    body = []
    for row in table.rows:
        cells = [format_cell(row.cells[c.key], len(row.seeds) * max(1, len(c.sources)))  # cv: seeds x folds
                 + _degenerate_mark(table, row.model, c.key)
                 for c in table.columns]
        body.append([row.model, *cells, str(len(row.seeds)), format_params(*row.params),
                     _num(row.cpu_minutes), row.paper or MISSING])
    return head, body


def to_markdown(table: Table) -> str:
    head, body = _rows_text(table)
    lines = [f"Table: {caption(table)}", "",
             "| " + " | ".join(head) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(head) - 2) + [":---"]) + "|"]
    lines += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in body]
    return "\n".join(lines + degenerate_list(table)) + "\n"


def to_csv(table: Table) -> str:
    """Machine-readable: per column <key>.mean, <key>.std, <key>.n (scores ×100, 4 decimals)."""
    head = ["model", "paper", "seeds", "params_min", "params_max", "cpu_minutes", "train_tokens", "train_flops"]
    for c in table.columns:
        head += [f"{c.key}.mean", f"{c.key}.std", f"{c.key}.n", f"{c.key}.ci_lo", f"{c.key}.ci_hi",
                 f"{c.key}.degenerate"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    for row in table.rows:
        out = [row.model, row.paper, " ".join(str(s) for s in row.seeds), row.params[0], row.params[1],
               f"{row.cpu_minutes:.4f}", "" if row.train_tokens is None else row.train_tokens,
               "" if row.train_flops is None else f"{row.train_flops:.4g}"]
        for c in table.columns:
            cell = row.cells[c.key]
            ci = table.spread.ci.get((row.model, c.key)) if table.spread else None
            bad = table.spread.degenerate.get((row.model, c.key.rsplit(".", 1)[0]), ()) if table.spread else ()
            out += ["" if cell.mean is None else _num(cell.mean * SCALE, 4),
                    "" if cell.std is None else _num(cell.std * SCALE, 4), cell.n,
                    "" if ci is None else _num(ci[0] * SCALE, 4), "" if ci is None else _num(ci[1] * SCALE, 4),
                    len(bad) if table.spread and c.key != GLUE_AVG else ""]
        w.writerow(out)
    return buf.getvalue()


_TEX_ESCAPE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
               "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
               "±": r"$\pm$", "×": r"$\times$", "–": "--", "—": "---", "†": r"\dag{}"}


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
# spread: 95% bootstrap intervals and degenerate runs, from the predictions and the gold labels


@dataclass
class Spread:
    """What the metrics.json files cannot tell: computed from each run's dev predictions."""
    n_resamples: int
    seed: int
    ci: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)  # (model, column key)
    degenerate: dict[tuple[str, str], tuple[tuple[int, str], ...]] = field(default_factory=dict)  # (model,
    # "<Task>.<split>") -> (seed, the one value it predicted) for each constant-predictor run
    examples: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, "<Task>.<split>") -> n


@dataclass(frozen=True)
class DevPredictions:
    """One model's predictions on one scored split, every seed on the same examples."""
    seeds: tuple[int, ...]
    index: tuple[str, ...]  # example ids, in the gold file's order
    y: np.ndarray  # (n,) gold class ids or scores
    preds: np.ndarray  # (seeds, n)
    distance: np.ndarray | None  # (n,) dependency distance, where the benchmark has it
    labels: tuple[str, ...] | None  # the class names (None: regression)


class Gold:
    """Gold labels (and distances) of scored splits, read once: `gold(task, split)`."""

    def __init__(self, spec: BenchmarkSpec, data: str | Path):
        self.spec, self.data = spec, Path(data)
        self._cache: dict[tuple[str, str], tuple[dict[str, int], np.ndarray, np.ndarray | None]] = {}

    def __call__(self, task: str, split: str) -> tuple[dict[str, int], np.ndarray, np.ndarray | None]:
        """({example id: position}, gold (n,), distance (n,) or None)."""
        if (task, split) not in self._cache:
            from seminal.data import label_ids, read_split

            t = self.spec.task(task)
            sp = read_split(t, split, self.data)
            if sp.labels is None:
                raise SeminalError(f"{task}/{split} has no gold labels", self.data)
            y = label_ids(t, sp.labels, self.data / t.splits[split].paths[0])
            dist = None if sp.distance is None else np.asarray(sp.distance, dtype=np.int64)
            self._cache[(task, split)] = ({i: k for k, i in enumerate(sp.index)}, y, dist)
        return self._cache[(task, split)]


def _read_predictions(path: Path, task: TaskSpec) -> tuple[list[str], np.ndarray]:
    """A predictions/<Task>.<split>.tsv file: (example ids, class ids or scores)."""
    from seminal.data import read_rows

    head, rows = read_rows(path, 2, header=True)
    if head != ["index", "prediction"]:
        raise SeminalError("header must be index<TAB>prediction", path, 1)
    index = [fields[0] for _, fields in rows]
    values = [fields[1] for _, fields in rows]
    if task.is_regression:
        return index, np.array([float(v) for v in values], dtype=np.float64)
    ids = {label: i for i, label in enumerate(task.labels or ())}
    bad = next((line for line, (_, v) in rows if v not in ids), None)
    if bad is not None:
        raise SeminalError(f"prediction not among {task.name}'s labels {list(ids)}", path, bad)
    return index, np.array([ids[v] for v in values], dtype=np.int64)


def _run_files(records: list[dict[str, Any]], runs_dir: Path) -> dict[tuple[str, str, str], dict[int, Path]]:
    """(model, scored task, split) -> {seed: predictions file}; AX lies in the MNLI run's folder."""
    out: dict[tuple[str, str, str], dict[int, Path]] = {}
    for rec in records:
        folder = runs_dir / rec["model"] / rec["task"] / f"seed{rec['seed']}" / "predictions"
        for task, splits in rec["eval"].items():
            for split in splits:
                out.setdefault((rec["model"], task, split), {})[int(rec["seed"])] = folder / f"{task}.{split}.tsv"
    return out


def load_dev_predictions(records: list[dict[str, Any]], runs_dir: str | Path, gold: Gold
                         ) -> dict[tuple[str, str, str], DevPredictions]:
    """(model, task, split) -> its seeds' predictions aligned to the gold labels, for every split
    the records score. A classification seed's score is recomputed from its file and must equal
    metrics.json, so an interval belongs to the table's number. Regression scores are written with 3
    decimals, which moves a near-constant predictor's correlation: those are not compared."""
    from seminal.stats import score

    reported = {(r["model"], t, s, int(r["seed"])): res["metrics"]
                for r in records for t, splits in r["eval"].items() for s, res in splits.items()}
    out = {}
    for (model, task_name, split), files in sorted(_run_files(records, Path(runs_dir)).items()):
        task = gold.spec.task(task_name)
        position, y, distance = gold(task_name, split)
        seeds = tuple(sorted(files))
        read = [_read_predictions(files[s], task) for s in seeds]
        index = read[0][0]
        for s, (idx, _) in zip(seeds, read):
            if idx != index:
                raise SeminalError(f"seed {s} predicts other examples than seed {seeds[0]}", files[s])
        missing = [i for i in index if i not in position]
        if missing:
            raise SeminalError(f"example {missing[0]!r} is not in the gold {task_name}/{split}", files[seeds[0]])
        order = np.argsort([position[i] for i in index], kind="stable")  # gold-file order
        pos = np.array([position[i] for i in index])[order]
        preds = np.stack([p[order] for _, p in read])
        for s, p in zip(seeds, preds if not task.is_regression else []):
            for m, value in reported[(model, task_name, split, s)].items():
                mine = score(m, y[pos], p)
                if abs(mine - float(value)) > 1e-9:
                    raise SeminalError(f"{m} {mine:.6f} from the predictions but {float(value):.6f} in "
                                       f"metrics.json", files[s])
        out[(model, task_name, split)] = DevPredictions(
            seeds, tuple(index[i] for i in order), y[pos], preds, None if distance is None else distance[pos],
            task.labels)
    return out


def _unit_rng(seed: int, task: str, split: str) -> np.random.Generator:
    """One resample stream per scored split, the same for every model (and every metric) on it."""
    return np.random.default_rng([seed, zlib.crc32(f"{task}.{split}".encode())])


def add_spread(table: Table, records: list[dict[str, Any]], runs_dir: str | Path, spec: BenchmarkSpec,
               data: str | Path, n_resamples: int = 1000, seed: int = 0) -> Spread:
    """Fill `table.spread`: per cell a 95% percentile-bootstrap interval of the seed-mean (the dev
    examples resampled jointly across seeds: `seminal.stats.bootstrap_samples`), per row the same
    for the GLUE average (tasks resampled independently, combined as the GLUE score), and the
    degenerate runs: a run whose dev predictions are all one value (a constant predictor, whose
    MCC, F1 or correlation is 0 by construction). Degenerate runs are reported, never re-run."""
    from seminal.metrics import EXCLUDED_FROM_AVERAGE
    from seminal.stats import bootstrap_samples, percentile_ci

    spread = Spread(n_resamples=n_resamples, seed=seed)
    preds = load_dev_predictions(records, runs_dir, Gold(spec, data))
    models = {r.model for r in table.rows}
    task_samples: dict[tuple[str, str], list[np.ndarray]] = {}  # (model, task) -> per-split score samples
    units: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}  # models on the same examples share resamples
    for (model, task, split), dp in preds.items():
        if model in models:
            units.setdefault((task, split, dp.index), []).append(model)
    for (task_name, split, _), members in sorted(units.items()):
        task = spec.task(task_name)
        dps = [preds[(m, task_name, split)] for m in members]
        per_metric = []
        for metric in task.metrics:
            samples = bootstrap_samples(metric, dps[0].y, [d.preds for d in dps], n_resamples,
                                        _unit_rng(seed, task_name, split))
            per_metric.append(samples)
            for j, m in enumerate(members):
                spread.ci[(m, f"{task_name}.{split}.{metric}")] = percentile_ci(samples[:, j])
        mean = np.mean(per_metric, axis=0)  # (B, models): the task score on each resample
        for j, (m, d) in enumerate(zip(members, dps)):
            key = f"{task_name}.{split}"
            spread.examples[(m, key)] = len(d.y)
            constant = [(s, p[0]) for s, p in zip(d.seeds, d.preds) if np.all(p == p[0])]
            if constant:
                spread.degenerate[(m, key)] = tuple(
                    (s, f"{v:.3f}" if d.labels is None else d.labels[int(v)]) for s, v in constant)
            if task_name not in EXCLUDED_FROM_AVERAGE and task.predict_with is None:
                task_samples.setdefault((m, task_name), []).append(mean[:, j])
    trainable, _ = _ordered_tasks(spec)
    for row in table.rows:
        if row.cells[GLUE_AVG].mean is None:
            continue
        per_task = [task_samples.get((row.model, t.name)) for t in trainable]
        if all(p is not None and len(p) == len(t.eval) for p, t in zip(per_task, trainable)):
            glue = np.mean([np.mean(p, axis=0) for p in per_task], axis=0)  # MNLI: mean of -m and -mm
            spread.ci[(row.model, GLUE_AVG)] = percentile_ci(glue)
    table.spread = spread
    return spread


def _split_name(key: str) -> str:
    """'MNLI.dev_matched' -> 'MNLI-m', 'CoLA.dev' -> 'CoLA' (the table's header names)."""
    task, _, split = key.rpartition(".")
    return task if split == "dev" else task + SPLIT_SUFFIX.get(split, f"-{split}")


def degenerate_list(table: Table) -> list[str]:
    """The lines under table.md that name every degenerate run (empty when there is none):
    per model, each split with the value it always predicted and the seeds that did."""
    if table.spread is None or not table.spread.degenerate:
        return []
    intro = (f"{DEGENERATE} Degenerate runs: every dev prediction is the same value (a constant predictor; its "
             "MCC, F1 or correlation is 0 by construction). Reported as they are, never re-rolled:")
    lines = ["", intro, ""]
    seeds_of = {r.model: r.seeds for r in table.rows}
    by_model: dict[str, list[str]] = {}
    whole: dict[str, int] = {}  # splits on which every seed of the model is constant
    for (model, key), runs in sorted(table.spread.degenerate.items()):
        values = " / ".join(sorted({v for _, v in runs}))
        all_seeds = tuple(s for s, _ in runs) == seeds_of.get(model)
        whole[model] = whole.get(model, 0) + all_seeds
        seeds = "" if all_seeds else f", seed{'s' if len(runs) > 1 else ''} {', '.join(str(s) for s, _ in runs)}"
        by_model.setdefault(model, []).append(f"{_split_name(key)} ({values}{seeds})")
    for model, items in by_model.items():
        scored = sum(1 for (m, _) in table.spread.examples if m == model)
        every = " — every scored split, every seed" if whole[model] == scored else ""
        lines.append(f"- {model}{every}: " + "; ".join(items))
    lines += ["", "(value, seeds): the value always predicted; no seeds listed: every seed of the row."]
    return lines


def ci_caption(table: Table) -> str:
    sp = table.spread
    assert sp is not None
    return (f"{table.benchmark} — dev-set scores ×100 with 95% confidence intervals: mean over seeds "
            f"[percentile bootstrap, {sp.n_resamples} resamples, seed {sp.seed}]. A resample draws the dev "
            f"examples once, with replacement, and scores every seed's predictions on it, so the interval is "
            f"that of the seed-mean under test-set sampling (the seed-to-seed spread is the ± of table.md). "
            f"GLUE avg: each task resampled independently, combined as the GLUE score. In-context rows: on "
            f"their dev subset. {DEGENERATE}: the cell has a degenerate (constant-predictor) run, listed in "
            f"table.md. {MISSING}: not run.")


def to_ci_markdown(table: Table) -> str:
    """table_ci.md: the table's layout, each cell 'mean [lo, hi]'."""
    if table.spread is None:
        raise SeminalError("the table has no intervals (add_spread first)")
    head = ["Model", *[c.header for c in table.columns]]
    lines = [f"Table: {ci_caption(table)}", "", "| " + " | ".join(head) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(head) - 1)) + "|"]
    for row in table.rows:
        cells = []
        for c in table.columns:
            cell, ci = row.cells[c.key], table.spread.ci.get((row.model, c.key))
            text = MISSING if cell.mean is None else _num(cell.mean * SCALE)
            if cell.mean is not None and ci is not None:
                text += f" [{_num(ci[0] * SCALE)}, {_num(ci[1] * SCALE)}]"
            cells.append(text + _degenerate_mark(table, row.model, c.key))
        lines.append("| " + " | ".join([row.model, *cells]) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# cost: parameters, estimated training FLOPs, CPU seconds


COST_HEAD = ("row", "kind", "runs", "params_min", "params_max", "train_tokens", "train_flops", "cpu_seconds",
             "train_seconds", "tokens_per_cpu_second")


def _pretrain_cost(folder: Path) -> dict[str, Any] | None:
    """A pretraining's cost row from its metrics.json (+ cost.json): C = 6 N D over all N
    parameters (every one is trained; the LM's softmax is the tied embedding, a real matmul);
    word2vec (skip-gram, negative sampling): 6 x dim x (1 + negatives) per training pair."""
    if not (folder / "metrics.json").is_file():
        return None
    rec = read_json(folder / "metrics.json")
    cost = read_json(folder / "cost.json") if (folder / "cost.json").is_file() else {}
    if "pairs_total" in rec:  # word2vec
        cfg = rec.get("config") or {}
        params = 2 * int(rec["vocab_size"]) * int(cfg["dim"])  # input and output vectors
        tokens = int(rec.get("trained_ids") or 0)
        flops = 6.0 * int(cfg["dim"]) * (1 + int(cfg["negative"])) * int(rec["pairs_total"])
        cpu, wall = float(rec.get("cpu_seconds") or 0.0), float(rec.get("seconds") or 0.0)
    else:
        params, tokens = int(rec["params"]), int(rec.get("tokens") or 0)
        flops = 6.0 * params * tokens
        cpu, wall = float(cost.get("cpu_seconds") or 0.0), float(cost.get("train_seconds") or 0.0)
    return {"row": f"pretrain/{folder.name}", "kind": "pretrain", "runs": 1, "params_min": params,
            "params_max": params, "train_tokens": tokens, "train_flops": flops, "cpu_seconds": cpu,
            "train_seconds": wall}


def cost_rows(table: Table, records: list[dict[str, Any]], pretrain_dirs: Sequence[str | Path] = ()
              ) -> list[dict[str, Any]]:
    """One row per table row (summed over its runs), then one per pretraining folder given."""
    rows = []
    for row in table.rows:
        mine = [r for r in records if r["model"] == row.model]
        rows.append({"row": row.model, "kind": "icl" if any(r.get("icl") for r in mine) else "task",
                     "runs": len(mine), "params_min": row.params[0], "params_max": row.params[1],
                     "train_tokens": row.train_tokens, "train_flops": row.train_flops,
                     "cpu_seconds": math.fsum(float(r.get("cpu_seconds") or 0.0) for r in mine),
                     "train_seconds": math.fsum(float(r.get("train_seconds") or 0.0) for r in mine)})
    for folder in sorted({Path(p) for p in pretrain_dirs}):
        one = _pretrain_cost(folder)
        if one is not None:
            rows.append(one)
    for r in rows:
        r["tokens_per_cpu_second"] = (r["train_tokens"] / r["cpu_seconds"]
                                      if r["train_tokens"] and r["cpu_seconds"] else None)
    return rows


def to_cost_csv(rows: list[dict[str, Any]]) -> str:
    """cost.csv: tokens and FLOPs blank where not recorded (baselines, in-context rows, older runs)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COST_HEAD)
    fmt = {"train_flops": "{:.4g}", "cpu_seconds": "{:.1f}", "train_seconds": "{:.1f}",
           "tokens_per_cpu_second": "{:.0f}"}
    for r in rows:
        w.writerow(["" if r.get(k) is None else fmt.get(k, "{}").format(r[k]) for k in COST_HEAD])
    return buf.getvalue()


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


def _grid(n: int, path: str | Path, empty: str) -> tuple[Any, Any]:
    """A figure of n panels, 3 a row, and its flat axes; with none, a note saved to path: (None, None)."""
    if not n:
        fig = _figure(5, 2)
        fig.text(0.5, 0.5, empty, ha="center")
        _save(fig, path)
        return None, None
    ncols = min(3, n)
    fig = _figure(4.2 * ncols, 3.2 * math.ceil(n / ncols))
    return fig, fig.subplots(math.ceil(n / ncols), ncols, squeeze=False).ravel()


def _primary(metrics: set[str]) -> str:
    return next((m for m in METRIC_ORDER if m in metrics), sorted(metrics)[0])


def plot_by_distance(records: list[dict[str, Any]], path: str | Path) -> None:
    """Score (×100) against dependency-distance bucket, one line per model, one panel per scored
    split (its first metric in GLUE's order); error bars are the std over seeds."""
    rows = by_distance(records)
    panels: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        panels.setdefault((r["task"], r["split"]), set()).add(r["metric"])
    fig, axes = _grid(len(panels), path, "no dependency-distance annotation in these runs")
    if fig is None:
        return
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


def plot_fewshot(points: Sequence[dict[str, Any]], path: str | Path) -> None:
    """In-context score (×100) against parameters (log scale), one line per K (Brown et al. 2020,
    Figure 1.2's layout); error bars are 95% bootstrap intervals over the dev subset's examples.
    `points`: {"model", "shots", "params", "score", "lo", "hi"} (seminal.claims)."""
    fig = _figure(5.5, 3.6)
    ax = fig.subplots()
    if not points:
        ax.text(0.5, 0.5, "no in-context rows in this run", ha="center", transform=ax.transAxes)
    names = {"0": "zero-shot", "1": "one-shot", "few": "few-shot"}
    settings = sorted({p["shots"] for p in points}, key=lambda k: (k == "few", k))
    for i, shots in enumerate(settings):
        pts = sorted((p for p in points if p["shots"] == shots), key=lambda p: p["params"])
        dodge = 1.04 ** (i - (len(settings) - 1) / 2)  # side by side, so the error bars do not hide each other
        ax.errorbar([p["params"] * dodge for p in pts], [p["score"] for p in pts], marker="o", capsize=3,
                    yerr=[[p["score"] - p["lo"] for p in pts], [p["hi"] - p["score"] for p in pts]],
                    label=names.get(shots, f"{shots}-shot"))
    for model in sorted({p["model"] for p in points}):
        top = max((p for p in points if p["model"] == model), key=lambda p: p["hi"])
        ax.annotate(model, (top["params"], top["hi"]), fontsize="x-small", ha="center", xytext=(0, 4),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set(xlabel="parameters", ylabel="score ×100 (mean over tasks)", title="in-context learning by size and K")
    ax.grid(alpha=0.3)
    if points:
        ax.legend(fontsize="small")
    _save(fig, path)


def plot_learning_curves(records: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Dev score (×100, the task's metrics averaged) against the training step, one panel per task,
    one line per trained model: the mean over seeds at each epoch (x: the mean step)."""
    curves: dict[tuple[str, str], dict[int, list[tuple[float, float]]]] = {}
    for rec in records:
        for h in rec.get("history") or []:
            if h.get("dev_score") is not None and h.get("step") is not None:
                curves.setdefault((rec["task"], rec["model"]), {}).setdefault(int(h["epoch"]), []).append(
                    (float(h["step"]), float(h["dev_score"])))
    tasks = sorted({t for t, _ in curves}, key=lambda t: (GLUE_ORDER.index(t) if t in GLUE_ORDER else 99, t))
    fig, axes = _grid(len(tasks), path, "no training curves in these runs")
    if fig is None:
        return
    models = sorted({m for _, m in curves})
    colors = {m: f"C{i % 10}" for i, m in enumerate(models)}
    styles = {m: ("-", "--", ":")[i // 10 % 3] for i, m in enumerate(models)}
    for ax, task in zip(axes, tasks):
        for model in models:
            epochs = curves.get((task, model))
            if not epochs:
                continue
            pts = [(statistics.fmean(s for s, _ in v), statistics.fmean(d for _, d in v) * SCALE)
                   for _, v in sorted(epochs.items())]
            ax.plot(*zip(*pts), marker=".", color=colors[model], linestyle=styles[model], label=model)
        ax.set(title=task, xlabel="step", ylabel="dev score ×100")
        ax.grid(alpha=0.3)
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    for ax in axes[1:len(tasks)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen), loc="outside right upper", fontsize="small")
    _save(fig, path)
