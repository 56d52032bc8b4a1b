"""Explorers: sliders that redraw a schedule's curve as they move.

    >>> explore("StepLR", lr=0.1, steps=100, step_size=(1, 50, 30), gamma=(0.01, 1.0, 0.5))

Each keyword is a parameter of the torch scheduler, named as torch names it.  Its value says
how it is explored:

* ``(low, high)`` or ``(low, high, start)`` of numbers: a slider (integer if all are ints)
  moving by a round step that gives 50 to 125 positions (0.01 from 0 to 0.99);
  ``Range(low, high, start, step=...)`` the same with the step you choose;
  ``LogRange(low, high, start)`` a logarithmic one;
* a tuple of strings: a drop-down, starting at the first;
* a bool: a check box;
* an ``ipywidgets`` value widget: used as it is (e.g. an ``IntRangeSlider`` for milestones);
* anything else: a fixed value.

``lr`` and ``steps`` follow the same rules.  The curve comes from :func:`lr_curve`; the
explorer draws, it never computes a schedule itself.  The figure is a matplotlib figure
rendered to PNG into an ``ipywidgets.Image``; moving a slider updates the data of the existing
lines and re-renders, so nothing is rebuilt.  Piecewise-constant schedules are drawn as steps
(:func:`lrcourse.plots.is_piecewise_constant`; ``stepped=`` says so for other curves), and the
legend sits under the plot, never on the curves.  The readout under the plot always shows every
slider's current value and a summary of every curve; a parameter combination the scheduler
refuses shows its ``ValueError`` message under the plot instead of a traceback.

:func:`explore_function` is the general form: any function of the slider values that returns
named curves (used for composites, the plateau simulator and the gradient-descent demo).
"""

from __future__ import annotations

import base64
import functools
import html
import math
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np

from . import plots
from .schedules import lr_curve, momentum_curve

__all__ = ["Range", "LogRange", "Explorer", "explore", "explore_function", "milestone_steps"]

Curves = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Range:
    """A linear slider from ``low`` to ``high``, starting at ``value`` (default: the middle),
    moving by ``step`` per key press (default: a round step giving 50 to 125 positions).

    Integer if ``low``, ``high`` (and ``value``, ``step`` when given) are all ints.  A
    ``value`` off the grid ``low + k * step`` is refused: the browser would move it.

        >>> Range(0.0, 0.99, 0.9, step=0.01)   # lesson 12's smoothing beta
        Range(low=0.0, high=0.99, value=0.9, step=0.01)
    """

    low: float
    high: float
    value: float | None = None
    step: float | None = None


@dataclass(frozen=True)
class LogRange:
    """A slider on a logarithmic scale, from ``low`` to ``high`` (both > 0), moving by
    ``step`` decades per key press (0.01: a factor of 1.023)."""

    low: float
    high: float
    value: float | None = None
    step: float = 0.01


def _control(name: str, spec: Any) -> W.ValueWidget | None:
    """The widget for one parameter spec, or None when the value is fixed."""
    layout = W.Layout(width="420px")
    style = {"description_width": "110px"}
    common = dict(description=name, continuous_update=True, layout=layout, style=style)
    if isinstance(spec, W.ValueWidget):
        return spec
    if isinstance(spec, LogRange):
        value = spec.value if spec.value is not None else np.sqrt(spec.low * spec.high)
        step = spec.step
        # Put the exponent grid through the starting value (see _grid_step).
        centre = float(np.log10(value))
        low_exp = centre - np.floor((centre - np.log10(spec.low)) / step + 1e-9) * step
        high_exp = centre + np.floor((np.log10(spec.high) - centre) / step + 1e-9) * step
        return W.FloatLogSlider(value=value, base=10, min=low_exp, max=high_exp, step=step,
                                readout_format=".3g", **common)
    if isinstance(spec, bool):
        return W.Checkbox(value=spec, description=name, indent=False)
    if isinstance(spec, tuple) and spec and all(isinstance(s, str) for s in spec):
        return W.Dropdown(options=list(spec), value=spec[0], description=name,
                          layout=layout, style=style)
    if (isinstance(spec, tuple) and len(spec) in (2, 3)
            and all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in spec)):
        spec = Range(*spec)
    if isinstance(spec, Range):
        low, high, value, step = spec.low, spec.high, spec.value, spec.step
        numbers = [x for x in (low, high, value, step) if x is not None]
        if all(isinstance(x, int) and not isinstance(x, bool) for x in numbers):
            value = value if value is not None else (low + high) // 2
            step = step or 1
            if (value - low) % step:
                raise ValueError(f"{name}: the start {value} is not on the slider's grid "
                                 f"{low} + k * {step}")
            return W.IntSlider(value=value, min=low, max=high, step=step, **common)
        value = value if value is not None else (low + high) / 2
        if step is None:
            step = _grid_step(low, high, value)
        else:
            k = (value - low) / step
            if not math.isclose(k, round(k), abs_tol=1e-6):
                raise ValueError(f"{name}: the start {value} is not on the slider's grid "
                                 f"{low} + k * {step}")
        return W.FloatSlider(value=value, min=low, max=high, step=step,
                             readout_format=".4g", **common)
    return None


