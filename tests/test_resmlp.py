"""The residual fully connected family (src/mnist_study/families/resmlp.py): its shortcuts,
its checks, and a study of it that builds its report (config/residual-mlp.yaml)."""

import pandas as pd
import pytest
import torch
from conftest import QUICK, REPO, pdf_text, run_snakemake

from mnist_study.networks import init_network
from mnist_study.spec import ModelSpec, SpecError, resolve_models


def test_each_hidden_layer_after_the_first_adds_its_input():
    spec = ModelSpec(family="resmlp", hidden=(8, 8, 8))
    net = init_network(spec, seed=0)
    x = torch.rand(5, 28 * 28)
    h = torch.relu(net.layers[0](x))
    for layer in net.layers[1:-1]:
        h = h + torch.relu(layer(h))
    torch.testing.assert_close(net(x), net.layers[-1](h))
    # the same weights without the shortcuts are the plain mlp, which gives other outputs
    plain = init_network(ModelSpec(hidden=(8, 8, 8)), seed=0)
    plain.load_state_dict(net.state_dict())
    assert not torch.allclose(plain(x), net(x))


@pytest.mark.parametrize("hidden, problem", [
    ([16], "models.r.hidden: a resmlp needs at least 2 hidden layers"),
    ([16, 8], "models.r.hidden: a resmlp's hidden layers all have one width"),
])
def test_a_shape_the_shortcuts_cannot_take_is_refused(hidden, problem):
    with pytest.raises(SpecError, match=problem.replace(".", r"\.")):
        resolve_models({"models": {"r": {"family": "resmlp", "hidden": hidden}}})


def test_the_hand_written_engine_leaves_it_to_the_general_path():
    # the hand-written engine has no shortcuts; tests/test_engine.py trains every registered
    # family, this one included, on the general path against each member trained alone
    from mnist_study.train import engine, handwritten

    spec = ModelSpec(family="resmlp", hidden=(16, 16))
    assert not handwritten.supports(spec) and engine.chosen_path(spec, "auto") == "general"


@pytest.mark.e2e
def test_the_example_study_builds_its_report(tmp_path, mnist_raw_dir):
    local = tmp_path / "local.yaml"
    local.write_text(f"mnist:\n  existing_copy: {mnist_raw_dir}\n")
    run_snakemake(tmp_path, "--cores", "2", configfiles=[
        REPO / "config" / "residual-mlp.yaml", QUICK, local])
    text = pdf_text(tmp_path / "report.pdf")
    assert "residual fully connected network" in text and "ResMLP" in text
    layers = pd.read_csv(tmp_path / "results" / "tables" / "models.csv").set_index("model")["layers"]
    assert layers["residual-4x256"] == "256, 3x residual 256" and layers["plain-4x256"] == "256-256-256-256"
    assert "plain 4x256" in text and "Identity shortcuts make a deeper network" in text
