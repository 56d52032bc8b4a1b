r"""Check for exercise 6: linear warm-up then cosine decay, as a subclass of torch's LRScheduler.

The learner completes ``get_lr`` of::

    class WarmupCosine(LRScheduler):
        def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1,
                     eta_min=0.0, last_epoch=-1): ...

With :math:`W` = warmup_steps, :math:`T` = total_steps, :math:`s` = start_factor and
:math:`\eta_0` each parameter group's initial rate (``self.base_lrs``), step :math:`t` uses

.. math::
    \eta_t = \begin{cases}
      \eta_0\,\bigl(s + (1 - s)\,t / W\bigr) & t < W \\
      \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\bigl(1 + \cos\frac{\pi (t - W)}{T - W}\bigr)
        & W \le t < T
    \end{cases}

which is exactly torch's ``SequentialLR([LinearLR(start_factor=s, total_iters=W),
CosineAnnealingLR(T_max=T - W, eta_min)], milestones=[W])``: that is the reference.  The check
plugs the class into a real SGD optimizer (some cases with two parameter groups of different
rates) and runs the usual loop: ``optimizer.step()`` then ``scheduler.step()``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._core import (
    bad_value_message, compare_curves, format_call, is_signature_error, learner_facing,
    mismatches, raised_message, raised_record,
)
from .diagnosis import Curves, candidate, common, diagnose
from .probes import sgd, step_through, wrong_type
from .spec import Check, fail, keep, run_in_notebook, validate_group_curves

CHECK, CLASS = "check_warmup_cosine", "WarmupCosine"
HIDDEN_CASES = 10

# (initial rate of each parameter group, constructor keyword arguments)
PUBLIC: list[tuple[list[float], dict[str, Any]]] = [
    ([0.1], dict(warmup_steps=5, total_steps=20, start_factor=0.1, eta_min=0.0)),
    ([1.0], dict(warmup_steps=3, total_steps=12, start_factor=0.25, eta_min=0.05)),
    ([0.1, 0.02], dict(warmup_steps=4, total_steps=16, start_factor=0.5, eta_min=0.001)),
]


def expected_curve(base_lr: float, warmup_steps: int, total_steps: int, start_factor: float,
                   eta_min: float) -> np.ndarray:
    """The same schedule built from torch's own schedulers (see the module doc)."""
    from lrcourse import reference

    return reference.lr_curve(
        "SequentialLR", total_steps, base_lr, milestones=[warmup_steps],
        schedulers=_members(start_factor, warmup_steps, total_steps - warmup_steps, eta_min),
    )


def _members(start_factor: float, warmup_steps: int, T_max: int, eta_min: float) -> list:
    """SequentialLR's members for the schedule (see :func:`expected_curve`)."""
    return [("LinearLR", dict(start_factor=start_factor, end_factor=1.0,
                              total_iters=warmup_steps)),
            ("CosineAnnealingLR", dict(T_max=T_max, eta_min=eta_min))]


def _with(c: Curves, **changes: Any) -> np.ndarray:
    """The expected schedule of ``c``'s case with constructor arguments changed."""
    kw = {**c.params, **changes}
    W, T = kw["warmup_steps"], kw["total_steps"]
    return c.curve(schedulers=_members(kw["start_factor"], W, kw.get("T_max", T - W),
                                       kw["eta_min"]))


def _unshifted_cosine(T_max: Callable[[int, int], int]) -> Callable[[Curves], np.ndarray]:
    """The warm-up, then a cosine evaluated at t (not t - warmup_steps) over ``T_max(W, T)``."""

    def curve(c: Curves) -> np.ndarray:
        W, T = c.params["warmup_steps"], c.params["total_steps"]
        cosine = c.other("CosineAnnealingLR", c.lr, T_max=T_max(W, T),
                         eta_min=c.params["eta_min"])
        return np.where(c.t < W, c.curve(), cosine)

    return curve


def _compounding(c: Curves) -> np.ndarray:
    """Each step computed from the rate of the step before (group['lr']) instead of base_lr.

    At every step the schedule is affine in the rate it starts from (the warm-up scales it; the
    cosine is eta_min + (rate - eta_min) * c), so step t maps a rate x to a_t x + b_t, read off
    the closed form at two rates; the learner's curve is x_t = a_t x_{t-1} + b_t from x = base.
    (The closed form itself refuses a rate below eta_min, which a compounding curve reaches.)
    """
    high = c.lr + c.params["eta_min"] + 1.0
    at_high, at_twice = c.curve(lr=high), c.curve(lr=2 * high)
    a = (at_twice - at_high) / high
    b = at_high - a * high
    rates, rate = [], c.lr
    for t in range(c.steps):
        rate = float(a[t] * rate + b[t])
        rates.append(rate)
    return np.array(rates)


