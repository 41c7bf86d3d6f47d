# Summaries: per-member metrics -> one table of models (mean and spread over seeds); a model
# that did not train keeps its row, with the reason.


rule analyze_models:
    input:
        outcomes="results/tables/training_outcomes.csv",
        metrics=model_file("metrics"),
    output:
        table="results/tables/models.csv",
    log:
        "logs/analyze_models.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        models=trained_models,
        study={"defaults": config.get("defaults", {}), "models": config["models"]},
        # the test images the accuracies are measured on
        n_test=config["mnist"]["test_samples"] or sum(LABEL_COUNTS["test"]),
        n_train=config["mnist"]["train_samples"] or sum(LABEL_COUNTS["train"]),
    script:
        "../scripts/analyze_models.py"


# Test error against model size: the plot a reader uses to choose a network.


rule plot_error_vs_parameters:
    input:
        table="results/tables/models.csv",
        style=STYLE,
    output:
        figure=report("results/figures/error_vs_parameters.pdf", category="Figures"),
    log:
        "logs/plot_error_vs_parameters.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        all_models=list(MODELS),  # colours by config order, as in every figure
    script:
        "../scripts/plot_error_vs_parameters.py"
