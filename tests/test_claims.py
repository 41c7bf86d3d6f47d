"""Every conclusion the report can draw, on data on both sides of its decision
(mnist_study.report.claims), and the findings it is drawn from (mnist_study.evaluate.findings)."""

import numpy as np
import pandas as pd
import pytest
from conftest import as_read

from mnist_study.evaluate import compare, findings
from mnist_study.report import claims

LABELS = {"a": "A", "b": "B"}


def _claim(expect, difference, p, differs=("architecture",), steps_ratio=1.0):
    result = {"test": "Welch", "difference": difference, "low": difference - 0.01,
              "high": difference + 0.01, "p": p, "over": "seeds", "level": 0.95}
    return {"a": "a", "b": "b", "expect": expect, "result": result, "differs": list(differs),
            "steps_ratio": steps_ratio}


def _answers(accuracies, correct=None, shares=(0.12,)):
    return {"accuracies": accuracies, "correct": correct, "majority_shares": list(shares),
            "digest": str(accuracies)}


ROWS = {m: {"family": "mlp", "architecture": "784-784-10", "activation": "relu",
            "output_activation": "none", "loss": "cross_entropy", "lr": 1e-3, "batch_size": 64,
            "epochs": 10, "dropout": 0.0, "schedule": "constant"} for m in ("a", "b")}


@pytest.mark.parametrize("expect,accuracies_b,verdict", [
    ("worse", [0.80, 0.81, 0.79], "supported"),
    ("worse", [0.98, 0.99, 0.985], "contradicted"),
    ("worse", [0.90, 0.91, 0.89], "not shown"),
    ("better", [0.98, 0.99, 0.985], "supported"),
    ("same", [0.90, 0.91, 0.89], "not contradicted"),
    ("same", [0.80, 0.81, 0.79], "contradicted"),
])
def test_a_claim_verdict_follows_its_test(expect, accuracies_b, verdict):
    answers = {"a": _answers([0.90, 0.905, 0.895]), "b": _answers(accuracies_b)}
    c = findings.tested_claim({"a": "a", "b": "b", "expect": expect}, ROWS, answers, 60000)
    assert c["verdict"] == verdict and c["result"]["test"] == "Welch"
    sentence = claims.claim_sentence(c, LABELS)
    word = {"supported": "holds", "contradicted": "contradicted", "not shown": "not shown",
            "not contradicted": "No difference"}[verdict]
    assert word in sentence and "Welch" in sentence


def test_a_claim_on_a_model_that_did_not_train_is_untestable():
    c = findings.tested_claim({"a": "a", "b": "b", "expect": "worse"}, ROWS,
                              {"a": _answers([0.9, 0.91])}, 60000)
    assert c["verdict"] == "untestable"
    assert "cannot be tested" in claims.claim_sentence(c, LABELS)


def test_a_batch_size_comparison_names_the_step_count_confound():
    note = as_read(claims.confounds(
        _claim("better", 0.05, 0.01, differs=["batch_size"], steps_ratio=4.0), LABELS))
    assert "4.0 times the optimizer steps" in note and "not separated" in note
    assert claims.confounds(_claim("better", 0.05, 0.01, differs=["loss"]), LABELS) == ""
    # a family comparison whose step counts agree (ratio 0.998) is confounded by everything
    # else that differs, and not by steps
    family = as_read(claims.confounds(_claim(
        "better", 0.05, 0.01, differs=["family", "lr", "batch_size", "epochs", "schedule"],
        steps_ratio=0.998), LABELS))
    assert "optimizer steps" not in family
    assert ("differ in family, learning rate, batch size, number of epochs and learning-rate "
            "schedule, which this comparison cannot separate") in family


def test_reproduction_accounts_for_rounding_and_a_reduced_run():
    # the case: a run interval reaching 0.98173 meets the 0.982 the seed printed
    consistent = findings.reproduction([0.979, 0.980, 0.9805, 0.9795, 0.9800], 0.982, 10000, True)
    assert consistent["published_low"] == pytest.approx(0.9815)
    far = findings.reproduction([0.90, 0.91, 0.905], 0.982, 10000, True)
    assert far["verdict"] == "below" or far["verdict"] == "above"
    assert far["verdict"] == "above"  # the published value lies above every run of ours
    assert findings.reproduction([0.90, 0.91], 0.982, 10000, False)["verdict"] == "not comparable"
    # one run of ours: its interval over the test images leaves out another training run, so
    # no verdict, whether the published value lies inside it or far outside
    for published in (0.9805, 0.95):
        one = findings.reproduction([0.98], published, 10000, True)
        assert one["verdict"] == "one seed" and one["over"] == "test images"
        assert "one run cannot decide" in claims.reproduction_sentence("m", one)
    clipped = findings.reproduction([0.02, 0.30, 0.05], 0.2, 10000, True)
    assert clipped["low"] == 0.0  # an accuracy cannot be negative
    assert "not comparable" in claims.reproduction_sentence(
        "m", findings.reproduction([0.9, 0.91], 0.982, 10000, False))