def _grid_step(low: float, high: float, value: float, positions: int = 50) -> float:
    """The largest of 1, 2, 5 x 10^k that gives at least ``positions`` slider positions from
    ``low`` to ``high`` (so between 50 and 125: 0.01 from 0 to 0.99), made a little finer if
    needed so that its grid from ``low`` passes through ``value``.

    The browser snaps a slider to ``low + k * step`` as soon as it is shown and sends the
    snapped value back; with any other step, the lesson's starting value (gamma = 0.1, say)
    would silently become 0.1023 before the learner touched anything.  The step is also what
    one arrow-key press moves, so it must not be needlessly fine.
    """
    span = (high - low) / positions
    if span <= 0:
        return 1.0
    decade = 10.0 ** np.floor(np.log10(span))
    step = float(max(m * decade for m in (1, 2, 5) if m * decade <= span * (1 + 1e-9)))
    offset = value - low
    if offset > 0:
        k = round(offset / step)
        if not math.isclose(k * step, offset, rel_tol=1e-9, abs_tol=1e-15):
            step = offset / max(1, math.ceil(offset / step))
    return step


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _nowrap(text: str) -> str:
    """One readout item (HTML-escaped), kept on one line: a readout wraps between items,
    never inside a number such as ``1e-05``."""
    return f"<span style='white-space:nowrap'>{html.escape(text)}</span>"


def _text_html(text: str) -> str:
    """A describe() text as HTML: one line per line, wrapping only after ", " or "; "."""
    lines = []
    for line in text.splitlines():
        items = re.split(r"(?<=[,;]) ", line)
        lines.append(" ".join(_nowrap(item) for item in items))
    return "<br>".join(lines)


