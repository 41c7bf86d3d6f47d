# MNIST: fetch and verify the raw files, then read them once into uint8 arrays.


rule fetch_mnist:
    output:
        [f"{MNIST_ROOT}/MNIST/raw/{name}" for name in RAW_FILES],
    log:
        "logs/fetch_mnist.log",
    # compute nodes often have no internet: the submit host fetches
    localrule: True
    conda:
        "../../envs/mnist-study.yaml"
    params:
        existing_copy=config["mnist"]["existing_copy"],
    script:
        "../scripts/fetch_mnist.py"


rule load_mnist:
    input:
        rules.fetch_mnist.output,
    output:
        "results/data/mnist.npz",
    log:
        "logs/load_mnist.log",
    conda:
        "../../envs/mnist-study.yaml"
    params:
        train_samples=config["mnist"]["train_samples"],
        test_samples=config["mnist"]["test_samples"],
    script:
        "../scripts/load_mnist.py"
