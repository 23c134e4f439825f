"""One run: train a model on one task with one seed, evaluate it, write its files and track it.

Inputs are paths and a config; outputs go to one run folder:

    <out>/metrics.json            official dev metrics (+ per-distance buckets), provenance: the
                                  same bytes for the same config, data and seed
    <out>/cost.json               wall and CPU seconds, threads (vary run to run)
    <out>/predictions/<split>.tsv every scored split, and the test splits
    <out>/submission/<file>.tsv   test predictions in the GLUE submission format
    <out>/run.json                the MLflow run id and what it was given
    <out>/learning_curve.png, <out>/confusion_<split>.png

The model named by the config file (`model:` key) is looked up in `seminal.models.REGISTRY`:
scikit-learn baselines read raw text, torch models read the pre-encoded arrays and go through
the shared trainer (`seminal.train`).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from seminal.benchmark import BenchmarkSpec, TaskSpec, load_benchmark
from seminal.data import Split, label_ids, read_split
from seminal.errors import SeminalError
from seminal.evaluate import evaluate, write_predictions, write_submission
from seminal.io import read_json, read_yaml, write_json
from seminal.metrics import task_score
from seminal.models import REGISTRY, ModelEntry


def load_model_config(path: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    """Read config/models/<name>.yaml and apply `key.sub=value` overrides (values parsed as YAML).

    Keys: `model` (a REGISTRY name), `model_config` and `train` (fields of the config dataclasses),
    and for the pipeline: `pretrained: {rule: field}` (the artifact of a pretraining rule is passed
    into model_config.<field>) and `task_kind: single` (run on single-sentence tasks only).
    """
    return _read_config(path, overrides, sorted(REGISTRY), "a registered model",
                        {"model", "model_config", "train", "pretrained", "task_kind"}, ("model_config", "train"))


def _read_config(path: str | Path, overrides: list[str], models: list[str], what: str, keys: set[str],
                 sections: tuple[str, str]) -> dict[str, Any]:
    """A model or pretraining YAML: `model:` one of `models`, only `keys` at the top, then the
    `<section>.<field>=<value>` overrides applied (values parsed as YAML)."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or raw.get("model") not in models:
        raise SeminalError(f"'model:' must name {what} ({', '.join(models)})", path)
    unknown = set(raw) - keys
    if unknown:
        raise SeminalError(f"unknown top-level key(s) {sorted(unknown)}", path)
    for item in overrides:
        key, sep, value = item.partition("=")
        parts = key.split(".")
        if not sep or len(parts) != 2 or parts[0] not in sections:
            raise SeminalError(f"bad override {item!r}: use {sections[0]}.<field>=<v> or {sections[1]}.<field>=<v>",
                               path)
        raw.setdefault(parts[0], {})[parts[1]] = yaml.safe_load(value)
    return raw


def make_config(cls: type, values: dict[str, Any] | None, path: str | Path, section: str) -> Any:
    """Build a config dataclass, naming the file and the bad key when a field is unknown or mistyped."""
    values = dict(values or {})
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise SeminalError(f"{section}: unknown field(s) {unknown} for {cls.__name__}", path)
    for k, v in values.items():  # YAML gives lists where configs hold tuples
        if isinstance(v, list):
            values[k] = tuple(v)
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise SeminalError(f"{section}: {e}", path) from e


def _scored_splits(spec: BenchmarkSpec, task: TaskSpec) -> list[tuple[TaskSpec, str]]:
    """(task, split) pairs this run predicts: its own eval and submission splits, and those of
    the tasks it predicts for (AX with the MNLI model)."""
    tasks = [task] + [t for t in spec.tasks.values() if t.predict_with == task.name]
    return [(t, s) for t in tasks for s in dict.fromkeys([*t.eval, *t.submission])]


def _fit_predict_sklearn(entry: ModelEntry, cfg: Any, task: TaskSpec, data: Path,
                         targets: list[tuple[TaskSpec, str, Split]]) -> tuple[dict, Any]:
    """scikit-learn baselines are deterministic: the seed does not enter (its seeds agree)."""
    train = read_split(task, "train", data)
    model = entry.build(cfg, task)
    y = label_ids(task, train.labels, data / task.splits["train"].paths[0])
    model.fit(train.sentence1, train.sentence2, y)
    preds = {(t.name, s): model.predict(split.sentence1, split.sentence2) for t, s, split in targets}
    return preds, model


