"""Figures from results files. Plotting only: nothing here trains or evaluates a model."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mnist_study.evaluate.analysis import mistake_counts  # noqa: E402

LINESTYLES = ["-", "--", ":", "-."]


def figure_text(text, width: int | None = None) -> str:
    """A name a user wrote (a model label, an image's file name), as a figure shows it: `$`
    escaped, so that matplotlib never reads it as mathematics, and wrapped at `width`
    characters, so that a long name does not run into its neighbours."""
    text = str(text)
    if width:
        text = "\n".join(textwrap.wrap(text, width, break_on_hyphens=False) or [""])
    return text.replace("$", r"\$")


def use_style(style: str | Path) -> None:
    plt.style.use(str(style))


def save_pages(figures: Iterable["matplotlib.figure.Figure"], out: str | Path) -> None:
    """Each figure as one page of one PDF, in order: the report includes them by page number,
    so a figure per model needs no file name made from a model id."""
    with PdfPages(out) as pdf:
        for fig in figures:
            pdf.savefig(fig)
            plt.close(fig)


def model_styles(model_ids: list[str]) -> dict[str, dict]:
    """A fixed colour and line style per model, the same in every figure of the report. Both
    cycle at once (10 colours, 4 styles: 20 distinct pairs), so neighbours in the list differ
    in both and a print in grey still tells them apart."""
    cmap = plt.get_cmap("tab10")
    return {m: {"color": cmap(i % 10), "linestyle": LINESTYLES[i % len(LINESTYLES)]}
            for i, m in enumerate(model_ids)}


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average that ignores non-finite values (diverged steps)."""
    s = pd.Series(values).where(np.isfinite(values))
    return s.rolling(window, min_periods=1).mean().to_numpy()


def loss_curves(step_histories: dict[str, pd.DataFrame], epoch_histories: dict[str, pd.DataFrame],
                labels: dict[str, str], out: str | Path, smoothing: float = 0.01) -> None:
    """Training loss per step (mean over seeds, a moving average over the share `smoothing` of
    the steps) against epochs; training loss per
    epoch (mean of its steps); test loss at the end of each epoch. Log scale, one shared loss
    axis, the legend outside the axes."""
    styles = model_styles(list(labels))  # all models, config order: the same colours everywhere
    fig, (ax_step, ax_train, ax_test) = plt.subplots(1, 3, figsize=(6.3, 2.7), sharey=True)
    for m, steps in step_histories.items():
        per_step = steps.groupby("step")["loss"].mean()
        n_epochs = epoch_histories[m]["epoch"].max()
        x = per_step.index.to_numpy() / per_step.index.max() * n_epochs
        window = max(1, round(len(per_step) * smoothing))
        ax_step.plot(x, smooth(per_step.to_numpy(), window), label=figure_text(labels[m], 24), **styles[m])
        per_epoch = epoch_histories[m].groupby("epoch")[["train_loss", "test_loss"]].mean()
        for ax, col in ((ax_train, "train_loss"), (ax_test, "test_loss")):
            ax.plot(per_epoch.index, per_epoch[col].to_numpy(), marker="o", markersize=2, **styles[m])
    ax_step.set(xlabel="epoch", ylabel="loss", yscale="log", title="train, per step")
    ax_train.set(xlabel="epoch", title="train, per epoch")
    ax_test.set(xlabel="epoch", title="test, per epoch")
    n_epochs = max(int(h["epoch"].max()) for h in epoch_histories.values())
    for ax in (ax_train, ax_test):
        ax.set_xticks(range(1, n_epochs + 1, max(1, n_epochs // 5)))
        ax.set_xlim(0.5, n_epochs + 0.5)
    fig.legend(*ax_step.get_legend_handles_labels(), loc="outside right center", title="model")
    fig.savefig(out)
    plt.close(fig)


# --- the data ---------------------------------------------------------------------------------

def digit_means(means: np.ndarray, counts: np.ndarray, out: str | Path) -> None:
    """Ten panels: the average training image of each digit, with its number of images."""
    fig, axes = plt.subplots(1, 10, figsize=(6.3, 1.05))
    for d, ax in enumerate(axes):
        ax.imshow(means[d], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{d}\n(n = {counts[d]:,})", fontsize=7)
        ax.set_axis_off()
    fig.savefig(out)
    plt.close(fig)


# --- the hyperparameter scan ------------------------------------------------------------------

def lin_log_norm(linear_below: float, vmax: float) -> "matplotlib.colors.FuncNorm":
    """The seed's combined normalization for accuracies: linear in the accuracy up to
    `linear_below` (failures keep their linear spread), logarithmic in the error 1 - accuracy
    above it, so 0.99 and 0.999 get as far apart as 0.9 and 0.99."""
    from matplotlib.colors import FuncNorm

    t = linear_below

    def forward(a):
        a = np.asarray(a, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            high = 1 + np.log10((1 - t) / np.clip(1 - a, 1e-9, None))
        return np.where(a <= t, a / t, high)

    def inverse(y):
        y = np.asarray(y, dtype=float)
        return np.where(y <= 1, y * t, 1 - (1 - t) * 10.0 ** (1 - y))

    return FuncNorm((forward, inverse), vmin=0.0, vmax=vmax)


def lin_log_ticks(linear_below: float, vmax: float) -> list[float]:
    ticks = [linear_below * f for f in (0, 1 / 3, 2 / 3)] + [linear_below]
    err = 1 - linear_below
    while 1 - err / 10 <= vmax + 1e-12:
        err /= 10
        ticks.append(1 - err)
    return ticks


def _cell_text_colour(cmap, normed: float) -> str:
    r, g, b, _ = cmap(normed)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def scan_heatmaps(table: pd.DataFrame, linear_below: float, out: str | Path) -> None:
    """Train and test accuracy over learning rate x hidden size, side by side, one shared
    colour scale (lin_log_norm); values in the cells; diverged cells hatched and marked NaN."""
    from matplotlib.patches import Rectangle

    lrs = sorted(table["lr"].unique())
    hidden = sorted(table["hidden"].unique())
    grids = {split: table.pivot(index="hidden", columns="lr", values=f"{split}_accuracy")
             .reindex(index=hidden, columns=lrs).to_numpy(dtype=float) for split in ("train", "test")}
    diverged = table.pivot(index="hidden", columns="lr", values="diverged") \
        .reindex(index=hidden, columns=lrs).fillna(True).to_numpy(dtype=bool)
    top = np.nanmax([np.nanmax(g) if np.isfinite(g).any() else 0.0 for g in grids.values()])
    vmax = float(min(max(top, 0.99), 1 - 1e-4))
    norm = lin_log_norm(linear_below, vmax)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
    n_lr, n_h = len(lrs), len(hidden)
    fontsize = 6 if max(n_lr, n_h) <= 8 else 5
    fig, axes = plt.subplots(1, 2, figsize=(6.3, 0.35 * n_h + 1.3), sharey=True)
    for ax, (split, grid) in zip(axes, grids.items()):
        image = ax.imshow(grid, norm=norm, cmap=cmap, origin="lower", aspect="auto")
        for i in range(n_h):
            for j in range(n_lr):
                if diverged[i, j] or not np.isfinite(grid[i, j]):
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="0.85",
                                           edgecolor="0.4", hatch="////", linewidth=0))
                    ax.text(j, i, "NaN", ha="center", va="center", fontsize=fontsize,
                            color="black", bbox={"facecolor": "0.85", "edgecolor": "none", "pad": 0.5})
                else:
                    ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=fontsize,
                            color=_cell_text_colour(cmap, float(norm(grid[i, j]))))
        ax.set_xticks(range(n_lr), [f"{lr:.2g}" for lr in lrs], rotation=45, ha="right")
        ax.set_yticks(range(n_h), [str(h) for h in hidden])
        ax.set(xlabel="learning rate", title=f"{split} accuracy")
        ax.grid(False)
    axes[0].set_ylabel("hidden units")
    bar = fig.colorbar(image, ax=axes, shrink=0.9, pad=0.02)
    bar.set_ticks(lin_log_ticks(linear_below, vmax))
    bar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    bar.set_label("accuracy")
    fig.savefig(out)
    plt.close(fig)


# --- mistakes ---------------------------------------------------------------------------------

def confusion_grid(matrices: dict[str, np.ndarray], labels: dict[str, str], out: str | Path,
                   ncols: int = 5, floor: float = 1e-3) -> None:
    """Every model's row-normalized 10 x 10 confusion matrix in one grid, one shared log colour
    scale so that mistakes of 0.1 % and 50 % are both visible beside the diagonal."""
    from matplotlib.colors import LogNorm

    n = len(matrices)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.3, 1.2 * nrows + 0.2), squeeze=False)
    norm = LogNorm(vmin=floor, vmax=1)
    cmap = plt.get_cmap("magma_r").with_extremes(under="white", bad="white")
    image = None
    for ax, (m, mat) in zip(axes.flat, matrices.items()):
        visible = np.where(mat > 0, mat, np.nan)
        image = ax.imshow(np.clip(visible, floor, 1), norm=norm, cmap=cmap)
        ax.set_title(figure_text(f"model {labels[m]}", 18), fontsize=7)
        ax.set_xticks(range(10), [str(d) if d % 3 == 0 else "" for d in range(10)], fontsize=5)
        ax.set_yticks(range(10), [str(d) if d % 3 == 0 else "" for d in range(10)], fontsize=5)
        ax.tick_params(length=1.5, pad=1)
        ax.grid(False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel("true", fontsize=6, labelpad=1)
    for ax in axes[-1, :]:
        ax.set_xlabel("predicted", fontsize=6, labelpad=1)
    bar = fig.colorbar(image, ax=axes, shrink=0.8, pad=0.01)
    bar.set_label("share of the true digit's images")
    fig.savefig(out)
    plt.close(fig)


def mistake_histograms(counts: np.ndarray, label: str, colour, out: str | Path) -> None:
    """One panel per true digit: how often each other label was wrongly given to it."""
    off = mistake_counts(counts)
    fig, axes = plt.subplots(2, 5, figsize=(6.3, 2.6), sharex=True, sharey=True)
    for d, ax in enumerate(axes.flat):
        bars = np.arange(10)
        ax.bar(bars, off[d], color=colour, width=0.8)
        ax.axvspan(d - 0.5, d + 0.5, color="0.9", zorder=0, linewidth=0)
        ax.set_title(f"true {d}: {int(off[d].sum()):,} wrong", fontsize=7)
        ax.set_xticks(bars, [str(b) for b in bars], fontsize=6)
        ax.grid(axis="x", visible=False)
    for ax in axes[1]:
        ax.set_xlabel("predicted label")
    for ax in axes[:, 0]:
        ax.set_ylabel("images")
    fig.suptitle(figure_text(f"model {label}: wrong labels per true digit", 90), fontsize=8)
    fig.savefig(out)
    plt.close(fig)


def per_digit_errors(errors: pd.DataFrame, labels: dict[str, str], out: str | Path) -> None:
    """Error rate (%) per true digit (columns) for every model (rows), the mean over models in
    the last row; a log colour scale, because the models' error rates span orders of magnitude."""
    from matplotlib.colors import LogNorm

    mat = errors.to_numpy(dtype=float) * 100
    rows = [labels.get(m, m) for m in errors.index]
    fig, ax = plt.subplots(figsize=(6.3, 0.22 * len(rows) + 0.9))
    finite = mat[np.isfinite(mat) & (mat > 0)]
    vmin = max(finite.min(), 0.1) if finite.size else 0.1
    norm = LogNorm(vmin=vmin, vmax=max(100.0, vmin * 10))
    cmap = plt.get_cmap("Reds")
    image = ax.imshow(np.clip(mat, vmin, None), norm=norm, cmap=cmap, aspect="auto")
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            v = mat[i, j]
            text = "--" if not np.isfinite(v) else f"{v:.1f}"
            colour = "black" if not np.isfinite(v) else _cell_text_colour(cmap, float(norm(max(v, vmin))))
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color=colour)
    ax.axhline(len(rows) - 1.5, color="black", linewidth=0.8)
    ax.set_xticks(range(10), [str(d) for d in range(10)])
    ax.set_yticks(range(len(rows)), [figure_text(r, 20) for r in rows])
    ax.set(xlabel="true digit", ylabel="model")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.grid(False)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("error rate (%)")
    fig.savefig(out)
    plt.close(fig)


def mistake_gallery(images: np.ndarray, mistakes: pd.DataFrame, out: str | Path, ncols: int = 8) -> None:
    """The test images a model was surest of and wrong about: true and predicted label and the
    probability it gave its prediction."""
    n = len(mistakes)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.3, 1.0 * nrows + 0.1), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, r in zip(axes.flat, mistakes.itertuples()):
        ax.imshow(images[int(r.index)], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"true {r.true}, said {r.predicted}\np = {r.probability:.3f}", fontsize=6)
    fig.savefig(out)
    plt.close(fig)


