"""Benchmark of the two training paths against the machine's own limit, side by side in one run.

`python benchmarks/bench.py [--quick] [--config STUDY.yaml]` (`make bench`) measures, on the
current machine and for the study's own models (default: the study config.yaml names): the
fp32 matmul rate (the roof, sampled before, between the cases and after; the bfloat16 rate
beside it where the device has native bfloat16); the study's first
model for one epoch the conventional way (torchvision ToTensor+Normalize through a per-sample
DataLoader, as the PyTorch MNIST example); then, for each case (`cases`: a model and its
seeds, a scan row and its learning rates), the general path (autograd, one `Network` per
member) against the hand-written engine where that supports the spec, in fp32 and (with
native bfloat16) in bf16-mixed, the same steps on the same batches, interleaved round by
round; the peak memory of the model of the most
parameters on each path (RSS, and GPU memory where present), each in its own subprocess; and
the arithmetic floor of the study. It writes benchmarks/results.csv (metric, value, unit,
target, met) and benchmarks/results.md.

Fractions of the roof count FLOPs as the whole project does (`mnist_study.jobs.job_flops`: 6 x
forward multiply-adds per sample). Every path of one spec (the conventional loop included) is
credited with the same count per sample.
"""

from __future__ import annotations

# Before torch loads OpenMP: threads that wait at a barrier sleep instead of spinning, which
# keeps a busy neighbour from stalling training (benchmarks/engine-notes.md).
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

# A script of the repository, not of the package: it measures the checkout it stands in (its
# src/ first, whatever an installed copy points at) and writes into its benchmarks/.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from mnist_study.data import MNIST_IMAGES, split_sizes  # noqa: E402
from mnist_study.jobs import job_flops, training_steps  # noqa: E402
from mnist_study.networks import init_network, optimizer_step  # noqa: E402
from mnist_study.report.provenance import cpu_name  # noqa: E402
from mnist_study.spec import ModelSpec, resolve_models, scan_grid, scan_row_spec  # noqa: E402
from mnist_study.study import load_config  # noqa: E402
from mnist_study.train import handwritten  # noqa: E402
from mnist_study.train.engine import (  # noqa: E402
    Member,
    Trainer,
    as_inputs,
    chosen_path,
    epoch_order,
    fit_epoch,
    make_trainer,
    member_generators,
    native_bf16,
    resolve_device,
    shares_batches,
)
from mnist_study.train.handwritten import can_fuse  # noqa: E402

# MNIST mean and standard deviation, as the PyTorch MNIST example normalizes
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
GB = 1e9
PATHS = ("handwritten", "general")  # the order of the first round (the next one reverses it)
# Every path again in bf16-mixed, beside fp32, where the device has native bfloat16
BF16_PATHS = tuple(f"{p}_bf16" for p in PATHS)


def path_label(spec: ModelSpec, precision: str) -> str:
    """The row label of the path the workflow trains spec on in this precision."""
    path = chosen_path(dataclasses.replace(spec, precision=precision))
    return path if precision == "fp32" else f"{path}_bf16"

# The targets for the 2-core CPU, set for the seed study and held to the models of any
# study in the same roles (`cases`), on every path, in the project's FLOP count: the first
# model with all its seeds and the largest mlp reach these fractions of the roof, and the
# model of the most parameters trains within this peak memory. The study trains its MLPs with
# the hand-written engine (auto); a general path that replaced it would have to meet them too.
FIRST_MODEL_FRACTION = 0.60
LARGEST_MLP_FRACTION = 0.75
PEAK_RSS_GB = 3.0

# Multiply-adds x 6 that a case trains a round (its steps, all members): about a second of
# arithmetic at a 2-core CPU's roof, so compute-bound cases take few steps; overhead-bound
# ones take up to MAX_STEPS, so that a round is not lost in the timer's noise.
ROUND_FLOPS = 2e11
MIN_STEPS, MAX_STEPS = 5, 300


@dataclass(frozen=True)
class Sizes:
    """How much each measurement trains: the full run, or --quick for a CI smoke test."""
    # side of the square fp32 matmul that measures the roof: MKL runs it at the rate of 4096^2
    # in an eighth of the time, so a sample finds a quiet moment on a shared machine more often
    # (benchmarks/engine-notes.md, "The benchmark's own choices")
    roof_n: int = 2048
    # parameters of the stream-rate measurement: 4 tensors of 64 MB, far beyond any cache
    stream_n: int = 2 ** 24
    conventional_samples: int | None = None  # None: one full epoch
    rounds: int = 3  # each path's time of a case is its best round
    warmup_steps: int = 3  # per path, before the first round
    max_steps: int | None = None  # caps every case's timed steps per round
    probe_steps: int = 2  # steps of the largest model in each memory subprocess, after a warm-up step


QUICK = Sizes(roof_n=1024, stream_n=2 ** 20, conventional_samples=2048, rounds=2,
              warmup_steps=1, max_steps=2, probe_steps=1)


# --- FLOP counts ------------------------------------------------------------------------------

def pass_flops(spec: ModelSpec, samples: int) -> float:
    """FLOPs of `samples` training samples (summed over members), each seen once: what a timed
    run of steps is credited with, in the project's one count (`jobs.job_flops`)."""
    return job_flops(spec, 1, samples) / spec.epochs


# --- bytes: what no product hides ---------------------------------------------------------

