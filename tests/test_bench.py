"""Smoke test of the benchmark's --quick path: it runs end to end and writes every metric."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mnist_study import bench
from mnist_study.spec import ModelSpec

EXPECTED = {
    "roof_before", "roof_after", "model0_conventional_samples_per_s",
    "model0_engine_single_samples_per_s", "model0_5seeds_batched_samples_per_s",
    "model0_conventional_fraction_of_roof", "model0_engine_single_fraction_of_roof",
    "model0_5seeds_batched_fraction_of_roof", "model9_fraction_of_roof",
    "model10_fraction_of_roof", "scan_row_speedup", "scan_row_small_speedup",
    "model10_peak_rss", "study_flops", "study_floor",
}


def test_executed_flops_skip_only_the_first_input_gradient():
    spec = ModelSpec(hidden=(784,))
    assert bench.model_flops(spec, 1) == 6 * spec.n_parameters()
    assert bench.executed_flops(spec, 1) == 4 * (784 * 784 + 784) + 6 * (784 * 10 + 10)


def test_study_flops_count_every_seed_and_scan_cell():
    config = {"defaults": {"epochs": 2}, "models": {"a": {"hidden": [10], "seeds": [0, 1]}},
              "scan": {"learning_rates": {"start": 1e-3, "stop": 1e-2, "num": 3},
                       "hidden_sizes": {"start": 10, "stop": 10, "num": 1},
                       "batch_size": 64, "epochs": 1, "seed": 0}}
    out = bench.study_flops(config, n_train=100)
    per_run = 6 * ModelSpec(hidden=(10,)).n_parameters() * 100
    assert out["models"] == pytest.approx(per_run * 2 * 2)
    assert out["scan"] == pytest.approx(per_run * 3)


@pytest.mark.e2e
def test_quick_benchmark_writes_every_metric(tmp_path, mnist_raw_dir):
    bench.main(["--quick", "--out", str(tmp_path), "--mnist", str(mnist_raw_dir.parents[1])])
    table = pd.read_csv(tmp_path / "results.csv")
    assert list(table.columns) == ["metric", "value", "unit", "target", "met"]
    assert EXPECTED <= set(table["metric"])
    assert all(math.isfinite(v) and v > 0 for v in table["value"])
    targeted = table.dropna(subset=["target"])
    assert set(targeted["met"]) <= {"yes", "no"} and len(targeted) >= 5
    md = (tmp_path / "results.md").read_text()
    assert "torch" in md and "cores" in md and "model10_peak_rss" in md
