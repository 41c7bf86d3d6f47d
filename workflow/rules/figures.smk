# Figures: each one its own rule, reading results files only (restyling never retrains).


rule plot_loss_curves:
    input:
        steps=model_file("history_step"),
        epochs=model_file("history_epoch"),
        # the models that give one label to nearly every image are left out of the figure
        findings="results/analysis/findings.json",
        style=STYLE,
    output:
        figure=report("results/figures/loss_curves.pdf", category="Figures"),
    log:
        "logs/plot_loss_curves.log",
    params:
        smoothing=config["report"]["loss_smoothing"],
        models=trained_models,
        labels=LABELS,
    script:
        "../scripts/plot_loss_curves.py"


# Learning curves: every epoch's accuracy on the test set (and on the validation images, for
# the models that hold some out), over seeds; and the epoch the careful protocol keeps.


rule analyze_learning_curves:
    input:
        epochs=model_file("history_epoch"),
    output:
        curves="results/analysis/learning_curves.csv",
        context="results/analysis/learning_curves.json",
    log:
        "logs/analyze_learning_curves.log",
    params:
        models=trained_models,
    script:
        "../scripts/analyze_learning_curves.py"


rule plot_learning_curves:
    input:
        curves="results/analysis/learning_curves.csv",
        findings="results/analysis/findings.json",
        style=STYLE,
    output:
        figure=report("results/figures/learning_curves.pdf", category="Figures"),
    log:
        "logs/plot_learning_curves.log",
    params:
        labels=LABELS,
    script:
        "../scripts/plot_learning_curves.py"


# The data: the average training image of each digit.


rule analyze_digits:
    input:
        data="results/data/mnist.npz",
    output:
        means="results/analysis/digit_means.npz",
        context="results/analysis/digits.json",
    log:
        "logs/analyze_digits.log",
    script:
        "../scripts/analyze_digits.py"


rule plot_digit_means:
    input:
        means="results/analysis/digit_means.npz",
        style=STYLE,
    output:
        figure=report("results/figures/digit_means.pdf", category="Figures"),
    log:
        "logs/plot_digit_means.log",
    script:
        "../scripts/plot_digit_means.py"


# Mistakes: confusion matrices of every model (pooled over its seeds), per-digit error rates,
# and the best model's most confident mistakes.


rule analyze_mistakes:
    input:
        probs=model_file("test_probs"),
        findings="results/analysis/findings.json",
        models="results/tables/models.csv",
        digit_means="results/analysis/digit_means.npz",
    output:
        confusion="results/analysis/confusion.csv",
        errors="results/analysis/digit_errors.csv",
        confident="results/analysis/confident_mistakes.csv",
        context="results/analysis/mistakes.json",
    log:
        "logs/analyze_mistakes.log",
    params:
        models=trained_models,
        labels=LABELS,
        gallery_size=16,
    script:
        "../scripts/analyze_mistakes.py"


rule plot_confusion_matrices:
    input:
        confusion="results/analysis/confusion.csv",
        style=STYLE,
    output:
        figure=report("results/figures/confusion_matrices.pdf", category="Figures"),
    log:
        "logs/plot_confusion_matrices.log",
    params:
        floor=config["report"]["confusion_floor"],
        labels=LABELS,
    script:
        "../scripts/plot_confusion_matrices.py"


rule plot_mistakes:
    input:
        confusion="results/analysis/confusion.csv",
        summary="results/analysis/mistakes.json",
        style=STYLE,
    output:
        figure_best=report("results/figures/mistakes_best.pdf", category="Figures"),
        figure_worst=report("results/figures/mistakes_worst.pdf", category="Figures"),
    log:
        "logs/plot_mistakes.log",
    params:
        all_models=list(MODELS),  # colours by config order, as in every figure
    script:
        "../scripts/plot_mistakes.py"


rule plot_digit_errors:
    input:
        errors="results/analysis/digit_errors.csv",
        mistakes="results/analysis/mistakes.json",
        style=STYLE,
    output:
        figure=report("results/figures/digit_errors.pdf", category="Figures"),
    log:
        "logs/plot_digit_errors.log",
    params:
        labels=LABELS,
    script:
        "../scripts/plot_digit_errors.py"


rule plot_confident_mistakes:
    input:
        confident="results/analysis/confident_mistakes.csv",
        data="results/data/mnist.npz",
        style=STYLE,
    output:
        figure=report("results/figures/confident_mistakes.pdf", category="Figures"),
    log:
        "logs/plot_confident_mistakes.log",
    script:
        "../scripts/plot_confident_mistakes.py"


# ROC: curves and AUCs of every model from its first seed's stored test probabilities. One job
# for all models: the work is a fraction of a second per model, a job's start-up is seconds.


rule analyze_roc:
    input:
        probs=model_file("test_probs"),
        metrics="results/analysis/metrics.csv",
    output:
        curves="results/analysis/roc_curves.npz",
        context="results/analysis/roc.json",
    log:
        "logs/analyze_roc.log",
    params:
        models=trained_models,
        specs={m: MODELS[m].spec.to_dict() for m in MODELS},
        labels=LABELS,
    script:
        "../scripts/analyze_roc.py"


rule plot_roc:
    input:
        curves="results/analysis/roc_curves.npz",
        summary="results/analysis/roc.json",
        style=STYLE,
    output:
        figure=report("results/figures/roc.pdf", category="Figures"),
    log:
        "logs/plot_roc.log",
    script:
        "../scripts/plot_roc.py"


# Batch size against learning rate (the seed's models 0-4).


rule analyze_batch_lr:
    input:
        models="results/tables/models.csv",
        metrics="results/analysis/metrics.csv",
        probs=model_file("test_probs"),
    output:
        context="results/analysis/batch_lr.json",
    log:
        "logs/analyze_batch_lr.log",
    params:
        models=trained_models,
        n_train=N_TRAIN,
    script:
        "../scripts/analyze_batch_lr.py"


rule plot_batch_lr:
    input:
        findings="results/analysis/batch_lr.json",
        metrics="results/analysis/metrics.csv",
        style=STYLE,
    output:
        figure=report("results/figures/batch_lr.pdf", category="Figures"),
    log:
        "logs/plot_batch_lr.log",
    params:
        all_models=list(MODELS),
    script:
        "../scripts/plot_batch_lr.py"
