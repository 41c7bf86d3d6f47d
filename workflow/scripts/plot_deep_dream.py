import numpy as np

from mnist_study import plots, plots_inside
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    plots_inside.deep_dream(dict(np.load(snakemake.input[0])), snakemake.output.figure)
