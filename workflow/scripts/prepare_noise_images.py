from mnist_study import files
from mnist_study.inspection.unfamiliar import noise_images
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    files.save_npz(snakemake.output[0], **noise_images(snakemake.params.n, snakemake.params.seed))