# --- ROC --------------------------------------------------------------------------------------

def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], aucs: dict[str, float],
               info: dict) -> "matplotlib.figure.Figure":
    """A page-wide ROC figure of one model: the ten one-vs-rest curves with their AUC, the
    micro and macro averages, and a panel listing the model and its accuracies."""
    fig = plt.figure(figsize=(6.3, 2.55))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 0.8])
    ax_digits, ax_avg = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    ax_info = fig.add_subplot(grid[2])
    cmap = plt.get_cmap("tab10")
    for ax in (ax_digits, ax_avg):
        ax.plot([0, 1], [0, 1], color="0.6", linewidth=0.6, linestyle=":", label="chance")
        ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="false positive rate", aspect="equal")
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", "0.25", "0.5", "0.75", "1"])
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0", "0.25", "0.5", "0.75", "1"])
    for d in range(10):
        if str(d) in curves:
            fpr, tpr = curves[str(d)]
            ax_digits.plot(fpr, tpr, color=cmap(d), linestyle=LINESTYLES[d % len(LINESTYLES)],
                           label=f"{d}: {aucs[str(d)]:.4f}")
    for name, style in (("micro", {"color": "black"}), ("macro", {"color": "tab:red", "linestyle": "--"})):
        if name in curves:
            ax_avg.plot(*curves[name], label=f"{name}: {aucs[name]:.4f}", **style)
    ax_digits.set(ylabel="true positive rate", title="one digit vs the rest")
    ax_avg.set(title="averages")
    ax_digits.legend(title="digit: AUC", loc="lower right", fontsize=5.5, title_fontsize=6,
                     handlelength=1.6, labelspacing=0.15, borderpad=0.2)
    ax_avg.legend(title="AUC", loc="lower right", fontsize=6.5, title_fontsize=6.5)
    if not curves:
        for ax in (ax_digits, ax_avg):
            ax.text(0.5, 0.5, "diverged:\nno finite probabilities", ha="center", va="center",
                    transform=ax.transAxes, fontsize=7)
    lines = [
        # one line per entry in this narrow panel: a long label is cut (the caption has it all)
        ("Model", figure_text(info["label"] if len(info["label"]) <= 18
                              else info["label"][:17] + "\u2026")),
        ("Layers", info["architecture"]),
        ("Parameters", f"{info['n_parameters']:,}"),
        ("Hidden act.", info["activation"]),
        ("Output act.", info["output_activation"]),
        ("Loss", info["loss"].replace("_", " ")),
        ("Optimizer", info["optimizer"].capitalize()),
        ("Learn. rate", f"{info['lr']:g}"),
        ("Batch size", str(info["batch_size"])),
        ("Epochs", str(info["epochs"])),
        ("Seed", f"{info['seed']} (of {info['n_seeds']})"),
        ("Train acc.", f"{info['train_accuracy']:.4f}"),
        ("Test acc.", f"{info['test_accuracy']:.4f}"),
    ]
    if info["n_seeds"] > 1:
        lines += [("Mean train", f"{info['train_accuracy_mean']:.4f}"),
                  ("Mean test", f"{info['test_accuracy_mean']:.4f}")]
    ax_info.set_axis_off()
    step = 0.93 / len(lines)
    for k, (key, value) in enumerate(lines):
        y = 0.97 - k * step
        ax_info.text(0.02, y, key, fontsize=6.5, fontweight="bold", va="top", transform=ax_info.transAxes)
        ax_info.text(0.47, y, value, fontsize=6.5, va="top", transform=ax_info.transAxes)
    return fig


