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
        return [t for t, s in SPEC.tasks.items() if s.cv is None]  # a cross-validated task runs as its folds
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
TASKS = [f for t in TASKS for f in (SPEC.folds(t) if t in SPEC.tasks else [t])]  # MR -> MR.fold1 .. MR.fold<k>
for _t in TASKS:
    if _t not in _trainable:
        raise WorkflowError(
            f"config/config.yaml: unknown task {_t!r} for benchmark {BENCH} "
            f"(known: {', '.join(_trainable)})"
        )
SEEDS = list(range(config["seeds"]))
_corpus = config.get("corpus") or []
CORPUS_FILES = [_corpus] if isinstance(_corpus, str) else list(_corpus)  # corpus=FILE or corpus='[F1,F2]'

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
            files.update(f"{DATA}/{path}" for path in split.paths)  # one file, or one per class
            if split.meta:
                files.add(f"{DATA}/{split.meta}")
    return sorted(files)


def companion_tasks(task):
    """Tasks predicted by the model trained on `task` (AX is predicted by the MNLI model)."""
    return [t for t, s in SPEC.tasks.items() if s.predict_with == task and t in DATA_TASKS]


def encoded_dirs(wildcards):
    """The encoded splits a model's training job reads: its tasks' and their companions' (AX)."""
    return [f"{DATA}/encoded/{c}" for t in model_tasks(wildcards.model) for c in [t, *companion_tasks(t)]]


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
# The training jobs' outputs are fixed patterns, so the models that run on single-sentence tasks
# only (rule train_single_sentence) are told apart from those that run on every task (rule train).
SINGLE_SENTENCE_MODELS = [m for m in TRAINED_MODELS if MODEL_FILES[m].get("task_kind") == "single"]
ALL_TASK_MODELS = [m for m in TRAINED_MODELS if m not in SINGLE_SENTENCE_MODELS]
SINGLE_SENTENCE_TASKS = [t for t in TASKS if SPEC.tasks[t].kind == "single"]
for _m in MODELS:
    _kind = MODEL_FILES[_m].get("task_kind")
    if _kind not in (None, "single") or (_m in ICL_MODELS and _kind):
        raise WorkflowError(f"config/models/{_m}.yaml: task_kind must be 'single' or absent (in-context models: absent)")


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
    return (expand(f"{RESULTS}/table.{{ext}}", ext=["md", "csv", "tex"]) + [f"{RESULTS}/plots/by_distance.png"]
            + [f"{RESULTS}/table_ci.md", f"{RESULTS}/cost.csv", f"{RESULTS}/paper.md"] + claims_files())


# The benchmark-independent experiments (issue 6), read by rule claims only when enabled in config.
EXPERIMENTS = "results/experiments"


def _enabled(name):
    return bool((config.get(name) or {}).get("enabled", False))


def experiment_summaries():
    """{name: summary.json} of the enabled experiments (rules longlag_summary, translation_summary)."""
    return {n: f"{EXPERIMENTS}/{n}/summary.json" for n in ("longlag", "translation") if _enabled(n)}


def experiment_plots():
    plots = {"longlag": "longlag.png", "translation": "bleu_vs_flops.png"}
    return [f"{EXPERIMENTS}/plots/{plots[n]}" for n in experiment_summaries()]


def experiment_files():
    """Default targets: the enabled experiments' summaries and plots (rules longlag_summary, translation_summary)."""
    return list(experiment_summaries().values()) + experiment_plots()


# Synthetic translation (workflow/rules/translation.smk, config `translation:`): models, seeds, specs.
TRANSLATION = config.get("translation") or {}
TRANSLATION_DIR = f"{EXPERIMENTS}/translation"
TRANSLATION_MODELS = list(TRANSLATION.get("models") or []) if _enabled("translation") else []
TRANSLATION_SEEDS = list(range(TRANSLATION.get("seeds", 3)))
for _m in TRANSLATION_MODELS:
    if _m not in (TRANSLATION.get("specs") or {}):
        raise WorkflowError(f"config translation.models: {_m!r} has no entry in translation.specs")


def translation_spec(model):
    """The model's spec (arch, model_config, train) and the shared corpus, as one JSON argument."""
    import json

    return json.dumps({**TRANSLATION["specs"][model], "corpus": TRANSLATION.get("corpus") or {}}, sort_keys=True)


def translation_run_files(names, models=None):
    """<dir>/<model>/seed<s>/<name> for every model (default: all to run), seed and name."""
    return [f"{TRANSLATION_DIR}/{m}/seed{s}/{n}" for m in (models or TRANSLATION_MODELS) for s in TRANSLATION_SEEDS
            for n in names]


def pretrain_artifacts():
    """The pretraining artifacts the models read (their folders hold metrics.json and cost.json)."""
    return sorted({p for m in MODELS for p in pretrained_inputs(m).values()})


def claims_files():
    return [f"{RESULTS}/claims.md", f"{RESULTS}/claims.json", f"{RESULTS}/plots/fewshot.png",
            f"{RESULTS}/plots/learning_curves.png"] + [f"{RESULTS}/plots/{Path(p).name}" for p in experiment_plots()]


def submission_files():
    """Trained models only: the in-context rows predict a dev subset, not the test sets."""
    if not any(SPEC.tasks[t].submission for t in TASKS):
        return []  # nothing to submit (a user's benchmark without test files, cross-validated tasks)
    leaderboard = [f"{RESULTS}/glue_submission.zip"] if BENCH == "glue" and TRAINED_MODELS else []  # download.smk
    return expand(f"{RESULTS}/submission/{{model}}.zip", model=TRAINED_MODELS) + leaderboard
