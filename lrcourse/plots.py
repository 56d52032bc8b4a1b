"""The course's plotting style, shared by lessons, widgets, checks and grading feedback.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing is
drawn behind the caller's back and no figure leaks between calls.  In a notebook such a
figure displays as a PNG (see :func:`_register_png_display`); elsewhere :func:`to_png` turns it
into bytes for an HTML report or an ``ipywidgets.Image``.

Two rules every figure of the course follows, both decided here and nowhere else:

* **Piecewise-constant schedules are drawn as steps.**  A learning rate is set once per step
  and held until the next one, so StepLR's value at step ``k`` is drawn as a flat segment from
  ``k`` to ``k + 1`` (``drawstyle="steps-post"``, see :func:`curve_xy`), never as a slope
  between two steps.  :func:`is_piecewise_constant` knows which torch schedulers are; every
  plotting function takes ``stepped=`` to say so for other curves (a LambdaLR of a step
  function, rates recorded during training), see :func:`stepped_labels`.
* **A legend never covers plotted data.**  :func:`place_legend` puts it inside the axes only
  where no line, marker, band or bar passes, and otherwise beside the axes, widening the
  figure so the plot keeps its size.  :func:`legend_overlaps` measures it (the legend's
  window extent against every artist's data in display coordinates); the test suite runs it
  on every figure the lessons display (``LRCOURSE_CHECK_LEGENDS=1``, see
  :func:`install_legend_check`).

And no curve hides under another: a curve identical to one drawn before it is dashed with open
markers (:func:`duplicate_style`), and where curves coincide over a stretch only, that stretch
is drawn in interleaved dashes of their colours (:func:`shared_stretches`, :func:`show_shared`).
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import sys
import textwrap
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

__all__ = ["PALETTE", "PIECEWISE_CONSTANT", "GUIDE", "new_figure", "style_axes", "mark_steps",
           "is_piecewise_constant", "stepped_labels", "curve_xy", "plot_curve", "same_curve",
           "duplicate_style", "SharedStretch", "shared_stretches", "show_shared", "SHARED",
           "curve_figure", "grid_figure", "compare", "place_legend",
           "legend_below", "legend_overlaps", "LegendOverlap", "assert_legends_clear",
           "install_legend_check", "checked_figures", "to_png", "rgba_to_png"]

#: Colour-blind-safe colours (Okabe & Ito), in the order curves take them.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARK_COLOR = "#999999"
SIZE = (7.0, 3.2)
DPI = 90
#: Characters per line of a :func:`compare` title (a check's call), which wraps to fit the figure.
TITLE_WIDTH = 90

#: torch schedulers whose rate is constant between jumps, whatever their parameters.
PIECEWISE_CONSTANT = frozenset({"StepLR", "MultiStepLR", "ConstantLR", "ReduceLROnPlateau"})
#: torch schedulers built from member schedulers: piecewise constant when a member is.
COMPOSITES = frozenset({"SequentialLR", "ChainedScheduler"})

#: What ``stepped=`` accepts: None (decide from each curve's label), True/False (every curve or
#: none), or the labels of the curves to draw as steps.
Stepped = Union[None, bool, Collection[str]]

#: Where :func:`place_legend` tries to put a legend inside the axes, in this order.
INSIDE_LOCATIONS = ("upper right", "upper left", "lower left", "lower right", "center right",
                    "center left", "upper center", "lower center")
#: Pixels kept free around a legend placed inside the axes (line widths, marker sizes).
LEGEND_CLEARANCE = 4.0
LEGEND_FONTSIZE = 9
#: The gid of dotted guides (milestones, restarts): drawn under a legend, not data.
GUIDE = "lrcourse-guide"
#: Set this environment variable to "1" to check every figure rendered to PNG (see
#: :func:`install_legend_check`).
CHECK_ENV = "LRCOURSE_CHECK_LEGENDS"
OVERLAP_MARKER = "LRCOURSE-LEGEND-OVERLAP:"


# ------------------------------------------------------------------------------ figures, axes


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = SIZE,
               layout: str | None = "constrained", **subplot_kw) -> tuple[Figure, np.ndarray | Axes]:
    """A figure with an Agg canvas and styled axes, like ``plt.subplots`` without pyplot.

    ``layout=None`` fixes the margins instead of recomputing them at every draw (explorers).
    """
    fig = Figure(figsize=size, dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    for ax in np.atleast_1d(axes).ravel():
        style_axes(ax)
    return fig, axes


def style_axes(ax: Axes, *, xlabel: str = "step", ylabel: str = "learning rate") -> Axes:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def mark_steps(ax: Axes, steps: Iterable[float], *, label: str | None = None) -> None:
    """Dotted vertical lines at milestones, restarts or phase boundaries."""
    for i, x in enumerate(steps):
        ax.axvline(x, color=MARK_COLOR, linestyle=":", linewidth=1.0,
                   label=label if i == 0 else None, gid=GUIDE)


# ------------------------------------------------------------------------------ steps


def is_piecewise_constant(name: str, kwargs: Mapping[str, Any] | None = None) -> bool:
    """Whether schedule ``name`` (with ``kwargs``) holds its rate between jumps.

    True for StepLR, MultiStepLR, ConstantLR and ReduceLROnPlateau; for SequentialLR and
    ChainedScheduler when one of their ``schedulers=[(name, kwargs), ...]`` is (without
    ``kwargs`` the members are unknown: False); and for timm's ``CosineLRScheduler`` in epoch
    mode (``t_in_epochs=True``, its default) with ``updates_per_epoch > 1``, whose rate moves
    once per epoch, a staircase over the optimizer steps.  LambdaLR and MultiplicativeLR are
    whatever their function makes them: say so with ``stepped=True``.

        >>> is_piecewise_constant("StepLR"), is_piecewise_constant("CosineAnnealingLR")
        (True, False)
        >>> is_piecewise_constant("SequentialLR", {"schedulers": [("ConstantLR", {}),
        ...                                                       ("ExponentialLR", {})]})
        True
        >>> is_piecewise_constant("CosineLRScheduler", {"t_initial": 10, "updates_per_epoch": 3})
        True
    """
    if name in PIECEWISE_CONSTANT:
        return True
    if name in COMPOSITES and kwargs:
        for member in kwargs.get("schedulers", ()):
            if (isinstance(member, (tuple, list)) and len(member) == 2
                    and isinstance(member[0], str)
                    and is_piecewise_constant(member[0], member[1])):
                return True
    if name == "CosineLRScheduler" and kwargs:
        per_epoch, in_epochs = kwargs.get("updates_per_epoch", 1), kwargs.get("t_in_epochs", True)
        return (isinstance(in_epochs, (bool, np.bool_)) and bool(in_epochs)
                and isinstance(per_epoch, (int, np.integer)) and not isinstance(per_epoch, bool)
                and per_epoch > 1)
    return False


_LEADING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def stepped_labels(labels: Iterable[str], stepped: Stepped = None) -> set[str]:
    """The labels among ``labels`` whose curves are drawn as steps.

    ``stepped=None`` decides from each label: a label that starts with the name of a
    piecewise-constant scheduler ("StepLR", "MultiStepLR alone", "StepLR(step_size=10)") is
    stepped.  ``True``/``False`` mean every curve or none; a collection names the stepped
    curves (labels it names that are not plotted are ignored).
    """
    labels = list(labels)
    if stepped is None:
        out = set()
        for label in labels:
            match = _LEADING_NAME.match(str(label))
            if match and match.group(0) in PIECEWISE_CONSTANT:
                out.add(label)
        return out
    if stepped is True or stepped is False:
        return set(labels) if stepped else set()
    if isinstance(stepped, str):
        stepped = {stepped}
    wanted = set(stepped)
    return {label for label in labels if label in wanted}


def curve_xy(y: Sequence[float], stepped: bool = False,
             x0: float = 0) -> tuple[np.ndarray, np.ndarray]:
    """The x and y to plot for a curve with one value per step, starting at step ``x0``.

    Stepped, the last value is repeated one step further, so that with
    ``drawstyle="steps-post"`` the value of step ``k`` is held from ``k`` to ``k + 1``, the last
    one included: ``curve_xy([1, 2], True)`` is ``([0, 1, 2], [1, 2, 2])``.
    """
    y = np.asarray(y, dtype=float)
    x = np.arange(len(y), dtype=float) + x0
    if stepped and len(y):
        x = np.append(x, x0 + len(y))
        y = np.append(y, y[-1])
    return x, y


def plot_curve(ax: Axes, y: Sequence[float], *, stepped: bool = False, x0: float = 0,
               **style) -> Line2D:
    """Plot one value per step, as steps when ``stepped`` (see :func:`curve_xy`)."""
    x, y = curve_xy(y, stepped, x0)
    (line,) = ax.plot(x, y, drawstyle="steps-post" if stepped else "default", **style)
    return line


def same_curve(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two curves are the same (to rounding): drawn alike, one would hide the other."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=0, equal_nan=True))


@dataclass(frozen=True)
class SharedStretch:
    """Steps ``start .. stop - 1`` on which the curves ``members`` (indices, in drawing order)
    take the same values: drawn alike, the last one drawn would hide the others there."""

    start: int
    stop: int
    members: tuple[int, ...]


def shared_stretches(curves: Sequence[Sequence[float]], *, min_steps: int | None = None,
                     stepped: Sequence[bool] | None = None) -> list[SharedStretch]:
    """Every stretch of at least ``min_steps`` consecutive steps (default: 3, or 3 % of the
    longest curve if more) on which two or more of ``curves`` are equal (to rounding: rtol
    1e-9), as :class:`SharedStretch` es, fewest members first (so that drawing them in this
    order puts a stretch three curves share over the stretch two of them share around it).
    Only curves drawn the same way (``stepped``, one flag per curve) are compared, at the same
    step index.  A curve equal to another over a single step or two merely crosses it and is
    not reported.
    """
    ys = [np.asarray(y, dtype=float).ravel() for y in curves]
    m = len(ys)
    n = max((len(y) for y in ys), default=0)
    if m < 2 or n == 0:
        return []
    if min_steps is None:
        min_steps = max(3, math.ceil(0.03 * n))
    flags = list(stepped) if stepped is not None else [False] * m
    padded = np.full((m, n), np.nan)
    for i, y in enumerate(ys):
        padded[i, :len(y)] = y
    # leader[j, k]: the first curve (in drawing order) equal to curve j at step k
    leader = np.tile(np.arange(m)[:, None], (1, n))
    for j in range(m):
        for i in range(j):
            if flags[i] != flags[j]:
                continue
            equal = np.isclose(padded[i], padded[j], rtol=1e-9, atol=0.0)
            take = equal & (leader[j] == j)
            leader[j, take] = leader[i, take]
    # groups[l, k]: bit mask of the curves whose first equal curve at step k is curve l
    groups = np.zeros((m, n), dtype=np.int64)
    for j in range(m):
        groups[leader[j], np.arange(n)] |= 1 << j
    groups[:, np.isnan(padded).all(axis=0)] = 0
    candidates = {int(b) for b in np.unique(groups) if b & (b - 1)}  # two or more curves
    found: list[SharedStretch] = []
    for bits in sorted(candidates):
        # the steps where all these curves are equal (others may be equal to them as well)
        together = ((groups & bits) == bits).any(axis=0)
        edges = np.flatnonzero(np.diff(np.r_[0, together.astype(np.int8), 0]))
        members = tuple(j for j in range(m) if bits >> j & 1)
        for start, stop in zip(edges[::2], edges[1::2]):
            if stop - start >= min_steps:
                found.append(SharedStretch(int(start), int(stop), members))
    return sorted(found, key=lambda s: (len(s.members), s.start, s.members))


#: The gid of the dashes drawn over a stretch several curves share (see :func:`show_shared`).
SHARED = "lrcourse-shared"
#: Length of one coloured dash over a shared stretch, in line widths.
SHARED_DASH = 4.0


def show_shared(ax: Axes, curves: Sequence[Sequence[float]], colors: Sequence[str], *,
                stepped: Sequence[bool] | None = None, x0: float = 0, linewidth: float = 1.8,
                min_steps: int | None = None) -> list[Line2D]:
    """Keep curves visible where they coincide: over each stretch that several of ``curves``
    share (:func:`shared_stretches`), draw every one of them dashed on top, their dashes
    interleaved (with two curves: a dash of the first colour, a dash of the second, ...), so
    that the reader sees each colour there instead of the last curve drawn.

    Call it after drawing the curves (solid) with ``colors``; ``x0`` is the x of step 0.
    Returns the dashed lines (gid :data:`SHARED`, not in the legend).
    """
    flags = list(stepped) if stepped is not None else [False] * len(curves)
    drawn = []
    top = max((line.get_zorder() for line in ax.lines), default=2.0) + 0.1
    for stretch in shared_stretches(curves, min_steps=min_steps, stepped=flags):
        count = len(stretch.members)
        for rank, j in enumerate(stretch.members):
            y = np.asarray(curves[j], dtype=float)[stretch.start:stretch.stop]
            x, y = curve_xy(y, flags[j], x0 + stretch.start)
            offset = ((count - rank) % count) * SHARED_DASH
            (line,) = ax.plot(x, y, color=colors[j], linewidth=linewidth, gid=SHARED,
                              drawstyle="steps-post" if flags[j] else "default",
                              linestyle=(offset, (SHARED_DASH, (count - 1) * SHARED_DASH)),
                              dash_capstyle="butt", zorder=top, label="_shared")
            drawn.append(line)
    return drawn


def duplicate_style(n: int) -> dict:
    """The style of a curve identical to one drawn before it (``n`` points): dashed, with
    open markers, on top of it, so that both stay visible."""
    return dict(linestyle=(0, (4, 3)), marker="o", markersize=4.5, markerfacecolor="white",
                markeredgewidth=1.2, markevery=max(1, n // 12))


# ------------------------------------------------------------------------------ figures


def curve_figure(curves: Mapping[str, Sequence[float]], *, title: str = "",
                 ylabel: str = "learning rate", marks: Iterable[float] = (),
                 logy: bool = False, size: tuple[float, float] = SIZE,
                 stepped: Stepped = None, xlabel: str = "step") -> Figure:
    """One line per named curve, against the step index.

    ``stepped`` says which curves are drawn as steps (see :func:`stepped_labels`; by default
    those labelled with a piecewise-constant scheduler's name).  A curve identical to one
    drawn before it is dashed with open markers, so that it cannot hide under it; where
    curves coincide over a stretch only (the same warm-up, a run that branches off another),
    that stretch is drawn in interleaved dashes of their colours (:func:`show_shared`).
    ``logy`` draws the y axis on a log scale (zero and negative values are left out).
    """
    fig, ax = new_figure(size=size)
    steps = stepped_labels(curves, stepped)
    drawn: list[np.ndarray] = []
    distinct: list[tuple[np.ndarray, str, bool]] = []  # curves not identical to an earlier one
    for (label, y), color in zip(curves.items(), _cycle(PALETTE)):
        y = np.asarray(y, dtype=float)
        style = dict(color=color, linewidth=1.8)
        if any(same_curve(y, other) for other in drawn):
            style.update(duplicate_style(len(y)))
        else:
            distinct.append((y, color, label in steps))
        plot_curve(ax, y, stepped=label in steps, label=label, **style)
        drawn.append(y)
    if len(distinct) > 1:
        ys, colors, flags = zip(*distinct)
        show_shared(ax, ys, colors, stepped=flags)
    mark_steps(ax, marks)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        place_legend(ax)
    return fig


def grid_figure(curves: Mapping[str, Sequence[float]], *, ncols: int = 3,
                marks: Mapping[str, Iterable[float]] | None = None,
                panel_size: tuple[float, float] = (2.6, 1.6), stepped: Stepped = None,
                titles: Mapping[str, str] | None = None) -> Figure:
    """Small multiples: one small panel per named curve, titled with its name (or with
    ``titles[name]``, e.g. a long name broken over two lines), in a grid of ``ncols`` columns
    sharing the x axis (``marks`` maps a name to its dotted lines; ``stepped`` as in
    :func:`curve_figure`)."""
    n = len(curves)
    nrows = max(1, -(-n // ncols))
    fig, axes = new_figure(nrows, ncols, size=(panel_size[0] * ncols, panel_size[1] * nrows),
                           sharex=True)
    axes = np.atleast_1d(axes).ravel()
    steps = stepped_labels(curves, stepped)
    for ax, (label, y), color in zip(axes, curves.items(), _cycle(PALETTE)):
        plot_curve(ax, y, stepped=label in steps, color=color, linewidth=1.5)
        mark_steps(ax, (marks or {}).get(label, ()))
        ax.set_title((titles or {}).get(label, label), fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=7)
        top = max(float(np.max(y)), 1e-12)
        ax.set_ylim(min(0.0, float(np.min(y)) * 1.08), 1.08 * top)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.supxlabel("step", fontsize=9)
    fig.supylabel("learning rate", fontsize=9)
    return fig


def compare(expected: Sequence[float], got: Sequence[float], *,
            labels: tuple[str, str] = ("PyTorch", "yours"), first_diff: int | None = None,
            title: str = "", stepped: bool = False, xlabel: str = "step",
            largest_diff: int | None = None) -> Figure:
    """Overlay two curves: ``expected`` solid, ``got`` dashed, the differences marked.

    ``stepped=True`` draws both as steps (a piecewise-constant schedule); ``xlabel`` names the
    x axis ("epoch" when the values are one per epoch), and the marks with it.  ``first_diff``
    is marked by a dotted vertical line; ``largest_diff`` by a bar joining the two values there
    (at the middle of the step when stepped, where both values are drawn).  When both curves are
    positive and span more than three decades (OneCycleLR's final rate, a StepLR with gamma 0.1)
    the y axis is logarithmic, so that a 10x gap near the end is as visible as one at the top.
    ``title`` wraps at :data:`TITLE_WIDTH` characters and keeps its own line breaks.
    """
    fig, ax = new_figure()
    plot_curve(ax, expected, stepped=stepped, color=PALETTE[0], linewidth=2.6, alpha=0.55,
               label=labels[0])
    plot_curve(ax, got, stepped=stepped, color=PALETTE[1], linewidth=1.4, linestyle="--",
               label=labels[1])
    if first_diff is not None:
        ax.axvline(first_diff, color=PALETTE[1], linestyle=":", linewidth=1.0,
                   label=f"first difference ({xlabel} {first_diff})", gid=GUIDE)
    if largest_diff is not None:
        x = largest_diff + (0.5 if stepped else 0.0)
        pair = [float(np.asarray(expected)[largest_diff]), float(np.asarray(got)[largest_diff])]
        ax.plot([x, x], pair, color=PALETTE[6], linewidth=1.2, marker="_", markersize=10,
                markeredgewidth=1.6, label=f"largest difference ({xlabel} {largest_diff})")
    values = np.concatenate([np.asarray(expected, float), np.asarray(got, float)])
    if values.size and np.all(values > 0) and values.max() / values.min() > 1e3:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if title:  # a check's call can be long (a list of losses): wrapped, never cut; its own
        # line breaks (a parameter group under the call) are kept
        ax.set_title("\n".join(textwrap.fill(line, TITLE_WIDTH) for line in title.splitlines()),
                     fontsize=9.5)
    place_legend(ax)
    return fig


# ------------------------------------------------------------------------------ legends


def place_legend(ax: Axes, *, inside: bool = True, grow: bool = True,
                 handles: Sequence | None = None, labels: Sequence[str] | None = None,
                 **legend_kw) -> Legend | None:
    """Add ``ax``'s legend where it covers no plotted data.

    Inside the axes at the first of :data:`INSIDE_LOCATIONS` that leaves
    :data:`LEGEND_CLEARANCE` pixels between the legend and every line, marker, band and bar
    (dotted guides such as milestones may pass under it); when there is no such place, or with
    ``inside=False``, below the axes in as few rows as fit, the figure made taller by the
    legend's height (``grow``) so that the plot keeps its size.  Call it once the axes hold
    their data, limits and scales.  ``handles`` and ``labels`` replace the axes' own (e.g. to
    add an entry for a shaded band).  Returns the legend (None when no artist has a label).
    """
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    fig = ax.figure
    style = dict(fontsize=LEGEND_FONTSIZE) | legend_kw
    if inside:
        fig.draw_without_rendering()  # lay the figure out: final axes size and limits
        renderer = _renderer(fig)
        for loc in INSIDE_LOCATIONS:
            legend = ax.legend(handles, labels, loc=loc, frameon=True, framealpha=0.9,
                               facecolor="white", edgecolor="none", **style)
            box = legend.get_window_extent(renderer).padded(LEGEND_CLEARANCE)
            if not _covered(ax, box, renderer):
                return legend
        legend.remove()
    return legend_below(ax, handles, labels, grow=grow, **style)


def legend_below(ax: Axes, handles: Sequence | None = None, labels: Sequence[str] | None = None,
                 *, grow: bool = True, **legend_kw) -> Legend:
    """A figure legend under ``ax`` (below its x label), in as few rows as fit the figure's
    width; with ``grow`` the figure is made taller by the legend's height, so the axes keep
    their size.  Works with constrained layout and with fixed margins (explorers)."""
    fig = ax.figure
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    for legend in list(fig.legends):
        legend.remove()
    style = dict(frameon=False, fontsize=LEGEND_FONTSIZE, handlelength=2.2,
                 columnspacing=1.6) | legend_kw
    renderer = _renderer(fig)
    width, height = fig.get_size_inches()
    fixed = fig.get_layout_engine() is None
    loc = "lower center" if fixed else "outside lower center"
    for ncols in range(len(labels), 0, -1):
        legend = fig.legend(handles, labels, loc=loc, ncols=ncols, **style)
        box = legend.get_window_extent(renderer)
        if box.width <= 0.96 * width * fig.dpi or ncols == 1:
            break
        legend.remove()
    extra = box.height / fig.dpi + 0.08
    if fixed:  # keep the axes' size and place in inches; the legend goes in the new strip
        pos = ax.get_position()
        new_height = height + extra if grow else height
        lift = extra if grow else 0.0
        ax.set_position([pos.x0, (pos.y0 * height + lift) / new_height, pos.width,
                         pos.height * height / new_height])
        if grow:
            fig.set_size_inches(width, new_height)
        legend.set_bbox_to_anchor((0.5, 0.02 / new_height), transform=fig.transFigure)
    elif grow:
        fig.set_size_inches(width, height + extra)
    return legend


@dataclass(frozen=True)
class LegendOverlap:
    """A legend that covers data: which legend, which artist, how much of it."""

    axes: int           #: index of the axes in ``figure.axes`` whose data is covered
    legend: str         #: the legend's labels, joined
    artist: str         #: the covered artist's label (or its type)
    points: int         #: data points (vertices, markers) inside the legend
    crossed: bool       #: whether a line or an area passes through the legend

    def __str__(self) -> str:
        what = f"{self.points} data point(s)" if self.points else "no data point"
        how = " and a line or area crossing it" if self.crossed and self.points else (
            ", but a line or area crosses it" if self.crossed else "")
        return (f"the legend [{self.legend}] covers {self.artist!r} of axes {self.axes}: "
                f"{what} inside it{how}")


def legend_overlaps(fig: Figure, *, pad: float = 0.0) -> list[LegendOverlap]:
    """Every place where a legend of ``fig`` covers plotted data, in display coordinates.

    The figure is laid out (as for a PNG), then each legend's window extent, enlarged by
    ``pad`` pixels, is compared with the data of every axes: the vertices and segments of
    lines (steps included), markers and scatter points (with their size), bands and bars
    (``fill_between``, ``bar``); only the part of the legend inside the region an artist is
    clipped to counts.  Dotted guides (gid :data:`GUIDE`: milestones, restarts) are not data.
    An empty list means every legend is clear.
    """
    fig.draw_without_rendering()
    renderer = _renderer(fig)
    legends = [(ax.get_legend(), [ax]) for ax in fig.axes if ax.get_legend() is not None]
    legends += [(legend, list(fig.axes)) for legend in fig.legends]
    found = []
    for legend, axes in legends:
        if not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer).padded(pad)
        names = ", ".join(t.get_text() for t in legend.get_texts())
        for ax in axes:
            if not ax.get_visible():
                continue
            for artist, points, crossed in _coverage(ax, box, renderer):
                if points or crossed:
                    found.append(LegendOverlap(fig.axes.index(ax), names, _name(artist),
                                               points, crossed))
    return found


def assert_legends_clear(fig: Figure, where: str = "") -> None:
    """Raise AssertionError naming each legend of ``fig`` that covers data."""
    problems = legend_overlaps(fig)
    if problems:
        prefix = f"{where}: " if where else ""
        raise AssertionError(prefix + "; ".join(map(str, problems)))


def _renderer(fig: Figure):
    canvas = fig.canvas
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    return fig._get_renderer()  # pragma: no cover - a canvas without its own renderer


def _name(artist) -> str:
    """The artist's label, its container's (a bar of ``ax.bar(..., label=...)``), or its type."""
    label = artist.get_label()
    if label and not label.startswith("_"):
        return label
    ax = artist.axes
    for container in getattr(ax, "containers", ()):
        if artist in container and not container.get_label().startswith("_"):
            return container.get_label()
    return type(artist).__name__


def _covered(ax: Axes, box: Bbox, renderer) -> bool:
    return any(points or crossed for _, points, crossed in _coverage(ax, box, renderer))


def _coverage(ax: Axes, box: Bbox, renderer):
    """``(artist, points inside, crossed)`` for every data artist of ``ax`` (see
    :func:`legend_overlaps`)."""
    px = ax.figure.dpi / 72.0
    for artist in (*ax.lines, *ax.collections, *ax.patches):
        if not artist.get_visible() or artist.get_gid() == GUIDE:
            continue
        region = box
        clip = artist.get_clip_box() if artist.get_clip_on() else None
        if clip is not None:
            region = Bbox.intersection(box, clip)
            if region is None or region.width <= 0 or region.height <= 0:
                continue
        if isinstance(artist, Line2D):
            xy = artist.get_transform().transform(artist.get_path().vertices)
            points, crossed = 0, False
            if artist.get_marker() not in (None, "None", "none", "", " "):
                markers = artist.get_transform().transform(artist.get_xydata())
                points = _inside(markers, region.padded(artist.get_markersize() * px / 2))
            if artist.get_linestyle() not in ("None", "none", "", " "):
                points = max(points, _inside(xy, region))
                crossed = _segments_cross(xy, region)
            yield artist, points, crossed
        elif isinstance(artist, PathCollection) and len(artist.get_offsets()):
            xy = artist.get_offset_transform().transform(np.asarray(artist.get_offsets()))
            sizes = artist.get_sizes()
            radius = float(np.sqrt(sizes.max()) / 2 * px) if len(sizes) else 0.0
            yield artist, _inside(xy, region.padded(radius)), False
        else:  # bands, polygons, bars, line collections
            filled = not isinstance(artist, LineCollection) and (
                getattr(artist, "get_fill", lambda: True)())
            paths = artist.get_paths() if hasattr(artist, "get_paths") else [artist.get_path()]
            transform = artist.get_transform()
            points, crossed = 0, False
            for path in paths:
                display = transform.transform_path(path)
                points += _inside(display.vertices, region)
                crossed |= bool(display.intersects_bbox(region, filled=filled))
            yield artist, points, crossed


def _inside(xy: np.ndarray, box: Bbox) -> int:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    x, y = xy[:, 0], xy[:, 1]
    return int(np.count_nonzero((x >= box.x0) & (x <= box.x1) & (y >= box.y0) & (y <= box.y1)))


def _segments_cross(xy: np.ndarray, box: Bbox) -> bool:
    """Whether a polyline (NaN = a gap) passes through the box (Liang-Barsky, vectorized)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) < 2:
        return False
    p, q = xy[:-1], xy[1:]
    ok = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    p, q = p[ok], q[ok]
    d = q - p
    t0, t1 = np.zeros(len(p)), np.ones(len(p))
    keep = np.ones(len(p), dtype=bool)
    for delta, start, low, high in ((d[:, 0], p[:, 0], box.x0, box.x1),
                                    (d[:, 1], p[:, 1], box.y0, box.y1)):
        for num, den in ((start - low, -delta), (high - start, delta)):
            # the segment is inside this half-plane for t with den * t <= num
            parallel = den == 0
            keep &= ~(parallel & (num < 0))
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(parallel, 0.0, num / np.where(parallel, 1.0, den))
            t1 = np.where(~parallel & (den > 0), np.minimum(t1, t), t1)
            t0 = np.where(~parallel & (den < 0), np.maximum(t0, t), t0)
    return bool(np.any(keep & (t0 <= t1)))


