import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis, findings, trust
from mnist_study.evaluate.metrics import by_model
from mnist_study.logs import redirect_to_log
from mnist_study.spec import ModelSpec

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    responses = files.read_table(i.responses)
    ood = trust.member_summary(responses).set_index("model")
    # worse than guessing, tested: AUC = 0.5 per model and set, Holm over every pair
    below = trust.below_chance(responses.astype({"model": str}), p.ood_sets)
    coverages = np.linspace(0.05, 1.0, 20)
    per_model, curves, n_validation = {}, {"coverages": coverages}, 0
    found, metrics = files.read_json(i.findings)["models"], by_model(files.read_table(i.metrics))
    for k, (m, probs_file) in enumerate(zip(p.models, i.probs)):
        stored = np.load(probs_file)
        probs, labels, all_seeds = analysis.load_probs(stored)
        probs, seeds = analysis.answering_members(probs, all_seeds)
        if not len(seeds):  # every seed diverged: no answers to trust or not
            continue
        # the member that stands for the model comes first (model_trust shows the first)
        first = findings.shown_member(probs)
        order = [first, *(k for k in range(len(seeds)) if k != first)]
        probs, seeds = probs[order], seeds[order]
        # the model's answers on its validation images, where it held some out: the
        # temperature is fitted on them, never on the test set
        validation = None
        if "val_probs" in stored.files:
            rows = [int(np.flatnonzero(all_seeds == s)[0]) for s in seeds]
            validation = (stored["val_probs"][rows].astype(np.float64), stored["val_labels"])
            n_validation = len(stored["val_labels"])
        accuracy = metrics[m]["test_accuracy"].to_numpy()
        row = trust.model_trust(probs.astype(np.float64), labels, accuracy, p.bins, validation)
        # each set's AUC with its intervals, and why it is what it is: the mean largest
        # probability and output length on the set (means over the seeds)
        parts = (("auc", "auc_", ""), ("seed_half", "auc_", "_seed_half"),
                 ("image_half", "auc_", "_image_half"), ("msp", "msp_", ""), ("norm", "norm_", ""))
        per_model[m] = {"label": p.labels[m], "seed": int(seeds[0]), "index": k, **row["numbers"],
                        "probabilistic": ModelSpec.from_dict(p.specs[m]).trains_probabilities(),
                        "ood": {s: {**{part: float(ood.loc[m, f"{prefix}{s}{suffix}"])
                                       for part, prefix, suffix in parts},
                                    **{f"{k}_chance": v for k, v in below.get(m, {}).get(s, {}).items()
                                       if k != "auc"}} for s in p.ood_sets},
                        "mnist": {"msp": float(ood.loc[m, "msp_mnist"]),
                                  "norm": float(ood.loc[m, "norm_mnist"])}}
        curves.update({f"m{k}_{name}": v for name, v in row["curves"].items()})
        curves[f"m{k}_risk"] = trust.risk_coverage(probs[0], labels, coverages)
    files.save_npz(snakemake.output.curves, **curves)
    # one label for nearly every image (analyze_findings decides it): no telling diagram
    degenerate = [m for m in per_model if found[m]["degenerate"]]
    several = [r for r in per_model.values() if r["seed_sd"] is not None]
    files.write_json({"models": per_model, "order": [m for m in p.models if m in per_model],
                      "spread": {"several_seeds": [r["label"] for r in several],
                                 "seeds_wider": [r["label"] for r in several
                                                 if r["seed_sd"] > r["binomial_se"]]},
                      "n_chance_tests": sum(len(v) for v in below.values()),
                      "n_noise": p.n_noise, "n_unfamiliar": len(np.load(i.images)["names"]),
                      "shown": trust.telling_models(per_model, p.specs, left_out=degenerate),
                      # trained to no probabilities: their softmax's calibration says nothing
                      "not_probabilistic": [r["label"] for r in per_model.values()
                                            if not r["probabilistic"]],
                      "degenerate": degenerate, "n_test": int(len(labels)),
                      "n_validation": n_validation,
                      "bins": p.bins, "level": trust.LEVEL, "literature": p.literature,
                      "ood_sets": p.ood_sets}, snakemake.output.context)