# --- batch size against learning rate ---------------------------------------------------------

def batch_lr(findings: dict, metrics: dict[str, pd.DataFrame], styles: dict[str, dict],
             out: str | Path) -> None:
    """Test accuracy against batch size, one line per learning rate; every seed as a dot in its
    model's colour, the mean as the line."""
    fig, ax = plt.subplots(figsize=(4.2, 2.4))
    markers = ["o", "s", "^", "D"]
    for k, group in enumerate(findings["by_lr"]):
        pts = group["points"]
        ax.plot([p["batch_size"] for p in pts], [p["test_accuracy_mean"] for p in pts],
                color="0.3", linestyle=LINESTYLES[k % len(LINESTYLES)], marker=markers[k % 4],
                markersize=3, label=f"lr {group['lr']:g} (mean)")
        for p in pts:
            acc = metrics[p["model"]]["test_accuracy"].to_numpy()
            ax.scatter(np.full(len(acc), p["batch_size"]), acc, s=10, zorder=3,
                       color=styles[p["model"]]["color"], label=figure_text(f"model {p['label']}", 24))
    ax.set_xscale("log", base=2)
    batches = sorted({p["batch_size"] for g in findings["by_lr"] for p in g["points"]})
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.minorticks_off()
    ax.set(xlabel="batch size", ylabel="test accuracy")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.savefig(out)
    plt.close(fig)


