import numpy as np
import pandas as pd

from mnist_study import files
from mnist_study.evaluate.analysis import load_probs
from mnist_study.inspection import unfamiliar
from mnist_study.logs import redirect_to_log
from mnist_study.networks import load_members

with redirect_to_log(snakemake.log[0]):
    i = snakemake.input
    images = unfamiliar.load_images(i.images)
    digits = np.load(i.digits)
    noise = dict(np.load(i.noise))
    probs, tables = [], []
    for model, weights, stored in zip(snakemake.params.models, i.weights, i.test_probs):
        spec, members = load_members(weights)
        with np.load(stored) as z:
            test_probs, _, seeds = load_probs(z)
            test_outputs = dict(zip(seeds.tolist(), z["outputs"]))
        p, rows = unfamiliar.model_responses(members, spec, images["inputs"], digits["inputs"],
                                             digits["labels"], dict(zip(seeds.tolist(), test_probs)),
                                             noise, test_outputs)
        probs.append(p)
        tables.append(pd.DataFrame(rows).assign(model=model))
    # arrays by position in `models`: npz keys never carry a user's model id
    files.save_npz(snakemake.output.probs, models=np.array(snakemake.params.models, dtype=str),
                **{f"probs_{k}": p for k, p in enumerate(probs)})
    files.write_csv(pd.concat(tables), snakemake.output.per_member)
