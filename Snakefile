# The MNIST study workflow: MNIST -> trained models -> metrics, tables, figures -> report.pdf.
# This file is a table of contents; each stage lives in workflow/rules/<stage>.smk.
from snakemake.utils import min_version

min_version("9.0")


# Relative to the Snakefile, so `-d <workdir>` runs still read the study.
configfile: f"{workflow.basedir}/config.yaml"


include: "workflow/rules/common/environment.smk"
include: "workflow/rules/common/config.smk"
include: "workflow/rules/common/resources.smk"
include: "workflow/rules/common/trained.smk"
include: "workflow/rules/common/report.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/summarize.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/inspect.smk"
include: "workflow/rules/trust.smk"
include: "workflow/rules/report.smk"


# The scan runs when the study asks for it (the seed's does); its section follows its rules.
if SCAN:

    include: "workflow/rules/scan.smk"


# The border analysis needs a model whose first layer is dense over the pixels (an mlp's).
if INSPECT["border_model"]:

    include: "workflow/rules/border.smk"


rule all:
    default_target: True
    input:
        "report.pdf",


# Last: what every rule above shares (its environment, where its jobs run), declared once.
include: "workflow/rules/common/every_rule.smk"


onstart:
    record_failures_under_keep_going()
    say_how_long_the_plan_takes()


onsuccess:
    # Under --keep-going a failed model is recorded, not fatal: say so where the user looks.
    warn_about_failed_models()
    say_where_the_time_went(log)
