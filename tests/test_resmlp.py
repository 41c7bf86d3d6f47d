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


def test_it_trains_on_the_general_path_and_learns():
    from mnist_study.train import handwritten

    spec = ModelSpec(family="resmlp", hidden=(16, 16), lr=0.01, batch_size=32, epochs=1)
    assert not handwritten.supports(spec)  # the hand-written engine has no shortcuts
    torch.manual_seed(0)
    x = torch.rand(256, 28 * 28)
    y = (x[:, :392].mean(1) > x[:, 392:].mean(1)).long()  # a rule a network can learn
    net = init_network(spec, seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=spec.lr)
    first = None
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


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
