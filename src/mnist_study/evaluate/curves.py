"""Learning curves: every epoch's accuracy on the held-out splits, over a model's seeds, and
what the two protocols report from them: the seed's (the last epoch) and the careful one (the
epoch each seed's validation accuracy is highest at, chosen without the test set)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnist_study.evaluate import compare

SPLITS = ("train", "val", "test")  # the history's accuracy columns: <split>_accuracy


def learning_curves(history: pd.DataFrame) -> pd.DataFrame:
    """Per epoch and split: the mean accuracy over the seeds that answered (a diverged seed's
    accuracy is NaN), the lowest and highest seed's, and how many seeds. One row per epoch and
    split present in the history (val only where the model validates)."""
    rows = []
    for split in SPLITS:
        column = f"{split}_accuracy"
        if column not in history:
            continue
        for epoch, group in history.groupby("epoch"):
            values = group[column].to_numpy(float)
            values = values[np.isfinite(values)]
            rows.append({"split": split, "epoch": int(epoch), "n_seeds": len(values),
                         "mean": values.mean() if len(values) else np.nan,
                         "low": values.min() if len(values) else np.nan,
                         "high": values.max() if len(values) else np.nan})
    return pd.DataFrame(rows)


def validated_choice(history: pd.DataFrame) -> dict | None:
    """The two protocols side by side for a model that validates (None for one that does not):
    per seed, the epoch its validation accuracy is highest at (the first such epoch), its test
    accuracy there and at the last epoch; their means, and the paired test of chosen - last over
    the seeds (compare.paired; None with fewer than two seeds that answered, or where every
    seed's difference is the same non-zero amount). None with one epoch."""
    if "val_accuracy" not in history or history["epoch"].nunique() < 2:
        return None  # no validation, or one epoch: nothing to choose
    seeds = []
    for seed, h in history.sort_values("epoch").groupby("seed"):
        if not np.isfinite(h["val_accuracy"]).any():  # diverged: no epoch to choose
            continue
        best = h.loc[h["val_accuracy"].idxmax()]  # idxmax: the first of equal maxima
        seeds.append({"seed": int(seed), "epoch": int(best["epoch"]),
                      "val_accuracy": float(best["val_accuracy"]),
                      "chosen_test": float(best["test_accuracy"]),
                      "last_test": float(h["test_accuracy"].iloc[-1]),
                      "last_epoch": int(h["epoch"].iloc[-1])})
    if not seeds:
        return None
    chosen = [s["chosen_test"] for s in seeds]
    last = [s["last_test"] for s in seeds]
    return {"seeds": seeds, "chosen_mean": float(np.mean(chosen)), "last_mean": float(np.mean(last)),
            "epochs": sorted({s["epoch"] for s in seeds}),
            "n_not_last": sum(s["epoch"] != s["last_epoch"] for s in seeds),
            "test": compare.paired(last, chosen) if len(seeds) >= 2 else None}


def late_drop(curve: pd.DataFrame) -> dict | None:
    """How far a model's mean test accuracy fell from its best epoch to its last (a description
    of this run: the best epoch is read from the test set, so it is no protocol): the best
    epoch, its mean, the last epoch's mean and the drop (best - last, >= 0). None with one
    epoch or no finite mean."""
    test = curve[(curve["split"] == "test") & np.isfinite(curve["mean"])].sort_values("epoch")
    if len(test) < 2:
        return None
    best = test.loc[test["mean"].idxmax()]
    last = test.iloc[-1]
    return {"best_epoch": int(best["epoch"]), "best": float(best["mean"]),
            "last_epoch": int(last["epoch"]), "last": float(last["mean"]),
            "drop": float(best["mean"] - last["mean"])}


def adjust_protocol_tests(protocols: dict[str, dict]) -> None:
    """Holm's adjustment of the protocol tests over the models, in place (`p_adjusted`): one
    question asked of several models would otherwise find a gain somewhere by chance."""
    tested = [c["test"] for c in protocols.values() if c["test"] is not None]
    for t, p in zip(tested, compare.holm([t["p"] for t in tested])):
        t["p_adjusted"] = p