# Fused Adam reads each fp32 parameter, its gradient and both moments and writes the parameter
# and the moments back: 7 x 4 bytes, in a pass with no arithmetic to hide them behind.
ADAM_BYTES_PER_PARAMETER = 28
# A step moves each parameter at least this much: Adam's pass, and the forward and backward
# passes each read the weights once and the backward pass writes the gradient (activations,
# a batch's worth, not counted: a lower bound).
STEP_BYTES_PER_PARAMETER = ADAM_BYTES_PER_PARAMETER + 3 * 4


def parameter_traffic(spec: ModelSpec, members: int, n_train: int) -> float:
    """Bytes that training `members` copies of `spec` must move through memory for its
    parameters (STEP_BYTES_PER_PARAMETER a parameter a step): the floor of a job whose products
    are too small to be bound by arithmetic."""
    return float(training_steps(spec, n_train) * spec.n_parameters() * members
                 * STEP_BYTES_PER_PARAMETER)


@dataclass(frozen=True)
class Timing:
    """One timed training run: what it trained, not what it is thought to have computed.
    Every rate derives from these through `rate_rows`, so two paths cannot be credited with
    different FLOPs per sample of the same spec."""
    seconds: float
    spec: ModelSpec
    samples: int  # summed over the models trained side by side
    models: int = 1


def rate_rows(name: str, t: Timing, roof: float) -> list[dict]:
    """samples/s and the fraction of the roof, from the same samples."""
    rate = pass_flops(t.spec, t.samples) / t.seconds
    return [{"metric": f"{name}_samples_per_s", "value": t.samples / t.seconds,
             "unit": "samples/s", "note": f"{t.models} model(s), all models' samples"},
            {"metric": f"{name}_fraction_of_roof", "value": rate / roof, "unit": "fraction",
             "note": f"{rate / 1e9:.1f} GFLOP/s in {t.seconds:.3g} s"}]


# --- the machine --------------------------------------------------------------------------

def matmul_rate(n: int, device: torch.device, repeats: int = 5,
                dtype: torch.dtype = torch.float32) -> float:
    """Best rate of an n x n matmul, FLOP/s: in fp32 the roof every fraction refers to; in
    bfloat16 the roof of the bf16-mixed rows."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    c = torch.empty(n, n, device=device, dtype=dtype)
    best = math.inf
    torch.mm(a, b, out=c)
    for _ in range(repeats):
        sync(device)
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def stream_rate(n: int, device: torch.device, repeats: int = 5) -> float:
    """Best rate, bytes/s, of fused Adam's pass over one flat tensor of n fp32 parameters
    (ADAM_BYTES_PER_PARAMETER each): the memory limit of the steps that products do not bound."""
    p = torch.zeros(n, device=device, requires_grad=True)
    p.grad = torch.full_like(p, 1e-3)
    opt = torch.optim.Adam([p], fused=can_fuse(device))
    best = math.inf
    optimizer_step(opt)
    for _ in range(repeats):
        sync(device)
        t = time.perf_counter()
        optimizer_step(opt)
        sync(device)
        best = min(best, time.perf_counter() - t)
    return ADAM_BYTES_PER_PARAMETER * n / best


def onednn_matmul_rate(n: int, repeats: int = 5) -> float | None:
    """Best fp32 rate of the same n x n product through oneDNN (CPU only; None without it).
    Not the roof: the fractions refer to torch.mm, the library both paths use for their dense
    layers. It is listed because MKL, torch.mm's library, runs its AVX2 code on AMD CPUs while
    oneDNN uses AVX-512 where the CPU has it, so a fraction of torch.mm's rate is not a
    fraction of the CPU's."""
    try:  # the op inductor's CPU fusions call: oneDNN's inner product on strided tensors
        linear = torch.ops.mkldnn._linear_pointwise.default
    except (AttributeError, RuntimeError):
        return None
    if not torch.backends.mkldnn.is_available():
        return None
    a, b = torch.randn(n, n), torch.randn(n, n)
    product = lambda: linear(a, b.t(), None, "none", [], "")  # a @ b  # noqa: E731
    product()
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine(device: torch.device) -> dict:
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
            "torch": torch.__version__, "python": platform.python_version(),
            "os": platform.platform(), "device": str(device),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "load_average_start": round(os.getloadavg()[0], 2)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# --- the conventional way -------------------------------------------------------------------