# ------------------------------------------------------------------------------ checking


_checked = 0


def checked_figures() -> int:
    """How many figures :func:`report_legend_overlaps` has checked in this process."""
    return _checked


def report_legend_overlaps(fig: Figure) -> None:
    """Write one line per legend overlap of ``fig`` to stderr, starting with
    :data:`OVERLAP_MARKER` (the notebook layout test reads them from the cell's outputs)."""
    global _checked
    _checked += 1
    try:
        problems = legend_overlaps(fig)
    except Exception as exc:  # noqa: BLE001 - report, never break the display
        problems = [f"could not check the figure's legends: {type(exc).__name__}: {exc}"]
    title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
    for problem in problems:
        print(f"{OVERLAP_MARKER} figure {title!r}: {problem}", file=sys.stderr)


def checking_legends() -> bool:
    """Whether :data:`CHECK_ENV` asks for every rendered figure to be checked."""
    return os.environ.get(CHECK_ENV, "") not in ("", "0")


def install_legend_check() -> None:
    """Check every figure as it is rendered (to a PNG, by any backend or by :func:`to_png`)
    and report its legend overlaps on stderr (see :func:`report_legend_overlaps`).

    Installed when ``lrcourse.plots`` is imported with ``LRCOURSE_CHECK_LEGENDS=1``: the test
    that re-executes every lesson sets it, so that each figure a lesson shows is checked in
    its cell.  Explorers check their figure when they are displayed.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure
    if getattr(original, "_lrcourse_checked", False):
        return

    @functools.wraps(original)
    def print_figure(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        report_legend_overlaps(self.figure)
        return result

    print_figure._lrcourse_checked = True
    FigureCanvasBase.print_figure = print_figure


# ------------------------------------------------------------------------------ output


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (drawn with Agg)."""
    buffer = io.BytesIO()
    # Low zlib effort: the PNG is a little larger but encodes several times faster, which
    # is what a slider redraw needs.
    fig.savefig(buffer, format="png", dpi=fig.dpi, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def rgba_to_png(rgba) -> bytes:
    """PNG bytes of an RGBA buffer (e.g. ``canvas.buffer_rgba()``), quickly encoded."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgba)).convert("RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _cycle(items):
    while True:
        yield from items


def _register_png_display() -> None:
    """Let a bare Figure display as a PNG in IPython, whatever matplotlib backend is active."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, to_png)


_register_png_display()
if checking_legends():
    install_legend_check()
