from mnist_study import files
from mnist_study.evaluate.metrics import by_model
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    metrics = by_model(files.read_table(snakemake.input.metrics))
    plots.batch_lr(files.read_json(snakemake.input.findings), metrics,
                   plots.model_styles(p.all_models), snakemake.output.figure)
