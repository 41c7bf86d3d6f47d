"""A local user pays nothing for the cluster support. Snakemake imports every installed executor
plugin in every command, and the SLURM plugin runs `scontrol show config` when imported: where
SLURM is installed but no controller answers (a workstation, or this machine after the SLURM
test), every command waited 10 s for it. So the plugin is an extra (`make setup-slurm`), never
in the local environment, and no local command runs a SLURM tool."""

import importlib.util
import os
import subprocess
import tomllib

import pytest
from conftest import QUICK, REPO, SNAKEMAKE

SLURM_TOOLS = ("scontrol", "sinfo", "squeue", "sacct", "sbatch")


def locked_closure(lock: dict, root: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Every package uv.lock installs for `root` (with these extras), dev groups left out."""
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        package = packages[name]
        if name in seen and not wanted:
            continue
        seen.add(name)
        deps = list(package.get("dependencies", []))
        for extra in wanted:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        todo += [(d["name"], tuple(d.get("extra", ()))) for d in deps]
    return seen


def test_the_local_environment_has_no_executor_plugin_and_the_slurm_extra_has_it():
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    local = locked_closure(lock, "mnist-study")
    assert "snakemake" in local and "torch" in local  # the walk reached the real dependencies
    plugins = sorted(p for p in local if p.startswith("snakemake-executor-plugin-"))
    assert not plugins, f"the local environment installs {plugins}"
    cluster = locked_closure(lock, "mnist-study", ("slurm",))
    assert {"snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep"} <= cluster


@pytest.fixture
def recording_slurm_tools(tmp_path) -> tuple[dict, object]:
    """An environment whose PATH starts with stand-ins for SLURM's tools, each of which appends
    its command line to a file and fails, as a tool whose controller does not answer would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "slurm_calls.txt"
    for tool in SLURM_TOOLS:
        stand_in = bin_dir / tool
        stand_in.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\nexit 1\n')
        stand_in.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    # the stand-ins are the ones found: a call through PATH is recorded
    subprocess.run(["scontrol", "ping"], env=env, capture_output=True)
    assert calls.read_text() == "scontrol ping\n"
    calls.unlink()
    return env, calls


@pytest.mark.skipif(importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None,
                    reason="this environment has the SLURM plugin by choice (make setup-slurm): "
                           "it calls scontrol, which a cluster's live controller answers at once")
@pytest.mark.parametrize("args", [["--version"], ["-n", "--configfile", str(QUICK)]],
                         ids=["version", "dry-run"])
def test_a_local_snakemake_command_runs_no_slurm_tool(args, recording_slurm_tools, tmp_path):
    env, calls = recording_slurm_tools
    done = subprocess.run([SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(tmp_path / "work"),
                           *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    if "-n" in args:
        assert "compile_report" in done.stdout, done.stdout[-2000:]  # it planned the whole report
    assert not calls.exists(), f"a local command ran SLURM tools: {calls.read_text()}"
