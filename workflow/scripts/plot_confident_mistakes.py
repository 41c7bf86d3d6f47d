from mnist_study import files
from mnist_study.data import read_dataset
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.input.style)
    images = read_dataset(snakemake.input.data)["test_images"]
    plots.mistake_gallery(images, files.read_table(snakemake.input.confident), snakemake.output.figure)
