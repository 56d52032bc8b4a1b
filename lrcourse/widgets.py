"""Explorers: sliders that redraw a schedule's curve as they move.

    >>> explore("StepLR", lr=0.1, steps=100, step_size=(1, 50, 30), gamma=(0.01, 1.0, 0.5))

Each keyword is a parameter of the torch scheduler, named as torch names it.  Its value says
how it is explored:

* ``(low, high)`` or ``(low, high, start)`` of numbers: a slider (integer if all are ints);
  ``LogRange(low, high, start)`` a logarithmic one;
* a tuple of strings: a drop-down, starting at the first;
* a bool: a check box;
* an ``ipywidgets`` value widget: used as it is (e.g. an ``IntRangeSlider`` for milestones);
* anything else: a fixed value.

``lr`` and ``steps`` follow the same rules.  The curve comes from :func:`lr_curve`; the
explorer draws, it never computes a schedule itself.  The figure is a matplotlib figure
rendered to PNG into an ``ipywidgets.Image``; moving a slider updates the data of the existing
lines and re-renders, so nothing is rebuilt.  A parameter combination the scheduler refuses
shows its ``ValueError`` message under the plot instead of a traceback.

:func:`explore_function` is the general form: any function of the slider values that returns
named curves (used for composites, the plateau simulator and the gradient-descent demo).
"""

from __future__ import annotations

import base64
import html
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from . import plots
from .schedules import lr_curve, momentum_curve

__all__ = ["LogRange", "Explorer", "explore", "explore_function", "milestone_steps"]

Curves = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class LogRange:
    """A slider on a logarithmic scale, from ``low`` to ``high`` (both > 0)."""

    low: float
    high: float
    value: float | None = None


def _control(name: str, spec: Any) -> W.ValueWidget | None:
    """The widget for one parameter spec, or None when the value is fixed."""
    layout = W.Layout(width="420px")
    style = {"description_width": "110px"}
    common = dict(description=name, continuous_update=True, layout=layout, style=style)
    if isinstance(spec, W.ValueWidget):
        return spec
    if isinstance(spec, LogRange):
        value = spec.value if spec.value is not None else np.sqrt(spec.low * spec.high)
        step = 0.01
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
        low, high = spec[0], spec[1]
        value = spec[2] if len(spec) == 3 else None
        if all(isinstance(s, int) for s in spec):
            return W.IntSlider(value=value if value is not None else (low + high) // 2,
                               min=low, max=high, step=1, **common)
        value = value if value is not None else (low + high) / 2
        return W.FloatSlider(value=value, min=low, max=high, step=_grid_step(low, high, value),
                             readout_format=".4g", **common)
    return None


def _grid_step(low: float, high: float, value: float, count: int = 200) -> float:
    """A step of about ``(high - low) / count`` whose grid from ``low`` passes through ``value``.

    The browser snaps a slider to ``low + k * step`` as soon as it is shown and sends the
    snapped value back; with any other step, the lesson's starting value (gamma = 0.1, say)
    would silently become 0.1023 before the learner touched anything.
    """
    step = float(10.0 ** np.floor(np.log10((high - low) / count)))  # a round decimal step
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


class Explorer:
    """Sliders bound to a function that returns named curves; see :func:`explore_function`."""

    def __init__(self, compute: Callable[..., Curves], params: Mapping[str, Any], *,
                 title: str = "", ylabel: str = "learning rate", logy: bool = False,
                 marks: Callable[[dict], list[float]] | None = None,
                 describe: Callable[[dict, Curves], str] | None = None) -> None:
        self._compute = compute
        self._marks = marks
        self._describe = describe or _summary
        self.controls: dict[str, W.ValueWidget] = {}
        self.fixed: dict[str, Any] = {}
        for name, spec in params.items():
            control = _control(name, spec)
            if control is None:
                self.fixed[name] = spec
            else:
                self.controls[name] = control

        self.figure, self.ax = plots.new_figure(layout=None)  # fixed margins: cheap redraws
        self.figure.subplots_adjust(left=0.11, right=0.97, top=0.9, bottom=0.16)
        self.ax.set_title(title)
        self.ax.set_ylabel(ylabel)
        if logy:
            self.ax.set_yscale("log")
        self._lines: dict[str, Any] = {}
        self._mark_lines: list[Any] = []
        self._background = None
        # Backgrounds (axes, ticks, legend) already drawn, by axis limits and legend: dragging
        # a slider back over a range it has visited costs no full redraw.
        self._backgrounds: dict[tuple, Any] = {}
        self._x_lim: tuple[float, float] | None = None

        self.image = W.Image(format="png", layout=W.Layout(width="640px"))
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
        else:
            self.error.value = ""
            self._draw(curves, values)
            self.readout.value = (
                "<code>" + html.escape(", ".join(
                    f"{k}={_format(v)}" for k, v in values.items() if k in self.controls
                )) + "</code><br>" + self._describe(values, curves)
            )
        if not self.image.value:
            self._render(True)
        self.redraw_seconds.append(time.perf_counter() - start)

    def _draw(self, curves: Curves, values: dict[str, Any]) -> None:
        """Update the lines' data in place; re-lay the axes only when they must change."""
        full = self._background is None
        colors = plots._cycle(plots.PALETTE)
        for label, y in curves.items():
            y = np.asarray(y, dtype=float)
            color = next(colors)
            line = self._lines.get(label)
            if line is None:
                torch_style = label.startswith("PyTorch")
                style = (dict(linestyle="none", marker=".", markersize=3, alpha=0.8)
                         if torch_style else dict(linewidth=1.8))
                (line,) = self.ax.plot([], [], color=color, label=label, animated=True, **style)
                self._lines[label] = line
                full = True
            line.set_data(np.arange(len(y)), y)
            line.set_alpha(0.8 if label.startswith("PyTorch") else 1.0)
        for label in set(self._lines) - set(curves):
            self._lines.pop(label).remove()
            full = True
        for line in self._mark_lines:
            line.remove()
        self._mark_lines = [
            self.ax.axvline(x, color=plots.MARK_COLOR, linestyle=":", linewidth=1.0,
                            animated=True)
            for x in (self._marks(values) if self._marks else [])
        ]
        full |= self._fit_limits(curves)
        if full and len(self._lines) > 1:
            self.ax.legend(loc="upper right", framealpha=0.85, edgecolor="none")
        self._render(full)

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
        x_lim = (-0.02 * n, 1.02 * (n - 1) if n > 1 else 1.0)
        if self.ax.get_yscale() == "log":
            positive = finite[finite > 0]
            low = float(positive.min()) if positive.size else 1e-8
            y_lim = (low / 1.5, high * 1.5 if high > 0 else 1.0)
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
        for artist in (*self._mark_lines, *self._lines.values()):
            self.ax.draw_artist(artist)
        self.image.value = plots.rgba_to_png(canvas.buffer_rgba())

    def _repr_mimebundle_(self, **kwargs):
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