def _other_group(c: Curves) -> np.ndarray:
    """The first parameter group's expected curve (for the groups after it)."""
    if c.extra["group"] == 0:
        raise ValueError("the first group is itself")
    return np.asarray(c.extra["expected"][0], dtype=np.float64)


UNSHIFTED = ("the cosine is not shifted by the warm-up: it runs from step zero instead of from "
             "the end of the warm-up")
MISTAKES = (
    candidate(
        UNSHIFTED, _unshifted_cosine(lambda W, T: T - W),
        lambda c: f"after the warm-up your cosine is evaluated at t instead of t - warmup_steps:"
                  f" at step warmup_steps={c.params['warmup_steps']} it must start again from "
                  "the top (the base rate) and fall over the remaining total_steps - "
                  f"warmup_steps = {c.params['total_steps'] - c.params['warmup_steps']} steps: "
                  "cos(pi * (t - warmup_steps) / (total_steps - warmup_steps))"),
    candidate(
        UNSHIFTED, _unshifted_cosine(lambda W, T: T),
        lambda c: f"after the warm-up your cosine is cos(pi * t / total_steps), evaluated at t "
                  f"instead of t - warmup_steps: at step warmup_steps="
                  f"{c.params['warmup_steps']} it must start again from the top (the base rate)"
                  " and fall over the remaining total_steps - warmup_steps = "
                  f"{c.params['total_steps'] - c.params['warmup_steps']} steps: "
                  "cos(pi * (t - warmup_steps) / (total_steps - warmup_steps))"),
    candidate(
        "the cosine is spread over all the steps instead of over the steps after the warm-up",
        lambda c: _with(c, T_max=c.params["total_steps"]),
        lambda c: f"your cosine runs over total_steps={c.params['total_steps']} steps; after a "
                  f"warm-up of {c.params['warmup_steps']} steps only total_steps - warmup_steps"
                  f" = {c.params['total_steps'] - c.params['warmup_steps']} are left: "
                  "cos(pi * (t - warmup_steps) / (total_steps - warmup_steps))"),
    candidate(
        "the rate compounds: each step is computed from the current rate instead of from the "
        "initial one",
        _compounding,
        "yours computes each step's rate from the optimizer's current rate (group['lr']), so "
        "the factors multiply up from step to step; compute it from each group's initial rate, "
        "self.base_lrs: [f(base_lr) for base_lr in self.base_lrs]"),
    candidate(
        "every parameter group gets the first group's rate",
        _other_group,
        lambda c: f"parameter group {c.extra['group']} gets group 0's rates: get_lr must "
                  "return one rate per group, each from that group's own initial rate: "
                  "[f(base_lr) for base_lr in self.base_lrs]"),
    candidate(
        "the warm-up starts from zero instead of from the start factor",
        lambda c: c.other("WarmupCosine", c.lr, warmup_steps=c.params["warmup_steps"],
                          total_steps=c.params["total_steps"], min_lr=c.params["eta_min"],
                          start_factor=0.0),
        "your warm-up starts at 0; torch's starts at start_factor * base rate (start_factor="
        "{start_factor}) and rises linearly: base * (start_factor + (1 - start_factor) * t / "
        "warmup_steps)",
        when=lambda c: c.params["start_factor"] > 0),
    candidate(
        "the cosine anneals to zero instead of to the floor",
        lambda c: _with(c, eta_min=0.0),
        "your cosine anneals to 0, not to eta_min={eta_min}: eta_min + (base - eta_min) * "
        "(1 + cos(pi * (t - warmup_steps) / (total_steps - warmup_steps))) / 2 (multiplying "
        "the current rate by a ratio of cosines leaves eta_min out in the same way)",
        when=lambda c: c.params["eta_min"] > 0),
    *common("step", early="self.last_epoch + 1 where self.last_epoch belongs?",
            late="self.last_epoch - 1 where self.last_epoch belongs?"),
)

HINT = ("self.last_epoch is the step t: the linear warm-up while t < warmup_steps, then the "
        "cosine at t - warmup_steps over total_steps - warmup_steps steps")


