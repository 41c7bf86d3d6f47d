"""envs/*.yaml (for --sdm conda) pin the same versions as the lockfile."""

import re
import tomllib

import yaml
from conftest import REPO


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def direct_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}


def test_conda_envs_match_the_lockfile():
    locked = locked_versions()
    for env_file in (REPO / "envs").glob("*.yaml"):
        env = yaml.safe_load(env_file.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        pinned = dict(line.split("==") for line in pip)
        for name, version in pinned.items():
            assert locked.get(name) == version, (
                f"{env_file.name}: {name}=={version}, lock has {locked.get(name)}")
        # every direct dependency is there, except pip itself (conda provides it)
        assert direct_dependencies() - {"pip"} <= set(pinned), f"{env_file.name} misses packages"


# A job of `snakemake --sdm conda` runs in an environment from envs/, which installs the
# dependencies but not this package: it imports mnist_study from src/ (PYTHONPATH). Simulated
# here by hiding the installed distribution from importlib.metadata, in a fresh process.
NOT_INSTALLED = """
import importlib.metadata as md, pkgutil, sys
installed = md.distribution
def distribution(name):
    if name.replace("_", "-").lower() == "mnist-study":
        raise md.PackageNotFoundError(name)
    return installed(name)
md.distribution = distribution
sys.path.insert(0, sys.argv[1])
import mnist_study
assert mnist_study.__file__.startswith(sys.argv[1]), mnist_study.__file__
for module in pkgutil.walk_packages(mnist_study.__path__, "mnist_study."):
    __import__(module.name)
print(mnist_study.__version__)
"""


def test_the_package_imports_from_src_without_being_installed():
    import subprocess
    import sys

    src = str(REPO / "src")
    done = subprocess.run([sys.executable, "-c", NOT_INSTALLED, src], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "not installed" in done.stdout
    # and with nothing but src/ and the standard library (no site-packages at all)
    bare = subprocess.run([sys.executable, "-S", "-c",
                           f"import sys; sys.path.insert(0, {src!r}); import mnist_study"],
                          capture_output=True, text=True)
    assert bare.returncode == 0, bare.stderr
