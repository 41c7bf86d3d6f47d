from mnist_study import files
from mnist_study.evaluate import analysis
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    models = files.read_table(snakemake.input.models)
    metrics = {m: files.read_table(f) for m, f in zip(snakemake.params.models, snakemake.input.metrics)}
    group = analysis.batch_lr_models(models)
    files.write_json(analysis.batch_lr_findings(group, metrics), snakemake.output.context)
