from mnist_study import files
from mnist_study.evaluate import analysis
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    summary = files.read_json(snakemake.input.summary)
    counts = analysis.confusion_wide(files.read_table(snakemake.input.confusion))
    styles = plots.model_styles(p.all_models)
    for which, out in (("best", snakemake.output.figure_best), ("worst", snakemake.output.figure_worst)):
        chosen = summary[which]
        plots.mistake_histograms(counts[chosen["model"]], chosen["label"],
                                 styles[chosen["model"]]["color"], out)
