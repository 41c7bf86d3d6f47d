# Summaries: per-member metrics -> one table of models (mean and spread over seeds); a model
# that did not train keeps its row, with the reason.


rule summarize_models:
    localrule: True
    input:
        outcomes="results/tables/training_outcomes.csv",
        metrics=model_file("metrics"),
    output:
        "results/tables/models.csv",
    log:
        "logs/summarize_models.log",
    params:
        models=trained_models,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/summarize_models.py"
