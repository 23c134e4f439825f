# Synthetic translation (Vaswani et al. 2017's own task at CPU scale; issue 6, claims 2 and 8):
# English from the synglue grammar -> Sovian (src/seminal/translation.py). Benchmark-independent:
# results/experiments/translation/<model>/seed<s>/, then summary.json and the BLEU-vs-cost plot.
# One job per model trains all its seeds in one process (start-up and corpus paid once); the job
# creates the model's MLflow parent run itself before its children (no race: one job per model).
# Models, seeds and specs: TRANSLATION_* and translation_spec() in common.smk.


rule translation:
    """Train and evaluate one translation model (all seeds): BLEU, FLOPs, CPU seconds, curves."""
    wildcard_constraints:
        model="|".join(TRANSLATION_MODELS) or "^$",
    output:
        metrics=expand(f"{TRANSLATION_DIR}/{{model}}/seed{{seed}}/metrics.json", seed=TRANSLATION_SEEDS, allow_missing=True),
        cost=expand(f"{TRANSLATION_DIR}/{{model}}/seed{{seed}}/cost.json", seed=TRANSLATION_SEEDS, allow_missing=True),
        hypotheses=expand(
            f"{TRANSLATION_DIR}/{{model}}/seed{{seed}}/hypotheses.dev.txt", seed=TRANSLATION_SEEDS, allow_missing=True
        ),
        references=expand(
            f"{TRANSLATION_DIR}/{{model}}/seed{{seed}}/references.dev.txt", seed=TRANSLATION_SEEDS, allow_missing=True
        ),
    params:
        spec=lambda wildcards: translation_spec(wildcards.model),
        seeds=" ".join(map(str, TRANSLATION_SEEDS)),
        out=lambda wildcards: f"{TRANSLATION_DIR}/{wildcards.model}",
    threads: 1
    log:
        "logs/experiments/translation/{model}.log",
    benchmark:
        "logs/experiments/benchmarks/translation/{model}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal translate run --model {wildcards.model} --spec {params.spec:q} --seeds {params.seeds}"
        " --out {params.out} --threads {threads} 2> {log}"


rule translation_summary:
    """Every run's BLEU, cost and curve in one file (issue 6's contract) and the BLEU-vs-cost plot."""
    input:
        metrics=translation_run_files(["metrics.json"]),
        cost=translation_run_files(["cost.json"]),
    output:
        summary=f"{TRANSLATION_DIR}/summary.json",
        plot=report(
            f"{EXPERIMENTS}/plots/bleu_vs_flops.png", caption="../report/translation.rst", category="Experiments"
        ),
    params:
        runs=lambda wildcards, input: " ".join(str(Path(f).parent) for f in input.metrics),
    threads: 1
    log:
        "logs/experiments/translation/summary.log",
    benchmark:
        "logs/experiments/benchmarks/translation/summary.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal translate summary --runs {params.runs} --out {output.summary} --plot {output.plot} 2> {log}"
