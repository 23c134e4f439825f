# The deliverables: the results table (md, csv, tex), plots, and GLUE submission archives.


rule table:
    input:
        metrics=run_metrics(),
        benchmark=BENCHMARK_FILE,
        data=benchmark_files(),
        spm=f"{DATA}/tokenizer/spm.model",  # upstream of every run anyway: locates the data folder, as in rule train
        pretrain=pretrain_artifacts(),
        reported=sorted(Path("papers").glob("*/reported.yaml")),
    output:
        md=report(f"{RESULTS}/table.md", caption="../report/table.rst", category="Results"),
        paper=report(f"{RESULTS}/paper.md", caption="../report/paper.rst", category="Results"),
        csv=f"{RESULTS}/table.csv",
        tex=f"{RESULTS}/table.tex",
        ci=report(f"{RESULTS}/table_ci.md", caption="../report/table_ci.rst", category="Results"),
        cost=f"{RESULTS}/cost.csv",
        by_distance=report(
            f"{RESULTS}/plots/by_distance.png", caption="../report/by_distance.rst", category="Plots"
        ),
    params:
        runs=lambda wildcards, output: Path(output.md).parent / "runs",
        models=table_rows(),
        prefix=lambda wildcards, output: output.md.removesuffix(".md"),
        plots=lambda wildcards, output: Path(output.by_distance).parent,
        data=lambda wildcards, input: Path(input.spm).parents[1],
    log:
        f"{LOGS}/table.log",
    benchmark:
        f"{LOGS}/benchmarks/table.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal table --benchmark {input.benchmark} --runs {params.runs} --models {params.models}"
        " --out {params.prefix} --plots {params.plots} --data {params.data} --ci-out {output.ci}"
        " --cost-out {output.cost} --pretrain {input.pretrain} --paper-out {output.paper} 2> {log}"


rule claims:
    """The papers' claims tested on this run (seminal.claims): effect, 95% interval and verdict per
    claim; the few-shot and learning-curve plots; the enabled experiments' plots copied beside them;
    one MLflow run 'claims'."""
    input:
        metrics=run_metrics(),
        table=f"{RESULTS}/table.md",
        benchmark=BENCHMARK_FILE,
        data=benchmark_files(),
        spm=f"{DATA}/tokenizer/spm.model",  # locates the data folder, as in rule train
        data_version=f"{RESULTS}/data_version.json",
        experiments=list(experiment_summaries().values()),
        experiment_plots=experiment_plots(),
    output:
        md=report(f"{RESULTS}/claims.md", caption="../report/claims.rst", category="Results"),
        json=f"{RESULTS}/claims.json",
        fewshot=report(f"{RESULTS}/plots/fewshot.png", caption="../report/fewshot.rst", category="Plots"),
        curves=report(
            f"{RESULTS}/plots/learning_curves.png", caption="../report/learning_curves.rst", category="Plots"
        ),
        experiment_plots=[
            report(f"{RESULTS}/plots/{Path(p).name}", caption="../report/experiment_plot.rst", category="Plots")
            for p in experiment_plots()
        ],
    params:
        runs=lambda wildcards, input: Path(input.table).parent / "runs",
        models=table_rows(),
        data=lambda wildcards, input: Path(input.spm).parents[1],
        plots=lambda wildcards, output: Path(output.fewshot).parent,
        summaries=" ".join(f"--{name} {path}" for name, path in experiment_summaries().items()),
    log:
        f"{LOGS}/claims.log",
    benchmark:
        f"{LOGS}/benchmarks/claims.tsv"
    threads: 1
    conda:
        "../../environment.yml"
    shell:
        "seminal claims --benchmark {input.benchmark} --runs {params.runs} --models {params.models}"
        " --data {params.data} --out {output.md} --json {output.json} --plots {params.plots} {params.summaries}"
        " --extra-plots {input.experiment_plots} --data-version {input.data_version} > {log} 2>&1"


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
