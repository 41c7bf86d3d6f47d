"""Learning curves over seeds, and the two protocols read from them: the seed's last epoch and
the epoch a seed's validation accuracy chooses."""

import numpy as np
import pandas as pd
import pytest

from mnist_study.evaluate import compare, curves


def history(val=True):
    """Three seeds, 4 epochs: seed 0 peaks on validation at epoch 2 and then drops, seed 1 at
    epoch 4 (its last), seed 2 diverges at epoch 3 (NaN from there)."""
    test = {0: [0.90, 0.95, 0.93, 0.92], 1: [0.91, 0.93, 0.94, 0.96], 2: [0.90, 0.94, np.nan, np.nan]}
    valid = {0: [0.89, 0.96, 0.94, 0.93], 1: [0.90, 0.92, 0.93, 0.97], 2: [0.88, 0.95, np.nan, np.nan]}
    rows = [{"seed": s, "epoch": e + 1, "train_accuracy": 0.99, "test_accuracy": test[s][e],
             **({"val_accuracy": valid[s][e]} if val else {})} for s in test for e in range(4)]
    return pd.DataFrame(rows)


def test_curves_give_each_epoch_the_mean_and_the_range_of_the_seeds_that_answered():
    table = curves.learning_curves(history())
    assert set(table["split"]) == {"train", "val", "test"}
    e3 = table[(table["split"] == "test") & (table["epoch"] == 3)].iloc[0]
    assert e3["n_seeds"] == 2 and e3["mean"] == pytest.approx(0.935)  # the diverged seed is out
    assert (e3["low"], e3["high"]) == (0.93, 0.94)
    assert "val" not in set(curves.learning_curves(history(val=False))["split"])


def test_the_careful_protocol_keeps_each_seeds_best_validation_epoch_and_tests_the_gain():
    choice = curves.validated_choice(history())
    by_seed = {s["seed"]: s for s in choice["seeds"]}
    assert by_seed[0]["epoch"] == 2 and by_seed[0]["chosen_test"] == 0.95 and by_seed[0]["last_test"] == 0.92
    assert by_seed[1]["epoch"] == 4 and by_seed[1]["chosen_test"] == by_seed[1]["last_test"]
    # the diverged seed's best epoch came before it diverged; its last epoch has no accuracy
    assert by_seed[2]["epoch"] == 2 and np.isnan(by_seed[2]["last_test"])
    assert choice["n_not_last"] == 2 and choice["epochs"] == [2, 4]
    # the paired test over the seeds with both values (0 and 1)
    expected = compare.paired([0.92, 0.96], [0.95, 0.96])
    assert choice["test"]["difference"] == pytest.approx(expected["difference"])
    assert choice["test"]["n_a"] == 2
    assert curves.validated_choice(history(val=False)) is None  # no validation: nothing chosen
    assert curves.validated_choice(history().query("epoch == 1")) is None  # one epoch: no choice


def test_the_paired_test_is_scipys_and_plain_where_every_pair_differs_alike():
    from scipy import stats

    a, b = [0.90, 0.92, 0.91, 0.93], [0.91, 0.94, 0.915, 0.95]
    r = compare.paired(a, b)
    assert r["p"] == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert r["difference"] == pytest.approx(np.mean(np.subtract(b, a)))
    assert r["low"] < r["difference"] < r["high"]
    assert compare.paired([0.9, 0.8], [0.9, 0.8])["p"] == 1.0
    # every pair moved by the same amount: nothing to test the mean against, no p invented
    assert compare.paired([0.9, 0.8], [0.925, 0.825]) is None
    with pytest.raises(ValueError, match="two pairs"):
        compare.paired([0.9, np.nan], [0.9, 0.8])


def test_the_learning_curve_figure_draws_every_model_and_passes_the_layout_checks(tmp_path):
    from mnist_study.report import plots

    tables = [curves.learning_curves(history(val=m != "b")).assign(model=m) for m in "abcdefg"]
    labels = {m: f"model {m} with a long label" for m in "abcdefg"}
    out = tmp_path / "curves.pdf"
    plots.learning_curves(pd.concat(tables), labels, out)
    assert out.stat().st_size > 0


def test_the_late_drop_is_the_best_epochs_mean_less_the_last_ones():
    table = curves.learning_curves(history())
    drop = curves.late_drop(table)
    # means over answering seeds: epoch 2 is best (0.94), epoch 4 has seeds 0 and 1 (0.94)
    assert drop["best_epoch"] == 2 and drop["last_epoch"] == 4
    assert drop["drop"] == pytest.approx(0.94 - 0.94)
    rising = curves.learning_curves(history().assign(
        test_accuracy=lambda h: 0.9 + 0.01 * h["epoch"]))
    assert curves.late_drop(rising)["drop"] == 0.0 and curves.late_drop(rising)["best_epoch"] == 4
    one_epoch = curves.learning_curves(history().query("epoch == 1"))
    assert curves.late_drop(one_epoch) is None


def test_the_protocol_tests_are_holm_adjusted_over_the_models():
    protocols = {m: curves.validated_choice(history()) for m in "ab"}
    protocols["c"] = {**protocols["a"], "test": None}  # one seed: no test, not counted
    curves.adjust_protocol_tests(protocols)
    p = protocols["a"]["test"]["p"]
    assert protocols["a"]["test"]["p_adjusted"] == pytest.approx(min(1.0, 2 * p))
