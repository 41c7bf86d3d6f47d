import numpy as np
import pandas as pd
import torch

from mnist_study import files
from mnist_study.inspection.batch_norm import batch_norm_table
from mnist_study.logs import redirect_to_log
from mnist_study.networks import load_members
from mnist_study.train.engine import as_inputs

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    cpu = torch.device("cpu")
    # the digits the running statistics were kept from (their test images), and the noise
    sets = {"digits": as_inputs(torch.from_numpy(np.load(i.data)["test_images"]), cpu)}
    with np.load(i.noise) as noise:
        sets.update({k: torch.from_numpy(noise[k]).reshape(len(noise[k]), -1).float()
                     for k in noise.files})
    tables = [pd.DataFrame(columns=["model", "seed", "layer", "set", "shift", "scale"])]
    for model, weights in zip(p.models, i.weights):
        _, members = load_members(weights)
        tables.append(batch_norm_table(members, sets).assign(model=model))
    table = pd.concat(tables, ignore_index=True)
    files.write_csv(table[["model", "seed", "layer", "set", "shift", "scale"]], snakemake.output.table)
