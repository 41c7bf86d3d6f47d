"""Every command of the README runs as written, and everything it names exists.

Each line of its ```sh blocks is checked by what it is: a `make` target is planned with
`make -n` (the Makefile has it, its recipe expands), a `snakemake` command plans as a dry run
in a folder of its own (the workflow parses, the config files it names compose, the profile it
names loads). Nothing is built: NOT_RUN lists what is only planned, and why. The files,
folders, links, make targets and modules the README names elsewhere must exist, and its
example study is config/lenet.yaml and composes as a study.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE

README = (REPO / "README.md").read_text()

# What a command of the README would do that a test does not: each is planned instead.
NOT_RUN = {
    "make": "builds the report or runs the whole test suite (minutes to an hour): `make -n`",
    "snakemake": "trains and builds (minutes to an hour): a dry run (-n) in a folder of its own",
    "source": "changes the reader's shell; the folder it activates is the Makefile's VENV",
}
# Paths the README names that a run creates: they exist after it, not in a clone.
BUILT = ("report.pdf", "results/", "logs/", "runs/")
# Paths the README names ahead of the work that creates them, each with that work.
PATH_SUFFIXES = (".yaml", ".py", ".md", ".sh", ".smk", ".csv", ".j2", ".bib", ".mplstyle")


def shell_lines() -> list[str]:
    """The commands of the README's ```sh blocks, comments left out."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    return [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()
            if line.split(" #")[0].strip()]


def test_the_readme_has_commands_and_each_is_of_a_kind_this_test_checks():
    commands = shell_lines()
    assert any(c.startswith("make ") for c in commands)
    assert any(c.startswith("snakemake") for c in commands)
    assert {shlex.split(c)[0] for c in commands} <= set(NOT_RUN), commands


@pytest.mark.parametrize("command", [c for c in shell_lines() if c.startswith("make ")])
def test_make_commands_plan(command):
    done = subprocess.run(["make", "-n", *shlex.split(command)[1:]], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_make_target_the_readme_names_exists():
    named = set(re.findall(r"`make ([\w-]+)", README)) | {
        shlex.split(c)[1] for c in shell_lines() if c.startswith("make ")}
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.M))
    assert {"setup", "report", "test", "test-fast", "bench", "breakdown"} <= named
    assert named <= targets, named - targets


def test_the_environment_the_readme_activates_is_the_one_make_creates():
    assert "source .venv/bin/activate" in README
    assert re.search(r"^VENV := \.venv$", (REPO / "Makefile").read_text(), re.M)


def dry_run_args(command: str, workdir: Path) -> list[str]:
    """The README's snakemake command as a dry run in workdir (a -d it gives goes under
    workdir, so that two studies side by side stay apart there too)."""
    args = shlex.split(command)[1:]
    for flag in ("-d", "--directory"):
        if flag in args:
            i = args.index(flag) + 1
            args[i] = str(workdir / args[i])
            break
    else:
        args += ["-d", str(workdir)]
    if "profiles/slurm" in args and importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        # The SLURM plugin is an extra of the cluster's submit host (`make setup-slurm`), not of
        # this environment: the profile loads and plans with the local executor instead;
        # tests/test_slurm.py runs it with the plugin, on a real SLURM cluster.
        args += ["--executor", "local"]
    return [SNAKEMAKE, *args, "-n", "--quiet", "rules"]


@pytest.mark.parametrize("command", [c for c in shell_lines() if c.startswith("snakemake")])
def test_snakemake_commands_plan_the_report(command, tmp_path):
    done = subprocess.run(dry_run_args(command, tmp_path), cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "compile_report" in done.stdout, done.stdout[-2000:]  # the plan ends in the report


def looks_like_a_path(token: str) -> bool:
    return ("/" in token or token.endswith(PATH_SUFFIXES)) and not token.startswith(("-", "http"))


def named_paths() -> set[str]:
    """Paths the README names: in backquotes, in its commands (a value after `=` too), as
    link targets, and the first column of its layout block."""
    quoted = {t for t in re.findall(r"`([^`\s]+)`", README)
              if looks_like_a_path(t) and "=" not in t}
    in_commands = {t.split("=")[-1] for c in shell_lines() for t in shlex.split(c)
                   if looks_like_a_path(t.split("=")[-1])}
    links = set(re.findall(r"\]\(([^)\s]+)\)", README))
    layout = re.search(r"## Layout\n\n```\n(.*?)```", README, re.S)
    assert layout, "the README has a Layout block"
    entries = {line.split()[0] for line in layout[1].splitlines() if line and line[0] != " "}
    return quoted | in_commands | links | entries


def test_every_path_the_readme_names_exists():
    missing = []
    for path in sorted(named_paths()):
        if path.startswith(BUILT):
            continue
        # a placeholder such as workflow/scripts/plot_<name>.py: its folder exists
        pattern = path.split("<")[0].rsplit("/", 1)[0] + "/" if "<" in path else path
        if not list(REPO.glob(pattern.rstrip("/"))):
            missing.append(path)
    assert not missing, missing


def test_the_paths_check_finds_the_readme_s_kinds_of_path():
    paths = named_paths()
    for kind in ("config/lenet.yaml", "profiles/slurm/", "workflow/schemas/config.schema.yaml",
                 "docs/cluster.md", "workflow/rules/*.smk", "tests/config/quick.yaml"):
        assert kind in paths, kind


def test_every_module_the_readme_runs_exists():
    modules = set(re.findall(r"python -m ([\w.]+)", README))
    assert "mnist_study.timing" in modules
    assert [m for m in modules if importlib.util.find_spec(m) is None] == []


def test_the_example_study_is_config_lenet_and_composes():
    from mnist_study.study import compose_config

    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]
    study, cnn = blocks[0], blocks[1]
    assert study == yaml.safe_load((REPO / "config" / "lenet.yaml").read_text())
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    # the CNN lines go under a study's models: they compose with the example's
    config = compose_config(base, [study, {"models": cnn}], REPO, lambda *_: None)
    assert list(config["models"]) == ["lenet-300-100", "tanh-100", "my-cnn"]
