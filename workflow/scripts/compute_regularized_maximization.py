import numpy as np
import pandas as pd

from mnist_study import io
from mnist_study.logs import redirect_to_log
from mnist_study.visualize import (Ascent, class_means, describe, first_member, pixel_usage,
                                   regularized_variants)

with redirect_to_log(snakemake.log[0]):
    spec, seed, model = first_member(snakemake.input.weights)
    data = io.load_torch(snakemake.input.data)
    a, r = Ascent(**snakemake.params.ascent), snakemake.params.regularizers
    variants = regularized_variants(model, a, r["l2"], r["tv"], r["blur_sigma"], r["jitter"])
    means = class_means(data["train_images"], data["train_labels"])
    never = pixel_usage(data["train_images"]) == 0
    rows = [{"variant": k, **describe(model, x, means, never, a.start)} for k, x in variants.items()]
    io.save_npz(snakemake.output.images, names=np.array(list(variants)),
                images=np.stack([x.numpy() for x in variants.values()]))
    io.write_csv(pd.DataFrame(rows), snakemake.output.table)
