from mnist_study.data import provision_raw
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    provision_raw(snakemake.params.raw_dir, snakemake.params.existing_copy, log=log)
