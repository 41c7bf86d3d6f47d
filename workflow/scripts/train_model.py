import torch

from mnist_study.logs import echo_epochs, log, redirect_to_log
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member
from mnist_study.train.job import train_and_save
from mnist_study.train.outcome import model_files, record_failures_requested, recorded_outcome

with (redirect_to_log(snakemake.log[0]),
      recorded_outcome(snakemake.output[0], record_failures_requested(), snakemake.log[0],
                       log=log) as folder):
    torch.set_num_threads(snakemake.threads)
    spec = ModelSpec.from_dict(snakemake.params.spec)
    members = [Member(seed=s, lr=spec.lr) for s in spec.seeds]
    train_and_save(spec, members, snakemake.input.data, model_files(folder),
                   log=echo_epochs(f"model {snakemake.wildcards.model}"))
