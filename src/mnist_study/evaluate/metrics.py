"""Every member's test metrics, computed from what its training job stored: the training record
(training.csv: its final fit to the training set, and where it diverged) and the test outputs
(test_probs.npz). A new metric is a column here and a line of workflow/scripts/analyze_metrics.py
(Snakemake reruns a job whose script changed, not one whose package code did: after editing
only this module, --forcerun analyze_metrics); either way no training job reruns."""

from __future__ import annotations

import numpy as np
import pandas as pd

# A member's row, as every reader of metrics.csv knows it.
COLUMNS = ["seed", "lr", "train_accuracy", "train_loss", "test_accuracy", "test_loss", "diverged",
           "diverged_at_epoch", "diverged_at_step"]


def mean_loss(outputs: np.ndarray, labels: np.ndarray, kind: str) -> float:
    """One member's mean loss over its outputs (N, 10), as networks.loss_fn defines it for
    training, in double precision. Training computes it in torch, for autograd; here it is
    numpy, so that analysis jobs do not load torch (tests/test_imports.py), and
    tests/test_metrics.py holds the two to the same values for every loss the schema allows."""
    out = outputs.astype(np.float64)
    picked = np.take_along_axis(out, labels[:, None].astype(np.intp), axis=1)[:, 0]
    if kind == "cross_entropy":
        from scipy.special import logsumexp

        per_image = logsumexp(out, axis=1) - picked
    elif kind == "nll":
        per_image = -picked
    elif kind == "mse":
        per_image = ((out - np.eye(out.shape[1])[labels]) ** 2).mean(axis=1)
    else:
        raise ValueError(f"unknown loss {kind!r}")
    return float(per_image.mean())


def member_metrics(training: pd.DataFrame, test, loss: str) -> pd.DataFrame:
    """One row per member (COLUMNS): the training record's, with the test accuracy and loss
    beside the training ones. `test`: an opened test_probs.npz, its members in the record's
    order; `loss`: the spec's, so that the test loss is the quantity training minimized."""
    seeds, outputs, labels = (np.asarray(test[k]) for k in ("seeds", "outputs", "labels"))
    if len(seeds) != len(training) or (seeds != training["seed"].to_numpy()).any():
        raise ValueError(f"the test outputs' members (seeds {seeds.tolist()}) are not the "
                         f"training record's ({training['seed'].tolist()}): the two files come "
                         "from different runs of the training job; rerun it")
    diverged = training["diverged"].astype(bool).to_numpy()
    # a diverged network has no accuracy (its argmax over NaN would read as ~10 %) and no loss
    test_accuracy = [np.nan if d else float((out.argmax(-1) == labels).mean())
                     for out, d in zip(outputs, diverged)]
    test_loss = [np.nan if d else mean_loss(out, labels, loss) for out, d in zip(outputs, diverged)]
    return training.assign(test_accuracy=test_accuracy, test_loss=test_loss)[COLUMNS]


def by_model(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """metrics.csv (one row per member of every model) -> model id -> its members' rows."""
    return {m: rows.drop(columns="model").reset_index(drop=True)
            for m, rows in table.groupby("model", sort=False)}
