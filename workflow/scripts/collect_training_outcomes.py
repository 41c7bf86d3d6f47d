from mnist_study import io
from mnist_study.logs import redirect_to_log
from mnist_study.outcome import collect_outcomes

with redirect_to_log(snakemake.log[0]):
    io.write_csv(collect_outcomes(dict(zip(snakemake.params.models, snakemake.input))),
                 snakemake.output[0])
