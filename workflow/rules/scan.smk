# The hyperparameter scan: learning rate x hidden size. One job per hidden size (a row of the
# heatmap); its learning rates train side by side as members of one batched network.


rule train_scan_row:
    input:
        data="results/data/mnist.npz",
    output:
        metrics="results/scan/h{hidden}/metrics.csv",
        history_epoch="results/scan/h{hidden}/history_epoch.csv",
        run="results/scan/h{hidden}/run.json",
    log:
        "logs/train_scan_row/h{hidden}.log",
    benchmark:
        "results/benchmarks/train_scan_row/h{hidden}.tsv"
    wildcard_constraints:
        hidden=r"\d+",
    priority: lambda w: scan_job(w)["priority"]
    conda:
        "../../envs/mnist-study.yaml"
    threads: lambda w: scan_job(w)["threads"]
    resources:
        mem_mb=lambda w: scan_job(w)["mem_mb"],
        runtime=lambda w: scan_job(w)["runtime"],
    params:
        spec=scan_spec,
        learning_rates=list(SCAN.learning_rates),
    script:
        "../scripts/train_scan_row.py"


rule analyze_scan:
    input:
        metrics=[f"results/scan/h{h}/metrics.csv" for h in SCAN.hidden_sizes],
        data="results/data/mnist.npz",
    output:
        cells="results/scan/scan.csv",
        context="results/scan/summary.json",
    log:
        "logs/analyze_scan.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        hidden_sizes=list(SCAN.hidden_sizes),
        settings=config["scan"],
    script:
        "../scripts/analyze_scan.py"


rule plot_scan:
    input:
        cells="results/scan/scan.csv",
        style=STYLE,
    output:
        figure=report("results/figures/scan.pdf", category="Figures"),
    log:
        "logs/plot_scan.log",
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        linear_below=config["scan"]["linear_below"],
    script:
        "../scripts/plot_scan.py"
