"""One-line helpers for the lessons' "compare with PyTorch" and "check the claim" cells.

Each puts the closed form (:func:`lrcourse.schedules.lr_curve`) beside the ground truth
(:func:`lrcourse.reference.lr_curve`), so that a lesson cell states a fact and proves it in one
line.  Nothing here computes a schedule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lrcourse import plots, reference
from lrcourse.schedules import lr_curve

__all__ = ["agree_with_torch", "side_by_side", "lr_table", "first_steps"]

RTOL = 1e-9


def _both(name: str, steps: int, lr: float, kwargs: dict) -> tuple[np.ndarray, np.ndarray]:
    return lr_curve(name, steps, lr, **kwargs), reference.lr_curve(name, steps, lr, **kwargs)


def agree_with_torch(name: str, steps: int, lr: float, **kwargs: Any) -> float:
    """Assert that the closed form and torch agree at every step; print and return the
    largest absolute difference."""
    ours, torch_curve = _both(name, steps, lr, kwargs)
    diff = np.abs(ours - torch_curve)
    worst = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(torch_curve).max()) if diff.size else 0.0
    if not np.allclose(ours, torch_curve, rtol=RTOL, atol=1e-14 * max(scale, 1e-300)):
        k = int(np.argmax(diff > RTOL * np.abs(torch_curve)))
        raise AssertionError(f"{name}: closed form {ours[k]!r} != torch {torch_curve[k]!r} "
                             f"at step {k}")
    print(f"{name}: the formula and torch.optim.lr_scheduler.{name} agree on all {steps} "
          f"steps (largest difference {worst:.1e})")
    return worst


def side_by_side(name: str, steps: int, lr: float, *, title: str | None = None,
                 marks: Iterable[float] = (), stepped: bool | None = None,
                 **kwargs: Any) -> Figure:
    """The closed form as a line and torch's values as dots, on one plot.

    A piecewise-constant schedule (:func:`lrcourse.plots.is_piecewise_constant`) is drawn as
    steps, each value held until the next step; ``stepped=True``/``False`` overrides that
    (e.g. ``stepped=True`` for a LambdaLR of a step function).
    """
    ours, torch_curve = _both(name, steps, lr, kwargs)
    if stepped is None:
        stepped = plots.is_piecewise_constant(name, kwargs)
    fig, ax = plots.new_figure()
    plots.plot_curve(ax, ours, stepped=stepped, color=plots.PALETTE[0], linewidth=2,
                     label="lrcourse (closed form)")
    x = np.arange(steps)
    every = max(1, steps // 80)
    ax.plot(x[::every], torch_curve[::every], linestyle="none", marker="o", markersize=3.5,
            color=plots.PALETTE[1], label=f"torch {name}")
    plots.mark_steps(ax, marks)
    ax.set_title(title if title is not None else f"{name}: formula vs torch")
    plots.place_legend(ax)
    return fig


def lr_table(columns: Mapping[str, Sequence[float]], rows: Iterable[int] | None = None,
             *, digits: int = 6) -> None:
    """Print learning rates side by side, one row per step (deterministic text for nbval)."""
    columns = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    n = min(len(v) for v in columns.values())
    rows = range(n) if rows is None else rows
    width = max(12, *(len(k) + 2 for k in columns))
    print("step".rjust(5) + "".join(k.rjust(width) for k in columns))
    for k in rows:
        print(f"{k:5d}" + "".join(f"{v[k]:{width}.{digits}g}" for v in columns.values()))


def first_steps(name: str, steps: int, lr: float, **kwargs: Any) -> None:
    """Print the first ``steps`` learning rates from the formula and from torch."""
    ours, torch_curve = _both(name, steps, lr, kwargs)
    lr_table({"formula": ours, "torch": torch_curve})