class Explorer:
    """Sliders bound to a function that returns named curves; see :func:`explore_function`."""

    #: figure margins in inches (fixed: a redraw never re-lays the figure out)
    MARGINS = dict(left=0.77, right=0.21, top=0.32, bottom=0.51)

    def __init__(self, compute: Callable[..., Curves], params: Mapping[str, Any], *,
                 title: str = "", ylabel: str = "learning rate", xlabel: str = "step",
                 logy: bool = False, marks: Callable[[dict], list[float]] | None = None,
                 describe: Callable[[dict, Curves], str] | None = None,
                 stepped: plots.Stepped = None,
                 measured: Collection[str] | None = None) -> None:
        self._compute = compute
        self._marks = marks
        self._measured = None if measured is None else frozenset(measured)
        self._describe = describe or functools.partial(_summary, skip=self.is_measured)
        self._stepped = stepped
        self.controls: dict[str, W.ValueWidget] = {}
        self.fixed: dict[str, Any] = {}
        for name, spec in params.items():
            control = _control(name, spec)
            if control is None:
                self.fixed[name] = spec
            else:
                self.controls[name] = control

        self.figure, self.ax = plots.new_figure(layout=None)  # fixed margins: cheap redraws
        self._base_size = tuple(self.figure.get_size_inches())
        width, height = self._base_size
        m = self.MARGINS
        self.figure.subplots_adjust(left=m["left"] / width, right=1 - m["right"] / width,
                                    top=1 - m["top"] / height, bottom=m["bottom"] / height)
        self._base_position = self.ax.get_position()
        self.ax.set_title(title)
        self.ax.set_xlabel(xlabel)
        self.ax.set_ylabel(ylabel)
        if logy:
            self.ax.set_yscale("log")
        self._lines: dict[str, Any] = {}
        self._shared_lines: list[Any] = []  # dashes over stretches where curves coincide
        self._stepped_lines: set[str] = set()
        self._legend_for: tuple[str, ...] | None = None  # the labels the legend was made for
        # every milestone mark in one line (vertical segments separated by NaN), updated in
        # place like the curves: dozens of marks cost one artist, not dozens
        (self._marks_line,) = self.ax.plot([], [], color=plots.MARK_COLOR, linestyle=":",
                                           linewidth=1.0, animated=True, gid=plots.GUIDE,
                                           transform=self.ax.get_xaxis_transform())
        self._background = None
        # Backgrounds (axes, ticks, legend) already drawn, by axis limits and legend: dragging
        # a slider back over a range it has visited costs no full redraw.
        self._backgrounds: dict[tuple, Any] = {}
        self._x_lim: tuple[float, float] | None = None

        self.image = W.Image(format="png", layout=W.Layout(width=f"{round(width * plots.DPI)}px"))
        self.image.add_class("lrcourse-figure")
        self.readout = W.HTML()
        self.readout.add_class("lrcourse-readout")
        self.error = W.HTML()
        self.error.add_class("lrcourse-error")
        self.widget = W.VBox([*self.controls.values(), self.image, self.readout, self.error])
        self.widget.add_class("lrcourse-explorer")

        #: seconds taken by each redraw (value change to finished PNG), for the benchmark.
        self.redraw_seconds: list[float] = []
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    # -- state ---------------------------------------------------------------------------
    def is_measured(self, label: str) -> bool:
        """Whether curve ``label`` holds measured values (drawn as dots, left out of the
        summary): those named by ``measured=``, by default those labelled "PyTorch ..."."""
        if self._measured is None:
            return label.startswith("PyTorch")
        return label in self._measured

    def values(self) -> dict[str, Any]:
        """The current parameter values: slider positions and fixed values."""
        current = dict(self.fixed)
        for name, control in self.controls.items():
            value = control.value
            if isinstance(control, W.IntSlider):
                value = int(value)
            current[name] = value
        return current

    def curves(self) -> Curves:
        """The curves for the current values (raises what the schedule raises)."""
        return self._compute(**self.values())

    def set(self, **values: Any) -> None:
        """Move sliders programmatically (each move redraws, as a learner's would)."""
        for name, value in values.items():
            if name not in self.controls:
                raise ValueError(f"no slider called {name!r}; sliders: {', '.join(self.controls)}")
            self.controls[name].value = value

    def marks(self) -> list[float]:
        """The steps marked by dotted lines now (milestones, restarts, ...)."""
        return [float(x) for x in self._marks_line.get_xdata()[::3]]

    def drawn(self, label: str) -> np.ndarray:
        """The values of curve ``label`` as drawn now, one per step (a stepped curve's extra
        point, which holds its last value to the end of its last step, left out)."""
        line = self._lines[label]
        y = np.asarray(line.get_ydata(), dtype=float)
        return y[:-1] if label in self._stepped_lines else y

    # -- drawing -------------------------------------------------------------------------
    def _on_change(self, _change) -> None:
        self.redraw()

    def redraw(self) -> None:
        start = time.perf_counter()
        values = self.values()
        try:
            curves = self._compute(**values)
        except Exception as exc:  # shown to the learner, never a traceback
            self.error.value = (
                "<div style='color:#b00020'><b>Cannot draw this combination.</b> "
                f"{html.escape(str(exc))}</div>"
            )
            for line in self._lines.values():
                line.set_alpha(0.25)
            if self._background is not None:
                self._render(False)
            self.readout.value = self._readout(values, None)
        else:
            self.error.value = ""
            self._draw(curves, values)
            self.readout.value = self._readout(values, curves)
        if not self.image.value:
            self._render(True)
        self.redraw_seconds.append(time.perf_counter() - start)

    def _readout(self, values: dict[str, Any], curves: Curves | None) -> str:
        """Every slider's current value, then the summary of the curves (or, when the values
        cannot be drawn, a pointer to the message)."""
        items = [f"{k}={_format(v)}" for k, v in values.items() if k in self.controls]
        head = "<code>" + ", ".join(_nowrap(item) for item in items) + "</code>"
        if curves is None:
            return head + "<br><i>nothing drawn for these values: see the message below</i>"
        summary = self._describe(values, curves)
        return head + ("<br>" + _text_html(summary) if summary else "")

    def _draw(self, curves: Curves, values: dict[str, Any]) -> None:
        """Update the lines' data in place; re-lay the axes only when they must change."""
        full = self._background is None
        if tuple(curves) != tuple(self._lines):
            stepped = plots.stepped_labels(curves, self._stepped)
            self._stepped_lines = {label for label in stepped if not self.is_measured(label)}
        colors = plots._cycle(plots.PALETTE)
        for label, y in curves.items():
            color = next(colors)
            line = self._lines.get(label)
            measured = self.is_measured(label)
            if line is None:
                style = (dict(linestyle="none", marker=".", markersize=3, alpha=0.8)
                         if measured else dict(linewidth=1.8))
                drawstyle = "steps-post" if label in self._stepped_lines else "default"
                (line,) = self.ax.plot([], [], color=color, label=label, animated=True,
                                       drawstyle=drawstyle, **style)
                self._lines[label] = line
                full = True
            line.set_data(*plots.curve_xy(y, label in self._stepped_lines))
            line.set_alpha(0.8 if measured else 1.0)
        for label in set(self._lines) - set(curves):
            self._lines.pop(label).remove()
            full = True
        self._show_shared(curves)
        marks = np.asarray(self._marks(values) if self._marks else [], dtype=float)
        self._marks_line.set_data(np.repeat(marks, 3),
                                  np.tile([0.0, 1.0, np.nan], len(marks)))
        full |= self._fit_limits(curves)
        if full and tuple(self._lines) != self._legend_for:
            self._place_legend()
        self._render(full)

    def _show_shared(self, curves: Curves) -> None:
        """Redraw the interleaved dashes over the stretches where curves coincide
        (:func:`lrcourse.plots.show_shared`), so that no curve hides under a later one."""
        for line in self._shared_lines:
            line.remove()
        labels = [label for label in curves if not self.is_measured(label)]
        if len(labels) < 2:
            self._shared_lines = []
            return
        self._shared_lines = plots.show_shared(
            self.ax, [np.asarray(curves[label], dtype=float) for label in labels],
            [self._lines[label].get_color() for label in labels],
            stepped=[label in self._stepped_lines for label in labels])
        for line in self._shared_lines:
            line.set_animated(True)

    def shared(self) -> list[tuple[float, float]]:
        """The x ranges drawn in interleaved dashes now (stretches where curves coincide)."""
        return [(float(line.get_xdata()[0]), float(line.get_xdata()[-1]))
                for line in self._shared_lines]

    def _place_legend(self) -> None:
        """The legend under the plot (never on the curves), the figure taller by its height;
        without a legend, the figure's own size."""
        self._legend_for = tuple(self._lines)
        for legend in list(self.figure.legends):
            legend.remove()
        self.figure.set_size_inches(*self._base_size)
        self.ax.set_position(self._base_position)
        if len(self._lines) > 1:
            plots.legend_below(self.ax)

    def _fit_limits(self, curves: Curves) -> bool:
        """Set axis limits for the curves; True when they changed (a full redraw is due).

        Limits move only when a curve leaves them or shrinks well inside them, so that most
        slider moves redraw the lines alone over a cached background.
        """
        ys = [np.asarray(y, dtype=float) for y in curves.values() if len(y)]
        if not ys:
            return False
        n = max(len(y) for y in ys)
        finite = np.concatenate([y[np.isfinite(y)] for y in ys])
        if finite.size == 0:
            return False
        low, high = float(finite.min()), float(finite.max())
        last = n if self._stepped_lines else n - 1  # a stepped curve holds its last value to n
        x_lim = (-0.02 * n, last + 0.02 * n if last > 0 else 1.0)
        if self.ax.get_yscale() == "log":
            # whole decades: the limits stay put (and the background cached) until a curve
            # crosses a power of ten
            positive = finite[finite > 0]
            low = float(positive.min()) if positive.size else 1e-8
            high = high if high > 0 else 1.0
            y_lim = (float(10.0 ** np.floor(np.log10(low / 1.2))),
                     float(10.0 ** np.ceil(np.log10(high * 1.2))))
            if self._background is not None and x_lim == self._x_lim \
                    and np.allclose(self.ax.get_ylim(), y_lim, rtol=1e-9):
                return False
            changed = True
        else:
            bottom, top = self.ax.get_ylim()
            if self._background is not None and bottom <= min(low, 0.0) and high <= top \
                    and high >= 0.45 * top and low >= bottom and x_lim == self._x_lim:
                return False
            floor = min(low, 0.0)
            top = _nice_ceiling(floor + 1.05 * (high - floor)) if high > floor else high + 1.0
            y_lim = (floor - 0.04 * (top - floor), top)
            changed = True
        self._x_lim = x_lim
        self.ax.set_xlim(*x_lim)
        self.ax.set_ylim(*y_lim)
        return changed

    def _render(self, full: bool) -> None:
        """Draw into the Agg canvas: the whole figure when the axes changed, otherwise the
        cached background and the animated artists (lines, marks) on top of it."""
        canvas = self.figure.canvas
        key = (self.ax.get_xlim(), self.ax.get_ylim(), tuple(self._lines))
        if full or self._background is None:
            cached = self._backgrounds.get(key)
            if cached is None:
                canvas.draw()  # draws everything but the animated artists
                cached = canvas.copy_from_bbox(self.figure.bbox)
                if len(self._backgrounds) >= 32:
                    self._backgrounds.pop(next(iter(self._backgrounds)))
                self._backgrounds[key] = cached
            self._background = cached
        canvas.restore_region(self._background)
        lines = [line for label, line in self._lines.items() if not self.is_measured(label)]
        dots = [line for label, line in self._lines.items() if self.is_measured(label)]
        for artist in (self._marks_line, *lines, *self._shared_lines, *dots):  # dots on top
            self.ax.draw_artist(artist)
        self.image.value = plots.rgba_to_png(canvas.buffer_rgba())

    def _repr_mimebundle_(self, **kwargs):
        if plots.checking_legends():
            plots.report_legend_overlaps(self.figure)
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle = dict(bundle)
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = f"<{type(self).__name__}: {', '.join(self.controls)}>"
        return bundle


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) >= x.

    Rounding the top of the axis to such values keeps it still while a slider moves the
    curve a little, so those moves only redraw the lines.
    """
    if x <= 0:
        return 1.0
    scale = 10.0 ** np.floor(np.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * scale >= x * (1 - 1e-12):
            return float(m * scale)
    return float(10 * scale)  # pragma: no cover - the loop always returns


def _summary(values: dict[str, Any], curves: Curves,
             skip: Callable[[str], bool] = lambda label: label.startswith("PyTorch")) -> str:
    """One line per curve (measured dots, equal to the closed form, left out by ``skip``): its
    first and last values, where it is lowest and highest."""
    lines = []
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        if y.size == 0 or skip(label):
            continue
        stats = (f"first {y[0]:.4g}, last {y[-1]:.4g}, min {np.nanmin(y):.4g} "
                 f"(step {int(np.nanargmin(y))}), max {np.nanmax(y):.4g} "
                 f"(step {int(np.nanargmax(y))})") if np.isfinite(y).any() else "no finite value"
        lines.append(f"{label}: {stats}" if len(curves) > 1 else stats)
    return "\n".join(lines)


def milestone_steps(name: str, steps: int, kwargs: Mapping[str, Any]) -> list[float]:
    """Steps worth a dotted line on the plot: milestones, restarts, the end of a warm-up, the
    start of a decay, the end of a schedule (those before ``steps``).

    Knows torch's schedulers, the modern recipes, SWALR (the hand-over and the end of the
    annealing, after the first schedule's own marks), transformers' schedules (warm-up end,
    restarts, ``num_training_steps``; WSD's phase boundaries) and timm's ``CosineLRScheduler``
    (warm-up end, cycle starts, the end of the last cycle; in epoch mode a clock tick is
    ``updates_per_epoch`` steps).
    """
    return sorted({m for m in _marks(name, steps, dict(kwargs)) if 0 < m < steps})


def _marks(name: str, steps: int, k: dict[str, Any]) -> list[float]:
    if name == "StepLR":
        return list(range(k["step_size"], steps, k["step_size"]))
    if name in ("MultiStepLR", "SequentialLR"):
        return list(k.get("milestones", ()))
    if name in ("ConstantLR", "LinearLR"):
        return [k.get("total_iters", 5)]
    if name == "CosineAnnealingLR":
        return list(range(k["T_max"], steps, k["T_max"]))
    if name == "CosineAnnealingWarmRestarts":
        marks, start, length = [], k["T_0"], k["T_0"]
        while start < steps:
            marks.append(start)
            length *= k.get("T_mult", 1)
            start += length
        return marks
    if name == "CyclicLR":
        up = k.get("step_size_up", 2000)
        period = up + (k.get("step_size_down") or up)
        return list(range(period, steps, period))
    if name == "OneCycleLR":
        total = k.get("total_steps") or steps
        up = float(k.get("pct_start", 0.3) * total) - 1
        return [up, 2 * up] if k.get("three_phase") else [up]
    # -- the modern recipes
    if name == "WarmupCosine":
        return [k.get("warmup_steps", 0), k["total_steps"]]
    if name == "WarmupStableDecay":
        return [k.get("warmup_steps", 0), k["total_steps"] - k["decay_steps"], k["total_steps"]]
    if name == "InverseSqrt":
        return [k.get("warmup_steps", 0)]
    # -- torch.optim.swa_utils
    if name == "SWALR":
        start = k.get("swa_start", 0)
        first = k.get("scheduler")
        before = milestone_steps(first[0], start, first[1]) if first is not None else []
        return [*before, start, start + k.get("anneal_epochs", 10)]
    # -- transformers
    W = k.get("num_warmup_steps", 0)
    if name in ("get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup",
                "get_polynomial_decay_schedule_with_warmup"):
        return [W, k["num_training_steps"]]
    if name == "get_cosine_with_hard_restarts_schedule_with_warmup":
        T, cycles = k["num_training_steps"], k.get("num_cycles", 1)
        length = (T - W) / cycles if cycles > 0 else T - W
        restarts = [W + i * length for i in range(1, math.ceil(cycles))] if length > 0 else []
        return [W, *restarts, T]
    if name == "get_inverse_sqrt_schedule":
        return [W]
    if name == "get_wsd_schedule":
        D = k["num_decay_steps"]
        S = k.get("num_stable_steps")
        if S is None:
            S = k["num_training_steps"] - W - D
        return [W, W + S, W + S + D]
    # -- timm
    if name == "CosineLRScheduler":
        return _timm_marks(steps, **k)
    return []


def _timm_marks(steps: int, t_initial: int, warmup_t: int = 0, warmup_prefix: bool = False,
                cycle_mul: float = 1.0, cycle_limit: int = 1, t_in_epochs: bool = True,
                updates_per_epoch: int = 1, **_: Any) -> list[float]:
    """timm's warm-up end, cycle starts and end of the last cycle, in optimizer steps."""
    tick = updates_per_epoch if t_in_epochs else 1
    shift = warmup_t if warmup_prefix else 0
    marks, start, length = [warmup_t], 0.0, float(t_initial)
    for _i in range(cycle_limit):
        start += length
        length *= cycle_mul
        if (start + shift) * tick >= steps:
            break
        marks.append(start + shift)
    return [m * tick for m in marks]


def explore_function(compute: Callable[..., Curves], *, title: str = "",
                     ylabel: str = "learning rate", xlabel: str = "step", logy: bool = False,
                     marks: Callable[[dict], list[float]] | None = None,
                     describe: Callable[[dict, Curves], str] | None = None,
                     stepped: plots.Stepped = None, measured: Collection[str] | None = None,
                     **params: Any) -> Explorer:
    """Sliders for ``params`` (specs as in :func:`explore`) driving ``compute(**values)``,
    which returns a mapping from label to curve.

    ``stepped`` names the curves drawn as steps (:func:`lrcourse.plots.stepped_labels`: by
    default those labelled with a piecewise-constant scheduler's name, e.g. "MultiStepLR
    alone"; ``True`` for all).  ``measured`` names the curves drawn as dots, values measured
    from a library rather than computed (default: those labelled "PyTorch ...").
    ``describe(values, curves)`` returns the text under the slider values (default: first,
    last, min and max of every curve but the measured ones).  ``xlabel`` names the x axis
    ("epoch" when the curve has one value per epoch).
    """
    return Explorer(compute, params, title=title, ylabel=ylabel, xlabel=xlabel, logy=logy,
                    marks=marks, describe=describe, stepped=stepped, measured=measured)


def explore(name: str, *, lr: Any = 0.1, steps: Any = 100, torch: bool = False,
            momentum: bool = False, overlay: Mapping[str, tuple[str, dict]] | None = None,
            marks: bool = True, logy: bool = False, title: str | None = None,
            stepped: bool | None = None, xlabel: str = "step", **params: Any) -> Explorer:
    """An explorer of schedule ``name`` (any key of :data:`lrcourse.schedules.SCHEDULES`):
    sliders for its parameters, the curve redrawn as they move.

    ``torch=True`` also draws, as dots, the curve measured from the code that defines the
    schedule (:func:`lrcourse.reference.ground_truth`: a real ``torch.optim.lr_scheduler``
    class or ``SWALR``, transformers or timm themselves, the modern recipes' ``LambdaLR``;
    slower, it steps them on every move).  When transformers or timm is not installed, the
    readout says so instead.  ``momentum=True`` also draws the momentum that
    CyclicLR/OneCycleLR set, on the same axis.  ``overlay`` adds other schedules with fixed
    parameters for comparison, ``{"label": (name, kwargs)}``, drawn over the explorer's steps
    from its ``lr`` (or from ``kwargs["lr"]``).  ``marks`` draws milestones, restarts and phase
    ends (:func:`milestone_steps`).  ``logy`` puts the rate on a log axis (to see how far below
    the start a schedule ends).  A piecewise-constant schedule, the explorer's or an overlay's,
    is drawn as steps (:func:`lrcourse.plots.is_piecewise_constant`); ``stepped=True``/``False``
    overrides it for the explorer's own curve (e.g. ``stepped=True`` for a LambdaLR of a step
    function).  ``xlabel`` names the x axis: "epoch" where the lesson steps the schedule once
    per epoch.
    """
    overlay = dict(overlay or {})
    truth_label, truth_missing = None, None
    if torch:
        from . import reference  # imported on demand: torch is slow to import

        truth_label = reference.ground_truth_label(name)
        truth_missing = reference.ground_truth_missing(name)

    def compute(lr, steps, **kwargs):
        curves = {name: lr_curve(name, steps, lr, **kwargs)}
        if momentum:
            curves["momentum"] = momentum_curve(name, steps, lr, **kwargs)
        if torch and truth_missing is None:
            from . import reference

            curves[truth_label] = reference.ground_truth(name, steps, lr, **kwargs)
        for label, (other, other_kwargs) in overlay.items():
            other_kwargs = dict(other_kwargs)  # its own lr if given, else the explorer's
            curves[label] = lr_curve(other, steps, other_kwargs.pop("lr", lr), **other_kwargs)
        return curves

    def mark(values):
        kwargs = {k: v for k, v in values.items() if k not in ("lr", "steps")}
        return milestone_steps(name, values["steps"], kwargs) if marks else []

    def describe(values, curves):
        summary = _summary(values, curves, skip=lambda label: label == truth_label)
        if truth_missing is not None:
            summary += f"\nno dots from {truth_label}: {truth_missing}"
        return summary

    own = plots.is_piecewise_constant(name, params) if stepped is None else stepped
    steps_drawn = {name} if own else set()
    steps_drawn |= {label for label, (other, kwargs) in overlay.items()
                    if plots.is_piecewise_constant(other, kwargs)}
    return Explorer(compute, {"lr": lr, "steps": steps, **params},
                    title=name if title is None else title,
                    ylabel="learning rate / momentum" if momentum else "learning rate",
                    xlabel=xlabel, logy=logy, marks=mark, describe=describe, stepped=steps_drawn,
                    measured={truth_label} if truth_label else set())
