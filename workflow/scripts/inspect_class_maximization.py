import numpy as np
import torch

from mnist_study import files
from mnist_study.evaluate.analysis import load_probs
from mnist_study.evaluate.findings import shown_member
from mnist_study.inspection.visualize import (
    Ascent,
    class_maximization_and_dream,
    first_member,
    logits_of,
    render_numbers,
)
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    ascent = Ascent(**snakemake.params.ascent)
    means = torch.from_numpy(np.load(snakemake.input.digit_means)["means"]).float()
    images, logits, dreams, seeds, described = [], [], [], [], {}
    for model_id, weights, answers in zip(snakemake.params.models, snakemake.input.weights,
                                          snakemake.input.probs):
        # the model's first seed that works, as every one-network analysis shows it
        probs, _, members = load_probs(np.load(answers))
        spec, seed, model = first_member(weights, int(members[shown_member(probs)]))
        x, dream = class_maximization_and_dream(model, ascent)  # the seed's deep dream, every model
        images.append(x.numpy())
        logits.append(logits_of(model, x).numpy())
        dreams.append(dream.numpy())
        seeds.append(seed)
        described[model_id] = render_numbers(model, x, means)
    # stacked in the order of `models`: npz keys never carry a user's model id
    p = snakemake.params
    files.save_npz(snakemake.output.images, models=np.array(p.models, dtype=str),
                images=np.stack(images), logits=np.stack(logits), dreams=np.stack(dreams),
                seeds=np.array(seeds))
    files.write_json(described, snakemake.output.summary)
