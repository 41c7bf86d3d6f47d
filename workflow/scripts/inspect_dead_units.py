import numpy as np
import pandas as pd
import torch

from mnist_study import files
from mnist_study.inspection.units import dead_unit_table
from mnist_study.logs import redirect_to_log
from mnist_study.networks import load_members
from mnist_study.train.engine import as_inputs

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    images = as_inputs(torch.from_numpy(np.load(i.data)["train_images"]), torch.device("cpu"))
    tables = [pd.DataFrame(columns=["model", "seed", "units", "dead"])]
    for model, weights, record in zip(p.models, i.weights, i.training):
        spec, members = load_members(weights)
        training = files.read_table(record)
        diverged = set(training.loc[training["diverged"].astype(bool), "seed"].astype(int))
        tables.append(dead_unit_table(members, spec.hidden, images, diverged).assign(model=model))
    table = pd.concat(tables, ignore_index=True)
    # each member's test accuracy beside its count, for the report's rank correlation
    accuracy = files.read_table(i.metrics)[["model", "seed", "test_accuracy"]]
    table = table.astype({"seed": int}).merge(accuracy, on=["model", "seed"], how="left")
    files.write_csv(table[["model", *[c for c in table.columns if c != "model"]]],
                    snakemake.output.table)