def conventional_epoch(spec: ModelSpec, mnist_root: Path, samples: int | None) -> tuple[float, int]:
    """The PyTorch MNIST example's loop: a torchvision dataset decoding one PIL image per
    sample through ToTensor+Normalize, a shuffling DataLoader, the spec's `Network` and Adam.
    Returns (seconds, samples)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    ds = datasets.MNIST(str(mnist_root), train=True, download=False, transform=tf)
    if samples is not None:
        ds = Subset(ds, range(samples))
    # one worker process, as the example sets for CUDA; this machine has few cores to spare
    loader = DataLoader(ds, batch_size=spec.batch_size, shuffle=True, num_workers=1,
                        generator=torch.Generator().manual_seed(0))
    net = init_network(spec, 0)
    opt = torch.optim.Adam(net.parameters(), lr=spec.lr)
    start = time.perf_counter()
    for images, labels in loader:
        opt.zero_grad()
        F.cross_entropy(net(images), labels).backward()
        opt.step()
    return time.perf_counter() - start, len(ds)


# --- the two paths, side by side ---------------------------------------------------------------

def paths_of(spec: ModelSpec) -> tuple[str, ...]:
    """The training paths that can train spec: the hand-written engine only where it supports it."""
    return PATHS if handwritten.supports(spec) else ("general",)


@dataclass(frozen=True)
class Case:
    """One spec and its members, trained on every path that supports the spec."""
    name: str
    spec: ModelSpec
    members: tuple[Member, ...]
    steps: int  # timed steps per round in the full run (at most one epoch's)
    target: float | None = None  # the fraction of the roof it is to reach on every path

    @property
    def paths(self) -> tuple[str, ...]:
        return paths_of(self.spec)

    def describe(self) -> str:
        lrs = {m.lr for m in self.members}
        n = len(self.members)
        what = f"{n} lrs, one seed" if len(lrs) > 1 else f"{n} seed" + ("s" if n > 1 else "")
        return f"{self.spec.architecture()}, batch {self.spec.batch_size}, {what}"


def metric_name(model_id: str) -> str:
    """A model id as the stem of metric names: "0" -> "model0", "mlp-dropout" -> "mlp_dropout"
    (any character but a letter, digit or _ becomes _, so that a table cell stays one cell)."""
    stem = re.sub(r"\W", "_", model_id)
    return f"model{stem}" if model_id.isdigit() else stem


def case_steps(spec: ModelSpec, members: int) -> int:
    """Timed steps per round of a case: ROUND_FLOPS of its training, within MIN_STEPS and
    MAX_STEPS."""
    per_step = pass_flops(spec, spec.batch_size * members)
    return max(MIN_STEPS, min(MAX_STEPS, round(ROUND_FLOPS / per_step)))


def cases(config: dict) -> list[Case]:
    """What is measured: the study's own models, chosen by what they stand for, each with all
    its seeds (a job trains them side by side):
    - the first model, also as one member alone (the spec the conventional loop trains);
    - of each family, the model of the fewest multiply-adds per sample (bound by per-step
      overhead) and the one of the most (bound by arithmetic);
    - the deepest mlp (most hidden layers) and the first model with dropout;
    - where the study runs the scan, its row nearest 784 hidden units (a job of many learning
      rates side by side).
    A model that stands for several is measured once. Targets: FIRST_MODEL_FRACTION for the
    first model with its seeds, LARGEST_MLP_FRACTION for the largest mlp."""
    models = {m: s.spec for m, s in resolve_models(config).items()}
    chosen: dict[tuple[str, int], float | None] = {}  # (model id, members) -> target

    def choose(model_id: str, members: int | None = None, target: float | None = None) -> None:
        key = (model_id, members or len(models[model_id].seeds))
        chosen[key] = chosen.get(key) or target

    first = next(iter(models))
    choose(first, 1)
    choose(first, target=FIRST_MODEL_FRACTION)
    for family in dict.fromkeys(spec.family for spec in models.values()):
        of_family = [m for m, spec in models.items() if spec.family == family]
        macs = lambda m: models[m].forward_macs()  # noqa: E731
        choose(min(of_family, key=macs))
        choose(max(of_family, key=macs), target=LARGEST_MLP_FRACTION if family == "mlp" else None)
    mlps = [m for m, spec in models.items() if spec.family == "mlp"]
    if mlps:
        choose(max(mlps, key=lambda m: len(models[m].hidden)))
    with_dropout = [m for m, spec in models.items() if spec.dropout > 0]
    if with_dropout:
        choose(with_dropout[0])

    out = []
    for (model_id, members), target in chosen.items():
        spec = models[model_id]
        name = metric_name(model_id) + (f"_{members}seeds" if members > 1 else "")
        out.append(Case(name, spec, tuple(Member(s, spec.lr) for s in spec.seeds[:members]),
                        case_steps(spec, members), target))
    if (config.get("scan") or {}).get("run"):
        grid = scan_grid(config["scan"])
        hidden = min(grid.hidden_sizes, key=lambda h: abs(math.log(h / 784)))
        spec, lrs = scan_row_spec(config, hidden), grid.learning_rates
        out.append(Case("scan_row", spec, tuple(Member(config["scan"]["seed"], lr) for lr in lrs),
                        case_steps(spec, len(lrs))))
    return out


def largest_model(config: dict) -> tuple[str, ModelSpec]:
    """The study's model of the most parameters: the one whose peak memory is measured."""
    models = resolve_models(config)
    model_id = max(models, key=lambda m: models[m].spec.n_parameters())
    return model_id, models[model_id].spec


def timed_steps(trainer: Trainer, spec: ModelSpec, x: torch.Tensor, y: torch.Tensor,
                order: torch.Tensor, steps: int) -> float:
    """Seconds of the first `steps` training steps of `order`: the step loop as train() runs it
    (batch gathering, forward, backward, Adam, loss and accuracy bookkeeping)."""
    sync(x.device)
    start = time.perf_counter()
    fit_epoch(trainer, spec, x, y, order, max_steps=steps)
    sync(x.device)
    return time.perf_counter() - start


def side_by_side(case: Case, x: torch.Tensor, y: torch.Tensor, steps: int,
                 sizes: Sizes, bf16: bool = False) -> dict[str, float]:
    """Path -> its best seconds of `steps` steps over `sizes.rounds` rounds; with bf16, every
    path in bf16-mixed too (`<path>_bf16`). Every trainer is built from the same members and
    trains on the same batches, each round from the start of one epoch order; rounds
    interleave the paths, every other round in reverse order, so a neighbour's load falls on
    all alike."""
    members, device = list(case.members), x.device
    total_steps = sizes.warmup_steps + sizes.rounds * steps  # for the one-cycle schedule
    order = epoch_order(member_generators(members), len(x), shares_batches(members), device)
    fp32 = dataclasses.replace(case.spec, precision="fp32")
    trainers = {p: make_trainer(fp32, members, device, total_steps, p) for p in case.paths}
    if bf16:
        low = dataclasses.replace(case.spec, precision="bf16-mixed")
        trainers.update({f"{p}_bf16": make_trainer(low, members, device, total_steps, p)
                         for p in case.paths})
    names = list(trainers)
    for trainer in trainers.values():
        fit_epoch(trainer, case.spec, x, y, order, max_steps=sizes.warmup_steps)
    best = {p: math.inf for p in names}
    for r in range(sizes.rounds):
        for p in names if r % 2 == 0 else names[::-1]:
            best[p] = min(best[p], timed_steps(trainers[p], case.spec, x, y, order, steps))
    return best


