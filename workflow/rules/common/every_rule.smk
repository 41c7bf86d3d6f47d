# What every rule shares, declared once here instead of in each rule, and what is checked
# across all rules. Included last: it applies to the rules defined before it.

# The software environment of every job under `snakemake --sdm conda`. Set on each rule, as a
# rule's own `conda:` would: Snakemake's workflow-level `conda:` directive is no default for
# rules (it installs an environment into Snakemake's own process, and refuses one that lists
# python), and `snakemake --lint` asks every rule for one.
ENVIRONMENT = str(REPO / "envs" / "mnist-study.yaml")

# The jobs a cluster queues: training, and reading MNIST into arrays (a gigabyte of memory).
# Every other job takes seconds, less than a wait for a queue slot, and runs on the submit
# host (fetch_mnist among them: compute nodes often have no internet). Decided by the verb
# that starts a rule's name, so that a new rule needs no line here.
QUEUED_VERBS = ("train", "load")

for _rule in workflow.rules:
    if not _rule.norun and _rule.conda_env is None:
        _rule.conda_env = ENVIRONMENT

workflow.localrules(
    *(r.name for r in workflow.rules if r.name.split("_", 1)[0] not in QUEUED_VERBS)
)

report_elements()  # two rules that claim one report name stop the workflow here
