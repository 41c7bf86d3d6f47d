# The hyperparameter scan: learning rate x hidden size. One job per hidden size (a row of the
# heatmap); its learning rates train side by side as members of one batched network.

rule train_scan_row:
    input:
        data="results/data/mnist.npz",
    output:
        metrics="results/scan/h{hidden}/metrics.csv",
        history_epoch="results/scan/h{hidden}/history_epoch.csv",
    log:
        "logs/train_scan_row/h{hidden}.log",
    benchmark:
        "results/benchmarks/train_scan_row/h{hidden}.tsv"
    wildcard_constraints:
        hidden=r"\d+",
    params:
        spec=scan_spec,
        learning_rates=list(SCAN.learning_rates),
    threads: scan_threads
    resources:
        mem_mb=scan_mem_mb,
        runtime=scan_runtime_min,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/train_scan_row.py"


rule summarize_scan:
    localrule: True
    input:
        metrics=[f"results/scan/h{h}/metrics.csv" for h in SCAN.hidden_sizes],
    output:
        table="results/scan/scan.csv",
        summary="results/scan/summary.json",
    log:
        "logs/summarize_scan.log",
    params:
        hidden_sizes=list(SCAN.hidden_sizes),
        settings=config["scan"],
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/summarize_scan.py"


rule plot_scan:
    localrule: True
    input:
        table="results/scan/scan.csv",
    output:
        report("results/figures/scan_heatmap.pdf", category="Figures"),
    log:
        "logs/plot_scan.log",
    params:
        linear_below=config["scan"]["linear_below"],
        style=STYLE,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/plot_scan.py"
