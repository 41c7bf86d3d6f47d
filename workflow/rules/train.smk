# Training: one job per model spec; the spec's seeds train side by side as one batched network.
# Each job fills results/models/<id>/ (files named in mnist_study.train.outcome.MODEL_FILES)
# and writes outcome.json last; see mnist_study.train.outcome for what --keep-going changes.


rule train_model:
    input:
        data="results/data/mnist.npz",
    output:
        directory("results/models/{model}"),
    log:
        "logs/train_model/{model}.log",
    benchmark:
        "results/benchmarks/train_model/{model}.tsv"
    priority: lambda w: model_job(w)["priority"]
    threads: lambda w: model_job(w)["threads"]
    resources:
        mem_mb=lambda w: model_job(w)["mem_mb"],
        runtime=lambda w: model_job(w)["runtime"],
        gpu=train_gpus,
    params:
        spec=model_spec,
    script:
        "../scripts/train_model.py"


# Which models trained. A checkpoint: rules downstream read only the models that trained (all
# of them, unless a failure was recorded under --keep-going), through trained_models().
checkpoint collect_training_outcomes:
    input:
        expand("results/models/{model}", model=list(MODELS)),
    output:
        "results/tables/training_outcomes.csv",
    log:
        "logs/collect_training_outcomes.log",
    params:
        models=list(MODELS),
    script:
        "../scripts/collect_training_outcomes.py"
