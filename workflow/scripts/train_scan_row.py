import torch

from mnist_study.logs import echo_epochs, redirect_to_log
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member
from mnist_study.train.job import train_and_save

with redirect_to_log(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    spec = ModelSpec.from_dict(snakemake.params.spec)
    # One row of the scan: the same seed (initialization and data order), one member per lr.
    members = [Member(seed=spec.seeds[0], lr=lr) for lr in snakemake.params.learning_rates]
    train_and_save(spec, members, snakemake.input.data, dict(snakemake.output.items()),
                   log=echo_epochs(f"scan row h{snakemake.wildcards.hidden}"))
