"""The families table (test error with its interval, size, training cost, literature) on
synthetic models tables whose answers are worked out here by hand."""

import json

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest
from conftest import as_read
from scipy import stats

from mnist_study import files
from mnist_study.evaluate import choosing, trust
from mnist_study.evaluate.tables import model_table
from mnist_study.report import document, formatting, plots, provenance
from mnist_study.spec import resolve_models

N_TEST = 10_000
STUDY = {"models": {
    "three": {"label": "three seeds", "hidden": [100], "seeds": [0, 1, 2],
              "literature": {"test_error": 0.02, "source": "Someone et al. 1999 & 50% {x}"}},
    "one": {"label": "one seed", "hidden": [10], "seeds": [0]},
    "half": {"label": "one of two diverged", "hidden": [30], "seeds": [0, 1]},
    "gone": {"label": "all diverged", "hidden": [5], "seeds": [0, 1]},
    "failed": {"label": "did not train", "hidden": [2**40], "seeds": [0]},
    "cnn": {"label": "a cnn", "family": "cnn", "conv": [{"channels": 4, "kernel": 5, "pool": 2}],
            "hidden": [], "seeds": [0, 1, 2]},
}}
ACCURACIES = {"three": [0.97, 0.975, 0.968], "one": [0.92], "half": [0.95, np.nan],
              "gone": [np.nan, np.nan], "cnn": [0.985, 0.987, 0.986]}
WALL = {"three": 30.0, "one": 4.0, "half": 10.0, "gone": 8.0}  # "cnn": no benchmark file


def metrics(accuracies) -> pd.DataFrame:
    acc = np.asarray(accuracies, float)
    diverged = ~np.isfinite(acc)
    return pd.DataFrame({"seed": range(len(acc)), "lr": 1e-3, "train_accuracy": acc,
                         "test_accuracy": acc, "train_loss": 0.1 + 0.01 * np.arange(len(acc)),
                         "test_loss": 0.2 + 0.01 * np.arange(len(acc)),
                         "diverged": diverged, "diverged_at_epoch": np.where(diverged, 1, np.nan),
                         "diverged_at_step": np.where(diverged, 7, np.nan)})


@pytest.fixture(scope="module")
def models() -> pd.DataFrame:
    """The models table as analyze_models writes it, and as the next job reads it back."""
    table = model_table(resolve_models(STUDY), {m: metrics(a) for m, a in ACCURACIES.items()},
                        failures={"failed": {"reason": "MemoryError", "log": "logs/x.log"}},
                        n_test=N_TEST)
    return table


