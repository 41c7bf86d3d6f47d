from mnist_study import files
from mnist_study.inspection.unfamiliar import sklearn_digits
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    inputs, labels = sklearn_digits()
    files.save_npz(snakemake.output[0], inputs=inputs, labels=labels)
