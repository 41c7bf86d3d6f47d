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
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from mnist_study.evaluate.analysis import mistake_counts  # noqa: E402
from mnist_study.families import FAMILIES  # noqa: E402
from mnist_study.report.figure_checks import PRINTED_HEIGHT_IN, TEXTWIDTH_IN, layout_problems  # noqa: E402

LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P"]
# The smallest size any text is set at: 7 pt printed, and every figure that is as wide as
# the page is drawn 6.3 in wide and printed 6.535 in wide (figure_checks.TEXTWIDTH_IN).
SMALL = 7


def figure_text(text, width: int | None = None) -> str:
    """A name a user wrote (a model label, an image's file name), as a figure shows it: `$`
    escaped, so that matplotlib never reads it as mathematics, and wrapped at `width`
    characters, so that a long name does not run into its neighbours."""
    text = str(text)
    if width:
        text = "\n".join(textwrap.wrap(text, width, break_on_hyphens=False) or [""])
    return text.replace("$", r"\$")


def characters_across(width_in: float) -> int:
    """How many characters of text at the smallest size fit across `width_in` inches (a
    character about 0.65 em); never fewer than 8, so that a title can wrap at all."""
    return max(8, int(width_in * 72 / (0.65 * SMALL)))


def use_style(style: str | Path) -> None:
    plt.style.use(str(style))


def save_pages(figures: Iterable["matplotlib.figure.Figure"], out: str | Path,
               printed_width_in: float = TEXTWIDTH_IN) -> None:
    """Each figure as one page of one PDF, in order: the report includes them by page number,
    so a figure per model needs no file name made from a model id. Every page is checked
    first (figure_checks.layout_problems, the page printed `printed_width_in` wide): a page
    with overlapping or cut text, text below 7 pt printed or lines alike raises ValueError
    naming the file, the page and the problems, so that a bad figure fails its job."""
    # no creation date: the same figure is the same bytes on every run
    with PdfPages(out, metadata={"CreationDate": None}) as pdf:
        for page, fig in enumerate(figures, start=1):
            if fig.get_layout_engine() is None:
                # the report's style lays every figure out so; a caller without it (a test)
                # would otherwise get labels cut at the canvas' edge
                fig.set_layout_engine("constrained")
            plain_log_ticks(fig)
            problems = layout_problems(fig, printed_width_in=printed_width_in)
            if problems:
                plt.close(fig)
                raise ValueError(f"figure {out}, page {page}: " + "; ".join(problems))
            pdf.savefig(fig)
            plt.close(fig)


SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076"
                                            "\u2077\u2078\u2079")


def plain_number(x: float) -> str:
    """A tick value as plain text at full size: 0.001, 0.5, 20, 5k, 1M, and a power of ten
    beyond those as 10 with Unicode superscript digits (10⁻¹⁴), which the font draws at the
    label's own size, unlike mathtext's shrunken exponent."""
    if x == 0:
        return "0"
    exponent = np.log10(abs(x))
    if (abs(x) < 1e-3 or abs(x) >= 1e12) and np.isclose(exponent, round(exponent)):
        return ("\u2212" if x < 0 else "") + "10" + str(int(round(exponent))).translate(SUPERSCRIPT)
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:g}{prefix}".replace("-", "\u2212")
    return f"{x:g}".replace("-", "\u2212")


def plain_log_ticks(fig) -> None:
    """Major ticks of every log or symlog axis (colour bars included) as plain numbers, minor
    ones unlabelled: matplotlib's default 10^k sets the exponent at 70 % of the label's size,
    below what a printed page can show at the report's scale."""
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, NullFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() in ("log", "symlog") and isinstance(
                    axis.get_major_formatter(), LogFormatterSciNotation):
                axis.set_major_formatter(FuncFormatter(lambda x, _: plain_number(x)))
                axis.set_minor_formatter(NullFormatter())


def _save(fig, out: str | Path, printed_width_in: float = TEXTWIDTH_IN) -> None:
    save_pages([fig], out, printed_width_in)