def load_data(mnist_root: Path) -> dict[str, torch.Tensor]:
    from mnist_study import data

    return {k: torch.from_numpy(v) for k, v in data.load_arrays(mnist_root).items()}


# --- the largest model's memory, in its own process so that its peak RSS is its own ---------

def peak_rss_bytes() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    across exec, so a probe started from the benchmark, which has held the largest model on
    both paths by then, would report the benchmark's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def memory_probe(spec: ModelSpec, mnist_root: Path, steps: int, path: str) -> dict:
    device = resolve_device(spec.device)
    data = load_data(mnist_root)
    x, y = as_inputs(data["train_images"], device), data["train_labels"].to(device)
    del data
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    members = [Member(0, spec.lr)]
    trainer = make_trainer(spec, members, device, 1 + steps, path)
    order = epoch_order(member_generators(members), len(x), True, device)
    fit_epoch(trainer, spec, x, y, order, max_steps=1 + steps)
    sync(device)
    out = {"peak_rss_bytes": peak_rss_bytes()}
    if device.type == "cuda":
        out["peak_gpu_bytes"] = torch.cuda.max_memory_allocated(device)
    return out


def run_memory_probe(spec: ModelSpec, mnist_root: Path, steps: int, path: str) -> dict:
    cmd = [sys.executable, __file__, "--memory-probe", json.dumps(spec.to_dict()),
           "--mnist", str(mnist_root), "--probe-steps", str(steps), "--probe-path", path]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the study's arithmetic floor ---------------------------------------------------------

def study_flops(config: dict, n_train: int = MNIST_IMAGES["train"]) -> dict[str, float]:
    """Training FLOPs of the study in config: its models (all seeds) and the scan grid; and
    `traffic`, the parameters' bytes (`parameter_traffic`) of all its jobs."""
    out = dict.fromkeys(("models", "scan", "traffic"), 0.0)
    for job in study_jobs(config, n_train):
        out["scan" if job.scan else "models"] += job.flops
        out["traffic"] += job.traffic(n_train)
    return out


@dataclass(frozen=True)
class Job:
    """One training job of a study: a model and its seeds, or a scan row and its learning rates."""
    name: str
    spec: ModelSpec
    members: int
    flops: float  # of the whole job (`job_flops`: every member, every epoch)
    scan: bool = False

    def traffic(self, n_train: int) -> float:
        return parameter_traffic(self.spec, self.members, n_train)

    def floor_seconds(self, n_train: int, roof: float, stream: float) -> tuple[float, float]:
        """(the FLOPs at the roof, the parameter traffic at the stream rate), in seconds."""
        return self.flops / roof, self.traffic(n_train) / stream


def study_jobs(config: dict, n_train: int = MNIST_IMAGES["train"]) -> list[Job]:
    models = resolve_models(config)
    jobs = [Job(m, s.spec, len(s.spec.seeds), job_flops(s.spec, len(s.spec.seeds), n_train))
            for m, s in models.items()]
    if (config.get("scan") or {}).get("run"):
        grid = scan_grid(config["scan"])
        for hidden in grid.hidden_sizes:
            spec = scan_row_spec(config, hidden)
            n = len(grid.learning_rates)
            jobs.append(Job(f"scan h{hidden}", spec, n, job_flops(spec, n, n_train), scan=True))
    return jobs


def nearest_case(job: Job, measured: list[tuple[Case, dict[str, float]]]) -> Case:
    """The measured case most like the job: same family, then the nearest in depth, with
    dropout or without, in multiply-adds per sample, in members side by side and in batch
    size (log distances)."""
    def distance(case: Case) -> float:
        a, b = job.spec, case.spec
        return (100.0 * (a.family != b.family) + 3.0 * abs(len(a.hidden) - len(b.hidden))
                + 3.0 * ((a.dropout > 0) != (b.dropout > 0))
                + abs(math.log(a.forward_macs() / b.forward_macs()))
                + abs(math.log(job.members / len(case.members)))
                + 0.5 * abs(math.log(a.batch_size / b.batch_size)))
    return min((c for c, _ in measured), key=distance)


def study_estimate(config: dict, measured: list[tuple[Case, dict[str, float]]],
                   n_train: int = MNIST_IMAGES["train"]) -> dict:
    """Issue 12's decision number: the study's training time on each path, estimated job by
    job. Each job is credited with the FLOP rate, on each path, of the measured case nearest
    in shape (`nearest_case`; `measured` holds each case's FLOP/s per path); a job the
    hand-written engine does not support (a CNN, dropout, a schedule) costs the general path's
    time on both sides. Returns the per-job rows and the totals in seconds."""
    both = [(c, r) for c, r in measured if "handwritten" in r]
    rate = {c.name: r for c, r in measured}
    rows = []
    for job in study_jobs(config, n_train):
        supported = handwritten.supports(job.spec)
        case = nearest_case(job, both if supported else measured)
        general = job.flops / rate[case.name]["general"]
        hand = job.flops / rate[case.name]["handwritten"] if supported else general
        # the same nearest case, on the path bf16-mixed trains on
        bf16 = rate[case.name].get(path_label(job.spec, "bf16-mixed"))
        rows.append({"job": job.name, "case": case.name, "supported": supported,
                     "handwritten_s": hand, "general_s": general,
                     "bf16_s": math.nan if bf16 is None else job.flops / bf16})
    total = {p: sum(r[f"{p}_s"] for r in rows) for p in PATHS}  # fp32
    share = sum(r["handwritten_s"] for r in rows if r["supported"]) / total["handwritten"]
    return {"rows": rows, "total": total, "ratio": total["general"] / total["handwritten"],
            "supported_share": share}


