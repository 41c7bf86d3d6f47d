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


def test_the_temperature_is_fitted_on_the_validation_images_only():
    """Fitted on a member's validation answers, it calibrates its test answers; the test labels
    never enter the fit: shuffling them leaves every temperature as it was."""
    val_probs, val_labels = synthetic(n=4000, seed=1)
    test_probs, test_labels = synthetic(n=4000, seed=2)
    # two members sharpened by 1/0.4 and 1/0.5: the temperatures that undo it are 2.5 and 2
    sharp = [(trust.with_temperature(val_probs, t), trust.with_temperature(test_probs, t))
             for t in (0.4, 0.5)]
    val = np.stack([v for v, _ in sharp]), val_labels
    test = np.stack([t for _, t in sharp])
    temperatures, calibrated = trust.validated_temperatures(test, *val)
    assert temperatures == pytest.approx([2.5, 2.0], rel=0.1)
    for member in range(2):
        before = trust.scores(test[member], test_labels)
        after = trust.scores(calibrated[member], test_labels)
        assert after["nll"] < before["nll"] and after["ece"] < before["ece"] / 3
    shuffled = np.random.default_rng(0).permutation(test_labels)
    numbers = trust.model_trust(test, test_labels, np.array([0.5, 0.5]), validation=val)["numbers"]
    again = trust.model_trust(test, shuffled, np.array([0.5, 0.5]), validation=val)["numbers"]
    assert numbers["temperatures"] == again["temperatures"] == temperatures
    # another validation set gives other temperatures: they are read from it
    other = trust.model_trust(test, test_labels, np.array([0.5, 0.5]),
                              validation=(test, test_labels))["numbers"]
    assert other["temperatures"] != numbers["temperatures"]


def test_without_validation_images_nothing_is_fitted_and_nothing_reported_after():
    probs, labels = synthetic(n=2000)
    numbers = trust.model_trust(probs[None], labels, np.array([0.5]))["numbers"]
    assert numbers["temperatures"] is None
    assert numbers["ece_after"] is numbers["nll_after"] is numbers["ece_after_seed_half"] is None
    assert numbers["ece"] == pytest.approx(trust.scores(probs, labels)["ece"])


def test_misclassification_auroc_and_risk_coverage():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.55, 0.45]])
    labels = np.array([0, 0, 1, 1])  # the least confident answer is the wrong one
    assert trust.misclassification_auroc(probs, labels)[0] == 1.0
    assert trust.risk_coverage(probs, labels, np.array([0.25, 0.75, 1.0])).tolist() == [1, 1, 0.75]
    assert np.isnan(trust.misclassification_auroc(probs[:3], labels[:3])[0])  # no mistake at all


def test_run_interval_predicts_one_more_run_or_falls_back_to_the_test_images():
    values = [0.97, 0.98, 0.975]
    low, high, over = trust.run_interval(values, 10000)
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) * np.sqrt(1 + 1 / 3)
    assert (low, high, over) == (pytest.approx(0.975 - half), pytest.approx(0.975 + half), "seeds")
    low, high, over = trust.run_interval([0.98, np.nan], 10000)  # one seed trained
    assert (low, high) == pytest.approx(trust.wilson_interval(0.98, 10000))
    assert over == "test images"


def test_auroc_is_scikit_learns_and_its_delong_interval_agrees_with_a_bootstrap():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    # rounded scores: many ties, which count half on both sides
    pos, neg = np.round(rng.normal(1.0, 1, 400), 1), np.round(rng.normal(0.0, 1, 250), 1)
    auc, low, high = trust.auroc_interval(pos, neg)
    truth = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    assert auc == pytest.approx(roc_auc_score(truth, np.r_[pos, neg]))
    assert low < auc < high

    def u_auc(a, b, axis=-1):
        return stats.mannwhitneyu(a, b, axis=axis).statistic / (a.shape[axis] * b.shape[axis])

    boot = stats.bootstrap((pos, neg), u_auc, n_resamples=2000, vectorized=True,
                           method="percentile", random_state=0)
    assert high - low == pytest.approx(boot.confidence_interval.high - boot.confidence_interval.low,
                                       rel=0.15)


def test_auroc_interval_at_the_edges():
    assert trust.auroc_interval([0.9, 0.8], [0.1, 0.2]) == (1.0, 1.0, 1.0)  # perfect, no spread
    assert all(np.isnan(trust.auroc_interval([0.9], [])))
    assert all(np.isnan(trust.auroc_interval([0.9, np.nan], [0.1])))
    _, low, high = trust.auroc_interval([0.9, 0.3, 0.8], [0.1, 0.5])
    assert 0.0 <= low and high <= 1.0


