"""Figures of the "inside the networks" section, from results files only."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from mnist_study.report.plots import SMALL, _save, figure_text, model_styles  # noqa: E402
from mnist_study.spec import DIGITS  # noqa: E402


def _image(ax, x, vmin=0.0, vmax=1.0, cmap="gray"):
    im = ax.imshow(x, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([]), ax.set_yticks([])
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    return im


def unfamiliar(names, originals, inputs, probs: dict[str, np.ndarray], labels: dict[str, str],
               all_models: list[str], out: str | Path, blocks: int = 2) -> None:
    """Per image: the original, the 28 x 28 input, and each model's class probabilities (mean
    over its seeds) as grouped bars. Images fill `blocks` side-by-side columns; an image's name
    (wrapped, never cut) on its left; the legend of models above, in as many columns as fit."""
    from mnist_study.report.plots import _legend_columns, _legend_lines

    styles = model_styles(all_models)
    n = len(names)
    rows = -(-n // blocks)
    entries = [figure_text(f"model {labels[m]}", 30) for m in probs]
    ncol = _legend_columns(entries, 6.0)
    legend_in = 0.155 * _legend_lines(entries, ncol)
    fig = plt.figure(figsize=(6.3, 0.75 * rows + 0.35 + legend_in))
    outer = fig.add_gridspec(rows, 3 * blocks, width_ratios=[1, 1, 2.6] * blocks)
    width = 0.8 / max(1, len(probs))
    handles = []
    for i in range(n):
        r, b = i % rows, i // rows
        ax_o, ax_i, ax_p = (fig.add_subplot(outer[r, 3 * b + k]) for k in range(3))
        _image(ax_o, originals[i], cmap=None)
        # level and wrapped: turned upright, a long name was taller than its row
        ax_o.set_ylabel(figure_text(names[i], 10), fontsize=SMALL, rotation=0, ha="right",
                        va="center")
        _image(ax_i, inputs[i])
        handles = [ax_p.bar(np.arange(10) + (k - (len(probs) - 1) / 2) * width, p[:, i].mean(0),
                            width, color=styles[m]["color"])
                   for k, (m, p) in enumerate(probs.items())]
        ax_p.set(ylim=(0, 1), xticks=range(10), yticks=[0, 0.5, 1], yticklabels=["0", ".5", "1"])
        ax_p.tick_params(labelsize=SMALL, length=1.5, pad=1)
        ax_p.grid(axis="x", visible=False)
        if r == 0:
            ax_o.set_title("image", fontsize=SMALL)
            ax_i.set_title("input", fontsize=SMALL)
            ax_p.set_title("class probability", fontsize=SMALL)
    fig.legend(handles, entries, loc="outside upper center", ncol=ncol)
    _save(fig, out)


def class_maximization(images: np.ndarray, means: np.ndarray, logits: np.ndarray,
                       out: str | Path) -> None:
    """The seed's Fig. 7: each digit's ideal input in gray, the class's average training image
    as a red-to-yellow overlay (transparent where the average is dark)."""
    fig, axes = plt.subplots(2, 5, figsize=(6.3, 2.9))
    overlay = plt.get_cmap("autumn")
    for c, ax in zip(DIGITS, axes.flat):
        _image(ax, images[c])
        rgba = overlay(1 - means[c])  # autumn runs red -> yellow; bright (frequent ink) = yellow
        rgba[..., 3] = np.clip(means[c] / means[c].max(), 0, 1) * 0.75
        ax.imshow(rgba, interpolation="nearest")
        ax.set_title(f"{c}  (logit {logits[c, c]:.0f})", fontsize=7)
    _save(fig, out)


def deep_dream(d: dict[str, np.ndarray], out: str | Path) -> None:
    """The seed's Fig. 8 and what clamping does: top, the average training digit and the one
    input for all ten labels; below, the per-digit inputs clamped and unclamped."""
    fig = plt.figure(figsize=(6.3, 3.6))
    gs = fig.add_gridspec(3, 10, height_ratios=[1.5, 1, 1])
    top = [("average training digit", d["mean_all"], 0, 1),
           ("one input, all labels\nclamped to [0, 1]", d["single_clamped"], 0, 1),
           ("one input, all labels\nunclamped", d["single_unclamped"],
            d["single_unclamped"].min(), d["single_unclamped"].max())]
    for k, (title, x, lo, hi) in enumerate(top):
        ax = fig.add_subplot(gs[0, 3 * k + 1:3 * k + 3])
        _image(ax, x, lo, hi)
        ax.set_title(title, fontsize=7)
    for r, tag in ((1, "clamped"), (2, "unclamped")):
        x = d[f"per_class_{tag}"]
        for c in DIGITS:
            ax = fig.add_subplot(gs[r, c])
            _image(ax, x[c], min(0, x.min()), max(1, x.max()))
            if r == 1:
                ax.set_title(str(c), fontsize=7)
            if c == 0:
                ax.set_ylabel(tag, fontsize=7)
    _save(fig, out)


def image_rows(rows: dict[str, np.ndarray], out: str | Path, label_width: float = 0.0,
               fontsize: float = SMALL) -> None:
    """One row of ten digits per entry, gray in [0, 1], the row's name (wrapped, never cut) on
    its left. Many rows get shorter, so that the figure stays within the page's height cap
    instead of being shrunk with its text (24 rows: 0.32 in each); `label_width` is unused,
    kept for callers."""
    n = len(rows)
    row_in = min(0.62, 7.75 / max(n, 1))
    # a short row holds two lines of 7 pt, not three: wrap the names wider there
    wrap = 16 if row_in >= 0.45 else 26
    fig, axes = plt.subplots(n, 10, figsize=(6.3, row_in * n + 0.25), squeeze=False)
    for r, (name, x) in enumerate(rows.items()):
        for c in DIGITS:
            _image(axes[r, c], x[c])
            if r == 0:
                axes[r, c].set_title(str(c), fontsize=fontsize)
        axes[r, 0].set_ylabel(figure_text(name, wrap), fontsize=fontsize, rotation=0, ha="right",
                              va="center")
    _save(fig, out)


def border_analysis(m: dict[str, np.ndarray], out: str | Path) -> None:
    """Top: how often each pixel is non-zero in training, the first-layer weight norm per pixel
    of the model and of its weight-decay control, and weight change against usage. Below: the
    ideal digits of the model, of the model with never-used inputs cut, and of the control."""
    fig = plt.figure(figsize=(6.3, 4.4))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.3, 1])
    ax_u, ax_n, ax_c, ax_s = top.subplots(1, 4, width_ratios=[1, 1, 1, 1.3])
    usage = m["usage"]
    im = ax_u.imshow(np.where(usage > 0, usage, np.nan), cmap="viridis", interpolation="nearest",
                     norm=LogNorm(vmin=max(usage[usage > 0].min(), 1e-5), vmax=1))
    ax_u.imshow(np.ma.masked_where(~m["never"], m["never"]), cmap="Reds", vmin=0, vmax=1.5,
                interpolation="nearest")
    ax_u.set_title("share of training\nimages non-zero", fontsize=7)
    top.colorbar(im, ax=ax_u, location="bottom", shrink=0.9)
    vmax = float(max(m["norm"].max(), m["control_norm"].max()))
    for ax, key, title in ((ax_n, "norm", "first-layer weight\nnorm per pixel"),
                           (ax_c, "control_norm", "same, trained with\nweight decay")):
        im = ax.imshow(m[key], cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=7)
    top.colorbar(im, ax=[ax_n, ax_c], location="bottom", shrink=0.6)
    for ax in (ax_u, ax_n, ax_c):
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    used = usage > 0
    ax_s.scatter(usage[used], m["relative_change"][used], s=2, color="C0", label="used")
    ax_s.scatter(np.full((~used).sum(), usage[used].min() / 3), m["relative_change"][~used], s=8,
                 color="C3", marker="x", label="never used (at left)")
    ax_s.set(xscale="log", xlabel="share of images non-zero", ylabel="relative weight change")
    ax_s.set_title("change from initialization", fontsize=7)
    ax_s.legend(loc="upper left", fontsize=SMALL)
    axes = bottom.subplots(3, 10)
    for r, (key, name) in enumerate((("render_model", "model"), ("render_inputs cut", "inputs cut"),
                                     ("render_weight decay", "weight\ndecay"))):
        for c in DIGITS:
            _image(axes[r, c], m[key][c])
        axes[r, 0].set_ylabel(name, fontsize=SMALL)
    _save(fig, out)
