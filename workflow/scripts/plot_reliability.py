import numpy as np

from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    context = files.read_json(snakemake.input.context)
    curves = np.load(snakemake.input.curves)
    shown = {context["models"][m]["label"]: {
        key: curves[f"m{context['models'][m]['index']}_bin_{key}"]
        for key in ("lower", "upper", "count", "accuracy", "confidence")} for m in context["shown"]}
    plots.reliability_diagrams(shown, snakemake.output.figure)
