"""Where the wall time of a finished Snakemake run went.

`python -m mnist_study.timing WORKDIR [--log PATH] [--out FILE.md]` reads Snakemake's own log of
the run (the newest WORKDIR/.snakemake/log/*.snakemake.log unless --log is given) for each job's
start and end (1 s resolution), rule, wildcards and threads, and each job's own log for the last
"[timing] start-up X s" / "[timing] work Y s" pair that `mnist_study.logs.redirect_to_log`
appends (logs are appended to, so only the last pair belongs to this run). A job without those
lines (a non-Python rule, a script that does not use redirect_to_log) has unknown start-up and
work: NaN, never 0 (one that died before redirect_to_log ran shows the previous run's pair: the
log cannot tell them apart). "other" = wall - start-up - work is what Snakemake itself spent per job
(scheduling, the script's preamble file, output checks); with 1 s timestamps it is noisy for
short jobs and can be slightly negative.

The critical path is a schedule-trace approximation, not the DAG's: starting from the job that
finished last, each job's predecessor is the job that finished latest at or before its start
(1 s tolerance) and whose "Finished" line comes before the job's own entry in the log (so a job
still running when this one started can never be its cause). It is the chain of jobs that kept
the run from finishing sooner on the given cores, given the order Snakemake chose.

Only stdlib at module level: this is imported at the end of a Snakemake run (`top_rules_text`).
"""

from __future__ import annotations

import argparse
import calendar
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_study.logs import TIMING_PREFIX

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
JOB_HEAD = re.compile(r"^(?:local)?(?:rule|checkpoint) (\S+):$")
JOB_MESSAGE = re.compile(r"^Job (\d+): ")  # a rule with a `message:` has no field lines
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\S+)\)")
ERROR = re.compile(r"^Error in rule (\S+?)(?::|, jobid: (\d+))")
FIELD = re.compile(r"^    (\w+): (.*)$")
CORES = re.compile(r"^Provided cores: (\d+)")
WORKDIR = re.compile(r"^  Working directory: (.+)$")
STEPS = re.compile(r"^(\d+) of (\d+) steps")
# "[timing] start-up 2.91 s", "[timing] flops 1.2e+13" (training jobs), "[timing] work 0.53 s"
RECORD = re.compile(re.escape(TIMING_PREFIX) + r" (start-up|flops|work) ([0-9.]+(?:e[+-]?\d+)?)")
RECORD_KINDS = ("start-up", "flops", "work")
NAN = float("nan")
TORCH_NOTE = ('Note: `python -c "import torch"` time is NOT measured here '
              "(the caller records it).")


