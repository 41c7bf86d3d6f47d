# What a training job asks the scheduler for, from its spec and how many members it trains.

# Below this many multiply-adds per sample (over all members; for an mlp, its parameters), a
# job is bound by per-step overhead and gains nothing from more threads: several such jobs run
# side by side instead. Larger ones are arithmetic-bound and take what they get.
OVERHEAD_BOUND_MACS = 300_000
# A job whose whole training is fewer FLOPs than this (a second or two of arithmetic: the quick
# study's) is mostly start-up (imports, data, writing its files), which one thread does alone:
# one thread each lets two such jobs start up side by side.
SMALL_JOB_FLOPS = 2e11


def training_job(spec, members):
    """threads, mem_mb and runtime (minutes) of a job training `members` copies of `spec`."""
    parameters = spec.n_parameters() * members
    flops = spec.train_flops(60000) / len(spec.seeds) * members
    n_train = config["mnist"].get("train_samples") or 60000
    small = spec.train_flops(n_train) / len(spec.seeds) * members < SMALL_JOB_FLOPS
    return {
        "threads": 1 if small or spec.forward_macs() * members < OVERHEAD_BOUND_MACS else 8,
        # data (~250 MB as float32 on the device) + weights, grads and 2 Adam moments
        "mem_mb": 1500 + 4 * 4 * parameters // 2**20 * 2,
        # generous: 50 GFLOP/s is a slow CPU core pair; a SLURM limit, not a prediction
        "runtime": 10 + int(flops / 50e9 / 60),
    }


def model_job(wildcards):
    spec = MODELS[wildcards.model].spec
    return training_job(spec, len(spec.seeds))


def scan_job(wildcards):
    return training_job(scan_row_spec(config, int(wildcards.hidden)), len(SCAN.learning_rates))


def train_gpus(wildcards):
    # Only an explicit `device: cuda` asks the scheduler for a GPU: on a CPU-only cluster a
    # GPU request would make sbatch refuse the job. The gpu profile caps the sum at one GPU.
    return int(MODELS[wildcards.model].spec.device == "cuda")
