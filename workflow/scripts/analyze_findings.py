import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis, findings
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    answers = {}
    for m, probs_file, metrics_file in zip(p.models, i.probs, i.metrics):
        probs, labels, _ = analysis.load_probs(np.load(probs_file))
        accuracies = files.read_table(metrics_file)["test_accuracy"]
        answers[m] = findings.model_answers(probs, labels, accuracies)
    result = findings.study_findings(files.read_table(i.models), answers, p.claims, p.n_test,
                                     p.n_train, comparable=not p.reduced)
    files.write_json({**result, "reduced": list(p.reduced)}, snakemake.output.context)
