"""Checks of a figure's layout made from matplotlib's own geometry (STYLE.md, "A page checked by
machine"): what a reader of the printed report would see as a fault, found without looking.

`layout_problems` draws the figure once and measures every text that was drawn. It knows
nothing about any particular figure, so every figure of the report is held to the same rules.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict

import matplotlib.text
import numpy as np
from matplotlib.colors import to_hex

# The report's page (A4, 2.2 cm margins): \textwidth = 16.6 cm, and every figure is capped at
# 0.82 \textheight (25.3 cm) with keepaspectratio.
TEXTWIDTH_IN = 16.6 / 2.54
PRINTED_HEIGHT_IN = 0.82 * 25.3 / 2.54
MIN_PT = 7.0
TOLERANCE_PX = 1.0  # anti-aliasing and rounding: a touch of 1 px is not an overlap


@contextlib.contextmanager
def _recording_drawn_texts(drawn: list):
    """Every Text that draws itself while this is active, in drawing order. Asking the draw is
    the only sure way to know what is on the page: tick labels outside the view, labels of an
    axis switched off and hidden parents all exist as Text objects that are never drawn."""
    original = matplotlib.text.Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    matplotlib.text.Text.draw = draw
    try:
        yield
    finally:
        matplotlib.text.Text.draw = original


def _name(text: matplotlib.text.Text) -> str:
    s = " ".join(text.get_text().split())
    return repr(s if len(s) <= 40 else s[:39] + "\u2026")


def printed_scale(fig, printed_width_in: float = TEXTWIDTH_IN,
                  printed_height_in: float = PRINTED_HEIGHT_IN) -> float:
    """How much LaTeX scales the figure: to the printed width, unless that makes it taller than
    the height cap (keepaspectratio)."""
    width, height = fig.get_size_inches()
    return min(printed_width_in / width, printed_height_in / height)


def _overlaps(texts, boxes, tolerance) -> list[str]:
    x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
    problems = []
    for i in range(len(texts)):
        dx = np.minimum(x1[i], x1[i + 1:]) - np.maximum(x0[i], x0[i + 1:])
        dy = np.minimum(y1[i], y1[i + 1:]) - np.maximum(y0[i], y0[i + 1:])
        for j in np.flatnonzero((dx > tolerance) & (dy > tolerance)):
            problems.append(f"text {_name(texts[i])} overlaps text {_name(texts[i + 1 + j])}")
    return problems


def _outside(texts, boxes, fig_box, tolerance) -> list[str]:
    return [f"text {_name(t)} runs outside the figure"
            for t, (x0, y0, x1, y1) in zip(texts, boxes)
            if x0 < fig_box.x0 - tolerance or y0 < fig_box.y0 - tolerance
            or x1 > fig_box.x1 + tolerance or y1 > fig_box.y1 + tolerance]


# mathtext sets a sub- or superscript at this share of the text's size (matplotlib's
# SHRINK_FACTOR): the exponent of a "10^-3" tick label is the smallest glyph of the figure.
SCRIPT_SHRINK = 0.7
_SCRIPT = re.compile(r"\$[^$]*[\^_][^$]*\$")


def _smallest_size(t) -> float:
    """The size of a text's smallest glyph: its font size, less for a mathtext sub- or
    superscript."""
    size = t.get_fontsize()
    return size * SCRIPT_SHRINK if _SCRIPT.search(t.get_text()) else size


def _too_small(texts, scale, min_pt) -> list[str]:
    by_size = defaultdict(list)
    for t in texts:
        if _smallest_size(t) * scale < min_pt - 1e-6:
            by_size[_smallest_size(t)].append(t)
    return [f"{len(ts)} text(s) set at {size:g} pt print at {size * scale:.1f} pt (< {min_pt:g}), "
            f"e.g. {', '.join(_name(t) for t in ts[:3])}"
            for size, ts in sorted(by_size.items())]


def _line_key(line):
    return (to_hex(line.get_color(), keep_alpha=True), line.get_linestyle(), str(line.get_marker()))


def _same_style_lines(fig) -> list[str]:
    """Two series of one Axes that look alike: same colour, line style and marker. Only lines
    drawn as lines (two points or more, a visible line style) count: single markers with a
    shared style are a deliberate grouping (a family's points), told apart by their labels."""
    problems = []
    for k, ax in enumerate(fig.axes):
        seen = {}
        for line in ax.get_lines():
            if not line.get_visible() or line.get_linestyle() in ("None", "", " ") \
                    or len(np.atleast_1d(line.get_xdata())) < 2:
                continue
            key = _line_key(line)
            if key in seen:
                problems.append(f"axes {k} ({ax.get_title()!r}): lines {seen[key]!r} and "
                                f"{line.get_label()!r} share colour, line style and marker {key}")
            else:
                seen[key] = line.get_label()
    return problems


def _overlapping_axes(fig, tolerance) -> list[str]:
    """Two Axes drawn over each other: a colour bar placed over a column of panels. An empty
    Axes switched off (the unused end of a grid) shows nothing and does not count."""
    shown = [ax for ax in fig.axes if ax.get_visible() and (ax.axison or ax.has_data())]
    problems = []
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            box = a.get_window_extent().intersection(a.get_window_extent(), b.get_window_extent())
            if box is not None and box.width > tolerance and box.height > tolerance:
                problems.append(f"axes {_axes_name(a)} and {_axes_name(b)} overlap")
    return problems


def _draws_something(ax) -> bool:
    """Whether a panel shows data (a line with a finite point, an image, a filled or scattered
    collection, a bar) or text (a message such as 'no wall times recorded', annotations)."""
    def finite_points(line):
        xy = np.asarray(line.get_xydata(), float).reshape(-1, 2)
        return bool(np.isfinite(xy).all(1).any())

    return bool(any(finite_points(line) for line in ax.lines) or ax.images or ax.patches
                or ax.texts or ax.tables
                or any(len(c.get_paths()) or len(c.get_offsets()) for c in ax.collections))


def _empty_panels(fig) -> list[str]:
    """A panel with its frame shown that draws nothing and says nothing: a plot whose data
    did not arrive. (The unused end of a grid is switched off and does not count.)"""
    return [f"axes {k} ({_axes_name(ax)}) draws nothing: no data and no text saying why"
            for k, ax in enumerate(fig.axes)
            if ax.get_visible() and ax.axison and not _draws_something(ax)]


def _axes_name(ax) -> str:
    return repr(ax.get_title() or ax.get_label() or ax.get_ylabel() or ax.get_xlabel())


def _number(s: str) -> float | None:
    try:
        return float(s.replace("\u2212", "-").replace(",", ""))
    except ValueError:
        return None


def _unordered_numeric_ticks(fig, drawn) -> list[str]:
    """An axis whose every drawn tick label is a number, read in tick order, must run
    monotonically: categories named by numbers sorted as strings (64, 4, 16) are caught."""
    drawn_ids = {id(t) for t in drawn}
    problems = []
    for k, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            ticks = sorted((tick.get_loc(), t.get_text()) for tick in axis.get_major_ticks()
                           for t in (tick.label1, tick.label2) if id(t) in drawn_ids)
            values = [_number(s) for _, s in ticks]
            if len(values) < 3 or any(v is None for v in values):
                continue
            steps = np.diff(values)
            if not ((steps >= 0).all() or (steps <= 0).all()):
                problems.append(f"axes {k} ({ax.get_title()!r}): {name} tick labels not in "
                                f"numeric order: {', '.join(s for _, s in ticks)}")
    return problems


def layout_problems(fig, printed_width_in: float = TEXTWIDTH_IN,
                    printed_height_in: float = PRINTED_HEIGHT_IN, min_pt: float = MIN_PT,
                    tolerance_px: float = TOLERANCE_PX) -> list[str]:
    """What is wrong with `fig` as the report prints it, one readable sentence per problem;
    an empty list: nothing. The figure is drawn once (layout engines run then); then

    1. no two drawn texts (tick labels, axis labels, titles, legend entries, annotations, table
       cells, ...) overlap by more than `tolerance_px` in both directions, and none runs
       outside the figure's canvas;
    2. no text prints below `min_pt`, the figure scaled to `printed_width_in` (the width
       LaTeX gives it) unless that makes it taller than `printed_height_in`;
    3. no two lines of one Axes share colour, line style and marker;
    4. every axis whose drawn tick labels are all numbers shows them in numeric order;
    5. no two Axes (a colour bar is one) overlap;
    6. no panel with its frame shown draws nothing without a text that says why.
    """
    drawn: list = []
    with _recording_drawn_texts(drawn):
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = list(dict.fromkeys(drawn))  # a text drawn twice is one text
    boxes = np.array([t.get_window_extent(renderer).extents for t in texts]).reshape(-1, 4)
    return (_overlaps(texts, boxes, tolerance_px)
            + _outside(texts, boxes, fig.bbox, tolerance_px)
            + _too_small(texts, printed_scale(fig, printed_width_in, printed_height_in), min_pt)
            + _same_style_lines(fig)
            + _unordered_numeric_ticks(fig, texts)
            + _overlapping_axes(fig, tolerance_px)
            + _empty_panels(fig))
