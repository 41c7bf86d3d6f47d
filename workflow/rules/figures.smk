# Figures: each one its own rule, reading results files only (restyling never retrains).


rule plot_loss_curves:
    input:
        steps=model_file("history_step.csv"),
        epochs=model_file("history_epoch.csv"),
    output:
        report("results/figures/loss_curves.pdf", category="Figures"),
    log:
        "logs/plot_loss_curves.log",
    params:
        models=list(MODELS),
        labels={m: MODELS[m].label for m in MODELS},
        style=STYLE,
    script:
        "../scripts/plot_loss_curves.py"
