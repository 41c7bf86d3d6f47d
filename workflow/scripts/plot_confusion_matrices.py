from mnist_study import files
from mnist_study.evaluate import analysis
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    counts = analysis.confusion_wide(files.read_table(snakemake.input.confusion))
    normalized = {m: analysis.row_normalize(c) for m, c in counts.items()}
    plots.confusion_grid(normalized, snakemake.params.labels, snakemake.output.figure,
                         floor=snakemake.params.floor)
