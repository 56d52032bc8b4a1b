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
import itertools
import math
import numbers
import re
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

RTOL = 1e-6
ATOL_SCALE = 1e-9


class CheckFailed(AssertionError):
    """A learner's code disagrees with PyTorch; the message says where and by how much.

    ``mistake``: when the learner's curve was recognised as a known wrong implementation
    (:mod:`lrcourse.checks.diagnosis`), that mistake's constant description, which names no
    value of the case; else "".
    """

    mistake: str = ""


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


MAX_ERROR_TEXT = 2000
"""Characters of a learner's exception message kept in a record."""


def raised_record(exc: BaseException, **where: Any) -> dict:
    """What the learner's code raised, as plain data (``where`` says during which call)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - the learner's __str__ may raise anything
        text = f"<unprintable {type_name(exc)}>"
    return {"kind": "raised", "type": type_name(exc), "message": text[:MAX_ERROR_TEXT],
            "not_implemented": isinstance(exc, NotImplementedError),
            "type_error": isinstance(exc, TypeError), **where}


# Python's own words when a call does not fit the function's signature (no line of the
# function ran): "f() got an unexpected keyword argument 'lr'", "f() missing 1 required ...".
_SIGNATURE = re.compile(r"\(\) (got an unexpected keyword argument|missing \d+ required|"
                        r"takes \d+ positional|takes from \d+ to \d+ positional|"
                        r"got multiple values for argument|got some positional-only)")


def is_signature_error(record: dict) -> bool:
    """Whether a ``raised`` record is Python refusing the call itself (a wrong signature)."""
    return bool(record.get("type_error")) and bool(_SIGNATURE.search(record.get("message", "")))


def raised_message(record: dict, function: str, where: str, signature: str = "") -> str:
    """The learner's code raised (``record`` from :func:`raised_record`): say what it was
    doing and what it raised.  (Whether a traceback of the learner's own lines stands above
    the message is for :func:`lrcourse.checks.spec.fail` to say: it knows the exception.)

    ``signature``: the hint for a call that does not fit the learner's signature (by default,
    keep the exercise's parameter names).
    """
    if record.get("not_implemented"):
        return not_implemented(function).args[0]
    message = (f"{function} raised {record['type']}: {record['message']}\n  while the check "
               f"called {where}")
    if is_signature_error(record):
        message += "\n  hint: " + (signature or "the call does not fit your function's "
                                    "signature: keep the parameter names the exercise gives")
    return message


def raised(function: str, where: str, exc: BaseException) -> CheckFailed:
    """The learner's code raised: say what it was doing and what it raised."""
    return CheckFailed(raised_message(raised_record(exc), function, where))


