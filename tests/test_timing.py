"""mnist_study.timing on small Snakemake logs written here in Snakemake 9's format, and on the
log of a toy workflow run by the installed Snakemake."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import pytest

from mnist_study.timing import (
    TORCH_NOTE,
    analyze,
    main,
    newest_log,
    read_timing,
    render_markdown,
    run_folder,
    top_rules_text,
)


def stamp(s: int) -> str:
    return f"[Wed Dec  2 07:03:{s:02d} 2026]"


def job(s: int, rule: str, jobid: int, log: str | None = None, threads: int = 1,
        wildcards: str = "", local: bool = True) -> str:
    lines = [stamp(s), f"{'local' if local else ''}rule {rule}:", "    output: x"]
    if log:
        lines.append(f"    log: {log}")
    lines += [f"    jobid: {jobid}", "    reason: Missing output files: x"]
    if wildcards:
        lines.append(f"    wildcards: {wildcards}")
    if threads != 1:  # Snakemake leaves out threads: 1
        lines.append(f"    threads: {threads}")
    lines += ["    resources: tmpdir=/tmp", "Shell command: None", "Select jobs to execute..."]
    return "\n".join(lines)


def finished(s: int, jobid: int, rule: str, done: int, total: int = 3) -> str:
    return (f"{stamp(s)}\nFinished jobid: {jobid} (Rule: {rule})\n"
            f"{done} of {total} steps ({done / total:.0%}) done")


def write_run(workdir: Path, *blocks: str, cores: int | None = 2, name: str = "a") -> Path:
    head = ["Building DAG of jobs...", "Using shell: /usr/bin/bash"]
    if cores:
        head += [f"Provided cores: {cores}", "Rules claiming more threads will be scaled down."]
    path = workdir / ".snakemake" / "log" / f"2026-12-02T0703{name}.snakemake.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head + ["Execute 2 jobs..."] + list(blocks)) + "\n")
    return path


def write_job_log(workdir: Path, rel: str, text: str) -> None:
    (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
    (workdir / rel).write_text(text)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """fetch [0, 4] and plot [0, 4] on 2 cores, then train (threads 4, so 2) [4, 10]; plot's
    end is logged after train's start, so plot cannot be what train waited for."""
    write_job_log(tmp_path, "logs/fetch.log",  # two runs appended: the last pair counts
                  "[timing] start-up 9.00 s\n[timing] work 9.00 s\nold output\n"
                  "[timing] start-up 1.50 s\nsome output\n[timing] work 2.00 s\n")
    write_job_log(tmp_path, "logs/plot.log", "no timing lines here\n")
    write_job_log(tmp_path, "logs/train/3.log", "[timing] start-up 2.25 s\n[timing] work 3.00 s\n")
    write_run(tmp_path,
              job(0, "fetch", 2, "logs/fetch.log"),
              job(0, "plot", 5, "logs/plot.log"),
              finished(4, 2, "fetch", 1),
              "Execute 1 jobs...",
              job(4, "train", 7, "logs/train/3.log", threads=4, wildcards="model=3", local=False),
              finished(4, 5, "plot", 2),
              finished(10, 7, "train", 3))
    return tmp_path


def test_totals_idle_and_critical_path(run_dir: Path):
    t = analyze(run_dir)
    assert t.cores == 2 and t.steps == (3, 3) and len(t.jobs) == 3
    assert t.total_wall_s == 10
    # 2 cores x 10 s = 20 core-s; busy: fetch 4 x 1 + plot 4 x 1 + train 6 x min(4, 2)
    assert t.idle_core_s == 20 - (4 + 4 + 12)
    assert t.idle_fraction == 0
    assert list(t.critical_path["rule"]) == ["fetch", "train"]
    assert list(t.critical_path["wall_s"]) == [4, 6]
    assert t.startup_s == pytest.approx(1.5 + 2.25)
    assert t.startup_share == pytest.approx(0.375)


def test_idle_seconds_when_a_core_waits(tmp_path: Path):
    write_run(tmp_path, job(0, "fetch", 1), finished(4, 1, "fetch", 1, 2),
              job(4, "train", 2, wildcards="model=0"), finished(10, 2, "train", 2, 2))
    t = analyze(tmp_path)
    assert t.idle_core_s == 2 * 10 - (4 + 6)  # one thread each: one core always waits
    assert t.idle_fraction == pytest.approx(0.5)
    cp = t.critical_path
    assert list(cp["jobid"]) == [1, 2] and list(cp["wildcards"]) == ["", "model=0"]


