"""A CNN's convolution block with the ReLU before or after its max pooling (the same numbers:
tests/test_engine.py), timed side by side: each CNN of the study config.yaml names, with all
its seeds as members, the general path's training step, one thread, rounds interleaved (every
other round in reverse order).

    .venv/bin/python benchmarks/cnn_block_order.py [ROUNDS] [STEPS]
"""

import sys
import time

import torch
from bench import REPO, load_data

from mnist_study.spec import resolve_models
from mnist_study.study import load_config
from mnist_study.train.engine import (
    Member,
    as_inputs,
    epoch_order,
    fit_epoch,
    make_trainer,
    member_generators,
    shares_batches,
)


def textbook_order(trainer) -> None:
    """Put each block's ReLU back before its pooling."""
    for net in trainer.members:
        for block in net.features:
            kinds = [type(layer) for layer in block]
            i, j = kinds.index(torch.nn.MaxPool2d), kinds.index(torch.nn.ReLU)
            block[i], block[j] = block[j], block[i]


def main(rounds: int, steps: int) -> None:
    torch.set_num_threads(1)
    data = load_data(REPO / "data" / "mnist")
    x, y = as_inputs(data["train_images"], torch.device("cpu")), data["train_labels"]
    cnns = {m: s.spec for m, s in resolve_models(load_config(REPO)).items()
            if s.spec.family == "cnn"}
    for name, spec in cnns.items():
        members = [Member(s, spec.lr) for s in spec.seeds]
        order = epoch_order(member_generators(members), len(x), shares_batches(members),
                            torch.device("cpu"))
        trainers = {v: make_trainer(spec, members, torch.device("cpu"), 10_000, "general")
                    for v in ("relu then pool", "pool then relu")}
        textbook_order(trainers["relu then pool"])
        best = {v: float("inf") for v in trainers}
        for v, t in trainers.items():
            fit_epoch(t, spec, x, y, order, max_steps=3)
        for r in range(rounds):
            for v in (list(trainers) if r % 2 == 0 else list(trainers)[::-1]):
                start = time.perf_counter()
                fit_epoch(trainers[v], spec, x, y, order, max_steps=steps)
                best[v] = min(best[v], (time.perf_counter() - start) / steps)
        old, new = best["relu then pool"], best["pool then relu"]
        print(f"{name}, batch {spec.batch_size}, {len(members)} members: relu then pool {old * 1e3:.1f} ms "
              f"a step, pool then relu {new * 1e3:.1f} ms ({old / new:.2f}x)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (4, 40))