def model_styles(model_ids: list[str]) -> dict[str, dict]:
    """A fixed colour, line style and marker per model, the same in every figure of the
    report, and no two models alike. Colour and line style both step at once, so neighbours
    in the list differ in both and a print in grey still tells them apart; the line style
    also steps once more every 10 models, so the first 40 models get 40 distinct pairs
    (model i and i + 10k share a colour, their styles differ by 11k mod 4 != 0). Beyond 40 a
    marker tells them apart."""
    cmap = plt.get_cmap("tab10")
    styles = {}
    for i, m in enumerate(model_ids):
        styles[m] = {"color": cmap(i % 10), "linestyle": LINESTYLES[(i + i // 10) % len(LINESTYLES)],
                     "marker": None if i < 40 else MARKERS[(i // 40 - 1) % len(MARKERS)]}
    return styles


def _legend_columns(labels: list[str], width_in: float, fontsize: float = SMALL) -> int:
    """As many legend columns as the longest label (its longest wrapped line) allows across
    `width_in`: a handle and a gap take about 4 em, a character about 0.55 em."""
    longest = max((len(line) for label in labels for line in label.split("\n")), default=1)
    per_column_in = (longest * 0.55 + 4) * fontsize / 72
    return max(1, min(len(labels), int(width_in // per_column_in)))


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average that ignores non-finite values (diverged steps)."""
    s = pd.Series(values).where(np.isfinite(values))
    return s.rolling(window, min_periods=1).mean().to_numpy()


def loss_curves(step_histories: dict[str, pd.DataFrame], epoch_histories: dict[str, pd.DataFrame],
                labels: dict[str, str], out: str | Path, smoothing: float = 0.01) -> dict:
    """Training loss per step (mean over seeds, a moving average over the share `smoothing` of
    the steps) against epochs; training loss per epoch (mean of its steps); test loss at the
    end of each epoch. One shared loss axis, log scale; the legend below the panels, in as
    many columns as fit.

    A loss of zero or below has no place on a log axis (NLL on raw scores falls to -9e13):
    where any model has one, the axis is symmetric-log instead (linear within +-`linthresh`),
    the figure says so in its title line, and the returned dict names those models:
    {"yscale": "log" or "symlog", "linthresh": float or None, "negative": [model ids]}."""
    styles = model_styles(list(labels))  # all models, config order: the same colours everywhere
    fig, (ax_step, ax_train, ax_test) = plt.subplots(1, 3, figsize=(6.3, 2.7), sharey=True)
    negative, finite = [], []
    for m, steps in step_histories.items():
        per_step = steps.groupby("step")["loss"].mean()
        n_epochs = epoch_histories[m]["epoch"].max()
        x = per_step.index.to_numpy() / per_step.index.max() * n_epochs
        window = max(1, round(len(per_step) * smoothing))
        per_epoch = epoch_histories[m].groupby("epoch")[["train_loss", "test_loss"]].mean()
        values = np.concatenate([per_step.to_numpy(), per_epoch.to_numpy().ravel()])
        values = values[np.isfinite(values)]
        if (values <= 0).any():
            negative.append(m)
        finite.append(values)
        line = {"marker": None, **styles[m]}
        ax_step.plot(x, smooth(per_step.to_numpy(), window), label=figure_text(labels[m], 28), **line)
        # the per-epoch points get a marker; a model's own marker, if it has one, wins
        dots = {**line, "marker": line["marker"] or "o", "markersize": 2}
        for ax, col in ((ax_train, "train_loss"), (ax_test, "test_loss")):
            ax.plot(per_epoch.index, per_epoch[col].to_numpy(), **dots)
    shown = {"yscale": "log", "linthresh": None, "negative": negative}
    if negative:
        values = np.concatenate(finite)
        positive = values[values > 0]
        # linear around zero down to the smallest positive loss's decade
        first = int(np.floor(np.log10(positive.min()))) if len(positive) else 0
        shown.update(yscale="symlog", linthresh=10.0 ** first)
        ax_step.set_yscale("symlog", linthresh=shown["linthresh"])
        # a tick on every decade of -9e13 ... 1 is 30 labels on top of each other: a tick
        # every few decades, about seven in all, none beside 0 (the linear part is narrow)
        top = {sign: int(np.ceil(np.log10(max(sign * values.max() if sign > 0 else -values.min(),
                                                  shown["linthresh"]))))
               for sign in (-1, 1)}
        every = max(1, int(np.ceil((top[-1] + top[1] - 2 * first) / 6)))
        ticks = [0.0] + [sign * 10.0 ** e for sign in (-1, 1)
                         for e in range(first + every, top[sign] + 1, every)]
        ax_step.yaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        ax_step.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        names = ", ".join(labels[m] for m in negative)
        models = f"{len(negative)} model{'s' if len(negative) != 1 else ''}"
        fig.suptitle(figure_text(f"losses of {models} fall to zero or below "
                                 f"({names}): symmetric log scale, linear within "
                                 f"\u00b1{shown['linthresh']:g}", 110), fontsize=SMALL)
    else:
        ax_step.set_yscale("log")
    ax_step.set(xlabel="epoch", ylabel="loss", title="train, per step")
    ax_train.set(xlabel="epoch", title="train, per epoch")
    ax_test.set(xlabel="epoch", title="test, per epoch")
    n_epochs = max(int(h["epoch"].max()) for h in epoch_histories.values())
    for ax in (ax_train, ax_test):
        ax.set_xticks(range(1, n_epochs + 1, max(1, n_epochs // 5)))
        ax.set_xlim(0.5, n_epochs + 0.5)
    handles, texts = ax_step.get_legend_handles_labels()
    ncol = _legend_columns(texts, 6.0)
    # below the panels: a column of 24 names beside them would run off the page
    fig.set_figheight(2.7 + 0.155 * _legend_lines(texts, ncol))
    fig.legend(handles, texts, loc="outside lower center", ncol=ncol, title="model")
    _save(fig, out)
    return shown


def learning_curves(table: pd.DataFrame, labels: dict[str, str], out: str | Path,
                    columns: int = 5) -> None:
    """One small panel per model (config order): its test error (1 - accuracy) after each
    epoch, the mean over seeds as a line and the lowest to highest seed as a band; for a model
    that validates, the same for its validation images, dashed. One log error axis for all
    panels, so that the panels compare; `table` is curves.learning_curves per model, with a
    `model` column."""
    models = [m for m in labels if m in set(table["model"])]
    rows = max(1, -(-len(models) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(6.3, 0.35 + 1.2 * rows), sharey=True,
                             squeeze=False)
    drawn = {"test": ("-", "C0", "test"), "val": ("--", "C3", "validation")}
    # a title as wide as its panel holds: the cell less the tick labels, 0.65 em a character
    title_chars = characters_across(6.3 / columns - 0.3)
    errors = 1 - table.loc[table["split"].isin(list(drawn)), ["low", "high", "mean"]].to_numpy(float)
    errors = errors[np.isfinite(errors) & (errors > 0)]
    for ax, m in zip(axes.flat, models):
        of = table[table["model"] == m]
        for split, (linestyle, color, _) in drawn.items():
            curve = of[of["split"] == split].sort_values("epoch")
            if curve.empty:
                continue
            x = curve["epoch"].to_numpy()
            ax.fill_between(x, 1 - curve["high"], 1 - curve["low"], color=color, alpha=0.25,
                            linewidth=0)
            ax.plot(x, 1 - curve["mean"], linestyle=linestyle, color=color, marker="o",
                    markersize=1.5)
        epochs = int(of["epoch"].max())
        ax.set_xticks(sorted({1, epochs, *range(5, epochs, 5)}))
        ax.set_xlim(0.5, epochs + 0.5)
        ax.set_title(figure_text(labels[m], title_chars), fontsize=SMALL)
    for ax in axes.flat[len(models):]:
        ax.remove()
    axes[0, 0].set_yscale("log")
    if len(errors):
        axes[0, 0].set_ylim(errors.min() / 1.3, min(1.0, errors.max() * 1.3))
    for ax in axes[:, 0]:
        ax.set_ylabel("error")
    for column in range(min(columns, len(models))):  # under the lowest panel of each column
        lowest = (len(models) - 1 - column) // columns
        axes[lowest, column].set_xlabel("epoch")
    handles = [matplotlib.lines.Line2D([], [], linestyle=ls, color=c) for ls, c, _ in drawn.values()]
    fig.legend(handles, [name for *_, name in drawn.values()], loc="outside lower center",
               ncol=2, title="mean over seeds (band: lowest to highest seed)")
    _save(fig, out)


def _legend_lines(texts: list[str], ncol: int) -> int:
    """Text lines of a legend of `texts` in `ncol` columns, which matplotlib fills column by
    column: its tallest column, plus one line for the title."""
    if not texts:  # nothing to list (a figure left empty for a study without its models)
        return 0
    per_column = -(-len(texts) // ncol)
    columns = [texts[k:k + per_column] for k in range(0, len(texts), per_column)]
    return 1 + max((sum(t.count("\n") + 1 for t in c) for c in columns), default=0)


# --- the data ---------------------------------------------------------------------------------

def digit_means(means: np.ndarray, counts: np.ndarray, out: str | Path) -> None:
    """Ten panels: the average training image of each digit, with its number of images."""
    fig, axes = plt.subplots(1, 10, figsize=(6.3, 1.05))
    for d, ax in enumerate(axes):
        ax.imshow(means[d], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{d}\n(n = {counts[d]:,})", fontsize=7)
        ax.set_axis_off()
    _save(fig, out)


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
    colour scale (lin_log_norm); values in the cells; diverged cells hatched and marked NaN.
    Both axes run in numeric order, whatever type the table's columns were read as."""
    from matplotlib.patches import Rectangle

    # as numbers: hidden sizes read as text would sort 16, 4, 64
    table = table.assign(hidden=pd.to_numeric(table["hidden"]), lr=pd.to_numeric(table["lr"]))
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
    fontsize = SMALL
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
        # upright: the boxes of labels at 45 degrees overlap even where their letters do not
        ax.set_xticks(range(n_lr), [f"{lr:.2g}" for lr in lrs], rotation=90)
        ax.set_yticks(range(n_h), [f"{h:g}" for h in hidden])
        ax.set(xlabel="learning rate", title=f"{split} accuracy")
        ax.grid(False)
    axes[0].set_ylabel("hidden units")
    bar = fig.colorbar(image, ax=axes, shrink=0.9, pad=0.02)
    bar.set_ticks(lin_log_ticks(linear_below, vmax))
    bar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    bar.set_label("accuracy")
    _save(fig, out)


# --- mistakes ---------------------------------------------------------------------------------

def confusion_grid(matrices: dict[str, np.ndarray], labels: dict[str, str], out: str | Path,
                   ncols: int = 5, floor: float = 1e-3) -> None:
    """Every model's row-normalized 10 x 10 confusion matrix in one grid, one shared log colour
    scale so that mistakes of 0.1 % and 50 % are both visible beside the diagonal. More models
    make more rows (24 models: 5 rows of 5), never smaller text; the colour bar has its own
    row below the grid, so it covers no panel."""
    from matplotlib.colors import LogNorm

    n = len(matrices)
    ncols = max(1, min(ncols, n))

    def layout(ncols):
        # titles wrapped to what a panel's image holds (its cell less the row's tick labels, a
        # character about 0.65 em), then the height their lines and the rows take
        chars = characters_across(6.3 / ncols - 0.2)
        titles = {m: figure_text(f"model {labels[m]}", chars) for m in matrices}
        lines = max(t.count("\n") + 1 for t in titles.values())
        return titles, (1.1 + 0.11 * lines) * -(-n // ncols) + 0.6

    titles, height = layout(ncols)
    # taller than the page's height cap, LaTeX would shrink it, text and all: more columns
    while height > 8.0 and ncols < 8:
        ncols += 1
        titles, height = layout(ncols)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.3, height), squeeze=False)
    norm = LogNorm(vmin=floor, vmax=1)
    cmap = plt.get_cmap("magma_r").with_extremes(under="white", bad="white")
    image = None
    for ax, (m, mat) in zip(axes.flat, matrices.items()):
        visible = np.where(mat > 0, mat, np.nan)
        image = ax.imshow(np.clip(visible, floor, 1), norm=norm, cmap=cmap)
        ax.set_title(titles[m], fontsize=SMALL)
        ax.set_xticks(range(10), [str(d) if d % 3 == 0 else "" for d in range(10)], fontsize=SMALL)
        ax.set_yticks(range(10), [str(d) if d % 3 == 0 else "" for d in range(10)], fontsize=SMALL)
        ax.tick_params(length=1.5, pad=1)
        ax.grid(False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel("true", fontsize=SMALL, labelpad=1)
    for ax in axes.flat[max(0, n - ncols):n]:  # the lowest panel of each column
        ax.set_xlabel("predicted", fontsize=SMALL, labelpad=1)
    # below the grid, as wide as a few panels: at the side it took a column's room
    bar = fig.colorbar(image, ax=axes, location="bottom", shrink=min(0.6, 0.3 * ncols),
                       aspect=40, pad=0.02)
    bar.set_label("share of the true digit's images")
    _save(fig, out)


def mistake_histograms(counts: np.ndarray, label: str, colour, out: str | Path) -> None:
    """One panel per true digit: how often each other label was wrongly given to it."""
    off = mistake_counts(counts)
    fig, axes = plt.subplots(2, 5, figsize=(6.3, 2.6), sharex=True, sharey=True)
    for d, ax in enumerate(axes.flat):
        bars = np.arange(10)
        ax.bar(bars, off[d], color=colour, width=0.8)
        ax.axvspan(d - 0.5, d + 0.5, color="0.9", zorder=0, linewidth=0)
        ax.set_title(f"true {d}: {int(off[d].sum()):,} wrong", fontsize=SMALL)
        ax.set_xticks(bars, [str(b) for b in bars], fontsize=SMALL)
        ax.grid(axis="x", visible=False)
    for ax in axes[1]:
        ax.set_xlabel("predicted label")
    for ax in axes[:, 0]:
        ax.set_ylabel("images")
    fig.suptitle(figure_text(f"model {label}: wrong labels per true digit", 90), fontsize=8)
    _save(fig, out)


def per_digit_errors(errors: pd.DataFrame, labels: dict[str, str], out: str | Path) -> None:
    """Error rate (%) per true digit (columns) for every model (rows), the median over models in
    the last row; a log colour scale, because the models' error rates span orders of magnitude."""
    from matplotlib.colors import LogNorm

    mat = errors.to_numpy(dtype=float) * 100
    rows = [figure_text(labels.get(m, m), 24) for m in errors.index]
    # a row as tall as two lines of text where a name wraps, so that names do not touch; where
    # that would pass the page's height (figure_checks), as tall as two lines need and no more
    fit = (PRINTED_HEIGHT_IN * 6.3 / TEXTWIDTH_IN - 1.0) / len(rows)
    row_in = max(0.24, min(0.28, fit)) if any("\n" in r for r in rows) else 0.2
    fig, ax = plt.subplots(figsize=(6.3, row_in * len(rows) + 0.9))
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
            ax.text(j, i, text, ha="center", va="center", fontsize=SMALL, color=colour)
    ax.axhline(len(rows) - 1.5, color="black", linewidth=0.8)
    ax.set_xticks(range(10), [str(d) for d in range(10)])
    ax.set_yticks(range(len(rows)), rows)
    ax.set(xlabel="true digit", ylabel="model")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.grid(False)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("error rate (%)")
    _save(fig, out)


def mistake_gallery(images: np.ndarray, mistakes: pd.DataFrame, out: str | Path, ncols: int = 8) -> None:
    """The test images a model was surest of and wrong about: true and predicted label and the
    probability it gave its prediction."""
    n = len(mistakes)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.3, 1.05 * nrows + 0.1), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, r in zip(axes.flat, mistakes.itertuples()):
        ax.imshow(images[int(r.index)], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"true {r.true}, said {r.predicted}\np = {r.probability:.3f}", fontsize=SMALL)
    _save(fig, out)


# --- ROC --------------------------------------------------------------------------------------

def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], aucs: dict[str, float],
               info: dict) -> "matplotlib.figure.Figure":
    """A page-wide ROC figure of one model: the ten one-vs-rest curves with their AUC, the
    micro and macro averages, and a panel listing the model and its accuracies (a long label
    or layer list wraps; the figure grows to hold it)."""
    rows = [
        ("Model", figure_text(info["label"])),
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
        rows += [("Mean train", f"{info['train_accuracy_mean']:.4f}"),
                 ("Mean test", f"{info['test_accuracy_mean']:.4f}")]
    rows = [(key, _wrap_lines(str(value), 22)) for key, value in rows]
    n_lines = sum(value.count("\n") + 1 for _, value in rows)
    fig = plt.figure(figsize=(6.3, max(2.55, n_lines * INFO_LINE_PT / 72 + 0.35)))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.05])
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
    ax_digits.legend(title="digit: AUC", loc="lower right", fontsize=SMALL, title_fontsize=SMALL,
                     handlelength=1.6, labelspacing=0.1, borderpad=0.2, borderaxespad=0.2)
    ax_avg.legend(title="AUC", loc="lower right", fontsize=SMALL, title_fontsize=SMALL)
    if not curves:
        for ax in (ax_digits, ax_avg):
            ax.text(0.5, 0.5, "diverged:\nno finite probabilities", ha="center", va="center",
                    transform=ax.transAxes, fontsize=SMALL)
    _key_value_panel(fig, ax_info, rows)
    return fig


INFO_LINE_PT = 1.3 * SMALL  # one line of the ROC figure's info panel


def _wrap_lines(text: str, width: int) -> str:
    """Lines of at most `width` characters, broken at spaces or after hyphens (a layer list
    784-1024-1024-1024-10 breaks between layers, not inside a number)."""
    return "\n".join(textwrap.wrap(text, width) or [""])


def _key_value_panel(fig, ax, rows: list[tuple[str, str]], fontsize: float = SMALL) -> None:
    """Keys (bold) and values in two columns from the top of `ax`: the values start where the
    widest key ends, measured, so that no key can run into its value; each row starts below
    the last line of the row above (values may span lines), key and value on one baseline
    (aligned by their tops, a bold key and a value with brackets sat a pixel apart). The
    first baseline is one em below the top of `ax`."""
    from matplotlib.transforms import offset_copy

    ax.set_axis_off()
    renderer = fig.canvas.get_renderer()
    keys = [ax.text(0, 1, key, fontsize=fontsize, fontweight="bold", va="baseline",
                    transform=ax.transAxes) for key, _ in rows]
    key_pt = max(k.get_window_extent(renderer).width for k in keys) * 72 / fig.dpi
    lines = 0
    for key, (_, value) in zip(keys, rows):
        key.set_transform(offset_copy(ax.transAxes, fig, y=-lines * INFO_LINE_PT - fontsize,
                                      units="points"))
        # a Text per line, each on its own baseline: matplotlib puts a multi-line text's
        # *last* baseline at y, which pushed a wrapped value up into the row above
        for line in value.split("\n"):
            ax.text(0, 1, line, fontsize=fontsize, va="baseline",
                    transform=offset_copy(ax.transAxes, fig, x=key_pt + 0.6 * fontsize,
                                          y=-lines * INFO_LINE_PT - fontsize, units="points"))
            lines += 1


# --- batch size against learning rate ---------------------------------------------------------

BATCH_LR_WIDTH_IN = 0.7 * TEXTWIDTH_IN  # \includegraphics[width=0.7\textwidth]

def batch_lr(findings: dict, metrics: dict[str, pd.DataFrame], styles: dict[str, dict],
             out: str | Path) -> None:
    """Test accuracy against batch size, one line per learning rate; every seed as a dot in its
    model's colour, the mean as the line; the legend below, in as many columns as fit. The
    report prints it at 0.7 of the text width (BATCH_LR_WIDTH_IN), and it is checked so."""
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
    if not findings["by_lr"]:  # a study without such models (the report leaves the figure out)
        ax.text(0.5, 0.5, "no models that differ only in batch size and learning rate",
                transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.4")
    handles, texts = ax.get_legend_handles_labels()
    ncol = _legend_columns(texts, 4.0)
    fig.set_figheight(2.4 + 0.155 * _legend_lines(texts, ncol))
    fig.legend(handles, texts, loc="outside lower center", ncol=ncol)
    _save(fig, out, printed_width_in=BATCH_LR_WIDTH_IN)


# --- choosing a network: families, size and cost --------------------------------------------


def _label_spots() -> list[tuple[tuple[float, float], str, str]]:
    """Where a point's label may go, in points from the point, nearest first: eight
    directions on rings of growing radius, each spot aligned so that the label points away
    from its point. The first spot that is free is taken."""
    spots = []
    for radius in (3, 8, 14, 20, 27):
        for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)):
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
            spots.append(((radius * dx, radius * dy), ha, va))
    return spots


LABEL_SPOTS = _label_spots()


def _label_points(ax, points: list[tuple[float, float, str]], obstacles: list) -> None:
    """One label per point, placed where it overlaps no other label, nothing in `obstacles`
    (window extents: a legend) and stays inside the axes; points within 2 % of each other on
    both log axes are one point to the eye and share one label. Call it once the figure's
    layout is final (after a draw): it measures where the labels land."""
    groups: dict[tuple[float, float], list[str]] = {}
    for x, y, name in points:
        groups.setdefault((round(np.log10(x), 2), round(np.log10(y), 2)), []).append(name)
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    for (x, y), names in groups.items():
        label = ax.annotate(", ".join(names), (10 ** x, 10 ** y), textcoords="offset points",
                            fontsize=SMALL)
        for offset, ha, va in LABEL_SPOTS:
            label.set(position=offset, ha=ha, va=va)
            box = label.get_window_extent(renderer)
            free = not any(box.overlaps(o) for o in obstacles)
            if free and inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1):
                break
        else:
            label.set(position=LABEL_SPOTS[0][0], ha=LABEL_SPOTS[0][1], va=LABEL_SPOTS[0][2])
        obstacles.append(label.get_window_extent(renderer))


def families(table: pd.DataFrame, out: str | Path) -> None:
    """Test error (log) against parameters (left) and against training wall time per member on
    this machine (right, both log), one point per model of the families table
    (mnist_study.evaluate.choosing) at its mean over seeds with its 95 % interval as a bar,
    coloured and shaped by family and labelled with its row number in that table (labels are
    free text of any length; numbers stay legible where models crowd); a hollow star marks the
    literature's error for a model that has one. A bar that reaches 0 runs to the bottom of the
    axis."""
    fig, axes = plt.subplots(1, 2, figsize=(6.3, 3.2), sharey=True)
    labelled = []
    err = table["test_error_mean"].to_numpy(float)
    positive = np.concatenate([err, table["test_error_low"].to_numpy(float),
                               table["literature_test_error"].to_numpy(float)])
    positive = positive[np.isfinite(positive) & (positive > 0)]
    bottom = positive.min() / 2 if len(positive) else 1e-3
    highest = max(table["test_error_high"].max(), positive.max() if len(positive) else 0.5)
    top = min(1.0, 2 * highest)
    for ax, x_col, xlabel in ((axes[0], "n_parameters", "parameters"),
                              (axes[1], "wall_s_per_member",
                               "training wall time per seed,\nthis machine (s)")):
        points = []
        for number, r in enumerate(table.itertuples(index=False), start=1):
            x = getattr(r, x_col)
            if not np.isfinite(x) or x <= 0:
                continue
            style = FAMILIES[r.family].style
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
        labelled.append((ax, points))
        ax.set(xscale="log", xlabel=xlabel)
        # a span of less than a decade gets labelled minor ticks by default, which collide
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.margins(x=0.08)  # room for the numbers beside the outermost points
        if not points:
            ax.text(0.5, 0.5, "no wall times recorded", transform=ax.transAxes, ha="center",
                    va="center", fontsize=7, color="0.4")
    axes[0].set(yscale="log", ylim=(bottom, top), ylabel="test error (1 - accuracy)")
    handles = [matplotlib.lines.Line2D([], [], color=s["color"], marker=s["marker"],
                                       linestyle="none", markersize=3.5, label=f.short)
               for f in FAMILIES.values() for s in [f.style] if f.name in set(table["family"])]
    if table["literature_test_error"].notna().any():
        handles.append(matplotlib.lines.Line2D([], [], color="0.3", marker="*", linestyle="none",
                                               markersize=7, markerfacecolor="white",
                                               markeredgewidth=0.8, label="literature"))
    legend = axes[0].legend(handles=handles, loc="best", fontsize=SMALL) if handles else None
    fig.canvas.draw()  # the final layout (and the legend's place): the labels go around it
    obstacles = []
    if legend:
        # held where "best" put it: with the labels in, "best" would move it onto one
        box, frame = legend.get_window_extent(), axes[0].bbox
        legend.set_loc(((box.x0 - frame.x0) / frame.width, (box.y0 - frame.y0) / frame.height))
        obstacles.append(box)
    for ax, points in labelled:
        _label_points(ax, points, obstacles)
    _save(fig, out)


# --- trust ------------------------------------------------------------------------------------

def reliability_diagrams(models: dict[str, dict], out: str | Path) -> None:
    """Per model: the accuracy in each confidence bin (bars) and the bin's mean confidence (red
    ticks; the diagonal is perfect calibration), and the number of test images per bin below.
    Up to 4 models side by side; more wrap into further rows (up to 6 a row), never smaller
    text: up to 24 models with long names fit a page (the report shows 4,
    evaluate.trust.telling_models)."""
    n = max(1, len(models))

    def layout(ncols):
        """Titles wrapped to a panel's width, and the figure's height: 1.45 in a row of
        panels and 0.12 in a line of their titles."""
        width = characters_across(5.6 / ncols - 0.1)
        titles = [figure_text(f"model {label}", width) for label in models]
        lines = max((t.count("\n") + 1 for t in titles), default=1)
        blocks = -(-n // ncols)
        return titles, blocks, max(3.4 if blocks == 1 else 0, (1.45 + 0.12 * lines) * blocks + 0.35)

    ncols = min(n, 4)
    while layout(ncols)[2] > 8.0 and ncols < 6:
        ncols += 1
    titles, blocks, height = layout(ncols)
    fig, axes = plt.subplots(2 * blocks, ncols, figsize=(6.3, height), squeeze=False, sharex=True,
                             gridspec_kw={"height_ratios": [3, 1] * blocks})
    for ax_n in axes[1::2].flat[1:]:  # every model counts the same test images: one scale
        ax_n.sharey(axes[1, 0])
    for k in range(blocks * ncols):
        ax, ax_n = axes[2 * (k // ncols), k % ncols], axes[2 * (k // ncols) + 1, k % ncols]
        if k >= len(models):
            ax.set_axis_off(), ax_n.set_axis_off()
            continue
        label, b = list(models.items())[k]
        width = b["upper"] - b["lower"]
        ax.bar(b["lower"], np.nan_to_num(b["accuracy"]), width=width, align="edge",
               color="tab:blue", edgecolor="white", linewidth=0.4, label="accuracy")
        ax.scatter(b["lower"] + width / 2, b["confidence"], marker="_", s=40, linewidths=1.5,
                   color="tab:red", zorder=3, label="mean confidence")
        ax.plot([0, 1], [0, 1], color="0.3", linestyle=":", linewidth=0.8)
        ax.set(xlim=(0, 1), ylim=(0, 1), title=titles[k])
        ax_n.bar(b["lower"], np.maximum(b["count"], 0.8), width=width, align="edge", color="0.5")
        ax_n.set(yscale="log")
        if k % ncols == 0:
            ax.set_ylabel("accuracy")
            ax_n.set_ylabel("images")
        else:  # the same scales as the first column's
            ax.tick_params(labelleft=False)
            ax_n.tick_params(labelleft=False)
    for ax in axes[-1]:
        ax.set_xlabel("confidence")
    # below the grid: inside a panel it covered the bars
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=2)
    _save(fig, out)


def risk_coverage(coverages: np.ndarray, accuracy: dict[str, np.ndarray], labels: dict[str, str],
                  styles: dict[str, dict], out: str | Path) -> None:
    """Accuracy on the most confident share of the test images, for every model: what it buys
    to let a network abstain on the answers it is least sure of."""
    fig, ax = plt.subplots(figsize=(6.3, 3.0))
    for m, acc in accuracy.items():
        ax.plot(100 * coverages, acc, label=figure_text(labels[m], 28), **styles[m])
    ax.set(xlabel="coverage: share of test images answered (%)",
           ylabel="accuracy on those answered", xlim=(0, 100))
    handles, texts = ax.get_legend_handles_labels()
    ncol = _legend_columns(texts, 6.0)
    fig.set_figheight(3.0 + 0.155 * _legend_lines(texts, ncol))
    # below the axes: a column of 24 names beside them would run off the page
    fig.legend(handles, texts, loc="outside lower center", ncol=ncol)
    _save(fig, out)
