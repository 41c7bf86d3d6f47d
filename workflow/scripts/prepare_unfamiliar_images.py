from mnist_study.inspection import unfamiliar
from mnist_study.logs import log, redirect_to_log

with redirect_to_log(snakemake.log[0]):
    own, skipped = unfamiliar.read_folder(snakemake.params.folder, log=log)
    images = unfamiliar.builtin_images() + own
    ignored = unfamiliar.ignored_entries(snakemake.params.folder)
    unfamiliar.save_images(images, snakemake.output[0], skipped, ignored)
