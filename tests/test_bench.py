"""Smoke test of the benchmark's --quick path: it runs end to end and writes every metric."""

from __future__ import annotations

import math

import pandas as pd
import numpy as np
import pytest
import torch

from mnist_study import bench
from mnist_study.spec import ModelSpec

EXPECTED = {
    "roof_before", "roof_after", "roof", "model0_conventional_samples_per_s",
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


def test_one_spec_is_credited_the_same_flops_per_sample_whoever_trains_it():
    # fraction of the roof / samples/s is FLOPs per sample / roof: one constant per spec
    spec = ModelSpec(hidden=(784,), batch_size=64)
    slow = bench.rate_rows("slow", bench.Timing(12.0, spec, 60000), 1e11, samples_per_s=True)
    fast = bench.rate_rows("fast", bench.Timing(3.0, spec, 5 * 60000, models=5), 1e11,
                           samples_per_s=True)
    per_sample = [fraction["value"] / rate["value"] for rate, fraction in (slow, fast)]
    assert per_sample[0] == pytest.approx(per_sample[1])
    assert per_sample[0] == pytest.approx(bench.executed_flops(spec, 1) / 1e11)


def test_run_credits_every_model0_path_with_the_same_flops(monkeypatch, tmp_path):
    # run() with every timed part replaced by fixed seconds, nothing trained or timed: the
    # conventional loop, the engine and 5 batched seeds must differ in samples/s only (the
    # conventional loop was once credited 6N FLOPs per sample, the engine the needed count)
    n = 640
    fake = {"train_images": np.zeros((n, 28, 28), dtype=np.uint8),
            "train_labels": np.zeros(n, dtype=np.int64)}
    monkeypatch.setattr("mnist_study.data.load_arrays", lambda root: fake)
    monkeypatch.setattr(bench, "matmul_rate", lambda size, device: 1e11)
    monkeypatch.setattr(bench, "onednn_matmul_rate", lambda size: None)
    monkeypatch.setattr(bench, "conventional_epoch", lambda spec, root, samples: (4.0, n))
    monkeypatch.setattr(bench, "engine_run", lambda *args, **kwargs: 1.0)
    monkeypatch.setattr(bench, "run_memory_probe", lambda spec, root, steps: {
        "seconds": 1.0, "samples": 256, "peak_rss_bytes": 1e9})
    config = {"models": {"0": {"hidden": [784], "batch_size": 64},
                         "9": {"hidden": [7840], "batch_size": 256},
                         "10": {"hidden": [78400], "batch_size": 256}}}
    rows, _ = bench.run(bench.QUICK, config, tmp_path, log=lambda _: None)
    value = {r["metric"]: r["value"] for r in rows}
    paths = ("model0_conventional", "model0_engine_single", "model0_5seeds_batched")
    per_sample = [value[f"{p}_fraction_of_roof"] / value[f"{p}_samples_per_s"] for p in paths]
    needed = bench.executed_flops(ModelSpec(hidden=(784,)), 1)
    assert per_sample == pytest.approx([needed / 1e11] * 3)
    assert value["model0_5seeds_batched_samples_per_s"] == pytest.approx(5 * n / 1.0)
