# Summaries: per-member metrics -> one table of models (mean and spread over seeds).


rule summarize_models:
    input:
        metrics=model_file("metrics.csv"),
    output:
        "results/tables/models.csv",
    log:
        "logs/summarize_models.log",
    params:
        models=list(MODELS),
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/summarize_models.py"