def _draw(rng: np.random.Generator) -> tuple[list[float], dict[str, Any]]:
    total = int(rng.integers(6, 60))
    warmup = int(rng.integers(1, total // 2 + 1))
    groups = [round(float(rng.uniform(0.05, 1.0)), 4) for _ in range(int(rng.integers(1, 3)))]
    eta_min = float(rng.choice([0.0, round(min(groups) * float(rng.uniform(0.01, 0.3)), 6)]))
    return groups, dict(warmup_steps=warmup, total_steps=total,
                        start_factor=float(rng.choice([0.01, 0.1, 0.2, 0.5])), eta_min=eta_min)


def _where(case: dict) -> str:
    call = format_call(CLASS, "optimizer", case["kwargs"])
    return f"{call} with {len(case['groups'])} parameter group(s) of lr {case['groups']}"


class WarmupCosineCheck(Check):
    """The learner's scheduler class, plugged into SGD, against SequentialLR.

    A case is ``{"groups": [lr, ...], "kwargs": {...}}``: one SGD parameter group per rate,
    the class built as ``cls(optimizer, **kwargs)`` and stepped ``total_steps - 1`` times.
    """

    name, subject, torch_name = CHECK, CLASS, "SequentialLR"
    hidden_count = HIDDEN_CASES
    mistakes = MISTAKES
    probe_needs_torch = True

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        return [{"groups": list(groups), "kwargs": dict(kwargs)}
                for groups, kwargs in self.draw_cases(hidden, seed, PUBLIC, _draw)]

    def expected(self, case: dict) -> list[list[float]]:
        return [expected_curve(base, **case["kwargs"]).tolist() for base in case["groups"]]

    def prepare(self) -> None:
        sgd([0.1]).step()  # the first SGD step imports a good part of torch

    def probe(self, cls: Any, case: dict, sink: list | None = None) -> dict:
        from torch.optim.lr_scheduler import LRScheduler

        if not isinstance(cls, type) or not issubclass(cls, LRScheduler):
            return wrong_type(cls, 80)
        groups, kwargs = case["groups"], copy.deepcopy(case["kwargs"])
        optimizer = sgd(groups)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's warnings are not the learner's concern here
            try:
                scheduler = cls(optimizer, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                keep(sink, exc)
                return raised_record(exc, phase="init")
            return step_through(optimizer, scheduler, kwargs["total_steps"], len(groups), sink)

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        return validate_group_curves(got, expected)

    def wrong_type_message(self, got: dict) -> str:
        return (f"{CHECK} expects your class {CLASS}, a subclass of "
                f"torch.optim.lr_scheduler.LRScheduler; got {got['repr']}")

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        groups, kwargs = case["groups"], case["kwargs"]
        got = self.screen(case, expected, got)
        where = _where(case)
        if got["kind"] == "raised":
            if got.get("phase") == "init":
                at = f"{where} (building it: torch calls get_lr once in __init__)"
            else:
                at = f"{where}, scheduler.step() after step {got.get('at')}"
            if got.get("phase") == "init" and is_signature_error(got):
                fail(raised_message(got, CLASS, f"{where} (building it)", signature=(
                    "the check builds it as WarmupCosine(optimizer, warmup_steps=..., "
                    "total_steps=..., start_factor=..., eta_min=...): keep the exercise's "
                    "__init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, "
                    "eta_min=0.0, last_epoch=-1)")), cause)
            message = raised_message(got, f"{CLASS}.get_lr", at)
            if got["type_error"] and not got["not_implemented"]:
                message += ("\n  hint: get_lr must return a list with one learning rate per "
                            "parameter group, e.g. [f(base) for base in self.base_lrs]")
            fail(message, cause)
        if got["kind"] == "returned":
            fail(bad_value_message(got, CLASS, f"step {got.get('at')}, parameter group "
                                               f"{got.get('group')} ({where})"), None)
        W, T = kwargs["warmup_steps"], kwargs["total_steps"]
        for g, base in enumerate(groups):
            group = f", parameter group {g} of {len(groups)} (its lr: {base:g})" \
                if len(groups) > 1 else f" (optimizer lr: {base:g})"
            want = np.asarray(expected[g], dtype=np.float64)
            values = np.asarray(got["values"][g], dtype=np.float64)
            curves = Curves(want, values, "SequentialLR", base, dict(
                milestones=[W], schedulers=_members(kwargs["start_factor"], W, T - W,
                                                    kwargs["eta_min"])),
                kwargs, "step", extra={"group": g, "expected": expected})
            compare_curves(
                want, values, function=CLASS,
                torch_name="SequentialLR of LinearLR then CosineAnnealingLR",
                call=format_call(CLASS, "optimizer", kwargs) + group, variable="step",
                hint=HINT, display=display,
                diagnosis=diagnose(MISTAKES, curves) if mismatches(want, values).size else None,
            )


WARMUP_COSINE = WarmupCosineCheck()
CHECKS = {CHECK: WARMUP_COSINE}


@learner_facing
def check_warmup_cosine(cls: type, *, hidden: bool = False, seed: int = 0) -> None:
    """Check the learner's ``WarmupCosine`` scheduler class against torch (see module doc)."""
    run_in_notebook(WARMUP_COSINE, cls, hidden, seed)
