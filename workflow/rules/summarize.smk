# Summaries: per-member metrics -> one table of models (mean and spread over seeds); a model
# that did not train keeps its row, with the reason.


rule analyze_models:
    localrule: True
    input:
        outcomes="results/tables/training_outcomes.csv",
        metrics=model_file("metrics"),
    output:
        table="results/tables/models.csv",
    log:
        "logs/analyze_models.log",
    params:
        models=trained_models,
        study={"defaults": config.get("defaults", {}), "models": config["models"]},
        tolerance=config["report"]["reproduced_tolerance"],
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/analyze_models.py"
