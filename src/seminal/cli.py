"""seminal: scaled-down replications of six seminal language-model papers on GLUE-style tasks.

Each subcommand is a thin wrapper over one library function; the Snakemake rules call these,
and users can too. Errors are printed as one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from seminal.errors import SeminalError

COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {}


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
    from seminal.tokenize import gather_corpus

    n = gather_corpus(a.files, a.out)
    print(f"{n:,} lines from {len(a.files)} file(s) -> {a.out}", file=sys.stderr)


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
def cmd_start_parent(a: argparse.Namespace) -> None:
    from seminal.benchmark import load_benchmark
    from seminal.experiment import load_model_config
    from seminal.io import write_json
    from seminal.tracking import start_parent

    spec = load_benchmark(a.benchmark)
    mc = load_model_config(a.model_config)
    run_id = start_parent(spec.name, a.model, params=mc, tags={"benchmark": spec.name, "model": a.model})
    write_json(a.out, {"run_id": run_id, "benchmark": spec.name, "model": a.model})


@command
def cmd_train(a: argparse.Namespace) -> None:
    from seminal.experiment import run

    for seed in a.seeds:  # one process for all seeds: imports and start-up are paid once
        run(a.benchmark, a.data, a.encoded, a.spm, a.model_config, a.task, seed, a.out / f"seed{seed}",
            a.checkpoints / f"seed{seed}", a.parent, a.data_version, overrides=a.set or [], threads=a.threads)


@command
def cmd_icl(a: argparse.Namespace) -> None:
    from seminal.experiment import icl_run

    icl_run(a.benchmark, a.data, a.spm, a.model_config, a.task, a.seeds, a.out, a.parent, a.data_version,
            overrides=a.set or [], shots=tuple(a.shots), threads=a.threads)


@command
def cmd_table(a: argparse.Namespace) -> None:
    from seminal.benchmark import load_benchmark
    from seminal.report import build_table, collect, plot_by_distance, write_table

    spec = load_benchmark(a.benchmark)
    records = [r for r in collect(a.runs) if not a.models or r["model"] in a.models]
    if not records:
        raise SeminalError("no metrics.json found", a.runs)
    write_table(build_table(records, spec), a.out)
    plot_by_distance(records, a.plots / "by_distance.png")
    print(a.out.with_suffix(".md").read_text(encoding="utf-8"))


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

    s = sub.add_parser("gather-corpus", help="join plain-text files into one pretraining corpus")
    s.add_argument("files", type=P, nargs="+")
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("data-version", help="write the DVC hash of a data folder")
    s.add_argument("--data", type=P, required=True)
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("start-parent", help="create a model's parent MLflow run")
    s.add_argument("--benchmark", type=P, required=True)
    s.add_argument("--model", required=True)
    s.add_argument("--model-config", type=P, required=True)
    s.add_argument("--out", type=P, required=True)

    s = sub.add_parser("train", help="train and evaluate one (model, task), one run per seed")
    for name in ["benchmark", "data", "encoded", "spm", "model-config", "parent", "data-version"]:
        s.add_argument(f"--{name}", type=P, required=True)
    s.add_argument("--out", type=P, required=True, help="the task's run folder: writes seed<k>/ in it")
    s.add_argument("--checkpoints", type=P, required=True, help="the task's checkpoint folder: seed<k>/ in it")
    s.add_argument("--task", required=True)
    s.add_argument("--seeds", type=int, nargs="+", required=True)
    s.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override the model config")
    s.add_argument("--threads", type=int, default=1)

    s = sub.add_parser("icl", help="evaluate a pretrained GPT in context on one task (0/1/few shots x seeds)")
    for name in ["benchmark", "data", "spm", "model-config", "parent", "data-version"]:
        s.add_argument(f"--{name}", type=P, required=True)
    s.add_argument("--out", type=P, required=True, help="the runs folder: writes <model>.<k>shot/<Task>/seed<s>/")
    s.add_argument("--task", required=True)
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

    s = sub.add_parser("show", help="print the results table")
    s.add_argument("--benchmark", default="synglue", help="reads results/<benchmark>/table.md")
    s.add_argument("--table", type=P, help="or this table file")

    s = sub.add_parser("summary", help="summarise one run: scores, distance buckets, cost, provenance")
    s.add_argument("run", type=P, help="results/<benchmark>/runs/<model>/<Task>/seed<k> or .../pretrain/<name>")

    s = sub.add_parser("compare", help="compare the scores of two runs")
    s.add_argument("run_a", type=P)
    s.add_argument("run_b", type=P)

    s = sub.add_parser("submission", help="zip a model's GLUE submission files")
    s.add_argument("--runs", type=P, required=True, help="results/<benchmark>/runs/<model>")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", type=P, required=True)
    return p


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
