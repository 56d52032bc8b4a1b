"""What every check shares: the failure type, reading a learner's return values, comparing a
curve with torch's, the message a learner reads, and the overlay plot shown in a notebook.

A curve matches when, at every step ``k``,

.. math:: |\\text{got}_k - \\text{expected}_k|
          \\le 10^{-6}\\,|\\text{expected}_k| + 10^{-9} \\max_j |\\text{expected}_j|

(``numpy.isclose`` with ``rtol=1e-6`` and an absolute floor relative to the curve's scale), so
a formula that agrees with torch's recursive update up to rounding passes, while a wrong one,
even one that is off only near zero, fails.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

RTOL = 1e-6
ATOL_SCALE = 1e-9


class CheckFailed(AssertionError):
    """A learner's code disagrees with PyTorch; the message says where and by how much."""


CheckFailed.__module__ = "lrcourse.checks"  # the name learners import it by


def learner_facing(check: Callable) -> Callable:
    """Decorate a public check: a CheckFailed it raises carries no traceback of the check's
    internals, so a notebook shows the learner's cell, the check's call and the message.
    (When the learner's code raised, that exception stays attached as the cause, with the
    learner's line in its traceback.)"""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except CheckFailed as exc:
            raise exc.with_traceback(None)  # noqa: B904 - same exception, shorter traceback

    return wrapper


