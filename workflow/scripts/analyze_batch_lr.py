import numpy as np

from mnist_study import files
from mnist_study.evaluate import analysis, findings
from mnist_study.evaluate.metrics import by_model
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    models = files.read_table(snakemake.input.models)
    metrics = by_model(files.read_table(snakemake.input.metrics))
    group = analysis.batch_lr_models(models)
    answers = {}
    for m, f in zip(snakemake.params.models, snakemake.input.probs):
        if m in set(group["model"].astype(str)):
            probs, labels, _ = analysis.load_probs(np.load(f))
            answers[m] = findings.model_answers(probs, labels, metrics[m]["test_accuracy"])
    files.write_json(analysis.batch_lr_findings(group, metrics, answers, snakemake.params.n_train),
                     snakemake.output.context)
