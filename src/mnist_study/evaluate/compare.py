"""Is one model better than another? Tests of a difference, chosen by what varies (Dror et al.
2018): over seeds, Welch's t-test on the seeds' scores; with one seed on either side, the two
networks' answers to the same test images, McNemar's exact test on the images where exactly
one is right and a paired bootstrap interval of the accuracy difference. Every comparison
returns the difference (b - a), its interval, the p-value, the test's name and what the
interval covers; scipy does the statistics. Overlap of two intervals is never the criterion.
"""

from __future__ import annotations

import numpy as np

from mnist_study.evaluate.trust import LEVEL

WELCH, MCNEMAR, PAIRED = "Welch", "McNemar", "paired"


def welch(a, b, level: float = LEVEL) -> dict:
    """Welch's t-test of mean(b) - mean(a) over independent runs (seeds), and the
    Welch-Satterthwaite interval of that difference. Needs two finite values on each side;
    two sides without any spread give p = 1 when equal and 0 when not."""
    from scipy import stats

    a, b = (np.asarray(x, float) for x in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Welch's test needs two runs on each side, not {len(a)} and {len(b)}")
    diff = float(b.mean() - a.mean())
    if a.std() == 0 and b.std() == 0:  # scipy gives NaN here; the answer is plain
        p = 1.0 if diff == 0 else 0.0
        return _result(WELCH, diff, diff, diff, p, "seeds", len(a), len(b))
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(level)
    return _result(WELCH, diff, float(ci.low), float(ci.high), float(res.pvalue), "seeds",
                   len(a), len(b))


def paired(a, b, level: float = LEVEL) -> dict:
    """The paired t-test of mean(b - a) over runs that give both values (each seed's a and b:
    one network read two ways), with the t interval of that mean. Needs two finite pairs. Pairs
    that all differ by the same amount have no spread to test against: None (the caller says
    the difference, untested), except that all-zero differences are no difference (p = 1)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if len(a) < 2:
        raise ValueError(f"a paired test needs two pairs, not {len(a)}")
    d = b - a
    diff = float(d.mean())
    # no spread, up to the rounding of accuracies stored as fractions (scipy would divide by
    # about 0 and find any difference certain)
    if np.ptp(d) < 1e-9:
        return _result(PAIRED, 0.0, 0.0, 0.0, 1.0, "seeds", len(a), len(b)) if abs(diff) < 1e-9 else None
    res = stats.ttest_rel(b, a)
    ci = res.confidence_interval(level)
    return _result(PAIRED, diff, float(ci.low), float(ci.high), float(res.pvalue), "seeds",
                   len(a), len(b))


def mcnemar(correct_a, correct_b, level: float = LEVEL, n_boot: int = 2000,
            seed: int = 0) -> dict:
    """Two networks' answers to the same test images (booleans, one per image): McNemar's exact
    test (a two-sided binomial test on the images where exactly one of them is right) and a
    paired bootstrap interval (percentile, resampling images) of accuracy(b) - accuracy(a)."""
    from scipy import stats

    a, b = (np.asarray(x, bool) for x in (correct_a, correct_b))
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f"McNemar's test needs the answers to the same images, got {a.shape} "
                         f"and {b.shape}")
    only_b, only_a = int((b & ~a).sum()), int((a & ~b).sum())
    p = 1.0 if only_a + only_b == 0 else float(stats.binomtest(only_b, only_a + only_b).pvalue)
    diff = b.astype(float) - a.astype(float)  # per image: +1, 0 or -1
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_boot, len(diff)))
    boot = diff[idx].mean(1)
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return {**_result(MCNEMAR, float(diff.mean()), float(low), float(high), p, "test images",
                      1, 1), "only_a": only_a, "only_b": only_b}


def compare(a: dict, b: dict, level: float = LEVEL) -> dict:
    """The test that fits two models' results: each a dict with `accuracies` (one per seed,
    NaN for a diverged one) and `correct` (the first answering seed's right/wrong per test
    image, or None). Welch over seeds where both have at least two; otherwise McNemar on the
    first seeds' answers to the same images."""
    runs = [np.asarray(x["accuracies"], float) for x in (a, b)]
    if all(np.isfinite(r).sum() >= 2 for r in runs):
        return welch(*runs, level=level)
    if a.get("correct") is None or b.get("correct") is None:
        raise ValueError("one seed on a side and no per-image answers: nothing to test")
    return mcnemar(a["correct"], b["correct"], level=level)


def _result(test, diff, low, high, p, over, n_a, n_b) -> dict:
    return {"test": test, "difference": diff, "low": low, "high": high, "p": p, "over": over,
            "n_a": int(n_a), "n_b": int(n_b), "level": LEVEL}


def significant(result: dict, alpha: float = 1 - LEVEL) -> bool:
    """A difference is a finding when its test rejects 'no difference' at `alpha`; its interval
    then excludes 0 (for Welch exactly, for the bootstrap nearly always)."""
    return result["p"] < alpha


def holm(pvalues) -> list[float]:
    """Holm's step-down adjustment of several p-values (Holm 1979): the k-th smallest is
    multiplied by (m - k + 1), and the adjusted values are made non-decreasing and at most 1.
    Rejecting where the adjusted p is below alpha keeps the chance of any false finding among
    all m tests at most alpha."""
    p = np.asarray(pvalues, float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adjusted
    return [float(x) for x in out]


# --- one run against a published number --------------------------------------------------

def rounding_interval(value: float, decimals: int | None = None) -> tuple[float, float]:
    """The values a number printed with `decimals` decimals stands for: 0.982 -> [0.9815,
    0.9825]. Without `decimals`, read from the number as written (its shortest repr)."""
    if decimals is None:
        text = repr(float(value))
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    half = 0.5 * 10.0 ** -decimals
    return value - half, value + half


def clip_interval(low: float, high: float, lowest: float = 0.0, highest: float = 1.0):
    """An interval cut to what the quantity can be (an accuracy lies in [0, 1])."""
    return max(lowest, low), min(highest, high)


def agrees_with_published(run_low: float, run_high: float, published: float) -> bool:
    """The published value is consistent with one run of ours when the interval in which a run
    of ours falls meets the interval the rounded published number stands for."""
    pub_low, pub_high = rounding_interval(published)
    return run_low <= pub_high and pub_low <= run_high
