"""The import budget: a job pays for what its script imports before it does any work (on these
machines `import torch` alone takes 3-7 s), so only the jobs that train or differentiate a
network may load torch, and only the jobs that compute ROC, confusion or scikit-learn's digits
may load scikit-learn. Checked by importing exactly what each workflow script imports, in a
fresh process, as its job would."""

import ast
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

SCRIPTS = sorted((REPO / "workflow" / "scripts").glob("*.py"))
# rule-name prefixes of the jobs that train or differentiate networks
TORCH_ALLOWED = ("train_", "inspect_")
SKLEARN_ALLOWED = TORCH_ALLOWED + ("analyze_roc", "analyze_mistakes", "analyze_trust",
                                   "prepare_sklearn_digits")
HEAVY = ("torch", "sklearn")


def module_imports(path) -> str:
    """The script's top-level import statements, as source."""
    tree = ast.parse(path.read_text())
    return "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))


# Run in one fresh interpreter: it loads the libraries every job shares (none of them loads
# torch or scikit-learn, which it checks), then forks one child per script to import exactly
# what that script imports, so each check starts from a clean, torch-free process in ms.
DRIVER = """
import json, os, sys
import matplotlib; matplotlib.use("Agg")
import matplotlib.pyplot, numpy, pandas, yaml
heavy, scripts = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert not [m for m in heavy if m in sys.modules], "a shared library loads a heavy one"
result = {}
for name, source in scripts.items():
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        try:
            exec(compile(source, name, "exec"), {"__name__": name})
            msg = json.dumps([m for m in heavy if m in sys.modules])
        except BaseException as exc:
            msg = json.dumps({"error": repr(exc)})
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        result[name] = json.loads(f.read())
    os.wait()
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Script name -> which of HEAVY its imports load."""
    scripts = {p.stem: module_imports(p) for p in SCRIPTS if not p.stem.startswith(TORCH_ALLOWED)}
    scripts["probe that must see torch"] = "from mnist_study.train.job import train_and_save"
    run = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(HEAVY), json.dumps(scripts)],
                         env={**os.environ, "PYTHONPATH": str(REPO / "src")}, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    errors = {k: v["error"] for k, v in result.items() if isinstance(v, dict)}
    assert not errors, f"imports that fail: {errors}"
    return {k: set(v) for k, v in result.items()}


@pytest.mark.parametrize("script", [p.stem for p in SCRIPTS if not p.stem.startswith(TORCH_ALLOWED)])
def test_script_imports_only_what_its_job_needs(loaded, script):
    assert "torch" not in loaded[script], f"{script} loads torch"
    if not script.startswith(SKLEARN_ALLOWED):
        assert "sklearn" not in loaded[script], f"{script} loads scikit-learn"


def test_the_check_can_fail(loaded):
    # the training code does load torch: the probe sees what a job really imports
    assert "torch" in loaded["probe that must see torch"]


# torch.optim imports the compiler, torch._dynamo (as long as `import torch` itself), the first
# time an optimizer steps; mnist_study.networks.optimizer_step skips that. Each case runs in a
# fresh interpreter and prints whether torch._dynamo got loaded.
DYNAMO_CASES = {
    "training, both trainers and a schedule": """
import torch
from mnist_study.families.cnn import ConvBlock
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member, train
g = torch.Generator().manual_seed(0)
data = {"train_images": torch.randint(0, 256, (128, 28, 28), dtype=torch.uint8, generator=g),
        "train_labels": torch.randint(0, 10, (128,), generator=g),
        "test_images": torch.randint(0, 256, (32, 28, 28), dtype=torch.uint8, generator=g),
        "test_labels": torch.randint(0, 10, (32,), generator=g)}
for spec in (ModelSpec(hidden=(16,), batch_size=64, epochs=1),
             ModelSpec(family="cnn", conv=(ConvBlock(channels=2, kernel=5, pool=2),), hidden=(),
                       batch_size=64, epochs=1, schedule="one_cycle")):
    train(spec, [Member(0, 1e-3), Member(1, 1e-3)], data, log=lambda _: None)
""",
    "a visualization's gradient ascent": """
from mnist_study.inspection import visualize
from mnist_study.networks import Network
from mnist_study.spec import ModelSpec
visualize.render(Network(ModelSpec(hidden=(8,))).eval(), lambda out, x: out[:, 3], steps=3)
""",
    "control: torch.optim's own step()": """
import torch
p = torch.zeros(3, requires_grad=True)
p.grad = torch.ones(3)
torch.optim.Adam([p]).step()
""",
}


@pytest.mark.parametrize("case", DYNAMO_CASES)
def test_networks_train_without_importing_the_compiler(case):
    source = DYNAMO_CASES[case] + "\nimport sys; print('torch._dynamo' in sys.modules)\n"
    run = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "src")}, timeout=600)
    assert run.returncode == 0, run.stderr
    loaded = run.stdout.strip().splitlines()[-1] == "True"
    assert loaded == case.startswith("control"), f"{case}: torch._dynamo loaded: {loaded}"
