# How far to trust the answers: intervals, calibration, and detecting mistakes and inputs that
# are not digits, from every trained model's stored test probabilities.


rule analyze_trust:
    input:
        probs=model_file("test_probs"),
        findings="results/analysis/findings.json",
        metrics="results/analysis/metrics.csv",
        responses="results/inspect/responses.csv",
        images="results/inspect/unfamiliar/images.npz",
    output:
        context="results/analysis/trust.json",
        curves="results/analysis/trust_curves.npz",
    log:
        "logs/analyze_trust.log",
    params:
        models=trained_models,
        labels=LABELS,
        specs={m: MODELS[m].spec.to_dict() for m in MODELS},
        bins=config["trust"]["bins"],
        literature=config["trust"]["literature"],
        ood_sets=["gaussian", "uniform", "unfamiliar", "digits"],
        n_noise=config["trust"]["noise_images"],
    script:
        "../scripts/analyze_trust.py"


rule plot_reliability:
    input:
        context="results/analysis/trust.json",
        curves="results/analysis/trust_curves.npz",
        style=STYLE,
    output:
        figure=report("results/figures/reliability.pdf", category="Figures"),
    log:
        "logs/plot_reliability.log",
    script:
        "../scripts/plot_reliability.py"


rule plot_risk_coverage:
    input:
        context="results/analysis/trust.json",
        curves="results/analysis/trust_curves.npz",
        style=STYLE,
    output:
        figure=report("results/figures/risk_coverage.pdf", category="Figures"),
    log:
        "logs/plot_risk_coverage.log",
    params:
        all_models=list(MODELS),  # colours by config order, as in every figure
    script:
        "../scripts/plot_risk_coverage.py"
