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
    bad_value_message, compare_curves, describe_value, format_call, learner_facing,
    raised_message, raised_record, short_repr, type_name,
)
from .functions import malformed
from .spec import Check, MalformedProbe, fail, finite_floats, keep, run_in_notebook, \
    validate_record

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
        schedulers=[("LinearLR", dict(start_factor=start_factor, end_factor=1.0,
                                      total_iters=warmup_steps)),
                    ("CosineAnnealingLR", dict(T_max=total_steps - warmup_steps,
                                               eta_min=eta_min))],
    )


def _draw(rng: np.random.Generator) -> tuple[list[float], dict[str, Any]]:
    total = int(rng.integers(6, 60))
    warmup = int(rng.integers(1, total // 2 + 1))
    groups = [round(float(rng.uniform(0.05, 1.0)), 4) for _ in range(int(rng.integers(1, 3)))]
    eta_min = float(rng.choice([0.0, round(min(groups) * float(rng.uniform(0.01, 0.3)), 6)]))
    return groups, dict(warmup_steps=warmup, total_steps=total,
                        start_factor=float(rng.choice([0.01, 0.1, 0.2, 0.5])), eta_min=eta_min)


def _optimizer(group_lrs: list[float]):
    import torch

    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in group_lrs]
    return torch.optim.SGD(groups, lr=group_lrs[0])


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
    probe_needs_torch = True

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        if hidden:
            rng = np.random.default_rng(seed)
            drawn = [_draw(rng) for _ in range(self.hidden_count)]
        else:
            drawn = PUBLIC
        return [{"groups": list(groups), "kwargs": dict(kwargs)} for groups, kwargs in drawn]

    def expected(self, case: dict) -> list[list[float]]:
        return [expected_curve(base, **case["kwargs"]).tolist() for base in case["groups"]]

    def prepare(self) -> None:
        _optimizer([0.1]).step()  # the first SGD step imports a good part of torch

    def probe(self, cls: Any, case: dict, sink: list | None = None) -> dict:
        from torch.optim.lr_scheduler import LRScheduler

        if not isinstance(cls, type) or not issubclass(cls, LRScheduler):
            return {"kind": "wrong_type", "type": type_name(cls), "repr": short_repr(cls, 80)}
        groups, kwargs = case["groups"], copy.deepcopy(case["kwargs"])
        optimizer = _optimizer(groups)
        steps = kwargs["total_steps"]
        curves: list[list] = [[] for _ in groups]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's warnings are not the learner's concern here
            try:
                scheduler = cls(optimizer, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                keep(sink, exc)
                return raised_record(exc, phase="init")
            for k in range(steps):
                for g, group in enumerate(optimizer.param_groups[:len(groups)]):
                    described = describe_value(group["lr"])
                    if isinstance(described, dict):
                        return {"kind": "returned", **described, "at": k, "group": g}
                    curves[g].append(described)
                if k == steps - 1:
                    break
                optimizer.step()
                try:
                    scheduler.step()
                except Exception as exc:  # noqa: BLE001
                    keep(sink, exc)
                    return raised_record(exc, phase="step", at=k)
        return {"kind": "values", "values": curves}

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        validate_record(got)
        if got["kind"] == "values":
            values = got.get("values")
            if not isinstance(values, list) or len(values) != len(expected):
                raise MalformedProbe("not one curve per parameter group")
            for curve, want in zip(values, expected, strict=True):
                finite_floats(curve, len(want))
        return got

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        groups, kwargs = case["groups"], case["kwargs"]
        try:
            got = self.validate(case, expected, got)
        except MalformedProbe as exc:
            fail(malformed(CHECK, exc), None)
        if got["kind"] == "wrong_type":
            fail(f"{CHECK} expects your class {CLASS}, a subclass of "
                 f"torch.optim.lr_scheduler.LRScheduler; got {got['repr']}", None)
        where = _where(case)
        if got["kind"] == "raised":
            if got.get("phase") == "init":
                at = f"{where} (building it: torch calls get_lr once in __init__)"
            else:
                at = f"{where}, scheduler.step() after step {got.get('at')}"
            message = raised_message(got, f"{CLASS}.get_lr", at)
            if got["type_error"] and not got["not_implemented"]:
                message += ("\n  hint: get_lr must return a list with one learning rate per "
                            "parameter group, e.g. [f(base) for base in self.base_lrs]")
            fail(message, cause)
        if got["kind"] == "returned":
            fail(bad_value_message(got, CLASS, f"step {got.get('at')}, parameter group "
                                               f"{got.get('group')} ({where})"), None)
        for g, base in enumerate(groups):
            group = f", parameter group {g} of {len(groups)} (its lr: {base:g})" \
                if len(groups) > 1 else f" (optimizer lr: {base:g})"
            compare_curves(
                np.asarray(expected[g], dtype=np.float64),
                np.asarray(got["values"][g], dtype=np.float64), function=CLASS,
                torch_name="SequentialLR of LinearLR then CosineAnnealingLR",
                call=format_call(CLASS, "optimizer", kwargs) + group, variable="step",
                hint="self.last_epoch is the step t; use self.base_lrs (one per group), "
                     "not the current group['lr']", display=display,
            )


WARMUP_COSINE = WarmupCosineCheck()
CHECKS = {CHECK: WARMUP_COSINE}


@learner_facing
def check_warmup_cosine(cls: type, *, hidden: bool = False, seed: int = 0) -> None:
    """Check the learner's ``WarmupCosine`` scheduler class against torch (see module doc)."""
    run_in_notebook(WARMUP_COSINE, cls, hidden, seed)
