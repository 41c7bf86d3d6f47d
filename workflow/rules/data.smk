# MNIST: fetch and verify the raw files, then read them once into uint8 arrays.

warn_about_deleted_raw_files(MNIST_ROOT, "results/data/mnist.npz")


rule fetch_mnist:
    output:
        [f"{MNIST_ROOT}/MNIST/raw/{name}" for name in RAW_FILES],
    log:
        "logs/fetch_mnist.log",
    params:
        existing_copy=config["mnist"]["existing_copy"],
    script:
        "../scripts/fetch_mnist.py"


# ancient(): the raw files are checked against their SHA-256, so a copy fetched again is the
# same bytes, and its new date must not make everything downstream rerun.
rule load_mnist:
    input:
        ancient(rules.fetch_mnist.output),
    output:
        "results/data/mnist.npz",
    log:
        "logs/load_mnist.log",
    params:
        train_samples=config["mnist"]["train_samples"],
        test_samples=config["mnist"]["test_samples"],
        validation_images=config["mnist"]["validation_images"],
        validation_seed=config["mnist"]["validation_seed"],
    script:
        "../scripts/load_mnist.py"
