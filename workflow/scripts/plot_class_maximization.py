import numpy as np

from mnist_study.logs import redirect_to_log
from mnist_study.report import plots, plots_inside

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    result = np.load(snakemake.input.images)
    k = list(result["models"]).index(snakemake.params.model)
    means = np.load(snakemake.input.digit_means)["means"]
    plots_inside.class_maximization(result["images"][k], means, result["logits"][k], snakemake.output.figure)
