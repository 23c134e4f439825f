# Paths and the run matrix, each built in exactly one place.
from pathlib import Path

import sys

from seminal.benchmark import load_benchmark
from seminal.download import available_tasks
from seminal.errors import SeminalError
from seminal.io import read_yaml


def _benchmark_path(name):
    path = Path(name) if name.endswith((".yaml", ".yml")) else Path("config/benchmarks") / f"{name}.yaml"
    if not path.is_file():
        raise WorkflowError(f"{path}: benchmark file not found (config 'benchmark: {name}')")
    return path


BENCHMARK_FILE = str(_benchmark_path(config["benchmark"]))
try:
    SPEC = load_benchmark(BENCHMARK_FILE)
except SeminalError as e:
    raise WorkflowError(str(e))
BENCH = SPEC.name
DATA = f"data/{BENCH}"
RESULTS = f"results/{BENCH}"
LOGS = f"logs/{BENCH}"

MODELS = list(config["models"])
for _m in MODELS:
    if not Path(f"config/models/{_m}.yaml").is_file():
        raise WorkflowError(f"config/config.yaml: unknown model {_m!r} (no config/models/{_m}.yaml)")
try:
    MODEL_FILES = {m: read_yaml(f"config/models/{m}.yaml") for m in MODELS}
except SeminalError as e:
    raise WorkflowError(str(e))
GLUE_CHECKSUMS = "config/benchmarks/glue.sha256"


def _data_tasks():
    """The benchmark's tasks that have data: all, except real GLUE read from a folder (glue_dir)
    that lacks some (reported, then left out: the table shows them as not run)."""
    glue_dir = config.get("glue_dir")
    if BENCH != "glue" or not glue_dir:
        return list(SPEC.tasks)
    if not Path(glue_dir).is_dir():
        raise WorkflowError(f"{glue_dir}: GLUE folder not found (config 'glue_dir')")
    try:
        missing = available_tasks(glue_dir, GLUE_CHECKSUMS)
    except SeminalError as e:
        raise WorkflowError(str(e))
    for task, files in missing.items():
        if files and task in SPEC.tasks:
            print(f"GLUE task {task} not in {glue_dir} (missing {', '.join(files)}): not run", file=sys.stderr)
    return [t for t in SPEC.tasks if t in missing and not missing[t]]


DATA_TASKS = _data_tasks()
_trainable = [t for t in SPEC.trainable_tasks if t in DATA_TASKS]
TASKS = _trainable if config["tasks"] == "all" else list(config["tasks"])
for _t in TASKS:
    if _t not in _trainable:
        raise WorkflowError(
            f"config/config.yaml: unknown task {_t!r} for benchmark {BENCH} "
            f"(known: {', '.join(_trainable)})"
        )
SEEDS = list(range(config["seeds"]))
CORPUS_FILES = list(config.get("corpus") or [])
if BENCH != "synglue" and not CORPUS_FILES:
    raise WorkflowError(f"benchmark {BENCH} needs pretraining text: --config corpus=FILE [FILE ...]")

# Pretrainings and the file of theirs that a model reads (`pretrained: {name: field}` in its yaml):
# word2vec's vectors, or the checkpoint of config/pretrain/<name>.yaml (rule pretrain).
PRETRAINED = {"word2vec": "vectors.npy"} | {
    p.stem: "model.pt" for p in sorted(Path("config/pretrain").glob("*.yaml")) if p.stem != "word2vec"
}


wildcard_constraints:
    model="[A-Za-z0-9_.-]+",
    task="[A-Za-z0-9_.-]+",
    seed=r"\d+",


def benchmark_files():
    """Every file the benchmark spec names (task splits and their distance annotations)."""
    files = set()
    for task in (SPEC.tasks[t] for t in DATA_TASKS):
        for split in task.splits.values():
            files.add(f"{DATA}/{split.file}")
            if split.meta:
                files.add(f"{DATA}/{split.meta}")
    return sorted(files)


def companion_tasks(task):
    """Tasks predicted by the model trained on `task` (AX is predicted by the MNLI model)."""
    return [t for t, s in SPEC.tasks.items() if s.predict_with == task and t in DATA_TASKS]


def encoded_dirs(wildcards):
    return [f"{DATA}/encoded/{t}" for t in [wildcards.task, *companion_tasks(wildcards.task)]]


def model_config(wildcards):
    return f"config/models/{wildcards.model}.yaml"


def pretrained_inputs(model):
    """{model_config field: artifact path} of the pretraining rules a model reads."""
    wanted = MODEL_FILES[model].get("pretrained") or {}
    for name in wanted:
        if name not in PRETRAINED:
            raise WorkflowError(f"config/models/{model}.yaml: unknown pretraining {name!r} (known: {list(PRETRAINED)})")
    return {field: f"{RESULTS}/pretrain/{name}/{PRETRAINED[name]}" for name, field in wanted.items()}


def pretrain_overrides(name):
    return " ".join(f"--set {k}={v}" for k, v in sorted(config["pretrain_overrides"].get(name, {}).items()))


def overrides(model):
    """`--set key=value` arguments: the pretrained artifacts, then config['model_overrides'][model]."""
    items = {f"model_config.{k}": v for k, v in pretrained_inputs(model).items()}
    items.update(config["model_overrides"].get(model, {}))
    return " ".join(f"--set {k}={v}" for k, v in sorted(items.items()))


def model_tasks(model):
    """The tasks a model runs: all of TASKS, or only single-sentence ones (`task_kind: single`)."""
    kind = MODEL_FILES[model].get("task_kind")
    return [t for t in TASKS if kind is None or SPEC.tasks[t].kind == kind]


# Models evaluated in context (Brown et al. 2020), no training: one table row per shot setting.
SHOTS = ["0", "1", "few"]
ICL_MODELS = [m for m in MODELS if MODEL_FILES[m].get("model") == "gpt"]
TRAINED_MODELS = [m for m in MODELS if m not in ICL_MODELS]


def model_rows(model):
    """The table rows (run folders) of a model: itself, or <model>.<k>shot for each shot setting."""
    return [f"{model}.{k}shot" for k in SHOTS] if model in ICL_MODELS else [model]


def run_dir(model, task, seed):
    return f"{RESULTS}/runs/{model}/{task}/seed{seed}"


def run_metrics(model=None):
    models = MODELS if model is None else [model]
    return [f"{run_dir(r, t, s)}/metrics.json" for m in models for r in model_rows(m) for t in model_tasks(m)
            for s in SEEDS]


def table_rows():
    return [r for m in MODELS for r in model_rows(m)]


def table_files():
    return expand(f"{RESULTS}/table.{{ext}}", ext=["md", "csv", "tex"]) + [f"{RESULTS}/plots/by_distance.png"]


def submission_files():
    """Trained models only: the in-context rows predict a dev subset, not the test sets."""
    return expand(f"{RESULTS}/submission/{{model}}.zip", model=TRAINED_MODELS)
