"""Aggregate per-member metrics into per-model tables (mean and standard deviation over seeds)."""

from __future__ import annotations

import pandas as pd

from mnist_study.data import MNIST_IMAGES
from mnist_study.evaluate.trust import run_interval, seed_interval
from mnist_study.spec import StudyModel

AGGREGATED = ["train_accuracy", "test_accuracy", "train_loss", "test_loss"]


def model_table(models: dict[str, StudyModel], metrics: dict[str, pd.DataFrame],
                failures: dict[str, dict] | None = None, n_test: int = MNIST_IMAGES["test"],
                n_train: int = MNIST_IMAGES["train"], n_validation: int = 0) -> pd.DataFrame:
    """One row per model: its spec, the mean/std of each metric over members, the published
    accuracies and the difference to them. A model in `failures` (id -> {"reason", "log"}: its
    training failed under --keep-going) keeps its row, with the reason and no metrics. The
    95 % interval where one run of ours would fall (trust.run_interval over the seeds, or over
    the n_test images) is here; whether a published value agrees with it is decided once, in
    evaluate.findings.reproduction. A model that validates trains on n_train less the
    n_validation images held out (`train_images`)."""
    failures = failures or {}
    rows = []
    for model_id, m in models.items():
        if model_id not in failures and model_id not in metrics:
            raise KeyError(f"model {model_id!r} has neither metrics nor a recorded failure")
        # a failed model: a table with no members, so every aggregate below is missing
        df = metrics.get(model_id, pd.DataFrame(
            columns=[*AGGREGATED, "seed", "diverged", "diverged_at_epoch", "diverged_at_step"],
            dtype=float))
        train_images = n_train - n_validation if m.spec.validation else n_train
        row = {"model": model_id, "label": m.label, "table": m.table, "lr": m.spec.lr,
               "family": m.spec.family, "architecture": m.spec.architecture(),
               "hidden": "-".join(map(str, m.spec.hidden)), "n_layers": len(m.spec.hidden),
               "layers": m.spec.layers(), "dropout": m.spec.dropout, "schedule": m.spec.schedule,
               "activation": m.spec.activation,
               "batch_size": m.spec.batch_size, "epochs": m.spec.epochs,
               "output_activation": m.spec.output_activation, "loss": m.spec.loss,
               "n_parameters": m.spec.n_parameters(), "n_seeds": len(m.spec.seeds),
               # multiply-adds x 6 per training sample and epoch, per member (spec.train_flops)
               "train_flops_per_member": m.spec.train_flops(train_images) / len(m.spec.seeds),
               "validation": m.spec.validation, "train_images": train_images,
               "literature_test_error": m.literature.get("test_error"),
               "literature_source": m.literature.get("source", ""),
               "literature_cite": m.literature.get("cite", ""),
               "n_diverged": int(df["diverged"].sum()),
               "status": "failed" if model_id in failures else "trained",
               "failure": failures.get(model_id, {}).get("reason", ""),
               "failure_log": failures.get(model_id, {}).get("log", "")}
        for col in AGGREGATED:
            row[f"{col}_mean"] = df[col].mean()
            # ddof=1 sample std; a single seed has no spread to show
            row[f"{col}_std"] = df[col].std(ddof=1) if len(df) > 1 else float("nan")
            row[f"{col}_min"], row[f"{col}_max"] = df[col].min(), df[col].max()
            # the 95 % interval of the mean over seeds (Student t); none for a single seed
            ci = seed_interval(df[col]) if len(df) else None
            row[f"{col}_ci_low"], row[f"{col}_ci_high"] = ci if ci else (float("nan"), float("nan"))
        for split in ("train", "test"):
            pub = m.published.get(split)
            row[f"published_{split}"] = pub
            row[f"delta_{split}"] = row[f"{split}_accuracy_mean"] - pub if pub is not None else None
        low, high, over = run_interval(df["test_accuracy"], n_test)
        row.update(test_run_low=low, test_run_high=high, test_run_interval_over=over)
        rows.append(row)
    return pd.DataFrame(rows)