def test_a_model_that_validates_is_no_reproduction_of_a_published_value():
    """It trained on fewer images than the seed: no verdict against the published number, and
    the sentence says why; the same spec on every image is compared."""
    import pandas as pd

    rows = [{**ROWS["a"], "model": m, "published_test": 0.982, "validation": v}
            for m, v in (("a", False), ("b", True))]
    answers = {m: _answers([0.979, 0.980, 0.9805]) for m in "ab"}
    found = findings.study_findings(pd.DataFrame(rows), answers, [], 10000, 60000, comparable=True)
    kept, held = found["models"]["a"]["reproduction"], found["models"]["b"]["reproduction"]
    assert kept["verdict"] == "consistent" and "why" not in kept
    assert held["verdict"] == "not comparable" and held["why"] == "validation"
    assert "held training images out to validate on" in claims.reproduction_sentence("b", held)
    reduced = findings.study_findings(pd.DataFrame(rows), answers, [], 10000, 60000,
                                      comparable=False)["models"]["a"]["reproduction"]
    assert reduced["why"] == "reduced run"
    assert "this reduced run" in claims.reproduction_sentence("a", reduced)


def test_a_model_that_answers_one_class_is_degenerate_and_named():
    assert findings.degenerate(_answers([0.1], shares=[1.0, 0.95])) == "one class"
    # most seeds constant, one seed not (the model 7): still one class
    assert findings.degenerate(_answers([0.1], shares=[1.0, 1.0, 1.0, 1.0, 0.8])) == "one class"
    assert findings.degenerate(_answers([0.9], shares=[0.13, 0.95, 0.2])) is None
    assert findings.degenerate(_answers([float("nan")], shares=[])) == "diverged"
    note = claims.degenerate_note({"a": {"degenerate": "one class"}, "b": {"degenerate": None}},
                                  LABELS, 0.9)
    assert "Model A gives one label" in note and "B" not in note
    assert "in most of its seeds" in note
    assert claims.degenerate_note({"b": {"degenerate": None}}, LABELS, 0.9) == ""


def test_a_working_model_with_a_one_class_seed_is_named_with_it():
    # the default study's model 7: seed 0 gives label 1 to every image, seeds 1-4 work
    answers = _answers([0.11, 0.27, 0.3, 0.29, 0.31], shares=[1.0, 0.5, 0.46, 0.48, 0.47])
    assert findings.degenerate(answers) is None and findings.one_class_seeds(answers) == 1
    note = claims.degenerate_note({"a": {"degenerate": None, "one_class_seeds": 1,
                                         "n_answering": 5, "first_seed_one_class": True}},
                                  LABELS, 0.9)
    assert note.startswith("In model A, 1 of 5 seeds gives one label") and "next seed that works" in note
    clean = {"a": {"degenerate": None, "one_class_seeds": 0, "n_answering": 5,
                   "first_seed_one_class": False}}
    assert claims.degenerate_note(clean, LABELS, 0.9) == ""
    # a claim on such a model says the test counts that seed in
    said = claims.confounds(_claim("worse", -0.05, 0.2, differs=["output_activation"])
                            | {"one_class_seeds": {"a": [1, 5]}}, LABELS)
    assert "1 of the 5 seeds of model A gives one label" in said


def test_identical_answers_are_grouped_and_the_same_loss_explains_them():
    probs = np.random.default_rng(0).dirichlet(np.ones(10), size=(2, 50))
    labels = np.arange(50) % 10
    a = findings.model_answers(probs, labels, [0.1, 0.1])
    b = findings.model_answers(probs * (1 + 1e-7), labels, [0.1, 0.1])  # last bits differ
    c = findings.model_answers(probs[::-1], labels, [0.1, 0.1])
    assert findings.identical_groups({"x": a, "y": b, "z": c}) == [["x", "y"]]
    nll = {**ROWS["a"], "loss": "nll", "output_activation": "log_softmax"}
    assert findings.same_training(ROWS["a"], nll)
    assert not findings.same_training(ROWS["a"], {**nll, "output_activation": "none"})
    same = claims.identical_note([{"models": ["a", "b"], "same_training": True}], LABELS)
    assert "same function" in same
    other = claims.identical_note([{"models": ["a", "b"], "same_training": False}], LABELS)
    assert "coincidence" in other


def test_ties_name_every_tied_digit():
    assert as_read(claims.extreme_digits({"3": 0.04, "5": 0.04, "1": 0.01})) == \
        "digits 3 and 5 are the hardest (each 4.0\\%) and digit 1 the easiest (1.0\\%)"
    assert as_read(claims.extreme_digits({"3": 0.05, "5": 0.04, "1": 0.01})).startswith(
        "digit 3 is the hardest (5.0\\%)")


