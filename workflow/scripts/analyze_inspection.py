import numpy as np
from scipy.special import softmax

from mnist_study import files
from mnist_study.evaluate.trust import member_summary
from mnist_study.families import FAMILIES
from mnist_study.inspection.unfamiliar import load_images
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    per_member = files.read_table(i.responses)
    table = member_summary(per_member)
    table.insert(1, "label", table["model"].map(p.labels))
    table.insert(2, "n_seeds", per_member.groupby("model", sort=False).size().to_numpy())
    files.write_csv(table, snakemake.output.responses)
    images = load_images(i.images)
    dream = np.load(i.dream)
    regularized = files.read_table(i.regularized)
    context = {
        "unfamiliar_dir": p.inspect["unfamiliar_dir"], "model": p.inspect["model"],
        "model_label": p.labels[p.inspect["model"]], "model_activation": p.model_activation,
        "unfamiliar_models": [p.labels[m] for m in p.inspect["unfamiliar_models"]],
        "steps": p.inspect["steps"], "lr": p.inspect["lr"], "start": p.inspect["start"],
        "regularizers": {k: p.inspect[k] for k in ("l2", "tv", "blur_sigma", "jitter")},
        "n_images": len(images["names"]),
        "n_own": int(sum(s not in ("drawn", "photo", "noise") for s in images["sources"])),
        "skipped": [str(s) for s in images["skipped"]],
        "ignored": [str(s) for s in images["ignored"]],
        "n_digits": len(np.load(i.digits)["labels"]),
        "responses": table.to_dict("records"),
        "dream": {k: {"at_bounds": float(dream[f"at_bounds_{k}"]),
                      "min": float(dream[k].min()), "max": float(dream[k].max())}
                  for k in ("per_class_clamped", "per_class_unclamped", "single_clamped",
                            "single_unclamped")},
        # probabilities the single all-label dream gets: the loss of all ten labels is lowest when equal
        "dream_single_max_prob": {k: float(softmax(dream[f"logits_{k}"][0]).max())
                               for k in ("single_clamped", "single_unclamped")},
        "regularized": regularized.to_dict("records"),
        # the class maximization of the inspected model, as the text describes it
        "class_max": files.read_json(i.class_max)[p.inspect["model"]],
        # the border analysis reads a first dense layer over the pixels: absent without one
        "border": files.read_json(i.border) if "border" in i.keys() else None,
        "border_model": p.inspect["border_model"],
        "border_label": p.labels.get(p.inspect["border_model"]),
        "model_family": p.families[p.inspect["model"]],
        "families": [f for f in FAMILIES if f in p.families.values()],  # in the registry's order
    }
    files.write_json(context, snakemake.output.context)
