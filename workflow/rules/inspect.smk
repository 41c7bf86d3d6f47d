# Looking inside the networks: unfamiliar images, class maximization, deep dream and
# regularized visualization, for any differentiable network (the border mystery, which needs a
# first dense layer over the pixels, is border.smk). Compute rules write results/inspect/...;
# plot rules read only those files. Every rule here is a local rule on a cluster: inspection
# runs gradient ascent on trained models for seconds, not worth a queue slot.
from mnist_study.inspection.unfamiliar import folder_fingerprint

ASCENT = {k: INSPECT[k] for k in ("steps", "lr", "start")}
# The border analysis's numbers, where the study has a model it applies to (border.smk).
BORDER_SUMMARY = {"border": "results/inspect/border.json"} if INSPECT["border_model"] else {}


rule prepare_unfamiliar_images:
    output:
        "results/inspect/unfamiliar/images.npz",
    log:
        "logs/prepare_unfamiliar_images.log",
    params:
        folder=INSPECT["unfamiliar_dir"],
        # adding, removing or changing an image reruns the figure (why a param: the function)
        contents=lambda w: folder_fingerprint(INSPECT["unfamiliar_dir"]),
    script:
        "../scripts/prepare_unfamiliar_images.py"


# The noise images of Hendrycks & Gimpel's out-of-distribution test, made reproducibly here.
rule prepare_noise_images:
    output:
        "results/inspect/unfamiliar/noise.npz",
    log:
        "logs/prepare_noise_images.log",
    params:
        n=config["trust"]["noise_images"],
        seed=0,
    script:
        "../scripts/prepare_noise_images.py"


rule prepare_sklearn_digits:
    output:
        "results/inspect/unfamiliar/sklearn_digits.npz",
    log:
        "logs/prepare_sklearn_digits.log",
    script:
        "../scripts/prepare_sklearn_digits.py"


# Every trained model's answers to the unfamiliar images, in one job (seconds of work).
rule inspect_model_responses:
    input:
        weights=model_file("weights"),
        images="results/inspect/unfamiliar/images.npz",
        digits="results/inspect/unfamiliar/sklearn_digits.npz",
        noise="results/inspect/unfamiliar/noise.npz",
        test_probs=model_file("test_probs"),
    output:
        probs="results/inspect/responses.npz",
        per_member="results/inspect/responses.csv",
    log:
        "logs/inspect_model_responses.log",
    params:
        models=trained_models,
    script:
        "../scripts/inspect_model_responses.py"


# Dead hidden units of every ReLU model that trained (units no training image activates),
# counted on the training images: whether a small network lost units it was given.
rule inspect_dead_units:
    input:
        weights=lambda w: [f"results/models/{m}/weights.pt" for m in relu_models()],
        training=lambda w: [f"results/models/{m}/training.csv" for m in relu_models()],
        # each seed's test accuracy beside its count, from what training stored (not from
        # metrics.csv: a new metric must not rerun this torch job)
        test=lambda w: [f"results/models/{m}/test_probs.npz" for m in relu_models()],
        data="results/data/mnist.npz",
    output:
        table="results/tables/dead_units.csv",
    log:
        "logs/inspect_dead_units.log",
    params:
        models=lambda w: relu_models(),
    script:
        "../scripts/inspect_dead_units.py"


# Batch norm on images unlike digits: how far noise lies from the running statistics each
# batch-norm layer kept from training (the mechanism of a detector that fails on noise).
rule inspect_batch_norm:
    input:
        weights=lambda w: [f"results/models/{m}/weights.pt" for m in batch_norm_models()],
        data="results/data/mnist.npz",
        noise="results/inspect/unfamiliar/noise.npz",
    output:
        table="results/tables/batch_norm.csv",
    log:
        "logs/inspect_batch_norm.log",
    params:
        models=lambda w: batch_norm_models(),
    script:
        "../scripts/inspect_batch_norm.py"


# The ideal digit of each model that the report shows, in one job (seconds per model).
rule inspect_class_maximization:
    input:
        weights=lambda w: [f"results/models/{m}/weights.pt" for m in class_max_models()],
        digit_means="results/analysis/digit_means.npz",
        # which seed stands for each model (its first that works), decided from its answers
        probs=lambda w: [f"results/models/{m}/test_probs.npz" for m in class_max_models()],
    output:
        images="results/inspect/class_max.npz",
        # per model: the logit reached, how many digits hit, pixels at a bound, likeness to the
        # class's average image
        summary="results/inspect/class_max.json",
    log:
        "logs/inspect_class_maximization.log",
    params:
        models=lambda w: class_max_models(),
        ascent=ASCENT,
    script:
        "../scripts/inspect_class_maximization.py"