def test_a_temperature_at_its_search_bound_is_a_bound():
    assert as_read(claims.temperature_text(20.0, 0.05, 20.0)) == "$\\geq$20"
    assert as_read(claims.temperature_text(0.05, 0.05, 20.0)) == "$\\leq$0.05"
    assert as_read(claims.temperature_text(1.37, 0.05, 20.0)) == "1.37"


def test_the_border_stays_only_where_its_pixels_moved():
    model = {"never_used_moved": 1.0, "logit_from_never_used": 0.63}
    moved = {"never_used_moved": 0.999, "logit_from_never_used": 0.04}
    still = {"never_used_moved": 0.0, "logit_from_never_used": 0.0}
    assert "the frame stays" in claims.border_control_sentence(model, moved, "with weight decay")
    assert "the frame disappears" in claims.border_control_sentence(model, still, "with cuts")


def test_a_batch_size_sentence_reports_the_test_not_the_overlap():
    points = [{"label": "4", "batch_size": 16, "n_seeds": 5, "test_accuracy_mean": 0.4,
               "test_accuracy_min": 0.3, "test_accuracy_max": 0.5, "n_diverged": 0},
              {"label": "3", "batch_size": 256, "n_seeds": 5, "test_accuracy_mean": 0.9,
               "test_accuracy_min": 0.88, "test_accuracy_max": 0.92, "n_diverged": 0}]
    test = compare.welch([0.3, 0.4, 0.5, 0.4, 0.4], [0.88, 0.9, 0.92, 0.9, 0.9])
    found = claims.batch_lr_sentence({"lr": 0.1, "points": points, "test": test,
                                      "significant": True, "steps_ratio": 16.0})
    # the difference with its test, and no verdict of its own: the claims' (Holm-adjusted)
    # verdicts on these pairs are the one decision
    assert "Welch" in found and "not adjusted" in found and "16.0 times" in as_read(found)
    assert "a difference" not in found and "no difference" not in found
    none = claims.batch_lr_sentence({"lr": 0.1, "points": points, "test": test,
                                     "significant": False, "steps_ratio": 1.0})
    assert "steps" not in none


def test_the_study_conclusions_count_verdicts_and_name_the_best_model():
    table = pd.DataFrame([{"model": "a", "label": "A", "n_seeds": 3, "test_accuracy_mean": 0.9,
                           "test_accuracy_ci_low": 0.89, "test_accuracy_ci_high": 0.91,
                           "validation": True},
                          {"model": "b", "label": "B", "n_seeds": 1, "test_accuracy_mean": 0.8,
                           "test_accuracy_ci_low": np.nan, "test_accuracy_ci_high": np.nan,
                           "validation": False}])
    found = {"claims": [{**_claim("worse", -0.1, 0.001), "verdict": "supported"},
                        {**_claim("same", -0.1, 0.001), "verdict": "contradicted"}],
             "families": {"best": "a", "by_family": {}}, "models": {}, "identical": [],
             "one_class_share": 0.9, "reduced": [], "n_test": 10000}
    out = claims.study_conclusions(found, LABELS, table)
    assert (out["n_holds"], out["n_contradicted"], out["n_open"]) == (1, 1, 0)
    assert out["best"]["label"] == "A" and "0.8900--0.9100" in as_read(out["best"]["interval"])
    assert any("has one seed" in x for x in out["limitations"])
    # the model without validation images is named: nothing was fitted or chosen for it
    assert any("1 model (B) trains on every training image" in as_read(x) for x in out["limitations"])
    validating = claims.study_conclusions(found, LABELS, table.assign(validation=True))
    assert not any("every training image" in x for x in validating["limitations"])
    assert not any("reduced run" in x for x in out["limitations"])
    reduced = claims.study_conclusions({**found, "reduced": ["3,000 of the 60,000 training images"]},
                                       LABELS, table)
    assert any("reduced run" in x for x in reduced["limitations"])


def test_the_reproduction_summary_counts_each_verdict():
    base = {"n": 5, "consistent": 3, "below": 1, "above": 1, "one seed": 0, "not comparable": 0}
    assert claims.reproduction_summary(base) == (
        "Of the 5 published test accuracies, 3 are consistent with a run of ours, 1 lies below "
        "the runs we would expect and 1 lies above the runs we would expect.")
    assert "not compared" in claims.reproduction_summary({**base, "not comparable": 5})
    assert claims.reproduction_summary({**base, "consistent": 1, "below": 0, "above": 0, "n": 1}) \
        == "Of the 1 published test accuracy, 1 is consistent with a run of ours."
    assert claims.reproduction_summary({**base, "n": 6, "one seed": 1}).endswith(
        "and 1 is not decided (one seed of ours, which cannot show where another run would land).")


