import numpy as np

from mnist_study import io, plots
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.params.style)
    arrays = np.load(snakemake.input.curves)
    names = [k[len("fpr_"):] for k in arrays.files if k.startswith("fpr_")]
    curves = {n: (arrays[f"fpr_{n}"], arrays[f"tpr_{n}"]) for n in names}
    summary = io.read_json(snakemake.input.summary)
    plots.roc_figure(curves, summary["auc"], summary, snakemake.output[0])