# --- the run ------------------------------------------------------------------------------

def run(sizes: Sizes, config: dict, mnist_root: Path, log: Callable[[str], None] = print
        ) -> tuple[list[dict], dict]:
    """All measurements: result rows (metric, value, unit, note; rows of a case also name it,
    their path and what the case trained) and the machine's description."""
    study_cases = cases(config)
    first = study_cases[0]  # the study's first model, one member: what the conventional loop trains
    device = resolve_device(first.spec.device)
    info = machine(device)

    # The roof is sampled before, between and after the measurements, and the fractions use
    # the best sample: they err on the low side when neighbours slow the machine down (one
    # product rarely finds both cores free on a busy machine; benchmarks/engine-notes.md).
    # The stream rate (memory's limit) is sampled with it, for the same reason.
    roof_samples: list[float] = []
    stream_samples: list[float] = []
    bf16 = native_bf16(device)  # then every case trains in bf16-mixed too, and its roof is sampled
    bf16_samples: list[float] = []

    def sample_roof() -> None:
        roof_samples.append(matmul_rate(sizes.roof_n, device))
        stream_samples.append(stream_rate(sizes.stream_n, device))
        if bf16:
            bf16_samples.append(matmul_rate(sizes.roof_n, device, dtype=torch.bfloat16))

    sample_roof()
    data = load_data(mnist_root)
    x, y = as_inputs(data["train_images"], device), data["train_labels"].to(device)
    n = len(x)
    del data

    # Rates follow once the roof is measured again: (row name, case, path) -> timing.
    timings: list[tuple[str, str, str, Timing]] = []
    conventional = f"{first.name}_conventional"
    seconds, k = conventional_epoch(first.spec, mnist_root, sizes.conventional_samples)
    timings.append((conventional, conventional, "conventional", Timing(seconds, first.spec, k)))
    log(f"{conventional}: {k} samples in {seconds:.2f} s")
    sample_roof()

    measured: list[tuple[Case, int, dict[str, float]]] = []
    for case in study_cases:
        steps = case.steps if sizes.max_steps is None else min(case.steps, sizes.max_steps)
        best = side_by_side(case, x, y, steps, sizes, bf16)
        samples = min(steps * case.spec.batch_size, n) * len(case.members)
        for path, seconds in best.items():
            timings.append((f"{case.name}_{path}", case.name, path,
                            Timing(seconds, case.spec, samples, len(case.members))))
        measured.append((case, steps, best))
        log(f"{case.name} ({case.describe()}), {steps} steps: "
            + ", ".join(f"{p} {s:.3f} s" for p, s in best.items()))
        sample_roof()
    del x, y

    largest_id, largest = largest_model(config)
    probes = {p: run_memory_probe(largest, mnist_root, sizes.probe_steps, p)
              for p in paths_of(largest)}
    sample_roof()
    roof, stream = max(roof_samples), max(stream_samples)
    roof_bf16 = max(bf16_samples, default=math.nan)

    rows: list[dict] = []

    def add(metric: str, value: float, unit: str, note: str = "",
            target: tuple[float, str] | None = None, **keys) -> None:
        """target: (value, "min" | "max"), where the row has one."""
        rows.append({"metric": metric, "value": value, "unit": unit, "note": note,
                     "target": target, **keys})
        log(f"{metric}: {value:.4g} {unit} {note}")

    add("roof_before", roof_samples[0] / 1e9, "GFLOP/s", f"fp32 {sizes.roof_n}^2 torch.mm, best of 5")
    add("roof_after", roof_samples[-1] / 1e9, "GFLOP/s")
    add("roof", roof / 1e9, "GFLOP/s",
        f"best of {len(roof_samples)} samples (before, between the cases and after): what the "
        "fractions use")
    if bf16:
        add("roof_bf16", roof_bf16 / 1e9, "GFLOP/s",
            f"bfloat16 {sizes.roof_n}^2 torch.mm, best of {len(bf16_samples)} samples taken with "
            f"the roof's: {roof_bf16 / roof:.2f}x the fp32 roof; the fractions of the bf16-mixed "
            "rows refer to it")
    add("stream_rate", stream / GB, "GB/s",
        f"fused Adam over {sizes.stream_n:,} fp32 parameters, {ADAM_BYTES_PER_PARAMETER} bytes "
        f"each; best of {len(stream_samples)} samples, taken with the roof's")
    onednn = onednn_matmul_rate(sizes.roof_n) if device.type == "cpu" else None
    if onednn is not None:
        add("onednn_matmul_rate", onednn / 1e9, "GFLOP/s",
            f"the same product through oneDNN: {onednn / roof:.2f}x the roof; not the roof "
            "(see How to read it)")
    notes = {case.name: f"{case.describe()}; {steps} steps, best of {sizes.rounds} rounds"
             for case, steps, _ in measured}
    targets = {c.name: (c.target, "min") for c in study_cases if c.target is not None}
    for name, case, path, t in timings:
        low = path in BF16_PATHS  # its fractions: of the bf16 roof
        samples_row, fraction_row = rate_rows(name, t, roof_bf16 if low else roof)
        add(**samples_row, case=case, path=path, case_note=notes.get(case, "one epoch"))
        add(**fraction_row, case=case, path=path, case_note=notes.get(case, "one epoch"),
            target=None if low else targets.get(case))  # the targets are fp32's
    for case, steps, best in measured:
        if "handwritten" in best:
            add(f"{case.name}_general_over_handwritten", best["general"] / best["handwritten"],
                "x", f"time per step; {steps} steps, best of {sizes.rounds} rounds: general "
                f"{best['general']:.3g} s, handwritten {best['handwritten']:.3g} s",
                case=case.name, path="ratio", case_note=notes[case.name])
        if "general_bf16" in best:
            fp32 = best[path_label(case.spec, "fp32")]
            low = best[path_label(case.spec, "bf16-mixed")]
            add(f"{case.name}_fp32_over_bf16", fp32 / low, "x",
                f"time per step, each precision on the path it trains on (auto): fp32 "
                f"{fp32:.3g} s, bf16-mixed {low:.3g} s",
                case=case.name, path="ratio", case_note=notes[case.name])
    for path, probe in probes.items():
        add(f"{metric_name(largest_id)}_{path}_peak_rss", probe["peak_rss_bytes"] / GB, "GB",
            f"the study's model of the most parameters, its whole training process: data, "
            f"weights, Adam state, {sizes.probe_steps + 1} steps", target=(PEAK_RSS_GB, "max"))
        if "peak_gpu_bytes" in probe:
            add(f"{metric_name(largest_id)}_{path}_peak_gpu_memory", probe["peak_gpu_bytes"] / GB,
                "GB")

    # the decision number: the study's training on each path, job by job
    flop_rates = [(case, {p: pass_flops(case.spec, min(steps * case.spec.batch_size, n)
                                        * len(case.members)) / seconds
                          for p, seconds in best.items()}) for case, steps, best in measured]
    estimate = study_estimate(config, flop_rates)
    jobs = {job.name: job for job in study_jobs(config)}
    for row in estimate["rows"]:
        row["flop_floor_s"], row["memory_floor_s"] = jobs[row["job"]].floor_seconds(
            MNIST_IMAGES["train"], roof, stream)
    add("study_general_over_handwritten", estimate["ratio"], "x",
        f"the study's training estimated job by job from the nearest case: general "
        f"{estimate['total']['general'] / 60:.1f} min, hand-written where it can "
        f"{estimate['total']['handwritten'] / 60:.1f} min "
        f"({100 * estimate['supported_share']:.0f} % of it on plain MLPs)", path="ratio")
    info["study_estimate"] = estimate["rows"]
    if bf16:
        fp32_s = estimate["total"]["handwritten"]
        bf16_s = sum(r["bf16_s"] for r in estimate["rows"])
        either_s = sum(min(r["handwritten_s"], r["bf16_s"]) for r in estimate["rows"])
        add("study_fp32_over_bf16", fp32_s / bf16_s, "x",
            f"the study's training estimated job by job as above: fp32 (auto path) "
            f"{fp32_s / 60:.1f} min, every job in bf16-mixed {bf16_s / 60:.1f} min, each job in "
            f"the faster of the two {either_s / 60:.1f} min", path="ratio")

    # the arithmetic floor of the study on this machine
    total = study_flops(config)
    flops = total["models"] + total["scan"]
    add("study_flops", flops / 1e12, "TFLOP",
        f"models {total['models'] / 1e12:.1f}, scan {total['scan'] / 1e12:.1f}")
    add("study_floor", flops / roof / 60, "min", "the study's FLOPs at the roof")
    add("study_parameter_traffic", total["traffic"] / 1e12, "TB",
        f"{STEP_BYTES_PER_PARAMETER} bytes a parameter a step (Adam's pass, the weights read "
        "forward and backward, the gradient written)")
    add("study_memory_floor", total["traffic"] / stream / 60, "min", "the traffic at the stream rate")
    add("study_floor_with_memory", (flops / roof + total["traffic"] / stream) / 60, "min",
        "the FLOPs at the roof, then the traffic at the stream rate: the phases of a step run "
        "one after the other (products, then Adam's pass)")
    info["load_average_end"] = round(os.getloadavg()[0], 2)
    return rows, info


