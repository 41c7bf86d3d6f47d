"""Intervals, calibration and knowing what a network does not know, on synthetic data whose
answers are known."""

import numpy as np
import pytest
from scipy import stats

from mnist_study.evaluate import trust


def synthetic(n=20000, sharpness=2.0, seed=0):
    """A 10-class model whose probabilities are calibrated by construction: the label is drawn
    from them."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 10)) * sharpness
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(10, p=p) for p in probs])
    return probs, labels


def test_seed_interval_is_student_t_on_the_seed_means():
    values = [0.97, 0.98, 0.975, 0.982, 0.979]
    low, high = trust.seed_interval(values)
    half = stats.t.ppf(0.975, 4) * np.std(values, ddof=1) / np.sqrt(5)
    assert (low, high) == pytest.approx((np.mean(values) - half, np.mean(values) + half))
    assert trust.seed_interval([0.9]) is None  # one seed: no interval invented


def test_wilson_interval_of_an_accuracy_on_10000_images():
    low, high = trust.wilson_interval(0.98, 10000)
    z = stats.norm.ppf(0.975)
    p, n = 0.98, 10000  # Wilson's formula by hand
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-9)


def test_ece_by_hand_with_empty_bins():
    # two bins used of 15: confidences 0.95 (3 right of 4) and 0.55 (1 right of 2)
    conf = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([1, 1, 1, 0, 1, 0], bool)
    bins = trust.reliability_bins(conf, correct, 15)
    assert bins["count"].sum() == 6 and (bins["count"] > 0).sum() == 2
    assert np.isnan(bins["accuracy"][0])  # an empty bin has no accuracy, not 0
    expected = 4 / 6 * abs(0.75 - 0.95) + 2 / 6 * abs(0.5 - 0.55)
    assert trust.expected_calibration_error(conf, correct) == pytest.approx(expected)
    # the edges: 1.0 falls in the last bin, 0.0 in the first, a value on an edge below it
    edge = trust.reliability_bins(np.array([0.0, 1 / 15, 1.0]), np.ones(3, bool), 15)["count"]
    assert edge[0] == 2 and edge[-1] == 1


def test_a_calibrated_model_has_ece_near_zero_and_an_overconfident_one_does_not():
    probs, labels = synthetic()
    assert trust.scores(probs, labels)["ece"] < 0.015
    overconfident = trust.with_temperature(probs, 0.4)
    assert trust.scores(overconfident, labels)["ece"] > 0.1


def test_temperature_scaling_lowers_the_nll_on_images_it_was_not_fitted_on():
    probs, labels = synthetic()
    overconfident = trust.with_temperature(probs, 0.4)
    fitted = trust.cross_fitted_temperature(overconfident, labels)
    a, b = fitted["folds"]
    assert not set(a) & set(b) and len(a) + len(b) == len(labels)  # disjoint halves
    # sharpened by 1/0.4: the temperature that undoes it is 2.5
    assert all(t == pytest.approx(2.5, rel=0.1) for t in fitted["temperatures"])
    before, after = trust.scores(overconfident, labels), trust.scores(fitted["probs"], labels)
    assert after["nll"] < before["nll"] and after["ece"] < before["ece"] / 3
    # each half is calibrated with the temperature of the other half
    assert np.allclose(fitted["probs"][b], trust.with_temperature(overconfident[b],
                                                                   fitted["temperatures"][0]))


def test_misclassification_auroc_and_risk_coverage():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.55, 0.45]])
    labels = np.array([0, 0, 1, 1])  # the least confident answer is the wrong one
    assert trust.misclassification_auroc(probs, labels) == 1.0
    assert trust.risk_coverage(probs, labels, np.array([0.25, 0.75, 1.0])).tolist() == [1, 1, 0.75]
    assert np.isnan(trust.misclassification_auroc(probs[:3], labels[:3]))  # no mistake at all


def test_run_interval_predicts_one_more_run_or_falls_back_to_the_test_images():
    values = [0.97, 0.98, 0.975]
    low, high, over = trust.run_interval(values, 10000)
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) * np.sqrt(1 + 1 / 3)
    assert (low, high, over) == (pytest.approx(0.975 - half), pytest.approx(0.975 + half), "seeds")
    low, high, over = trust.run_interval([0.98, np.nan], 10000)  # one seed trained
    assert (low, high) == pytest.approx(trust.wilson_interval(0.98, 10000))
    assert over == "test images"
