"""Aggregate per-member metrics into per-model tables (mean and standard deviation over seeds)."""

from __future__ import annotations

import pandas as pd

from .spec import StudyModel

AGGREGATED = ["train_accuracy", "test_accuracy", "train_loss", "test_loss", "auc_micro", "auc_macro"]
# Within this of the published test accuracy counts as reproduced (the tolerance).
REPRODUCED_TOLERANCE = 0.01


def model_table(models: dict[str, StudyModel], metrics: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per model: its spec, the mean/std of each metric over members, the published
    accuracies and the difference to them."""
    rows = []
    for model_id, m in models.items():
        df = metrics[model_id]
        row = {"model": model_id, "label": m.label, "table": m.table, "lr": m.spec.lr,
               "hidden": "-".join(map(str, m.spec.hidden)), "n_layers": len(m.spec.hidden),
               "batch_size": m.spec.batch_size, "epochs": m.spec.epochs,
               "output_activation": m.spec.output_activation, "loss": m.spec.loss,
               "n_parameters": m.spec.n_parameters(), "n_seeds": len(df),
               "n_diverged": int(df["diverged"].sum())}
        for col in AGGREGATED:
            row[f"{col}_mean"] = df[col].mean()
            # ddof=1 sample std; a single seed has no spread to show
            row[f"{col}_std"] = df[col].std(ddof=1) if len(df) > 1 else float("nan")
            row[f"{col}_min"], row[f"{col}_max"] = df[col].min(), df[col].max()
        for split in ("train", "test"):
            pub = m.published.get(split)
            row[f"published_{split}"] = pub
            row[f"delta_{split}"] = row[f"{split}_accuracy_mean"] - pub if pub is not None else None
        pub_test = m.published.get("test")
        row["reproduced"] = (None if pub_test is None
                             else bool(abs(row["test_accuracy_mean"] - pub_test) <= REPRODUCED_TOLERANCE))
        rows.append(row)
    return pd.DataFrame(rows)