def with_targets(rows: list[dict]) -> list[dict]:
    """Rows with their target as text and whether it is met ("yes", "no"; "" without one)."""
    out = []
    for r in rows:
        target, kind = r.get("target") or (None, None)
        met = "" if target is None else (
            "yes" if (r["value"] >= target if kind == "min" else r["value"] <= target) else "no")
        out.append({**r, "value": round(r["value"], 4),
                    "target": "" if target is None else f"{'>=' if kind == 'min' else '<='} {target:g}",
                    "met": met})
    return out


def side_by_side_table(rows: list[dict]) -> list[str]:
    """One line per case: each path's samples/s and fraction of the roof, and the ratio."""
    value = {r["metric"]: r["value"] for r in rows}
    # a cnn's architecture separates its blocks from its dense layers with "|"
    notes = {r["case"]: r["case_note"].replace("|", "\\|") for r in rows
             if r.get("path") in (*PATHS, *BF16_PATHS)}

    def cell(name: str, path: str) -> str:
        rate = value.get(f"{name}_{path}_samples_per_s")
        return "" if rate is None else f"{rate:,.0f} ({value[f'{name}_{path}_fraction_of_roof']:.2f})"

    def ratio(name: str, what: str) -> str:
        r = value.get(f"{name}_{what}")
        return "" if r is None else f"{r:.2f}"

    return ["| case | what | hand-written: samples/s (fraction) | general: samples/s (fraction) "
            "| general / hand-written time | bf16-mixed hand-written: samples/s (fraction of "
            "the bf16 roof) | bf16-mixed general | fp32 / bf16-mixed time |",
            "|---|---|---|---|---|---|---|---|",
            *[f"| {name} | {note} | {cell(name, 'handwritten')} | "
              f"{cell(name, 'general')} | {ratio(name, 'general_over_handwritten')} | "
              f"{cell(name, 'handwritten_bf16')} | {cell(name, 'general_bf16')} | "
              f"{ratio(name, 'fp32_over_bf16')} |"
              for name, note in notes.items()]]


