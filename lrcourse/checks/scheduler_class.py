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

import warnings
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler

from lrcourse import reference

from ._core import (
    CheckFailed, as_number, compare_curves, format_call, learner_facing, passed, raised,
)

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


def _optimizer(group_lrs: list[float]) -> torch.optim.SGD:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in group_lrs]
    return torch.optim.SGD(groups, lr=group_lrs[0])


def _run_learner(cls: type, group_lrs: list[float], kwargs: dict[str, Any]) -> np.ndarray:
    call = format_call(CLASS, "optimizer", kwargs)
    where = f"{call} with {len(group_lrs)} parameter group(s) of lr {group_lrs}"
    optimizer = _optimizer(group_lrs)
    steps = kwargs["total_steps"]
    curves = np.empty((len(group_lrs), steps), np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warnings are not the learner's concern here
        try:
            scheduler = cls(optimizer, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            raise _explain(exc, f"{where} (building it: torch calls get_lr once in __init__)") \
                from (None if isinstance(exc, NotImplementedError) else exc)
        for k in range(steps):
            for g, group in enumerate(optimizer.param_groups):
                curves[g, k] = as_number(group["lr"], CLASS,
                                         f"step {k}, parameter group {g} ({where})")
            if k == steps - 1:
                break
            optimizer.step()
            try:
                scheduler.step()
            except Exception as exc:  # noqa: BLE001
                raise _explain(exc, f"{where}, scheduler.step() after step {k}") \
                    from (None if isinstance(exc, NotImplementedError) else exc)
    return curves


def _explain(exc: BaseException, where: str) -> CheckFailed:
    failure = raised(f"{CLASS}.get_lr", where, exc)
    if isinstance(exc, TypeError) and not isinstance(exc, NotImplementedError):
        failure = CheckFailed(f"{failure}\n  hint: get_lr must return a list with one learning "
                              "rate per parameter group, e.g. [f(base) for base in self.base_lrs]")
    return failure


@learner_facing
def check_warmup_cosine(cls: type, *, hidden: bool = False, seed: int = 0) -> None:
    """Check the learner's ``WarmupCosine`` scheduler class against torch (see module doc)."""
    if not isinstance(cls, type) or not issubclass(cls, LRScheduler):
        raise CheckFailed(
            f"{CHECK} expects your class {CLASS}, a subclass of "
            f"torch.optim.lr_scheduler.LRScheduler; got {cls!r:.80}"
        )
    if hidden:
        rng = np.random.default_rng(seed)
        cases = [_draw(rng) for _ in range(HIDDEN_CASES)]
    else:
        cases = PUBLIC
    for group_lrs, kwargs in cases:
        got = _run_learner(cls, group_lrs, kwargs)
        for g, base in enumerate(group_lrs):
            expected = expected_curve(base, **kwargs)
            group = f", parameter group {g} of {len(group_lrs)} (its lr: {base:g})" \
                if len(group_lrs) > 1 else f" (optimizer lr: {base:g})"
            compare_curves(
                expected, got[g], function=CLASS,
                torch_name="SequentialLR of LinearLR then CosineAnnealingLR",
                call=format_call(CLASS, "optimizer", kwargs) + group, variable="step",
                hint="self.last_epoch is the step t; use self.base_lrs (one per group), "
                     "not the current group['lr']",
            )
    passed(CHECK, hidden, len(cases), seed)
