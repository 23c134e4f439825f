# seminal: the one entry point. `snakemake` (profiles/default) runs everything on the embedded
# benchmark; `snakemake --profile profiles/ci` does the same at tiny sizes.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


if BENCH == "glue":

    include: "workflow/rules/download.smk"


include: "workflow/rules/data.smk"
include: "workflow/rules/cv.smk"
include: "workflow/rules/tokenize.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/longlag.smk"
include: "workflow/rules/translation.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        table_files(),
        submission_files(),
        experiment_files(),
    default_target: True
