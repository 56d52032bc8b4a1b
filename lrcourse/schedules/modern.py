r"""Modern recipes torch ships no class for: warm-up + cosine, warm-up-stable-decay, inverse sqrt.

Each recipe comes twice:

* a closed form ``f(t, lr, **params)`` in the style of the rest of :mod:`lrcourse.schedules`
  (numpy in, numpy out; ``t`` counts optimizer steps from 0), registered in ``SCHEDULES`` as
  ``"WarmupCosine"``, ``"WarmupStableDecay"`` and ``"InverseSqrt"``;
* a *torch recipe* ``*_scheduler(optimizer, **params)`` that builds the same schedule from the
  classes torch does ship (``LambdaLR``, ``SequentialLR``, ``LinearLR``, ...), the way a training
  script would.  The recipes do not call the closed forms: they are written independently (scalar
  ``math`` inside a ``LambdaLR``, or torch's own schedulers chained), and the tests check that the
  two agree.

All three share the same linear warm-up over ``warmup_steps`` steps, from
``start_factor * lr`` up to ``lr``:

.. math:: \eta_t = \eta_0\left(s + (1 - s)\frac{t}{W}\right), \qquad 0 \le t < W

which is what ``LinearLR(start_factor=s, total_iters=W)`` produces.  With ``s = 0`` (the default,
as in Hugging Face's ``get_cosine_schedule_with_warmup``) the very first step has learning rate 0;
``LinearLR`` refuses ``start_factor=0``, so the ``SequentialLR`` recipe needs ``s > 0``.

The recipes are meant to be stepped once per optimizer step (per batch): ``warmup_steps`` and
``total_steps`` count ``scheduler.step()`` calls.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from . import _validate as v

if TYPE_CHECKING:  # the closed forms are pure numpy; only the recipes import torch, when called
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LambdaLR, SequentialLR

__all__ = [
    "warmup_cosine", "warmup_stable_decay", "inverse_sqrt",
    "warmup_cosine_scheduler", "warmup_cosine_sequential",
    "warmup_stable_decay_scheduler", "warmup_stable_decay_sequential",
    "inverse_sqrt_scheduler", "recipe_curve", "DECAY_SHAPES",
]

#: WSD's decay shapes: the fraction of (lr - min_lr) left after a fraction x of the decay.
DECAY_SHAPES = ("linear", "cosine", "sqrt")


# ---------------------------------------------------------------------------------------------
# shared checks
# ---------------------------------------------------------------------------------------------

def _warmup_args(name: str, lr, warmup_steps, start_factor, minimum: int = 0):
    lr = v.lr(name, lr)
    warmup_steps = v.integer(name, "warmup_steps", warmup_steps, minimum=minimum)
    start_factor = v.real(name, "start_factor", start_factor, low=0.0, high=1.0)
    return lr, warmup_steps, start_factor


def _min_lr(name: str, min_lr, lr: float) -> float:
    min_lr = v.real(name, "min_lr", min_lr, low=0.0)
    if min_lr > lr:
        v.fail(name, f"min_lr must be between 0 and lr ({lr:g}), got {min_lr:g}: the decay would "
                     "climb up to min_lr instead of falling to it")
    return min_lr


def _warmup(t: np.ndarray, warmup_steps: int, start_factor: float) -> np.ndarray:
    """The warm-up factor s + (1 - s) t / W (only meaningful where t < W)."""
    return start_factor + (1.0 - start_factor) * t / max(warmup_steps, 1)


# ---------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------

def warmup_cosine(t, lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0,
                  start_factor: float = 0.0) -> np.ndarray:
    r"""Linear warm-up, then half a cosine from ``lr`` down to the floor ``min_lr``.

    With :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps``, :math:`s` = ``start_factor``:

    .. math::

        \eta_t = \begin{cases}
          \eta_0 \left(s + (1-s)\,\dfrac{t}{W}\right) & t < W \\[4pt]
          \eta_{min} + \tfrac12(\eta_0 - \eta_{min})
              \left(1 + \cos\left(\pi\,\dfrac{t - W}{T - W}\right)\right) & W \le t \le T \\[4pt]
          \eta_{min} & t > T
        \end{cases}

    The peak ``lr`` is reached at step ``W`` and the floor at step ``T``, so in a run of ``T``
    optimizer steps (``t = 0 .. T-1``) the last step uses a rate just above ``min_lr``.  Unlike
    torch's ``CosineAnnealingLR``, which climbs back up after ``T_max``, the floor is held.
    """
    name = "WarmupCosine"
    lr, warmup_steps, start_factor = _warmup_args(name, lr, warmup_steps, start_factor)
    total_steps = v.integer(name, "total_steps", total_steps, minimum=1)
    if warmup_steps >= total_steps:
        v.fail(name, f"warmup_steps must be smaller than total_steps ({total_steps}), got "
                     f"{warmup_steps}: there would be no steps left to decay over")
    min_lr = _min_lr(name, min_lr, lr)
    t = v.step_indices(t).astype(np.float64)
    progress = np.clip((t - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    cosine = min_lr + (lr - min_lr) * (1.0 + np.cos(np.pi * progress)) / 2.0
    return np.where(t < warmup_steps, lr * _warmup(t, warmup_steps, start_factor), cosine)


def _decay_left(x: np.ndarray, shape: str) -> np.ndarray:
    if shape == "linear":
        return 1.0 - x
    if shape == "cosine":
        return (1.0 + np.cos(np.pi * x)) / 2.0
    return 1.0 - np.sqrt(x)


def warmup_stable_decay(t, lr: float, warmup_steps: int, total_steps: int, decay_steps: int,
                        min_lr: float = 0.0, decay: str = "linear",
                        start_factor: float = 0.0) -> np.ndarray:
    r"""Warm-up-stable-decay (WSD, "trapezoidal"): warm up, hold ``lr``, then decay at the end.

    With :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps``, :math:`D` = ``decay_steps``
    and :math:`S = T - D` the step the decay starts at:

    .. math::

        \eta_t = \begin{cases}
          \eta_0 \left(s + (1-s)\,\dfrac{t}{W}\right) & t < W \\[4pt]
          \eta_0 & W \le t < S \\[4pt]
          \eta_{min} + (\eta_0 - \eta_{min})\, g\!\left(\dfrac{t - S}{D}\right) & S \le t \le T \\[4pt]
          \eta_{min} & t > T
        \end{cases}

    where the decay shape :math:`g` (``decay=``) falls from 1 to 0: ``"linear"``
    :math:`g(x) = 1 - x`, ``"cosine"`` :math:`g(x) = \tfrac12(1 + \cos \pi x)`, or ``"sqrt"``
    :math:`g(x) = 1 - \sqrt{x}` (the "1-sqrt" cool-down of Hägele et al., 2024).  The long
    constant phase is what makes WSD attractive: a run can be continued from any checkpoint
    taken before the decay, and a short decay from there gives a finished model.
    """
    name = "WarmupStableDecay"
    lr, warmup_steps, start_factor = _warmup_args(name, lr, warmup_steps, start_factor)
    total_steps = v.integer(name, "total_steps", total_steps, minimum=1)
    decay_steps = v.integer(name, "decay_steps", decay_steps, minimum=1)
    if warmup_steps + decay_steps > total_steps:
        v.fail(name, f"warmup_steps + decay_steps must be at most total_steps ({total_steps}), "
                     f"got {warmup_steps} + {decay_steps} = {warmup_steps + decay_steps}")
    min_lr = _min_lr(name, min_lr, lr)
    decay = v.choice(name, "decay", decay, DECAY_SHAPES)
    t = v.step_indices(t).astype(np.float64)
    start = total_steps - decay_steps
    x = np.clip((t - start) / decay_steps, 0.0, 1.0)
    decayed = min_lr + (lr - min_lr) * _decay_left(x, decay)
    return np.where(t < warmup_steps, lr * _warmup(t, warmup_steps, start_factor), decayed)


def inverse_sqrt(t, lr: float, warmup_steps: int, start_factor: float = 0.0) -> np.ndarray:
    r"""Linear warm-up, then decay proportional to :math:`1/\sqrt{t}` (the original Transformer's).

    .. math::

        \eta_t = \begin{cases}
          \eta_0 \left(s + (1-s)\,\dfrac{t}{W}\right) & t < W \\[4pt]
          \eta_0 \sqrt{\dfrac{W}{t}} & t \ge W
        \end{cases}

    The two pieces meet at ``lr`` when :math:`t = W`.  The rate never reaches zero: it halves
    every time the step count quadruples (:math:`\eta_{4W} = \eta_0/2`,
    :math:`\eta_{16W} = \eta_0/4`).  "Attention is all you need" writes the same shape as
    :math:`d^{-1/2}\min(t^{-1/2}, t\,W^{-3/2})`, whose peak :math:`d^{-1/2} W^{-1/2}` plays the
    role of ``lr`` here.  ``warmup_steps`` must be at least 1 (without warm-up the formula
    divides by zero at step 0).
    """
    name = "InverseSqrt"
    lr, warmup_steps, start_factor = _warmup_args(name, lr, warmup_steps, start_factor, minimum=1)
    t = v.step_indices(t).astype(np.float64)
    with np.errstate(divide="ignore"):  # t = 0 < W is taken from the warm-up branch
        decay = lr * np.sqrt(warmup_steps / t)
    return np.where(t < warmup_steps, lr * _warmup(t, warmup_steps, start_factor), decay)


# ---------------------------------------------------------------------------------------------
# torch recipes
# ---------------------------------------------------------------------------------------------

def _base_lrs(optimizer: Optimizer) -> list[float]:
    """Each group's base rate, as LambdaLR will see it (``initial_lr`` once a scheduler set it)."""
    return [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]


def warmup_cosine_scheduler(optimizer: Optimizer, warmup_steps: int, total_steps: int,
                            min_lr: float = 0.0, start_factor: float = 0.0,
                            last_epoch: int = -1) -> LambdaLR:
    """:func:`warmup_cosine` as a ``LambdaLR`` (one function per parameter group).

    ``min_lr`` is absolute, like ``CosineAnnealingLR``'s ``eta_min``, so each group's function
    turns it into a factor of that group's own base rate.  Works for any ``start_factor``
    (including 0) and holds the floor after ``total_steps``.
    """
    from torch.optim.lr_scheduler import LambdaLR

    warmup_cosine(0, 1.0, warmup_steps, total_steps, 0.0, start_factor)  # validate the shape

    def factor_for(base_lr: float):
        floor = min_lr / base_lr if base_lr > 0 else 0.0

        def factor(step: int) -> float:
            if step < warmup_steps:
                return start_factor + (1 - start_factor) * step / warmup_steps
            progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        return factor

    return LambdaLR(optimizer, [factor_for(b) for b in _base_lrs(optimizer)],
                    last_epoch=last_epoch)


def warmup_cosine_sequential(optimizer: Optimizer, warmup_steps: int, total_steps: int,
                             min_lr: float = 0.0, start_factor: float = 0.1) -> SequentialLR:
    """:func:`warmup_cosine` from torch's own pieces: ``LinearLR`` then ``CosineAnnealingLR``.

    Equal to the closed form for ``t <= total_steps``; after that ``CosineAnnealingLR`` climbs
    back up (it is periodic) where the closed form holds ``min_lr``, so step it at most
    ``total_steps`` times.  ``LinearLR`` needs ``start_factor > 0`` and ``warmup_steps >= 1``.
    """
    warmup_cosine(0, 1.0, warmup_steps, total_steps, 0.0, start_factor)
    if start_factor <= 0 or warmup_steps < 1:
        raise ValueError(
            "WarmupCosine: the SequentialLR recipe needs start_factor > 0 and warmup_steps >= 1 "
            f"(LinearLR's limits), got start_factor={start_factor}, warmup_steps={warmup_steps}; "
            "use warmup_cosine_scheduler (LambdaLR) instead"
        )
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    warm = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    cos = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    return SequentialLR(optimizer, [warm, cos], milestones=[warmup_steps])


def warmup_stable_decay_scheduler(optimizer: Optimizer, warmup_steps: int, total_steps: int,
                                  decay_steps: int, min_lr: float = 0.0, decay: str = "linear",
                                  start_factor: float = 0.0, last_epoch: int = -1) -> LambdaLR:
    """:func:`warmup_stable_decay` as a ``LambdaLR`` (one function per parameter group)."""
    from torch.optim.lr_scheduler import LambdaLR

    warmup_stable_decay(0, 1.0, warmup_steps, total_steps, decay_steps, 0.0, decay, start_factor)
    shapes = {
        "linear": lambda x: 1 - x,
        "cosine": lambda x: 0.5 * (1 + math.cos(math.pi * x)),
        "sqrt": lambda x: 1 - math.sqrt(x),
    }
    left = shapes[decay]
    decay_start = total_steps - decay_steps

    def factor_for(base_lr: float):
        floor = min_lr / base_lr if base_lr > 0 else 0.0

        def factor(step: int) -> float:
            if step < warmup_steps:
                return start_factor + (1 - start_factor) * step / warmup_steps
            if step < decay_start:
                return 1.0
            x = min(1.0, (step - decay_start) / decay_steps)
            return floor + (1 - floor) * left(x)

        return factor

    return LambdaLR(optimizer, [factor_for(b) for b in _base_lrs(optimizer)],
                    last_epoch=last_epoch)


def warmup_stable_decay_sequential(optimizer: Optimizer, warmup_steps: int, total_steps: int,
                                   decay_steps: int, min_lr: float = 0.0,
                                   start_factor: float = 0.1) -> SequentialLR:
    """Linear-decay WSD from torch's pieces: ``LinearLR`` up, ``ConstantLR``, ``LinearLR`` down.

    The decay's ``LinearLR`` ends at ``end_factor = min_lr / lr``, a factor, so with several
    parameter groups the floor is ``min_lr`` only for the first group (the others end at the
    same *fraction* of their own rate).  ``LinearLR`` accepts ``end_factor = 0`` (but not
    ``start_factor = 0``), so ``min_lr = 0`` is fine.  Equal to the closed form with
    ``decay="linear"`` for ``t <= total_steps``; ``LinearLR`` holds its end value afterwards, so
    the floor is kept as well.
    """
    warmup_stable_decay(0, 1.0, warmup_steps, total_steps, decay_steps, 0.0, "linear",
                        start_factor)
    if start_factor <= 0 or warmup_steps < 1:
        raise ValueError(
            "WarmupStableDecay: the SequentialLR recipe needs start_factor > 0 and "
            f"warmup_steps >= 1 (LinearLR's limits), got start_factor={start_factor}, "
            f"warmup_steps={warmup_steps}; use warmup_stable_decay_scheduler (LambdaLR) instead"
        )
    from torch.optim.lr_scheduler import ConstantLR, LinearLR, SequentialLR

    base = _base_lrs(optimizer)[0]
    end = min_lr / base if base > 0 else 0.0
    stable_steps = total_steps - decay_steps - warmup_steps
    warm = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    hold = ConstantLR(optimizer, factor=1.0, total_iters=0)
    down = LinearLR(optimizer, start_factor=1.0, end_factor=end, total_iters=decay_steps)
    return SequentialLR(optimizer, [warm, hold, down],
                        milestones=[warmup_steps, warmup_steps + stable_steps])


def inverse_sqrt_scheduler(optimizer: Optimizer, warmup_steps: int, start_factor: float = 0.0,
                           last_epoch: int = -1) -> LambdaLR:
    """:func:`inverse_sqrt` as a ``LambdaLR``."""
    from torch.optim.lr_scheduler import LambdaLR

    inverse_sqrt(0, 1.0, warmup_steps, start_factor)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return start_factor + (1 - start_factor) * step / warmup_steps
        return (warmup_steps / step) ** 0.5

    return LambdaLR(optimizer, factor, last_epoch=last_epoch)


def recipe_curve(build, steps: int, lrs=(0.1,)) -> np.ndarray:
    """Learning rates of a torch scheduler ``build(optimizer)``, measured by stepping it
    (:func:`lrcourse.reference.scheduler_curve`): shape ``(steps,)`` for one group,
    ``(steps, groups)`` for several.
    """
    from ..reference import scheduler_curve  # imports torch, which the closed forms do not need

    curve = scheduler_curve(build, steps, lrs)
    return curve[:, 0] if len(lrs) == 1 else curve
