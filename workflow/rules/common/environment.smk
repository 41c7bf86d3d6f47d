# Set-up of every job's environment, and what a run says when it ends.
import os
import sys
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

# The logic lives in the package under src/. Jobs import it from this checkout, whatever
# environment runs them (the uv venv, a --sdm conda env, a cluster node), so put it on the
# path here and, through PYTHONPATH, for every job's interpreter.
REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO / "src"))
# Threads that sleep rather than spin while waiting: on a shared or oversubscribed machine
# OpenMP's spin-waiting made training many times slower (benchmarks/). The user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
)

# Parsing imports only torch-free modules, so that a rerun with nothing to do decides fast.
from mnist_study import families, files, jobs
from mnist_study.data import MNIST_IMAGES, RAW_FILES, existing_copy_files, split_sizes
from mnist_study.report.provenance import config_digest
from mnist_study.spec import ModelSpec, resolve_models, scan_grid, scan_row_spec
from mnist_study.study import (
    compose_config,
    resolve_claims,
    resolve_inspection,
    reductions,
)
from mnist_study.train.outcome import (
    MODEL_FILES,
    OUTCOME_FILE,
    RECORD_FAILURES_ENV,
)


def record_failures_under_keep_going():
    """Under --keep-going a training job records a failure it can see instead of failing, so
    that the report still builds and marks the missing model (mnist_study.train.outcome). An
    environment variable, not a param: toggling --keep-going must not make every model look
    changed. Called from onstart: the execution settings are not known while parsing."""
    if workflow.execution_settings.keep_going:
        os.environ[RECORD_FAILURES_ENV] = "1"


def warn_about_deleted_raw_files(root, loaded):
    """A raw MNIST file gone while what was loaded from it is not: nothing needs it, so
    Snakemake has nothing to do, but the user may expect it back. Say how, without a rerun of
    everything downstream (which fetching it in this run's DAG would cause)."""
    raw = Path(root) / "MNIST" / "raw"
    missing = [name for name in RAW_FILES if not (raw / name).exists()]
    if missing and Path(loaded).exists():
        logger.warning(
            f"MNIST: {', '.join(missing)} deleted from {raw}; {loaded}, read from it, is intact, "
            f"so nothing needs it. To fetch it again (checked against its SHA-256, so nothing "
            f"else reruns): snakemake --forcerun fetch_mnist --until fetch_mnist"
        )


def warn_about_failed_models():
    outcomes = Path("results/tables/training_outcomes.csv")
    if not outcomes.exists():
        return
    failed = files.read_table(outcomes).query("status == 'failed'")
    for row in failed.itertuples():
        logger.warning(
            f"model {row.model} did not train and is missing from the report: "
            f"{row.reason} (log: {row.log}); retry with "
            f"snakemake --forcerun results/models/{row.model}"
        )


def say_how_long_the_plan_takes():
    """Start of a run: its plan's expected wall time on this machine, and which estimate that is
    (mnist_study.progress). A cluster's queue is beyond any estimate here: it says nothing."""
    from mnist_study.progress import PlannedJob, expected_wall_time, measured_rate, plan_text

    if not workflow.local_exec:
        return
    try:
        planned = [
            PlannedJob(job.rule.name, job.log[0] if job.log else None, training_flops(job))
            for job in workflow.dag.needrun_jobs()
            if not job.rule.norun
        ]
        rate = measured_rate(REPO / "benchmarks")
        text = plan_text(expected_wall_time(planned, workflow.cores, rate))
    except Exception as exc:  # an estimate must never stop a run
        text = f"(no estimate of the wall time: {type(exc).__name__}: {exc})"
    logger.info(text)


def say_where_the_time_went(logs):
    """End of a run: the rules that took the most wall time (python -m mnist_study.timing
    WORKDIR gives the whole breakdown). `logs`: the handler's `log`, Snakemake's log file(s)."""
    from mnist_study.timing import top_rules_text

    try:
        log = next(
            str(f)
            for f in ([logs] if isinstance(logs, (str, Path)) else logs)
            if str(f).endswith(".snakemake.log")
        )
        summary = top_rules_text(log)
    except Exception as exc:  # a summary must never fail a run that succeeded
        summary = f"(no timing summary: {type(exc).__name__}: {exc})"
    if summary:
        logger.info(summary)
