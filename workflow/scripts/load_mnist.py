from pathlib import Path

from mnist_study import io
from mnist_study.data import load_tensors
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    root = Path(snakemake.input[0]).parents[2]  # <root>/MNIST/raw/<file>
    tensors = load_tensors(root, p.train_samples, p.test_samples)
    log({k: tuple(v.shape) for k, v in tensors.items()})
    io.save_torch(tensors, snakemake.output[0])
