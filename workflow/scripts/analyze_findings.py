import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis, findings
from mnist_study.evaluate.metrics import by_model
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    metrics, answers = by_model(files.read_table(i.metrics)), {}
    for m, probs_file in zip(p.models, i.probs):
        probs, labels, _ = analysis.load_probs(np.load(probs_file))
        answers[m] = findings.model_answers(probs, labels, metrics[m]["test_accuracy"])
    result = findings.study_findings(files.read_table(i.models), answers, p.claims, p.n_test,
                                     p.n_train, comparable=not p.reduced, controls=p.controls)
    for m in answers:  # where each diverged seed stopped, as numbers for the report to word
        result["models"][m]["diverged_at"] = findings.divergences(metrics[m])
    files.write_json({**result, "reduced": list(p.reduced)}, snakemake.output.context)
