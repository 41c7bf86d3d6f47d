"""What training jobs ask the scheduler for (mnist_study.jobs): on one machine jobs before
threads, the longest first; and the rule as Snakemake applies it."""

import re

import pytest
from conftest import REPO, SEED_STUDY, run_snakemake, seed_models

from mnist_study import jobs
from mnist_study.spec import resolve_models, scan_grid


@pytest.mark.parametrize("can_use, cores, to_train, expected", [
    (8, 2, 31, 1),  # the seed study from scratch on 2 cores: every job one thread
    (8, 2, 2, 1),  # as many jobs as cores: still one each
    (8, 2, 1, 2),  # a rerun of one changed model: it has the machine
    (1, 2, 1, 1),  # ... unless it cannot use more than one thread
    (8, 64, 31, 2),  # a large machine: the cores shared out
    (8, 64, 3, 8),  # ... up to what a job can use
    (8, 2, 0, 2),  # nothing counted as still to train (a --forcerun): as for one job
])
def test_jobs_fill_the_cores_before_threads(can_use, cores, to_train, expected):
    assert jobs.local_threads(can_use, cores, to_train) == expected


def seed_config() -> dict:
    """config.yaml with the seed study over it, as the workflow reads them."""
    from mnist_study.study import load_config

    return load_config(REPO, [SEED_STUDY])


def seed_specs():
    return {m: s.spec for m, s in resolve_models(seed_config()).items()}


def test_longer_jobs_come_first():
    specs = seed_specs()
    priority = {m: jobs.training_job(s, len(s.seeds), 60000)["priority"] for m, s in specs.items()}
    # model 10 (78,400 units) is the study's longest job; model 4 (batch 16: four times the
    # steps of model 0) runs longer than model 0; model 7 (one hidden unit) is among the shortest
    assert priority["10"] == max(priority.values())
    assert priority["4"] > priority["0"] > priority["7"]
    assert all(isinstance(p, int) and p >= 0 for p in priority.values())


def test_a_job_asks_for_the_threads_its_arithmetic_can_use():
    specs = seed_specs()
    assert jobs.can_use_threads(specs["10"], 1, 60000) == jobs.MAX_THREADS
    assert jobs.can_use_threads(specs["7"], 5, 60000) == 1  # overhead-bound
    assert jobs.can_use_threads(specs["0"], 5, 300) == 1  # a few seconds of arithmetic


def dry_run_jobs(workdir, *args):
    """(rule, wildcards, threads, priority) of each job that a dry run of the seed study
    lists, on 2 cores."""
    out = run_snakemake(workdir, "-n", "--cores", "2", "--until", "collect_training_outcomes",
                        "analyze_scan", *args, configfiles=[SEED_STUDY]).stdout
    found = []
    for block in out.split("\nrule ")[1:]:
        rule = block.split(":", 1)[0]
        wildcards = re.search(r"wildcards: (\S+)", block)
        threads = re.search(r"threads: (\d+)", block)
        priority = re.search(r"priority: (\d+)", block)
        found.append((rule, wildcards and wildcards.group(1),
                      int(threads.group(1)) if threads else 1,
                      int(priority.group(1)) if priority else 0))
    return found


def test_the_workflow_gives_a_fresh_study_one_thread_per_job_and_a_rerun_the_cores(tmp_path):
    fresh = [j for j in dry_run_jobs(tmp_path) if j[0] in ("train_model", "train_scan_row")]
    rows = scan_grid(seed_config()["scan"]).hidden_sizes
    assert len(fresh) == len(seed_models()) + len(rows)  # every model and every scan row
    assert {threads for _, _, threads, _ in fresh} == {1}
    assert max(fresh, key=lambda j: j[3])[1] == "model=10"
    # every other job has trained: the one changed model gets both cores
    for m in seed_models():
        (tmp_path / "results" / "models" / m).mkdir(parents=True)
        (tmp_path / "results" / "models" / m / "outcome.json").write_text("{}")
    for h in rows:
        (tmp_path / "results" / "scan" / f"h{h}").mkdir(parents=True)
        (tmp_path / "results" / "scan" / f"h{h}" / "training.csv").write_text("")
    (tmp_path / "results" / "models" / "9" / "outcome.json").unlink()
    rerun = [j for j in dry_run_jobs(tmp_path, "--forcerun", "train_model")
             if j[1] == "model=9"]
    assert rerun and rerun[0][2] == 2
