# Paths and the run matrix, each built in exactly one place.
from pathlib import Path

from seminal.benchmark import load_benchmark
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
TASKS = SPEC.trainable_tasks if config["tasks"] == "all" else list(config["tasks"])
for _t in TASKS:
    if _t not in SPEC.trainable_tasks:
        raise WorkflowError(
            f"config/config.yaml: unknown task {_t!r} for benchmark {BENCH} "
            f"(known: {', '.join(SPEC.trainable_tasks)})"
        )
SEEDS = list(range(config["seeds"]))

# Pretraining rules and the file of theirs that a model reads (`pretrained: {rule: field}` in its yaml).
PRETRAINED = {"word2vec": "vectors.npy"}


wildcard_constraints:
    model="[A-Za-z0-9_.-]+",
    task="[A-Za-z0-9_.-]+",
    seed=r"\d+",


def benchmark_files():
    """Every file the benchmark spec names (task splits and their distance annotations)."""
    files = set()
    for task in SPEC.tasks.values():
        for split in task.splits.values():
            files.add(f"{DATA}/{split.file}")
            if split.meta:
                files.add(f"{DATA}/{split.meta}")
    return sorted(files)


def companion_tasks(task):
    """Tasks predicted by the model trained on `task` (AX is predicted by the MNLI model)."""
    return [t for t, s in SPEC.tasks.items() if s.predict_with == task]


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


def overrides(model):
    """`--set key=value` arguments: the pretrained artifacts, then config['model_overrides'][model]."""
    items = {f"model_config.{k}": v for k, v in pretrained_inputs(model).items()}
    items.update(config["model_overrides"].get(model, {}))
    return " ".join(f"--set {k}={v}" for k, v in sorted(items.items()))


def model_tasks(model):
    """The tasks a model runs: all of TASKS, or only single-sentence ones (`task_kind: single`)."""
    kind = MODEL_FILES[model].get("task_kind")
    return [t for t in TASKS if kind is None or SPEC.tasks[t].kind == kind]


def run_dir(model, task, seed):
    return f"{RESULTS}/runs/{model}/{task}/seed{seed}"


def run_metrics(model=None):
    models = MODELS if model is None else [model]
    return [f"{run_dir(m, t, s)}/metrics.json" for m in models for t in model_tasks(m) for s in SEEDS]


def table_files():
    return expand(f"{RESULTS}/table.{{ext}}", ext=["md", "csv", "tex"]) + [f"{RESULTS}/plots/by_distance.png"]


def submission_files():
    return expand(f"{RESULTS}/submission/{{model}}.zip", model=MODELS)