def format_value(value: Any) -> str:
    """A parameter value as a learner would type it."""
    if isinstance(value, float):
        return f"{value:.10g}" if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(format_value(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


def format_call(function: str, first: str | None, kwargs: dict[str, Any]) -> str:
    """``step_lr(epoch, base_lr=0.1, step_size=3)``: the call the check makes."""
    parts = [first] if first else []
    parts += [f"{k}={format_value(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def not_implemented(function: str) -> CheckFailed:
    return CheckFailed(
        f"{function} is not implemented yet: replace `raise NotImplementedError()` in its cell "
        "with your code, run that cell, then run this check again."
    )


def raised(function: str, where: str, exc: BaseException) -> CheckFailed:
    """The learner's code raised: say what it was doing and what it raised."""
    if isinstance(exc, NotImplementedError):
        return not_implemented(function)
    return CheckFailed(
        f"{function} raised {type(exc).__name__}: {exc}\n  while the check called {where}\n"
        "  (the traceback above this message shows the line in your code)"
    )


def _is_arraylike(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def as_number(value: Any, function: str, where: str) -> float:
    """One learning rate returned by the learner, as a float; a clear CheckFailed otherwise.

    Accepted: Python/numpy real numbers and 0-d numpy arrays or torch tensors.  Refused: None
    (a forgotten ``return``), booleans, sequences, arrays with elements, NaN and infinities.
    """
    if value is None:
        raise CheckFailed(
            f"{function} returned None for {where}: did you forget `return`?"
        )
    if isinstance(value, (bool, np.bool_)):
        raise CheckFailed(
            f"{function} returned a boolean ({value}) for {where}; it must return the learning "
            "rate, a number"
        )
    if _is_arraylike(value):
        shape = tuple(value.shape)
        if shape != ():
            raise CheckFailed(
                f"{function} returned an array of shape {shape} for {where}; it must return one "
                "number: the learning rate at that one step"
            )
        try:
            value = value.item()
        except Exception:  # pragma: no cover - exotic array types
            pass
    if isinstance(value, (list, tuple)):
        raise CheckFailed(
            f"{function} returned a {type(value).__name__} of length {len(value)} for {where}; it "
            "must return one number: the learning rate at that one step"
        )
    if not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise CheckFailed(
            f"{function} returned {type(value).__name__} ({value!r:.60}) for {where}; it must "
            "return the learning rate as a number (a float)"
        )
    number = float(value)
    if not math.isfinite(number):
        raise CheckFailed(
            f"{function} returned {number} for {where}: a learning rate must be a finite number "
            "(look for a division by zero or 0/0 in your formula)"
        )
    return number


def as_curve(value: Any, length: int, function: str, where: str) -> np.ndarray:
    """A whole curve returned by the learner (one number per epoch), as a float64 array."""
    if value is None:
        raise CheckFailed(f"{function} returned None for {where}: did you forget `return`?")
    if isinstance(value, (str, bytes, dict, set)) or isinstance(value, numbers.Number):
        raise CheckFailed(
            f"{function} returned {type(value).__name__} ({value!r:.60}) for {where}; it must "
            f"return a list of {length} learning rates, one per epoch"
        )
    if _is_arraylike(value) and len(tuple(value.shape)) != 1:
        raise CheckFailed(
            f"{function} returned an array of shape {tuple(value.shape)} for {where}; it must "
            f"return a flat list of {length} learning rates, one per epoch"
        )
    try:
        items = list(value)
    except TypeError:
        raise CheckFailed(
            f"{function} returned {type(value).__name__} for {where}; it must return a list of "
            f"{length} learning rates, one per epoch"
        ) from None
    if len(items) != length:
        raise CheckFailed(
            f"{function} returned {len(items)} learning rates for {where}, expected {length}: "
            "one per epoch, i.e. one per validation loss"
        )
    return np.array(
        [as_number(v, function, f"{where}, element {k}") for k, v in enumerate(items)],
        dtype=np.float64,
    )


def mismatches(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Indices where ``got`` is not within tolerance of ``expected`` (see the module doc)."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    close = np.isclose(got, expected, rtol=RTOL, atol=ATOL_SCALE * scale)
    return np.flatnonzero(~close)


def _table(expected: np.ndarray, got: np.ndarray, first: int, variable: str,
           extra: tuple[str, Sequence[float]] | None) -> str:
    lo, hi = max(0, first - 2), min(len(expected), first + 3)
    head = f"    {variable:>7}  {'PyTorch':>14}  {'yours':>14}"
    if extra:
        head += f"  {extra[0]:>12}"
    rows = [head]
    for k in range(lo, hi):
        mark = ">" if k == first else " "
        row = f"  {mark} {k:>7}  {expected[k]:>14.8g}  {got[k]:>14.8g}"
        if extra:
            row += f"  {extra[1][k]:>12.6g}"
        rows.append(row)
    return "\n".join(rows)


def compare_curves(
    expected: np.ndarray,
    got: np.ndarray,
    *,
    function: str,
    torch_name: str,
    call: str,
    variable: str = "epoch",
    hint: str = "",
    extra: tuple[str, Sequence[float]] | None = None,
) -> None:
    """Raise CheckFailed (after showing the overlay plot in a notebook) if the curves differ."""
    bad = mismatches(expected, got)
    if bad.size == 0:
        return
    first = int(bad[0])
    lines = [
        f"{function} does not match torch.optim.lr_scheduler.{torch_name}.",
        f"  checked: {call} for {variable} = 0 .. {len(expected) - 1}",
        f"  first difference at {variable} {first}: expected {expected[first]:.10g}, "
        f"got {got[first]:.10g}",
        f"  {bad.size} of {len(expected)} values differ.",
        _table(expected, got, first, variable, extra),
    ]
    if hint:
        lines.append(f"  hint: {hint}")
    show_overlay(expected, got, first, title=call, xlabel=variable, schedule=torch_name)
    raise CheckFailed("\n".join(lines))


# ------------------------------------------------------------------------------ notebook plot


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbval, nbclient, the grader)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_overlay(expected, got, first_diff: int | None, title: str = "",
                 display: Callable[[Any], None] | None = None, *, xlabel: str = "step",
                 schedule: str = "") -> bool:
    """Display PyTorch's curve and the learner's, overlaid, as a PNG output of the running cell.

    ``xlabel`` names the x axis as the message does ("epoch" or "step"); the curves are drawn
    as steps when ``schedule`` (the torch scheduler's name) is piecewise constant.
    Does nothing outside a notebook (plain Python, pytest) unless ``display`` is given.
    Returns whether a figure was displayed.  A failure to draw never hides the check's message.
    """
    if display is None:
        if not in_notebook():
            return False
        from IPython.display import display
    try:
        from IPython.display import Image

        from lrcourse import plots

        fig = plots.compare(np.asarray(expected), np.asarray(got), labels=("PyTorch", "yours"),
                            first_diff=first_diff, title=title, xlabel=xlabel,
                            stepped=plots.is_piecewise_constant(schedule.split(" ")[0]))
        png = plots.to_png(fig)  # a pyplot-free Figure: nothing to close
    except Exception:  # noqa: BLE001 - the plot is a bonus; the message is what matters
        return False
    display(Image(data=png, format="png"))
    return True


def passed(check: str, hidden: bool, cases: int, seed: int | None = None) -> None:
    """Say what was checked, and no more."""
    if hidden:
        print(f"{check}: all hidden checks passed ({cases} randomized cases, seed {seed})")
    else:
        print(f"{check}: all public checks passed")
