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
            assert locked.get(name) == version, f"{env_file.name}: {name}=={version}, lock has {locked.get(name)}"
        # every direct dependency is there, except pip itself (conda provides it)
        assert direct_dependencies() - {"pip"} <= set(pinned), f"{env_file.name} misses packages"