def _summary(values: dict[str, Any], curves: Curves) -> str:
    y = np.asarray(next(iter(curves.values())), dtype=float)
    if y.size == 0:
        return ""
    return (f"first {y[0]:.4g}, last {y[-1]:.4g}, "
            f"min {y.min():.4g} (step {int(y.argmin())}), max {y.max():.4g} (step {int(y.argmax())})")


def milestone_steps(name: str, steps: int, kwargs: Mapping[str, Any]) -> list[float]:
    """Steps worth a dotted line on the plot: milestones, restarts, phase ends."""
    k = dict(kwargs)
    if name == "StepLR":
        return list(range(k["step_size"], steps, k["step_size"]))
    if name in ("MultiStepLR", "SequentialLR"):
        return sorted(m for m in set(k.get("milestones", ())) if m < steps)
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
    return []


def explore_function(compute: Callable[..., Curves], *, title: str = "",
                     ylabel: str = "learning rate", logy: bool = False,
                     marks: Callable[[dict], list[float]] | None = None,
                     describe: Callable[[dict, Curves], str] | None = None,
                     **params: Any) -> Explorer:
    """Sliders for ``params`` (specs as in :func:`explore`) driving ``compute(**values)``,
    which returns a mapping from label to curve."""
    return Explorer(compute, params, title=title, ylabel=ylabel, logy=logy, marks=marks,
                    describe=describe)


def explore(name: str, *, lr: Any = 0.1, steps: Any = 100, torch: bool = False,
            momentum: bool = False, overlay: Mapping[str, tuple[str, dict]] | None = None,
            marks: bool = True, logy: bool = False, title: str | None = None,
            **params: Any) -> Explorer:
    """An explorer of torch scheduler ``name``: sliders for its parameters, the curve redrawn
    as they move.

    ``torch=True`` also draws the curve measured from a real ``torch.optim.lr_scheduler`` (as
    dots; slower, it steps torch on every move).  ``momentum=True`` also draws the momentum
    that CyclicLR/OneCycleLR set, on the same axis.  ``overlay`` adds other schedules with
    fixed parameters for comparison, ``{"label": (name, kwargs)}``, drawn over the explorer's
    steps from its ``lr`` (or from ``kwargs["lr"]``).  ``marks`` draws milestones and restarts.
    """

    def compute(lr, steps, **kwargs):
        curves = {name: lr_curve(name, steps, lr, **kwargs)}
        if momentum:
            curves["momentum"] = momentum_curve(name, steps, lr, **kwargs)
        if torch:
            from . import reference  # imported on demand: torch is slow to import
            curves["PyTorch " + name] = reference.lr_curve(name, steps, lr, **kwargs)
        for label, (other, other_kwargs) in (overlay or {}).items():
            other_kwargs = dict(other_kwargs)  # its own lr if given, else the explorer's
            curves[label] = lr_curve(other, steps, other_kwargs.pop("lr", lr), **other_kwargs)
        return curves

    def mark(values):
        kwargs = {k: v for k, v in values.items() if k not in ("lr", "steps")}
        return milestone_steps(name, values["steps"], kwargs) if marks else []

    return Explorer(compute, {"lr": lr, "steps": steps, **params},
                    title=name if title is None else title,
                    ylabel="learning rate / momentum" if momentum else "learning rate",
                    logy=logy, marks=mark)
