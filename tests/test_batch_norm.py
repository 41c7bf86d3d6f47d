"""Batch norm on images unlike its training images: the distance from its running statistics,
on a network whose statistics are set by hand."""

import pytest
import torch
from torch import nn

from mnist_study.inspection.batch_norm import batch_norm_statistics, batch_norm_table
from mnist_study.networks import init_network
from mnist_study.spec import ModelSpec


def a_layer(mean, var):
    """Identity features into one batch norm over 3 features, with running statistics given."""
    bn = nn.BatchNorm1d(3)
    bn.running_mean.copy_(torch.tensor(mean))
    bn.running_var.copy_(torch.tensor(var))
    return nn.Sequential(bn)


def test_shift_and_scale_are_in_running_standard_deviations():
    net = a_layer([0.0, 1.0, 2.0], [1.0, 4.0, 0.25])
    g = torch.Generator().manual_seed(0)
    # images drawn with the running statistics: shift near 0, scale near 1
    like = torch.randn(20000, 3, generator=g) * torch.tensor([1.0, 2.0, 0.5]) + torch.tensor([0.0, 1.0, 2.0])
    (stats,) = batch_norm_statistics(net, like, chunk=3000)
    assert stats["shift"] == pytest.approx(0.0, abs=0.03)
    assert stats["scale"] == pytest.approx(1.0, abs=0.02)
    # every channel moved by 3 of its running sds, spread doubled
    far = (like - torch.tensor([0.0, 1.0, 2.0])) * 2 + torch.tensor([3.0, 1.0 + 6.0, 2.0 + 1.5])
    (stats,) = batch_norm_statistics(net, far, chunk=3000)
    assert stats["shift"] == pytest.approx(3.0, abs=0.06)
    assert stats["scale"] == pytest.approx(2.0, abs=0.04)


def test_a_network_without_batch_norm_has_none_and_a_cnn_one_row_per_layer_and_set():
    assert batch_norm_statistics(init_network(ModelSpec(hidden=(8,)), 0), torch.rand(10, 784)) == []
    spec = ModelSpec.from_dict({"family": "cnn", "hidden": [8], "conv": [
        {"channels": 3, "kernel": 3, "pool": 2, "batch_norm": True},
        {"channels": 4, "kernel": 3, "pool": 2, "batch_norm": True}]})
    net = init_network(spec, 0).eval()
    table = batch_norm_table({0: net, 1: init_network(spec, 1).eval()},
                             {"digits": torch.rand(64, 784), "noise": torch.rand(32, 784)})
    assert len(table) == 2 * 2 * 2 and set(table["layer"]) == {0, 1}
    assert not net.training  # left in the mode it was given
    from mnist_study import families
    assert families.get("cnn").batch_norm(spec) and not families.get("mlp").batch_norm(ModelSpec())