def test_per_rule_sums_and_unknown_timing(run_dir: Path):
    rules = analyze(run_dir).per_rule.set_index("rule")
    assert list(rules.index) == ["train", "fetch", "plot"]  # by wall, descending (6, 4, 4)
    fetch, train, plot = rules.loc["fetch"], rules.loc["train"], rules.loc["plot"]
    assert (fetch["jobs"], fetch["wall_s"], fetch["startup_s"], fetch["work_s"]) == (1, 4, 1.5, 2)
    assert fetch["other_s"] == pytest.approx(0.5)
    assert train["other_s"] == pytest.approx(6 - 2.25 - 3) and train["max_s"] == 6
    # no timing lines: unknown, not zero
    assert math.isnan(plot["startup_s"]) and math.isnan(plot["work_s"])
    assert math.isnan(plot["other_s"])


def test_read_timing_takes_the_last_pair(tmp_path: Path):
    log = tmp_path / "x.log"
    log.write_text("[timing] start-up 3.00 s\n[timing] work 4.00 s\n[timing] start-up 5.00 s\n")
    startup, work = read_timing(log)  # the last run started but did not finish its work
    assert startup == 5 and math.isnan(work)
    assert all(math.isnan(v) for v in read_timing(tmp_path / "absent.log"))


def test_failed_and_unfinished_jobs(tmp_path: Path):
    write_job_log(tmp_path, "logs/train/1.log", "[timing] start-up 5.45 s\nTraceback ...\n")
    write_run(tmp_path,
              job(0, "train", 8, "logs/train/1.log", threads=2, wildcards="model=1"),
              job(0, "plot", 9),
              "RuleException:\nCalledProcessError in file \"train.smk\", line 25:",
              stamp(5),
              "Error in rule train:\n    message: None\n    jobid: 8\n"
              "    output: results/models/1\n"
              "    log: logs/train/1.log (check log file(s) for error details)\n"
              "Logfile logs/train/1.log:\n" + "=" * 80 + "\n[timing] start-up 5.45 s\n"
              "Traceback (most recent call last):\n" + "=" * 80,
              "Shutting down, this might take some time.",
              "Exiting because a job execution failed. Look above for error messages")
    t = analyze(tmp_path)
    jobs = t.jobs.set_index("jobid")
    assert jobs.loc[8, "status"] == "failed" and jobs.loc[8, "wall_s"] == 5
    assert jobs.loc[8, "startup_s"] == 5.45 and math.isnan(jobs.loc[8, "work_s"])
    assert jobs.loc[9, "status"] == "unfinished" and math.isnan(jobs.loc[9, "wall_s"])
    assert t.total_wall_s == 5 and list(t.critical_path["jobid"]) == [8]
    rules = t.per_rule.set_index("rule")
    assert rules.loc["train", "failed"] == 1 and math.isnan(rules.loc["plot", "wall_s"])
    text = render_markdown(t)
    assert "(1 failed, 1 unfinished)" in text


def test_message_checkpoint_and_no_cores(tmp_path: Path):
    write_run(tmp_path,
              stamp(0) + "\nlocalcheckpoint split:\n    jobid: 1\n    reason: x",
              finished(2, 1, "split", 1, 2),
              stamp(2) + "\nJob 2: Training model 3\nReason: Missing output files: y",
              finished(7, 2, "train", 2, 2), cores=None)
    t = analyze(tmp_path)
    assert list(t.jobs["rule"]) == ["split", "train"]  # the rule of "Job 2:" from "Finished"
    assert list(t.jobs["wall_s"]) == [2, 5]
    assert t.cores is None and t.idle_core_s is None and t.idle_fraction is None
    assert "n/a (cores unknown)" in render_markdown(t)


def test_newest_log_and_explicit_log(run_dir: Path):
    old = write_run(run_dir, job(0, "only", 1), finished(1, 1, "only", 1, 1), name="0")
    older_mtime = (run_dir / ".snakemake" / "log").stat().st_mtime - 100
    os.utime(old, (older_mtime, older_mtime))
    assert newest_log(run_dir).name.endswith("a.snakemake.log")
    assert len(analyze(run_dir, old).jobs) == 1