def job_line(job: dict) -> str:
    hand = f"{job['handwritten_s']:.0f}" if job["supported"] else "(general)"
    bf16 = "" if math.isnan(job["bf16_s"]) else f"{job['bf16_s']:.0f}"
    return (f"| {job['job']} | {job['case']} | {hand} | {job['general_s']:.0f} | {bf16} | "
            f"{job['flop_floor_s']:.0f} | {job['memory_floor_s']:.0f} |")


def write_results(rows: list[dict], info: dict, out_dir: Path, quick: bool) -> None:
    import pandas as pd

    from mnist_study.files import atomic_path, write_csv

    info = dict(info)
    jobs = info.pop("study_estimate", [])
    table = with_targets(rows)
    write_csv(pd.DataFrame(table)[["metric", "value", "unit", "target", "met"]],
              out_dir / "results.csv")
    lines = [
        "# Training-path benchmark" + (" (--quick: a smoke test, not a measurement)" if quick else ""),
        "",
        "Written by `python benchmarks/bench.py` (`make bench`); every number below is from that run.",
        "",
        "## Machine",
        "",
        *[f"- {k.replace('_', ' ')}: {v}" for k, v in info.items()],
        "",
        "## Side by side",
        "",
        "The general path (autograd, one `Network` per member, one fused Adam) against the "
        "hand-written engine, on the same batches in the same process; CNNs only on the general "
        "path. The fifth column is the decision number: above 1, the general path is slower. "
        "Where the device has native bfloat16, every path also trains in bf16-mixed "
        "(products in bfloat16, weights and Adam in float32); the last column is fp32's time "
        "over bf16-mixed's, each on the path it trains on: above 1, bf16-mixed is faster.",
        "",
        *side_by_side_table(rows),
        "",
        "## The study, job by job",
        "",
        "What the side-by-side rates say of the study's own training: each job (a model and "
        "its seeds, a scan row and its learning rates) at the FLOP rate of the nearest "
        "case above (same family; nearest in depth, dropout, multiply-adds per sample, members "
        "and batch), on each path. Jobs the hand-written engine cannot train cost the general "
        "path's time on both sides. Estimates from the cases, not measurements of the jobs. "
        "The last two columns are each job's floor on this machine: its FLOPs at the "
        "roof, and its parameters' traffic (`parameter_traffic`) at the stream rate.",
        "",
        "| job | nearest case | hand-written (s) | general (s) | general bf16-mixed (s) | "
        "FLOPs at the roof (s) | traffic at the stream rate (s) |",
        "|---|---|---|---|---|---|---|",
        *map(job_line, jobs),
        "",
        "## Results",
        "",
        "| metric | value | unit | target | met | note |",
        "|---|---|---|---|---|---|",
        *[f"| {r['metric']} | {r['value']:.4g} | {r['unit']} | {r['target']} | {r['met']} | {r['note']} |"
          for r in table],
        "",
        "## How to read it",
        "",
        "- roof: the best fp32 rate of a square torch.mm, sampled before, between the cases and "
        "after; fractions use the best sample (they err on the low side when neighbours "
        "slowed the measurements down, and rates measured under load are not comparable with "
        "rates measured on an idle machine: see the load average above). torch.mm is the "
        "library both paths and the conventional loop use for their dense layers (MKL on CPU), "
        "and its rate is not the CPU's: on AMD CPUs MKL runs its AVX2 code. onednn_matmul_rate, "
        "where listed, is the same product through oneDNN, which uses AVX-512 where the CPU has "
        "it (and which runs the CNNs' convolutions).",
        "- FLOPs, the project's one count (`mnist_study.jobs.job_flops`): 6 x forward "
        "multiply-adds per sample (`ModelSpec.forward_macs`: a convolution's weights and bias "
        "once per output position, a bias as one; for an MLP, 6 x its parameters). Pooling, batch norm, "
        "activations, the loss and Adam are not counted, and the gradient of the images, which "
        "no path computes, is: a fraction can pass 1 where the first layer over the 784 pixels "
        "dominates (about a third of that layer's backward pass is never run). Every way of "
        "training one spec is credited with the same count, so for one spec fraction / "
        "samples/s is one constant.",
        "- Timings are wall time of the training steps (batch gathering, forward, backward, "
        "Adam, loss and accuracy bookkeeping), after 3 warm-up steps per path; each path's time "
        "is its best of the rounds, which interleave the paths (every other round in reverse "
        "order) over the same batches (steps per case: Side by side). Evaluation is "
        "not included; the conventional loop runs one epoch, DataLoader start-up included.",
        "- Peak RSS of the study's model of the most parameters is that of a fresh process "
        "training it on one path (data, weights, gradients, Adam state and a few steps).",
        f"- Targets, set for the seed study on a 2-core CPU and held to any study's models in "
        f"the same roles: the first model with all its seeds at {FIRST_MODEL_FRACTION:g} of the "
        f"roof, the largest mlp at {LARGEST_MLP_FRACTION:g}, the model of the most parameters "
        f"within {PEAK_RSS_GB:g} GB.",
        "- The machine may be shared: the load average at start and end is listed above. "
        "Compare ratios measured side by side in one run, not absolute rates across runs.",
        "",
    ]
    with atomic_path(out_dir / "results.md") as tmp:
        tmp.write_text("\n".join(lines))


