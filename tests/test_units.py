"""Dead hidden units (mnist_study.inspection.units), counted on a network built with known
dead units."""

import itertools

import numpy as np
import pytest
import torch

from mnist_study.inspection.units import dead_unit_table, dead_units
from mnist_study.networks import init_network
from mnist_study.spec import ModelSpec


def network_with_dead_units(spec, dead: dict[int, list[int]]):
    """A network whose dense hidden units all fire on any input of non-negative numbers (small
    positive weights and bias), except the listed ones (layer -> unit indices): weights 0 and
    bias -1, so their input is -1 whatever comes in."""
    net = init_network(spec, seed=0)
    with torch.no_grad():
        for k, layer in enumerate(net.layers[:-1]):
            layer.weight.fill_(0.01)
            layer.bias.fill_(0.01)
            layer.weight[dead.get(k, [])] = 0.0
            layer.bias[dead.get(k, [])] = -1.0
    return net.eval()


def test_the_units_that_cannot_fire_are_counted_per_layer():
    spec = ModelSpec(hidden=(12, 6))
    images = torch.rand(500, 28 * 28)
    assert dead_units(network_with_dead_units(spec, {}), images) == [0, 0]
    net = network_with_dead_units(spec, {0: [1, 4, 7], 1: [0]})
    assert dead_units(net, images, chunk=64) == [3, 1]  # and across chunks
    # a unit alive on one image only is alive
    with torch.no_grad():
        net.layers[0].bias[4] = 0.0
        net.layers[0].weight[4] = 0.0
        net.layers[0].weight[4, 0] = 1.0  # fires where pixel 0 is positive
    only_one = torch.zeros(300, 28 * 28)
    only_one[17, 0] = 1.0
    assert dead_units(net, only_one) == [2, 1]
    assert dead_units(net, only_one[:17]) == [3, 1]  # without that image it is dead


def test_a_cnns_dense_head_is_counted_and_its_convolutions_are_not():
    spec = ModelSpec(family="cnn", conv=({"channels": 2, "kernel": 3, "pool": 2},), hidden=(5,))
    net = network_with_dead_units(spec, {0: [2]})
    assert dead_units(net, torch.rand(200, 28 * 28)) == [1]


def test_only_relu_units_are_counted():
    with pytest.raises(ValueError, match="counted for ReLU networks"):
        dead_units(init_network(ModelSpec(hidden=(4,), activation="tanh"), 0), torch.rand(5, 784))


def test_the_table_counts_each_member_and_skips_diverged_ones():
    spec = ModelSpec(hidden=(12, 6))
    members = {0: network_with_dead_units(spec, {0: [0, 1]}), 3: network_with_dead_units(spec, {}),
               5: network_with_dead_units(spec, {1: [2]})}
    table = dead_unit_table(members, spec.hidden, torch.rand(100, 784), diverged={5})
    assert table["seed"].tolist() == [0, 3, 5] and table["units"].tolist() == [18, 18, 18]
    assert table["dead"].tolist()[:2] == [2, 0] and table["dead"].isna().tolist() == [False, False, True]
    assert table["dead_0"].tolist()[:2] == [2, 0] and table["dead_1"].tolist()[:2] == [0, 0]


def test_the_report_lists_models_with_dead_units_and_tests_the_link_to_accuracy():
    import pandas as pd
    from conftest import as_read
    from scipy import stats

    from mnist_study.report.claims import dead_units as report

    dead, acc = [0, 1, 2, 2, 4], [0.89, 0.88, 0.86, 0.87, 0.84]
    table = pd.DataFrame({
        "model": ["6"] * 5 + ["big"] * 3 + ["one"] + ["clean"] * 2,
        "seed": [0, 1, 2, 3, 4, 0, 1, 2, 0, 0, 1],
        "units": [5] * 5 + [100] * 3 + [8] + [10] * 2,
        "dead": [*dead, 3, 0, float("nan"), 1, 0, 0],  # big's third seed diverged: no count
        "test_accuracy": [*acc, 0.97, 0.97, float("nan"), 0.9, 0.95, 0.95]})
    said = report(table, {"6": "six"})
    assert said["n_models"] == 4 and said["n_with"] == 3  # clean has none
    six, big, one = said["rows"]
    rho = stats.spearmanr(dead, acc).statistic
    # the exact p over 5 seeds: the share of the 120 pairings at least as far from 0
    pairings = [stats.spearmanr(dead, order).statistic for order in itertools.permutations(acc)]
    p = np.mean(np.abs(pairings) >= abs(rho) - 1e-12)
    assert (six["label"], as_read(six["counts"]), as_read(six["units"])) == ("six", "0, 1, 2, 2, 4", "5")
    assert as_read(six["rho"]) == f"{rho:+.2f}" and as_read(six["p"]) == f"$p = {p:.2g}$"
    assert six["share"] == pytest.approx(sum(dead) / 5 / 5)
    # fewer than 4 seeds with a count, or one seed: no correlation
    assert (as_read(big["counts"]), big["rho"], one["rho"]) == ("3, 0", "--", "--")
    assert said["most"]["model"] == "6"  # 36 % against 1.5 % and 12.5 %
    none = report(table[table["model"] == "clean"], {})
    assert none["n_with"] == 0 and none["rows"] == [] and none["most"] is None
