# Training: one job per model spec; the spec's seeds train side by side as one batched network.


rule train_model:
    input:
        data="results/data/mnist.pt",
    output:
        weights="results/models/{model}/weights.pt",
        history_epoch="results/models/{model}/history_epoch.csv",
        history_step="results/models/{model}/history_step.csv",
        test_probs="results/models/{model}/test_probs.npz",
        metrics="results/models/{model}/metrics.csv",
    log:
        "logs/train_model/{model}.log",
    benchmark:
        "results/benchmarks/train_model/{model}.tsv"
    params:
        spec=model_spec,
    threads: train_threads
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime_min,
        gpu=train_gpus,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/train_model.py"
