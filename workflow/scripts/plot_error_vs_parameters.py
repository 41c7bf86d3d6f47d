from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    table = files.read_table(snakemake.input.table)
    plots.error_vs_parameters(table, plots.model_styles(snakemake.params.all_models),
                              snakemake.output.figure)
