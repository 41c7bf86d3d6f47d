"""What the report's reproducibility section states: machine, packages, revision, config
digest and the wall time of every job (from Snakemake's benchmark files)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from mnist_study import files

PACKAGES = ["snakemake", "torch", "torchvision", "numpy", "pandas", "matplotlib", "scikit-learn",
            "scikit-image", "jinja2", "snakemake-executor-plugin-slurm"]


def config_digest(config: dict) -> str:
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def git_revision(repo: str | Path) -> str:
    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        rev = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return rev + ("-dirty" if dirty else "")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown (not a git checkout)"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    import torch

    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"}


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def job_times(benchmarks: dict[str, str | Path],
              runs: dict[str, str | Path] | None = None) -> pd.DataFrame:
    """Job name -> wall seconds and peak RSS, from Snakemake `benchmark:` files (NaN where a
    job has none: its outputs were made outside Snakemake's supervision), and for a training
    job the device, torch threads and precision it trained with, from its `run` file (`runs`:
    job name -> path; empty and NaN where the file is missing: a job that failed, or trained
    before jobs recorded it). `precision_asked` differs from `precision` where a machine
    without native bfloat16 trained a bf16-mixed job in fp32."""
    rows = []
    for job, path in benchmarks.items():
        row = {"job": job, "wall_s": float("nan"), "max_rss_mb": float("nan"),
               "recorded": Path(path).exists(), "device": "", "cpu_capability": "",
               "torch_threads": float("nan"), "precision": "", "precision_asked": ""}
        if row["recorded"]:
            b = pd.read_csv(path, sep="\t")
            row["wall_s"] = float(b["s"].iloc[0])
            row["max_rss_mb"] = float(pd.to_numeric(b["max_rss"], errors="coerce").iloc[0])
        run = (runs or {}).get(job)
        if run is not None and Path(run).is_file():
            try:
                how = files.read_json(run)
                row["device"], row["torch_threads"] = how["device"], float(how["torch_threads"])
                row["cpu_capability"] = how.get("cpu_capability", "")  # not in early records
                # records from before the precision setting: every job trained in fp32
                row["precision"] = how.get("precision", "fp32")
                row["precision_asked"] = how.get("precision_asked", row["precision"])
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{run}: not the record of how job {job!r} trained ({error!r}); "
                                 f"delete the file's folder to retrain that job") from None
        rows.append(row)
    return pd.DataFrame(rows)


def training_settings(jobs: pd.DataFrame) -> dict:
    """The devices, CPU kernels, torch thread counts and precisions the training jobs recorded
    (job_times), each once."""
    return {"devices": sorted(set(jobs["device"]) - {""}),
            "precisions": sorted(set(jobs["precision"]) - {""}),
            "cpu_capabilities": sorted(set(jobs["cpu_capability"]) - {""}),
            "torch_threads": sorted({int(t) for t in jobs["torch_threads"].dropna()}),
            "n_unknown": int(jobs["torch_threads"].isna().sum())}
