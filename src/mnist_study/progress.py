"""What a run says when it starts: how long its plan is expected to take on this machine.

Each planned job's time comes, in this order of trust, from
1. the job's last run: the "[timing]" lines its log keeps (start-up and work seconds; a training
   job's work scaled by its FLOPs now over its FLOPs then, so that a study grown from the quick
   configuration in the same folder is not promised in minutes);
2. a training job's FLOP count (jobs.job_flops) at the roof `make bench` measured
   (benchmarks/results.csv), slowed by the factor the default study ran at over that floor;
3. a typical job's few seconds, for a job that trains nothing.
The jobs then share the cores: the wall time is their sum over the cores, or the longest job
where that is longer. A rough guide and said as one: the order Snakemake picks, the machine's
load and what the checkpoint adds are not modelled.

Imported by the workflow as it starts (no torch; stdlib and torch-free modules only).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from mnist_study import jobs
from mnist_study.timing import read_record

# The default study's wall time over its FLOP floor (its FLOPs at the roof, on all cores), the
# last time it was measured end to end: 1.80x on 2026-12-04 (benchmarks/breakdown-seed.md).
WALL_OVER_FLOP_FLOOR = 1.8
# A job that trains nothing and has no time of its own: start-up plus seconds of work
# (benchmarks/breakdown-seed.md: 2-7 s each for the default study's, most 2-3 s).
OTHER_JOB_S = 3.0
# A training job's start-up where it has no time of its own: `import torch` and the data.
TRAINING_STARTUP_S = 3.0


@dataclass(frozen=True)
class PlannedJob:
    rule: str
    log: str | None  # the job's log file, which holds its last run's time
    flops: float | None = None  # what it trains (jobs.job_flops); None: a job that trains nothing


@dataclass(frozen=True)
class Rate:
    """FLOP/s of the whole machine (all `threads`), and where that number comes from."""
    flops_per_s: float
    threads: int
    source: str


def measured_rate(benchmarks: Path) -> Rate:
    """The fp32 roof of the last `make bench` (benchmarks/results.csv), with the date, CPU and
    threads its results.md records; without one, jobs.SLOW_RATE, said as a guess."""
    try:
        with open(benchmarks / "results.csv", newline="") as f:
            roof = float({r["metric"]: r["value"] for r in csv.DictReader(f)}["roof"]) * 1e9
    except (OSError, KeyError, ValueError):
        return Rate(jobs.SLOW_RATE, 2, f"{jobs.SLOW_RATE / 1e9:.0f} GFLOP/s, a guess for a slow "
                                       "2-core CPU (`make bench` measures this one)")
    try:
        machine = dict(re.findall(r"^- ([\w ]+): (.+)$", (benchmarks / "results.md").read_text(),
                                  re.M))
    except OSError:
        machine = {}
    threads = int(machine.get("torch threads", 0)) or 1
    where = ", ".join(v for v in (machine.get("date", "")[:10], machine.get("cpu"),
                                  f"{threads} threads") if v)
    return Rate(roof, threads, f"{roof / 1e9:.0f} GFLOP/s measured by `make bench` ({where})")


@dataclass(frozen=True)
class Expectation:
    wall_s: float
    cores: int
    from_last_run: int  # jobs timed by their last run
    from_flops: int  # training jobs timed by their FLOP count
    other: int  # jobs given a typical job's time
    rate: Rate

    @property
    def jobs(self) -> int:
        return self.from_last_run + self.from_flops + self.other


def expected_wall_time(planned: list[PlannedJob], cores: int, rate: Rate) -> Expectation:
    # A training job timed by its FLOPs runs on one thread beside the others (jobs before
    # threads: mnist_study.jobs), at one thread's share of the roof.
    per_thread = rate.flops_per_s / rate.threads / WALL_OVER_FLOP_FLOOR
    times, counts = [], {"last": 0, "flops": 0, "other": 0}
    for job in planned:
        last = read_record(Path(job.log)) if job.log else {"work": math.nan}
        if not math.isnan(last["work"]):
            work = last["work"]
            if job.flops is not None and last["flops"] > 0:
                work *= job.flops / last["flops"]
            times.append(work + (0.0 if math.isnan(last["start-up"]) else last["start-up"]))
            counts["last"] += 1
        elif job.flops is not None:
            times.append(TRAINING_STARTUP_S + job.flops / per_thread)
            counts["flops"] += 1
        else:
            times.append(OTHER_JOB_S)
            counts["other"] += 1
    cores = max(1, cores)
    wall = max(sum(times) / cores, max(times, default=0.0))
    return Expectation(wall, cores, counts["last"], counts["flops"], counts["other"], rate)


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 / 60:.0f} min"


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def plan_text(e: Expectation) -> str:
    """Two lines: the expected wall time, then which estimate it is."""
    sources = []
    if e.from_last_run:
        sources.append("the last run's job times"
                       + (f" ({counted(e.from_last_run, 'job')})" if e.from_last_run < e.jobs else ""))
    if e.from_flops:
        sources.append(f"FLOP counts at {e.rate.source}, at {WALL_OVER_FLOP_FLOOR}x that floor as "
                       f"the default study ran ({counted(e.from_flops, 'training job')})")
    if e.other:
        sources.append(f"{OTHER_JOB_S:.0f} s for each other job ({e.other})")
    return (f"Expected wall time: about {duration_text(e.wall_s)} ({counted(e.jobs, 'job')} on "
            f"{counted(e.cores, 'core')}),\n  from {'; '.join(sources)}.")
