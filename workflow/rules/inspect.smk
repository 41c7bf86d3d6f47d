# Looking inside the networks: unfamiliar images, class maximization, deep dream, regularized
# visualization and the border mystery. Compute rules write results/inspect/...; plot rules
# read only those files.
from mnist_study.unfamiliar import candidate_files

ASCENT = {k: INSPECT[k] for k in ("steps", "lr", "start")}


rule prepare_unfamiliar_images:
    input:
        # the folder's files are inputs, so adding or changing an image reruns the figure
        lambda w: [str(p) for p in candidate_files(INSPECT["unfamiliar_dir"])],
    output:
        "results/inspect/unfamiliar/images.npz",
    log:
        "logs/prepare_unfamiliar_images.log",
    params:
        folder=INSPECT["unfamiliar_dir"],
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/prepare_unfamiliar_images.py"


rule prepare_sklearn_digits:
    output:
        "results/inspect/unfamiliar/sklearn_digits.npz",
    log:
        "logs/prepare_sklearn_digits.log",
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/prepare_sklearn_digits.py"


rule compute_model_responses:
    input:
        weights=lambda w: trained_file(w.model, "weights"),
        images="results/inspect/unfamiliar/images.npz",
        digits="results/inspect/unfamiliar/sklearn_digits.npz",
        data="results/data/mnist.pt",
    output:
        probs="results/inspect/responses/{model}.npz",
        table="results/inspect/responses/{model}.csv",
    log:
        "logs/compute_model_responses/{model}.log",
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compute_model_responses.py"


rule compute_class_maximization:
    input:
        weights=lambda w: trained_file(w.model, "weights"),
    output:
        "results/inspect/class_max/{model}.npz",
    log:
        "logs/compute_class_maximization/{model}.log",
    params:
        ascent=ASCENT,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compute_class_maximization.py"


rule compute_deep_dream:
    input:
        weights=inspected_weights,
        data="results/data/mnist.pt",
    output:
        "results/inspect/deep_dream.npz",
    log:
        "logs/compute_deep_dream.log",
    params:
        ascent=ASCENT,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compute_deep_dream.py"


rule compute_regularized_maximization:
    input:
        weights=inspected_weights,
        data="results/data/mnist.pt",
    output:
        images="results/inspect/regularized.npz",
        table="results/inspect/regularized.csv",
    log:
        "logs/compute_regularized_maximization.log",
    params:
        ascent=ASCENT,
        regularizers={k: INSPECT[k] for k in ("l2", "tv", "blur_sigma", "jitter")},
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compute_regularized_maximization.py"


rule train_border_control:
    input:
        data="results/data/mnist.pt",
    output:
        weights="results/inspect/border_control/weights.pt",
        history_epoch="results/inspect/border_control/history_epoch.csv",
        metrics="results/inspect/border_control/metrics.csv",
    log:
        "logs/train_border_control.log",
    params:
        spec=lambda w: {**MODELS[INSPECT["model"]].spec.to_dict(),
                        "seeds": MODELS[INSPECT["model"]].spec.seeds[:1],
                        "weight_decay": INSPECT["control_weight_decay"]},
    threads: 1
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/train_border_control.py"


rule compute_border_analysis:
    input:
        weights=inspected_weights,
        control="results/inspect/border_control/weights.pt",
        control_metrics="results/inspect/border_control/metrics.csv",
        data="results/data/mnist.pt",
    output:
        maps="results/inspect/border.npz",
        summary="results/inspect/border.json",
    log:
        "logs/compute_border_analysis.log",
    params:
        ascent=ASCENT,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compute_border_analysis.py"


rule summarize_inspection:
    input:
        responses=lambda w: expand("results/inspect/responses/{model}.csv", model=trained_models()),
        images="results/inspect/unfamiliar/images.npz",
        digits="results/inspect/unfamiliar/sklearn_digits.npz",
        dream="results/inspect/deep_dream.npz",
        regularized="results/inspect/regularized.csv",
        border="results/inspect/border.json",
    output:
        context="results/inspect/inside.json",
        table="results/tables/unfamiliar.csv",
    log:
        "logs/summarize_inspection.log",
    params:
        models=trained_models,
        labels={m: MODELS[m].label for m in MODELS},
        inspect=INSPECT,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/summarize_inspection.py"


rule plot_unfamiliar:
    input:
        images="results/inspect/unfamiliar/images.npz",
        probs=lambda w: expand("results/inspect/responses/{model}.npz", model=unfamiliar_models()),
    output:
        report("results/figures/unfamiliar.pdf", category="Inside the networks"),
    log:
        "logs/plot_unfamiliar.log",
    params:
        models=unfamiliar_models,
        all_models=list(MODELS),
        labels={m: MODELS[m].label for m in MODELS},
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_unfamiliar.py"


rule plot_class_maximization:
    input:
        images=f"results/inspect/class_max/{INSPECT['model']}.npz",
        data="results/data/mnist.pt",
    output:
        report("results/figures/class_maximization.pdf", category="Inside the networks"),
    log:
        "logs/plot_class_maximization.log",
    params:
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_class_maximization.py"


rule plot_deep_dream:
    input:
        "results/inspect/deep_dream.npz",
    output:
        report("results/figures/deep_dream.pdf", category="Inside the networks"),
    log:
        "logs/plot_deep_dream.log",
    params:
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_deep_dream.py"


rule plot_regularized_maximization:
    input:
        "results/inspect/regularized.npz",
    output:
        report("results/figures/regularized_maximization.pdf", category="Inside the networks"),
    log:
        "logs/plot_regularized_maximization.log",
    params:
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_regularized_maximization.py"


rule plot_border_analysis:
    input:
        "results/inspect/border.npz",
    output:
        report("results/figures/border_analysis.pdf", category="Inside the networks"),
    log:
        "logs/plot_border_analysis.log",
    params:
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_border_analysis.py"


rule plot_class_max_grid:
    input:
        images=lambda w: expand("results/inspect/class_max/{model}.npz", model=grid_models()),
    output:
        report("results/figures/class_max_grid.pdf", category="Inside the networks"),
    log:
        "logs/plot_class_max_grid.log",
    params:
        models=grid_models,
        labels={m: MODELS[m].label for m in MODELS},
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_class_max_grid.py"
