from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    steps = {m: files.read_table(f) for m, f in zip(p.models, snakemake.input.steps)}
    epochs = {m: files.read_table(f) for m, f in zip(p.models, snakemake.input.epochs)}
    plots.loss_curves(steps, epochs, p.labels, snakemake.output.figure, smoothing=p.smoothing)
