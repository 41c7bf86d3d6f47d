"""Analyses of trained models' results files: pure computations on arrays and tables.

Nothing here trains or plots. scikit-learn is imported inside the functions that use it:
plotting jobs import this module for its table helpers and should not pay for loading it.
Inputs are what the training rules write (test_probs.npz: probs (S, N, 10), outputs
(S, N, 10), labels (N,), seeds (S,); history_epoch.csv), the members' metrics computed from
them (evaluate.metrics) and the MNIST tensors; outputs are arrays, tables and plain dicts the
plotting rules and the report read. ROC and confusion matrices come from scikit-learn, never
hand-rolled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnist_study.spec import DIGITS, N_CLASSES, ModelSpec

# --- predictions and their mistakes -----------------------------------------------------------

def load_probs(npz) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probs (S, N, 10), labels (N,), seeds (S,)) from an opened test_probs.npz."""
    return np.asarray(npz["probs"]), np.asarray(npz["labels"]), np.asarray(npz["seeds"])


def answering_members(probs: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The members (S, N, 10) whose probabilities are all finite, and their seeds: a diverged
    member gives no answer to count as a mistake of one digit or another."""
    finite = np.isfinite(probs).all(axis=(1, 2))
    return probs[finite], seeds[finite]


def predictions(probs: np.ndarray) -> np.ndarray:
    """Predicted labels; a member with non-finite probabilities (diverged) gets -1 (no answer),
    so it counts as wrong but never as a particular digit."""
    pred = np.argmax(np.nan_to_num(probs, nan=-np.inf), axis=-1)
    return np.where(np.isfinite(probs).all(-1), pred, -1)


def confusion_counts(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """10 x 10 counts (rows true digit, columns predicted), summed over the seeds in probs
    ((S, N, 10) or (N, 10)). Samples without an answer (-1) are in no column."""
    from sklearn.metrics import confusion_matrix

    probs = probs[None] if probs.ndim == 2 else probs
    counts = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
    for p in predictions(probs):
        answered = p >= 0
        if not answered.any():
            continue
        counts += confusion_matrix(labels[answered], p[answered], labels=DIGITS)
    return counts


def row_normalize(counts: np.ndarray) -> np.ndarray:
    """Each row divided by the number of samples of that true digit (answered or not)."""
    totals = counts.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.maximum(totals, 1), np.nan)


def mistake_counts(counts: np.ndarray) -> np.ndarray:
    """The confusion counts without the diagonal: what each digit was wrongly called."""
    off = counts.copy()
    np.fill_diagonal(off, 0)
    return off


def per_digit_error(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Error rate per true digit (10,), pooled over seeds; an unanswered sample is an error."""
    probs = probs[None] if probs.ndim == 2 else probs
    wrong = predictions(probs) != labels[None]
    n = np.bincount(labels, minlength=N_CLASSES) * len(probs)
    errors = np.bincount(np.tile(labels, len(probs))[wrong.ravel()], minlength=N_CLASSES)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, errors / np.maximum(n, 1), np.nan)


def confused_pairs(counts: np.ndarray, top: int = 5) -> pd.DataFrame:
    """The most frequent (true, predicted) mistakes, with their share of the true digit's samples."""
    off = mistake_counts(counts)
    totals = counts.sum(1)
    rows = [{"true": t, "predicted": p, "count": int(off[t, p]),
             "rate": off[t, p] / totals[t] if totals[t] else np.nan}
            for t in DIGITS for p in DIGITS if t != p and off[t, p] > 0]
    df = pd.DataFrame(rows, columns=["true", "predicted", "count", "rate"])
    return df.sort_values(["count", "true", "predicted"], ascending=[False, True, True]).head(top) \
        .reset_index(drop=True)


def confident_mistakes(labels: np.ndarray, probs: np.ndarray, top: int = 16) -> pd.DataFrame:
    """The wrongly classified test images a model (one member, probs (N, 10)) was surest of:
    index into the test set, true and predicted label, probability of the prediction."""
    pred = predictions(probs)
    idx = np.flatnonzero((pred != labels) & (pred >= 0))
    confidence = probs[idx, pred[idx]]
    order = idx[np.argsort(-confidence, kind="stable")][:top]
    return pd.DataFrame({"index": order, "true": labels[order], "predicted": pred[order],
                         "probability": probs[order, pred[order]].astype(float),
                         "probability_true": probs[order, labels[order]].astype(float)})


