r"""The check of exercises 8 to 12: a curve made from the learner's function, against torch's,
with the mistake named when it is a known one.

The learner's function is run in one of four ways, one subclass of :class:`CurveCheck` each,
and every way gives one learning-rate curve per parameter group:

======================  =========================================================================
``RateOfStep``          ``fn(k, **params)`` is the rate of step ``k`` (a closed form), for
                        ``k = 0 .. steps - 1``
``LambdaFactor``        ``fn(k, **params)`` is a *factor*: the check builds a real
                        ``LambdaLR(optimizer, lambda k: fn(k, **params))`` on an SGD optimizer
                        with one parameter group per rate in ``groups`` and steps it
``WholeCurve``          ``fn(steps=..., **params)`` returns the whole curve at once
``SchedulerBuilder``    ``fn(optimizer, **params)`` builds a torch scheduler; the check steps it
======================  =========================================================================

A case is ``{"steps": n, "params": {...}}``, plus ``"groups": [lr, ...]`` for the two that
drive an optimizer.  The loop that steps a scheduler is the one every lesson uses: read the
rates, ``optimizer.step()``, ``scheduler.step()``.

**Named mistakes.**  Each check's ``mistakes`` is a table of
:class:`lrcourse.checks.diagnosis.Mistake`, built with :func:`~lrcourse.checks.diagnosis.written`:
a plausible wrong version of the learner's function, a constant ``kind`` and the sentence that
explains it.  When a case fails, the judge hands :func:`~lrcourse.checks.diagnosis.diagnose`
the case's curves and a way to run a mistake's function with this check's probe, here in the
trusted process (the grader, or the learner's kernel in a notebook); if the learner's curve
*is* the curve of one of them, the message's ``diagnosis:`` line names it (all of them, when
several give that same curve on that case), and a hidden case's feedback its ``kind``.  The
mistakes never decide anything: the expected curve is always torch's, and a curve that matches
no mistake gets the check's ordinary hint.  This is the mechanism of every other check too.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._core import (
    bad_value_message, compare_curves, curve_message, describe_curve, describe_value,
    format_call, format_value, mismatches, raised_message, raised_record, short_repr, type_name,
)
from .diagnosis import Curves, Mistake, diagnose
from .probes import Stop, rates_of_steps, sgd, step_through, wrong_type
from .spec import Check, fail, keep, validate_group_curves

__all__ = ["CurveCheck", "RateOfStep", "LambdaFactor", "WholeCurve", "SchedulerBuilder",
           "HIDDEN_CASES"]

HIDDEN_CASES = 12


def _groups_text(groups: list[float]) -> str:
    if len(groups) == 1:
        return f"an SGD optimizer of lr {format_value(groups[0])}"
    return f"an SGD optimizer with {len(groups)} parameter groups of lr {format_value(groups)}"


@dataclass(frozen=True)
class CurveCheck(Check):
    """What the four ways share: cases, torch's curves, validation and the judge.

    ``truth(case)`` gives torch's rates (through :mod:`lrcourse.reference`): an array of shape
    ``(steps,)`` or ``(steps, groups)``.  ``torch_name`` is what the learner's curve is compared
    with, as the message names it after ``reference_module`` (``StepLR``, ``SequentialLR of
    ...``).  ``mistakes`` are :func:`lrcourse.checks.diagnosis.written` mistakes.
    ``hint(case, first)`` is the hint when no mistake is recognised.  ``stepped`` draws the
    overlay plot as steps although ``torch_name`` does not say it is piecewise constant (a
    SequentialLR whose second member is).
    """

    name: str
    subject: str
    torch_name: str
    variable: str
    public: list[dict]
    draw: Callable[[np.random.Generator], dict]
    truth: Callable[[dict], np.ndarray]
    mistakes: tuple[Mistake, ...] = ()
    hint: Callable[[dict, int], str] = field(default=lambda case, first: "")
    hidden_count: int = HIDDEN_CASES
    reference_module: str = "torch.optim.lr_scheduler"
    stepped: bool = False

    # ------------------------------------------------------------------ trusted: the grader

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        return [copy.deepcopy(case) for case in self.draw_cases(hidden, seed, self.public,
                                                                self.draw)]

    def expected(self, case: dict) -> list[list[float]]:
        curves = np.asarray(self.truth(case), dtype=np.float64)
        if curves.ndim == 1:
            curves = curves[:, None]
        return [curves[:, g].tolist() for g in range(curves.shape[1])]

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        return validate_group_curves(got, expected)

    # what the messages call the learner's code and the calls the check made
    def checked_call(self, case: dict) -> str:
        return format_call(self.subject, self.variable, case["params"])

    def call_at(self, case: dict, got: dict) -> str:
        return format_call(self.subject, str(got.get("at", 0)), case["params"])

    def function_label(self) -> str:
        return self.subject

    def plot_title(self, case: dict) -> str:
        return format_call(self.subject, self.variable, case["params"])

    def returned_message(self, case: dict, got: dict) -> str:
        return bad_value_message(got, self.subject, f"{self.variable} {got.get('at', 0)} "
                                                    f"(the call {self.call_at(case, got)})")

    def raised_text(self, case: dict, got: dict) -> str:
        return raised_message(got, self.subject, self.call_at(case, got))

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        got = self.screen(case, expected, got)
        if got["kind"] == "raised":
            fail(self.raised_text(case, got), cause)
        if got["kind"] == "returned":
            fail(self.returned_message(case, got), None)
        groups = case.get("groups", [None])
        for g, (want, have) in enumerate(zip(expected, got["values"], strict=True)):
            want, have = np.asarray(want, np.float64), np.asarray(have, np.float64)
            bad = mismatches(want, have)
            if not bad.size:
                continue
            call, title = self.checked_call(case), self.plot_title(case)
            if len(groups) > 1:
                group = f"parameter group {g} of {len(groups)} (its lr: {groups[g]:g})"
                call, title = f"{call}, {group}", f"{title}\n{group}"
            curves = Curves(want, have, params=case["params"], variable=self.variable,
                            run=functools.partial(self.curve_of, case, g))
            compare_curves(want, have, function=self.function_label(),
                           torch_name=self.torch_name, module=self.reference_module, call=call,
                           variable=self.variable, hint=self.hint(case, int(bad[0])),
                           display=display, title=title, stepped=self.stepped,
                           diagnosis=diagnose(self.mistakes, curves))

    def curve_of(self, case: dict, group: int, fn: Callable) -> list[float]:
        """The curve of parameter group ``group`` that this check's probe reads on ``case``
        when ``fn`` stands in for the learner's code (a mistake's wrong version of it)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = self.probe(fn, copy.deepcopy(case))
        if record.get("kind") != "values":
            raise ValueError(f"the mistake's code does not run on this case: {record}")
        return record["values"][group]


