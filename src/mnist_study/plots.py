"""Figures from results files. Plotting only: nothing here trains or evaluates a model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

LINESTYLES = ["-", "--", ":", "-."]


def use_style(style: str | Path) -> None:
    plt.style.use(str(style))


def model_styles(model_ids: list[str]) -> dict[str, dict]:
    """A fixed colour and line style per model, the same in every figure of the report."""
    cmap = plt.get_cmap("tab10")
    return {m: {"color": cmap(i % 10), "linestyle": LINESTYLES[(i // 10) % len(LINESTYLES)]}
            for i, m in enumerate(model_ids)}


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average that ignores non-finite values (diverged steps)."""
    s = pd.Series(values).where(np.isfinite(values))
    return s.rolling(window, min_periods=1).mean().to_numpy()


def loss_curves(step_histories: dict[str, pd.DataFrame], epoch_histories: dict[str, pd.DataFrame],
                labels: dict[str, str], out: str | Path) -> None:
    """Left: training loss per step (mean over seeds, smoothed) against epochs. Right: test loss
    per epoch. Log scale, the legend outside the axes."""
    styles = model_styles(list(step_histories))
    fig, (ax_step, ax_epoch) = plt.subplots(1, 2, figsize=(6.3, 3.0), sharey=True)
    for m, steps in step_histories.items():
        per_step = steps.groupby("step")["loss"].mean()
        n_epochs = epoch_histories[m]["epoch"].max()
        x = per_step.index.to_numpy() / per_step.index.max() * n_epochs
        window = max(1, len(per_step) // 100)
        ax_step.plot(x, smooth(per_step.to_numpy(), window), label=labels[m], **styles[m])
        per_epoch = epoch_histories[m].groupby("epoch")["test_loss"].mean()
        ax_epoch.plot(per_epoch.index, per_epoch.to_numpy(), marker="o", markersize=2, **styles[m])
    ax_step.set(xlabel="epoch", ylabel="loss", yscale="log", title="training loss (smoothed per step)")
    ax_epoch.set(xlabel="epoch", yscale="log", title="test loss (end of each epoch)")
    fig.legend(*ax_step.get_legend_handles_labels(), loc="outside right center", title="model")
    fig.savefig(out)
    plt.close(fig)
