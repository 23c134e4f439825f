# The embedded benchmark: generated from the grammar in src/seminal/synglue, deterministic.


# Only the embedded benchmark is generated; real GLUE is downloaded or copied (download.smk);
# a user's own benchmark's files must already be in data/<benchmark>/.
if BENCH == "synglue":

    rule generate_synglue:
        output:
            benchmark_files(),
            corpus=f"{DATA}/corpus/corpus.txt",
        params:
            gen=config["synglue"],
            data=lambda wildcards, output: Path(output.corpus).parents[1],
        log:
            f"{LOGS}/generate_synglue.log",
        benchmark:
            f"{LOGS}/benchmarks/generate_synglue.tsv"
        conda:
            "../../environment.yml"
        shell:
            "seminal generate --out {params.data} --seed {params.gen[seed]} --train-size {params.gen[train_size]}"
            " --dev-size {params.gen[dev_size]} --test-size {params.gen[test_size]}"
            " --corpus-tokens {params.gen[corpus_tokens]} --max-distance {params.gen[max_distance]} 2> {log}"


rule data_version:
    """The DVC hash of everything under data/<benchmark>: every MLflow run records it."""
    input:
        benchmark_files(),
        f"{DATA}/encoded/corpus/ids.npy",
        expand(f"{DATA}/encoded/{{task}}", task=DATA_TASKS),
        spm=f"{DATA}/tokenizer/spm.model",
    output:
        f"{RESULTS}/data_version.json",
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
    log:
        f"{LOGS}/data_version.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal data-version --data {params.data} --out {output} 2> {log}"


if BENCH != "synglue":

    rule gather_corpus:
        """The pretraining corpus of a non-embedded benchmark: the text files of config 'corpus', or
        without them the text of the tasks' train splits (a fallback the log states)."""
        input:
            files=CORPUS_FILES or benchmark_files(),
            benchmark=BENCHMARK_FILE,
        output:
            f"{DATA}/corpus/corpus.txt",
        params:
            files=" ".join(CORPUS_FILES),
            data=lambda wildcards, output: Path(output[0]).parents[1],
            tasks=" ".join(DATA_TASKS),
        log:
            f"{LOGS}/gather_corpus.log",
        conda:
            "../../environment.yml"
        shell:
            "seminal gather-corpus {params.files} --out {output} --benchmark {input.benchmark}"
            " --data {params.data} --tasks {params.tasks} 2> {log}"
