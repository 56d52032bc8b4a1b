"""A check in four parts, so that grading can keep the trusted parts away from learner code.

Every exercise check is a :class:`Check` with four methods::

    cases(hidden, seed)             the inputs to try: the public table, or a seeded random draw
    expected(case)                  torch's answer for one case (through lrcourse.reference)
    probe(obj, case)                call the learner's function or class on the case's inputs
                                    and return what happened, as plain data (see below)
    judge(case, expected, got)      compare; raise CheckFailed with the message a learner reads,
                                    after showing the overlay plot of both curves

In a learner's notebook ``check_step_lr(step_lr)`` runs all four in the kernel
(:func:`run_in_notebook`), one case after the other, exactly as a single function would.
``lrcourse grade`` splits them: ``cases``, ``expected`` and ``judge`` run in the grader, and
only ``probe`` runs in the sandbox, next to the learner's code.  So ``probe`` is the one part
that must assume nothing: what it returns is data to validate (:meth:`Check.validate`), never
something to trust.  It holds no expected value and decides nothing.

What ``probe`` returns (JSON-ready, numbers and short strings only):

``{"kind": "values", "values": [...]}``
    the learning rates the learner's code produced (finite floats);
``{"kind": "raised", "type": "ZeroDivisionError", "message": "...", "at": 3, ...}``
    the learner's code raised (``at`` and friends say during which call);
``{"kind": "returned", "what": "none", "at": 3, ...}``
    it returned something that is not a learning rate (see ``_core.describe_value``);
``{"kind": "wrong_type", "type": "float", "repr": "0.1"}``
    the object handed to the check is not a function (or not a scheduler class).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._core import CheckFailed, passed

MAX_TEXT = 2000
"""Longest string accepted in a probe record."""
MAX_VALUES = 100_000
"""Most numbers accepted in a probe record."""

_WHAT = {"none", "bool", "array", "sequence", "type", "nonfinite", "curve_type", "curve_shape",
         "curve_iter", "curve_length"}
_WHERE_INTS = ("at", "group", "element", "length")
_WHERE_TEXT = {"phase": {"init", "step"}}


class MalformedProbe(ValueError):
    """A probe record that a probe could not have produced: the sandbox was tampered with."""


def _text(record: dict, key: str, required: bool = True) -> None:
    value = record.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise MalformedProbe(f"{key!r} is not a short string")


def _int(value: Any, key: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 10**9:
        raise MalformedProbe(f"{key!r} is not a small integer")


def finite_floats(values: Any, length: int | None, key: str = "values") -> list[float]:
    """``values`` as a list of finite floats (ints accepted) of ``length`` (if given)."""
    if not isinstance(values, list) or len(values) > MAX_VALUES:
        raise MalformedProbe(f"{key!r} is not a list of numbers")
    if length is not None and len(values) != length:
        raise MalformedProbe(f"{key!r} has {len(values)} numbers, not {length}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise MalformedProbe(f"{key!r} holds a {type(v).__name__}")
        try:
            v = float(v)
        except OverflowError:  # an int no float holds (JSON allows 400-digit integers)
            raise MalformedProbe(f"{key!r} holds a number too large for a float") from None
        if not math.isfinite(v):
            raise MalformedProbe(f"{key!r} holds a non-finite number")
        out.append(v)
    return out


def validate_curve(got: Any, length: int) -> dict:
    """A record whose values are one curve of ``length`` finite floats (or not values)."""
    validate_record(got)
    if got["kind"] == "values":
        finite_floats(got.get("values"), length)
    return got


def validate_group_curves(got: Any, expected: list[list[float]]) -> dict:
    """A record whose values are one curve per parameter group, each as long as ``expected``'s
    (or not values)."""
    validate_record(got)
    if got["kind"] == "values":
        values = got.get("values")
        if not isinstance(values, list) or len(values) != len(expected):
            raise MalformedProbe("not one curve per parameter group")
        for curve, want in zip(values, expected, strict=True):
            finite_floats(curve, len(want))
    return got


def malformed(check: str, exc: Exception) -> str:
    """The message for a probe record that no probe could have made."""
    return (f"{check}: the grading sandbox sent back data that the check's own code could not "
            f"have produced ({exc}), so this check failed. Was grading code changed from the "
            "notebook?")


def validate_record(got: Any, extra: dict[str, Callable[[Any], None]] | None = None) -> dict:
    """Check the shape of a record that is not ``values`` (those are checked per check)."""
    if not isinstance(got, dict):
        raise MalformedProbe("not a record")
    kind = got.get("kind")
    if kind == "raised":
        _text(got, "type")
        _text(got, "message")
        for flag in ("not_implemented", "type_error"):
            if not isinstance(got.get(flag), bool):
                raise MalformedProbe(f"{flag!r} is not a boolean")
    elif kind == "returned":
        if got.get("what") not in _WHAT:
            raise MalformedProbe("unknown 'what'")
        for key in ("type", "repr", "value"):
            if key in got and not isinstance(got[key], (str, bool)):
                raise MalformedProbe(f"{key!r} is not text")
            if isinstance(got.get(key), str) and len(got[key]) > MAX_TEXT:
                raise MalformedProbe(f"{key!r} is too long")
        if "shape" in got:
            if not isinstance(got["shape"], list) or len(got["shape"]) > 8:
                raise MalformedProbe("'shape' is not a short list")
            for n in got["shape"]:
                _int(n, "shape")
    elif kind == "wrong_type":
        _text(got, "type")
        _text(got, "repr")
    elif kind != "values":
        raise MalformedProbe(f"unknown kind {kind!r}")
    for key in _WHERE_INTS:
        if key in got:
            _int(got[key], key)
    for key, allowed in _WHERE_TEXT.items():
        if key in got and got[key] not in allowed:
            raise MalformedProbe(f"{key!r} is not one of {sorted(allowed)}")
    for key, check in (extra or {}).items():
        if key in got:
            check(got[key])
    return got


class Check:
    """One exercise check, in the four parts described in the module doc.

    Subclasses set the attributes below and implement the four methods.
    """

    name: str                   # "check_step_lr": what a test cell calls
    subject: str                # "step_lr": what the learner writes, as messages name it
    torch_name: str             # the torch scheduler the learner's code is compared with
    hidden_count: int           # how many hidden cases one hidden call draws
    mistakes: tuple = ()        # the wrong implementations judge can name (checks.diagnosis)
    reference_module: str = "torch.optim.lr_scheduler"  # where torch_name lives

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        raise NotImplementedError

    def draw_cases(self, hidden: bool, seed: int, public: list,
                   draw: Callable[[np.random.Generator], Any]) -> list:
        """``public``, or :attr:`hidden_count` draws of ``draw(rng)`` from ``seed``."""
        if not hidden:
            return list(public)
        rng = np.random.default_rng(seed)
        return [draw(rng) for _ in range(self.hidden_count)]

    def expected(self, case: dict) -> Any:
        raise NotImplementedError

    def prepare(self) -> None:
        """Import what :meth:`probe` needs (the grader's runner calls this before it starts
        watching which code the learner's code calls)."""

    def probe(self, obj: Any, case: dict, sink: list | None = None) -> dict:
        """Run the learner's ``obj`` on ``case``; return a plain-data record.

        ``sink``: when given (in a notebook), the learner's exception object is appended to
        it, so that the check's message can chain it and the notebook shows the learner's line.
        """
        raise NotImplementedError

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        """``got`` if it is a record this check's probe could have made; else MalformedProbe."""
        raise NotImplementedError

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        """Return if ``got`` matches ``expected``; else raise CheckFailed (from ``cause``).

        When the learner's values are those of a wrong implementation in :attr:`mistakes`
        (:func:`lrcourse.checks.diagnosis.diagnose`), the message names it and the
        CheckFailed's ``mistake`` holds that mistake's constant ``kind``, which is all that a
        hidden case's feedback says of it.
        """
        raise NotImplementedError

    def screen(self, case: dict, expected: Any, got: Any) -> dict:
        """``got``, validated (:meth:`validate`); CheckFailed when it is malformed or when the
        object checked was not what the check expects (:meth:`wrong_type_message`)."""
        try:
            got = self.validate(case, expected, got)
        except MalformedProbe as exc:
            fail(malformed(self.name, exc), None)
        if got["kind"] == "wrong_type":
            fail(self.wrong_type_message(got), None)
        return got

    def wrong_type_message(self, got: dict) -> str:
        return (f"{self.name} expects your function {self.subject}, got {got['type']} "
                f"({got['repr']}). Pass the function itself: {self.name}({self.subject})")

    @property
    def reference(self) -> str:
        """What the learner's curve is compared with: ``torch.optim.lr_scheduler.StepLR``."""
        return f"{self.reference_module}.{self.torch_name}"

    @property
    def hidden_hint(self) -> str:
        """A hint for failed hidden cases that names no parameter value."""
        return (f"the public cases pass, so try {self.subject} on other parameter values and "
                f"compare with {self.reference}")


LEARNER_LINE = "\n  (the traceback above this message shows the line in your code)"


def fail(message: str, cause: BaseException | None) -> None:
    """Raise CheckFailed(message), chained to the learner's exception unless it is a stub's.

    When that exception's traceback holds a line of the learner's own code, the message says
    that the traceback shown above it points there; when it does not (Python refused the call
    before any of their lines ran: a wrong signature), or when there is no exception at hand
    (grading, where no traceback is shown), it says nothing of the kind.
    """
    if cause is None or isinstance(cause, NotImplementedError):
        raise CheckFailed(message) from None
    from .display import learner_traceback

    if learner_traceback(cause.__traceback__) is not None:
        message += LEARNER_LINE
    raise CheckFailed(message) from cause


def keep(sink: list | None, exc: BaseException) -> None:
    """Hand the learner's exception to the notebook-side caller (see :meth:`Check.probe`)."""
    if sink is not None:
        sink.append(exc)


def run_in_notebook(check: Check, obj: Any, hidden: bool, seed: int) -> None:
    """All four parts in this process: what ``check_x(obj, hidden=..., seed=...)`` does."""
    cases = check.cases(hidden, seed)
    for case in cases:
        sink: list = []
        got = check.probe(obj, case, sink)
        expected = check.expected(case)
        check.judge(case, expected, got, cause=sink[0] if sink else None)
    passed(check.name, hidden, len(cases), seed)
