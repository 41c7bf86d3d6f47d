import numpy as np

from mnist_study import io
from mnist_study.logs import redirect_to_log
from mnist_study.visualize import Ascent, class_maximization, first_member, logits_of

with redirect_to_log(snakemake.log[0]):
    spec, seed, model = first_member(snakemake.input.weights)
    images = class_maximization(model, Ascent(**snakemake.params.ascent))
    io.save_npz(snakemake.output[0], images=images.numpy(), logits=logits_of(model, images).numpy(),
                seed=np.array(seed))
