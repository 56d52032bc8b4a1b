r"""Piecewise-constant schedules: StepLR, MultiStepLR and ConstantLR.

Each is given twice: the closed form (what the lessons show) and the *chainable* update torch
actually applies at each step, ``lr_t = a_t * lr_{t-1} + c_t``, which the composites
(ChainedScheduler, SequentialLR) need.  The two agree to rounding.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import _validate as v


def step_lr(t, lr: float, step_size: int, gamma: float = 0.1) -> np.ndarray:
    r"""StepLR: multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    The decay happens at the steps that are *multiples* of ``step_size`` (``t % step_size == 0``,
    ``t > 0``).  torch accepts ``step_size=0`` and then fails with ZeroDivisionError at the first
    step; here it is a ValueError up front.
    """
    lr = v.lr("StepLR", lr)
    step_size = v.integer("StepLR", "step_size", step_size, minimum=1)
    gamma = v.real("StepLR", "gamma", gamma, low=0.0, low_open=True)
    t = v.step_indices(t)
    return lr * gamma ** (t // step_size)


def step_update(t, step_size: int, gamma: float = 0.1):
    t = np.asarray(t, np.int64)
    a = np.where((t > 0) & (t % step_size == 0), gamma, 1.0)
    return a, np.zeros_like(a)


def _milestones(scheduler: str, milestones: Iterable[int]) -> list[int]:
    try:
        ms = list(milestones)
    except TypeError:
        v.fail(scheduler, f"milestones must be a list of integers, got {milestones!r}")
    for m in ms:
        v.integer(scheduler, "each milestone", m, minimum=0)
    return sorted(int(m) for m in ms)


def multistep_lr(t, lr: float, milestones: Iterable[int], gamma: float = 0.1) -> np.ndarray:
    r"""MultiStepLR: multiply by ``gamma`` at each milestone.

    .. math:: \eta_t = \eta_0 \, \gamma^{\#\{m \in \text{milestones} : m \le t\}}

    A milestone listed twice counts twice (torch keeps a ``Counter``), so ``[2, 2, 5]`` with
    ``gamma=0.1`` divides the rate by 100 at step 2.  Order does not matter.
    """
    lr = v.lr("MultiStepLR", lr)
    ms = _milestones("MultiStepLR", milestones)
    gamma = v.real("MultiStepLR", "gamma", gamma, low=0.0, low_open=True)
    t = v.step_indices(t)
    return lr * gamma ** np.searchsorted(ms, t, side="right")


def multistep_update(t, milestones: Iterable[int], gamma: float = 0.1):
    t = np.asarray(t, np.int64)
    ms = sorted(milestones)
    # how many times t is listed (torch's Counter): gamma ** count at a milestone
    count = np.searchsorted(ms, t, side="right") - np.searchsorted(ms, t, side="left")
    a = np.where(count > 0, gamma ** count.astype(np.float64), 1.0)
    return a, np.zeros_like(a)


def constant_lr(t, lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> np.ndarray:
    r"""ConstantLR: a reduced rate for the first ``total_iters`` steps (a simple warm-up).

    .. math:: \eta_t = \eta_0 \cdot \begin{cases} \text{factor} & t < \text{total\_iters} \\
              1 & t \ge \text{total\_iters} \end{cases}

    torch accepts ``factor=0`` (then divides by zero at ``total_iters``) and ``total_iters=0``
    (then its recursive form keeps ``factor`` for ever); both are ValueErrors here.
    """
    lr = v.lr("ConstantLR", lr)
    factor = v.real("ConstantLR", "factor", factor, low=0.0, high=1.0, low_open=True)
    total_iters = v.integer("ConstantLR", "total_iters", total_iters, minimum=1)
    t = v.step_indices(t)
    return lr * np.where(t >= total_iters, 1.0, factor)


def constant_update(t, factor: float = 1.0 / 3, total_iters: int = 5):
    t = np.asarray(t, np.int64)
    a = np.where(t == 0, factor, np.where(t == total_iters, 1.0 / factor, 1.0))
    return a, np.zeros_like(a)
