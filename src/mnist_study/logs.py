"""Log set-up shared by workflow scripts: stderr (and warnings) go to the rule's log file, and
every job's log says how long its process took to start (interpreter, Snakemake's preamble,
imports) and how long its work took, in the TIMING_LINE format that `mnist_study.timing`
reads back to say where a run's wall time went."""

from __future__ import annotations

import os
import re
import sys
import time
import traceback
from contextlib import contextmanager
from typing import Callable, Iterator

# "[timing] start-up 2.91 s" on entry, "[timing] work 0.53 s" on a normal exit
TIMING_PREFIX = "[timing]"


def process_age_s() -> float:
    """Seconds since this process started: the start-up a job paid before its first line of
    work, when called at the top of that work. On Linux from the kernel's clock ticks (10 ms);
    psutil's create_time is built on a whole-second boot time and reads up to 1 s too old."""
    try:
        with open("/proc/self/stat") as f:
            # field 22, counted after the parenthesized command name (which may hold spaces)
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        import psutil  # comes with Snakemake

        return max(0.0, time.time() - psutil.Process().create_time())


@contextmanager
def redirect_to_log(path: str) -> Iterator[None]:
    with open(path, "a", buffering=1) as f:
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = f
        started = time.perf_counter()
        print(f"{TIMING_PREFIX} start-up {process_age_s():.2f} s", file=f)
        try:
            yield
            print(f"{TIMING_PREFIX} work {time.perf_counter() - started:.2f} s", file=f)
        except BaseException:
            traceback.print_exc(file=f)  # the log then holds the error the user must read
            raise
        finally:
            sys.stdout, sys.stderr = old_out, old_err


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def log_training_flops(flops: float, log: Callable[[str], None] = log) -> None:
    """The arithmetic a training job does (jobs.job_flops), beside its timing lines: the next
    run's plan scales the job's time by its new count over this one (mnist_study.progress)."""
    log(f"{TIMING_PREFIX} flops {flops:.6g}")


# The first line the training engine writes per epoch: "epoch 3/10 loss ... ETA 80 s"
EPOCH_SUMMARY = re.compile(r"epoch \d+/\d+ ")


def echo_epochs(job: str, log: Callable[[str], None] = log) -> Callable[[str], None]:
    """`log`, and each epoch's summary line also on the console, as "<job>: epoch 3/10 ...".
    A training job's log goes to its file (redirect_to_log); without this echo, the console of
    a long run showed nothing but "5 of 75 steps done" for forty minutes. The console is the
    stderr the process started with, which Snakemake shows (a cluster job: its own log)."""
    def log_and_echo(message: str) -> None:
        log(message)
        if EPOCH_SUMMARY.match(message) and sys.__stderr__ is not None:
            print(f"{job}: {message}", file=sys.__stderr__, flush=True)
    return log_and_echo
