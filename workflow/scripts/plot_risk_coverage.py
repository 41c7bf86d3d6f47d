import numpy as np

from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    context = files.read_json(snakemake.input.context)
    curves = np.load(snakemake.input.curves)
    risk = {m: curves[f"m{context['models'][m]['index']}_risk"] for m in context["order"]}
    labels = {m: context["models"][m]["label"] for m in context["order"]}
    plots.risk_coverage(curves["coverages"], risk, labels,
                        plots.model_styles(snakemake.params.all_models), snakemake.output.figure)
