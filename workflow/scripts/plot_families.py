from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    plots.families(files.read_table(snakemake.input.table), snakemake.output.figure)
