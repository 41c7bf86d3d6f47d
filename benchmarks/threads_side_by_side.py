"""Two one-thread training jobs side by side against one two-thread job after another
(benchmarks/engine-notes.md, "Jobs before threads"; the rule in mnist_study.jobs).

    .venv/bin/python benchmarks/threads_side_by_side.py [ROUNDS]

Each case trains the same steps of one job of the seed study's shapes from MNIST
(results/data/mnist.npz: `snakemake results/data/mnist.npz` makes it): once alone with two
threads, then as two one-thread processes at once. Printed per round: the two times and the
throughput ratio (2 x alone / the slower of the pair; above 1, one thread each trains more).
Rounds alternate with the other cases, so that a slow minute of a shared machine hits both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

CASES = {  # name: (spec, steps, learning rates of a scan row or None)
    "model 4 (batch 16) x5": ({"hidden": [784], "batch_size": 16, "lr": 0.1,
                              "seeds": [0, 1, 2, 3, 4]}, 400, None),
    "model 0 x5": ({"hidden": [784], "batch_size": 64, "seeds": [0, 1, 2, 3, 4]}, 200, None),
    "model 12 x5": ({"hidden": [784, 392, 196], "batch_size": 64,
                     "seeds": [0, 1, 2, 3, 4]}, 150, None),
    "model 13": ({"hidden": [784, 1568, 3136], "batch_size": 64, "seeds": [0]}, 100, None),
    "model 9": ({"hidden": [7840], "batch_size": 256, "seeds": [0]}, 30, None),
    "model 10": ({"hidden": [78400], "batch_size": 256, "seeds": [0]}, 6, None),
    "scan row h10000 (8 lrs)": ({"hidden": [10000], "batch_size": 256, "seeds": [0]}, 10,
                                [1e-5, 3.7e-5, 1.4e-4, 5.2e-4, 1.9e-3, 7.2e-3, 2.7e-2, 0.1]),
    "mlp-dropout x5": ({"hidden": [1024, 1024, 1024], "dropout": 0.5, "batch_size": 128,
                        "seeds": [0, 1, 2, 3, 4]}, 30, None),
    "lenet-5 x5": ({"family": "cnn", "conv": [{"channels": 6, "kernel": 5, "padding": 2,
                                                "pool": 2},
                                               {"channels": 16, "kernel": 5, "pool": 2}],
                    "hidden": [120, 84], "lr": 0.003, "schedule": "one_cycle",
                    "batch_size": 128, "seeds": [0, 1, 2, 3, 4]}, 60, None),
    "cnn-fast x5": ({"family": "cnn", "conv": [{"channels": 24, "kernel": 5, "pool": 2,
                                                 "batch_norm": True},
                                                {"channels": 48, "kernel": 5, "pool": 2,
                                                 "batch_norm": True}],
                     "hidden": [128], "lr": 0.003, "schedule": "one_cycle", "batch_size": 128,
                     "seeds": [0, 1, 2, 3, 4]}, 20, None),
}

# One job, run as a child process: python threads_side_by_side.py --job THREADS STEPS CASE
JOB = """
import json, sys, time
import torch
from mnist_study.data import read_dataset
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import (Member, as_inputs, epoch_order, fit_epoch,
                                      make_trainer, member_generators)
threads, steps, (spec, _, lrs) = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
torch.set_num_threads(threads)
data = read_dataset("results/data/mnist.npz", as_torch=True)
x, y = as_inputs(data["train_images"], torch.device("cpu")), data["train_labels"]
spec = ModelSpec.from_dict(spec)
members = ([Member(s, spec.lr) for s in spec.seeds] if lrs is None
           else [Member(spec.seeds[0], lr) for lr in lrs])
trainer = make_trainer(spec, members, torch.device("cpu"), 100_000)
order = epoch_order(member_generators(members), len(x), len(members) == 1, torch.device("cpu"))
fit_epoch(trainer, spec, x, y, order, max_steps=3)  # warm-up
start = time.perf_counter()
fit_epoch(trainer, spec, x, y, order, max_steps=steps)
print(time.perf_counter() - start)
"""


def start_job(threads: int, case: tuple) -> subprocess.Popen:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": str(threads)}
    return subprocess.Popen([sys.executable, "-c", JOB, str(threads), str(case[1]),
                             json.dumps(case)], stdout=subprocess.PIPE, text=True, env=env)


def seconds(jobs: list[subprocess.Popen]) -> list[float]:
    return [float(j.communicate()[0]) for j in jobs]


def main(rounds: int) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}")
    for r in range(rounds):
        for name, case in CASES.items():
            (alone,) = seconds([start_job(2, case)])
            pair = seconds([start_job(1, case), start_job(1, case)])
            print(f"round {r + 1} {name}: two threads alone {alone:.2f} s; one thread each, "
                  f"side by side {pair[0]:.2f} and {pair[1]:.2f} s; throughput ratio "
                  f"{2 * alone / max(pair):.2f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
