"""The numbers a reader chooses a network by: per trained model, its test error with a 95 %
interval, its size, what training it costs (arithmetic, and wall time on this machine) and the
literature's value for it. Pure computations on the models table, the seeds' test accuracies
and the training jobs' wall times; nothing here reads a file or imports torch.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mnist_study.evaluate.trust import LEVEL, seed_interval, wilson_interval
from mnist_study.families import FAMILIES

COLUMNS = ["model", "label", "family", "architecture", "n_parameters", "train_flops_per_member",
           "n_seeds", "n_seeds_used", "test_error_mean", "test_error_low", "test_error_high",
           "interval_over", "job_wall_s", "wall_s_per_member", "literature_test_error",
           "literature_source", "literature_cite"]


def _text(x) -> str:
    """A text cell of the models table: an empty one reads back as NaN."""
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def families_table(models: pd.DataFrame, test_accuracies: dict[str, "np.ndarray | pd.Series"],
                   job_wall_s: dict[str, float], n_test: int, level: float = LEVEL) -> pd.DataFrame:
    """One row per model of the models table that trained and has at least one seed that did
    not diverge (columns: COLUMNS), by family (in the registry's order, mnist_study.families),
    then by mean test error:
    the order of the report's table, whose row numbers label the figure's points.

    test_accuracies: model id -> the test accuracy of each of its seeds (NaN for a seed that
    diverged: dropped). job_wall_s: model id -> wall seconds of its training job, which trains
    all n_seeds members side by side; a model without one (no benchmark file) gets NaN.

    The test error is 1 - accuracy, averaged over the seeds that did not diverge. Its interval
    is Student's t over those seeds' test errors (trust.seed_interval) where there are two or
    more, and with a single seed Wilson's interval over the n_test test images
    (`interval_over` says which); either is cut to [0, 1], where an error rate lies. The wall
    time per member is the job's wall time divided by all its members, diverged ones included:
    they trained side by side until the job ended.
    """
    rows = []
    for r in models[models["status"] == "trained"].itertuples(index=False):
        if r.model not in test_accuracies:
            raise KeyError(f"model {r.model!r} trained, but no test accuracies were given for it")
        acc = np.asarray(test_accuracies[r.model], dtype=float)
        acc = acc[np.isfinite(acc)]
        if not len(acc):  # every seed diverged: no error to show
            continue
        errors = 1.0 - acc
        if len(errors) >= 2:
            low, high = seed_interval(errors, level)
            over = "seeds"
        else:
            acc_low, acc_high = wilson_interval(float(acc[0]), n_test, level)
            low, high = 1.0 - acc_high, 1.0 - acc_low
            over = "test images"
        wall = float(job_wall_s.get(r.model, float("nan")))
        n_seeds = int(r.n_seeds)
        literature = r.literature_test_error
        rows.append({
            "model": r.model, "label": r.label, "family": r.family,
            "architecture": r.architecture, "n_parameters": int(r.n_parameters),
            "train_flops_per_member": float(r.train_flops_per_member),
            "n_seeds": n_seeds, "n_seeds_used": int(len(errors)),
            "test_error_mean": float(errors.mean()),
            "test_error_low": max(0.0, low), "test_error_high": min(1.0, high),
            "interval_over": over,
            "job_wall_s": wall, "wall_s_per_member": wall / n_seeds,
            "literature_test_error": (float("nan") if literature is None or pd.isna(literature)
                                      else float(literature)),
            "literature_source": _text(r.literature_source),
            "literature_cite": _text(getattr(r, "literature_cite", "")),
        })
    table = pd.DataFrame(rows, columns=COLUMNS)
    rank = table["family"].map(lambda f: FAMILIES[f].rank)
    order = np.lexsort((table["test_error_mean"].to_numpy(), rank.to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def choice(table: pd.DataFrame, best: str | None, not_told_apart: list[str]) -> dict | None:
    """What the table says to a reader choosing a network: the most accurate model (`best`,
    from evaluate.findings.family_bests), the models that no test tells apart from it
    (`not_told_apart`, its own test: overlapping intervals are no such test), and of those and
    the best the cheapest to train (fewest training FLOPs per member: the machine-independent
    cost; ties go to the fewer parameters, then to table order). None without a best model."""
    if best is None or best not in set(table["model"]):
        return None
    best = table.loc[table["model"] == best].iloc[0]
    within = table[table["model"].isin([best["model"], *not_told_apart])]
    cheapest = within.sort_values(["train_flops_per_member", "n_parameters"], kind="stable").iloc[0]
    return {"best": best["model"], "cheapest": cheapest["model"],
            "within": list(within["model"])}
