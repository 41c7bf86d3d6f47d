# The hyperparameter scan: learning rate x hidden size. One job per hidden size (a row of the
# heatmap); its learning rates train side by side as members of one batched network.


rule train_scan_row:
    input:
        data="results/data/mnist.npz",
    output:
        history_epoch="results/scan/h{hidden}/history_epoch.csv",
        test_probs="results/scan/h{hidden}/test_probs.npz",
        run="results/scan/h{hidden}/run.json",
        training="results/scan/h{hidden}/training.csv",
    log:
        "logs/train_scan_row/h{hidden}.log",
    benchmark:
        "results/benchmarks/train_scan_row/h{hidden}.tsv"
    wildcard_constraints:
        hidden=r"\d+",
    priority: lambda w: scan_job(w)["priority"]
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
        training=[f"results/scan/h{h}/training.csv" for h in SCAN.hidden_sizes],
        test=[f"results/scan/h{h}/test_probs.npz" for h in SCAN.hidden_sizes],
        data="results/data/mnist.npz",
    output:
        cells="results/scan/scan.csv",
        context="results/scan/summary.json",
    log:
        "logs/analyze_scan.log",
    params:
        hidden_sizes=list(SCAN.hidden_sizes),
        loss=scan_row_spec(config, SCAN.hidden_sizes[0]).loss,
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
    params:
        linear_below=config["scan"]["linear_below"],
    script:
        "../scripts/plot_scan.py"
