"""How far to trust a number and an answer: intervals, calibration, and knowing when a network
does not know. Pure computations on stored probabilities; scipy and scikit-learn do the
statistics where they can (Student t and Wilson intervals, log loss, Brier score, AUROC, the
temperature fit), and only the binning of the reliability diagram is written here.
"""

from __future__ import annotations

import numpy as np

LEVEL = 0.95  # every interval in the report


# --- intervals --------------------------------------------------------------------------------

def seed_interval(values, level: float = LEVEL) -> tuple[float, float] | None:
    """Student-t interval of the mean over seeds; None for a single seed (no spread to show)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return None
    if values.std() == 0:  # every seed alike (a model stuck on one answer): no spread
        return float(values[0]), float(values[0])
    low, high = stats.t.interval(level, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    return float(low), float(high)


def run_interval(values, n_images: int, level: float = LEVEL) -> tuple[float, float, str]:
    """Where one more run of a model would put its accuracy: with several seeds, the Student-t
    prediction interval of a single new run (mean +- t s sqrt(1 + 1/n)); with one seed, Wilson's
    interval over the n_images test images. Returns (low, high, what it is over)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) >= 2:
        n = len(values)
        half = stats.t.ppf((1 + level) / 2, n - 1) * values.std(ddof=1) * np.sqrt(1 + 1 / n)
        return float(values.mean() - half), float(values.mean() + half), "seeds"
    if len(values) == 1:
        return (*wilson_interval(float(values[0]), n_images, level), "test images")
    return float("nan"), float("nan"), ""


def half_width(interval: tuple[float, float] | None) -> float | None:
    return None if interval is None else (interval[1] - interval[0]) / 2


def mean_interval(values, level: float = LEVEL) -> tuple[float, float]:
    """Student-t interval of the mean of per-image values (a loss averaged over the test
    images): the test set's sampling error of that average. The same t interval as over
    seeds."""
    return seed_interval(values, level)


def auroc_interval(positive, negative, level: float = LEVEL) -> tuple[float, float, float]:
    """ROC AUC of scores meant to rank `positive` samples above `negative` ones (ties count
    half), with DeLong's interval over the samples (DeLong, DeLong & Clarke-Pearson 1988, the
    default of R's pROC): the AUC is a two-sample U-statistic, and its variance is that of each
    sample's placement values (the share of the other sample it outranks) over its size. A
    normal interval, clipped to [0, 1]; it agrees with a bootstrap over the samples
    (tests/test_trust.py) at the cost of three sorts. NaN without both samples or with a
    non-finite score. Returns (auc, low, high)."""
    from scipy import stats

    x, y = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    m, n = len(x), len(y)
    if not m or not n or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return float("nan"), float("nan"), float("nan")
    ranks = stats.rankdata(np.concatenate([x, y]))
    below_x = (ranks[:m] - stats.rankdata(x)) / n  # share of negatives each positive outranks
    above_y = 1 - (ranks[m:] - stats.rankdata(y)) / m  # share of positives above each negative
    auc = float(below_x.mean())
    var = (below_x.var(ddof=1) / m if m > 1 else 0.0) + (above_y.var(ddof=1) / n if n > 1 else 0.0)
    half = stats.norm.ppf((1 + level) / 2) * np.sqrt(var)
    return auc, float(max(0.0, auc - half)), float(min(1.0, auc + half))


