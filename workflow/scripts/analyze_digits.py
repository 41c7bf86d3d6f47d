import numpy as np

from mnist_study import files
from mnist_study.data import digit_means, read_dataset
from mnist_study.evaluate import analysis
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    data = read_dataset(snakemake.input.data)
    means, counts = digit_means(data["train_images"], data["train_labels"])
    similarity = analysis.mean_image_similarity(means)
    files.save_npz(snakemake.output.means, means=means, counts=counts, similarity=similarity)
    pairs = np.triu_indices(10, 1)
    off = similarity[pairs]
    a, b = pairs[0][off.argmax()], pairs[1][off.argmax()]
    files.write_json({"n_train": int(counts.sum()), "counts": counts.tolist(),
                   "most_similar": {"a": int(a), "b": int(b), "r": float(similarity[a, b])},
                   "mean_similarity": float(off.mean())}, snakemake.output.context)