# ----------------------------------------------------------------------------- the four ways


@dataclass(frozen=True)
class RateOfStep(CurveCheck):
    """``fn(k, **params)`` is the learning rate of step ``k``."""

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        record = rates_of_steps(fn, case, sink)
        if record["kind"] == "values":
            record["values"] = [record["values"]]  # one parameter group
        return record


@dataclass(frozen=True)
class WholeCurve(CurveCheck):
    """``fn(steps=n, **params)`` returns the ``n`` rates of steps ``0 .. n - 1`` at once."""

    def checked_call(self, case: dict) -> str:
        return format_call(self.subject, None, {"steps": case["steps"], **case["params"]})

    def plot_title(self, case: dict) -> str:
        return self.checked_call(case)

    def call_at(self, case: dict, got: dict) -> str:
        return self.checked_call(case)  # one call makes the whole curve

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        if not callable(fn):
            return wrong_type(fn)
        try:
            value = fn(steps=case["steps"], **copy.deepcopy(case["params"]))
        except Exception as exc:  # noqa: BLE001
            keep(sink, exc)
            return raised_record(exc)
        described = describe_curve(value, case["steps"])
        if isinstance(described, dict):
            return {"kind": "returned", **described}
        return {"kind": "values", "values": [described]}

    def returned_message(self, case: dict, got: dict) -> str:
        steps, where = case["steps"], f"the call {self.checked_call(case)}"
        if got.get("what") == "curve_length" and "element" not in got:
            return (f"{self.subject} returned {got.get('length')} learning rates for {where}, "
                    f"expected {steps}: one per step, steps 0 .. {steps - 1}")
        return curve_message(got, steps, self.subject, where).replace("per epoch", "per step")


