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
        study={
            "defaults": config.get("defaults", {}),
            "models": config["models"],
            "max_epochs": config["max_epochs"],
        },
        # the test images the accuracies are measured on
        n_test=config["mnist"]["test_samples"] or sum(LABEL_COUNTS["test"]),
        n_train=config["mnist"]["train_samples"] or sum(LABEL_COUNTS["train"]),
    script:
        "../scripts/analyze_models.py"


# Choosing a network: test error with its interval against size and against training cost,
# per model and family. Wall times come from the training jobs' benchmark files, read and not
# required (as collect_provenance does): a job without one shows no wall time.


rule analyze_families:
    input:
        models="results/tables/models.csv",
        metrics=model_file("metrics"),
        # the best model and those a test does not tell apart from it
        findings="results/analysis/findings.json",
    output:
        table="results/tables/families.csv",
        context="results/analysis/families.json",
    log:
        "logs/analyze_families.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        models=trained_models,
        benchmarks={m: benchmark_files()[f"train_model {m}"] for m in MODELS},
        # Wilson's interval for a model with one seed is over these test images
        n_test=config["mnist"]["test_samples"] or sum(LABEL_COUNTS["test"]),
    script:
        "../scripts/analyze_families.py"


rule plot_families:
    input:
        table="results/tables/families.csv",
        style=STYLE,
    output:
        figure=report("results/figures/families.pdf", category="Figures"),
    log:
        "logs/plot_families.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_families.py"


# What the study found, as numbers: degenerate and identical models, each published accuracy
# against the interval of a run of ours, and every claim of `claims:` tested.


rule analyze_findings:
    input:
        models="results/tables/models.csv",
        metrics=model_file("metrics"),
        probs=model_file("test_probs"),
    output:
        context="results/analysis/findings.json",
    log:
        "logs/analyze_findings.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        models=trained_models,
        claims=CLAIMS,
        n_test=config["mnist"]["test_samples"] or sum(LABEL_COUNTS["test"]),
        n_train=config["mnist"]["train_samples"] or sum(LABEL_COUNTS["train"]),
        reduced=reductions(config, sum(LABEL_COUNTS["train"]), sum(LABEL_COUNTS["test"])),
    script:
        "../scripts/analyze_findings.py"
