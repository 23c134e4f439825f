# Pretraining on the benchmark's unlabelled corpus, once per pretrained model; task models read
# the artifacts (see PRETRAINED in common.smk and `pretrained:` in config/models/*.yaml).


rule word2vec:
    """Skip-gram with negative sampling over the corpus's sentencepiece ids (Kim 2014's vectors)."""
    input:
        ids=f"{DATA}/encoded/corpus/ids.npy",
        spm=f"{DATA}/tokenizer/spm.model",
        config="config/pretrain/word2vec.yaml",
    output:
        vectors=f"{RESULTS}/pretrain/word2vec/vectors.npy",
        metrics=f"{RESULTS}/pretrain/word2vec/metrics.json",
    params:
        out=lambda wildcards, output: Path(output.vectors).parent,
    threads: 1  # measured: 2 torch threads are slower than 1 for these small sparse updates
    log:
        f"{LOGS}/pretrain/word2vec.log",
    benchmark:
        f"{LOGS}/benchmarks/pretrain/word2vec.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal word2vec --corpus-ids {input.ids} --spm {input.spm} --config {input.config}"
        " --seed 0 --threads {threads} --out {params.out} 2> {log}"


rule pretrain:
    """A language model pretrained on the corpus (config/pretrain/<name>.yaml: ELMo's biLM, BERT, GPT)."""
    input:
        ids=f"{DATA}/encoded/corpus/ids.npy",
        spm=f"{DATA}/tokenizer/spm.model",
        config="config/pretrain/{name}.yaml",
        data_version=f"{RESULTS}/data_version.json",
    output:
        model=f"{RESULTS}/pretrain/{{name}}/model.pt",
        metrics=f"{RESULTS}/pretrain/{{name}}/metrics.json",
        curves=report(f"{RESULTS}/pretrain/{{name}}/curves.png", caption="../report/pretrain.rst",
                      category="Pretraining", subcategory="{name}"),
    params:
        out=lambda wildcards, output: Path(output.model).parent,
        checkpoints=lambda wildcards: f"{RESULTS}/checkpoints/pretrain/{wildcards.name}",
        overrides=lambda wildcards: pretrain_overrides(wildcards.name),
        benchmark=BENCH,
    threads: 1  # small models: two jobs on one thread each beat one job on two
    log:
        f"{LOGS}/pretrain/{{name}}.log",
    benchmark:
        f"{LOGS}/benchmarks/pretrain/{{name}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "seminal pretrain --config {input.config} --corpus-ids {input.ids} --spm {input.spm} --benchmark-name {params.benchmark}"
        " --data-version {input.data_version} {params.overrides} --seed 0 --threads {threads}"
        " --out {params.out} --checkpoints {params.checkpoints} 2> {log}"