def best_and_worst(models: pd.DataFrame) -> tuple[str, str]:
    """Model ids with the highest and the lowest mean test accuracy (first in table order on ties)."""
    acc = models.set_index(models["model"].astype(str))["test_accuracy_mean"]
    return str(acc.idxmax()), str(acc.idxmin())


# --- ROC --------------------------------------------------------------------------------------

def roc_data(labels: np.ndarray, probs: np.ndarray) -> dict:
    """One-vs-rest ROC curves of a model's probabilities (N, 10), scikit-learn's way: a curve
    and AUC per digit, the micro average (all digit decisions pooled) and the macro average.
    The macro AUC is scikit-learn's (`roc_auc_score(average="macro")`: the mean of the
    per-digit AUCs), the one definition every table and figure uses; its curve, for drawing,
    is the mean of the per-digit curves on a common false-positive grid. Non-finite
    probabilities (a diverged model) give no curves and NaN AUCs. `widest_half`: the widest
    half-width of the per-digit AUCs' intervals over the test images (DeLong's,
    `trust.auroc_interval`), which also bounds the macro average's (a mean of the digits)."""
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.preprocessing import label_binarize

    from mnist_study.evaluate.trust import auroc_interval, half_width

    onehot = label_binarize(labels, classes=DIGITS)
    curves, aucs, halves = {}, {}, []
    if not np.isfinite(probs).all():
        return {"curves": {}, "auc": {**{str(d): np.nan for d in DIGITS}, "micro": np.nan,
                                      "macro": np.nan}, "widest_half": np.nan}
    present = [d for d in DIGITS if 0 < onehot[:, d].sum() < len(labels)]
    for d in DIGITS:
        if d in present:
            fpr, tpr, _ = roc_curve(onehot[:, d], probs[:, d])
            curves[str(d)] = (fpr, tpr)
            aucs[str(d)] = float(roc_auc_score(onehot[:, d], probs[:, d]))
            _, low, high = auroc_interval(probs[labels == d, d], probs[labels != d, d])
            halves.append(half_width((low, high)))
        else:
            aucs[str(d)] = np.nan
    fpr, tpr, _ = roc_curve(onehot.ravel(), probs.ravel())
    curves["micro"] = (fpr, tpr)
    aucs["micro"] = float(roc_auc_score(onehot, probs, average="micro"))
    grid = np.unique(np.concatenate([curves[str(d)][0] for d in present]))
    curves["macro"] = (grid, np.mean([np.interp(grid, *curves[str(d)]) for d in present], axis=0))
    aucs["macro"] = macro_auc(labels, probs)
    return {"curves": curves, "auc": aucs, "widest_half": max(halves)}


def macro_auc(labels: np.ndarray, probs: np.ndarray) -> float:
    """roc_data's macro AUC alone (NaN for non-finite probabilities): cheap enough per seed."""
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import label_binarize

    if not np.isfinite(probs).all():
        return float("nan")
    onehot = label_binarize(labels, classes=DIGITS)
    present = [d for d in DIGITS if 0 < onehot[:, d].sum() < len(labels)]
    return float(roc_auc_score(onehot[:, present], probs[:, present], average="macro"))


def roc_arrays(roc: dict) -> dict[str, np.ndarray]:
    """roc_data's curves as flat arrays for np.savez: fpr_<name>, tpr_<name>."""
    out = {}
    for name, (fpr, tpr) in roc["curves"].items():
        out[f"fpr_{name}"], out[f"tpr_{name}"] = np.asarray(fpr), np.asarray(tpr)
    return out


