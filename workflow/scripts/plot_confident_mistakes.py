import pandas as pd

from mnist_study import io, plots
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    plots.use_style(snakemake.params.style)
    images = io.load_torch(snakemake.input.data)["test_images"].numpy()
    plots.mistake_gallery(images, pd.read_csv(snakemake.input.confident), snakemake.output[0])
