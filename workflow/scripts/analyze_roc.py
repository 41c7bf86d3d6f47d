import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis, findings, trust
from mnist_study.evaluate.metrics import by_model
from mnist_study.logs import redirect_to_log
from mnist_study.spec import ModelSpec

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    per_model, curves, metrics = {}, {}, by_model(files.read_table(i.metrics))
    for page, (m, probs_file) in enumerate(zip(p.models, i.probs), start=1):
        probs, labels, seeds = analysis.load_probs(np.load(probs_file))
        # One network's curves, as the seed study shows them: the model's first working seed.
        shown = findings.shown_member(probs)
        roc = analysis.roc_data(labels, probs[shown].astype(np.float64))
        info = analysis.model_description(ModelSpec.from_dict(p.specs[m]), p.labels[m],
                                          metrics[m], int(seeds[shown]))
        # `page`: this model's page of the ROC figure file; npz keys by page, not by model id,
        # so that any id a user writes is safe
        macro_half = trust.half_width(trust.seed_interval(
            [analysis.macro_auc(labels, member.astype(np.float64)) for member in probs]))
        per_model[m] = {**info, "auc": roc["auc"], "page": page, "widest_half": roc["widest_half"],
                        "macro_seed_half": macro_half}
        curves.update({f"p{page}_{k}": v for k, v in analysis.roc_arrays(roc).items()})
    files.save_npz(snakemake.output.curves, **curves)
    # JSON objects are written with sorted keys; `order` keeps the config's model order.
    files.write_json({"models": per_model, "order": list(p.models), **analysis.roc_overview(per_model)},
                  snakemake.output.context)