# --- choosing a network: families, size and cost --------------------------------------------

FAMILY_STYLES = {"mlp": {"color": "tab:blue", "marker": "o", "name": "MLP"},
                 "cnn": {"color": "tab:orange", "marker": "s", "name": "CNN"}}


def _label_points(ax, points: list[tuple[float, float, str]]) -> None:
    """One label per point; points within 2 % of each other on both log axes are one point to
    the eye and share one label."""
    groups: dict[tuple[float, float], list[str]] = {}
    for x, y, name in points:
        groups.setdefault((round(np.log10(x), 2), round(np.log10(y), 2)), []).append(name)
    for (x, y), names in groups.items():
        ax.annotate(", ".join(names), (10 ** x, 10 ** y), xytext=(3, 2),
                    textcoords="offset points", fontsize=5.5)


def families(table: pd.DataFrame, out: str | Path) -> None:
    """Test error (log) against parameters (left) and against training wall time per member on
    this machine (right, both log), one point per model of the families table
    (mnist_study.evaluate.families) at its mean over seeds with its 95 % interval as a bar,
    coloured and shaped by family and labelled with its row number in that table (labels are
    free text of any length; numbers stay legible where models crowd); a hollow star marks the
    literature's error for a model that has one. A bar that reaches 0 runs to the bottom of the
    axis."""
    fig, axes = plt.subplots(1, 2, figsize=(6.3, 3.2), sharey=True)
    err = table["test_error_mean"].to_numpy(float)
    positive = np.concatenate([err, table["test_error_low"].to_numpy(float),
                               table["literature_test_error"].to_numpy(float)])
    positive = positive[np.isfinite(positive) & (positive > 0)]
    bottom = positive.min() / 2 if len(positive) else 1e-3
    highest = max(table["test_error_high"].max(), positive.max() if len(positive) else 0.5)
    top = min(1.0, 2 * highest)
    for ax, x_col, xlabel in ((axes[0], "n_parameters", "parameters"),
                              (axes[1], "wall_s_per_member",
                               "training wall time per member, this machine (s)")):
        points = []
        for number, r in enumerate(table.itertuples(index=False), start=1):
            x = getattr(r, x_col)
            if not np.isfinite(x) or x <= 0:
                continue
            style = FAMILY_STYLES.get(r.family, {"color": "0.4", "marker": "D"})
            y = max(r.test_error_mean, bottom)  # an error of 0 has no place on a log axis
            low = min(max(r.test_error_low, bottom), y)
            ax.errorbar(x, y, yerr=[[y - low], [max(r.test_error_high - y, 0.0)]],
                        fmt=style["marker"], color=style["color"], markersize=3.5, capsize=2,
                        linewidth=0.8)
            if np.isfinite(r.literature_test_error) and r.literature_test_error > 0:
                ax.plot(x, r.literature_test_error, marker="*", markersize=7, linestyle="none",
                        markerfacecolor="white", markeredgecolor=style["color"],
                        markeredgewidth=0.8, zorder=3)
            points.append((x, y, str(number)))
        _label_points(ax, points)
        ax.set(xscale="log", xlabel=xlabel)
        # a span of less than a decade gets labelled minor ticks by default, which collide
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.margins(x=0.08)  # room for the numbers beside the outermost points
        if not points:
            ax.text(0.5, 0.5, "no wall times recorded", transform=ax.transAxes, ha="center",
                    va="center", fontsize=7, color="0.4")
    axes[0].set(yscale="log", ylim=(bottom, top), ylabel="test error (1 - accuracy)")
    handles = [matplotlib.lines.Line2D([], [], color=s["color"], marker=s["marker"],
                                       linestyle="none", markersize=3.5, label=s["name"])
               for f, s in FAMILY_STYLES.items() if f in set(table["family"])]
    if table["literature_test_error"].notna().any():
        handles.append(matplotlib.lines.Line2D([], [], color="0.3", marker="*", linestyle="none",
                                               markersize=7, markerfacecolor="white",
                                               markeredgewidth=0.8, label="literature"))
    if handles:
        axes[0].legend(handles=handles, loc="best", fontsize=6)
    fig.savefig(out)
    plt.close(fig)


