"""Tests of a difference against independent references: Welch's t from its textbook formula,
McNemar's exact test from the binomial distribution, the paired bootstrap against the normal
approximation of a mean of per-image differences."""

import numpy as np
import pytest
from scipy import stats

from mnist_study.evaluate import compare


def test_welch_matches_the_textbook_formula():
    a = np.array([0.62, 0.70, 0.66, 0.64, 0.69])
    b = np.array([0.88, 0.91, 0.86, 0.90, 0.89, 0.87])
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    t = (b.mean() - a.mean()) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    r = compare.welch(a, b)
    assert r["test"] == "Welch" and r["over"] == "seeds"
    assert r["difference"] == pytest.approx(b.mean() - a.mean())
    assert r["p"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)
    assert (r["low"], r["high"]) == pytest.approx((r["difference"] - half, r["difference"] + half))
    assert compare.significant(r)


def test_welch_on_overlapping_intervals_can_still_find_a_difference():
    # the case: each mean's 95 % interval overlaps the other's, the difference is real
    a = np.array([0.90, 0.92, 0.94, 0.91, 0.93])
    b = a + 0.025
    ci = [stats.t.interval(0.95, 4, loc=x.mean(), scale=stats.sem(x)) for x in (a, b)]
    assert ci[0][1] > ci[1][0]  # the intervals overlap
    assert compare.significant(compare.welch(a, b))


def test_welch_says_no_difference_for_draws_of_one_distribution():
    rng = np.random.default_rng(1)
    r = compare.welch(rng.normal(0.9, 0.01, 5), rng.normal(0.9, 0.01, 5))
    assert not compare.significant(r) and r["low"] < 0 < r["high"]


def test_welch_refuses_one_seed_and_handles_no_spread():
    with pytest.raises(ValueError, match="two runs on each side"):
        compare.welch([0.9], [0.8, 0.85])
    assert compare.welch([0.1, 0.1], [0.1, 0.1])["p"] == 1.0
    assert compare.welch([0.1, 0.1], [0.2, 0.2])["p"] == 0.0


def _answers(n_both, n_only_a, n_only_b, n_neither):
    a = np.array([1] * n_both + [1] * n_only_a + [0] * n_only_b + [0] * n_neither, bool)
    b = np.array([1] * n_both + [0] * n_only_a + [1] * n_only_b + [0] * n_neither, bool)
    return a, b


def test_mcnemar_is_the_exact_binomial_test_on_the_discordant_images():
    a, b = _answers(900, 12, 30, 58)
    r = compare.mcnemar(a, b)
    k, n = 30, 42
    exact = min(1.0, 2 * min(stats.binom.cdf(k, n, 0.5), stats.binom.sf(k - 1, n, 0.5)))
    assert r["p"] == pytest.approx(exact)
    assert (r["only_a"], r["only_b"]) == (12, 30)
    assert r["difference"] == pytest.approx((30 - 12) / 1000)
    assert compare.significant(r)
    same = compare.mcnemar(*_answers(900, 20, 21, 59))
    assert not compare.significant(same)
    assert compare.mcnemar(*_answers(950, 0, 0, 50))["p"] == 1.0


def test_paired_bootstrap_interval_agrees_with_the_normal_approximation():
    a, b = _answers(8000, 300, 450, 1250)
    diff = b.astype(float) - a.astype(float)
    half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff))
    r = compare.mcnemar(a, b, n_boot=4000)
    assert r["low"] == pytest.approx(diff.mean() - half, abs=0.15 * half)
    assert r["high"] == pytest.approx(diff.mean() + half, abs=0.15 * half)


def test_compare_picks_the_test_from_what_varies():
    a, b = _answers(900, 12, 30, 58)
    several = {"accuracies": [0.9, 0.91, 0.92], "correct": a}
    assert compare.compare(several, {"accuracies": [0.95, 0.96], "correct": b})["test"] == "Welch"
    one = compare.compare({"accuracies": [0.912, np.nan], "correct": a},
                          {"accuracies": [0.93], "correct": b})
    assert one["test"] == "McNemar" and one["over"] == "test images"
    with pytest.raises(ValueError, match="nothing to test"):
        compare.compare({"accuracies": [0.9], "correct": None}, {"accuracies": [0.8]})


def test_a_published_number_stands_for_its_rounding_interval():
    assert compare.rounding_interval(0.982) == pytest.approx((0.9815, 0.9825))
    assert compare.rounding_interval(0.98, 3) == pytest.approx((0.9795, 0.9805))
    # the case: our interval reaches 0.98173, the published 0.982 covers 0.9815
    assert compare.agrees_with_published(0.975, 0.98173, 0.982)
    assert not compare.agrees_with_published(0.975, 0.9810, 0.982)
    assert compare.clip_interval(-0.017, 0.31) == (0.0, 0.31)


def test_holm_adjusts_as_its_step_down_definition():
    # worked by hand: sorted 0.01, 0.02, 0.03, 0.2 times 4, 3, 2, 1 -> 0.04, 0.06, 0.06, 0.2
    assert compare.holm([0.03, 0.2, 0.01, 0.02]) == pytest.approx([0.06, 0.2, 0.04, 0.06])
    assert compare.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert compare.holm([]) == []
    # never below the raw p-value, never above 1
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20)
    adj = np.array(compare.holm(p))
    assert (adj >= p - 1e-15).all() and (adj <= 1).all()
