from mnist_study import io
from mnist_study.data import load_tensors
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    tensors = load_tensors(p.root, p.train_samples, p.test_samples)
    log({k: tuple(v.shape) for k, v in tensors.items()})
    io.save_torch(tensors, snakemake.output[0])
