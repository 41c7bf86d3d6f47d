from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.train.outcome import collect_outcomes

with redirect_to_log(snakemake.log[0]):
    files.write_csv(collect_outcomes(dict(zip(snakemake.params.models, snakemake.input))),
                 snakemake.output[0])
