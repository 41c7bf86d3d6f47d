import numpy as np

from mnist_study import io, plots, plots_inside
from mnist_study.logs import redirect_to_log
from mnist_study.visualize import class_means

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.params.style)
    result = np.load(snakemake.input.images)
    data = io.load_torch(snakemake.input.data)
    means = class_means(data["train_images"], data["train_labels"]).numpy()
    plots_inside.class_maximization(result["images"], means, result["logits"], snakemake.output[0])
