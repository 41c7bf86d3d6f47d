import numpy as np

from mnist_study.logs import redirect_to_log
from mnist_study.report import plots, plots_inside

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    result = np.load(snakemake.input.images)
    images = dict(zip(result["models"], result[p.images]))  # class maximization or deep dream
    rows = {f"model {p.labels[m]}": images[m] for m in p.rows if m in images}  # trained ones
    plots_inside.image_rows(rows, snakemake.output.figure)
