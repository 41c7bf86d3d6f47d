"""Model specs of every family: impossible shapes are refused naming the model and the key;
what a spec says of its network (parameters, layer sizes) is what the network built from it has."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_study.families.cnn import ConvBlock
from mnist_study.networks import Network
from mnist_study.spec import ModelSpec, SpecError, resolve_models


def study(**model):
    return {"defaults": {"hidden": [784]}, "models": {"mine": model}}


@pytest.mark.parametrize("model, named", [
    ({"family": "cnn", "conv": [{"channels": 4, "kernel": 29}]},
     "models.mine.conv.0.kernel: 29 is larger than the 28x28 (padded) feature map"),
    ({"family": "cnn", "conv": [{"channels": 4, "kernel": 5, "pool": 2},
                                {"channels": 8, "kernel": 5, "pool": 2},
                                {"channels": 8, "kernel": 5}]},
     "models.mine.conv.2.kernel: 5 is larger than the 4x4 (padded) feature map"),
    ({"family": "cnn", "conv": [{"channels": 4, "kernel": 5, "pool": 30}]},
     "models.mine.conv.0.pool: 30 is larger than the 24x24 feature map"),
    ({"family": "cnn", "conv": [{"channels": 0}]}, "models.mine.conv.0.channels: 0"),
    ({"family": "cnn"}, "models.mine.conv: a cnn needs at least one convolution block"),
    ({"conv": [{"channels": 4}]},
     "models.mine.conv: only a cnn reads conv (set family: cnn, or remove conv)"),
])
def test_impossible_shapes_are_refused_naming_model_and_key(model, named):
    with pytest.raises(SpecError) as err:
        resolve_models(study(**model))
    assert named in str(err.value)


def test_every_problem_of_every_model_at_once():
    config = {"models": {"a": {"family": "cnn"},
                         "b": {"family": "cnn", "conv": [{"channels": 2, "kernel": 40}]}}}
    with pytest.raises(SpecError) as err:
        resolve_models(config)
    assert "models.a.conv" in str(err.value) and "models.b.conv.0.kernel" in str(err.value)


def test_the_schema_refuses_zero_channels_and_unknown_block_keys():
    from conftest import REPO

    from mnist_study.study import load_schema, schema_problems

    schema = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    bad = {"models": {"m": {"family": "cnn", "conv": [{"channels": 0, "kernal": 3}]}}}
    problems = "\n".join(schema_problems(bad, schema))
    assert "models.m.conv.0.channels: 0 is less than the minimum of 1" in problems
    assert "models.m.conv.0: Additional properties are not allowed ('kernal'" in problems


blocks = st.builds(ConvBlock, channels=st.integers(1, 6), kernel=st.integers(1, 7),
                   padding=st.integers(0, 3), pool=st.integers(1, 3), batch_norm=st.booleans())


@settings(max_examples=40, deadline=None)
@given(conv=st.lists(blocks, min_size=1, max_size=3), hidden=st.lists(st.integers(1, 20), max_size=2))
def test_a_buildable_spec_builds_the_network_it_describes(conv, hidden):
    spec = ModelSpec(family="cnn", conv=tuple(conv), hidden=tuple(hidden))
    if spec.problems():
        return  # refused at validation (the cases above); nothing to build
    net = Network(spec)
    assert sum(p.numel() for p in net.parameters()) == spec.n_parameters()
    with torch.no_grad():
        assert net.eval()(torch.rand(3, 784)).shape == (3, 10)
    assert net.layers[0].in_features == spec.dense_inputs()


def test_an_mlp_spec_describes_its_network():
    spec = ModelSpec(hidden=(300, 100), dropout=0.5)
    assert spec.architecture() == "784-300-100-10"
    assert sum(p.numel() for p in Network(spec).parameters()) == spec.n_parameters() == 266_610
    assert spec.train_flops(60_000) == 6 * 266_610 * 60_000 * spec.epochs


def test_a_cnn_counts_a_convolution_at_every_position():
    # LeNet-5-like: 28 -> conv 5x5 pad 2 -> 28 -> pool 14 -> conv 5x5 -> 10 -> pool 5
    spec = ModelSpec(family="cnn", conv=(ConvBlock(6, 5, padding=2, pool=2), ConvBlock(16, 5, pool=2)),
                     hidden=(120, 84))
    assert spec.dense_inputs() == 16 * 5 * 5
    # each weight and the bias once per output position, as a dense layer's
    conv_macs = (1 * 6 * 25 + 6) * 28 * 28 + (6 * 16 * 25 + 16) * 10 * 10
    dense = 400 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    assert spec.forward_macs() == conv_macs + dense
    assert spec.architecture() == "6@5x5 pad2 pool2, 16@5x5 pool2 | 400-120-84-10"


def test_specs_written_as_yaml_or_as_blocks_are_equal():
    written = ModelSpec.from_dict({"family": "cnn", "conv": [{"channels": 4, "pool": 2}], "hidden": [8]})
    assert written == ModelSpec(family="cnn", conv=(ConvBlock(4, pool=2),), hidden=(8,))
    assert ModelSpec.from_dict(written.to_dict()) == written
