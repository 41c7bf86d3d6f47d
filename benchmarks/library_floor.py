"""How close a study (default: the one config.yaml names) can come to its FLOP floor with the
libraries it trains with: every training job's step as the workflow runs it (its trainer,
members, batch, one torch thread, as under jobs-before-threads), with the time of its products
(MKL's matrix products, oneDNN's convolutions) and of Adam's pass summed from torch.profiler.
What is left of a step (batch gathering, activations, batch norm, pooling, the loss,
bookkeeping) is the project's own; the products and Adam's pass are the libraries' at the job's
own shapes. Their sum over the study, at two one-thread jobs side by side, is a floor no change
of this project's code goes below without other libraries or other arithmetic
(benchmarks/library-floor.md).

    .venv/bin/python benchmarks/library_floor.py [--config FILE] [--out FILE] [--seconds S]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import sys
import time
from pathlib import Path

import torch
from bench import REPO, Job, limits_of, load_data, study_jobs
from torch.profiler import ProfilerActivity, profile

from mnist_study.jobs import training_steps
from mnist_study.spec import scan_grid
from mnist_study.study import load_config
from mnist_study.train.engine import (
    PRECISIONS,
    Member,
    as_inputs,
    chosen_path,
    epoch_order,
    fit_epoch,
    make_trainer,
    member_generators,
    shares_batches,
)

# What the libraries compute for a step: the products of the dense layers (forward and both
# gradients; autograd's backward of a linear layer is aten::mm), the convolutions (oneDNN,
# forward and backward) and Adam's fused pass.
PRODUCT_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm",
               "aten::mkldnn_convolution", "aten::convolution_backward"}
ADAM_OPS = {"aten::_fused_adam_"}
# What names an op that computes a product, a convolution or Adam's pass (aten ops, autograd's
# backward nodes, the wrappers that dispatch to them); zero_grad is Adam's but does no arithmetic.
COUNTED_KIND = re.compile(r"mm|conv|linear|matmul|adam_", re.IGNORECASE)


def uncounted_ops(events, counted: set[str] = PRODUCT_OPS | ADAM_OPS) -> set[str]:
    """Ops of a profile (torch.profiler's events, with their children) whose name says product,
    convolution or Adam, that are not counted and call no counted op beneath them: a kernel
    the floor does not know (a renamed one, another trainer's), whose time would read as free.
    A wrapper (aten::linear, a backward node) that calls a counted kernel is counted through it."""
    def calls_counted(event) -> bool:
        return any(c.name in counted or calls_counted(c) for c in event.cpu_children)

    return {e.name for e in events
            if COUNTED_KIND.search(e.name) and e.name not in counted and not calls_counted(e)}


def members_of(job: Job, config: dict) -> list[Member]:
    if job.scan:  # one seed, a member per learning rate
        return [Member(config["scan"]["seed"], lr) for lr in scan_grid(config["scan"]).learning_rates]
    return [Member(s, job.spec.lr) for s in job.spec.seeds]


def split_step(events) -> tuple[float, float]:
    """(products, Adam) seconds in a profile's events: self time, so nothing counts twice."""
    totals = {"products": 0.0, "adam": 0.0}
    for e in events:
        kind = "products" if e.key in PRODUCT_OPS else "adam" if e.key in ADAM_OPS else None
        if kind:
            totals[kind] += e.self_cpu_time_total / 1e6
    return totals["products"], totals["adam"]


def measure(job: Job, config: dict, x: torch.Tensor, y: torch.Tensor, seconds: float) -> dict:
    """Per step of the job: wall time, products, Adam; best of 3 profiled rounds."""
    members = members_of(job, config)
    device = x.device
    trainer = make_trainer(job.spec, members, device, training_steps(job.spec, len(x)))
    order = epoch_order(member_generators(members), len(x), shares_batches(members), device)
    start = time.perf_counter()
    fit_epoch(trainer, job.spec, x, y, order, max_steps=2)  # warm-up: buffers, Adam's state
    per_step = (time.perf_counter() - start) / 2
    steps = max(3, min(200, math.ceil(seconds / 3 / per_step)))
    best = None
    for _ in range(3):
        start = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fit_epoch(trainer, job.spec, x, y, order, max_steps=steps)
        wall = (time.perf_counter() - start) / steps
        products, adam = (t / steps for t in split_step(prof.key_averages()))
        unknown = uncounted_ops(prof.events())
        if unknown:
            print(f"{job.name}: not counted, so read as free: {', '.join(sorted(unknown))}",
                  file=sys.stderr)
        if best is None or wall < best["wall"]:
            best = {"wall": wall, "products": products, "adam": adam}
    return {**best, "steps_timed": steps, "trainer": chosen_path(job.spec)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, action="append", default=None)
    p.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results.csv",
                   help="the benchmark run whose roof the FLOP floor uses")
    p.add_argument("--mnist", type=Path, default=REPO / "data" / "mnist")
    p.add_argument("--seconds", type=float, default=4.0, help="profiled time per job, about")
    p.add_argument("--out", type=Path, default=None, help="write the table here (markdown)")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="train every job in this precision (default: each its own). In "
                        "bf16-mixed the products are the same ops in bfloat16; autocast's casts "
                        "of the weights count with the rest of the step, not the floor")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    config = load_config(REPO, args.config or [])
    roof, _ = limits_of(args.results)
    cores = os.cpu_count() or 1
    data = load_data(args.mnist)
    x, y = as_inputs(data["train_images"], torch.device("cpu")), data["train_labels"]
    rows, totals = [], dict.fromkeys(("flop", "products", "adam", "step"), 0.0)
    for job in study_jobs(config, len(x)):
        if args.precision:
            job = dataclasses.replace(job, spec=dataclasses.replace(job.spec,
                                                                    precision=args.precision))
        m = measure(job, config, x, y, args.seconds)
        steps = training_steps(job.spec, len(x))
        core_s = {k: m[k] * steps for k in ("products", "adam", "wall")}
        flop_core_s = job.flops / (roof / cores)  # the roof is all cores'
        totals["flop"] += flop_core_s
        totals["products"] += core_s["products"]
        totals["adam"] += core_s["adam"]
        totals["step"] += core_s["wall"]
        rows.append((job.name, m["trainer"], job.members, job.spec.batch_size, m["steps_timed"],
                     m["wall"] * 1e3, m["products"] * 1e3, m["adam"] * 1e3, flop_core_s,
                     core_s["products"] + core_s["adam"], core_s["wall"]))
        print(f"{job.name}: step {m['wall'] * 1e3:.2f} ms, products {m['products'] * 1e3:.2f}, "
              f"Adam {m['adam'] * 1e3:.2f} ({m['steps_timed']} steps)", file=sys.stderr, flush=True)
    lib = totals["products"] + totals["adam"]
    lines = [
        f"- roof {roof / 1e9:.0f} GFLOP/s over {cores} cores ({args.results.name}), so "
        f"{roof / cores / 1e9:.0f} a core (fp32); every job measured on one torch thread, "
        f"alone; precision: {args.precision or 'each job its own'}",
        f"- the FLOP floor: {totals['flop'] / cores / 60:.1f} min on {cores} cores",
        f"- the products alone at the jobs' shapes: {totals['products'] / cores / 60:.1f} min "
        f"= {totals['products'] / totals['flop']:.2f}x the FLOP floor",
        f"- the products and Adam's pass (**the library floor**): {lib / cores / 60:.1f} min "
        f"= **{lib / totals['flop']:.2f}x** the FLOP floor",
        f"- whole training steps, each job alone: {totals['step'] / cores / 60:.1f} min = "
        f"{totals['step'] / totals['flop']:.2f}x (at perfect packing, no neighbour, no "
        f"start-up, no evaluation)",
        "",
        "| job | trainer | members | batch | steps timed | step ms | products ms | Adam ms "
        "| FLOP floor core-s | library floor core-s | steps core-s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {n} | {t} | {mb} | {b} | {s} | {w:.2f} | {pr:.2f} | {a:.2f} | {f:.0f} | {lf:.0f} "
          f"| {sc:.0f} |" for n, t, mb, b, s, w, pr, a, f, lf, sc in rows),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
