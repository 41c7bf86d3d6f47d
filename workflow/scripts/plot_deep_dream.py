import numpy as np

from mnist_study.logs import redirect_to_log
from mnist_study.report import plots, plots_inside

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    plots_inside.deep_dream(dict(np.load(snakemake.input[0])), snakemake.output.figure)
