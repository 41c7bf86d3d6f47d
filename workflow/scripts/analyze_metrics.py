import numpy as np
import pandas as pd

from mnist_study import files
from mnist_study.evaluate.metrics import member_metrics
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    table = pd.concat({m: member_metrics(files.read_table(record), np.load(test), p.losses[m])
                       for m, record, test in zip(p.models, i.training, i.test)}, names=["model"])
    files.write_csv(table.droplevel(1).reset_index(), snakemake.output.metrics)