# --- trust ------------------------------------------------------------------------------------

def reliability_diagrams(models: dict[str, dict], out: str | Path) -> None:
    """Per model: the accuracy in each confidence bin (bars) and the bin's mean confidence (red
    ticks; the diagonal is perfect calibration), and the number of test images per bin below."""
    n = max(1, len(models))
    fig, axes = plt.subplots(2, n, figsize=(6.3, 3.4), squeeze=False, sharex=True,
                             gridspec_kw={"height_ratios": [3, 1]})
    for k, (label, b) in enumerate(models.items()):
        ax, ax_n = axes[0, k], axes[1, k]
        width = b["upper"] - b["lower"]
        ax.bar(b["lower"], np.nan_to_num(b["accuracy"]), width=width, align="edge",
               color="tab:blue", edgecolor="white", linewidth=0.4, label="accuracy")
        ax.scatter(b["lower"] + width / 2, b["confidence"], marker="_", s=40, linewidths=1.5,
                   color="tab:red", zorder=3, label="mean confidence")
        ax.plot([0, 1], [0, 1], color="0.3", linestyle=":", linewidth=0.8)
        ax.set(xlim=(0, 1), ylim=(0, 1), title=figure_text(f"model {label}", 22))
        ax_n.bar(b["lower"], np.maximum(b["count"], 0.8), width=width, align="edge", color="0.5")
        ax_n.set(yscale="log", xlabel="confidence")
        if k == 0:
            ax.set_ylabel("accuracy")
            ax_n.set_ylabel("images")
    axes[0, 0].legend(loc="upper left", fontsize=6)
    fig.savefig(out)
    plt.close(fig)


def risk_coverage(coverages: np.ndarray, accuracy: dict[str, np.ndarray], labels: dict[str, str],
                  styles: dict[str, dict], out: str | Path) -> None:
    """Accuracy on the most confident share of the test images, for every model: what it buys
    to let a network abstain on the answers it is least sure of."""
    fig, ax = plt.subplots(figsize=(6.3, 3.0))
    for m, acc in accuracy.items():
        ax.plot(100 * coverages, acc, label=figure_text(labels[m], 24), **styles[m])
    ax.set(xlabel="coverage: share of test images answered (%)",
           ylabel="accuracy on those answered", xlim=(0, 100))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=6)
    fig.savefig(out)
    plt.close(fig)
