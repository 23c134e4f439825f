# sentencepiece trained once on the pretraining corpus; every split encoded once (uint16, memory-mapped).


rule train_tokenizer:
    input:
        f"{DATA}/corpus/corpus.txt",
    output:
        f"{DATA}/tokenizer/spm.model",
    params:
        # synglue's generated corpus has ~1k word types; real text (any other benchmark) needs word-sized pieces
        vocab_size=config["tokenizer"]["vocab_size" if BENCH == "synglue" else "text_vocab_size"],
    log:
        f"{LOGS}/train_tokenizer.log",
    benchmark:
        f"{LOGS}/benchmarks/train_tokenizer.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal tokenizer --corpus {input} --vocab-size {params.vocab_size}"
        " --out {output} 2> {log}"


rule encode_task:
    input:
        benchmark_files(),
        benchmark=BENCHMARK_FILE,
        spm=f"{DATA}/tokenizer/spm.model",
    output:
        directory(f"{DATA}/encoded/{{task}}"),
    params:
        data=lambda wildcards, input: Path(input.spm).parents[1],
    log:
        f"{LOGS}/encode/{{task}}.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal encode --benchmark {input.benchmark} --data {params.data} --spm {input.spm}"
        " --task {wildcards.task} --out {output} 2> {log}"


rule encode_corpus:
    input:
        corpus=f"{DATA}/corpus/corpus.txt",
        spm=f"{DATA}/tokenizer/spm.model",
    output:
        f"{DATA}/encoded/corpus/ids.npy",
    log:
        f"{LOGS}/encode/corpus.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal encode-corpus --corpus {input.corpus} --spm {input.spm} --out {output} 2> {log}"
