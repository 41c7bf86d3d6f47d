from pathlib import Path

from mnist_study.data import load_arrays, save_dataset, validation_index
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    root = Path(snakemake.input[0]).parents[2]  # <root>/MNIST/raw/<file>
    arrays = load_arrays(root, p.train_samples, p.test_samples)
    arrays["validation_index"] = validation_index(len(arrays["train_labels"]),
                                                  p.validation_images, p.validation_seed)
    log({k: v.shape for k, v in arrays.items()})
    save_dataset(arrays, snakemake.output[0])
