# Real GLUE (benchmark: glue): the files config/benchmarks/glue.yaml names, under data/glue/ in the
# official layout, verified against the checksums committed in config/benchmarks/glue.sha256.
#   config glue_dir=PATH   copy them from a local folder in the GLUE layout (only the tasks whose
#                          files are all there; the others are reported as not prepared)
#   no glue_dir            download all ten from the official locations (src/seminal/download.py)
# Included by the Snakefile only when BENCH == "glue".
import shlex

GLUE_DIR = config.get("glue_dir")
GLUE_TASKS = DATA_TASKS  # all ten, or those complete in glue_dir (common.smk)


def glue_files():
    return sorted({f"{DATA}/{split.file}" for t in GLUE_TASKS for split in SPEC.tasks[t].splits.values()})


rule prepare_glue:
    input:
        checksums=GLUE_CHECKSUMS,
    output:
        glue_files(),
    params:
        out=DATA,
        # with glue_dir: copy exactly the tasks found there (GLUE_TASKS), so the outputs match
        source=f"--from {shlex.quote(str(GLUE_DIR))} --tasks {' '.join(GLUE_TASKS)}" if GLUE_DIR else "",
    log:
        f"{LOGS}/prepare_glue.log",
    conda:
        "../../environment.yml"
    shell:
        "seminal download-glue --out {params.out} --checksums {input.checksums} {params.source}"
        " 2> {log}"
