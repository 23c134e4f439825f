# Hochreiter & Schmidhuber 1997's own long-time-lag experiments at CPU scale (issue 6, claim 1):
# the adding problem, the embedded Reber grammar and temporal order with the paper's success
# criteria, for the 1997 cell, the modern LSTM, a GRU and an Elman RNN (src/seminal/longlag.py).
# Benchmark-independent: results/experiments/longlag/<experiment>/<cell>/T<T>/seed<s>/, then
# summary.json and the success-rate-vs-T plot. One job per (experiment, cell) runs all its T values
# and seeds in one process (start-up paid once) and creates its own MLflow parent run first.
import json

LONGLAG = config.get("longlag") or {}
LONGLAG_DIR = "results/experiments/longlag"
LONGLAG_EXPERIMENTS = list(LONGLAG.get("experiments") or {}) if LONGLAG.get("enabled") else []
LONGLAG_CELLS = list(LONGLAG.get("cells") or []) if LONGLAG.get("enabled") else []
LONGLAG_SEEDS = list(range(LONGLAG.get("seeds", 3)))


rule longlag:
    """Every (T, seed) trial of one (experiment, cell): metrics.json (deterministic) and cost.json per trial."""
    wildcard_constraints:
        experiment="|".join(LONGLAG_EXPERIMENTS) or "^$",
        cell="|".join(LONGLAG_CELLS) or "^$",
    output:
        directory(f"{LONGLAG_DIR}/{{experiment}}/{{cell}}"),
    params:
        T=lambda wildcards: " ".join(str(t) for t in LONGLAG["experiments"][wildcards.experiment]["T"]),
        seeds=" ".join(map(str, LONGLAG_SEEDS)),
        config=lambda wildcards: json.dumps(  # the shared LongLagConfig fields, then the experiment's own
            {**(LONGLAG.get("config") or {}), **(LONGLAG["experiments"][wildcards.experiment].get("config") or {})},
            sort_keys=True,
        ),
    threads: 1
    log:
        "logs/experiments/longlag/{experiment}/{cell}.log",
    benchmark:
        "logs/experiments/benchmarks/longlag/{experiment}/{cell}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal longlag run --experiment {wildcards.experiment} --cell {wildcards.cell} --T {params.T}"
        " --seeds {params.seeds} --config {params.config:q} --out {output} --threads {threads} 2> {log}"


rule longlag_summary:
    """Every trial's success, error, steps and CPU seconds in one file (issue 6's contract) and the plot."""
    input:
        expand(f"{LONGLAG_DIR}/{{experiment}}/{{cell}}", experiment=LONGLAG_EXPERIMENTS, cell=LONGLAG_CELLS),
    output:
        summary=f"{LONGLAG_DIR}/summary.json",
        plot=report("results/experiments/plots/longlag.png", caption="../report/longlag.rst", category="Experiments"),
    log:
        "logs/experiments/longlag/summary.log",
    benchmark:
        "logs/experiments/benchmarks/longlag/summary.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal longlag summary --runs {input} --out {output.summary} --plot {output.plot} 2> {log}"
