import numpy as np
import pandas as pd

from mnist_study import analysis, io
from mnist_study.logs import redirect_to_log
from mnist_study.spec import ModelSpec

with redirect_to_log(snakemake.log[0]):
    probs, labels, seeds = analysis.load_probs(np.load(snakemake.input.probs))
    # The first seed's probabilities: one network's curves, as the seed study shows them.
    roc = analysis.roc_data(labels, probs[0].astype(np.float64))
    info = analysis.model_description(ModelSpec.from_dict(snakemake.params.spec), snakemake.params.label,
                                      pd.read_csv(snakemake.input.metrics), int(seeds[0]))
    io.save_npz(snakemake.output.curves, **analysis.roc_arrays(roc))
    io.write_json({**info, "auc": roc["auc"]}, snakemake.output.summary)
