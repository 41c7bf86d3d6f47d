"""What the rule files declare once for every rule (workflow/rules/common/every_rule.smk), as
Snakemake applies it: one software environment, where each job runs, and one report name per
element."""

import json
import shutil
import subprocess
import sys

from conftest import QUICK, REPO, SNAKEMAKE

# Snakemake has no public call that says where a rule runs: the probe reads the parsed
# workflow's own record (Snakemake is pinned in uv.lock and envs/).
PROBE = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

snakefile, configfile, workdir = map(Path, sys.argv[1:4])
with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(ResourceSettings(), ConfigSettings(configfiles=[configfile]),
                            snakefile=snakefile, workdir=workdir)._workflow
    rules = {r.name: {"local": r.name in workflow._localrules,
                      "conda": r.conda_env and str(r.conda_env), "runs": not r.norun}
             for r in workflow.rules}
print("RULES " + json.dumps(rules))
"""


def parsed_rules(tmp_path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(REPO / "Snakefile"), str(QUICK),
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(s for s in done.stdout.splitlines() if s.startswith("RULES "))
    return json.loads(line.removeprefix("RULES "))


def test_every_job_has_the_environment_and_only_training_and_loading_are_queued(tmp_path):
    rules = parsed_rules(tmp_path)  # the quick study: scan and border analysis included
    assert {"train_scan_row", "plot_border_analysis", "plot_class_max_beyond"} <= set(rules)
    assert {r for r, v in rules.items() if not v["local"]} == {
        "train_model", "train_scan_row", "train_border_control", "load_mnist"}
    environment = str(REPO / "envs" / "mnist-study.yaml")
    assert {r: v["conda"] for r, v in rules.items() if v["runs"]} == {
        r: environment for r, v in rules.items() if v["runs"]}
    assert rules["all"] == {"local": True, "conda": None, "runs": False}


def test_two_rules_claiming_one_report_name_stop_the_workflow(tmp_path):
    # a copy of the workflow with an inspect_roc beside analyze_roc: both outputs `context`
    # would be ctx.roc, the second silently replacing the first in the report
    copy = tmp_path / "repo"
    copy.mkdir()
    for part in ("Snakefile", "config.yaml", "config", "workflow", "src", "report", "envs"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy2)(REPO / part, copy / part)
    with (copy / "workflow" / "rules" / "inspect.smk").open("a") as rules:
        rules.write('\n\nrule inspect_roc:\n    output:\n        context="results/inspect/roc.json",\n'
                    '    script:\n        "../scripts/analyze_roc.py"\n')
    done = subprocess.run([SNAKEMAKE, "-s", str(copy / "Snakefile"), "-d", str(tmp_path / "work"),
                           "-n", "--configfile", str(QUICK)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "rules analyze_roc and inspect_roc both put ctx.roc into the report" in (
        done.stdout + done.stderr), done.stderr[-3000:]
