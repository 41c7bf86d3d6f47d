# The border mystery: why the ideal digits of an mlp lean on the image border. It reads the
# first dense layer's weights of each pixel, so it runs on INSPECT["border_model"] (the
# inspected model when its family is dense over the pixels, else the study's first model that
# is) and is left out of a study without one; the report says so. Every rule here but train_border_control is a local rule.


rule train_border_control:
    input:
        data="results/data/mnist.npz",
    output:
        weights="results/inspect/border_control/weights.pt",
        history_epoch="results/inspect/border_control/history_epoch.csv",
        training="results/inspect/border_control/training.csv",
    log:
        "logs/train_border_control.log",
    threads: 1
    params:
        spec=lambda w: {
            **MODELS[INSPECT["border_model"]].spec.to_dict(),
            "seeds": MODELS[INSPECT["border_model"]].spec.seeds[:1],
            "weight_decay": INSPECT["control_weight_decay"],
        },
    script:
        "../scripts/train_border_control.py"


rule inspect_border_analysis:
    input:
        model=f"results/models/{INSPECT['border_model']}",
        control="results/inspect/border_control/weights.pt",
        data="results/data/mnist.npz",
    output:
        maps="results/inspect/border.npz",
        summary="results/inspect/border.json",
    log:
        "logs/inspect_border_analysis.log",
    params:
        ascent=ASCENT,
    script:
        "../scripts/inspect_border_analysis.py"


rule plot_border_analysis:
    input:
        "results/inspect/border.npz",
        style=STYLE,
    output:
        figure=report("results/figures/border_analysis.pdf", category="Inside the networks"),
    log:
        "logs/plot_border_analysis.log",
    script:
        "../scripts/plot_border_analysis.py"
