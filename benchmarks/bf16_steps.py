"""fp32 against bf16-mixed, side by side in one process (issue 30, item 3): training steps at
the default study's shapes, then whole jobs end to end on all of MNIST with their test accuracy.

`.venv/bin/python benchmarks/bf16_steps.py [--epochs N] [--repeats R] [--threads T]
[--jobs 0 9 lenet-5] [--no-steps]`
prints markdown for benchmarks/bf16.md. Steps: each shape on every path that can train it (the
hand-written engine where it supports the spec, the general path) in both precisions, the same
batches, rounds interleaved (bench.side_by_side). Jobs: mnist_study's own
`train()` for the study's spec with N epochs, R times in each precision, back to back in the
order fp32, bf16-mixed, bf16-mixed, fp32, ... (each precision's best run counts); the time
includes each epoch's evaluation (float32 in both). Then the evaluation pass alone, float32
against bfloat16 (what evaluating in bfloat16 would save).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the workflow's jobs and bench.py

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench  # noqa: E402
import torch  # noqa: E402

from mnist_study.spec import ModelSpec, resolve_models  # noqa: E402
from mnist_study.study import load_config  # noqa: E402
from mnist_study.train.engine import Member, as_inputs, chosen_path, make_trainer, train  # noqa: E402

# The default study's shapes: hidden 784 / 7840 / 78400 at batch 64 and 256, with one seed and
# with the five a job of the study trains side by side, and the study's deeper, dropout and
# convolutional models (by id).
SHAPES = [(784, 64, 1), (784, 64, 5), (784, 256, 1), (784, 256, 5), (7840, 64, 1),
          (7840, 256, 1), (78400, 256, 1)]
STUDY_MODELS = ["12", "mlp-dropout", "lenet-5", "cnn-fast"]


def cell(spec: ModelSpec) -> str:
    """The architecture as one markdown cell (a cnn's separates its blocks with "|")."""
    return spec.architecture().replace("|", "\\|")


def step_cases(config: dict) -> list[bench.Case]:
    models = resolve_models(config)
    out = []
    for hidden, batch, seeds in SHAPES:
        spec = ModelSpec(hidden=(hidden,), batch_size=batch, seeds=tuple(range(seeds)))
        out.append(bench.Case(f"{hidden}-b{batch}-{seeds}s", spec,
                              tuple(Member(s, spec.lr) for s in spec.seeds),
                              bench.case_steps(spec, seeds)))
    for m in STUDY_MODELS:
        spec = models[m].spec
        out.append(bench.Case(m, spec, tuple(Member(s, spec.lr) for s in spec.seeds),
                              bench.case_steps(spec, len(spec.seeds))))
    return out


def steps_table(config: dict, data: dict) -> list[str]:
    x, y = as_inputs(data["train_images"], torch.device("cpu")), data["train_labels"]
    sizes = bench.Sizes()
    lines = ["| shape | members | steps | fp32 hand-written ms/step | fp32 general | bf16-mixed "
             "hand-written | bf16-mixed general | fp32 (auto) / bf16 hand-written | fp32 (auto) "
             "/ bf16 general |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case in step_cases(config):
        best = bench.side_by_side(case, x, y, case.steps, sizes, bf16=True)
        ms = {p: 1e3 * t / case.steps for p, t in best.items()}
        fp32 = ms[chosen_path(case.spec)]

        def cells(*paths: str, ratio: bool = False) -> str:
            return " | ".join("" if p not in ms else f"{fp32 / ms[p]:.2f}" if ratio
                              else f"{ms[p]:.2f}" for p in paths)

        lines.append(f"| {cell(case.spec)}, batch {case.spec.batch_size} ({case.name}) | "
                     f"{len(case.members)} | {case.steps} | "
                     f"{cells('handwritten', 'general', 'handwritten_bf16', 'general_bf16')} | "
                     f"{cells('handwritten_bf16', 'general_bf16', ratio=True)} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def evaluation_seconds(spec: ModelSpec, members: list[Member], x: torch.Tensor,
                       bf16: bool, rounds: int = 3) -> float:
    """Best seconds of one evaluation pass over x (the test set), float32 or under autocast."""
    trainer = make_trainer(spec, members, x.device, 1, "general")
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        with torch.autocast(x.device.type, torch.bfloat16, enabled=bf16):
            trainer.predict(x)
        best = min(best, time.perf_counter() - start)
    return best


def jobs_table(config: dict, data: dict, job_ids: list[str], epochs: int,
               repeats: int) -> list[str]:
    models = resolve_models(config)
    lines = [f"| job | members | epochs | fp32 s (best of {repeats}) | bf16-mixed s | fp32 / bf16-mixed | "
             "test accuracy fp32 (per seed) | bf16-mixed | evaluation fp32 / bf16 |",
             "|---|---:|---:|---:|---:|---:|---|---|---:|"]
    x_test = as_inputs(data["test_images"], torch.device("cpu"))
    for m in job_ids:
        spec = dataclasses.replace(models[m].spec, epochs=epochs)
        members = [Member(s, spec.lr) for s in spec.seeds]
        wall, acc = {"fp32": math.inf, "bf16-mixed": math.inf}, {}
        # ABBA...: a neighbour's load that comes or goes mid-way falls on both alike; each
        # precision's best run counts (a rerun gives the same numbers, bit for bit)
        order = [("fp32", "bf16-mixed")[(r + r // 2) % 2] for r in range(2 * repeats)]
        for precision in order:
            s = dataclasses.replace(spec, precision=precision)
            start = time.perf_counter()
            results, _ = train(s, members, data, log=lambda line: print(line, file=sys.stderr))
            wall[precision] = min(wall[precision], time.perf_counter() - start)
            acc[precision] = " ".join(f"{r.epochs[-1]['test_accuracy']:.4f}" for r in results)
        evaluation = (evaluation_seconds(spec, members, x_test, False)
                      / evaluation_seconds(spec, members, x_test, True))
        lines.append(f"| {m} ({cell(spec)}, batch {spec.batch_size}) | {len(members)} | "
                     f"{epochs} | {wall['fp32']:.1f} | {wall['bf16-mixed']:.1f} | "
                     f"{wall['fp32'] / wall['bf16-mixed']:.2f} | {acc['fp32']} | "
                     f"{acc['bf16-mixed']} | {evaluation:.2f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--jobs", nargs="*", default=["0", "9", "lenet-5"])
    p.add_argument("--repeats", type=int, default=2, help="runs of each job in each precision")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: as the workflow trains two jobs at once on "
                        "2 cores; a neighbour stalls a 2-thread product far more than 1)")
    p.add_argument("--no-steps", action="store_true")
    p.add_argument("--mnist", type=Path, default=REPO / "data" / "mnist")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    config = load_config(REPO, [])
    data = bench.load_data(args.mnist)
    info = bench.machine(torch.device("cpu"))
    print(f"- {info['date']}, {info['cpu']}, {info['cores']} cores, torch {info['torch']}, "
          f"{info['torch_threads']} threads, load average {info['load_average_start']} at start")
    if not args.no_steps:
        print("\n".join(["", *steps_table(config, data)]))
    if args.jobs:
        print("\n".join(["", *jobs_table(config, data, args.jobs, args.epochs, args.repeats)]))
    print(f"\n- load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