def _fit_predict_torch(entry: ModelEntry, cfg: Any, train_cfg: Any, task: TaskSpec, encoded: Path,
                       targets: list[tuple[TaskSpec, str, Split]], dev: Split, seed: int,
                       ckpt_dir: Path, tracker: Any) -> tuple[dict, Any, Any]:
    from seminal.tokenize import load_encoded
    from seminal.train import fit, predict, seed_everything

    seed_everything(seed)  # the initial weights depend on the seed, not on what ran before in this process
    model = entry.build(cfg, task)
    dev_name = task.eval[0]

    def dev_score(predictions: np.ndarray) -> float:
        return task_score(evaluate(task, dev, predictions)["metrics"])

    result = fit(model, task, load_encoded(encoded / task.name / "train"),
                 load_encoded(encoded / task.name / dev_name), train_cfg, seed=seed,
                 ckpt_dir=ckpt_dir, log=tracker.log_metrics, dev_score=dev_score)
    preds = {(t.name, s): predict(model, t, load_encoded(encoded / t.name / s), train_cfg.batch_size,
                                       max_len=train_cfg.max_len)
             for t, s, _ in targets}
    return preds, model, result


def run(benchmark: Path, data: Path, encoded: Path, spm: Path, model_config: Path, task_name: str,
        seed: int, out: Path, checkpoints: Path, parent: Path, data_version: Path,
        overrides: list[str] = (), threads: int = 1) -> dict[str, Any]:
    """Train, evaluate and track one (model, task, seed); returns the metrics record."""
    from seminal import provenance, report, tracking

    spec = load_benchmark(benchmark)
    task = spec.task(task_name)
    if task.predict_with is not None:
        raise SeminalError(f"task {task_name} has no training data; it is predicted by the {task.predict_with} model", benchmark)
    mc = load_model_config(model_config, overrides)
    name = Path(model_config).stem
    entry = REGISTRY[mc["model"]]
    cfg = make_config(entry.config_cls, mc.get("model_config"), model_config, "model_config")
    targets = [(t, s, read_split(t, s, data)) for t, s in _scored_splits(spec, task)]
    parent_id = tracking.parent_run(spec.name, name, mc, parent)
    data_hash = read_json(data_version)["data_hash"]
    commit = provenance.git_commit(Path.cwd())
    tags = {"benchmark": spec.name, "model": name, "task": task.name, "seed": str(seed),
            "git_commit": commit, "data_hash": data_hash, "paper": entry.paper or ""}
    params = {"model_file": str(model_config), "model": mc["model"], "seed": seed, "task": task.name,
              "model_config": dataclasses.asdict(cfg), "data_hash": data_hash, "git_commit": commit}

    t0, c0 = time.perf_counter(), time.process_time()
    history, best_epoch, work = [], None, {}
    with tracking.child_run(spec.name, parent_id, f"{task.name}/seed{seed}", params, tags) as tracker:
        if entry.kind == "sklearn":
            preds, model = _fit_predict_sklearn(entry, cfg, task, data, targets)
        else:
            import torch  # imported here: the scikit-learn baselines never pay for it

            from seminal.tokenize import load_tokenizer
            from seminal.train import TrainConfig, train_flops

            torch.set_num_threads(threads)

            train_cfg = make_config(TrainConfig, mc.get("train"), model_config, "train")
            cfg = dataclasses.replace(cfg, vocab_size=load_tokenizer(spm).get_piece_size())
            tracker.log_params({"train": dataclasses.asdict(train_cfg)})
            dev = next(split for t, s, split in targets if t is task and s == task.eval[0])
            preds, model, result = _fit_predict_torch(entry, cfg, train_cfg, task, encoded, targets, dev,
                                                      seed, checkpoints, tracker)
            history, best_epoch = result.history, result.best_epoch
            work = {"train_tokens": result.tokens, "train_flops": train_flops(model, result.tokens)}
        train_seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0

        record: dict[str, Any] = {
            "benchmark": spec.name, "model": name, "paper": entry.paper, "task": task.name, "seed": seed,
            "params": int(model.num_parameters()), "best_epoch": best_epoch, "history": history,
            "eval": {}, "data_hash": data_hash, "git_commit": commit,
        }
        for t, s, split in targets:
            p = preds[(t.name, s)]
            write_predictions(out / "predictions" / f"{t.name}.{s}.tsv", t, split, p)
            if s in t.submission:
                write_submission(out / "submission", t, s, split, p)
            if s in t.eval and split.labels is not None:
                result_s = evaluate(t, split, p)
                record["eval"].setdefault(t.name, {})[s] = result_s
                tracker.log_metrics({f"{t.name}.{s}.{m}": v for m, v in result_s["metrics"].items()}, step=0)
                if not t.is_regression:
                    png = out / f"confusion_{t.name}.{s}.png"
                    report.plot_confusion(label_ids(t, split.labels, data), p, list(t.labels), png)
                    tracker.log_artifact(png)
        if history:
            report.plot_learning_curve(history, out / "learning_curve.png")
            tracker.log_artifact(out / "learning_curve.png")
        print(f"{name} on {task.name} seed {seed}: {record['params']:,} parameters, "
              f"{train_seconds:.1f} s wall, {cpu_seconds:.1f} s CPU", file=sys.stderr)
        tracker.log_metrics({"params": record["params"], "train_seconds": train_seconds,
                             "cpu_seconds": cpu_seconds}, step=0)
        # Wall and CPU time vary run to run: they go to cost.json, so that metrics.json is the same
        # bytes for the same config, data and seed (tests/workflow checks it).
        write_json(out / "cost.json", {"train_seconds": round(train_seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
                                       "threads": threads} | work)
        write_json(out / "metrics.json", record)
        tracker.log_artifact(out / "metrics.json")
        for f in sorted((out / "predictions").glob("*.tsv")):
            tracker.log_artifact(f, "predictions")
        write_json(out / "run.json", {"mlflow_run_id": tracker.run_id, "parent_run_id": parent_id,
                                      "tags": tags, "threads": threads})
    return record


# ---------------------------------------------------------------------------------------------
# pretraining: once per pretrained model (config/pretrain/<name>.yaml)


def load_pretrain_config(path: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    """config/pretrain/<name>.yaml: `model` (a REGISTRY name with pretraining), `model_config`
    (its pretraining config dataclass) and `pretrain` (seminal.pretrain.PretrainConfig)."""
    known = sorted(k for k, e in REGISTRY.items() if e.pretrain_config)
    return _read_config(path, overrides, known, "a model with pretraining", {"model", "model_config", "pretrain"},
                        ("model_config", "pretrain"))


def pretrain_run(config_path: Path, corpus_ids: Path, spm: Path, benchmark_name: str, data_version: Path,
                 seed: int, out: Path, checkpoints: Path, overrides: list[str] = (),
                 threads: int = 1) -> dict[str, Any]:
    """Pretrain one model on the encoded corpus; writes out/{model.pt, metrics.json, curves.png}."""
    import torch

    from seminal import pretrain, provenance, report, tracking
    from seminal.tokenize import load_tokenizer
    from seminal.train import seed_everything

    raw = load_pretrain_config(config_path, overrides)
    name, entry = Path(config_path).stem, REGISTRY[raw["model"]]
    cfg = make_config(entry.pretrain_config_cls, raw.get("model_config"), config_path, "model_config")
    fields = {f.name for f in dataclasses.fields(cfg)}
    cfg = dataclasses.replace(cfg, vocab_size=load_tokenizer(spm).get_piece_size(),
                              **({"spm": str(spm)} if "spm" in fields else {}))  # ELMo's char table
    pcfg = make_config(pretrain.PretrainConfig, raw.get("pretrain"), config_path, "pretrain")
    torch.set_num_threads(threads)
    seed_everything(seed)
    model = entry.attr("build_pretrain")(cfg)
    make_batch = entry.attr("make_pretrain_batch")
    train_ids, valid_ids = pretrain.split_corpus(np.load(corpus_ids, mmap_mode="r"), pcfg.valid_fraction)

    data_hash = read_json(data_version)["data_hash"]
    commit = provenance.git_commit(Path.cwd())
    tags = {"benchmark": benchmark_name, "model": name, "task": "pretrain", "seed": str(seed),
            "git_commit": commit, "data_hash": data_hash, "paper": entry.paper or ""}
    params = {"config_file": str(config_path), "model": raw["model"], "seed": seed,
              "model_config": dataclasses.asdict(cfg), "pretrain": dataclasses.asdict(pcfg),
              "data_hash": data_hash, "git_commit": commit}
    if pretrain.init_distributed() > 0:  # torchrun: a data-parallel worker; rank 0 alone tracks and writes
        pretrain.pretrain(model, lambda ids, b, rng: make_batch(ids, cfg, b, rng), train_ids, valid_ids, pcfg, seed,
                          checkpoints)
        return {}
    n_params = int(model.num_parameters())
    print(f"pretraining {name}: {n_params:,} parameters, {pcfg.max_steps} steps of {pcfg.batch_size}; "
          f"corpus {len(train_ids):,} train / {len(valid_ids):,} held-out ids", file=sys.stderr)
    with tracking.child_run(benchmark_name, None, f"pretrain/{name}", params, tags) as tracker:
        tracker.log_metrics({"params": n_params}, step=0)
        res = pretrain.pretrain(model, lambda ids, b, rng: make_batch(ids, cfg, b, rng), train_ids, valid_ids,
                                pcfg, seed, checkpoints, log=tracker.log_metrics)
        record: dict[str, Any] = {
            "benchmark": benchmark_name, "model": name, "paper": entry.paper, "seed": seed, "params": n_params,
            "steps": res.steps, "tokens": res.tokens, "valid": res.final,
            "train_curve": res.train_curve, "valid_curve": res.valid_curve,
            "data_hash": data_hash, "git_commit": commit,
        }
        pretrain.save_checkpoint(out / "model.pt", raw["model"], cfg, model, {"params": n_params, **res.final})
        report.plot_pretrain_curves(res.train_curve, res.valid_curve, out / "curves.png", title=name)
        write_json(out / "cost.json", {"train_seconds": round(res.train_seconds, 3),
                                       "cpu_seconds": round(res.cpu_seconds, 3), "threads": threads})
        write_json(out / "metrics.json", record)  # deterministic: the same bytes for the same config and seed
        tracker.log_metrics({f"final/{k}": v for k, v in res.final.items() if k != "step"}, step=res.steps)
        for f in ("metrics.json", "curves.png"):
            tracker.log_artifact(out / f)
        write_json(out / "run.json", {"mlflow_run_id": tracker.run_id, "tags": tags, "threads": threads})
    print(f"pretrained {name}: " + ", ".join(f"{k} {v:.4g}" for k, v in res.final.items())
          + f"; {res.train_seconds:.0f} s wall", file=sys.stderr)
    return record


# ---------------------------------------------------------------------------------------------
# in-context learning (Brown et al. 2020): a pretrained GPT, no gradient step


SHOTS = ("0", "1", "few")  # §2: zero-, one- and few-shot; a row per setting: <model>.<shots>shot


def _subset(split: Split, idx: np.ndarray) -> Split:
    pick = lambda xs: None if xs is None else [xs[i] for i in idx]  # noqa: E731
    return dataclasses.replace(split, index=pick(split.index), sentence1=pick(split.sentence1),
                               sentence2=pick(split.sentence2), labels=pick(split.labels),
                               distance=pick(split.distance), phenomenon=pick(split.phenomenon))


def icl_run(benchmark: Path, data: Path, spm: Path, model_config: Path, task_name: str, seeds: list[int],
            out: Path, parent: Path, data_version: Path, overrides: list[str] = (), shots: tuple[str, ...] = SHOTS,
            threads: int = 1) -> list[dict[str, Any]]:
    """Evaluate a pretrained GPT on one task in context, for every (shots, seed); writes
    out/<model>.<shots>shot/<Task>/seed<k>/{metrics.json, cost.json, run.json, predictions/}."""
    import torch

    from seminal import icl, provenance, tracking
    from seminal.tokenize import load_tokenizer

    torch.set_num_threads(threads)
    spec = load_benchmark(benchmark)
    task = spec.task(task_name)
    mc = load_model_config(model_config, overrides)
    name, entry = Path(model_config).stem, REGISTRY[mc["model"]]
    if entry.kind != "icl":
        raise SeminalError(f"model {mc['model']!r} is not evaluated in context (kind {entry.kind})", model_config)
    sp = load_tokenizer(spm)
    cfg = make_config(entry.config_cls, mc.get("model_config"), model_config, "model_config")
    cfg = dataclasses.replace(cfg, vocab_size=sp.get_piece_size())
    model = entry.build(cfg)
    train = read_split(task, "train", data)
    evals = [(t, s) for t, s in _scored_splits(spec, task) if s in t.eval]
    parent_id = tracking.parent_run(spec.name, name, mc, parent)
    data_hash = read_json(data_version)["data_hash"]
    commit = provenance.git_commit(Path.cwd())
    records = []
    for shot in shots:
        row = f"{name}.{shot}shot"
        k: int | str = icl.FEW if shot == "few" else int(shot)
        cached: dict[tuple[str, str], tuple[np.ndarray, dict]] = {}  # zero-shot: the same for every seed
        for seed in seeds:
            run_out = out / row / task.name / f"seed{seed}"
            tags = {"benchmark": spec.name, "model": row, "task": task.name, "seed": str(seed),
                    "git_commit": commit, "data_hash": data_hash, "paper": entry.paper or "", "shots": shot}
            params = {"model_file": str(model_config), "model": mc["model"], "seed": seed, "task": task.name,
                      "shots": shot, "model_config": dataclasses.asdict(cfg), "n_ctx": model.cfg.n_ctx,
                      "data_hash": data_hash, "git_commit": commit}
            t0, c0 = time.perf_counter(), time.process_time()
            with tracking.child_run(spec.name, parent_id, f"{task.name}/{shot}shot/seed{seed}", params,
                                    tags) as tracker:
                record: dict[str, Any] = {
                    "benchmark": spec.name, "model": row, "paper": entry.paper, "task": task.name, "seed": seed,
                    "params": int(model.num_parameters()), "best_epoch": None, "history": [], "shots": shot,
                    "eval": {}, "icl": {}, "data_hash": data_hash, "git_commit": commit,
                }
                for t, s in evals:
                    split = read_split(t, s, data)
                    if cfg.max_examples is not None and len(split) > cfg.max_examples:  # fixed, seed-independent
                        idx = np.sort(np.random.default_rng(0).choice(len(split), cfg.max_examples, replace=False))
                        split = _subset(split, idx)
                    key = (t.name, s)
                    if k == 0 and key in cached:
                        preds, stats = cached[key]
                    else:
                        stats = {}
                        preds = icl.evaluate(model, sp, t, train, split, k=k, seed=seed, n_ctx=model.cfg.n_ctx,
                                             batch_size=cfg.batch_size, max_few=cfg.max_few, stats=stats)
                        cached[key] = (preds, stats)
                    write_predictions(run_out / "predictions" / f"{t.name}.{s}.tsv", t, split, preds)
                    result = evaluate(t, split, preds)
                    record["eval"].setdefault(t.name, {})[s] = result
                    record["icl"][f"{t.name}.{s}"] = {"examples": stats["examples"],
                                                      "mean_demos": round(stats["mean_demos"], 3)}
                    tracker.log_metrics({f"{t.name}.{s}.{m}": v for m, v in result["metrics"].items()}
                                        | {f"{t.name}.{s}.mean_demos": stats["mean_demos"]}, step=0)
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
                tracker.log_metrics({"params": record["params"], "eval_seconds": seconds}, step=0)
                write_json(run_out / "cost.json", {"train_seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
                                                   "threads": threads})
                write_json(run_out / "metrics.json", record)
                tracker.log_artifact(run_out / "metrics.json")
                write_json(run_out / "run.json", {"mlflow_run_id": tracker.run_id, "parent_run_id": parent_id,
                                                  "tags": tags, "threads": threads})
            print(f"{row} on {task.name} seed {seed}: " + ", ".join(
                f"{t}.{s} {next(iter(r['metrics'].values())):.3f}" for t, sp_ in record["eval"].items()
                for s, r in sp_.items()), file=sys.stderr, flush=True)
            records.append(record)
    return records
