# The deliverables: the results table (md, csv, tex), plots, and GLUE submission archives.


rule table:
    input:
        metrics=run_metrics(),
        benchmark=BENCHMARK_FILE,
    output:
        md=report(f"{RESULTS}/table.md", caption="../report/table.rst", category="Results"),
        csv=f"{RESULTS}/table.csv",
        tex=f"{RESULTS}/table.tex",
        by_distance=report(
            f"{RESULTS}/plots/by_distance.png", caption="../report/by_distance.rst", category="Plots"
        ),
    params:
        runs=lambda wildcards, output: Path(output.md).parent / "runs",
        models=table_rows(),
        prefix=lambda wildcards, output: output.md.removesuffix(".md"),
        plots=lambda wildcards, output: Path(output.by_distance).parent,
    log:
        f"{LOGS}/table.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal table --benchmark {input.benchmark} --runs {params.runs} --models {params.models}"
        " --out {params.prefix} --plots {params.plots} 2> {log}"


rule submission:
    """GLUE submission archive of a model's first seed (test-set predictions, official format)."""
    input:
        lambda wildcards: run_metrics(wildcards.model),
    output:
        f"{RESULTS}/submission/{{model}}.zip",
    params:
        run=lambda wildcards: f"{RESULTS}/runs/{wildcards.model}",
    log:
        f"{LOGS}/submission/{{model}}.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal submission --runs {params.run} --seed 0 --out {output} 2> {log}"
