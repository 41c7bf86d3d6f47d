from pathlib import Path

from mnist_study.data import provision_raw
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    provision_raw(Path(snakemake.output[0]).parent, snakemake.params.existing_copy, log=log)