def test_a_model_that_answers_one_class_is_tested_and_an_identical_pair_is_not():
    # one label for every image is what a claim of poor performance is about: tested, and the
    # sentence says how many seeds the test counts in
    answers = {"a": _answers([0.90, 0.905, 0.895]), "b": _answers([0.1, 0.11], shares=[1.0, 1.0])}
    c = findings.tested_claim({"a": "a", "b": "b", "expect": "worse"}, ROWS, answers, 60000)
    assert c["verdict"] == "supported" and c["one_class_seeds"] == {"b": [2, 2]}
    assert "2 of the 2 seeds of model B give one label" in claims.claim_sentence(c, {"a": "A", "b": "B"})
    diverged = {**answers, "b": _answers([float("nan")] * 2, shares=[])}
    c = findings.tested_claim({"a": "a", "b": "b", "expect": "worse"}, ROWS, diverged, 60000)
    assert c["verdict"] == "untestable" and c["why"] == {"reason": "diverged", "model": "b"}
    same = {"a": _answers([0.9, 0.91]), "b": _answers([0.9, 0.91])}  # same digest
    c = findings.tested_claim({"a": "a", "b": "b", "expect": "same"}, ROWS, same, 60000)
    assert c["verdict"] == "untestable" and c["why"] == {"reason": "same answers", "model": None}
    assert claims.glance_row(c, {}, "q", "s")["test"] == (
        "the two give the same answer to every test image in every seed")
    # every reason the analysis may give has its words
    assert set(claims.UNTESTABLE_WORDS) == set(findings.UNTESTABLE_REASONS)


def test_verdicts_rest_on_holm_adjusted_p_values():
    rows = {m: ROWS["a"] for m in "abc"}
    answers = {"a": _answers([0.900, 0.905, 0.895]), "b": _answers([0.890, 0.893, 0.886]),
               "c": _answers([0.8901, 0.8931, 0.8861])}
    alone = findings.tested_claim({"a": "a", "b": "b", "expect": "worse"}, rows, answers, 60000)
    assert alone["result"]["p"] < 0.05 and alone["verdict"] == "supported"
    # two such claims at once: Holm doubles the smaller p-value, past 0.05, and neither holds
    tested = findings.tested_claims([{"a": "a", "b": "b", "expect": "worse"},
                                     {"a": "a", "b": "c", "expect": "worse"}], rows, answers, 60000)
    ps = sorted(c["result"]["p"] for c in tested)
    assert min(c["result"]["p_adjusted"] for c in tested) == pytest.approx(2 * ps[0])
    assert [c["verdict"] for c in tested] == ["not shown", "not shown"]


def test_the_best_model_names_the_models_a_test_cannot_tell_from_it():
    assert claims.best_ties([], LABELS) == ""
    one = claims.best_ties(["b"], LABELS)
    assert "does not tell it apart from model B" in one
    many = claims.best_ties(list("abcdef"), {}, most=4)
    assert "models a, b, c, d and 2 more" in many
    rows = {m: ROWS["a"] for m in "abc"}
    answers = {"a": _answers([0.95, 0.951, 0.949]), "b": _answers([0.9495, 0.9505, 0.9485]),
               "c": _answers([0.80, 0.81, 0.79])}
    fam = findings.family_bests(rows, answers, list(answers), 60000)
    assert fam["best"] == "a" and fam["not_told_apart"] == ["b"]


def test_the_calibration_sentence_counts_each_side_and_the_bound():
    row = {"temperature_bounds": [0.05, 20.0], "ece": 0.05, "ece_after": 0.01}
    models = {"a": {**row, "label": "A", "temperatures": [1.5, 1.7]},
              "b": {**row, "label": "B", "temperatures": [0.8, 0.9]},
              "c": {**row, "label": "C", "temperatures": [20.0, 3.0], "ece_after": 0.06}}
    text = claims.calibration_sentence(models)
    # the fit at the bound (c) is counted apart, not as over-confident
    assert "Of the 3 models with a fitted temperature, 1 was over-confident" in text
    assert "1 under-confident" in text and "no temperature" not in text
    assert "lower mean test ECE for 2 and a higher one for C" in text and "For 1 the fit stopped" in text
    calm = claims.calibration_sentence({"a": {**row, "label": "A", "temperatures": [1.5, 1.7]}})
    assert "1 was over-confident" in calm and "stopped" not in calm
    # one seed below 1 and one above: neither side
    mixed = claims.calibration_sentence({"a": {**row, "label": "A", "temperatures": [0.9, 1.7]}})
    assert "0 were over-confident" in mixed and "0 under-confident" in mixed
    # a model that gives one label to nearly every image is no part of the count
    once = claims.calibration_sentence(models, repeats=["b"])
    assert "Of the 2 models with a fitted temperature (models with the same answers counted once)" in once
    without = claims.calibration_sentence(models, left_out=["c"])
    assert "Of the 2 models with a fitted temperature that do not give one label" in without
    assert "stopped" not in without


