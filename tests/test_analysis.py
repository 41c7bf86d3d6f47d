"""Analyses behind the report's figures: confusion, mistakes, ROC, the scan and its heatmap."""

import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import auc, roc_auc_score

from mnist_study.data import digit_means
from mnist_study.evaluate import analysis, trust
from mnist_study.report import plots
from mnist_study.spec import scan_grid


def one_hot_probs(pred: np.ndarray, confidence: float = 0.9) -> np.ndarray:
    probs = np.full((len(pred), 10), (1 - confidence) / 9)
    probs[np.arange(len(pred)), pred] = confidence
    return probs


@pytest.fixture
def noisy():
    """Probabilities of a decent synthetic classifier on 2,000 balanced samples."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 200)
    logits = rng.normal(size=(len(labels), 10)) + 2.5 * np.eye(10)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return labels, probs


def test_digit_means_average_each_digit_and_count_it():
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = 255
    images[1, 0, 0] = 51
    labels = np.array([3, 3, 5, 5])
    means, counts = digit_means(images, labels)
    assert counts.tolist() == [0, 0, 0, 2, 0, 2, 0, 0, 0, 0]
    assert means[3, 0, 0] == pytest.approx(0.6)
    assert means[5].max() == 0
    assert np.isnan(means[0]).all()  # no image of 0: no average, not a black square


def test_confusion_pools_seeds_and_counts_mistakes():
    labels = np.array([0, 1, 2, 3])
    seed_a = one_hot_probs(np.array([0, 1, 2, 5]))  # 3 -> 5
    seed_b = one_hot_probs(np.array([0, 7, 2, 3]))  # 1 -> 7
    counts = analysis.confusion_counts(labels, np.stack([seed_a, seed_b]))
    assert counts.sum() == 8
    assert counts[3, 5] == 1 and counts[1, 7] == 1 and counts[0, 0] == 2
    off = analysis.mistake_counts(counts)
    assert off.trace() == 0 and off.sum() == 2
    norm = analysis.row_normalize(counts)
    assert norm[3].tolist()[3] == 0.5 and norm[3, 5] == 0.5
    assert np.isnan(norm[9]).all()  # digit absent from the labels


def test_diverged_member_is_wrong_but_no_digit():
    labels = np.array([0, 1, 2])
    good = one_hot_probs(labels)
    bad = np.full_like(good, np.nan)
    probs = np.stack([good, bad])
    counts = analysis.confusion_counts(labels, probs)
    assert counts.sum() == 3  # the NaN member's answers land in no column
    assert analysis.per_digit_error(labels, probs)[:3].tolist() == [0.5, 0.5, 0.5]


def test_per_digit_error_and_confused_pairs():
    labels = np.array([4] * 10 + [9] * 10 + [1] * 10)
    pred = labels.copy()
    pred[:3] = 9   # three 4s called 9
    pred[10] = 4   # one 9 called 4
    err = analysis.per_digit_error(labels, one_hot_probs(pred))
    assert err[4] == pytest.approx(0.3) and err[9] == pytest.approx(0.1) and err[1] == 0
    assert np.isnan(err[0])
    counts = analysis.confusion_counts(labels, one_hot_probs(pred))
    pairs = analysis.confused_pairs(counts, top=5)
    assert pairs.iloc[0][["true", "predicted", "count"]].tolist() == [4, 9, 3]
    assert pairs.iloc[0]["rate"] == pytest.approx(0.3)
    summary = analysis.model_mistakes(counts)
    assert summary["pairs"][0] == {"true": 4, "predicted": 9, "count": 3, "reverse": 1}
    assert summary["hardest_digit"] == 4 and summary["most_given_label"] == 9
    assert summary["n_wrong"] == 4 and summary["n_images"] == 30


def test_confident_mistakes_are_sorted_by_the_wrong_probability():
    labels = np.array([0, 1, 2, 3])
    probs = one_hot_probs(np.array([5, 1, 7, 8]))
    probs[0] = one_hot_probs(np.array([5]), 0.6)[0]
    probs[3] = one_hot_probs(np.array([8]), 0.99)[0]
    top = analysis.confident_mistakes(labels, probs, top=2)
    assert top["index"].tolist() == [3, 2]
    assert top["predicted"].tolist() == [8, 7] and top["true"].tolist() == [3, 2]
    assert top["probability"].iloc[0] == pytest.approx(0.99)


def test_best_and_worst_by_mean_test_accuracy():
    models = pd.DataFrame({"model": ["0", "7", "9"], "test_accuracy_mean": [0.98, 0.25, 0.97]})
    assert analysis.best_and_worst(models) == ("0", "7")


def test_roc_aucs_equal_sklearn_and_curves_are_sane(noisy):
    labels, probs = noisy
    roc = analysis.roc_data(labels, probs)
    onehot = np.eye(10)[labels]
    for d in range(10):
        assert roc["auc"][str(d)] == roc_auc_score(onehot[:, d], probs[:, d])
        fpr, tpr = roc["curves"][str(d)]
        assert fpr[0] == 0 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)
    assert roc["auc"]["micro"] == roc_auc_score(onehot, probs, average="micro")
    # one macro AUC: scikit-learn's, the mean of the per-digit AUCs (its drawn curve's area is close)
    assert roc["auc"]["macro"] == roc_auc_score(onehot, probs, average="macro")
    assert auc(*roc["curves"]["macro"]) == pytest.approx(roc["auc"]["macro"], abs=0.01)
    assert 0.8 < roc["auc"]["micro"] < 1
    assert analysis.macro_auc(labels, probs) == roc["auc"]["macro"]
    # the widest of the digits' DeLong half-widths
    halves = [trust.half_width(trust.auroc_interval(probs[labels == d, d], probs[labels != d, d])[1:])
              for d in range(10)]
    assert roc["widest_half"] == max(halves) > 0


def test_roc_of_diverged_model_is_nan_not_an_error(noisy):
    labels, probs = noisy
    roc = analysis.roc_data(labels, np.full_like(probs, np.nan))
    assert roc["curves"] == {} and np.isnan(roc["auc"]["micro"])


def test_scan_grid_default_contains_the_seeds_best_neighbours():
    grid = scan_grid({"learning_rates": {"start": 1e-5, "stop": 0.1, "num": 8},
                               "hidden_sizes": {"start": 1, "stop": 10000, "num": 8}})
    assert len(grid.learning_rates) == 8 and len(grid.hidden_sizes) == 8
    assert grid.learning_rates[0] == 1e-5 and grid.learning_rates[-1] == 0.1
    assert grid.hidden_sizes[0] == 1 and grid.hidden_sizes[-1] == 10000
    below = max(lr for lr in grid.learning_rates if lr <= 4e-4)
    above = min(lr for lr in grid.learning_rates if lr >= 4e-4)
    assert above / below < 4  # the seed's 4e-4 sits between two adjacent grid values
    assert any(2000 < h < 7131 for h in grid.hidden_sizes) and 10000 in grid.hidden_sizes


def test_scan_grid_drops_duplicate_sizes_from_rounding():
    grid = scan_grid({"learning_rates": {"start": 1e-3, "stop": 1e-3, "num": 1},
                               "hidden_sizes": {"start": 1, "stop": 3, "num": 8}})
    assert grid.hidden_sizes == (1, 2, 3)


def scan_rows():
    lrs = [1e-4, 1e-3, 1e-2]
    acc = {4: [0.5, 0.80, 0.7], 16: [0.7, 0.95, 0.948], 64: [0.8, 0.952, np.nan]}
    rows = {}
    for h, accs in acc.items():
        rows[h] = pd.DataFrame({"seed": 0, "lr": lrs, "train_accuracy": [a + 0.01 for a in accs],
                                "test_accuracy": accs, "diverged": [not np.isfinite(a) for a in accs]})
    rows[64].loc[2, "test_accuracy"] = 0.098  # what argmax over NaN outputs reports
    return rows


def test_scan_table_and_summary_find_the_best_and_its_ties():
    table = analysis.scan_table(scan_rows())
    assert len(table) == 9 and table["diverged"].sum() == 1
    assert np.isnan(table.loc[table["diverged"], "test_accuracy"]).all()
    s = analysis.scan_summary(table, n_test=10000)
    assert s["best"] == {"hidden": 64, "lr": 1e-3, "test_accuracy": 0.952,
                         "train_accuracy": pytest.approx(0.962)}
    assert s["best_interval"] == pytest.approx(trust.wilson_interval(0.952, 10000))
    assert s["best_ties"] == []
    assert s["n_diverged"] == 1 and s["diverged_cells"] == [{"hidden": 64, "lr": 1e-2}]
    # a second cell exactly as accurate is named beside the best, not hidden behind it
    tied = table.copy()
    tied.loc[(tied["hidden"] == 16) & (tied["lr"] == 1e-4), "test_accuracy"] = 0.952
    both = analysis.scan_summary(tied, n_test=10000)
    cells = [{k: both["best"][k] for k in ("hidden", "lr")}, *both["best_ties"]]
    assert sorted(cells, key=lambda c: c["hidden"]) == [{"hidden": 16, "lr": 1e-4},
                                                        {"hidden": 64, "lr": 1e-3}]
    near = analysis.nearest_cell(table, 4e-4, 7131)
    assert (near["hidden"], near["lr"]) == (64, 1e-3)


def test_lin_log_norm_is_linear_below_and_logarithmic_above():
    norm = plots.lin_log_norm(0.9, 0.999)
    # 0 -> 0; 0.9 -> a third (1 of 3 decades' worth); 0.99 -> two thirds; 0.999 -> 1
    assert norm(0.0) == pytest.approx(0.0)
    assert norm(0.45) == pytest.approx(1 / 6)
    assert norm(0.9) == pytest.approx(1 / 3)
    assert norm(0.99) == pytest.approx(2 / 3)
    assert norm(0.999) == pytest.approx(1.0)
    assert np.ma.is_masked(norm(np.array([np.nan]))[0])
    assert norm.inverse(norm(0.995)) == pytest.approx(0.995)


def test_scan_heatmap_marks_each_diverged_cell_and_labels_the_others(tmp_path):
    table = analysis.scan_table(scan_rows())
    out = tmp_path / "scan.pdf"
    plots.scan_heatmaps(table, 0.9, out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    # one "NaN" per diverged cell in each of the two panels, and every other cell's accuracy
    assert text.split().count("NaN") == 2 * int(table["diverged"].sum()) == 2
    for split in ("train", "test"):
        for value in table.loc[~table["diverged"], f"{split}_accuracy"]:
            assert f"{value:.3f}" in text.split()


def test_batch_lr_picks_the_models_that_differ_only_in_lr_and_batch():
    models = pd.DataFrame({
        "model": ["0", "1", "2", "3", "4", "5"], "label": ["0", "1", "2", "3", "4", "5"],
        "lr": [1e-3, 1e-3, 0.1, 0.1, 0.1, 1e-3], "batch_size": [64, 256, 64, 256, 16, 256],
        "architecture": ["784-784-10"] * 5 + ["784-10-10"], "output_activation": "none",
        "loss": "cross_entropy", "epochs": 10, "dropout": 0.0, "schedule": "constant",
        "validation": False})
    group = analysis.batch_lr_models(models)
    assert sorted(group["model"]) == ["0", "1", "2", "3", "4"]
    # a twin that holds validation images out trains on fewer: not one of the group
    twin = pd.concat([models, models.iloc[[1]].assign(model="1v", validation=True)])
    assert sorted(analysis.batch_lr_models(twin)["model"]) == ["0", "1", "2", "3", "4"]
    acc = {"0": [0.98, 0.981], "1": [0.982, 0.98], "2": [0.7, 0.72], "3": [0.91, 0.92], "4": [0.4, 0.45]}
    metrics = {m: pd.DataFrame({"test_accuracy": a, "diverged": False}) for m, a in acc.items()}
    answers = {m: {"accuracies": a, "correct": None} for m, a in acc.items()}
    f = analysis.batch_lr_findings(group, metrics, answers, n_train=60000)
    low, high = f["by_lr"]
    assert [p["batch_size"] for p in high["points"]] == [16, 64, 256]
    assert high["increasing"] and high["change"] == pytest.approx(0.915 - 0.425)
    # tested, not eyeballed: Welch's t over the seeds of batch 16 and batch 256
    assert high["test"]["test"] == "Welch" and high["significant"]
    assert not low["significant"]
    # at equal epochs batch 16 takes 16 times the steps of batch 256 (3750 against 235 per epoch)
    assert high["steps_ratio"] == pytest.approx(3750 / 235)
    json.dumps(f)  # what the report reads must be plain JSON


def test_where_each_diverged_seed_stopped_is_kept_as_numbers():
    from mnist_study.evaluate import findings
    from mnist_study.report.document import model_rows

    metrics = pd.DataFrame({"seed": [0, 1, 2], "diverged": [True, False, True],
                            "diverged_at_epoch": [1, None, 3], "diverged_at_step": [12, None, 250]})
    at = findings.divergences(metrics)
    assert at == [{"seed": 0, "epoch": 1, "step": 12}, {"seed": 2, "epoch": 3, "step": 250}]
    assert findings.divergences(metrics.assign(diverged=False)) == []
    # the report words them
    from mnist_study.evaluate.tables import model_table
    from mnist_study.spec import resolve_models

    table = model_table(resolve_models({"models": {"m": {"seeds": [0, 1, 2]}}}),
                        {"m": metrics.assign(lr=0.1, train_accuracy=0.9, test_accuracy=0.8,
                                             train_loss=0.3, test_loss=0.4)})
    (r,) = model_rows(table, {"models": {"m": {"diverged_at": at}}}, 10000)
    assert r["diverged"] == 2
    assert r["diverged_at"] == "seed 0 at epoch 1, step 12; seed 2 at epoch 3, step 250"
