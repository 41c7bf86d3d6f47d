"""The benchmark (benchmarks/bench.py, on the test path through pyproject's pythonpath): its FLOP
accounting, and a smoke test of its --quick path end to end."""

from __future__ import annotations

import math

import bench
import numpy as np
import pandas as pd
import pytest
import torch

from mnist_study.families.cnn import ConvBlock
from mnist_study.jobs import job_flops
from mnist_study.spec import ModelSpec

FIVE = [0, 1, 2, 3, 4]
# the test study of run(): each model stands for a kind of job, or for none (9, 13)
CONFIG = {"models": {"0": {"hidden": [784], "batch_size": 64, "seeds": FIVE},
                     "5": {"hidden": [10], "batch_size": 256, "seeds": FIVE},
                     "9": {"hidden": [7840], "batch_size": 256},
                     "10": {"hidden": [78400], "batch_size": 256},
                     "12": {"hidden": [784, 392, 196], "batch_size": 64, "seeds": FIVE},
                     "13": {"hidden": [784, 1568, 3136], "batch_size": 64},
                     "mlp-dropout": {"hidden": [1024, 1024, 1024], "dropout": 0.5,
                                     "batch_size": 128, "seeds": FIVE},
                     "lenet": {"family": "cnn", "hidden": [120, 84],
                               "conv": [{"channels": 6, "kernel": 5, "padding": 2, "pool": 2},
                                        {"channels": 16, "kernel": 5, "pool": 2}]},
                     "cnn fast": {"family": "cnn", "hidden": [128], "batch_size": 128,
                                  "seeds": FIVE,
                                  "conv": [{"channels": 24, "kernel": 5, "pool": 2,
                                            "batch_norm": True},
                                           {"channels": 48, "kernel": 5, "pool": 2,
                                            "batch_norm": True}]}},
          "scan": {"run": True, "learning_rates": {"start": 1e-5, "stop": 0.1, "num": 8},
                   "hidden_sizes": {"start": 100, "stop": 10000, "num": 3},
                   "batch_size": 256, "epochs": 5, "seed": 0}}
# the cases of CONFIG: the first model alone and with its seeds, each family's smallest and
# largest, the deepest mlp, the first with dropout, the scan row nearest 784 units
CASES = ("model0", "model0_5seeds", "model5_5seeds", "model10", "model12_5seeds",
         "scan_row")  # MLPs: both paths
GENERAL_ONLY_CASES = ("mlp_dropout_5seeds", "lenet", "cnn_fast_5seeds")
TARGETED = {*(f"model0_5seeds_{p}_fraction_of_roof" for p in bench.PATHS),
            *(f"model10_{p}_fraction_of_roof" for p in bench.PATHS),
            *(f"model10_{p}_peak_rss" for p in bench.PATHS)}


def expected_metrics(cases: list[bench.Case], largest: str) -> set[str]:
    """The metrics a run over these cases writes."""
    both = [c.name for c in cases if c.paths == bench.PATHS]
    return {"roof_before", "roof_after", "roof", "stream_rate", "study_flops", "study_floor",
            "study_parameter_traffic", "study_memory_floor", "study_floor_with_memory",
            *(f"{cases[0].name}_conventional_{m}" for m in ("samples_per_s", "fraction_of_roof")),
            *(f"{largest}_{p}_peak_rss" for p in bench.PATHS),
            *(f"{c.name}_{p}_{m}" for c in cases for p in c.paths
              for m in ("samples_per_s", "fraction_of_roof")),
            *(f"{c}_general_over_handwritten" for c in both)}


EXPECTED = expected_metrics(bench.cases(CONFIG), "model10")