def _is_arraylike(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def short_repr(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters (a repr that raises is described instead)."""
    try:
        return f"{value!r:.{width}}"
    except Exception:  # noqa: BLE001 - the learner's __repr__ may raise anything
        return f"<{type(value).__name__} object>"[:width]


def type_name(value: Any) -> str:
    """The name of ``value``'s type, as a message shows it (at most 60 characters)."""
    return str(type(value).__name__)[:60]


# A learner's return value is first *described* (``describe_value``: a float, or a small record
# of plain data saying what is wrong with it), then, on the trusted side, turned into a
# message (``bad_value_message``).  In a notebook both happen in the kernel; when grading, the
# description is made next to the learner's code and only the record travels to the grader.


def describe_value(value: Any) -> float | dict:
    """One learning rate returned by the learner: the float, or a record of what is wrong.

    Accepted: Python/numpy real numbers and 0-d numpy arrays or torch tensors.  Refused: None
    (a forgotten ``return``), booleans, sequences, arrays with elements, NaN and infinities.
    """
    if value is None:
        return {"what": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"what": "bool", "value": bool(value)}
    if _is_arraylike(value):
        try:
            shape = [int(n) for n in value.shape]
        except Exception:  # noqa: BLE001 - an object with a strange .shape
            return {"what": "type", "type": type_name(value), "repr": short_repr(value)}
        if shape:
            return {"what": "array", "shape": shape[:8]}
        try:
            value = value.item()
        except Exception:  # noqa: BLE001 - exotic array types
            pass
    if isinstance(value, (list, tuple)):
        return {"what": "sequence", "type": type_name(value), "length": len(value)}
    if not isinstance(value, (numbers.Real, np.floating, np.integer)):
        return {"what": "type", "type": type_name(value), "repr": short_repr(value)}
    try:
        number = float(value)
    except Exception:  # noqa: BLE001 - a Real subclass whose __float__ raises
        return {"what": "type", "type": type_name(value), "repr": short_repr(value)}
    if not math.isfinite(number):
        return {"what": "nonfinite", "value": repr(number)}
    return number


def bad_value_message(record: dict, function: str, where: str) -> str:
    """The learner-facing sentence for a record made by :func:`describe_value`."""
    what = record.get("what")
    if what == "none":
        return f"{function} returned None for {where}: did you forget `return`?"
    if what == "bool":
        return (f"{function} returned a boolean ({record['value']}) for {where}; it must return "
                "the learning rate, a number")
    if what == "array":
        return (f"{function} returned an array of shape {tuple(record['shape'])} for {where}; it "
                "must return one number: the learning rate at that one step")
    if what == "sequence":
        return (f"{function} returned a {record['type']} of length {record['length']} for "
                f"{where}; it must return one number: the learning rate at that one step")
    if what == "nonfinite":
        return (f"{function} returned {record['value']} for {where}: a learning rate must be a "
                "finite number (look for a division by zero or 0/0 in your formula)")
    return (f"{function} returned {record.get('type')} ({record.get('repr')}) for {where}; it "
            "must return the learning rate as a number (a float)")


def as_number(value: Any, function: str, where: str) -> float:
    """One learning rate returned by the learner, as a float; a clear CheckFailed otherwise
    (see :func:`describe_value`)."""
    described = describe_value(value)
    if isinstance(described, dict):
        raise CheckFailed(bad_value_message(described, function, where))
    return described


MAX_CURVE = 100_000
"""Longest curve read from a learner's return value (an endless generator stops here)."""


def describe_curve(value: Any, length: int) -> list[float] | dict:
    """A whole curve returned by the learner (one number per epoch): the floats, or a record of
    what is wrong with it (see :func:`curve_message`)."""
    if value is None:
        return {"what": "none"}
    if isinstance(value, (str, bytes, dict, set)) or isinstance(value, numbers.Number):
        return {"what": "curve_type", "type": type_name(value), "repr": short_repr(value)}
    if _is_arraylike(value):
        try:
            shape = [int(n) for n in value.shape]
        except Exception:  # noqa: BLE001
            shape = None
        if shape is not None and len(shape) != 1:
            return {"what": "curve_shape", "shape": shape[:8]}
    try:
        items = list(itertools.islice(iter(value), MAX_CURVE + 1))
    except TypeError:
        return {"what": "curve_iter", "type": type_name(value)}
    if len(items) != length:
        return {"what": "curve_length", "length": len(items)}
    values = []
    for k, item in enumerate(items):
        described = describe_value(item)
        if isinstance(described, dict):
            return {**described, "element": k}
        values.append(described)
    return values


def curve_message(record: dict, length: int, function: str, where: str) -> str:
    """The learner-facing sentence for a record made by :func:`describe_curve`."""
    what = record.get("what")
    if "element" in record:
        return bad_value_message(record, function, f"{where}, element {record['element']}")
    if what == "none":
        return f"{function} returned None for {where}: did you forget `return`?"
    if what == "curve_type":
        return (f"{function} returned {record['type']} ({record['repr']}) for {where}; it must "
                f"return a list of {length} learning rates, one per epoch")
    if what == "curve_shape":
        return (f"{function} returned an array of shape {tuple(record['shape'])} for {where}; it "
                f"must return a flat list of {length} learning rates, one per epoch")
    if what == "curve_iter":
        return (f"{function} returned {record['type']} for {where}; it must return a list of "
                f"{length} learning rates, one per epoch")
    count = record.get("length")
    count = f"more than {MAX_CURVE}" if count == MAX_CURVE + 1 else count
    return (f"{function} returned {count} learning rates for {where}, expected {length}: one "
            "per epoch, i.e. one per validation loss")


def as_curve(value: Any, length: int, function: str, where: str) -> np.ndarray:
    """A whole curve returned by the learner, as a float64 array; a CheckFailed otherwise."""
    described = describe_curve(value, length)
    if isinstance(described, dict):
        raise CheckFailed(curve_message(described, length, function, where))
    return np.array(described, dtype=np.float64)


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


def _times(expected: float, got: float) -> str:
    """`` (yours is 10x too high)`` when that says more than the two numbers; else ``""``."""
    if not (expected > 0 and got > 0):
        return ""
    ratio = got / expected
    if 1 / 1.05 < ratio < 1.05:
        return ""
    factor = max(ratio, 1 / ratio)
    factor_text = f"{factor:.3g}" if factor < 100 else \
        f"{factor:,.0f}" if factor < 1e7 else f"{factor:.2g}"
    return f" (yours is {factor_text}x too {'high' if ratio > 1 else 'low'})"


def difference_lines(expected: np.ndarray, got: np.ndarray, bad: np.ndarray,
                     variable: str) -> list[str]:
    """Where the curves part (first difference), by how much at worst (largest difference), and
    where they end (last value): the three lines of a mismatch message."""
    first = int(bad[0])
    largest = int(bad[np.argmax(np.abs(got[bad] - expected[bad]))])
    last = len(expected) - 1
    lines = [f"  first difference at {variable} {first}: expected {expected[first]:.10g}, "
             f"got {got[first]:.10g}{_times(expected[first], got[first])}"]
    if largest == first:
        lines.append(f"  largest difference: the first one ({variable} {first})")
    else:
        at = f"{variable} {largest}, the last" if largest == last else f"{variable} {largest}"
        lines.append(f"  largest difference at {at}: expected {expected[largest]:.10g}, got "
                     f"{got[largest]:.10g}{_times(expected[largest], got[largest])}")
    if last in bad and largest != last:
        lines.append(f"  last value, {variable} {last}: expected {expected[last]:.10g}, got "
                     f"{got[last]:.10g}{_times(expected[last], got[last])}")
    elif last not in bad:
        lines.append(f"  last value, {variable} {last}: {expected[last]:.10g}, the same in both")
    return lines


MESSAGE_WIDTH = 96
"""Columns a message's sentences wrap at (a notebook's error output would cut words)."""


def paragraph(label: str, text: str) -> str:
    """``  label: text``, wrapped between words at :data:`MESSAGE_WIDTH`, indented under it."""
    return textwrap.fill(text, MESSAGE_WIDTH, initial_indent=f"  {label}: ",
                         subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False)


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
    display: Callable[[Any], None] | None | bool = None,
    diagnosis: Any = None,
    module: str = "torch.optim.lr_scheduler",
    title: str | None = None,
    stepped: bool = False,
) -> None:
    """Raise CheckFailed (after showing the overlay plot in a notebook, or handing it to
    ``display``) if the curves differ.

    ``diagnosis`` (a :class:`lrcourse.checks.diagnosis.Diagnosis`, or None): the mistake the
    learner's curve was recognised as; its text replaces ``hint``, and its constant ``kind`` is
    kept on the exception as ``.mistake`` (what a hidden case's feedback may say).
    ``module`` is where ``torch_name`` lives.  The plot's title is ``title`` (default: ``call``;
    :func:`lrcourse.plots.compare` wraps it); its curves are drawn as steps when ``torch_name``
    is piecewise constant, or with ``stepped``.
    """
    bad = mismatches(expected, got)
    if bad.size == 0:
        return
    first = int(bad[0])
    lines = [
        f"{function} does not match {module}.{torch_name}.",
        f"  checked: {call} for {variable} = 0 .. {len(expected) - 1}",
        *difference_lines(expected, got, bad, variable),
        f"  {bad.size} of {len(expected)} values differ.",
        _table(expected, got, first, variable, extra),
    ]
    if diagnosis is not None:
        lines.append(paragraph("diagnosis", diagnosis.text))
    elif hint:  # one line, as checks written before diagnoses expect
        lines.append(f"  hint: {hint}")
    largest = int(bad[np.argmax(np.abs(got[bad] - expected[bad]))])
    show_overlay(expected, got, first, title=call if title is None else title, display=display,
                 xlabel=variable, schedule=torch_name, largest_diff=largest, stepped=stepped)
    failure = CheckFailed("\n".join(lines))
    failure.mistake = diagnosis.kind if diagnosis is not None else ""
    raise failure


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
                 display: Callable[[Any], None] | None | bool = None, *, xlabel: str = "step",
                 schedule: str = "", largest_diff: int | None = None,
                 stepped: bool = False) -> bool:
    """Display PyTorch's curve and the learner's, overlaid, as a PNG output of the running cell.

    ``xlabel`` names the x axis as the message does ("epoch" or "step"); the curves are drawn
    as steps when ``schedule`` (the torch scheduler's name) is piecewise constant, or with
    ``stepped``; the first and the largest difference are marked.
    Does nothing outside a notebook (plain Python, pytest) unless ``display`` is given, and
    nothing at all when ``display`` is False.  Returns whether a figure was displayed.  A
    failure to draw never hides the check's message.
    """
    if display is False:
        return False
    if display is None:
        if not in_notebook():
            return False
        from IPython.display import display
    try:
        from IPython.display import Image

        from lrcourse import plots

        fig = plots.compare(np.asarray(expected), np.asarray(got), labels=("PyTorch", "yours"),
                            first_diff=first_diff, largest_diff=largest_diff, title=title,
                            xlabel=xlabel,
                            stepped=stepped or
                            plots.is_piecewise_constant(schedule.split(" ")[0]))
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
