"""Parameter checks shared by the schedule formulas.

Every check raises :class:`ValueError` whose message names the scheduler, the parameter, the
allowed range and the value received, e.g.::

    StepLR: step_size must be an integer >= 1, got 0

They run on scalars only, once per call, so they cost nothing next to the formulas.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Iterable

import numpy as np


def fail(scheduler: str, message: str) -> None:
    raise ValueError(f"{scheduler}: {message}")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(scheduler: str, param: str, value, minimum: int = 0) -> int:
    """``value`` must be an int >= ``minimum``."""
    if not _is_int(value) or value < minimum:
        fail(scheduler, f"{param} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def real(
    scheduler: str,
    param: str,
    value,
    low: float = -np.inf,
    high: float = np.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` must be a finite real number in the interval ``low .. high``."""
    lo_ok = _is_real(value) and (value > low if low_open else value >= low)
    hi_ok = _is_real(value) and (value < high if high_open else value <= high)
    if not (lo_ok and hi_ok and np.isfinite(value)):
        fail(scheduler, f"{param} must be {_describe(low, high, low_open, high_open)}, got {value!r}")
    return float(value)


def _describe(low, high, low_open, high_open) -> str:
    if np.isinf(low) and np.isinf(high):
        return "a finite number"
    if np.isinf(high):
        return f"a number {'>' if low_open else '>='} {low:g}"
    if np.isinf(low):
        return f"a number {'<' if high_open else '<='} {high:g}"
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    return f"a number in {left}{low:g}, {high:g}{right}"


def choice(scheduler: str, param: str, value, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    if value not in allowed:
        fail(scheduler, f"{param} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def callable_(scheduler: str, param: str, value) -> Callable:
    if isinstance(value, (list, tuple)):
        fail(
            scheduler,
            f"{param} must be one callable; lr_curve draws one parameter group, so for a list of "
            f"lambdas (one per group) call lr_curve once per group",
        )
    if not callable(value):
        fail(scheduler, f"{param} must be a callable of the epoch index, got {value!r}")
    return value


def steps(value) -> int:
    if not _is_int(value) or value < 0:
        raise ValueError(f"steps must be an integer >= 0, got {value!r}")
    return int(value)


def lr(scheduler: str, value, param: str = "lr") -> float:
    return real(scheduler, param, value, low=0.0)


def step_indices(t) -> np.ndarray:
    """The step indices a formula is evaluated at, as a non-negative numpy array."""
    arr = np.asarray(t)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"steps must be numbers, got an array of {arr.dtype}")
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0):
        raise ValueError("step indices must be finite and >= 0")
    return arr


def suggest(name: str, known: Iterable[str]) -> str:
    """A ``did you mean`` hint for a misspelt name ('' when nothing is close)."""
    known = list(known)
    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:
        return f"; did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f"; did you mean {close[0]!r}?" if close else ""


def call_lambda(scheduler: str, fn: Callable, epoch: int) -> float:
    """Call a user's lr_lambda and turn its failures into a readable error."""
    try:
        value = fn(epoch)
    except Exception as exc:  # the learner's own code: report it, do not hide it
        raise ValueError(
            f"{scheduler}: lr_lambda({epoch}) raised {type(exc).__name__}: {exc}"
        ) from exc
    if not _is_real(value) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        try:
            value = float(value)  # a 0-d tensor, say
        except (TypeError, ValueError):
            fail(scheduler, f"lr_lambda({epoch}) must return a number, got {value!r}")
    return float(value)
