"""The course's plotting style, shared by lessons, widgets, checks and grading feedback.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing is
drawn behind the caller's back and no figure leaks between calls.  In a notebook such a
figure displays as a PNG (see :func:`_register_png_display`); elsewhere :func:`to_png` turns it
into bytes for an HTML report or an ``ipywidgets.Image``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["PALETTE", "new_figure", "style_axes", "curve_figure", "grid_figure", "compare", "to_png",
           "rgba_to_png"]

#: Colour-blind-safe colours (Okabe & Ito), in the order curves take them.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARK_COLOR = "#999999"
SIZE = (7.0, 3.2)
DPI = 90


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
                   label=label if i == 0 else None)


def curve_figure(curves: Mapping[str, Sequence[float]], *, title: str = "",
                 ylabel: str = "learning rate", marks: Iterable[float] = (),
                 logy: bool = False, size: tuple[float, float] = SIZE) -> Figure:
    """One line per named curve, against the step index."""
    fig, ax = new_figure(size=size)
    for (label, y), color in zip(curves.items(), _cycle(PALETTE)):
        ax.plot(np.arange(len(y)), y, label=label, color=color, linewidth=1.8)
    mark_steps(ax, marks)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend(frameon=False)
    return fig


def grid_figure(curves: Mapping[str, Sequence[float]], *, ncols: int = 3,
                marks: Mapping[str, Iterable[float]] | None = None,
                panel_size: tuple[float, float] = (2.6, 1.6)) -> Figure:
    """Small multiples: one small panel per named curve, titled with its name, in a grid of
    ``ncols`` columns sharing the x axis (``marks`` maps a name to its dotted lines)."""
    n = len(curves)
    nrows = max(1, -(-n // ncols))
    fig, axes = new_figure(nrows, ncols, size=(panel_size[0] * ncols, panel_size[1] * nrows),
                           sharex=True)
    axes = np.atleast_1d(axes).ravel()
    for ax, (label, y), color in zip(axes, curves.items(), _cycle(PALETTE)):
        ax.plot(np.arange(len(y)), y, color=color, linewidth=1.5)
        mark_steps(ax, (marks or {}).get(label, ()))
        ax.set_title(label, fontsize=9)
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
            title: str = "") -> Figure:
    """Overlay two curves: ``expected`` solid, ``got`` dashed, the first difference marked."""
    fig, ax = new_figure()
    ax.plot(np.arange(len(expected)), expected, color=PALETTE[0], linewidth=2.6,
            alpha=0.55, label=labels[0])
    ax.plot(np.arange(len(got)), got, color=PALETTE[1], linewidth=1.4, linestyle="--",
            label=labels[1])
    if first_diff is not None:
        ax.axvline(first_diff, color=PALETTE[1], linestyle=":", linewidth=1.0,
                   label=f"first difference (step {first_diff})")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return fig


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
