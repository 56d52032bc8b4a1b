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

**Named mistakes.**  Each check carries a table of :class:`Mistake`: a plausible wrong version
of the learner's function and the sentence that explains it.  When a case fails, the judge runs
every mistake on that case, with the same probe, here in the trusted process (the grader, or the
learner's kernel in a notebook), and if the learner's curve *is* the curve of one of them, the
message's hint names it (all of them, when several give that same curve on that case).  The
mistakes never decide anything: the expected curve is always torch's, and a curve that matches
no mistake gets the check's ordinary hint.  Hidden cases are judged the same way, but what a
grader reports of them is only a count (:mod:`lrcourse.grading.session`).
"""

from __future__ import annotations

import copy
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._core import (
    CheckFailed, bad_value_message, compare_curves, curve_message, describe_curve,
    describe_value, format_call, format_value, mismatches, raised_message, raised_record,
    short_repr, show_overlay, type_name,
)
from .functions import malformed
from .spec import Check, MalformedProbe, fail, finite_floats, keep, validate_record

__all__ = ["Mistake", "CurveCheck", "RateOfStep", "LambdaFactor", "WholeCurve",
           "SchedulerBuilder", "HIDDEN_CASES"]

HIDDEN_CASES = 12
LR_SCHEDULER = "torch.optim.lr_scheduler"


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong version of the learner's function, and what the message says when the
    learner's curve is exactly its curve."""

    says: str
    fn: Callable


class _Stop(Exception):
    """Raised through torch's scheduler when the learner's factor function failed."""


def _sgd(groups: list[float]):
    import torch

    params = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in groups]
    return torch.optim.SGD(params, lr=groups[0])


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
    ...``).  ``hint(case, first)`` is the hint when no mistake is recognised.  ``stepped``
    draws the overlay plot as steps although ``torch_name`` does not say it is piecewise
    constant (a SequentialLR whose second member is).
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
    reference_module: str = LR_SCHEDULER
    stepped: bool = False

    # ------------------------------------------------------------------ trusted: the grader

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        if hidden:
            rng = np.random.default_rng(seed)
            drawn = [self.draw(rng) for _ in range(self.hidden_count)]
        else:
            drawn = self.public
        return [copy.deepcopy(case) for case in drawn]

    def expected(self, case: dict) -> list[list[float]]:
        curves = np.asarray(self.truth(case), dtype=np.float64)
        if curves.ndim == 1:
            curves = curves[:, None]
        return [curves[:, g].tolist() for g in range(curves.shape[1])]

    @property
    def reference(self) -> str:
        return f"{self.reference_module}.{self.torch_name}"

    @property
    def hidden_hint(self) -> str:
        return (f"the public cases pass, so try {self.subject} on other parameter values and "
                f"compare with {self.reference}")

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        validate_record(got)
        if got["kind"] == "values":
            values = got.get("values")
            if not isinstance(values, list) or len(values) != len(expected):
                raise MalformedProbe("not one curve per parameter group")
            for curve, want in zip(values, expected, strict=True):
                finite_floats(curve, len(want))
        return got

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
        try:
            got = self.validate(case, expected, got)
        except MalformedProbe as exc:
            fail(malformed(self.name, exc), None)
        if got["kind"] == "wrong_type":
            fail(f"{self.name} expects your function {self.subject}, got {got['type']} "
                 f"({got['repr']}). Pass the function itself: {self.name}({self.subject})", None)
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
            call, title = self.checked_call(case), textwrap.wrap(self.plot_title(case), 72)
            if len(groups) > 1:
                group = f"parameter group {g} of {len(groups)} (its lr: {groups[g]:g})"
                call, title = f"{call}, {group}", [*title, group]
            hint = self.recognise(case, got["values"]) or self.hint(case, int(bad[0]))
            # the plot first (its title wrapped to the figure's width), then the message
            drawn_as = "StepLR" if self.stepped else self.torch_name.split(" ")[0]
            show_overlay(want, have, int(bad[0]), title="\n".join(title), display=display,
                         xlabel=self.variable, schedule=drawn_as)
            try:
                compare_curves(want, have, function=self.function_label(),
                               torch_name=self.torch_name, call=call, variable=self.variable,
                               hint=hint, display=False)
            except CheckFailed as exc:
                text = str(exc)
                if self.reference_module != LR_SCHEDULER:
                    text = text.replace(f"{LR_SCHEDULER}.{self.torch_name}", self.reference, 1)
                fail(text, None)

    def recognise(self, case: dict, values: list[list[float]]) -> str:
        """The sentence of each mistake whose curve is the learner's (several can give the same
        curve on one case), or ``""``."""
        have = [np.asarray(curve, np.float64) for curve in values]
        found = []
        for mistake in self.mistakes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                record = self.probe(mistake.fn, copy.deepcopy(case))
            if record.get("kind") != "values" or len(record["values"]) != len(have):
                continue
            if all(len(w) == len(h) and not mismatches(np.asarray(w, np.float64), h).size
                   for w, h in zip(record["values"], have, strict=True)):
                found.append(mistake.says)
        return "\n  or: ".join(found)


