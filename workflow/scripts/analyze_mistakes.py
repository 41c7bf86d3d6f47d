import numpy as np
import pandas as pd

from mnist_study import files
from mnist_study.evaluate import analysis
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    loaded = {}
    for m, f in zip(p.models, snakemake.input.probs):
        probs, labels, seeds = analysis.load_probs(np.load(f))
        probs, seeds = analysis.answering_members(probs, seeds)  # diverged members give no answers
        if len(seeds):
            loaded[m] = (probs, labels, seeds)
    counts = {m: analysis.confusion_counts(labels, probs) for m, (probs, labels, _) in loaded.items()}
    errors = pd.DataFrame({m: analysis.per_digit_error(labels, probs)
                           for m, (probs, labels, _) in loaded.items()}).T
    errors.index.name = "model"
    # a model that gives one label to nearly every image is no example of a best or worst
    # network, and no part of an average over networks
    findings = files.read_json(snakemake.input.findings)  # analyze_findings decides it
    found = findings["models"]
    degenerate = [m for m in loaded if found[m]["degenerate"]]
    # models that give the same answers as an earlier one count once in a summary over models
    repeats = [m for g in findings["identical"] for m in g["models"][1:]
               if m in loaded and m not in degenerate]
    models = files.read_table(snakemake.input.models)
    best, worst = analysis.best_and_worst(models[~models["model"].astype(str).isin(degenerate)
                                                 & models["model"].astype(str).isin(loaded)])
    probs, labels, seeds = loaded[best]
    confident = analysis.confident_mistakes(labels, probs[0], p.gallery_size)
    similarity = np.load(snakemake.input.digit_means)["similarity"]
    files.write_csv(analysis.confusion_long(counts), snakemake.output.confusion)
    files.write_csv(errors.reset_index(), snakemake.output.errors)
    files.write_csv(confident, snakemake.output.confident)
    files.write_json({
        "best": {"model": best, "label": p.labels[best], "n_seeds": int(len(seeds)),
                 **analysis.model_mistakes(counts[best])},
        "worst": {"model": worst, "label": p.labels[worst], "n_seeds": int(len(loaded[worst][2])),
                  **analysis.model_mistakes(counts[worst])},
        "hardest": analysis.hardest_digits(errors.drop(index=degenerate + repeats),
                                           {m: c for m, c in counts.items()
                                            if m not in degenerate + repeats},
                                           similarity),
        "repeats": [p.labels[m] for m in repeats],
        "degenerate": [p.labels[m] for m in degenerate],
        "degenerate_models": degenerate,
        # models every seed of which diverged: no answers to analyse
        "without_answers": [p.labels[m] for m in p.models if m not in loaded],
        "gallery": {"model": best, "label": p.labels[best], "seed": int(seeds[0]),
                    **analysis.gallery_summary(confident, labels, probs[0])},
    }, snakemake.output.context)