def test_a_timed_pass_is_credited_with_the_projects_one_flop_count():
    # 6 x parameters per sample for an MLP, whatever epochs and seeds the spec trains with:
    # a timed run of steps is credited with its samples, not with the spec's whole training
    mlp = ModelSpec(hidden=(784,), epochs=3, seeds=(0, 1))
    assert bench.pass_flops(mlp, 10) == 6 * mlp.n_parameters() * 10
    # a cnn: each convolution weight, and its bias, once per output position
    cnn = ModelSpec(family="cnn", conv=(ConvBlock(6, 5, padding=2, pool=2),), hidden=(),
                    epochs=2)
    conv, dense = (6 * 25 + 6) * 28 * 28, 6 * 14 * 14 * 10 + 10
    assert bench.pass_flops(cnn, 1) == 6 * (conv + dense)
    # a study's whole job: every member, every epoch (job_flops)
    assert bench.pass_flops(mlp, 60000) * mlp.epochs * 5 == job_flops(mlp, 5, 60000)


def test_study_flops_count_every_seed_and_scan_cell():
    config = {"defaults": {"epochs": 2}, "models": {"a": {"hidden": [10], "seeds": [0, 1]}},
              "scan": {"run": True, "learning_rates": {"start": 1e-3, "stop": 1e-2, "num": 3},
                       "hidden_sizes": {"start": 10, "stop": 10, "num": 1},
                       "batch_size": 64, "epochs": 1, "seed": 0}}
    out = bench.study_flops(config, n_train=100)
    per_run = 6 * ModelSpec(hidden=(10,)).n_parameters() * 100
    assert out["models"] == pytest.approx(per_run * 2 * 2)
    assert out["scan"] == pytest.approx(per_run * 3)
    # a scan the study does not run (config.yaml's grid, `run: false`) trains nothing
    config["scan"]["run"] = False
    assert bench.study_flops(config, n_train=100)["scan"] == 0
    assert [job.name for job in bench.study_jobs(config, n_train=100)] == ["a"]


def test_one_spec_is_credited_the_same_flops_per_sample_whoever_trains_it():
    # fraction of the roof / samples/s is FLOPs per sample / roof: one constant per spec
    spec = ModelSpec(hidden=(784,), batch_size=64)
    slow = bench.rate_rows("slow", bench.Timing(12.0, spec, 60000), 1e11)
    fast = bench.rate_rows("fast", bench.Timing(3.0, spec, 5 * 60000, models=5), 1e11)
    per_sample = [fraction["value"] / rate["value"] for rate, fraction in (slow, fast)]
    assert per_sample[0] == pytest.approx(per_sample[1])
    assert per_sample[0] == pytest.approx(6 * spec.n_parameters() / 1e11)


def test_cases_take_the_handwritten_path_only_where_it_supports_the_spec():
    paths = {c.name: c.paths for c in bench.cases(CONFIG)}
    assert set(paths) == {*CASES, *GENERAL_ONLY_CASES}
    assert all(paths[c] == bench.PATHS for c in CASES)
    assert all(paths[c] == ("general",) for c in GENERAL_ONLY_CASES)
    scan = next(c for c in bench.cases(CONFIG) if c.name == "scan_row")
    assert len({m.lr for m in scan.members}) == 8 and len({m.seed for m in scan.members}) == 1
    assert scan.spec.hidden == (1000,)  # of 100, 1,000 and 10,000: the nearest 784


def test_cases_are_the_studys_own_models_by_what_they_stand_for():
    by_name = {c.name: c for c in bench.cases(CONFIG)}
    assert [m.seed for m in by_name["model0"].members] == [0]
    assert [m.seed for m in by_name["model0_5seeds"].members] == FIVE
    assert {n: c.target for n, c in by_name.items() if c.target} == {
        "model0_5seeds": bench.FIRST_MODEL_FRACTION, "model10": bench.LARGEST_MLP_FRACTION}
    assert bench.largest_model(CONFIG)[0] == "10"
    # steps: compute-bound cases few, overhead-bound ones many, within the bounds
    assert by_name["model10"].steps == bench.MIN_STEPS
    assert by_name["model5_5seeds"].steps == bench.MAX_STEPS
    assert bench.MIN_STEPS < by_name["model12_5seeds"].steps < bench.MAX_STEPS
    # another study: its own ids; a model standing for several kinds is measured once; no
    # scan row where the study does not run the scan
    own = {"models": {"a, b": {"hidden": [32], "seeds": [3, 4]},
                      "wide": {"hidden": [64], "seeds": [7]}},
           "scan": {**CONFIG["scan"], "run": False}}
    assert [(c.name, [m.seed for m in c.members]) for c in bench.cases(own)] == [
        ("a__b", [3]), ("a__b_2seeds", [3, 4]), ("wide", [7])]


