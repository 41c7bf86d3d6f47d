"""What a training job asks the scheduler for: threads, memory, a time limit and a priority,
from its spec and how many members it trains. Read while the workflow parses: no torch.

Threads. On one machine, a study's training jobs fill the cores with jobs before threads: two
one-thread jobs side by side train more samples per second than the same jobs one after another
with two threads each (benchmarks/engine-notes.md, "Jobs before threads"), as a thread of its
own has no parallel region to wake and no member split unevenly between threads. So while at
least as many jobs are still to train as there are cores, each takes one thread; with fewer (a
rerun of one changed model), the cores are shared out among them, up to what the job can use.
On a cluster every job has its node's cores to itself and asks for what it can use
(`can_use_threads`).

Priority. Jobs that run side by side finish soonest when the longest start first (a long job
started last runs on alone while the other cores idle), so a job's priority grows with its
expected time.
"""

from __future__ import annotations

import math

from mnist_study.data import MNIST_IMAGES
from mnist_study.spec import ModelSpec

# Below this many multiply-adds per sample (over all members; for an mlp, its parameters), a
# job is bound by per-step overhead and gains nothing from more threads.
OVERHEAD_BOUND_MACS = 300_000
# A job whose whole training is fewer FLOPs than this (a second or two of arithmetic: the quick
# study's) is mostly start-up (imports, data, writing its files), which one thread does alone.
SMALL_JOB_FLOPS = 2e11
MAX_THREADS = 8
# For the time limit and the priority only: a slow CPU core pair, and what a step costs beside
# its products (benchmarks/engine-notes.md, "What a job asks the scheduler for").
SLOW_RATE = 50e9
STEP_OVERHEAD_S = 5e-3


def job_flops(spec: ModelSpec, members: int, n_train: int) -> float:
    """The training arithmetic of `members` copies of `spec` (its seeds, or a scan row's
    learning rates), each trained `spec.epochs` epochs on n_train samples.

    The project counts FLOPs one way, `ModelSpec.train_flops`'s, and every count (the report's
    table, the scheduler's sizes, the benchmarks) comes from it: 6 x forward multiply-adds per
    sample x samples x epochs x members. Forward, 2 FLOPs per multiply-add; backward, twice
    the forward (the gradients of the weights and of the inputs). A multiply-add is one weight
    applied once, a bias as one (`ModelSpec.forward_macs`: a convolution's weights and bias at
    every output position); for an MLP the count is 6 x parameters per sample. Pooling, normalization,
    activations, the loss and the optimizer are not counted, and the gradient of the images,
    which no one computes, is: a rate in this count can pass a machine's roof where the first
    layer over the pixels dominates."""
    return spec.train_flops(n_train) / len(spec.seeds) * members


def training_steps(spec: ModelSpec, n_train: int) -> int:
    """Steps of one member's training on n_train samples: every batch of every epoch."""
    return math.ceil(n_train / spec.batch_size) * spec.epochs


def expected_seconds(spec: ModelSpec, members: int, n_train: int) -> float:
    """A generous guess of the job's training time; only its order among jobs matters."""
    return (job_flops(spec, members, n_train) / SLOW_RATE
            + training_steps(spec, n_train) * STEP_OVERHEAD_S)


def can_use_threads(spec: ModelSpec, members: int, n_train: int) -> int:
    """Threads the job's arithmetic can use: one for small or overhead-bound jobs."""
    small = job_flops(spec, members, n_train) < SMALL_JOB_FLOPS
    return 1 if small or spec.forward_macs() * members < OVERHEAD_BOUND_MACS else MAX_THREADS


def local_threads(can_use: int, cores: int, jobs_to_train: int) -> int:
    """Threads of a job on one machine of `cores` cores with `jobs_to_train` training jobs
    still to run (this one included): jobs before threads."""
    if jobs_to_train >= cores:
        return 1
    return max(1, min(can_use, cores // max(jobs_to_train, 1)))


def training_job(spec: ModelSpec, members: int, n_train: int) -> dict:
    """can_use_threads, mem_mb, runtime (minutes, a limit, not a prediction) and priority of a
    job training `members` copies of `spec` on n_train samples."""
    parameters = spec.n_parameters() * members
    seconds_full = expected_seconds(spec, members, MNIST_IMAGES["train"])
    return {
        "can_use_threads": can_use_threads(spec, members, n_train),
        # data (~250 MB as float32 on the device) + weights, grads and 2 Adam moments
        "mem_mb": 1500 + 4 * 4 * parameters // 2**20 * 2,
        "runtime": 10 + int(seconds_full / 60),
        # whole numbers for the scheduler's solver; a tenth of a decade apart
        "priority": max(0, round(10 * math.log10(1 + expected_seconds(spec, members, n_train)))),
    }
