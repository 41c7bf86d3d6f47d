import pandas as pd

from mnist_study import files
from mnist_study.evaluate import curves
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    tables, protocols, drops = [], {}, {}
    for m, path in zip(p.models, snakemake.input.epochs):
        history = files.read_table(path)
        tables.append(curves.learning_curves(history).assign(model=m))
        if (drop := curves.late_drop(tables[-1])) is not None:
            drops[m] = drop
        if (choice := curves.validated_choice(history)) is not None:
            protocols[m] = choice
    curves.adjust_protocol_tests(protocols)
    table = pd.concat(tables)[["model", "split", "epoch", "n_seeds", "mean", "low", "high"]]
    files.write_csv(table, snakemake.output.curves)
    files.write_json({"protocols": protocols, "late_drops": drops,
                      "order": [m for m in p.models if m in protocols]},
                     snakemake.output.context)