# ----------------------------------------------------------------------------- the four ways


@dataclass(frozen=True)
class RateOfStep(CurveCheck):
    """``fn(k, **params)`` is the learning rate of step ``k``."""

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        if not callable(fn):
            return {"kind": "wrong_type", "type": type_name(fn), "repr": short_repr(fn)}
        values = []
        for k in range(case["steps"]):
            kwargs = copy.deepcopy(case["params"])  # a function that edits them changes nothing
            try:
                value = fn(k, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                keep(sink, exc)
                return raised_record(exc, at=k)
            described = describe_value(value)
            if isinstance(described, dict):
                return {"kind": "returned", **described, "at": k}
            values.append(described)
        return {"kind": "values", "values": [values]}


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
            return {"kind": "wrong_type", "type": type_name(fn), "repr": short_repr(fn)}
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

        _sgd([0.1]).step()

    def run(self, optimizer, scheduler, steps: int, sink: list | None) -> dict:
        curves: list[list[float]] = [[] for _ in optimizer.param_groups]
        for k in range(steps):
            for g, group in enumerate(optimizer.param_groups):
                described = describe_value(group["lr"])
                if isinstance(described, dict):
                    return {"kind": "returned", **described, "at": k, "group": g,
                            "phase": "step"}
                curves[g].append(described)
            if k == steps - 1:
                break
            optimizer.step()
            try:
                scheduler.step()
            except _Stop:
                raise  # the learner's factor failed: LambdaFactor.probe says how
            except Exception as exc:  # noqa: BLE001
                keep(sink, exc)
                return raised_record(exc, phase="step", at=k)
        return {"kind": "values", "values": curves}


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
            return {"kind": "wrong_type", "type": type_name(fn), "repr": short_repr(fn)}
        from torch.optim.lr_scheduler import LambdaLR

        params, problem = case["params"], {}

        def factor(k):
            """The learner's function as LambdaLR calls it; its value is described first."""
            try:
                value = fn(k, **copy.deepcopy(params))
            except Exception as exc:  # noqa: BLE001
                keep(sink, exc)
                problem.update(raised_record(exc, at=k))
                raise _Stop from exc
            described = describe_value(value)
            if isinstance(described, dict):
                problem.update({"kind": "returned", **described, "at": k})
                raise _Stop
            return described

        optimizer = _sgd(case["groups"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's warnings are not the learner's concern
            try:
                scheduler = LambdaLR(optimizer, factor)
                return self.run(optimizer, scheduler, case["steps"], sink)
            except _Stop:
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
            return {"kind": "wrong_type", "type": type_name(fn), "repr": short_repr(fn)}
        optimizer = _sgd(case["groups"])
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
            return self.run(optimizer, scheduler, case["steps"], sink)
