from mnist_study.inspection import unfamiliar
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    own, skipped = unfamiliar.read_folder(snakemake.params.folder, log=log)
    images = unfamiliar.builtin_images() + own
    unfamiliar.save_images(images, snakemake.output[0], skipped)
