from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    # a network that gives one label to nearly every image is named in the caption, not drawn
    found = files.read_json(snakemake.input.findings)["models"]
    table = files.read_table(snakemake.input.curves)
    # the models that trained, in config order (the labels'), less those
    shown = [m for m in p.labels if m in set(table["model"])
             and found.get(m, {}).get("degenerate") != "one class"]
    plots.learning_curves(table[table["model"].isin(shown)], {m: p.labels[m] for m in shown},
                          snakemake.output.figure)
