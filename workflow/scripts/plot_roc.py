import numpy as np

from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots


def pages(summary, arrays):
    for m in summary["order"]:  # config order; each model's page number is in the summary
        info = summary["models"][m]
        prefix = f"p{info['page']}_"
        names = [k[len(prefix) + 4:] for k in arrays.files if k.startswith(prefix + "fpr_")]
        curves = {n: (arrays[f"{prefix}fpr_{n}"], arrays[f"{prefix}tpr_{n}"]) for n in names}
        yield plots.roc_figure(curves, info["auc"], info)


with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    summary = files.read_json(snakemake.input.summary)
    plots.save_pages(pages(summary, np.load(snakemake.input.curves)), snakemake.output.figure)