@dataclass(frozen=True)
class _Stepped(CurveCheck):
    """The two ways that drive a real optimizer: read every group's rate, step, repeat."""

    def prepare(self) -> None:
        import torch.optim.lr_scheduler  # noqa: F401 - imported before the probe is watched

        sgd([0.1]).step()

    def run(self, optimizer, scheduler, case: dict, sink: list | None) -> dict:
        return step_through(optimizer, scheduler, case["steps"], len(case["groups"]), sink)


@dataclass(frozen=True)
class LambdaFactor(_Stepped):
    """``fn(k, **params)`` is a factor, given to a real ``LambdaLR``."""

    def function_label(self) -> str:
        return f"LambdaLR with your {self.subject}"

    def checked_call(self, case: dict) -> str:
        inner = format_call(self.subject, self.variable, case["params"])
        return (f"LambdaLR(optimizer, lambda {self.variable}: {inner}) on "
                f"{_groups_text(case['groups'])}")

    def returned_message(self, case: dict, got: dict) -> str:
        where = f"{self.variable} {got.get('at', 0)} (the call {self.call_at(case, got)})"
        # the shared sentences speak of a learning rate; the learner's function returns a factor
        return (bad_value_message(got, self.subject, where)
                .replace("the learning rate, a number", "a factor, a number")
                .replace("the learning rate as a number (a float)", "a factor, a number")
                .replace("the learning rate at that one step", "the factor of that one step"))

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        if not callable(fn):
            return wrong_type(fn)
        from torch.optim.lr_scheduler import LambdaLR

        params, problem = case["params"], {}

        def factor(k):
            """The learner's function as LambdaLR calls it; its value is described first."""
            try:
                value = fn(k, **copy.deepcopy(params))
            except Exception as exc:  # noqa: BLE001
                keep(sink, exc)
                problem.update(raised_record(exc, at=k))
                raise Stop from exc
            described = describe_value(value)
            if isinstance(described, dict):
                problem.update({"kind": "returned", **described, "at": k})
                raise Stop
            return described

        optimizer = sgd(case["groups"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's warnings are not the learner's concern
            try:
                scheduler = LambdaLR(optimizer, factor)
                return self.run(optimizer, scheduler, case, sink)
            except Stop:
                return problem


@dataclass(frozen=True)
class SchedulerBuilder(_Stepped):
    """``fn(optimizer, **params)`` returns a torch scheduler built on ``optimizer``."""

    def function_label(self) -> str:
        return f"the scheduler your {self.subject} builds"

    def checked_call(self, case: dict) -> str:
        return (f"{format_call(self.subject, 'optimizer', case['params'])} with "
                f"{_groups_text(case['groups'])}")

    def call_at(self, case: dict, got: dict) -> str:
        return self.checked_call(case)

    def plot_title(self, case: dict) -> str:
        return format_call(self.subject, "optimizer", case["params"])

    def raised_text(self, case: dict, got: dict) -> str:
        where = self.checked_call(case)
        if got.get("phase") == "step":
            return raised_message(got, f"the scheduler {self.subject} built",
                                  f"scheduler.step() after step {got.get('at')}, {where}")
        return raised_message(got, self.subject, where)

    def returned_message(self, case: dict, got: dict) -> str:
        where = self.checked_call(case)
        if got.get("phase") == "init":
            if got.get("what") == "none":
                return (f"{self.subject} returned None for {where}: did you forget `return`? It "
                        "must return the scheduler it builds")
            return (f"{self.subject} returned {got.get('type')} ({got.get('repr')}) for {where};"
                    " it must return the torch scheduler it builds (an object with a step() "
                    "method)")
        return (f"after {got.get('at')} step(s) of the scheduler {self.subject} built, the "
                f"optimizer's lr is not a number ({bad_value_message(got, 'it', where)})")

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        if not callable(fn):
            return wrong_type(fn)
        optimizer = sgd(case["groups"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                scheduler = fn(optimizer, **copy.deepcopy(case["params"]))
            except Exception as exc:  # noqa: BLE001
                keep(sink, exc)
                return raised_record(exc, phase="init")
            if not callable(getattr(scheduler, "step", None)):
                return {"kind": "returned", "what": "none" if scheduler is None else "type",
                        "type": type_name(scheduler), "repr": short_repr(scheduler),
                        "phase": "init"}
            return self.run(optimizer, scheduler, case, sink)
