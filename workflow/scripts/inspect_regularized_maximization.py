import numpy as np
import pandas as pd
import torch

from mnist_study import files
from mnist_study.data import read_dataset
from mnist_study.inspection.visualize import (
    Ascent,
    first_member,
    pixel_usage,
    regularized_variants,
    render_numbers,
)
from mnist_study.logs import redirect_to_log
from mnist_study.train.outcome import trained_model_file

with redirect_to_log(snakemake.log[0]):
    spec, seed, model = first_member(trained_model_file(snakemake.input.model, "weights"))
    a, r = Ascent(**snakemake.params.ascent), snakemake.params.regularizers
    variants = regularized_variants(model, a, r["l2"], r["tv"], r["blur_sigma"], r["jitter"])
    means = torch.from_numpy(np.load(snakemake.input.digit_means)["means"]).float()
    never = pixel_usage(torch.from_numpy(read_dataset(snakemake.input.data)["train_images"])) == 0
    rows = [{"variant": k, **render_numbers(model, x, means, never, a.start)} for k, x in variants.items()]
    files.save_npz(snakemake.output.images, names=np.array(list(variants)),
                images=np.stack([x.numpy() for x in variants.values()]))
    files.write_csv(pd.DataFrame(rows), snakemake.output.measures)
