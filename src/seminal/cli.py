"""seminal: scaled-down replications of six seminal language-model papers on GLUE-style tasks.

Each subcommand is a thin wrapper over one library function; the Snakemake rules call these,
and users can too. Errors are printed as one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seminal.errors import SeminalError

COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {}
PARENT_HELP = "the model's MLflow parent-run record (JSON), shared by its jobs; written by the first"


def command(fn: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    COMMANDS[fn.__name__.removeprefix("cmd_").replace("_", "-")] = fn
    return fn


@command
def cmd_generate(a: argparse.Namespace) -> None:
    from seminal.synglue import SynGlueConfig, generate

    generate(a.out, SynGlueConfig(seed=a.seed, train_size=a.train_size, dev_size=a.dev_size,
                                  test_size=a.test_size, corpus_tokens=a.corpus_tokens,
                                  max_distance=a.max_distance))


@command
def cmd_tokenizer(a: argparse.Namespace) -> None:
    from seminal.tokenize import train_tokenizer

    if a.out.suffix != ".model":
        raise SeminalError("--out must end in .model", a.out)
    train_tokenizer(a.corpus, a.out.with_suffix(""), a.vocab_size, seed=a.seed, num_threads=a.threads)


@command
def cmd_encode(a: argparse.Namespace) -> None:
    from seminal.benchmark import load_benchmark
    from seminal.tokenize import encode_task

    spec = load_benchmark(a.benchmark)
    encode_task(spec.task(a.task), a.data, a.spm, a.out)


@command
def cmd_encode_corpus(a: argparse.Namespace) -> None:
    from seminal.tokenize import encode_corpus

    encode_corpus(a.corpus, a.spm, a.out)


@command
def cmd_download_glue(a: argparse.Namespace) -> None:
    from seminal.download import run_download

    run_download(a)


@command
def cmd_gather_corpus(a: argparse.Namespace) -> None:
    from seminal.tokenize import gather_corpus, train_text_corpus

    if a.files:
        n = gather_corpus(a.files, a.out)
        print(f"{n:,} lines from {len(a.files)} file(s) -> {a.out}", file=sys.stderr)
        return
    if a.benchmark is None or a.data is None:
        raise SeminalError("give corpus files, or --benchmark and --data to use the tasks' train text")
    from seminal.benchmark import load_benchmark

    docs, n = train_text_corpus(load_benchmark(a.benchmark), a.data, a.out, a.tasks)
    print(f"no corpus given: pretraining on the train splits' text, {docs:,} documents ({n:,} lines) -> "
          f"{a.out}. Pass --config corpus=FILE for real pretraining text (README, 'Real GLUE').", file=sys.stderr)


@command
def cmd_cv_folds(a: argparse.Namespace) -> None:
    from seminal.benchmark import load_benchmark
    from seminal.cv import write_folds

    spec = load_benchmark(a.benchmark)
    names = a.tasks or [t for t, s in spec.tasks.items() if s.cv is not None]
    for name in names:
        paths = write_folds(spec.task(name), a.data)
        print(f"{name}: {spec.task(name).cv.folds} folds, {len(paths)} files under {a.data}", file=sys.stderr)


@command
def cmd_data_version(a: argparse.Namespace) -> None:
    from seminal.io import write_json
    from seminal.provenance import dvc_hash

    write_json(a.out, {"path": str(a.data), "data_hash": dvc_hash(a.data)})


@command
def cmd_word2vec(a: argparse.Namespace) -> None:
    from seminal.tokenize import load_tokenizer
    from seminal.word2vec import load_word2vec_config, train_word2vec

    vocab_size = load_tokenizer(a.spm).get_piece_size()
    train_word2vec(a.corpus_ids, vocab_size, load_word2vec_config(a.config), seed=a.seed, out_dir=a.out,
                   num_threads=a.threads)


@command
def cmd_pretrain(a: argparse.Namespace) -> None:
    from seminal.experiment import pretrain_run

    pretrain_run(a.config, a.corpus_ids, a.spm, a.benchmark_name, a.data_version, a.seed, a.out, a.checkpoints,
                 overrides=a.set or [], threads=a.threads)


@command
def cmd_train(a: argparse.Namespace) -> None:
    from seminal.experiment import run

    for task in a.tasks:  # one process for all tasks and seeds: imports and start-up are paid once
        for seed in a.seeds:
            run(a.benchmark, a.data, a.encoded, a.spm, a.model_config, task, seed, a.out / task / f"seed{seed}",
                a.checkpoints / task / f"seed{seed}", a.parent, a.data_version, overrides=a.set or [],
                threads=a.threads)


@command
def cmd_icl(a: argparse.Namespace) -> None:
    from seminal.experiment import icl_run

    for task in a.tasks:
        icl_run(a.benchmark, a.data, a.spm, a.model_config, task, a.seeds, a.out, a.parent, a.data_version,
                overrides=a.set or [], shots=tuple(a.shots), threads=a.threads)


@command
def cmd_table(a: argparse.Namespace) -> None:
    from seminal.benchmark import load_benchmark
    from seminal.io import write_text
    from seminal.report import build_table, collect, plot_by_distance, write_table

    if a.ci_out and not a.data:
        raise SeminalError("--ci-out needs --data (the gold labels the intervals resample)")
    spec = load_benchmark(a.benchmark)
    records = [r for r in collect(a.runs) if not a.models or r["model"] in a.models]
    if not records:
        raise SeminalError("no metrics.json found", a.runs)
    table = build_table(records, spec)
    if a.data:  # intervals and degenerate runs need the predictions and the gold labels
        from seminal.report import add_spread, to_ci_markdown

        add_spread(table, records, a.runs, spec, a.data, n_resamples=a.resamples, seed=a.seed)
        if a.ci_out:
            write_text(a.ci_out, to_ci_markdown(table))
    write_table(table, a.out)
    if a.cost_out:
        from seminal.report import cost_rows, to_cost_csv

        write_text(a.cost_out, to_cost_csv(cost_rows(table, records, [Path(p).parent for p in a.pretrain])))
    if a.paper_out:
        from seminal.reported import load_reported, paper_markdown

        degenerate = table.spread.degenerate.keys() if table.spread else ()
        write_text(a.paper_out, paper_markdown(records, load_reported(a.papers), spec.name, degenerate))
    plot_by_distance(records, a.plots / "by_distance.png")
    print(a.out.with_suffix(".md").read_text(encoding="utf-8"))


@command
def cmd_claims(a: argparse.Namespace) -> None:
    import shutil

    from seminal.benchmark import load_benchmark
    from seminal.claims import build_claims, to_markdown, track, write_claims
    from seminal.io import atomic_path, read_json
    from seminal.report import collect, plot_fewshot, plot_learning_curves

    for extra in a.extra_plots:
        if not extra.is_file():
            raise SeminalError("plot not found (an enabled experiment's summary rule should have made it)", extra)
    spec = load_benchmark(a.benchmark)
    result = build_claims(a.runs, spec, a.data, longlag=a.longlag, translation=a.translation, root=Path.cwd(),
                          n_resamples=a.resamples, seed=a.seed, models=a.models)
    write_claims(result, a.out, a.json)
    plots = [a.plots / "fewshot.png", a.plots / "learning_curves.png"]
    plot_fewshot(result.fewshot, plots[0])
    plot_learning_curves([r for r in collect(a.runs) if not a.models or r["model"] in a.models], plots[1])
    for extra in a.extra_plots:  # the experiments' plots, copied beside ours for the report
        with atomic_path(a.plots / extra.name) as tmp:
            shutil.copyfile(extra, tmp)
        plots.append(a.plots / extra.name)
    if a.data_version:
        track(result, read_json(a.data_version)["data_hash"], [a.out, a.json, *plots])
    print(to_markdown(result))


@command
def cmd_show(a: argparse.Namespace) -> None:
    path = a.table if a.table else Path("results") / a.benchmark / "table.md"
    try:
        print(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SeminalError("no results table yet (run `snakemake` first)", path) from e


@command
def cmd_summary(a: argparse.Namespace) -> None:
    from seminal.runs import summary

    print(summary(a.run))


@command
def cmd_compare(a: argparse.Namespace) -> None:
    from seminal.runs import compare

    print(compare(a.run_a, a.run_b))


@command
def cmd_times(a: argparse.Namespace) -> None:
    from seminal.io import write_text
    from seminal.times import read_jobs, report

    folder = a.folder if a.folder else Path("logs") / a.benchmark / "benchmarks"
    text = report(read_jobs(folder), f"Job times from {folder} (Snakemake `benchmark:`; seconds summed over jobs)")
    print(text, end="")
    if a.out:
        write_text(a.out, text)


@command
def cmd_submission(a: argparse.Namespace) -> None:
    import zipfile

    from seminal.io import atomic_path

    files = sorted(a.runs.glob(f"*/seed{a.seed}/submission/*.tsv"))
    if not files:
        raise SeminalError(f"no submission files for seed {a.seed}", a.runs)
    with atomic_path(a.out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:  # fixed timestamps: same predictions, same bytes
            info = zipfile.ZipInfo(f.name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, f.read_bytes(), zipfile.ZIP_DEFLATED)


@command
def cmd_glue_submission(a: argparse.Namespace) -> None:
    from seminal.benchmark import load_benchmark
    from seminal.io import write_json
    from seminal.submission import submit

    record = submit(load_benchmark(a.benchmark), a.data, a.runs, a.models, a.tasks, a.seed, a.model, a.out)
    write_json(a.record, record)
    print(f"{a.out}: {record['model']} ({a.model}; mean dev score {record['mean_dev_score']:.4f}), "
          f"{', '.join(record['files'])}", file=sys.stderr)


@command
def cmd_bench(a: argparse.Namespace) -> None:
    from seminal.bench import bench

    bench(a.families, steps=a.steps, warmup=a.warmup, threads=a.threads, device=a.device, clock=a.clock, out=a.out,
          profile=a.profile, compile_models=a.compile, mlflow=a.mlflow, corpus=a.corpus)


@command
def cmd_translate(a: argparse.Namespace) -> None:
    from seminal.io import parse_mapping
    from seminal.seq2seq import make_spec, run, summarize

    if a.action == "summary":
        summary = summarize(a.runs, a.out, a.plot)
        for r in summary["runs"]:
            print(f"{r['model']} seed {r['seed']}: dev BLEU {r['bleu']:.2f}, {r['train_flops']:.3g} FLOPs, "
                  f"{r['train_seconds']:.1f} CPU-s, {r['tokens_per_second']:,.0f} tokens/s", file=sys.stderr)
        return
    raw = parse_mapping(a.spec, "--spec (arch, model_config, train, corpus)")
    run(make_spec({**raw, "name": a.model}), a.seeds, a.out, threads=a.threads)


@command
def cmd_longlag(a: argparse.Namespace) -> None:
    from seminal import longlag

    if a.action == "summary":
        summary = longlag.write_summary(a.runs, a.out, a.plot)
        for (exp, cell, T), (k, n) in sorted(longlag.success_rates(summary["runs"]).items()):
            print(f"{exp} T={T} {cell}: {k}/{n} trials successful", file=sys.stderr)
        return
    longlag.run(a.experiment, a.cell, a.T, a.seeds, longlag.load_config(a.config), a.out, threads=a.threads)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seminal", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    P = Path

    s = sub.add_parser("generate", help="generate the embedded benchmark (synglue)")
    s.add_argument("--out", type=P, required=True)
    for name, default in [("seed", 0), ("train-size", 5000), ("dev-size", 1000), ("test-size", 1000),
                          ("corpus-tokens", 5_000_000), ("max-distance", 14)]:
        s.add_argument(f"--{name}", type=int, default=default)

    s = sub.add_parser("tokenizer", help="train sentencepiece on a corpus")
    s.add_argument("--corpus", type=P, nargs="+", required=True)
    s.add_argument("--vocab-size", type=int, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--out", type=P, required=True, help="path of the .model file")

    s = sub.add_parser("encode", help="encode one task's splits into uint16 arrays")
    s.add_argument("--benchmark", type=P, required=True)
    s.add_argument("--data", type=P, required=True)
    s.add_argument("--spm", type=P, required=True)
    s.add_argument("--task", required=True)
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("encode-corpus", help="encode the pretraining corpus")
    s.add_argument("--corpus", type=P, required=True)
    s.add_argument("--spm", type=P, required=True)
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("word2vec", help="train skip-gram word2vec vectors on the encoded corpus")
    s.add_argument("--corpus-ids", type=P, required=True)
    s.add_argument("--spm", type=P, required=True)
    s.add_argument("--config", type=P, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--out", type=P, required=True, help="output folder: vectors.npy, metrics.json")

    s = sub.add_parser("pretrain", help="pretrain a language model (config/pretrain/<name>.yaml) on the corpus")
    for name in ["config", "corpus-ids", "spm", "data-version", "checkpoints"]:
        s.add_argument(f"--{name}", type=P, required=True)
    s.add_argument("--benchmark-name", required=True)
    s.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override the config")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--out", type=P, required=True, help="output folder: model.pt, metrics.json, curves.png")

    s = sub.add_parser("download-glue", help="download (or copy) and verify the real GLUE files")
    s.add_argument("--out", type=P, required=True, help="the GLUE data root to write (e.g. data/glue)")
    s.add_argument("--from", dest="source", type=P, help="copy from this folder in the GLUE layout instead")
    s.add_argument("--tasks", nargs="+", help="GLUE tasks (default: all; with --from, all those present)")
    s.add_argument("--base-url", help="download every file from this URL instead of the official locations")
    s.add_argument("--checksums", type=P, default=P("config/benchmarks/glue.sha256"))
    s.add_argument("--retries", type=int, default=3)
    s.add_argument("--timeout", type=float, default=60)

    s = sub.add_parser("gather-corpus", help="join plain-text files into one pretraining corpus "
                                             "(none: the benchmark's train text)")
    s.add_argument("files", type=P, nargs="*")
    s.add_argument("--out", type=P, required=True)
    s.add_argument("--benchmark", type=P, help="without files: the benchmark whose train splits give the text")
    s.add_argument("--data", type=P, help="without files: the benchmark's data folder")
    s.add_argument("--tasks", nargs="*", help="without files: the tasks with data (default: all)")

    s = sub.add_parser("cv-folds", help="write the k-fold cross-validation splits of the tasks with 'cv'")
    s.add_argument("--benchmark", type=P, required=True)
    s.add_argument("--data", type=P, required=True, help="the benchmark's data folder (writes cv/<Task>/ in it)")
    s.add_argument("--tasks", nargs="*", help="cross-validated tasks (default: all of them)")

    s = sub.add_parser("data-version", help="write the DVC hash of a data folder")
    s.add_argument("--data", type=P, required=True)
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("train", help="train and evaluate a model on tasks, one run per (task, seed)")
    for name in ["benchmark", "data", "encoded", "spm", "model-config", "parent", "data-version"]:
        s.add_argument(f"--{name}", type=P, required=True, help=PARENT_HELP if name == "parent" else None)
    s.add_argument("--out", type=P, required=True, help="the model's run folder: writes <Task>/seed<k>/ in it")
    s.add_argument("--checkpoints", type=P, required=True, help="the model's checkpoint folder: <Task>/seed<k>/")
    s.add_argument("--tasks", nargs="+", required=True)
    s.add_argument("--seeds", type=int, nargs="+", required=True)
    s.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override the model config")
    s.add_argument("--threads", type=int, default=1)

    s = sub.add_parser("icl", help="evaluate a pretrained GPT in context on tasks (0/1/few shots x seeds)")
    for name in ["benchmark", "data", "spm", "model-config", "parent", "data-version"]:
        s.add_argument(f"--{name}", type=P, required=True, help=PARENT_HELP if name == "parent" else None)
    s.add_argument("--out", type=P, required=True, help="the runs folder: writes <model>.<k>shot/<Task>/seed<s>/")
    s.add_argument("--tasks", nargs="+", required=True)
    s.add_argument("--seeds", type=int, nargs="+", required=True)
    s.add_argument("--shots", nargs="+", default=["0", "1", "few"], choices=["0", "1", "few"])
    s.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override the model config")
    s.add_argument("--threads", type=int, default=1)

    s = sub.add_parser("table", help="write the results table and plots from the runs' metrics")
    s.add_argument("--benchmark", type=P, required=True)
    s.add_argument("--runs", type=P, required=True)
    s.add_argument("--models", nargs="*", default=[])
    s.add_argument("--out", type=P, required=True, help="path prefix: writes .md, .csv, .tex")
    s.add_argument("--plots", type=P, required=True)
    s.add_argument("--data", type=P, help="the benchmark's data folder: bootstrap intervals, degenerate runs")
    s.add_argument("--ci-out", type=P, help="write the table with 95%% intervals here (table_ci.md)")
    s.add_argument("--cost-out", type=P, help="write parameters, tokens, FLOPs, CPU seconds here (cost.csv)")
    s.add_argument("--pretrain", type=P, nargs="*", default=[], help="pretraining artifacts: their cost rows")
    s.add_argument("--paper-out", type=P, help="write our scores beside the papers' (paper.md) here")
    s.add_argument("--papers", type=P, default=P("papers"), help="the papers/ folder (reported.yaml files)")
    s.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    s.add_argument("--seed", type=int, default=0, help="bootstrap seed")

    s = sub.add_parser("claims", help="test the papers' claims on the runs: claims.md, claims.json, plots")
    s.add_argument("--benchmark", type=P, required=True)
    s.add_argument("--runs", type=P, required=True)
    s.add_argument("--data", type=P, required=True, help="the benchmark's data folder (dev gold labels)")
    s.add_argument("--models", nargs="*", default=[], help="only these table rows (default: every run)")
    s.add_argument("--out", type=P, required=True, help="claims.md")
    s.add_argument("--json", type=P, required=True, help="claims.json")
    s.add_argument("--plots", type=P, required=True, help="folder: fewshot.png, learning_curves.png")
    s.add_argument("--longlag", type=P, help="results/experiments/longlag/summary.json (absent: 'not run')")
    s.add_argument("--translation", type=P, help="results/experiments/translation/summary.json")
    s.add_argument("--extra-plots", type=P, nargs="*", default=[], help="plots to copy into --plots")
    s.add_argument("--data-version", type=P, help="data_version.json: log a 'claims' MLflow run")
    s.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    s.add_argument("--seed", type=int, default=0, help="bootstrap seed")

    s = sub.add_parser("show", help="print the results table")
    s.add_argument("--benchmark", default="synglue", help="reads results/<benchmark>/table.md")
    s.add_argument("--table", type=P, help="or this table file")

    s = sub.add_parser("summary", help="summarise one run: scores, distance buckets, cost, provenance")
    s.add_argument("run", type=P, help="results/<benchmark>/runs/<model>/<Task>/seed<k> or .../pretrain/<name>")

    s = sub.add_parser("compare", help="compare the scores of two runs")
    s.add_argument("run_a", type=P)
    s.add_argument("run_b", type=P)

    s = sub.add_parser("times", help="job times per rule and per model, from Snakemake's benchmark files")
    s.add_argument("folder", type=P, nargs="?", help="benchmark folder (default: logs/<benchmark>/benchmarks)")
    s.add_argument("--benchmark", default="synglue")
    s.add_argument("--out", type=P, help="also write the tables (markdown) here")

    s = sub.add_parser("submission", help="zip a model's GLUE submission files")
    s.add_argument("--runs", type=P, required=True, help="results/<benchmark>/runs/<model>")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("glue-submission", help="the leaderboard zip: one model's test predictions, every task run")
    for name in ["benchmark", "data", "runs", "out"]:
        s.add_argument(f"--{name}", type=P, required=True)
    s.add_argument("--record", type=P, required=True, help="JSON: the model chosen, its dev scores, the files")
    s.add_argument("--models", nargs="+", required=True, help="the candidates (trained models)")
    s.add_argument("--tasks", nargs="+", required=True, help="the tasks that ran")
    s.add_argument("--model", default="best", help="a model name, or 'best' (highest mean dev score)")
    s.add_argument("--seed", type=int, default=0)

    families = ["bert", "gpt", "transformer", "lstm", "kim_cnn"]  # seminal.bench.FAMILIES (not imported: torch)
    s = sub.add_parser("bench", help="training speed (tokens/s, MFU, memory) of each model family vs a reference")
    s.add_argument("--families", nargs="*", choices=families, default=families, help="(none: only --profile, --mlflow)")
    s.add_argument("--steps", type=int, default=6, help="timed rounds (one step of each implementation)")
    s.add_argument("--warmup", type=int, default=2, help="untimed steps first (the memory is measured there)")
    s.add_argument("--threads", type=int, default=1, help="torch threads")
    s.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (cuda: bf16 autocast, TF32)")
    s.add_argument("--clock", choices=["cpu", "wall"], help="default: cpu (process time) with 1 thread, else wall")
    s.add_argument("--profile", nargs="*", default=[], choices=families, help="print torch.profiler's top ops")
    s.add_argument("--compile", action="store_true", help="torch.compile both implementations")
    s.add_argument("--mlflow", action="store_true", help="measure MLflow logging's share of a pretraining step")
    s.add_argument("--corpus", type=P, help="an encoded corpus ids.npy (default: a synthetic one)")
    s.add_argument("--out", type=P, help="write the figures as JSON here")

    s = sub.add_parser("translate", help="synthetic translation (Vaswani 2017's task): train a model, or summarise runs")
    act = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    t = act.add_parser("run", help="train and evaluate one model, one run per seed (out/seed<s>/)")
    t.add_argument("--model", required=True, help="the run's name (e.g. transformer, lstm_attention)")
    t.add_argument("--spec", required=True, help="YAML/JSON mapping: arch, model_config, train, corpus")
    t.add_argument("--seeds", type=int, nargs="+", required=True)
    t.add_argument("--out", type=P, required=True, help="the model's folder: writes seed<s>/ in it")
    t.add_argument("--threads", type=int, default=1)
    _add_summary(act, "summary.json and the BLEU-vs-cost plot of finished runs", "run folders (<model>/seed<s>)",
                 "PNG to write (dev BLEU vs FLOPs and CPU seconds)")

    s = sub.add_parser("longlag", help="Hochreiter & Schmidhuber 1997's long-lag experiments: run trials, or summarise")
    act = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    t = act.add_parser("run", help="every (T, seed) trial of one (experiment, cell): out/T<T>/seed<s>/")
    t.add_argument("--experiment", required=True, choices=["adding", "reber", "temporal_order"])
    t.add_argument("--cell", required=True, choices=["lstm1997", "lstm", "gru", "rnn"])
    t.add_argument("--T", type=int, nargs="+", required=True, help="sequence lengths (reber: minimal string length)")
    t.add_argument("--seeds", type=int, nargs="+", required=True)
    t.add_argument("--config", help="YAML/JSON mapping of seminal.longlag.LongLagConfig fields")
    t.add_argument("--out", type=P, required=True, help="the (experiment, cell) folder")
    t.add_argument("--threads", type=int, default=1)
    _add_summary(act, "summary.json and the success-rate-vs-T plot of finished jobs",
                 "job folders (<experiment>/<cell>)", "PNG to write")
    return p


def _add_summary(actions: Any, about: str, runs: str, plot: str) -> None:
    """An experiment's `summary` action: its finished folders -> summary.json and a plot."""
    t = actions.add_parser("summary", help=about)
    t.add_argument("--runs", type=Path, nargs="+", required=True, help=runs)
    t.add_argument("--out", type=Path, required=True, help="summary.json to write")
    t.add_argument("--plot", type=Path, required=True, help=plot)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except SeminalError as e:
        print(f"seminal {args.command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a permission, a vanished file: one line, not a traceback
        where = f"{e.filename}: " if e.filename else ""
        print(f"seminal {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
