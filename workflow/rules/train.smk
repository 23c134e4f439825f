# One job per (model, task, seed); each writes only its own run folder. MLflow: one parent run per
# model, created by its own job first so that concurrent children never race to create it.


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
    input:
        encoded=encoded_dirs,
        benchmark=BENCHMARK_FILE,
        spm=f"{DATA}/tokenizer/spm.model",
        model_config=model_config,
        pretrained=lambda wildcards: list(pretrained_inputs(wildcards.model).values()),
        parent=f"{RESULTS}/runs/{{model}}/parent_run.json",
        data_version=f"{RESULTS}/data_version.json",
    output:
        metrics=f"{RESULTS}/runs/{{model}}/{{task}}/seed{{seed}}/metrics.json",
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
        overrides=lambda wildcards: overrides(wildcards.model),
        run_dir=lambda wildcards: run_dir(wildcards.model, wildcards.task, wildcards.seed),
        checkpoints=lambda wildcards: f"{RESULTS}/checkpoints/{wildcards.model}/{wildcards.task}/seed{wildcards.seed}",
    threads: 1
    log:
        f"{LOGS}/train/{{model}}/{{task}}/seed{{seed}}.log",
    benchmark:
        f"{LOGS}/benchmarks/train/{{model}}/{{task}}/seed{{seed}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal train --benchmark {input.benchmark} --data {params.data} --encoded {params.data}/encoded --spm {input.spm}"
        " --model-config {input.model_config} {params.overrides} --task {wildcards.task}"
        " --seed {wildcards.seed} --parent {input.parent} --data-version {input.data_version}"
        " --out {params.run_dir} --checkpoints {params.checkpoints} --threads {threads} 2> {log}"