def test_run_credits_both_paths_of_a_spec_with_the_same_flops(monkeypatch, tmp_path):
    # run() with every timed part replaced by fixed seconds, nothing trained or timed: the
    # paths of one spec must differ in samples/s only, and the ratio is the time ratio
    n = 640
    fake = {"train_images": np.zeros((n, 28, 28), dtype=np.uint8),
            "train_labels": np.zeros(n, dtype=np.int64)}
    seconds = {"handwritten": 1.0, "general": 1.5, "handwritten_bf16": 0.4, "general_bf16": 0.5}
    monkeypatch.setattr("mnist_study.data.load_arrays", lambda root: fake)
    monkeypatch.setattr(bench, "native_bf16", lambda device: True)  # bf16-mixed on any machine
    monkeypatch.setattr(bench, "matmul_rate", lambda size, device, dtype=torch.float32:
                        3e11 if dtype == torch.bfloat16 else 1e11)
    monkeypatch.setattr(bench, "stream_rate", lambda size, device: 2e10)
    monkeypatch.setattr(bench, "onednn_matmul_rate", lambda size: None)
    monkeypatch.setattr(bench, "conventional_epoch", lambda spec, root, samples: (4.0, n))
    monkeypatch.setattr(bench, "side_by_side", lambda case, x, y, steps, sizes, bf16: {
        p: seconds[p] for p in (*case.paths, *(f"{p}_bf16" for p in case.paths))})
    monkeypatch.setattr(bench, "run_memory_probe", lambda spec, root, steps, path: {
        "peak_rss_bytes": 1e9})
    rows, _ = bench.run(bench.QUICK, CONFIG, tmp_path, log=lambda _: None)
    value = {r["metric"]: r["value"] for r in rows}
    assert EXPECTED <= set(value)
    specs = {c.name: c for c in bench.cases(CONFIG)}
    for name, case in specs.items():
        per_sample_flops = bench.pass_flops(case.spec, 1)
        for path in (*case.paths, *(f"{p}_bf16" for p in case.paths)):
            row = f"{name}_{path}"
            per_sample = value[f"{row}_fraction_of_roof"] / value[f"{row}_samples_per_s"]
            roof = 3e11 if path.endswith("_bf16") else 1e11  # bf16-mixed's: the bf16 roof
            assert per_sample == pytest.approx(per_sample_flops / roof), (name, path)
        # each precision on the path auto takes
        fp32 = seconds[bench.path_label(case.spec, "fp32")]
        low = seconds[bench.path_label(case.spec, "bf16-mixed")]
        assert value[f"{name}_fp32_over_bf16"] == pytest.approx(fp32 / low)
        steps = min(case.steps, bench.QUICK.max_steps)
        samples = min(steps * case.spec.batch_size, n) * len(case.members)
        assert value[f"{name}_general_samples_per_s"] == pytest.approx(samples / 1.5)
    assert all(value[f"{c}_general_over_handwritten"] == pytest.approx(1.5) for c in CASES)
    assert {r["metric"] for r in rows if r["target"]} == TARGETED
    assert value["roof_bf16"] == pytest.approx(300)
    assert 2 < value["study_fp32_over_bf16"] < 3  # every job 2x or 3x faster in the fake
    conventional = (value["model0_conventional_fraction_of_roof"]
                    / value["model0_conventional_samples_per_s"])
    assert conventional == pytest.approx(bench.pass_flops(specs["model0"].spec, 1) / 1e11)
    traffic = bench.study_flops(CONFIG)["traffic"]
    assert value["study_parameter_traffic"] == pytest.approx(traffic / 1e12)
    assert value["study_memory_floor"] == pytest.approx(traffic / 2e10 / 60)
    assert value["study_floor_with_memory"] == pytest.approx(
        value["study_floor"] + value["study_memory_floor"])
    bench.write_results(rows, {"cpu": "test"}, tmp_path, quick=True)
    md = (tmp_path / "results.md").read_text()
    assert "| model0_5seeds |" in md and "| 1.50 |" in md