def member_summary(per_member, by: str = "model"):
    """One row per `by` from a table of one row per member (a seed): each metric's mean over
    the members and the half-width of its interval over them (`<metric>_seed_half`, NaN with
    one member); a column `<metric>_image_half` (the interval over the images) is kept for a
    single member, whose value it belongs to, and NaN otherwise: one estimand per number.
    Returns a DataFrame, `by` first."""
    import pandas as pd

    metrics = [c for c in per_member.columns if c not in (by, "seed") and not c.endswith("_image_half")
               and pd.api.types.is_numeric_dtype(per_member[c])]
    rows = []
    for key, group in per_member.groupby(by, sort=False):
        row = {by: key}
        for c in metrics:
            row[c] = float(group[c].mean())
            half = half_width(seed_interval(group[c]))
            row[f"{c}_seed_half"] = np.nan if half is None else half
            if f"{c}_image_half" in group:  # belongs to the printed value only for one member
                row[f"{c}_image_half"] = (float(group[f"{c}_image_half"].iloc[0]) if len(group) == 1
                                          else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def wilson_interval(accuracy: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson interval of an accuracy measured on n test images: the test set's own sampling
    error, which a second run on other images of the same kind would show."""
    from scipy import stats

    k = int(round(accuracy * n))
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


# --- calibration ------------------------------------------------------------------------------

def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> dict:
    """Equal-width confidence bins on [0, 1] (bin m holds (m-1)/M < confidence <= m/M, the
    first also 0), as in Guo et al. 2017: per bin its edges, count, accuracy and mean
    confidence (NaN for an empty bin)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, bool)
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(which, weights=correct, minlength=n_bins) / count
        mean_conf = np.bincount(which, weights=confidence, minlength=n_bins) / count
    return {"lower": edges[:-1], "upper": edges[1:], "count": count,
            "accuracy": accuracy, "confidence": mean_conf}


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               n_bins: int = 15) -> float:
    """ECE: the bins' |accuracy - mean confidence|, weighted by their share of the samples."""
    bins = reliability_bins(confidence, correct, n_bins)
    used = bins["count"] > 0
    gap = np.abs(bins["accuracy"][used] - bins["confidence"][used])
    return float((gap * bins["count"][used]).sum() / bins["count"].sum())


def scores(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> dict:
    """ECE, negative log-likelihood and (multiclass) Brier score of probabilities (N, 10),
    and the half-widths of the NLL's and the Brier score's intervals over the test images
    (`mean_interval` of the per-image values, whose mean scikit-learn's numbers are)."""
    from sklearn.metrics import brier_score_loss, log_loss

    classes = list(range(probs.shape[1]))
    probs = probs / probs.sum(1, keepdims=True)  # stored as float32: sums off 1 by ~1e-7
    correct = probs.argmax(1) == labels
    truth = np.eye(probs.shape[1])[labels]
    per_image = {"nll": -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-15, 1.0)),
                 "brier": ((probs - truth) ** 2).sum(1)}
    return {"ece": expected_calibration_error(probs.max(1), correct, n_bins),
            "nll": float(log_loss(labels, probs, labels=classes)),
            "brier": float(brier_score_loss(labels, probs, labels=classes)),
            **{f"{k}_image_half": half_width(mean_interval(v)) for k, v in per_image.items()}}


def _log_probs(probs: np.ndarray) -> np.ndarray:
    # logits up to a constant per sample, which softmax ignores
    return np.log(np.clip(probs, 1e-12, 1.0))


def with_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    z = _log_probs(probs) / temperature
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


# The temperature is searched in this range; a fit at its edge is a bound, not a value.
TEMPERATURE_BOUNDS = (0.05, 20.0)


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The one scalar T > 0 that minimizes the NLL of softmax(log p / T) on these samples."""
    from scipy.optimize import minimize_scalar
    from sklearn.metrics import log_loss

    classes = list(range(probs.shape[1]))
    fit = minimize_scalar(lambda log_t: log_loss(labels, with_temperature(probs, np.exp(log_t)),
                                                 labels=classes),
                          bounds=tuple(np.log(TEMPERATURE_BOUNDS)), method="bounded")
    return float(np.exp(fit.x))


def validated_temperatures(test_probs: np.ndarray, val_probs: np.ndarray,
                           val_labels: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Temperature scaling without the test set: each member's T fitted on its own answers to
    the validation images (held out of its training), then applied to its test answers.
    Returns the temperatures (M,) and the calibrated test probabilities (M, N, 10)."""
    temperatures = [fit_temperature(v, val_labels) for v in val_probs]
    calibrated = np.stack([with_temperature(p, t) for p, t in zip(test_probs, temperatures)])
    return temperatures, calibrated