@pytest.fixture(scope="module")
def table(models, tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("t") / "models.csv"
    files.write_csv(models, path)
    return choosing.families_table(files.read_table(path), ACCURACIES, WALL, N_TEST)


def row(table, model) -> pd.Series:
    return table.set_index("model").loc[model]


def test_rows_are_the_trained_models_with_an_error_by_family_then_error(table):
    # failed: no metrics at all; gone: every seed diverged, no error to show; the cnn has the
    # lowest error but comes after every mlp
    assert list(table["model"]) == ["three", "half", "one", "cnn"]
    assert list(table.columns) == choosing.COLUMNS


def test_interval_over_seeds_is_student_t_on_the_test_errors(table, models):
    r = row(table, "three")
    errors = 1 - np.array(ACCURACIES["three"])
    half = stats.t.ppf(0.975, 2) * errors.std(ddof=1) / np.sqrt(3)
    assert r["test_error_mean"] == pytest.approx(errors.mean())
    assert r["test_error_mean"] == pytest.approx(
        1 - models.set_index("model").loc["three", "test_accuracy_mean"])
    assert (r["test_error_low"], r["test_error_high"]) == pytest.approx(
        (errors.mean() - half, errors.mean() + half))
    assert r["interval_over"] == "seeds" and r["n_seeds_used"] == 3


def test_one_seed_gets_wilsons_interval_over_the_test_images(table):
    r = row(table, "one")
    z, p, n = stats.norm.ppf(0.975), 0.92, N_TEST  # Wilson's formula for the accuracy, by hand
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert r["interval_over"] == "test images" and r["n_seeds_used"] == 1
    assert r["test_error_mean"] == pytest.approx(0.08)
    assert (r["test_error_low"], r["test_error_high"]) == pytest.approx(
        (1 - (centre + half), 1 - (centre - half)), abs=1e-9)


def test_diverged_seeds_are_dropped_but_still_share_the_job(table):
    r = row(table, "half")
    assert r["n_seeds"] == 2 and r["n_seeds_used"] == 1
    assert r["test_error_mean"] == pytest.approx(0.05) and r["interval_over"] == "test images"
    assert r["wall_s_per_member"] == pytest.approx(10.0 / 2)  # both members trained side by side


def test_wall_time_per_member_and_a_missing_benchmark(table):
    assert row(table, "three")["job_wall_s"] == 30.0
    assert row(table, "three")["wall_s_per_member"] == pytest.approx(10.0)
    cnn = row(table, "cnn")  # no benchmark file
    assert np.isnan(cnn["job_wall_s"]) and np.isnan(cnn["wall_s_per_member"])


def test_size_cost_and_literature_come_from_the_models_table(table, models):
    by_id = models.set_index("model")
    for m in table["model"]:
        for col in ("family", "architecture", "n_parameters", "train_flops_per_member", "label"):
            assert row(table, m)[col] == by_id.loc[m, col]
    assert row(table, "three")["literature_test_error"] == 0.02
    assert row(table, "three")["literature_source"] == "Someone et al. 1999 & 50% {x}"
    assert np.isnan(row(table, "one")["literature_test_error"])
    assert row(table, "one")["literature_source"] == ""  # an empty cell reads back as NaN
    assert row(table, "cnn")["family"] == "cnn"


def test_an_interval_is_cut_to_where_an_error_rate_lies():
    models = model_table(resolve_models({"models": {"wild": {"hidden": [1], "seeds": [0, 1]}}}),
                         {"wild": metrics([0.99, 0.2])})
    r = choosing.families_table(models, {"wild": [0.99, 0.2]}, {}, N_TEST).iloc[0]
    assert r["test_error_low"] == 0.0 and r["test_error_high"] == 1.0


def test_a_trained_model_without_accuracies_is_an_error(models):
    with pytest.raises(KeyError, match="'cnn' trained"):
        choosing.families_table(models, {m: a for m, a in ACCURACIES.items() if m != "cnn"}, {},
                                N_TEST)


def test_choice_is_the_cheapest_of_the_models_no_test_tells_from_the_best(table):
    # a test tells every other model from the best: the best is the choice
    pick = choosing.choice(table, "cnn", [])
    assert pick == {"best": "cnn", "cheapest": "cnn", "within": ["cnn"]}
    # the 100-unit mlp is not told apart (whatever the intervals say), and it is cheaper: it
    # is the choice; at equal FLOPs the fewer parameters decide
    cnn = row(table, "cnn")
    cheap = table.copy()
    cheap.loc[cheap["model"] == "three", "train_flops_per_member"] = cnn["train_flops_per_member"] / 2
    assert choosing.choice(cheap, "cnn", ["three"]) == {"best": "cnn", "cheapest": "three",
                                                         "within": ["three", "cnn"]}
    cheap.loc[cheap["model"] == "three", "train_flops_per_member"] = cnn["train_flops_per_member"]
    fewer = min(("three", "cnn"), key=lambda m: row(table, m)["n_parameters"])
    assert choosing.choice(cheap, "cnn", ["three"])["cheapest"] == fewer
    assert choosing.choice(table, None, []) is None


def test_job_wall_times_from_benchmark_files(tmp_path):
    # what analyze_families reads: Snakemake's benchmark TSV, or nothing where none was written
    (tmp_path / "a.tsv").write_text("s\th:m:s\tmax_rss\n12.5\t0:00:12\t100.0\n")
    times = provenance.job_times({"a": tmp_path / "a.tsv", "b": tmp_path / "b.tsv"})
    wall = times.set_index("job")["wall_s"].to_dict()
    assert wall["a"] == 12.5 and np.isnan(wall["b"])


def test_job_records_of_how_each_trained(tmp_path):
    # what collect_provenance reads beside the benchmark files: each training job's run.json
    bench = {job: tmp_path / f"{job}.tsv" for job in ("a", "b", "c")}
    (tmp_path / "a.json").write_text(json.dumps({"device": "cpu", "torch_threads": 2,
                                                 "trainer": "general"}))  # an early record
    (tmp_path / "b.json").write_text(json.dumps({"device": "cpu", "torch_threads": 1,
                                                 "trainer": "handwritten"}))
    runs = {job: tmp_path / f"{job}.json" for job in bench}  # c: failed, no record
    times = provenance.job_times(bench, runs).set_index("job")
    assert times.loc["a", "torch_threads"] == 2 and times.loc["b", "torch_threads"] == 1
    assert np.isnan(times.loc["c", "torch_threads"]) and times.loc["c", "device"] == ""
    assert provenance.training_settings(times.reset_index()) == {
        "devices": ["cpu"], "precisions": ["fp32"], "cpu_capabilities": [],
        "torch_threads": [1, 2], "n_unknown": 1}
    (tmp_path / "c.json").write_text('{"device": "cpu"')  # cut off mid-write
    with pytest.raises(ValueError, match=r"c\.json: not the record of how job 'c' trained"):
        provenance.job_times(bench, runs)


def test_formatting_helpers():
    def si(x, **kw):
        return as_read(formatting.fmt_si(x, **kw))

    def sig(x):
        return as_read(formatting.fmt_sig(x))

    assert si(101) == "101"
    assert si(636_010) == "636\\,k"
    assert si(62_159_210) == "62.2\\,M"
    assert si(999_999) == "1.00\\,M" and si(1_002_158) == "1.00\\,M"
    assert si(1.434e12, unit="FLOP") == "1.43\\,TFLOP"
    assert si(float("nan")) == "--"
    assert sig(0.012345) == "0.0123" and sig(1234.5) == "1,230"
    assert sig(12.0) == "12.0" and sig(2250.3) == "2,250"
    assert as_read(formatting.fmt_pct_range(0.0161, 0.0203)) == "1.61--2.03"
    assert formatting.fmt_pct_range(float("nan"), 0.1) == "--"


def test_report_context_is_formatted_and_json(table, models, tmp_path):
    pick = choosing.choice(table, "cnn", [])
    ctx = document.families_context(table, models, pick, N_TEST, trust.LEVEL)
    files.write_json(ctx, tmp_path / "families.json")
    back = json.loads((tmp_path / "families.json").read_text())
    # the families table's order: mlps by error, then the cnn
    assert [r["model"] for r in back["rows"]] == ["three", "half", "one", "cnn"]
    assert back["left_out"] == ["all diverged"] and back["n_without_wall"] == 1
    assert back["level"] == 95 and as_read(back["n_test"]) == "10,000"
    assert back["any_literature"] and back["any_one_seed"]
    rows = {r["model"]: r for r in back["rows"]}
    assert as_read(rows["three"]["error"]) == f'{100 * row(table, "three")["test_error_mean"]:.2f}'
    assert as_read(rows["three"]["literature"]) == "2.00" and rows["one"]["literature"] == "--"
    assert [r["number"] for r in back["rows"]] == [1, 2, 3, 4]
    assert rows["three"]["source_key"] == "a" and rows["one"]["source_key"] == ""
    (source,) = back["sources"]
    assert {k: source[k] for k in ("key", "text", "cite")} == {
        "key": "a", "text": "Someone et al. 1999 & 50% {x}", "cite": ""}
    # how the model set against the published error trained here, beside it
    assert as_read(source["here"]).startswith("10 epochs of Adam at a constant learning rate")
    assert rows["half"]["seeds"] == "1/2" and rows["three"]["seeds"] == "3"
    assert rows["cnn"]["wall"] == "--" and not rows["cnn"]["has_wall"]
    assert rows["one"]["one_seed"] and not rows["three"]["one_seed"]
    assert back["pick"]["best"]["model"] == "cnn" and back["pick"]["same"]


def drawn(monkeypatch, table, path):
    """The families figure as plots.families draws it, kept open for the test to read."""
    kept = []
    monkeypatch.setattr(plots, "save_pages", lambda figures, out, width: kept.extend(figures))
    plots.families(table, path)
    return kept[0]


def points(ax) -> list[tuple[float, float, str, str]]:
    """(x, y, colour, marker) of each point the axes plot (the models and the stars; not the
    error bars' caps)."""
    import matplotlib.colors

    return [(float(line.get_xdata()[0]), float(line.get_ydata()[0]),
             matplotlib.colors.to_hex(line.get_color()), line.get_marker())
            for line in ax.lines if len(line.get_xdata()) == 1 and line.get_marker() not in "_|"]


def test_figure_draws_each_model_at_its_error_with_its_familys_style(table, monkeypatch, tmp_path):
    from mnist_study.families import FAMILIES

    shown = table.copy()
    shown.loc[shown["model"] == "one", "test_error_low"] = 0.0  # a bar to the bottom of a log axis
    fig = drawn(monkeypatch, shown, tmp_path / "families.pdf")
    left, right = fig.axes[:2]
    bottom = left.get_ylim()[0]
    expected = []
    for r in shown.itertuples():
        style = FAMILIES[r.family].style
        colour = matplotlib.colors.to_hex(style["color"])
        expected.append((r.n_parameters, max(r.test_error_mean, bottom), colour, style["marker"]))
        if np.isfinite(r.literature_test_error):  # a hollow star in the family's colour
            expected.append((r.n_parameters, r.literature_test_error, colour, "*"))
    got = sorted(points(left))
    assert [(c, m) for *_, c, m in got] == [(c, m) for *_, c, m in sorted(expected)]
    assert np.allclose([xy for *xy, _, _ in got], [xy for *xy, _, _ in sorted(expected)])
    timed = shown[shown["wall_s_per_member"].notna()]
    assert sorted(x for x, *_ in points(right)) == pytest.approx(
        sorted([*timed["wall_s_per_member"], *timed.loc[timed["literature_test_error"].notna(),
                                                         "wall_s_per_member"]]))
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["MLP", "CNN", "literature"]
    # the points are numbered as the table's rows, which the report's table repeats
    numbers = sorted(int(t.get_text()) for t in left.texts if t.get_text().isdigit())
    assert numbers == list(range(1, len(shown) + 1))


def test_figure_says_so_when_no_wall_time_was_recorded(table, monkeypatch, tmp_path):
    fig = drawn(monkeypatch, table.assign(wall_s_per_member=np.nan), tmp_path / "untimed.pdf")
    right = fig.axes[1]
    assert points(right) == [] and [t.get_text() for t in right.texts] == ["no wall times recorded"]
