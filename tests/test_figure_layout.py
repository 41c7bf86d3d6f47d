"""Every figure the workflow draws passes the layout checks made from matplotlib's geometry
(figure_checks.layout_problems), for a study of one model and of the seed study's (in its
order), with its real labels and long and hostile ones; and the checks themselves fail where they should."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import HOSTILE_LABEL, REPO  # noqa: E402

from mnist_study.report import figure_checks, plots, plots_inside  # noqa: E402
from mnist_study.report.figure_checks import layout_problems  # noqa: E402
from mnist_study.spec import resolve_models  # noqa: E402
from mnist_study.study import load_config  # noqa: E402

LONG_LABEL = "a label of forty characters, said slowly"  # 40
NO_SPACE_LABEL = "ResNetLikeModelWithoutAnySpaceInItsName1"  # 40, nowhere to wrap
assert len(LONG_LABEL) == len(NO_SPACE_LABEL) == 40

# The seed study's models (config/seed.yaml, in its order: the figures' columns fall as in the
# report) and two hostile ones.
SEED_LABELS = {m: model.label for m, model in resolve_models(load_config(REPO)).items()}
STUDIES = {
    "one": {"long": LONG_LABEL},
    "many": {**SEED_LABELS, "hostile": HOSTILE_LABEL, "long": LONG_LABEL},
}
assert len(STUDIES["many"]) == len(SEED_LABELS) + 2
STYLE = REPO / "report" / "style.mplstyle"


@pytest.fixture(autouse=True)
def style():
    with plt.style.context(str(STYLE)):
        yield
    plt.close("all")


@pytest.fixture
def checked(monkeypatch):
    """The layout problems of every page save_pages checked, by page: a plotting function that
    does not save through save_pages checks nothing, and the test says so."""
    pages = []

    def recording(fig, *args, **kwargs):
        pages.append(figure_checks.layout_problems(fig, *args, **kwargs))
        return pages[-1]

    monkeypatch.setattr(plots, "layout_problems", recording, raising=False)
    return pages


def assert_clean(pages):
    assert pages, "no page went through save_pages"
    assert all(p == [] for p in pages), "\n".join(sum(pages, []))


@pytest.fixture(params=list(STUDIES))
def labels(request) -> dict[str, str]:
    return STUDIES[request.param]


def rng(seed=0):
    return np.random.default_rng(seed)


# --- synthetic data shaped like the workflow's files ----------------------------------------

def histories(model: str, k: int):
    """history_step.csv and history_epoch.csv of a model (two seeds): model 14 reads raw
    scores as log probabilities, its loss falls to -9e13; model 2 diverges (NaN)."""
    epochs = 5 if "cnn" in model or "lenet" in model else 10
    steps = np.arange(1, 50 * epochs + 1)
    base = 2.3 * np.exp(-steps / (40 + 7 * k)) + 0.01 * (k + 1)
    if model == "14":
        base = -9e13 * (steps / steps[-1]) ** 3 + 2.3
    step = pd.concat([pd.DataFrame({"seed": s, "lr": 1e-3, "step": steps, "loss": base * (1 + 0.01 * s)})
                      for s in (0, 1)], ignore_index=True)
    if model == "2":
        step.loc[step["step"] > 100, "loss"] = np.nan
    e = np.arange(1, epochs + 1)
    per_epoch = base[49::50]
    epoch = pd.concat([pd.DataFrame({"seed": s, "lr": 1e-3, "epoch": e, "train_loss": per_epoch,
                                     "train_accuracy": 0.9, "test_loss": per_epoch * 1.1,
                                     "test_accuracy": 0.9}) for s in (0, 1)], ignore_index=True)
    if model == "2":
        epoch.loc[epoch["epoch"] > 2, ["train_loss", "test_loss"]] = np.nan
    return step, epoch


def confusion(k: int) -> np.ndarray:
    counts = rng(k).integers(0, 30, size=(10, 10)) * (rng(k + 1).random((10, 10)) < 0.4)
    np.fill_diagonal(counts, 950 - 40 * (k % 5))
    return counts


def roc_curves(diverged=False):
    if diverged:
        return {}, {**{str(d): np.nan for d in range(10)}, "micro": np.nan, "macro": np.nan}
    grid = np.linspace(0, 1, 50)
    curves = {str(d): (grid, grid ** (0.02 + 0.01 * d)) for d in range(10)}
    curves["micro"] = curves["macro"] = (grid, grid ** 0.03)
    return curves, {name: 0.99 - 0.001 * k for k, name in enumerate(curves)}


def roc_info(label, cnn=False, n_seeds=5):
    return {"label": label, "n_parameters": 1_863_690 if not cnn else 61_706,
            "architecture": "784-784-392-196-10" if not cnn
            else "24@5x5 bn pool2, 48@5x5 bn pool2 | 768-128-10",
            "activation": "relu", "output_activation": "log_softmax", "loss": "cross_entropy",
            "optimizer": "adam", "lr": 0.003 if cnn else 0.001, "batch_size": 128, "epochs": 10,
            "seed": 0, "n_seeds": n_seeds, "train_accuracy": 0.9987, "test_accuracy": 0.9912,
            "train_accuracy_mean": 0.9985, "test_accuracy_mean": 0.991}


def reliability_bins(k: int, n_bins=15):
    edges = np.linspace(0, 1, n_bins + 1)
    count = rng(k).integers(0, 2000, n_bins)
    count[:3] = 0
    return {"lower": edges[:-1], "upper": edges[1:], "count": count,
            "accuracy": np.where(count > 0, np.linspace(0.1, 0.99, n_bins), np.nan),
            "confidence": np.where(count > 0, edges[:-1] + 0.03, np.nan)}


def families_table(labels):
    rows = []
    for k, (m, label) in enumerate(labels.items()):
        cnn = "cnn" in m or "lenet" in m
        err = 0.01 + 0.02 * (k % 7) + 0.001 * k
        rows.append({"model": m, "label": label, "family": "cnn" if cnn else "mlp",
                     "architecture": "784-784-10", "n_parameters": 10 ** (4 + (k % 6) * 0.4),
                     "train_flops_per_member": 1e12, "n_seeds": 5, "n_seeds_used": 5,
                     "test_error_mean": err, "test_error_low": err * 0.8,
                     "test_error_high": err * 1.2, "interval_over": "seeds", "job_wall_s": 60.0,
                     "wall_s_per_member": 10.0 + 13 * (k % 9),
                     "literature_test_error": 0.016 if m == "mlp-800" else np.nan,
                     "literature_source": ""})
    return pd.DataFrame(rows)


def digits_images(seed=0):
    return rng(seed).random((10, 28, 28))


# --- every plotting function, for one model and for 24 --------------------------------------

def test_loss_curves(labels, checked, tmp_path):
    data = {m: histories(m, k) for k, m in enumerate(labels)}
    plots.loss_curves({m: s for m, (s, _) in data.items()}, {m: e for m, (_, e) in data.items()},
                      labels, tmp_path / "f.pdf", smoothing=0.01)
    assert_clean(checked)


def test_learning_curves(labels, checked, tmp_path):
    from mnist_study.evaluate import curves

    tables = []
    for k, m in enumerate(labels):
        epochs = histories(m, k)[1]
        if k % 2:  # every other model validates
            epochs = epochs.assign(val_accuracy=epochs["test_accuracy"] - 0.002)
        tables.append(curves.learning_curves(epochs).assign(model=m))
    plots.learning_curves(pd.concat(tables), labels, tmp_path / "f.pdf")
    assert_clean(checked)


def test_loss_curves_says_where_it_shows_losses_below_zero(checked, tmp_path):
    labels = {"14": "14 (NLL, raw scores)", "0": "0"}
    data = {m: histories(m, k) for k, m in enumerate(labels)}
    shown = plots.loss_curves({m: s for m, (s, _) in data.items()},
                              {m: e for m, (_, e) in data.items()}, labels, tmp_path / "f.pdf")
    assert_clean(checked)
    assert shown["negative"] == ["14"] and shown["yscale"] == "symlog"


def test_digit_means(checked, tmp_path):
    plots.digit_means(digits_images(), np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                                 5851, 5949]), tmp_path / "f.pdf")
    assert_clean(checked)


@pytest.mark.parametrize("as_text", [False, True])
def test_scan_heatmaps_with_hidden_sizes_in_numeric_order(as_text, checked, tmp_path):
    hidden = [1, 4, 16, 64, 268, 1389, 7197, 10000]
    lrs = np.geomspace(1e-5, 0.1, 8)
    table = pd.DataFrame([{"hidden": str(h) if as_text else h, "lr": lr,
                           "train_accuracy": 0.5 + 0.06 * i, "test_accuracy": 0.5 + 0.06 * i - 0.01,
                           "diverged": lr > 0.05 and h > 1000}
                          for i, h in enumerate(hidden) for lr in lrs])
    table.loc[table["diverged"], ["train_accuracy", "test_accuracy"]] = np.nan
    plots.scan_heatmaps(table.sample(frac=1, random_state=0), 0.9, tmp_path / "f.pdf")
    assert_clean(checked)


def test_confusion_grid(labels, checked, tmp_path):
    matrices = {m: confusion(k) / confusion(k).sum(1, keepdims=True) for k, m in enumerate(labels)}
    plots.confusion_grid(matrices, labels, tmp_path / "f.pdf")
    assert_clean(checked)


@pytest.mark.parametrize("label", [HOSTILE_LABEL, LONG_LABEL, NO_SPACE_LABEL, "11 (MSE, raw scores)"])
def test_mistake_histograms(label, checked, tmp_path):
    plots.mistake_histograms(confusion(3) * 40, label, "tab:blue", tmp_path / "f.pdf")
    assert_clean(checked)


def test_per_digit_errors(labels, checked, tmp_path):
    errors = pd.DataFrame([rng(k).random(10) * 0.05 for k in range(len(labels))],
                          index=list(labels), columns=range(10))
    errors.iloc[-1, 3] = np.nan
    errors.loc["median"] = errors.median(0)
    plots.per_digit_errors(errors, labels, tmp_path / "f.pdf")
    assert_clean(checked)


def test_mistake_gallery(checked, tmp_path):
    mistakes = pd.DataFrame({"index": range(16), "true": [7] * 16, "predicted": [1] * 16,
                             "probability": np.linspace(0.9999, 0.9, 16),
                             "probability_true": 0.0001})
    plots.mistake_gallery(rng().integers(0, 255, (20, 28, 28)), mistakes, tmp_path / "f.pdf")
    assert_clean(checked)


def test_roc_pages(labels, checked, tmp_path):
    def pages():
        for k, (m, label) in enumerate(labels.items()):
            curves, aucs = roc_curves(diverged=m == "14")
            yield plots.roc_figure(curves, aucs, roc_info(label, cnn="cnn" in m, n_seeds=1 + k % 5))
    plots.save_pages(pages(), tmp_path / "f.pdf")
    assert len(checked) == len(labels)
    assert_clean(checked)


@pytest.mark.parametrize("n_lr, n_batch", [(2, 2), (3, 4)])
def test_batch_lr(n_lr, n_batch, checked, tmp_path):
    names = iter([LONG_LABEL, HOSTILE_LABEL, NO_SPACE_LABEL, *SEED_LABELS.values()])
    findings, metrics, models = {"by_lr": []}, {}, []
    for i, lr in enumerate([1e-3, 0.01, 0.1][:n_lr]):
        points = []
        for j, batch in enumerate([16, 64, 256, 1024][:n_batch]):
            m = f"m{i}{j}"
            models.append(m)
            metrics[m] = pd.DataFrame({"test_accuracy": 0.95 + 0.01 * j - 0.1 * i + 0.002 * np.arange(5)})
            points.append({"model": m, "label": next(names), "batch_size": batch,
                           "test_accuracy_mean": float(metrics[m]["test_accuracy"].mean())})
        findings["by_lr"].append({"lr": lr, "points": points})
    plots.batch_lr(findings, metrics, plots.model_styles(models), tmp_path / "f.pdf")
    assert_clean(checked)


def test_families(labels, checked, tmp_path):
    plots.families(families_table(labels), tmp_path / "f.pdf")
    assert_clean(checked)


def test_reliability_diagrams(labels, checked, tmp_path):
    # the report shows 4 (trust.telling_models); the layout promises 24, long names included
    shown = list(labels.values())[-24:]
    plots.reliability_diagrams({label: reliability_bins(k) for k, label in enumerate(shown)},
                               tmp_path / "f.pdf")
    assert_clean(checked)


def test_risk_coverage(labels, checked, tmp_path):
    coverages = np.linspace(0.01, 1, 100)
    accuracy = {m: 1 - 0.01 * (k + 1) * coverages ** 2 for k, m in enumerate(labels)}
    plots.risk_coverage(coverages, accuracy, labels, plots.model_styles(list(labels)),
                        tmp_path / "f.pdf")
    assert_clean(checked)


NAMES = ["letter A", "circle", "face", "cross", "plus", "square", "triangle", "dash", "cat",
         "astronaut", "coffee", "camera", "horse", "uniform noise", "smooth noise",
         "my_photo_of_a_handwritten_seven_2024.png"]


def test_unfamiliar(labels, checked, tmp_path):
    shown = {m: rng(k).dirichlet(np.ones(10), size=(2, len(NAMES))) for k, m in enumerate(labels)}
    originals = [rng(i).integers(0, 255, (96, 64 + i, 3), dtype=np.uint8) for i in range(len(NAMES))]
    plots_inside.unfamiliar(NAMES, originals, rng().random((len(NAMES), 28, 28)), shown, labels,
                            list(labels), tmp_path / "f.pdf")
    assert_clean(checked)


def test_class_maximization(checked, tmp_path):
    logits = rng().normal(0, 30, (10, 10))
    logits[np.diag_indices(10)] = [-1234, 5678, 123456, 12, 3, 4, 5, 6, 7, 8]
    plots_inside.class_maximization(digits_images(), digits_images(1), logits, tmp_path / "f.pdf")
    assert_clean(checked)


def test_deep_dream(checked, tmp_path):
    d = {"mean_all": rng().random((28, 28)), "single_clamped": rng(1).random((28, 28)),
         "single_unclamped": rng(2).normal(0, 3, (28, 28)),
         "per_class_clamped": digits_images(3), "per_class_unclamped": rng(4).normal(0, 3, (10, 28, 28))}
    plots_inside.deep_dream(d, tmp_path / "f.pdf")
    assert_clean(checked)


def test_image_rows_of_every_model(labels, checked, tmp_path):
    plots_inside.image_rows({f"model {label}": digits_images(k) for k, label in enumerate(labels.values())},
                            tmp_path / "f.pdf")
    assert_clean(checked)


def test_image_rows_of_regularized_variants(checked, tmp_path):
    names = ["plain", "L2", "total variation", "blur", "jitter", "all four"]
    plots_inside.image_rows({n: digits_images(k) for k, n in enumerate(names)}, tmp_path / "f.pdf")
    assert_clean(checked)


def test_border_analysis(checked, tmp_path):
    usage = rng().random((28, 28)) ** 4
    usage[:2] = usage[:, :2] = 0
    m = {"usage": usage, "never": usage == 0, "norm": rng(1).random((28, 28)),
         "control_norm": rng(2).random((28, 28)) * 0.5,
         "relative_change": rng(3).random((28, 28)),
         **{f"render_{k}": digits_images(i) for i, k in enumerate(("model", "inputs cut", "weight decay"))}}
    plots_inside.border_analysis(m, tmp_path / "f.pdf")
    assert_clean(checked)


def test_save_pages_refuses_a_page_that_breaks_the_layout(tmp_path):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("far too small", fontsize=3)
    with pytest.raises(ValueError, match=r"f\.pdf.*far too small"):
        plots.save_pages([fig], tmp_path / "f.pdf")


# --- the checks themselves: each on both sides of its line -----------------------------------

def figure(width=6.0, height=3.0):
    """A figure with one panel that shows a point (a panel that shows nothing is a problem of
    its own), for the tests of each check."""
    fig = plt.figure(figsize=(width, height), layout="none")
    ax = fig.add_axes((0.2, 0.2, 0.7, 0.7))
    ax.scatter([0.5], [0.5])
    return fig, ax


def test_overlapping_texts_are_named_and_neighbours_are_not():
    fig, ax = figure()
    ax.text(0.1, 0.5, "first text", fontsize=10, transform=ax.transAxes)
    ax.text(0.15, 0.5, "second text", fontsize=10, transform=ax.transAxes)
    problems = layout_problems(fig)
    assert any("'first text' overlaps text 'second text'" in p for p in problems), problems
    fig, ax = figure()
    ax.text(0.1, 0.5, "first text", fontsize=10, transform=ax.transAxes)
    ax.text(0.1, 0.2, "second text", fontsize=10, transform=ax.transAxes)
    assert layout_problems(fig) == []


def test_tick_labels_that_collide_are_caught():
    fig, ax = figure()
    ax.set_xticks(range(30), [f"category {k}" for k in range(30)])
    assert any("overlaps" in p for p in layout_problems(fig))


def test_text_outside_the_canvas_is_caught_and_inside_is_not():
    fig, ax = figure()
    ax.text(0.98, 0.5, "runs off the edge", fontsize=10, transform=fig.transFigure)
    assert layout_problems(fig) == ["text 'runs off the edge' runs outside the figure"]
    fig, ax = figure()
    ax.text(0.6, 0.5, "stays inside", fontsize=10, transform=fig.transFigure)
    assert layout_problems(fig) == []


def test_font_size_is_judged_at_the_printed_size():
    # 6.535 in wide: printed at 100 %; 7 pt passes, 6.8 pt does not
    fig, ax = figure(width=figure_checks.TEXTWIDTH_IN)
    ax.set_xticks([0, 1], ["a", "b"], fontsize=7)
    ax.set_yticks([0, 1], ["c", "d"], fontsize=7)
    assert layout_problems(fig) == []
    ax.set_title("small", fontsize=6.8)
    (problem,) = layout_problems(fig)
    assert "6.8 pt print at 6.8 pt" in problem and "'small'" in problem
    # 7 pt in a figure twice the page's width prints at 3.5 pt
    fig, ax = figure(width=2 * figure_checks.TEXTWIDTH_IN)
    ax.set_xticks([0, 1], ["a", "b"], fontsize=7)
    ax.set_yticks([0, 1], ["c", "d"], fontsize=7)
    assert "print at 3.5 pt" in layout_problems(fig)[0]
    # ... and 7 pt in a figure too tall for the page's height cap, too
    fig, ax = figure(width=3, height=2 * figure_checks.PRINTED_HEIGHT_IN)
    ax.set_xticks([0, 1], ["a", "b"], fontsize=7)
    ax.set_yticks([0, 1], ["c", "d"], fontsize=7)
    assert "print at 3.5 pt" in layout_problems(fig)[0]
    # ... while 7 pt at 0.7 of the page's width, for a figure 0.7 wide, passes
    fig, ax = figure(width=0.7 * figure_checks.TEXTWIDTH_IN)
    ax.set_xticks([0, 1], ["a", "b"], fontsize=7)
    ax.set_yticks([0, 1], ["c", "d"], fontsize=7)
    assert layout_problems(fig, printed_width_in=0.7 * figure_checks.TEXTWIDTH_IN) == []
    assert layout_problems(fig, printed_width_in=0.6 * figure_checks.TEXTWIDTH_IN) != []


def test_two_lines_alike_are_caught_and_lines_that_differ_in_one_respect_are_not():
    def lines(*styles):
        fig, ax = figure()
        ax.set_xticks([]), ax.set_yticks([])
        for k, style in enumerate(styles):
            ax.plot([0, 1], [k, k + 1], label=f"line {k}", **style)
        return layout_problems(fig)

    (problem,) = lines({"color": "C0", "linestyle": "--"}, {"color": "C0", "linestyle": "--"})
    assert "'line 0' and 'line 1'" in problem
    assert lines({"color": "C0", "linestyle": "--"}, {"color": "C0", "linestyle": "-"}) == []
    assert lines({"color": "C0"}, {"color": "C1"}) == []
    assert lines({"color": "C0", "marker": "o"}, {"color": "C0", "marker": "s"}) == []


def test_numbers_as_categories_must_be_in_numeric_order():
    fig, ax = figure()
    ax.set_xticks([]), ax.set_yticks(range(3), ["64", "4", "16"])
    (problem,) = layout_problems(fig)
    assert "not in numeric order: 64, 4, 16" in problem
    ax.set_yticks(range(3), ["4", "16", "64"])
    assert layout_problems(fig) == []


def test_model_styles_are_distinct_for_many_models():
    styles = plots.model_styles([str(k) for k in range(60)])
    keys = [(s["color"], s["linestyle"], s.get("marker")) for s in styles.values()]
    assert len(set(keys)) == 60


def test_a_colour_bar_over_a_panel_is_caught_and_one_beside_it_is_not():
    fig, ax = figure()
    ax.set_xticks([]), ax.set_yticks([])
    image = ax.imshow(np.eye(3), aspect="auto")
    fig.colorbar(image, cax=fig.add_axes((0.8, 0.2, 0.05, 0.7)))
    assert any("overlap" in p for p in layout_problems(fig))
    fig, ax = figure()
    ax.set_xticks([]), ax.set_yticks([])
    image = ax.imshow(np.eye(3), aspect="auto")
    fig.colorbar(image, cax=fig.add_axes((0.92, 0.2, 0.03, 0.7)))
    assert layout_problems(fig) == []


def test_a_mathtext_exponent_is_measured_at_its_shrunken_size_and_plain_ticks_avoid_it():
    # printed at its own size (scale 1): 9 pt text passes, its 70 % exponent (6.3 pt) does not
    fig, ax = plt.subplots(figsize=(6.535, 3))
    ax.set_title("plain 9 pt", fontsize=9)
    ax.set_xlabel(r"$10^{-3}$", fontsize=9)
    assert any("6.3" in p for p in layout_problems(fig))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.535, 3), layout="constrained")
    ax.loglog([1e-6, 1e3], [1e-9, 1e9])
    ax.tick_params(labelsize=9)
    fig.canvas.draw()
    assert any("^" in t.get_text() for t in ax.get_xticklabels())  # matplotlib's 10^k
    plots.plain_log_ticks(fig)
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and not any("$" in t for t in ticks) and "10⁻⁶" in ticks
    assert layout_problems(fig) == []
    plt.close(fig)


def test_a_batch_size_figure_without_models_says_so(checked, tmp_path):
    # a study without models that differ only in learning rate and batch size (an own study)
    plots.batch_lr({"models": [], "by_lr": []}, {}, {}, tmp_path / "b.pdf")
    assert_clean(checked)


def test_a_panel_that_draws_nothing_is_caught_and_one_that_says_why_is_not():
    fig = plt.figure(figsize=(6, 3), layout="none")
    ax = fig.add_axes((0.2, 0.2, 0.7, 0.7))
    ax.plot([0, 1], [np.nan, np.nan], label="no finite point")  # data that did not arrive
    ax.set_title("empty")
    (problem,) = layout_problems(fig)
    assert "axes 0 ('empty') draws nothing" in problem
    ax.text(0.5, 0.5, "no runs recorded", transform=ax.transAxes, ha="center")
    assert layout_problems(fig) == []
    ax.texts[0].remove()
    ax.plot([0, 1], [0, 1], color="C1")
    assert layout_problems(fig) == []
    unused = fig.add_axes((0.0, 0.0, 0.1, 0.1))
    unused.set_axis_off()  # the unused end of a grid
    assert layout_problems(fig) == []
