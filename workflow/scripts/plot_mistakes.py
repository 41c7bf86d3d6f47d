import pandas as pd

from mnist_study import analysis, io, plots
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(p.style)
    chosen = io.read_json(snakemake.input.summary)[snakemake.wildcards.which]
    counts = analysis.confusion_wide(pd.read_csv(snakemake.input.confusion, dtype={"model": str}))
    colour = plots.model_styles(p.all_models)[chosen["model"]]["color"]
    plots.mistake_histograms(counts[chosen["model"]], chosen["label"], colour, snakemake.output[0])
