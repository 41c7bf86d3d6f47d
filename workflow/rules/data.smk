# MNIST: fetch and verify the raw files, then read them once into uint8 tensors.


rule fetch_mnist:
    # compute nodes often have no internet: the submit host fetches
    localrule: True
    output:
        [f"{MNIST_ROOT}/MNIST/raw/{name}" for name in RAW_FILES],
    log:
        "logs/fetch_mnist.log",
    params:
        existing_copy=config["mnist"]["existing_copy"],
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/fetch_mnist.py"


rule load_mnist:
    input:
        rules.fetch_mnist.output,
    output:
        "results/data/mnist.npz",
    log:
        "logs/load_mnist.log",
    params:
        train_samples=config["mnist"]["train_samples"],
        test_samples=config["mnist"]["test_samples"],
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/load_mnist.py"
