# One job per model: it trains the model on each of its tasks, the seeds one after the other, in one
# process (start-up, ~5 s of imports, is paid once per model, not once per run); each (task, seed)
# writes only its own run folder and checkpoint, so a rerun resumes or reloads finished runs. MLflow:
# one parent run per model, named in runs/<model>/parent_run.json (seminal.tracking.parent_run).


rule train:
    """Every (task, seed) run of a model that runs on all tasks: train, evaluate, track."""
    wildcard_constraints:
        model="|".join(ALL_TASK_MODELS) or "^$",
    input:
        encoded=encoded_dirs,
        benchmark=BENCHMARK_FILE,
        spm=f"{DATA}/tokenizer/spm.model",
        model_config=model_config,
        pretrained=lambda wildcards: list(pretrained_inputs(wildcards.model).values()),
        data_version=f"{RESULTS}/data_version.json",
    output:
        metrics=expand(f"{RESULTS}/runs/{{model}}/{{task}}/seed{{seed}}/metrics.json", task=TASKS, seed=SEEDS, allow_missing=True),
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
        overrides=lambda wildcards: overrides(wildcards.model),
        tasks=lambda wildcards: " ".join(model_tasks(wildcards.model)),
        run_dir=lambda wildcards: f"{RESULTS}/runs/{wildcards.model}",
        checkpoints=lambda wildcards: f"{RESULTS}/checkpoints/{wildcards.model}",
        seeds=" ".join(map(str, SEEDS)),
        parent=lambda wildcards: f"{RESULTS}/runs/{wildcards.model}/parent_run.json",
    threads: 1
    log:
        f"{LOGS}/train/{{model}}.log",
    benchmark:
        f"{LOGS}/benchmarks/train/{{model}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal train --benchmark {input.benchmark} --data {params.data} --encoded {params.data}/encoded --spm {input.spm}"
        " --model-config {input.model_config} {params.overrides} --tasks {params.tasks}"
        " --seeds {params.seeds} --parent {params.parent} --data-version {input.data_version}"
        " --out {params.run_dir} --checkpoints {params.checkpoints} --threads {threads} 2> {log}"


if SINGLE_SENTENCE_MODELS and SINGLE_SENTENCE_TASKS:

    use rule train as train_single_sentence with:
        wildcard_constraints:
            model="|".join(SINGLE_SENTENCE_MODELS),
        output:
            metrics=expand(
                f"{RESULTS}/runs/{{model}}/{{task}}/seed{{seed}}/metrics.json", task=SINGLE_SENTENCE_TASKS, seed=SEEDS,
                allow_missing=True,
            ),


rule icl:
    """A pretrained GPT evaluated in context on every task: zero-, one- and few-shot x seeds, no training."""
    wildcard_constraints:
        model="|".join(ICL_MODELS) or "^$",
    input:
        data=benchmark_files(),
        benchmark=BENCHMARK_FILE,
        spm=f"{DATA}/tokenizer/spm.model",
        model_config=model_config,
        pretrained=lambda wildcards: list(pretrained_inputs(wildcards.model).values()),
        data_version=f"{RESULTS}/data_version.json",
    output:
        metrics=expand(
            f"{RESULTS}/runs/{{model}}.{{shots}}shot/{{task}}/seed{{seed}}/metrics.json",
            shots=SHOTS,
            task=TASKS,
            seed=SEEDS,
            allow_missing=True,
        ),
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
        overrides=lambda wildcards: overrides(wildcards.model),
        tasks=" ".join(TASKS),
        runs=lambda wildcards, output: Path(output.metrics[0]).parents[3],
        seeds=" ".join(map(str, SEEDS)),
        shots=" ".join(SHOTS),
        parent=lambda wildcards: f"{RESULTS}/runs/{wildcards.model}/parent_run.json",
    threads: 1
    log:
        f"{LOGS}/icl/{{model}}.log",
    benchmark:
        f"{LOGS}/benchmarks/icl/{{model}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal icl --benchmark {input.benchmark} --data {params.data} --spm {input.spm}"
        " --model-config {input.model_config} {params.overrides} --tasks {params.tasks} --seeds {params.seeds}"
        " --shots {params.shots} --parent {params.parent} --data-version {input.data_version}"
        " --out {params.runs} 2> {log}"
