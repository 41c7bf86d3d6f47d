import numpy as np

from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    npz = np.load(snakemake.input.means)
    plots.digit_means(npz["means"], npz["counts"], snakemake.output.figure)