def model_description(spec: ModelSpec, label: str, metrics: pd.DataFrame, seed: int) -> dict:
    """What the ROC figure's side panel lists: architecture, hyperparameters, accuracies of the
    member whose probabilities the curves use, and the mean over all members."""
    row = metrics.loc[metrics["seed"] == seed].iloc[0]
    return {
        "label": label, "architecture": spec.architecture(), "hidden": list(spec.hidden),
        "n_parameters": spec.n_parameters(), "activation": spec.activation,
        "output_activation": spec.output_activation, "loss": spec.loss,
        "optimizer": spec.optimizer, "lr": spec.lr, "batch_size": spec.batch_size,
        "epochs": spec.epochs, "seed": int(seed), "n_seeds": int(len(metrics)),
        "train_accuracy": float(row["train_accuracy"]), "test_accuracy": float(row["test_accuracy"]),
        "train_accuracy_mean": float(metrics["train_accuracy"].mean()),
        "test_accuracy_mean": float(metrics["test_accuracy"].mean()),
        "diverged": bool(row["diverged"]),
    }


# --- batch size against learning rate ---------------------------------------------------------

# what the batch-size question holds equal: everything but the learning rate and the batch
# (validation included: a model that holds images out trains on fewer)
SPEC_COLUMNS = ("architecture", "output_activation", "loss", "epochs", "dropout", "schedule",
                "validation")


def batch_lr_models(models: pd.DataFrame) -> pd.DataFrame:
    """The largest group of models that share everything but learning rate and batch size
    and vary both (the seed's models 0-4): the evidence for the batch-size question."""
    best = models.iloc[0:0]
    for _, group in models.groupby(list(SPEC_COLUMNS), sort=False):
        if group["lr"].nunique() > 1 and group["batch_size"].nunique() > 1 and len(group) > len(best):
            best = group
    return best.sort_values(["lr", "batch_size"]).reset_index(drop=True)


def batch_lr_findings(group: pd.DataFrame, metrics: dict[str, pd.DataFrame],
                      answers: dict[str, dict], n_train: int) -> dict:
    """Per learning rate: test accuracy (mean, min, max over seeds) against batch size, and the
    difference from the smallest to the largest batch, tested (mnist_study.evaluate.compare:
    Welch over seeds, McNemar for single seeds), with how many times the optimizer steps the
    smallest batch takes at equal epochs (the confound the design cannot separate)."""
    from mnist_study.evaluate import compare
    from mnist_study.evaluate.findings import steps_ratio

    out = {"models": [str(m) for m in group["model"]], "by_lr": []}
    for lr, rows in group.groupby("lr", sort=True):
        rows = rows.sort_values("batch_size")
        points = []
        for _, r in rows.iterrows():
            acc = metrics[str(r["model"])]["test_accuracy"]
            points.append({"model": str(r["model"]), "label": str(r["label"]),
                           "batch_size": int(r["batch_size"]), "n_seeds": int(len(acc)),
                           "test_accuracy_mean": float(acc.mean()), "test_accuracy_min": float(acc.min()),
                           "test_accuracy_max": float(acc.max()),
                           "n_diverged": int(metrics[str(r["model"])]["diverged"].sum())})
        means = [p["test_accuracy_mean"] for p in points]
        first, last = points[0]["model"], points[-1]["model"]
        try:
            test = compare.compare(answers[first], answers[last]) if first != last else None
        except ValueError:  # one seed on a side and no answers per image: nothing to test
            test = None
        smallest, largest = rows.iloc[0].to_dict(), rows.iloc[-1].to_dict()
        out["by_lr"].append({
            "lr": float(lr), "points": points, "change": means[-1] - means[0],
            "increasing": bool(len(means) > 1 and all(b > a for a, b in zip(means, means[1:]))),
            "test": test, "significant": bool(test and compare.significant(test)),
            "steps_ratio": steps_ratio(smallest, largest, n_train),
        })
    if len(out["by_lr"]) >= 2:
        out["low_lr"], out["high_lr"] = out["by_lr"][0]["lr"], out["by_lr"][-1]["lr"]
    return out


# --- the hyperparameter scan (its grid: spec.scan_grid) ----------------------------------------