@pytest.mark.e2e
def test_quick_benchmark_writes_every_metric(tmp_path, mnist_raw_dir):
    bench.main(["--quick", "--out", str(tmp_path), "--mnist", str(mnist_raw_dir.parents[1])])
    table = pd.read_csv(tmp_path / "results.csv")
    assert list(table.columns) == ["metric", "value", "unit", "target", "met"]
    seed_study = bench.load_config(bench.REPO)  # the study config.yaml names
    assert expected_metrics(bench.cases(seed_study), "model10") <= set(table["metric"])
    assert all(math.isfinite(v) and v > 0 for v in table["value"])
    targeted = table.dropna(subset=["target"])
    assert set(targeted["met"]) <= {"yes", "no"} and set(targeted["metric"]) == TARGETED
    md = (tmp_path / "results.md").read_text()
    assert "torch" in md and "cores" in md and "model10_handwritten_peak_rss" in md
    assert "general_over_handwritten" in md and "| cnn_fast_5seeds |" in md


def test_study_estimate_credits_each_job_with_its_nearest_case():
    small, wide = ModelSpec(hidden=(10,), batch_size=256), ModelSpec(hidden=(7840,), batch_size=256)
    cnn = ModelSpec(family="cnn", conv=(ConvBlock(6, 5, padding=2, pool=2),), hidden=(84,))
    measured = [
        (bench.Case("small", small, tuple(bench.Member(s, 1e-3) for s in range(5)), 10),
         {"handwritten": 4e9, "general": 2e9}),
        (bench.Case("wide", wide, (bench.Member(0, 1e-3),), 10),
         {"handwritten": 1e11, "general": 1e11}),
        (bench.Case("cnn", cnn, (bench.Member(0, 1e-3),), 10), {"general": 1e10}),
    ]
    config = {"models": {"a": {"hidden": [5], "batch_size": 256, "seeds": [0, 1, 2], "epochs": 1},
                         "b": {"hidden": [8000], "batch_size": 256, "epochs": 1},
                         "c": {"family": "cnn", "conv": [{"channels": 6, "kernel": 5, "padding": 2,
                                                          "pool": 2}],
                               "hidden": [], "epochs": 1},
                         "d": {"hidden": [10], "dropout": 0.5, "seeds": [0, 1], "epochs": 1}}}
    out = bench.study_estimate(config, measured, n_train=1000)
    rows = {r["job"]: r for r in out["rows"]}
    assert {r: rows[r]["case"] for r in rows} == {"a": "small", "b": "wide", "c": "cnn", "d": "small"}
    jobs = {j.name: j for j in bench.study_jobs(config, n_train=1000)}
    assert rows["a"]["handwritten_s"] == pytest.approx(jobs["a"].flops / 4e9)
    assert rows["a"]["general_s"] == pytest.approx(jobs["a"].flops / 2e9)
    # what the hand-written engine cannot train costs the general path's time on both sides
    assert not rows["c"]["supported"] and not rows["d"]["supported"]
    assert rows["d"]["handwritten_s"] == rows["d"]["general_s"] == pytest.approx(jobs["d"].flops / 2e9)
    hand = sum(r["handwritten_s"] for r in out["rows"])
    assert out["ratio"] == pytest.approx(sum(r["general_s"] for r in out["rows"]) / hand)
    assert out["supported_share"] == pytest.approx(
        (rows["a"]["handwritten_s"] + rows["b"]["handwritten_s"]) / hand)


def test_parameter_traffic_counts_every_step_of_every_member():
    spec = ModelSpec(hidden=(10,), batch_size=100, epochs=2)
    # 1,001 samples: 11 batches an epoch, the last one short
    assert bench.parameter_traffic(spec, 3, 1001) == 22 * spec.n_parameters() * 3 * 40
    assert bench.STEP_BYTES_PER_PARAMETER == bench.ADAM_BYTES_PER_PARAMETER + 12


