# Summaries: per-member metrics -> one table of models (mean and spread over seeds); a model
# that did not train keeps its row, with the reason.


# Every test metric of every member, from the files its training job stored (its training
# record and test outputs): a new metric reruns this and what reads it, never a training job.
rule analyze_metrics:
    input:
        training=model_file("training"),
        test=model_file("test_probs"),
    output:
        metrics="results/analysis/metrics.csv",
    log:
        "logs/analyze_metrics.log",
    params:
        models=trained_models,
        # each test loss is the loss its model trained with
        losses={m: MODELS[m].spec.loss for m in MODELS},
    script:
        "../scripts/analyze_metrics.py"


rule analyze_models:
    input:
        outcomes="results/tables/training_outcomes.csv",
        metrics="results/analysis/metrics.csv",
    output:
        table="results/tables/models.csv",
    log:
        "logs/analyze_models.log",
    params:
        study={
            "defaults": config.get("defaults", {}),
            "models": config["models"],
            "max_epochs": config["max_epochs"],
        },
        # the test images the accuracies are measured on
        n_test=N_TEST,
        n_train=N_TRAIN,
        n_validation=config["mnist"]["validation_images"],
    script:
        "../scripts/analyze_models.py"


# Choosing a network: test error with its interval against size and against training cost,
# per model and family. Wall times come from the training jobs' benchmark files, read and not
# required (as collect_provenance does): a job without one shows no wall time.


rule analyze_families:
    input:
        models="results/tables/models.csv",
        metrics="results/analysis/metrics.csv",
        # the best model and those a test does not tell apart from it
        findings="results/analysis/findings.json",
    output:
        table="results/tables/families.csv",
        context="results/analysis/families.json",
    log:
        "logs/analyze_families.log",
    params:
        benchmarks={m: benchmark_files()[f"train_model {m}"] for m in MODELS},
        # Wilson's interval for a model with one seed is over these test images
        n_test=N_TEST,
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
    script:
        "../scripts/plot_families.py"


# What the study found, as numbers: degenerate and identical models, each published accuracy
# against the interval of a run of ours, and every claim of `claims:` tested.


rule analyze_findings:
    input:
        models="results/tables/models.csv",
        metrics="results/analysis/metrics.csv",
        probs=model_file("test_probs"),
    output:
        context="results/analysis/findings.json",
    log:
        "logs/analyze_findings.log",
    params:
        models=trained_models,
        claims=CLAIMS,
        controls=CONTROLS,
        n_test=N_TEST,
        n_train=N_TRAIN,
        reduced=reductions(config, MNIST_IMAGES["train"], MNIST_IMAGES["test"]),
    script:
        "../scripts/analyze_findings.py"