def test_top_rules_text(run_dir: Path):
    text = top_rules_text(newest_log(run_dir), n=2)  # workdir: the folder holding .snakemake
    lines = text.splitlines()
    assert len(lines) == 3 and "3 jobs, 10 s wall on 2 cores, 0% of core time idle" in lines[0]
    assert lines[1] == "  train 1 job 6 s (start-up 2.2 s, work 3.0 s)"
    assert lines[2].startswith("  fetch 1 job 4 s (start-up 1.5 s")


def test_cli_prints_and_writes_markdown(run_dir: Path, capsys):
    out = run_dir / "timing.md"
    main([str(run_dir), "--out", str(out)])
    printed = capsys.readouterr().out
    assert printed == out.read_text()
    assert printed.splitlines()[0] == TORCH_NOTE and "import torch" in TORCH_NOTE
    assert "| train | 1 | 0 | 6.0 | 2.2 | 3.0 | 0.8 | 6.0 |" in printed
    assert "| plot | 1 | 0 | 4.0 | n/a | n/a | n/a | 4.0 |" in printed
    assert "Critical path: 2 jobs, 10 s" in printed


# A real Snakemake run to parse: two jobs of `a` that cannot run side by side (2 threads each
# on 2 cores), then `c`, then `all`. Each `a` writes the timing lines a job's log holds.
TOY_WORKFLOW = r"""
rule all:
    input: "c.txt"
    localrule: True

rule a:
    output: "a{n}.txt"
    log: "logs/a{n}.log"
    threads: 2
    shell:
        "printf '[timing] start-up 0.50 s\n[timing] work 0.25 s\n' > {log}; "
        "sleep 1; touch {output}"

rule c:
    input: "a1.txt", "a2.txt"
    output: "c.txt"
    shell: "sleep 1; touch {output}"
"""


def test_a_log_that_snakemake_itself_wrote(tmp_path: Path, monkeypatch):
    # the other tests parse logs written here in Snakemake 9's format; this one parses the
    # installed Snakemake's own, so that a change of its format fails here
    from conftest import SNAKEMAKE

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "Snakefile").write_text(TOY_WORKFLOW)
    subprocess.run([SNAKEMAKE, "--cores", "2", "-d", str(run_dir), "-s",
                    str(run_dir / "Snakefile")], check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)  # job logs are found from the run's log, not the current folder
    t = analyze(log_path=newest_log(run_dir))
    assert t.cores == 2 and t.steps == (4, 4)
    assert sorted(t.jobs["rule"]) == ["a", "a", "all", "c"] and set(t.jobs["status"]) == {"ok"}
    a = t.jobs[t.jobs["rule"] == "a"]
    assert sorted(a["wildcards"]) == ["n=1", "n=2"] and set(a["threads"]) == {2}
    assert list(a["startup_s"]) == [0.5, 0.5] and list(a["work_s"]) == [0.25, 0.25]
    assert math.isnan(t.jobs.set_index("rule").loc["c", "startup_s"])  # no timing lines
    assert t.per_rule["wall_s"].sum() == pytest.approx(t.jobs["wall_s"].sum())
    # each job waited for the one before it: the critical path is the whole run
    assert list(t.critical_path["rule"]) == ["a", "a", "c", "all"]
    assert t.critical_path["end"].iloc[-1] == t.jobs["end"].max()
    assert 0 <= t.idle_fraction <= 1
    assert render_markdown(t).startswith(TORCH_NOTE)


def test_the_run_folder_of_a_log_is_the_one_holding_snakemake_s_folder(tmp_path: Path):
    assert run_folder(tmp_path / ".snakemake" / "log" / "x.snakemake.log") == tmp_path
    assert run_folder(tmp_path / "log" / "x.snakemake.log") == Path(".")  # a copy elsewhere


def test_job_with_two_logs_uses_the_one_with_timing(tmp_path: Path):
    write_job_log(tmp_path, "logs/b.log", "[timing] start-up 1.00 s\n[timing] work 2.00 s\n")
    write_run(tmp_path, job(0, "r", 1, "logs/a.log, logs/b.log"), finished(4, 1, "r", 1, 1))
    row = analyze(tmp_path).jobs.iloc[0]
    assert (row["startup_s"], row["work_s"], row["other_s"]) == (1, 2, 1)