# --- knowing what it does not know ------------------------------------------------------------

def misclassification_auroc(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """AUROC of the maximum softmax probability separating right answers from wrong ones
    (Hendrycks & Gimpel 2017), with its interval over the test images (`auroc_interval`);
    NaN when every answer is right or every one wrong. Returns (auc, low, high)."""
    correct, confidence = probs.argmax(1) == labels, probs.max(1)
    return auroc_interval(confidence[correct], confidence[~correct])


def risk_coverage(probs: np.ndarray, labels: np.ndarray, coverages: np.ndarray) -> np.ndarray:
    """Accuracy on the most confident share c of the test images, for each coverage c: what
    abstaining on the least confident 1 - c buys."""
    correct = (probs.argmax(1) == labels)[np.argsort(-probs.max(1), kind="stable")]
    kept = np.maximum(1, np.round(np.asarray(coverages) * len(labels)).astype(int))
    return np.cumsum(correct)[kept - 1] / kept


# --- one model, for the report ----------------------------------------------------------------

def model_trust(member_probs: np.ndarray, labels: np.ndarray, seed_accuracies: np.ndarray,
                n_bins: int = 15, validation: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Everything the trust section says of one model, from its members' test probabilities
    (M, N, 10), every member's test accuracy and, where the model held out validation images,
    its members' probabilities on them and their labels (`validation`). One estimand per number:
    each score (`ece`, `nll`, `brier`, `misclassification_auroc`, and `ece_after`, `nll_after`
    after temperature scaling fitted on the validation images; None without them) is the mean
    over the members, with the half-width of the interval of that mean over them
    (`<score>_seed_half`, None for one member); for one member it is that member's score, with
    its interval over the test images (`<score>_image_half`, None where several members or no
    such interval). The accuracy is given both ways: the first member's (`accuracy`, Wilson's
    interval over the test images) and the mean over members (`seed_mean`, Student's t). The
    reliability curve is the first member's; `temperatures` every member's (None without
    validation images). Returns numbers and curves."""
    first = member_probs[0]
    accuracy = float((first.argmax(1) == labels).mean())
    seed_ci = seed_interval(seed_accuracies)
    wilson = wilson_interval(accuracy, len(labels))
    finite = np.asarray(seed_accuracies, float)[np.isfinite(seed_accuracies)]
    temperatures, calibrated = (validated_temperatures(member_probs, *validation)
                                if validation is not None else (None, None))
    per_member = []
    for i, p in enumerate(member_probs):
        auc, low, high = misclassification_auroc(p, labels)
        after = ({f"{k}_after": v for k, v in scores(calibrated[i], labels, n_bins).items()}
                 if calibrated is not None else {})
        per_member.append({**scores(p, labels, n_bins), **after, "misclassification_auroc": auc,
                           "misclassification_auroc_image_half": half_width((low, high))})
    one = len(per_member) == 1
    numbers = {"accuracy": accuracy, "wilson": wilson, "wilson_half": half_width(wilson),
               "seed_mean": float(finite.mean()), "n_seeds": int(len(finite)), "seed_ci": seed_ci,
               "seed_half": half_width(seed_ci), "temperatures": temperatures,
               # one run's accuracy: its spread between seeds, and its sampling error over the
               # test images (binomial), the two sources of variation of a single run
               "seed_sd": float(finite.std(ddof=1)) if len(finite) > 1 else None,
               "binomial_se": float(np.sqrt(accuracy * (1 - accuracy) / len(labels))),
               "temperature_bounds": list(TEMPERATURE_BOUNDS)}
    for k in ("ece", "nll", "brier", "misclassification_auroc", "ece_after", "nll_after"):
        if k not in per_member[0]:  # no validation images: nothing fitted, nothing after
            numbers.update({k: None, f"{k}_seed_half": None, f"{k}_image_half": None})
            continue
        values = [m[k] for m in per_member]
        numbers[k] = float(np.mean(values))
        numbers[f"{k}_seed_half"] = half_width(seed_interval(values))
        image = per_member[0].get(f"{k}_image_half")
        numbers[f"{k}_image_half"] = image if one else None
    bins = reliability_bins(first.max(1), first.argmax(1) == labels, n_bins)
    return {"numbers": numbers, "curves": {f"bin_{k}": v for k, v in bins.items()}}


def telling_models(per_model: dict[str, dict], specs: dict[str, dict], most: int = 4,
                   left_out=()) -> list[str]:
    """The few models whose reliability diagrams say most: the most accurate, the worst
    calibrated (of those trained to give probabilities), the least accurate, and the first
    whose output or loss is not the usual softmax cross-entropy (a sigmoid output, MSE, NLL),
    in that order, without repeats; never one of `left_out` (degenerate models, whose diagram
    is one bar)."""
    ids = [m for m in per_model if m not in left_out]
    if not ids:
        return []
    unusual = [m for m in ids if specs[m]["output_activation"] != "none"
               or specs[m]["loss"] != "cross_entropy"]
    # the worst calibrated among the models trained to give probabilities (one that was not,
    # MSE on raw scores, is badly calibrated by construction, and says nothing of calibration)
    probabilistic = [m for m in ids if per_model[m].get("probabilistic", True)] or ids
    picks = [max(ids, key=lambda m: per_model[m]["accuracy"]),
             max(probabilistic, key=lambda m: per_model[m]["ece"]),
             min(ids, key=lambda m: per_model[m]["accuracy"]), *unusual[:1]]
    return list(dict.fromkeys(picks))[:most]


def below_chance(responses, sets: list[str], level: float = LEVEL) -> dict:
    """Is a model's maximum-softmax detector worse than guessing on a set of non-digits? Per
    model and set, the two-sided test of AUC = 0.5: over seeds, Student's t on the seeds' AUCs
    (one-sample); with one seed, the normal test from DeLong's standard error (the interval's
    half-width over the images). Every (model, set) pair is one question of one family: the
    p-values are Holm-adjusted over all of them, since a study of 20 models on 4 sets asks 80.
    Returns {model: {set: {"auc", "p", "p_adjusted", "below"}}}; `below`: the adjusted p under
    1 - level and the mean AUC under 0.5."""
    from scipy import stats

    from mnist_study.evaluate.compare import holm

    tests = []
    for model, group in responses.groupby("model", sort=False):
        for s in sets:
            aucs = group[f"auc_{s}"].to_numpy(float)
            finite = np.isfinite(aucs)
            if not finite.any():
                continue
            if finite.sum() >= 2:
                a = aucs[finite]
                p = 1.0 if a.std() == 0 and a.mean() == 0.5 else (
                    0.0 if a.std() == 0 else float(stats.ttest_1samp(a, 0.5).pvalue))
            else:
                half = group.loc[finite, f"auc_{s}_image_half"].to_numpy(float)[0]
                se = half / stats.norm.ppf((1 + level) / 2)
                p = float(2 * stats.norm.sf(abs(aucs[finite][0] - 0.5) / se)) if se > 0 else 1.0
            tests.append((model, s, float(np.mean(aucs[finite])), p))
    adjusted = holm([t[3] for t in tests])
    out: dict = {}
    for (model, s, auc, p), q in zip(tests, adjusted):
        out.setdefault(model, {})[s] = {"auc": auc, "p": p, "p_adjusted": q,
                                         "below": bool(q < 1 - level and auc < 0.5)}
    return out
