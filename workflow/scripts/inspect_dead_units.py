import numpy as np
import pandas as pd
import torch

from mnist_study import files
from mnist_study.evaluate.metrics import member_metrics
from mnist_study.inspection.units import dead_unit_table
from mnist_study.logs import redirect_to_log
from mnist_study.networks import load_members
from mnist_study.train.engine import as_inputs

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    images = as_inputs(torch.from_numpy(np.load(i.data)["train_images"]), torch.device("cpu"))
    tables = [pd.DataFrame(columns=["model", "seed", "units", "dead", "test_accuracy"])]
    for model, weights, record, test in zip(p.models, i.weights, i.training, i.test):
        spec, members = load_members(weights)
        training = files.read_table(record)
        diverged = set(training.loc[training["diverged"].astype(bool), "seed"].astype(int))
        table = dead_unit_table(members, spec.hidden, images, diverged)
        # each seed's test accuracy beside its count, for the report's rank correlation
        with np.load(test) as stored:
            accuracy = member_metrics(training, stored, spec.loss)[["seed", "test_accuracy"]]
        tables.append(table.merge(accuracy.astype({"seed": int}), on="seed").assign(model=model))
    table = pd.concat(tables, ignore_index=True)
    files.write_csv(table[["model", *[c for c in table.columns if c != "model"]]],
                    snakemake.output.table)
