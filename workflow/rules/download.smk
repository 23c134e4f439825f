# Real GLUE (benchmark: glue): the files config/benchmarks/glue.yaml names, under data/glue/ in the
# official layout, verified against the checksums committed in config/benchmarks/glue.sha256.
#   config glue_dir=PATH   copy them from a local folder in the GLUE layout (only the tasks whose
#                          files are all there; the others are reported as not prepared)
#   no glue_dir            download all ten from the official locations (src/seminal/download.py)
# Included by the Snakefile only when BENCH == "glue".
import shlex

GLUE_DIR = config.get("glue_dir")
GLUE_TASKS = DATA_TASKS  # all ten, or those complete in glue_dir (common.smk)


rule prepare_glue:
    input:
        checksums=GLUE_CHECKSUMS,
    output:
        benchmark_files(),  # every file of GLUE_TASKS' splits (common.smk)
    params:
        out=lambda wildcards, output: Path(output[0]).parents[1],  # data/glue/<Task>/<file>
        # with glue_dir: copy exactly the tasks found there (GLUE_TASKS), so the outputs match
        source=f"--from {shlex.quote(str(GLUE_DIR))} --tasks {' '.join(GLUE_TASKS)}" if GLUE_DIR else "",
    log:
        f"{LOGS}/prepare_glue.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal download-glue --out {params.out} --checksums {input.checksums} {params.source}"
        " 2> {log}"


rule glue_submission:
    """The leaderboard zip: one model's seed-0 test predictions for every task that ran (config
    submission_model: a model, or best = the highest mean dev score), checked against the test files."""
    input:
        metrics=[m for model in TRAINED_MODELS for m in run_metrics(model)],
        benchmark=BENCHMARK_FILE,
        data=benchmark_files(),
        spm=f"{DATA}/tokenizer/spm.model",  # upstream of every run anyway: locates the data folder, as in rule train
    output:
        zip=f"{RESULTS}/glue_submission.zip",
        record=f"{RESULTS}/glue_submission.json",
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
        runs=lambda wildcards, input: Path(input.metrics[0]).parents[3],  # runs/<model>/<Task>/seed0/metrics.json
        models=TRAINED_MODELS,
        tasks=TASKS,
        choice=config.get("submission_model", "best"),
    log:
        f"{LOGS}/glue_submission.log",
    benchmark:
        f"{LOGS}/benchmarks/glue_submission.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal glue-submission --benchmark {input.benchmark} --data {params.data} --runs {params.runs}"
        " --models {params.models} --tasks {params.tasks} --model {params.choice} --seed 0"
        " --out {output.zip} --record {output.record} 2> {log}"
