"""Shared fixtures: verified MNIST files, and one quick end-to-end run of the workflow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mnist_study.data import RAW_FILES, DataError, provision_raw, verify_raw_file

REPO = Path(__file__).resolve().parents[1]
HOSTILE_LABEL = "a_b & 50% #1 {x}"
# The report's own preamble (packages, siunitx set-up), for tests that set a piece of the report.
REPORT_PREAMBLE = (REPO / "report" / "report.tex.j2").read_text().split("\\title")[0]


def as_read(tex: str) -> str:
    r"""LaTeX from the report's formatters with its siunitx macros as the page shows them, for
    tests that check sentences: \num{10000} -> 10,000, \qty{4.0}{\percent} -> 4.0\%,
    \numrange{a}{b} -> a--b. (tests/test_report.py checks the real typesetting.)"""
    def number(m):
        text = m.group(1)
        return f"{int(text):,}" if re.fullmatch(r"-?\d{4,}", text) else text
    tex = re.sub(r"\\qty\{([^}]*)\}\{\\percent\}", r"\1\\%", tex)
    tex = re.sub(r"\\numrange\{([^}]*)\}\{([^}]*)\}", r"\1--\2", tex)
    return re.sub(r"\\num\{([^}]*)\}", number, tex)


# A model this machine cannot hold (its first layer alone needs ~3.4 PB, beyond any address
# space), so its training fails at once, for real: the quick run exercises --keep-going.
FAILING_MODEL = "too_big"
FAILING_SPEC = {"label": "Too big", "hidden": [2**40]}
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


@pytest.fixture(scope="session")
def mnist_raw_dir() -> Path:
    """A folder with the four verified raw MNIST files: the repo's data/ copy when it is
    complete, else fetched once into it (the workflow's own provisioning code)."""
    raw = REPO / "data" / "mnist" / "MNIST" / "raw"
    try:
        for name in RAW_FILES:
            verify_raw_file(raw / name, name)
    except DataError:
        provision_raw(raw)
    return raw


def run_snakemake(workdir: Path, *args: str, configfiles=(), check: bool = True,
                  timeout: int = 1800, snakemake: str = SNAKEMAKE) -> subprocess.CompletedProcess:
    """`snakemake` of this environment, or of another one (the SLURM test's), on the repo's
    Snakefile in `workdir`."""
    cmd = [snakemake, "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    if configfiles:
        cmd += ["--configfile", *map(str, configfiles)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


SEED_STUDY = REPO / "config" / "seed.yaml"
QUICK = REPO / "tests" / "config" / "quick.yaml"


def seed_models() -> dict:
    return yaml.safe_load(SEED_STUDY.read_text())["models"]


def quick_configfiles(workdir: Path, mnist_raw_dir: Path,
                      failing_model: bool = False) -> list[Path]:
    """The seed study in quick mode, reading MNIST from the verified local copy. Model 0 gets a
    hostile display name, which exercises LaTeX escaping all the way into the PDF."""
    study = yaml.safe_load(SEED_STUDY.read_text())
    study["models"]["0"]["label"] = HOSTILE_LABEL
    if failing_model:
        study["models"][FAILING_MODEL] = FAILING_SPEC
    study["mnist"] = {"existing_copy": str(mnist_raw_dir)}
    (workdir / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    return [workdir / "study.yaml", QUICK]


def quick_files(workdir: Path) -> list[Path]:
    """The config files of a workdir that quick_configfiles set up."""
    return [workdir / "study.yaml", QUICK]


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, mnist_raw_dir) -> Path:
    """A workdir where the quick configuration, plus FAILING_MODEL, has been built to
    report.pdf with --keep-going; Snakemake's output is kept in run.log."""
    workdir = tmp_path_factory.mktemp("quick")
    result = run_snakemake(workdir, "--cores", "2", "--keep-going",
                           configfiles=quick_configfiles(workdir, mnist_raw_dir, failing_model=True))
    (workdir / "run.log").write_text(result.stdout + result.stderr)
    return workdir


def pdf_text(pdf: Path, layout: bool = True) -> str:
    """The PDF's text; without `layout`, in reading order, so that a table cell that wraps
    over lines reads as one piece instead of interleaved with its neighbours."""
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
