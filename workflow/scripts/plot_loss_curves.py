from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    # a network that gives one label to nearly every image is named, not drawn: NLL on raw
    # scores falls without bound (to -9e13) and would squeeze every other curve flat
    found = files.read_json(snakemake.input.findings)["models"]
    shown = [m for m in p.models if found.get(m, {}).get("degenerate") != "one class"]
    steps = {m: files.read_table(f) for m, f in zip(p.models, snakemake.input.steps) if m in shown}
    epochs = {m: files.read_table(f) for m, f in zip(p.models, snakemake.input.epochs) if m in shown}
    plots.loss_curves(steps, epochs, p.labels, snakemake.output.figure, smoothing=p.smoothing)