def test_models_without_validation_images_are_counted_apart_and_never_fitted():
    row = {"temperature_bounds": [0.05, 20.0], "ece": 0.05, "ece_after": 0.01}
    seed_protocol = {"temperature_bounds": [0.05, 20.0], "ece": 0.05, "ece_after": None,
                     "temperatures": None}
    both = claims.calibration_sentence({"a": {**row, "label": "A", "temperatures": [1.5, 1.7]},
                                        "s": {**seed_protocol, "label": "S"},
                                        "t": {**seed_protocol, "label": "T"}})
    assert as_read(both).startswith("Of the 3 models, 2 trained on every training image (they have no "
                                    "validation images)")
    assert "Of the 1 model with a fitted temperature, 1 was over-confident" in both
    alone = claims.calibration_sentence({"s": {**seed_protocol, "label": "S"}})
    assert as_read(alone) == ("Of the 1 model, 1 trained on every training image (it has no "
                              "validation images) and so no temperature.")



def test_the_conclusion_lists_the_claims_by_verdict():
    table = pd.DataFrame([{"model": "a", "label": "A", "n_seeds": 3, "test_accuracy_mean": 0.9,
                           "test_accuracy_ci_low": 0.89, "test_accuracy_ci_high": 0.91,
                           "validation": True}])
    found = {"claims": [{**_claim("worse", -0.1, 0.001), "verdict": "supported", "says": "x"},
                        {**_claim("same", -0.1, 0.001), "verdict": "contradicted", "says": "y"},
                        {**_claim("worse", 0.0, 0.5), "verdict": "not shown", "says": "z"}],
             "families": {"best": "a", "by_family": {}}, "models": {}, "identical": [],
             "one_class_share": 0.9, "reduced": [], "n_test": 10000}
    out = claims.study_conclusions(found, LABELS, table)
    assert [q[:3] for q in out["by_verdict"]["supported"]] == ["``x"]
    assert [q[:3] for q in out["by_verdict"]["contradicted"]] == ["``y"]


def test_no_verdict_rests_on_one_seed():
    """One seed on a side: McNemar's test of the two networks is described, not decided, and it
    takes no part in Holm's adjustment of the claims that are decided."""
    rng = np.random.default_rng(0)
    correct_a, correct_b = rng.random(10000) < 0.98, rng.random(10000) < 0.90
    answers = {"a": _answers([0.98], correct=correct_a),
               "b": _answers([0.90, 0.91, 0.89], correct=correct_b),
               "c": _answers([0.97, 0.975, 0.972]), "d": _answers([0.90, 0.905, 0.895])}
    rows = {m: ROWS["a"] for m in "abcd"}
    out = findings.tested_claims([{"a": "a", "b": "b", "expect": "worse"},
                                  {"a": "c", "b": "d", "expect": "worse"}], rows, answers, 60000)
    single, seeded = out
    assert single["verdict"] == "untestable" and single["why"] == {"reason": "one seed", "model": "a"}
    assert single["result"]["test"] == "McNemar" and single["result"]["p"] < 1e-6
    assert "p_adjusted" not in single["result"]
    sentence = as_read(claims.claim_sentence(single, LABELS))
    assert "cannot be tested here: model" in sentence and "has one seed" in sentence
    assert "differ by" in sentence and "not adjusted" in sentence
    # the seeded claim is decided, adjusted over the one tested claim only (p unchanged)
    assert seeded["verdict"] == "supported"
    assert seeded["result"]["p_adjusted"] == pytest.approx(seeded["result"]["p"])


def test_the_hardest_digit_follows_the_typical_model_and_counts_name_every_tie():
    from mnist_study.evaluate import analysis

    # three models that work, hardest on digit 9, and one that fails on digit 5: a mean over
    # the four would call 5 the hardest; the median does not
    rows = {"a": [0.01] * 9 + [0.05], "b": [0.01] * 9 + [0.04], "c": [0.02] * 9 + [0.06],
            "broken": [0.1] * 5 + [0.99] + [0.1] * 4}
    errors = pd.DataFrame.from_dict(rows, orient="index", columns=range(10))
    counts = {m: np.eye(10, dtype=int) * 100 for m in rows}
    h = analysis.hardest_digits(errors, counts, np.eye(10))
    assert errors.mean(0).idxmax() == 5 and h["hardest_digit"] == 9
    assert h["most_often_hardest"] == [9] and h["n_models_hardest"]["9"] == 3
    assert claims.hardest_counts(h["n_models_hardest"], h["most_often_hardest"], 4) == \
        "digit 9 is the single hardest digit of 3 of the 4 models"
    assert claims.hardest_counts({"5": 2, "9": 2}, [5, 9], 4) == \
        "digits 5 and 9 are each the single hardest digit of 2 of the 4 models"