# The inspected model alone: these jobs read its training folder, not the checkpoint, so they
# rerun when it retrains and never when another model is added or changed (the script refuses
# a model whose training failed, saying why: mnist_study.train.outcome.trained_model_file).
rule inspect_deep_dream:
    input:
        model=f"results/models/{INSPECT['model']}",
        digit_means="results/analysis/digit_means.npz",
    output:
        "results/inspect/deep_dream.npz",
    log:
        "logs/inspect_deep_dream.log",
    params:
        ascent=ASCENT,
    script:
        "../scripts/inspect_deep_dream.py"


rule inspect_regularized_maximization:
    input:
        model=f"results/models/{INSPECT['model']}",
        digit_means="results/analysis/digit_means.npz",
        data="results/data/mnist.npz",
    output:
        images="results/inspect/regularized.npz",
        measures="results/inspect/regularized.csv",
    log:
        "logs/inspect_regularized_maximization.log",
    params:
        ascent=ASCENT,
        regularizers={k: INSPECT[k] for k in ("l2", "tv", "blur_sigma", "jitter")},
    script:
        "../scripts/inspect_regularized_maximization.py"


rule analyze_inspection:
    input:
        **BORDER_SUMMARY,
        responses="results/inspect/responses.csv",
        images="results/inspect/unfamiliar/images.npz",
        digits="results/inspect/unfamiliar/sklearn_digits.npz",
        dream="results/inspect/deep_dream.npz",
        regularized="results/inspect/regularized.csv",
        class_max="results/inspect/class_max.json",
    output:
        context="results/inspect/inspection.json",
        responses="results/tables/unfamiliar.csv",
    log:
        "logs/analyze_inspection.log",
    params:
        model_activation=MODELS[INSPECT["model"]].spec.activation,
        labels=LABELS,
        families={m: MODELS[m].spec.family for m in MODELS},
        inspect=INSPECT,
    script:
        "../scripts/analyze_inspection.py"


rule plot_unfamiliar:
    input:
        images="results/inspect/unfamiliar/images.npz",
        responses="results/inspect/responses.npz",
        style=STYLE,
    output:
        figure=report("results/figures/unfamiliar.pdf", category="Inside the networks"),
    log:
        "logs/plot_unfamiliar.log",
    params:
        models=INSPECT["unfamiliar_models"],  # those that trained
        all_models=list(MODELS),
        labels=LABELS,
    script:
        "../scripts/plot_unfamiliar.py"


rule plot_class_maximization:
    input:
        images="results/inspect/class_max.npz",
        digit_means="results/analysis/digit_means.npz",
        style=STYLE,
    output:
        figure=report("results/figures/class_maximization.pdf", category="Inside the networks"),
    log:
        "logs/plot_class_maximization.log",
    params:
        model=INSPECT["model"],
    script:
        "../scripts/plot_class_maximization.py"


rule plot_deep_dream:
    input:
        "results/inspect/deep_dream.npz",
        style=STYLE,
    output:
        figure=report("results/figures/deep_dream.pdf", category="Inside the networks"),
    log:
        "logs/plot_deep_dream.log",
    script:
        "../scripts/plot_deep_dream.py"


rule plot_regularized_maximization:
    input:
        "results/inspect/regularized.npz",
        style=STYLE,
    output:
        figure=report(
            "results/figures/regularized_maximization.pdf", category="Inside the networks"
        ),
    log:
        "logs/plot_regularized_maximization.log",
    script:
        "../scripts/plot_regularized_maximization.py"


# The grids of ideal digits (or dreams) of many models share one script and its input: the
# grid of the seed's Tables 1 and 2 is the rule the others take everything from but their
# rows, images, figure and log (`use rule`; a derived rule cannot take another script).
rule plot_class_max_grid:
    input:
        images="results/inspect/class_max.npz",
        style=STYLE,
    output:
        figure=report("results/figures/class_max_grid.pdf", category="Inside the networks"),
    log:
        "logs/plot_class_max_grid.log",
    params:
        labels=LABELS,
        # rows, of the models that trained (those the npz holds); static, as the rows'
        # choice must not wait for the checkpoint
        rows=[m for m in MODELS if MODELS[m].in_seed_tables] or list(MODELS),
        images="images",
    script:
        "../scripts/plot_class_max_grid.py"


# The seed's deep dream (the input that minimizes one label's loss) for every model: its
# author's "deep dreams of other models". Computed beside the class maximization.
use rule plot_class_max_grid as plot_dream_grid with:
    output:
        figure=report("results/figures/dream_grid.pdf", category="Inside the networks"),
    log:
        "logs/plot_dream_grid.log",
    params:
        rows=list(MODELS),
        images="dreams",


# The same for the models beyond the seed's tables, where a study has both kinds.
if any(m.in_seed_tables for m in MODELS.values()) and not all(
    m.in_seed_tables for m in MODELS.values()
):

    use rule plot_class_max_grid as plot_class_max_beyond with:
        output:
            figure=report("results/figures/class_max_beyond.pdf", category="Inside the networks"),
        log:
            "logs/plot_class_max_beyond.log",
        params:
            rows=[m for m in MODELS if not MODELS[m].in_seed_tables],
