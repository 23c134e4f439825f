# One job per (model, task), training its seeds one after the other in one process (start-up,
# ~5 s of imports, is paid once per job); each seed writes only its own run folder. MLflow: one
# parent run per model, created by its own job first so that concurrent children never race to
# create it.


rule start_parent_run:
    input:
        model_config=model_config,
        benchmark=BENCHMARK_FILE,
    output:
        f"{RESULTS}/runs/{{model}}/parent_run.json",
    log:
        f"{LOGS}/parent/{{model}}.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal start-parent --benchmark {input.benchmark} --model {wildcards.model}"
        " --model-config {input.model_config} --out {output} 2> {log}"


rule train:
    wildcard_constraints:
        model="|".join(TRAINED_MODELS) or "^$",
    input:
        encoded=encoded_dirs,
        benchmark=BENCHMARK_FILE,
        spm=f"{DATA}/tokenizer/spm.model",
        model_config=model_config,
        pretrained=lambda wildcards: list(pretrained_inputs(wildcards.model).values()),
        parent=f"{RESULTS}/runs/{{model}}/parent_run.json",
        data_version=f"{RESULTS}/data_version.json",
    output:
        metrics=expand(f"{RESULTS}/runs/{{model}}/{{task}}/seed{{seed}}/metrics.json", seed=SEEDS, allow_missing=True),
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
        overrides=lambda wildcards: overrides(wildcards.model),
        run_dir=lambda wildcards: f"{RESULTS}/runs/{wildcards.model}/{wildcards.task}",
        checkpoints=lambda wildcards: f"{RESULTS}/checkpoints/{wildcards.model}/{wildcards.task}",
        seeds=" ".join(map(str, SEEDS)),
    threads: 1
    log:
        f"{LOGS}/train/{{model}}/{{task}}.log",
    benchmark:
        f"{LOGS}/benchmarks/train/{{model}}/{{task}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal train --benchmark {input.benchmark} --data {params.data} --encoded {params.data}/encoded --spm {input.spm}"
        " --model-config {input.model_config} {params.overrides} --task {wildcards.task}"
        " --seeds {params.seeds} --parent {input.parent} --data-version {input.data_version}"
        " --out {params.run_dir} --checkpoints {params.checkpoints} --threads {threads} 2> {log}"


rule icl:
    """A pretrained GPT evaluated in context on one task: zero-, one- and few-shot x seeds, no training."""
    wildcard_constraints:
        model="|".join(ICL_MODELS) or "^$",
    input:
        data=benchmark_files(),
        benchmark=BENCHMARK_FILE,
        spm=f"{DATA}/tokenizer/spm.model",
        model_config=model_config,
        pretrained=lambda wildcards: list(pretrained_inputs(wildcards.model).values()),
        parent=f"{RESULTS}/runs/{{model}}/parent_run.json",
        data_version=f"{RESULTS}/data_version.json",
    output:
        metrics=expand(
            f"{RESULTS}/runs/{{model}}.{{shots}}shot/{{task}}/seed{{seed}}/metrics.json",
            shots=SHOTS,
            seed=SEEDS,
            allow_missing=True,
        ),
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
        overrides=lambda wildcards: overrides(wildcards.model),
        runs=lambda wildcards, output: Path(output.metrics[0]).parents[3],
        seeds=" ".join(map(str, SEEDS)),
        shots=" ".join(SHOTS),
    threads: 1
    log:
        f"{LOGS}/icl/{{model}}/{{task}}.log",
    benchmark:
        f"{LOGS}/benchmarks/icl/{{model}}/{{task}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal icl --benchmark {input.benchmark} --data {params.data} --spm {input.spm}"
        " --model-config {input.model_config} {params.overrides} --task {wildcards.task} --seeds {params.seeds}"
        " --shots {params.shots} --parent {input.parent} --data-version {input.data_version}"
        " --out {params.runs} 2> {log}"