def test_a_detector_worse_than_guessing_is_named_only_where_the_adjusted_test_says_so():
    from scipy import stats

    from mnist_study.evaluate import trust

    rows = []
    # the default study's fast CNN: mean 0.39, seeds spread 0.2-0.6: not shown below 0.5
    for seed, auc in enumerate([0.20, 0.30, 0.40, 0.45, 0.60]):
        rows.append({"model": "cnn", "seed": seed, "auc_gaussian": auc, "auc_gaussian_image_half": 0.02})
    for seed, auc in enumerate([0.18, 0.19, 0.20, 0.19, 0.18]):  # model 6: clearly below
        rows.append({"model": "six", "seed": seed, "auc_gaussian": auc, "auc_gaussian_image_half": 0.02})
    rows.append({"model": "one", "seed": 0, "auc_gaussian": 0.45, "auc_gaussian_image_half": 0.049})
    tested = trust.below_chance(pd.DataFrame(rows), ["gaussian"])
    assert tested["six"]["gaussian"]["below"] and not tested["cnn"]["gaussian"]["below"]
    # one seed: DeLong's normal test; 0.45 with a half-width of 0.049 is p = 0.045 alone, but
    # Holm over the 3 pairs lifts it past 0.05
    one = tested["one"]["gaussian"]
    assert one["p"] == pytest.approx(2 * stats.norm.sf(0.05 / (0.049 / stats.norm.ppf(0.975))))
    assert one["p"] < 0.05 < one["p_adjusted"] and not one["below"]
    assert tested["cnn"]["gaussian"]["p"] == pytest.approx(
        stats.ttest_1samp([0.20, 0.30, 0.40, 0.45, 0.60], 0.5).pvalue)

    def model(label, m):
        d = {**tested[m]["gaussian"]}
        return {"label": label, "ood": {"gaussian": {"auc": d["auc"], **{
            f"{k}_chance": v for k, v in d.items() if k != "auc"}}}}
    models = {"cnn": model("fast CNN", "cnn"), "six": model("6", "six"), "one": model("one seed", "one")}
    text = as_read(claims.worse_than_chance(models, list(models), n_tests=3))
    assert "model 6 on Gaussian noise (AUC 18.8, Holm-adjusted $p < 0.0001$)" in text
    assert "Holm-adjusted over the 3 model and set pairs" in text
    assert "fast CNN" not in text and "one seed" not in text
    # with what the responses measured beside it: surer answers, from longer outputs
    models["six"]["ood"]["gaussian"].update(msp=0.98, norm=30.0)
    models["six"]["mnist"] = {"msp": 0.95, "norm": 12.0}
    assert ("mean largest probability 0.980 on them against 0.950 on the test images, from "
            "outputs 2.5 times as long)") in as_read(claims.worse_than_chance(models, list(models)))
    assert claims.worse_than_chance(models, list(models), left_out=["six"]).startswith(
        "No model's confidence separates")


def test_the_network_shown_for_a_model_is_its_first_working_seed():
    rng = np.random.default_rng(0)
    working = rng.dirichlet(np.ones(10), size=200)
    dead = np.zeros((200, 10))
    dead[:, 1] = 1.0  # label 1 for every image: the default study's model 7, seed 0
    diverged = np.full((200, 10), np.nan)
    assert findings.shown_member(np.stack([dead, working, working])) == 1
    assert findings.shown_member(np.stack([diverged, dead, working])) == 2
    assert findings.shown_member(np.stack([working, dead])) == 0
    assert findings.shown_member(np.stack([diverged, dead])) == 1  # none works: the first answering
    assert findings.shown_member(np.stack([diverged])) == 0


def test_answers_decided_by_a_tie_break_are_counted_and_said():
    probs = np.full((2, 4, 10), 0.01)
    probs[:, :, 3] = 0.9
    probs[0, :2, 8] = 0.9  # seed 0: two images where labels 3 and 8 share the top
    a = findings.model_answers(probs, np.array([3, 8, 3, 3]), [1.0, 1.0])
    assert a["tied_top"] == [2, 0]
    note = as_read(claims.tie_note({"a": {"tied_top": a["tied_top"]}, "b": {"tied_top": [0, 0]}},
                                   LABELS, 4))
    assert note.startswith("On 2 of the 4 test images (in 1 of its 2 seeds), two or more labels "
                           "share model A's top probability") and "model B" not in note
    assert claims.tie_note({"b": {"tied_top": [0, 0]}}, LABELS, 4) == ""


def test_a_published_value_outside_the_prediction_interval_is_not_blamed_on_seed_spread():
    # model 6 of the default study: seeds 0.842-0.894, published 0.784 below the interval of one
    # more run, which already holds that spread: the spread explains nothing here
    row = {"test_accuracy_min": 0.842, "test_accuracy_max": 0.894, "test_accuracy_mean": 0.874,
           "n_seeds": 5, "n_diverged": 0, "output_activation": "none"}
    rep = findings.reproduction([0.842, 0.86, 0.874, 0.88, 0.894], 0.784, 10000, True)
    assert rep["verdict"] == "below"
    text = claims.deviation_hypotheses(row, rep, 10000)
    assert text.startswith("Possible reasons (hypotheses") and "wide distribution" not in text
    assert claims.deviation_hypotheses(row, {**rep, "verdict": "consistent"}, 10000) == ""
    sigmoid = claims.deviation_hypotheses({**row, "output_activation": "sigmoid"}, rep, 10000)
    assert "sigmoid output" in sigmoid


