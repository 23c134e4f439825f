# k-fold cross-validation (Kim 2014) of the tasks with `cv: {folds, seed}` in the benchmark file:
# their folds are written as the splits of fold tasks <Task>.fold<i> (seminal.benchmark.fold_task),
# which the other rules encode, train and score like any task; the table pools them under <Task>.
CV_TASKS = [t for t, s in SPEC.tasks.items() if s.cv is not None]
CV_SOURCES = sorted({f"{DATA}/{p}" for t in CV_TASKS for p in SPEC.tasks[t].splits["train"].paths})
CV_FOLD_FILES = sorted(
    f"{DATA}/{split.file}" for t in CV_TASKS for f in SPEC.folds(t) for split in SPEC.tasks[f].splits.values()
)


if CV_TASKS:

    rule cv_folds:
        """Each fold's train, dev and test files (stratified folds and dev slices, fixed by the task's seed)."""
        input:
            data=CV_SOURCES,
            benchmark=BENCHMARK_FILE,
        output:
            CV_FOLD_FILES,
        params:
            data=lambda wildcards, output: Path(output[0]).parents[3],  # <data>/cv/<Task>/fold<i>/<split>.tsv
            tasks=" ".join(CV_TASKS),
        log:
            f"{LOGS}/cv_folds.log",
        benchmark:
            f"{LOGS}/benchmarks/cv_folds.tsv"
        conda:
            "../../environment.yml"
        shell:
            "seminal cv-folds --benchmark {input.benchmark} --data {params.data} --tasks {params.tasks} 2> {log}"
