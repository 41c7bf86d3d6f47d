"""A slice of the quick configuration through profiles/slurm on a real (single-node) SLURM
cluster: enough of the DAG to prove submission, resources, logs and job status through the
real scheduler (a model's training, a scan row, the data preparation they need) and that
local rules stay on the submit host (a figure). The whole quick study runs once, locally, in
test_workflow; running it a second time here would only repeat the same jobs, slower.

tests/slurm/cluster.sh brings up munged, slurmctld and slurmd on this machine. Proof that the
training jobs ran under SLURM comes from two independent records: the scheduler's job
completion log (jobcomp/filetxt; there is no slurmdbd, so no sacct) and the executor's
per-job logs, .snakemake/slurm_logs/rule_<rule>/[<wildcards>/]<slurm job id>.log.

Snakemake runs from .venv-slurm, the environment a cluster user sets up (`tools/setup.sh
--slurm`), not from .venv: the local environment has no SLURM plugin (tests/test_local_runs.py),
and installing it there would make every later local command on this machine wait for the
controller this test stops.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, quick_configfiles, run_snakemake

pytestmark = pytest.mark.slurm

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
CLUSTER_ENV = REPO / ".venv-slurm"
JOBCOMP = Path("/var/log/slurm/jobcomp.log")
SKIP_CODE = 77  # cluster.sh: this machine cannot host SLURM


@pytest.fixture(scope="module")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("SLURM test needs root (to install and start munged/slurmctld/slurmd)")
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        pytest.skip("SLURM test needs apt-get (SLURM is not installed)")
    try:
        up = subprocess.run(["bash", CLUSTER, "up"], capture_output=True, text=True, timeout=600)
        if up.returncode == SKIP_CODE:
            pytest.skip(f"cannot host SLURM here: {up.stderr.strip()}")
        assert up.returncode == 0, f"cluster.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield
    finally:
        # also after a failed or skipped `up`: stop whatever part of it did start
        subprocess.run(["bash", CLUSTER, "down"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def cluster_snakemake(slurm_cluster) -> str:
    """`snakemake` of an environment with the SLURM executor plugin, set up (or brought up to
    date: seconds) the way the docs tell a cluster user to."""
    setup = subprocess.run(["bash", REPO / "tools" / "setup.sh", "--slurm"], capture_output=True,
                           text=True, timeout=900,
                           env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(CLUSTER_ENV)})
    assert setup.returncode == 0, f"tools/setup.sh --slurm failed:\n{setup.stdout}\n{setup.stderr}"
    return str(CLUSTER_ENV / "bin" / "snakemake")


def completed_slurm_jobs(workdir: Path) -> set[str]:
    """SLURM job ids that ran to COMPLETED with `workdir` as working directory."""
    jobs = set()
    for line in JOBCOMP.read_text().splitlines():
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if f.get("WorkDir") == str(workdir) and f.get("JobState") == "COMPLETED":
            jobs.add(f["JobId"])
    return jobs


def slurm_jobs_by_rule(workdir: Path) -> dict[str, set[str]]:
    """rule name -> SLURM job ids the executor submitted for it (from its kept logs)."""
    by_rule: dict[str, set[str]] = {}
    for log in (workdir / ".snakemake" / "slurm_logs").glob("rule_*/**/*.log"):
        rule = log.relative_to(workdir / ".snakemake" / "slurm_logs").parts[0][len("rule_"):]
        by_rule.setdefault(rule, set()).add(log.stem)
    return by_rule


# targets of the slice: two training jobs of different rules, and a local plotting rule
TARGETS = ["results/models/0", "results/scan/h4/training.csv", "results/figures/digit_means.pdf"]


def test_a_slice_of_the_quick_config_runs_on_slurm(cluster_snakemake, mnist_raw_dir, tmp_path):
    workdir = tmp_path.resolve()  # slurmctld records the resolved path
    run = run_snakemake(
        workdir, *TARGETS,
        # generic profile, then the overlay for a cluster without slurmdbd and accounts
        "--profile", str(REPO / "profiles" / "slurm"),
        "--profile", str(REPO / "profiles" / "slurm-local-test"),
        # sbatch rejects more CPUs than the node has; a local run would scale threads down
        "--max-threads", str(len(os.sched_getaffinity(0))),
        configfiles=quick_configfiles(workdir, mnist_raw_dir),
        timeout=1800, snakemake=cluster_snakemake,
    )
    out = run.stdout + run.stderr
    assert all((workdir / t).exists() for t in TARGETS), out[-3000:]

    # every training job Snakemake ran was submitted ("rule"), none ran on the submit host
    assert not re.findall(r"^localrule \w*train\w*:", out, re.M), "training ran locally"
    n_train = len(re.findall(r"^rule \w*train\w*:", out, re.M))
    assert n_train == 2, "expected train_model 0 and train_scan_row h4"

    by_rule = slurm_jobs_by_rule(workdir)
    train_ids = set().union(*(ids for rule, ids in by_rule.items() if "train" in rule))
    assert len(train_ids) == n_train, (by_rule, n_train)
    completed = completed_slurm_jobs(workdir)
    assert train_ids <= completed, f"not COMPLETED in {JOBCOMP}: {train_ids - completed}"
    # plotting is a local rule: it ran on the submit host, not through the scheduler
    assert re.search(r"^localrule plot_digit_means:", out, re.M), out[-3000:]
    assert not [r for r in by_rule if "plot" in r], by_rule