def test_the_late_drop_sentence_names_the_largest_fall_or_says_none():
    drops = {"a": {"best_epoch": 9, "best": 0.9807, "last_epoch": 10, "last": 0.9699, "drop": 0.0108},
             "b": {"best_epoch": 10, "best": 0.98, "last_epoch": 10, "last": 0.98, "drop": 0.0},
             "c": {"best_epoch": 3, "best": 0.5, "last_epoch": 10, "last": 0.1, "drop": 0.4}}
    text = as_read(claims.late_drop_sentence(drops, LABELS, left_out=["c"]))
    assert text.startswith("For 1 of the 2 models trained for more than one epoch")
    assert "the largest fall is model" in text
    assert "from 0.9807 after epoch 9 to 0.9699 after epoch 10" in text
    assert "choose nothing" in text
    none = as_read(claims.late_drop_sentence({"b": drops["b"]}, LABELS))
    assert none.startswith("For none of the 1 model") and "largest fall" not in none
    assert claims.late_drop_sentence({"c": drops["c"]}, LABELS, left_out=["c"]) == ""


def test_the_protocol_sentence_counts_the_models_the_paired_test_finds_a_difference_for():
    def protocol(diff, p, n_not_last=2):
        return {"chosen_mean": 0.98 + diff, "last_mean": 0.98, "n_not_last": n_not_last,
                "test": {"test": "paired", "difference": diff, "low": diff - 0.001,
                         "high": diff + 0.001, "p": p, "p_adjusted": min(1.0, 2 * p),
                         "over": "seeds", "level": 0.95}}
    found = as_read(claims.protocol_sentence({"a": protocol(0.004, 0.001),
                                              "b": protocol(0.0005, 0.2, n_not_last=0)}, LABELS))
    assert "For the 2 models that validate" in found and "+0.0005 to +0.0040" in found
    assert "Holm-adjusted over the 2 models" in found and "finds a difference for A" in found
    assert "for 1 of them every seed's best epoch was its last" in found
    # adjusted p above 0.05: no difference found, though the unadjusted p is below
    none = as_read(claims.protocol_sentence({"a": protocol(0.004, 0.03), "b": protocol(0.001, 0.5)},
                                            LABELS))
    assert "finds a difference for none of them" in none
    single = as_read(claims.protocol_sentence({"a": {**protocol(0.0, 1.0), "test": None}}, LABELS))
    assert single.startswith("For the 1 model that validates") and "paired" not in single
    assert claims.protocol_sentence({}, LABELS) == ""


def test_the_loss_reading_names_the_set_up_the_seeds_poor_result_fits():
    ce = {**ROWS["a"], "loss": "cross_entropy"}
    rows = {"12": ce, "14": {**ce, "loss": "nll"}, "14-log": {**ce, "loss": "nll"},
            "11": {**ce, "loss": "mse"}, "11-soft": {**ce, "loss": "mse"}}
    labels = {"12": "12", "14": "14 (NLL, raw scores)", "14-log": "14 (NLL, log-softmax)",
              "11": "11 (MSE, raw scores)", "11-soft": "11 (MSE, softmax)"}

    def claim(b, verdict):
        return {"a": "12", "b": b, "expect": "worse", "verdict": verdict}
    out = [as_read(x) for x in claims.loss_readings(
        [claim("14", "supported"), claim("14-log", "not shown"),
         claim("11", "not shown"), claim("11-soft", "not shown")], rows, labels)]
    nll, mse = out
    assert "NLL ``performed quite poorly'' fits model 14 (NLL, raw scores)" in nll
    assert "and not model 14 (NLL, log-softmax)" in nll and "most likely trained NLL as" in nll
    assert "MSE ``performed quite poorly'' fits none of its set-ups here" in mse
    assert "not reproduced by any of them" in mse
    both = as_read(claims.loss_readings([claim("14", "supported"), claim("14-log", "supported")],
                                        rows, labels)[0])
    assert "fits every set-up of it here" in both and "do not tell" in both
    # a set-up that trains cross-entropy's very network does not fit
    same = {**claim("14-log", "untestable"), "why": {"reason": "same answers", "model": None}}
    (nll,) = [as_read(x) for x in claims.loss_readings([claim("14", "supported"), same], rows, labels)]
    assert "fits model 14 (NLL, raw scores)" in nll and "and not model 14 (NLL, log-softmax)" in nll
    # a claim untestable for another reason, or about cross-entropy against itself, is no reading
    other = {**claim("14", "untestable"), "why": {"reason": "not trained", "model": "14"}}
    assert claims.loss_readings([other], rows, labels) == []
    assert claims.loss_readings([{**claim("14", "supported"), "b": "12"}], rows, labels) == []


