"""Side by side: two models that differ only in learning rate trained as one trainer of 10
members (5 seeds x 2 learning rates) against two trainers of 5, the same steps, interleaved
rounds, best of 3 (benchmarks/engine-notes.md, "Two ideas for the default study's floor").
.venv/bin/python benchmarks/lr_siblings.py"""

import math

import torch
from bench import REPO, load_data, timed_steps

from mnist_study.spec import ModelSpec
from mnist_study.train.engine import (
    Member,
    as_inputs,
    epoch_order,
    fit_epoch,
    make_trainer,
    member_generators,
    shares_batches,
)

data = load_data(REPO / "data" / "mnist")
x, y = as_inputs(data["train_images"], torch.device("cpu")), data["train_labels"]
for batch_size, steps in ((16, 300), (64, 200), (256, 60)):
    spec = ModelSpec(hidden=(784,), batch_size=batch_size)
    layouts = {"two trainers of 5": [[Member(s, 1e-3) for s in range(5)],
                                     [Member(s, 0.1) for s in range(5)]],
               "one trainer of 10": [[Member(s, lr) for lr in (1e-3, 0.1) for s in range(5)]]}
    trainers = {}
    for name, groups in layouts.items():
        trainers[name] = []
        for members in groups:
            order = epoch_order(member_generators(members), len(x), shares_batches(members), x.device)
            trainer = make_trainer(spec, members, x.device, 10**6)
            fit_epoch(trainer, spec, x, y, order, max_steps=3)  # warm-up
            trainers[name].append((trainer, order))
    best = {name: math.inf for name in layouts}
    for r in range(3):
        for name in list(layouts) if r % 2 == 0 else list(layouts)[::-1]:
            best[name] = min(best[name], sum(timed_steps(t, spec, x, y, o, steps)
                                             for t, o in trainers[name]))
    ratio = best["two trainers of 5"] / best["one trainer of 10"]
    print(f"batch {batch_size}, {steps} steps: " + ", ".join(f"{n} {s:.2f} s" for n, s in best.items())
          + f"; {ratio:.2f}x")