def test_training_jobs_of_a_log_are_named_as_the_study_names_them():
    assert bench.study_job_name("train_model", "model=10") == "10"
    assert bench.study_job_name("train_model", "model=a, b=c") == "a, b=c"  # an odd id, whole
    assert bench.study_job_name("train_scan_row", "hidden=720") == "scan h720"
    assert bench.study_job_name("plot_roc", "") is None
    assert bench.study_job_name("train_border_control", "") is None


def test_floors_of_run_sets_each_training_job_beside_its_floor(tmp_path):
    from test_timing import finished, job, write_run

    config = {"models": {"a": {"hidden": [784], "batch_size": 64, "seeds": [0, 1], "epochs": 1},
                         "b, c": {"hidden": [10], "batch_size": 256, "epochs": 1}},
              "mnist": {"train_samples": 6400}}
    write_run(tmp_path,
              job(0, "train_model", 1, wildcards="model=a"),
              job(0, "train_model", 2, wildcards="model=b, c"),
              finished(4, 2, "train_model", 1),
              job(4, "plot_roc", 3),
              finished(10, 1, "train_model", 2), finished(10, 3, "plot_roc", 3))
    md = bench.floors_of_run(tmp_path, config, roof=1e10, stream=1e9, limits_from="here")
    jobs = {j.name: j for j in bench.study_jobs(config, 6400)}
    flop_a, bytes_a = jobs["a"].flops / 1e10, jobs["a"].traffic(6400) / 1e9
    rows = [line.split(" | ") for line in md.splitlines() if line.startswith("| a |")]
    assert len(rows) == 1 and float(rows[0][2]) == 10  # wall s
    assert float(rows[0][5]) == pytest.approx(flop_a + bytes_a, abs=0.5)
    # efficiency: the floor's core-seconds (2 cores) over the 10 s x 1 thread the job held
    assert float(rows[0][6].rstrip(" |")) == pytest.approx((flop_a + bytes_a) * 2 / 10, abs=0.005)
    assert "| b, c |" in md and "plot_roc" not in md
    floor = sum(sum(j.floor_seconds(6400, 1e10, 1e9)) for j in jobs.values())
    assert f"10 s of wall time = {10 / floor:.2f}x the floor" in md and "(here)" in md


def test_the_library_floor_counts_every_product_of_a_step():
    # benchmarks/library_floor.py sums the products' and Adam's time from torch.profiler by op
    # name: an op that does such work under a name it does not count (a renamed kernel, another
    # trainer) would read as free. Which ops a step runs is checked here, not how long they take.
    import library_floor as floor
    import torch
    from torch.profiler import ProfilerActivity, profile

    from mnist_study.train.engine import Member, fit_epoch, make_trainer

    x, y = torch.rand(256, 784), torch.randint(0, 10, (256,))
    order = torch.stack([torch.randperm(256) for _ in range(2)])
    counted = floor.PRODUCT_OPS | floor.ADAM_OPS
    for spec, path in ((ModelSpec(hidden=(32, 16), batch_size=64), "handwritten"),
                       (ModelSpec(hidden=(32, 16), batch_size=64), "general"),
                       (ModelSpec(hidden=(32,), batch_size=64, dropout=0.5), "general"),
                       (ModelSpec(family="cnn", conv=(ConvBlock(4, 5, pool=2, batch_norm=True),),
                                  hidden=(16,), batch_size=64), "general")):
        trainer = make_trainer(spec, [Member(0, 1e-3), Member(1, 1e-3)], x.device, 10, path)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fit_epoch(trainer, spec, x, y, order, max_steps=2)
        events = prof.events()
        ran = {e.name for e in events} & counted
        assert ran & floor.PRODUCT_OPS and ran & floor.ADAM_OPS, (spec, path, ran)
        if spec.family == "cnn":  # both directions of the convolution
            assert {"aten::mkldnn_convolution", "aten::convolution_backward"} <= ran
        assert floor.uncounted_ops(events) == set(), (spec, path)
        # each counted op the step ran is needed: without it, the check names it
        for op in ran:
            assert op in floor.uncounted_ops(events, counted - {op}), (spec, path, op)
