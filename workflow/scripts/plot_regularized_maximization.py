import numpy as np

from mnist_study.logs import redirect_to_log
from mnist_study.report import plots, plots_inside

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    result = np.load(snakemake.input[0])
    plots_inside.image_rows(dict(zip(result["names"], result["images"])), snakemake.output.figure)
