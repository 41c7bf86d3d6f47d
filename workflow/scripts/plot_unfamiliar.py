import numpy as np

from mnist_study.inspection.unfamiliar import load_images
from mnist_study.logs import redirect_to_log
from mnist_study.report import plots, plots_inside

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    plots.use_style(snakemake.input.style)
    images = load_images(snakemake.input.images)
    responses = np.load(snakemake.input.responses)
    position = {m: k for k, m in enumerate(responses["models"])}
    probs = {m: responses[f"probs_{position[m]}"] for m in p.models if m in position}
    plots_inside.unfamiliar(list(images["names"]), images["originals"], images["inputs"], probs,
                            p.labels, p.all_models, snakemake.output.figure)
