# What a training job asks the scheduler for (mnist_study.jobs: threads, memory, time limit,
# priority), from its spec and how many members it trains.

# Counted once, as the workflow parses: the training jobs whose last file is not there yet.
JOBS_TO_TRAIN = sum(
    not Path(f).exists()
    for f in [*(f"results/models/{m}/{OUTCOME_FILE}" for m in MODELS), *SCAN_ROW_RESULTS]
)


def job_threads(job):
    # A job on a cluster node (or the node's own Snakemake run of it) asks for what it can
    # use; on one machine, jobs before threads (mnist_study.jobs).
    if workflow.remote_exec or not workflow.local_exec:
        return job["can_use_threads"]
    return jobs.local_threads(job["can_use_threads"], workflow.cores, JOBS_TO_TRAIN)


def model_job(wildcards):
    spec = MODELS[wildcards.model].spec
    job = jobs.training_job(spec, len(spec.seeds), N_TRAIN)
    return {**job, "threads": job_threads(job)}


def scan_job(wildcards):
    spec = scan_row_spec(config, int(wildcards.hidden))
    job = jobs.training_job(spec, len(SCAN.learning_rates), N_TRAIN)
    return {**job, "threads": job_threads(job)}


def train_gpus(wildcards):
    # Only an explicit `device: cuda` asks the scheduler for a GPU: on a CPU-only cluster a
    # GPU request would make sbatch refuse the job. The gpu profile caps the sum at one GPU.
    return int(MODELS[wildcards.model].spec.device == "cuda")


def training_flops(job):
    """The arithmetic of a planned job that trains (its params hold the spec it trains, and a
    scan row's its learning rates: one member each), else None."""
    if "spec" not in job.params.keys():
        return None
    spec = ModelSpec.from_dict(job.params.spec)
    members = len(job.params.get("learning_rates", spec.seeds))
    held_out = config["mnist"]["validation_images"] if spec.validation else 0
    return jobs.job_flops(spec, members, N_TRAIN - held_out)
