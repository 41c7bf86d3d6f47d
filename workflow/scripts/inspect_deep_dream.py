import numpy as np

from mnist_study import files
from mnist_study.families import SIDE
from mnist_study.inspection.visualize import Ascent, deep_dream, first_member, fraction_at_bounds, logits_of
from mnist_study.logs import redirect_to_log
from mnist_study.train.outcome import trained_model_file

with redirect_to_log(snakemake.log[0]):
    spec, seed, model = first_member(trained_model_file(snakemake.input.model, "weights"))
    digits = np.load(snakemake.input.digit_means)
    dreams = deep_dream(model, Ascent(**snakemake.params.ascent))
    # the mean of all training images, from the per-digit means and counts
    mean_all = np.tensordot(digits["counts"], digits["means"], axes=1) / digits["counts"].sum()
    files.save_npz(snakemake.output[0], **{k: x.numpy() for k, x in dreams.items()},
                **{f"logits_{k}": logits_of(model, x.reshape(-1, SIDE, SIDE)).numpy()
                   for k, x in dreams.items()},
                **{f"at_bounds_{k}": np.array(fraction_at_bounds(x)) for k, x in dreams.items()},
                class_means=digits["means"], mean_all=mean_all)
