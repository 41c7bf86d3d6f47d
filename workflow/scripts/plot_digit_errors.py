from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    errors = files.read_table(snakemake.input.errors).set_index("model")
    errors.columns = errors.columns.astype(int)
    errors.loc["mean"] = errors.mean(0)
    plots.per_digit_errors(errors, snakemake.params.labels, snakemake.output.figure)
