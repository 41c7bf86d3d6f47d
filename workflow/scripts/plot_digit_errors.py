from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    errors = files.read_table(snakemake.input.errors).set_index("model")
    errors.columns = errors.columns.astype(int)
    # the median over the models that work (as the text quotes it): one that gives one label to
    # nearly every image is shown in its row but is no part of a summary over networks
    left_out = files.read_json(snakemake.input.mistakes)["degenerate_models"]
    errors.loc["median"] = errors.drop(index=left_out).median(0)
    plots.per_digit_errors(errors, snakemake.params.labels, snakemake.output.figure)