def test_the_losses_intervals_are_over_the_per_image_values():
    probs, labels = synthetic(n=5000)
    out = trust.scores(probs, labels)
    per_image = -np.log(probs[np.arange(len(labels)), labels])
    assert out["nll"] == pytest.approx(per_image.mean(), rel=1e-6)
    half = stats.t.ppf(0.975, len(labels) - 1) * stats.sem(per_image)
    assert out["nll_image_half"] == pytest.approx(half, rel=1e-6)
    brier = ((probs - np.eye(10)[labels]) ** 2).sum(1)
    assert out["brier"] == pytest.approx(brier.mean(), rel=1e-6)  # scikit-learn's multiclass Brier
    assert out["brier_image_half"] == pytest.approx(
        stats.t.ppf(0.975, len(labels) - 1) * stats.sem(brier), rel=1e-6)


def test_model_trust_gives_each_score_its_spread_over_seeds():
    members = np.stack([synthetic(n=3000, seed=s)[0] for s in range(3)])
    labels = synthetic(n=3000, seed=0)[1]
    numbers = trust.model_trust(members, labels, np.array([0.5, 0.51, 0.49]))["numbers"]
    per_seed = [trust.scores(p, labels)["nll"] for p in members]
    # one estimand per number: the mean over seeds, with the interval of that mean
    assert numbers["nll"] == pytest.approx(np.mean(per_seed))
    assert numbers["nll_seed_half"] == pytest.approx(
        (np.subtract(*trust.seed_interval(per_seed)[::-1])) / 2)
    assert numbers["nll_image_half"] is None  # the first seed's would belong to another value
    one = trust.model_trust(members[:1], labels, np.array([0.5]))["numbers"]
    assert one["nll"] == pytest.approx(per_seed[0])
    assert one["nll_seed_half"] is None and one["misclassification_auroc_image_half"] > 0
    assert one["nll_image_half"] == pytest.approx(trust.scores(members[0], labels)["nll_image_half"])


def test_member_summary_gives_an_image_half_only_to_a_single_member():
    import pandas as pd

    table = pd.DataFrame({"model": ["a", "a", "a", "b"], "seed": [0, 1, 2, 0],
                          "auc_x": [0.9, 0.92, np.nan, 0.7], "auc_x_image_half": [0.01, 0.02, 0.03, 0.05]})
    out = trust.member_summary(table).set_index("model")
    assert out.loc["a", "auc_x"] == pytest.approx(0.91)  # a diverged seed has no value
    half = trust.half_width(trust.seed_interval([0.9, 0.92]))
    assert out.loc["a", "auc_x_seed_half"] == pytest.approx(half)
    assert np.isnan(out.loc["a", "auc_x_image_half"])  # it would describe one seed, not the mean
    assert np.isnan(out.loc["b", "auc_x_seed_half"]) and out.loc["b", "auc_x_image_half"] == 0.05
    assert list(out.index) == ["a", "b"]


def test_only_losses_that_train_probabilities_are_probabilistic_and_the_worst_calibrated_is_one():
    from mnist_study.spec import ModelSpec

    def probabilistic(spec):
        return spec.trains_probabilities()
    assert probabilistic(ModelSpec()) and probabilistic(ModelSpec(output_activation="sigmoid"))
    assert probabilistic(ModelSpec(loss="nll", output_activation="log_softmax"))
    assert probabilistic(ModelSpec(loss="mse", output_activation="softmax"))
    assert not probabilistic(ModelSpec(loss="mse")) and not probabilistic(ModelSpec(loss="nll"))
    spec = {"output_activation": "none", "loss": "cross_entropy"}
    per_model = {"good": {"accuracy": 0.98, "ece": 0.01, "probabilistic": True},
                 "poor": {"accuracy": 0.90, "ece": 0.05, "probabilistic": True},
                 "mse": {"accuracy": 0.95, "ece": 0.70, "probabilistic": False}}
    specs = {"good": spec, "poor": spec, "mse": {"output_activation": "none", "loss": "mse"}}
    shown = trust.telling_models(per_model, specs)
    assert shown[:3] == ["good", "poor"] + ["mse"]  # best, worst calibrated (poor), then unusual
    assert shown.index("poor") == 1
