# MNIST: fetch and verify the raw files, then read them once into uint8 tensors.


rule fetch_mnist:
    output:
        [f"{MNIST_ROOT}/MNIST/raw/{name}" for name in RAW_FILES],
    log:
        "logs/fetch_mnist.log",
    params:
        existing_copy=config["mnist"]["existing_copy"],
        raw_dir=f"{MNIST_ROOT}/MNIST/raw",
    script:
        "../scripts/fetch_mnist.py"


rule load_mnist:
    input:
        rules.fetch_mnist.output,
    output:
        "results/data/mnist.pt",
    log:
        "logs/load_mnist.log",
    params:
        root=MNIST_ROOT,
        train_samples=config["mnist"]["train_samples"],
        test_samples=config["mnist"]["test_samples"],
    script:
        "../scripts/load_mnist.py"
