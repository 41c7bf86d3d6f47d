import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis, findings
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    answers, shown = {}, {}
    for m, probs_file, metrics_file in zip(p.models, i.probs, i.metrics):
        probs, labels, seeds = analysis.load_probs(np.load(probs_file))
        accuracies = files.read_table(metrics_file)["test_accuracy"]
        answers[m] = findings.model_answers(probs, labels, accuracies)
        shown[m] = int(seeds[findings.shown_member(probs)])
    result = findings.study_findings(files.read_table(i.models), answers, p.claims, p.n_test,
                                     p.n_train, comparable=not p.reduced)
    # the seed that stands for each model where one network is shown (the renders read it)
    for m, seed in shown.items():
        result["models"][m]["shown_seed"] = seed
    files.write_json({**result, "reduced": list(p.reduced)}, snakemake.output.context)