# --- a finished run against its floor ------------------------------------------------------

TRAINING_RULES = {"train_model": "model", "train_scan_row": "hidden"}


def study_job_name(rule: str, wildcards: str) -> str | None:
    """The study_jobs name of a training job in Snakemake's log ("model=10" -> "10",
    "hidden=720" -> "scan h720"); None for any other job."""
    key = TRAINING_RULES.get(rule)
    if key is None or not wildcards.startswith(f"{key}="):
        return None
    value = wildcards[len(key) + 1:]  # the rule's one wildcard: a model id may hold ", " or "="
    return value if rule == "train_model" else f"scan h{value}"


def floors_of_run(workdir: Path, config: dict, roof: float, stream: float, limits_from: str = "",
                  log_path: Path | None = None) -> str:
    """Markdown: each training job of the finished run in workdir beside its floor (its FLOPs at
    the roof plus its parameters' traffic at the stream rate, on the whole machine), and the
    run's wall time against the floor of all of them. A job's efficiency is the core-seconds
    of its floor over the core-seconds it held (wall x threads): 1 is the floor."""
    from mnist_study import timing

    run = timing.analyze(workdir, log_path)
    cores = run.cores or os.cpu_count()
    n_train = split_sizes(config)["train"]
    jobs = {job.name: job for job in study_jobs(config, n_train)}
    lines = ["| training job | threads | wall s | FLOPs at the roof s | traffic at the stream "
             "rate s | floor s | efficiency |", "|---|---:|---:|---:|---:|---:|---:|"]
    floor_total = 0.0
    for r in run.jobs.sort_values("wall_s", ascending=False).itertuples():
        name = study_job_name(r.rule, r.wildcards)
        if name not in jobs:
            continue
        flop_s, memory_s = jobs[name].floor_seconds(n_train, roof, stream)
        floor_total += flop_s + memory_s
        efficiency = (flop_s + memory_s) * cores / (r.wall_s * r.threads) if r.wall_s else math.nan
        lines.append(f"| {name} | {r.threads} | {r.wall_s:.0f} | {flop_s:.0f} | {memory_s:.0f} | "
                     f"{flop_s + memory_s:.0f} | {efficiency:.2f} |")
    source = f" ({limits_from})" if limits_from else ""
    head = [f"- the machine's limits{source}: roof {roof / 1e9:.0f} GFLOP/s, "
            f"stream rate {stream / GB:.1f} GB/s; {cores} cores; {n_train:,} training images",
            f"- the run: {run.total_wall_s:.0f} s of wall time = {run.total_wall_s / floor_total:.2f}x "
            f"the floor of its training jobs ({floor_total:.0f} s)" if floor_total else
            "- the run trained nothing", ""]
    return "\n".join(head + lines) + "\n"


def limits_of(results_csv: Path) -> tuple[float, float]:
    """(roof FLOP/s, stream rate bytes/s) of a benchmark run's results.csv."""
    import pandas as pd

    values = pd.read_csv(results_csv).set_index("metric")["value"]
    missing = [m for m in ("roof", "stream_rate") if m not in values]
    if missing:
        raise SystemExit(f"{results_csv}: no {' or '.join(missing)} row; run `make bench` first "
                         "(the benchmark measures the machine's limits)")
    return float(values["roof"]) * 1e9, float(values["stream_rate"]) * GB


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few steps per case: a smoke test")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks", help="output folder")
    p.add_argument("--config", type=Path, action="append", default=None,
                   help="the study whose models are measured, as --configfile gives it to the "
                        "workflow (repeatable; default: the study config.yaml names)")
    p.add_argument("--floors", type=Path, default=None, metavar="WORKDIR",
                   help="measure nothing: print the finished run in WORKDIR beside its floor, "
                        "at the limits that --results holds")
    p.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results.csv",
                   help="the benchmark run whose roof and stream rate --floors uses")
    p.add_argument("--mnist", type=Path, default=REPO / "data" / "mnist",
                   help="folder holding MNIST/raw/ with the four verified raw files")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    p.add_argument("--probe-steps", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--probe-path", default="handwritten", choices=PATHS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_probe:
        spec = ModelSpec.from_dict(json.loads(args.memory_probe))
        print(json.dumps(memory_probe(spec, args.mnist, args.probe_steps, args.probe_path)))
        return
    config = load_config(REPO, args.config or [])
    if args.floors:
        print(floors_of_run(args.floors, config, *limits_of(args.results), str(args.results)),
              end="")
        return
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    start = time.perf_counter()
    rows, info = run(QUICK if args.quick else Sizes(), config, args.mnist, log)
    info["benchmark_wall_time_s"] = round(time.perf_counter() - start, 1)
    write_results(rows, info, args.out, args.quick)
    log(f"wrote {args.out / 'results.csv'} and {args.out / 'results.md'} "
        f"in {info['benchmark_wall_time_s']} s")


if __name__ == "__main__":
    main()