def scan_table(rows: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """One row per cell (hidden, lr) from each row's member metrics (evaluate.metrics). A
    diverged cell is flagged and its accuracies are NaN: its argmax over non-finite outputs
    measures nothing."""
    parts = []
    for hidden, m in rows.items():
        df = m[["lr", "train_accuracy", "test_accuracy", "diverged"]].copy()
        df.insert(0, "hidden", int(hidden))
        parts.append(df)
    table = pd.concat(parts, ignore_index=True)
    table["diverged"] = table["diverged"].astype(bool)
    for split in ("train", "test"):
        ok = ~table["diverged"] & np.isfinite(table[f"{split}_accuracy"])
        table[f"{split}_accuracy"] = table[f"{split}_accuracy"].where(ok)
    return table.sort_values(["hidden", "lr"]).reset_index(drop=True)


def scan_summary(table: pd.DataFrame, n_test: int) -> dict:
    """Where the best test accuracy is, with every cell that ties it exactly (accuracies are
    counts of images, so a tie is equality), and the best cell's 95 % Wilson interval over the
    n_test test images. The cells are not compared with each other: each is one run of one
    seed."""
    from mnist_study.evaluate.trust import wilson_interval

    ok = table.dropna(subset=["test_accuracy"])
    out = {"n_cells": int(len(table)), "n_lr": int(table["lr"].nunique()),
           "n_hidden": int(table["hidden"].nunique()), "n_diverged": int(table["diverged"].sum()),
           "n_test": int(n_test),
           "diverged_cells": [{"hidden": int(r.hidden), "lr": float(r.lr)}
                              for r in table[table["diverged"]].itertuples()]}
    if ok.empty:
        return {**out, "best": None}
    best = ok.loc[ok["test_accuracy"].idxmax()]
    tied = ok[(ok["test_accuracy"] == best["test_accuracy"]) & (ok.index != best.name)]
    best_train = ok.loc[ok["train_accuracy"].idxmax()]
    return {**out,
            "best": {"hidden": int(best["hidden"]), "lr": float(best["lr"]),
                     "test_accuracy": float(best["test_accuracy"]),
                     "train_accuracy": float(best["train_accuracy"])},
            "best_ties": [{"hidden": int(r.hidden), "lr": float(r.lr)} for r in tied.itertuples()],
            "best_interval": wilson_interval(float(best["test_accuracy"]), n_test),
            "best_train": {"hidden": int(best_train["hidden"]), "lr": float(best_train["lr"]),
                           "train_accuracy": float(best_train["train_accuracy"])}}


# --- summaries the report's text quotes -------------------------------------------------------

def mean_image_similarity(means: np.ndarray) -> np.ndarray:
    """Pearson correlation between the average images of every pair of digits (10, 10)."""
    return np.corrcoef(means.reshape(len(means), -1))


def confusion_long(counts: dict[str, np.ndarray]) -> pd.DataFrame:
    """model -> 10 x 10 counts as one tidy table (model, true, predicted, count)."""
    rows = [{"model": m, "true": t, "predicted": p, "count": int(c[t, p])}
            for m, c in counts.items() for t in DIGITS for p in DIGITS]
    return pd.DataFrame(rows)


def confusion_wide(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The inverse of confusion_long, models in table order."""
    out = {}
    for m, g in table.groupby(table["model"].astype(str), sort=False):
        out[m] = g.pivot(index="true", columns="predicted", values="count") \
            .reindex(index=DIGITS, columns=DIGITS).fillna(0).to_numpy(dtype=np.int64)
    return out


def model_mistakes(counts: np.ndarray, top: int = 3) -> dict:
    """What one model's text says: its top mistakes with the reverse direction beside them,
    the digit it gets wrong most often, and the label it gives wrongly most often."""
    off = mistake_counts(counts)
    totals = counts.sum(1)
    pairs = confused_pairs(counts, top)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.where(totals > 0, 1 - np.diag(counts) / np.maximum(totals, 1), np.nan)
    return {
        "n_images": int(totals.sum()), "n_wrong": int(totals.sum() - np.trace(counts)),
        "pairs": [{"true": int(r.true), "predicted": int(r.predicted), "count": int(r.count),
                   "reverse": int(off[r.predicted, r.true])} for r in pairs.itertuples()],
        "hardest_digit": int(np.nanargmax(err)), "hardest_error": float(np.nanmax(err)),
        "easiest_digit": int(np.nanargmin(err)), "easiest_error": float(np.nanmin(err)),
        "most_given_label": int(np.argmax(off.sum(0))), "most_given_count": int(off.sum(0).max()),
        "digit_errors": {str(d): float(err[d]) for d in DIGITS},
        # mistakes as frequent as the last one listed that the list leaves out (a tie)
        "pairs_tied_beyond": int(len(confused_pairs(counts, N_CLASSES**2).query(
            "count == @pairs['count'].iloc[-1]")) - (pairs["count"] == pairs["count"].iloc[-1]).sum())
        if len(pairs) else 0,
    }


def hardest_digits(errors: pd.DataFrame, counts: dict[str, np.ndarray], similarity: np.ndarray,
                   top: int = 3) -> dict:
    """Across models: the median error rate per digit (a mean would follow the few models that
    fail on a digit: 56-99 % errors on digit 5 from models of one or two hidden units decided
    it), how many models find each digit their hardest, and the confusions most models share
    (in each model's top `top`), with how alike the two digits' average images are
    (correlation, and its rank among the 45 pairs)."""
    median = errors.median(0)
    hardest_of = errors.idxmax(axis=1).value_counts()
    shared: dict[tuple[int, int], int] = {}
    for c in counts.values():
        for r in confused_pairs(c, top).itertuples():
            shared[(int(r.true), int(r.predicted))] = shared.get((int(r.true), int(r.predicted)), 0) + 1
    iu = np.triu_indices(N_CLASSES, 1)
    pair_corr = similarity[iu]
    rank = {(int(a), int(b)): int((pair_corr > similarity[a, b]).sum()) + 1 for a, b in zip(*iu)}
    ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {
        "n_models": int(len(errors)), "top": top,
        "median_errors": {str(d): float(median[d]) for d in DIGITS},
        "hardest_digit": int(median.idxmax()),
        "n_models_hardest": {str(d): int(hardest_of.get(d, 0)) for d in DIGITS},
        # the digit most models find their hardest (ties: every such digit)
        "most_often_hardest": [int(d) for d in DIGITS
                               if hardest_of.get(d, 0) == hardest_of.max()],
        "shared_pairs": [{"true": t, "predicted": p, "n_models": n,
                          "similarity": float(similarity[t, p]),
                          "similarity_rank": rank[tuple(sorted((t, p)))]}
                         for (t, p), n in ranked],
        "mean_similarity": float(pair_corr.mean()),
    }


CONFIDENT = 0.9  # a mistake made with a probability above this is a confident one


def gallery_summary(mistakes: pd.DataFrame, labels: np.ndarray, probs: np.ndarray) -> dict:
    """The gallery's numbers: how many mistakes the member made, how many with probability
    above CONFIDENT, and the range shown."""
    pred = predictions(probs)
    wrong = (pred != labels) & (pred >= 0)
    conf = probs[wrong, pred[wrong]] if wrong.any() else np.array([])
    return {"n_shown": int(len(mistakes)), "n_wrong": int(wrong.sum()),
            "confident": CONFIDENT, "n_wrong_confident": int((conf > CONFIDENT).sum()),
            "min_shown": float(mistakes["probability"].min()) if len(mistakes) else float("nan"),
            "max_shown": float(mistakes["probability"].max()) if len(mistakes) else float("nan")}


def roc_overview(per_model: dict[str, dict]) -> dict:
    """Across models: the models with digits whose AUC is below 0.75 (the curves the seed
    called guessing), with those digits. (No 'lowest AUC': many tie at 0.5 exactly, every
    digit of a network that gives one label to every image.)"""
    weak = {m: [d for d in DIGITS if info["auc"][str(d)] < 0.75] for m, info in per_model.items()}
    return {"weak_threshold": 0.75, "weak": {m: ds for m, ds in weak.items() if ds}}


def nearest_cell(table: pd.DataFrame, lr: float, hidden: int) -> dict:
    """The grid cell nearest a point on the log-log grid (the seed's best), and its accuracy."""
    dist = np.hypot(np.log10(table["lr"] / lr), np.log10(table["hidden"] / hidden))
    r = table.loc[dist.idxmin()]
    return {"lr": float(r["lr"]), "hidden": int(r["hidden"]),
            "test_accuracy": float(r["test_accuracy"]), "train_accuracy": float(r["train_accuracy"])}
