import numpy as np
import pandas as pd

from mnist_study import io, unfamiliar
from mnist_study.logs import redirect_to_log
from mnist_study.visualize import load_members

with redirect_to_log(snakemake.log[0]):
    spec, members = load_members(snakemake.input.weights)
    images = unfamiliar.load_images(snakemake.input.images)
    digits = np.load(snakemake.input.digits)
    test = io.load_torch(snakemake.input.data)["test_images"].float().numpy() / 255
    probs, rows = unfamiliar.model_responses(members, spec, images["inputs"], digits["inputs"],
                                             digits["labels"], test)
    io.save_npz(snakemake.output.probs, probs=probs, seeds=np.array(list(members)))
    io.write_csv(pd.DataFrame(rows), snakemake.output.table)
