from mnist_study import io
from mnist_study.logs import redirect_to_log
from mnist_study.unfamiliar import sklearn_digits

with redirect_to_log(snakemake.log[0]):
    inputs, labels = sklearn_digits()
    io.save_npz(snakemake.output[0], inputs=inputs, labels=labels)