def newest_log(workdir: Path) -> Path:
    logs = sorted((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"),
                  key=lambda p: p.stat().st_mtime)
    if not logs:
        raise FileNotFoundError(f"no Snakemake log under {workdir}/.snakemake/log")
    return logs[-1]


def run_folder(log_path: Path) -> Path:
    """The working directory of the run that wrote this Snakemake log: the folder holding
    .snakemake/, where Snakemake writes its logs (<workdir>/.snakemake/log/); for a log kept
    anywhere else, the current folder."""
    logs = log_path.parent
    if logs.name == "log" and logs.parent.name == ".snakemake":
        return logs.parent.parent
    return Path(".")


def parse_log(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Jobs (one dict each, in log order) and run facts (cores, workdir, steps) of a log."""
    jobs: dict[int, dict[str, Any]] = {}
    run: dict[str, Any] = {"cores": None, "workdir": None, "steps": None}
    stamp, block = None, None  # block: the job (or error) whose indented fields follow
    for n, line in enumerate(Path(path).read_text(errors="replace").splitlines()):
        line = line.rstrip()
        if m := STAMP.match(line):
            # time.strptime copes with asctime's padded day; timegm avoids DST jumps
            stamp, block = calendar.timegm(time.strptime(m[1], "%a %b %d %H:%M:%S %Y")), None
        elif m := FIELD.match(line):
            key, value = m[1], m[2]
            if block is None:
                continue
            if block.get("error"):  # of an error block only the jobid matters
                if key == "jobid":
                    fail(jobs.get(int(value)), stamp, n)
            elif key == "jobid":  # a restarted job (--retries) replaces its earlier entry
                jobs[int(value)] = block
                block["jobid"] = int(value)
            elif key in ("log", "wildcards"):
                block[key] = value
            elif key == "threads":
                block["threads"] = int(value)
        else:
            block = None
            if m := JOB_HEAD.match(line):
                block = new_job(None, m[1], stamp, n)
            elif m := JOB_MESSAGE.match(line):
                jobs[int(m[1])] = new_job(int(m[1]), None, stamp, n)
            elif m := FINISHED.match(line):
                if job := jobs.get(int(m[1])):
                    job.update(rule=m[2], end=stamp, seq_end=n, status="ok")
            elif m := ERROR.match(line):
                block = {"error": True}
                if m[2]:
                    fail(jobs.get(int(m[2])), stamp, n)
            elif m := CORES.match(line):
                run["cores"] = int(m[1])
            elif m := WORKDIR.match(line):
                run["workdir"] = m[1].strip()
            elif m := STEPS.match(line):
                run["steps"] = (int(m[1]), int(m[2]))
    return list(jobs.values()), run


def new_job(jobid: int | None, rule: str | None, start: float | None, n: int) -> dict:
    # Snakemake leaves out "threads: 1"; end and status come with "Finished" or an error
    return {"jobid": jobid, "rule": rule, "wildcards": "", "threads": 1, "log": None,
            "status": "unfinished", "start": start, "end": None, "seq_start": n, "seq_end": None}


def fail(job: dict[str, Any] | None, stamp: float | None, n: int) -> None:
    if job is not None and job.get("status") != "failed":
        job.update(end=stamp, seq_end=n, status="failed")


def read_record(path: Path) -> dict[str, float]:
    """What the last run of a job wrote in its log: its start-up and work seconds and, for a
    training job, the FLOPs it trained (`logs.log_training_flops`); NaN for what that run did
    not write (work: the job failed, or is still running)."""
    record = dict.fromkeys(RECORD_KINDS, NAN)
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return record
    for kind, value in RECORD.findall(text):
        if kind == "start-up":  # a new run: what came before belongs to an earlier one
            record = dict.fromkeys(RECORD_KINDS, NAN)
        record[kind] = float(value)
    return record


def read_timing(path: Path) -> tuple[float, float]:
    """The last (start-up, work) pair of a job log (read_record)."""
    record = read_record(path)
    return record["start-up"], record["work"]


def job_timing(base: Path, logs: str | None) -> tuple[float, float]:
    """read_timing of the first of a job's logs ("a.log, b.log") that has timing lines."""
    for log in (logs or "").split(", "):
        if log and not math.isnan((t := read_timing(base / log))[0]):
            return t
    return NAN, NAN


@dataclass
class RunTiming:
    log_path: Path
    cores: int | None
    steps: tuple[int, int] | None  # the last "N of M steps done"
    jobs: Any  # DataFrame, one row per job
    per_rule: Any  # DataFrame, sorted by wall_s descending
    critical_path: Any  # DataFrame, first job first
    total_wall_s: float
    startup_s: float  # summed over the jobs whose start-up is known
    startup_share: float  # of total_wall_s; above 1 is possible with parallel jobs
    idle_core_s: float | None
    idle_fraction: float | None


def analyze(workdir: Path | str | None = None, log_path: Path | str | None = None) -> RunTiming:
    import pandas as pd

    log_path = Path(log_path) if log_path else newest_log(Path(workdir or "."))
    rows, run = parse_log(log_path)
    # job logs are relative to the run's working directory: the one asked for, else the
    # one the log names, else the one its place in Snakemake's layout says
    base = Path(workdir or run["workdir"] or run_folder(log_path))
    cols = ["jobid", "rule", "wildcards", "threads", "log", "status", "start", "end",
            "seq_start", "seq_end"]
    jobs = pd.DataFrame(rows, columns=cols)
    for c in ("start", "end", "seq_start", "seq_end"):  # None (not ended) -> NaN
        jobs[c] = jobs[c].astype(float)
    jobs["wall_s"] = jobs["end"] - jobs["start"]
    timings = [job_timing(base, row["log"]) for row in rows]  # rows: None, not NaN
    jobs["startup_s"] = [t[0] for t in timings]
    jobs["work_s"] = [t[1] for t in timings]
    jobs["other_s"] = jobs["wall_s"] - jobs["startup_s"] - jobs["work_s"]  # NaN if unknown

    ended = jobs[jobs["end"].notna()]
    total = float(ended["end"].max() - jobs["start"].min()) if len(ended) else 0.0
    def known_sum(s):  # NaN, not 0, when no job of the rule has the value
        return s.sum(min_count=1)

    per_rule = jobs.groupby("rule", dropna=False).agg(
        jobs=("jobid", "size"), failed=("status", lambda s: int((s == "failed").sum())),
        wall_s=("wall_s", known_sum), startup_s=("startup_s", known_sum),
        work_s=("work_s", known_sum), other_s=("other_s", known_sum), max_s=("wall_s", "max"),
    ).reset_index().sort_values("wall_s", ascending=False, ignore_index=True)

    cores, idle = run["cores"], None
    if cores:
        busy = (ended["wall_s"] * ended["threads"].clip(upper=cores)).sum()
        idle = cores * total - float(busy)
    startup = float(jobs["startup_s"].sum())
    return RunTiming(
        log_path=log_path, cores=cores, steps=run["steps"], jobs=jobs, per_rule=per_rule,
        critical_path=critical_path(ended), total_wall_s=total, startup_s=startup,
        startup_share=startup / total if total else NAN, idle_core_s=idle,
        idle_fraction=idle / (cores * total) if idle is not None and total else None)


def critical_path(ended):
    """Backwards from the last finished job; see the module docstring."""
    if ended.empty:
        return ended
    order = ["end", "seq_end"]  # log order breaks ties between equal 1 s timestamps
    job = ended.sort_values(order).iloc[-1]
    chain = [job]
    while True:
        before = ended[(ended["end"] <= job["start"] + 1) & (ended["seq_end"] < job["seq_start"])]
        if before.empty:
            break
        job = before.sort_values(order).iloc[-1]
        chain.append(job)
    return ended.loc[[j.name for j in reversed(chain)]].reset_index(drop=True)


def _s(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def render_markdown(t: RunTiming) -> str:
    j = t.jobs
    failed, unfinished = (j["status"] == "failed").sum(), (j["status"] == "unfinished").sum()
    idle = ("n/a (cores unknown)" if t.idle_core_s is None else
            f"{t.idle_core_s:.0f} core-s of {t.cores * t.total_wall_s:.0f} "
            f"({t.idle_fraction:.0%})")
    steps = f", {t.steps[0]} of {t.steps[1]} steps done" if t.steps else ""
    lines = [
        TORCH_NOTE, "", f"# Where the wall time went: {t.log_path.name}", "",
        f"- total wall time: {t.total_wall_s:.0f} s (first job start to last job end)",
        f"- jobs: {len(j)} ({failed} failed, {unfinished} unfinished){steps}; "
        f"cores: {t.cores or 'n/a'}",
        f"- start-up (interpreter, Snakemake preamble, imports): {t.startup_s:.1f} s summed over "
        f"{j['startup_s'].notna().sum()} jobs with a timing line = "
        f"{_s(100 * t.startup_share)} % of the run's wall time",
        f"- idle cores: {idle}",
        "", "| rule | jobs | failed | wall s | start-up s | work s | other s | max s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in t.per_rule.itertuples():
        lines.append(f"| {r.rule} | {r.jobs} | {r.failed} | {_s(r.wall_s)} | {_s(r.startup_s)} "
                     f"| {_s(r.work_s)} | {_s(r.other_s)} | {_s(r.max_s)} |")
    cp = t.critical_path
    lines += ["", "## Critical path (schedule-trace approximation)", "",
              "| jobid | rule | wildcards | starts at s | wall s |", "|---:|---|---|---:|---:|"]
    t0 = j["start"].min()
    for r in cp.itertuples():
        lines.append(f"| {r.jobid} | {r.rule} | {r.wildcards} | {r.start - t0:.0f} "
                     f"| {_s(r.wall_s)} |")
    lines += ["", f"Critical path: {len(cp)} jobs, {cp['wall_s'].sum():.0f} s of job wall time "
              f"in the run's {t.total_wall_s:.0f} s."]
    return "\n".join(lines) + "\n"


def top_rules_text(log_path: Path | str, n: int = 5, workdir: Path | str | None = None) -> str:
    """A few lines to print at the end of a run: the n rules that took the most wall time."""
    t = analyze(workdir, log_path)
    if t.jobs.empty:  # nothing was run (e.g. "Nothing to be done")
        return ""
    idle = "" if t.idle_fraction is None else f", {t.idle_fraction:.0%} of core time idle"
    lines = [f"where the time went ({len(t.jobs)} jobs, {t.total_wall_s:.0f} s wall on "
             f"{t.cores or '?'} cores{idle}):"]
    for r in t.per_rule.head(n).itertuples():
        timing = ("" if math.isnan(r.startup_s) else
                  f" (start-up {_s(r.startup_s)} s, work {_s(r.work_s)} s)")
        lines.append(f"  {r.rule} {r.jobs} job{'s' * (r.jobs != 1)} {r.wall_s:.0f} s{timing}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workdir", type=Path)
    p.add_argument("--log", type=Path, help="Snakemake log (default: the newest in WORKDIR)")
    p.add_argument("--out", type=Path, help="also write the Markdown here")
    args = p.parse_args(argv)
    text = render_markdown(analyze(args.workdir, args.log))
    print(text, end="")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