def test_the_batch_norm_sentence_says_noise_is_not_normalized_only_where_it_lies_far():
    rows = [("cnn", s, layer, name, shift, scale)
            for s in (0, 1) for layer in (0, 1)
            for name, shift, scale in (("digits", 0.05, 1.0), ("gaussian", 4.0, 0.3),
                                       ("uniform", 0.5, 0.9))]
    table = pd.DataFrame(rows, columns=["model", "seed", "layer", "set", "shift", "scale"])
    (text,) = [as_read(x) for x in claims.batch_norm_sentences(table, {"cnn": "fast CNN"})]
    assert "first batch-norm layer of model fast CNN" in text
    assert "test digits lie 0.05 running standard deviations" in text
    assert "on Gaussian noise they lie 4.00 running standard deviations" in text
    assert "For Gaussian noise the layer's fixed statistics do not normalize" in text
    assert "For uniform noise" not in text and "Gaussian noise and uniform" not in text
    near = table.assign(shift=lambda t: t["shift"].where(t["set"] != "gaussian", 0.8))
    (calm,) = claims.batch_norm_sentences(near, {"cnn": "fast CNN"})
    assert "do not normalize" not in calm
    assert claims.batch_norm_sentences(table.iloc[:0], {}) == []


def test_spearmans_p_over_a_few_seeds_is_exact():
    # five seeds in perfect order: one pairing in 120 is as extreme each way, p = 2/120
    rho, p = claims.spearman_exact([1, 2, 3, 4, 5], [0.99, 0.98, 0.97, 0.96, 0.95])
    assert rho == pytest.approx(-1.0) and p == pytest.approx(2 / 120)
    rho, p = claims.spearman_exact([1, 2, 3, 4, 5], [0.97, 0.99, 0.95, 0.98, 0.96])
    assert -1 < rho < 1 and p > 0.2


def test_controls_are_a_family_of_their_own_and_confounded_only_beyond_what_they_vary():
    rows = [{**ROWS["a"], "model": m, "validation": False} for m in "abc"]
    rows[2] = {**rows[2], "lr": 0.1, "batch_size": 16}  # c differs from a in lr and batch
    answers = {"a": _answers([0.90, 0.905, 0.895]), "b": _answers([0.80, 0.81, 0.79]),
               "c": _answers([0.70, 0.71, 0.69])}
    claim = {"a": "a", "b": "b", "expect": "worse", "says": "b is worse"}
    control = {"a": "a", "b": "c", "expect": "worse", "says": "c is worse", "varies": ["lr"]}
    found = findings.study_findings(pd.DataFrame(rows), answers, [claim], 10000, 60000,
                                    comparable=True, controls=[control])
    (c,), (k,) = found["claims"], found["controls"]
    # each adjusted within its own family: one test each, so adjusted p = p
    assert c["result"]["p_adjusted"] == pytest.approx(c["result"]["p"])
    assert k["result"]["p_adjusted"] == pytest.approx(k["result"]["p"])
    # the control meant to vary lr; it also differs in batch size, which is named
    assert k["differs"] == ["batch_size"]
    both = findings.tested_claims([{**control, "varies": ["lr", "batch_size"]}],
                                  {r["model"]: r for r in rows}, answers, 60000)
    assert both[0]["differs"] == [] and claims.confounds(both[0], LABELS) == ""
    found["families"] = {"best": None, "by_family": {}}
    out = claims.study_conclusions({**found, "reduced": [], "one_class_share": 0.9},
                                   {"a": "A", "b": "B", "c": "C"},
                                   pd.DataFrame(rows).assign(label=list("ABC"), n_seeds=3,
                                                             test_accuracy_mean=0.9))
    assert out["n_claims"] == 1 and len(out["control_glance"]) == 1
    assert out["control_glance"][0]["source"] == "control"
    assert "(C less accurate than A)" in out["control_glance"][0]["question"]


def test_a_family_best_against_the_best_is_described_not_decided():
    rows = {"a": {**ROWS["a"], "family": "mlp"}, "c": {**ROWS["a"], "family": "cnn"}}
    answers = {"a": _answers([0.90, 0.905, 0.895]), "c": _answers([0.98, 0.981, 0.979])}
    fam = findings.family_bests(rows, answers, ["a", "c"], 60000)
    against = fam["by_family"]["mlp"]["against_best"]
    assert fam["best"] == "c" and against["verdict"] == "described"
    assert against["result"]["p"] < 0.001  # the test ran; it decides nothing
    text = claims.claim_sentence(against, {"a": "A", "c": "C"})
    assert "chosen for their mean test accuracy" in text and "decides nothing" in text
    assert claims.glance_row(against, {}, "q", "s")["verdict"].startswith("described")
