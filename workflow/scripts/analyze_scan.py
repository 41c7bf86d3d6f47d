import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis
from mnist_study.evaluate.metrics import member_metrics
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    rows = {h: member_metrics(files.read_table(record), np.load(test), p.loss)
            for h, record, test in zip(p.hidden_sizes, i.training, i.test)}
    table = analysis.scan_table(rows)
    files.write_csv(table, snakemake.output.cells)
    summary = analysis.scan_summary(table, n_test=len(np.load(i.data)["test_labels"]))
    published = p.settings["published_best"]  # None: nothing to compare with
    summary.update(batch_size=p.settings["batch_size"], epochs=p.settings["epochs"],
                   seed=p.settings["seed"], published_best=published,
                   nearest_published=published and analysis.nearest_cell(
                       table, published["lr"], published["hidden"]))
    files.write_json(summary, snakemake.output.context)
