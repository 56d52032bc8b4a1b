r"""The schedules of Hugging Face transformers (``transformers.optimization``), in closed form.

transformers builds every schedule as a ``torch.optim.lr_scheduler.LambdaLR``: a factor of the
step, times each group's initial rate.  This module holds each of them twice:

* a closed form ``f(t, lr, **params)``, numpy in, numpy out, named like transformers' function
  without ``get_`` (``cosine_schedule_with_warmup``) and registered in ``SCHEDULES`` under
  transformers' own name (``lr_curve("get_cosine_schedule_with_warmup", ...)``), with
  transformers' parameter names;
* a torch recipe with transformers' exact signature (``get_cosine_schedule_with_warmup(optimizer,
  num_warmup_steps, num_training_steps, num_cycles=0.5, last_epoch=-1)``) returning the same
  ``LambdaLR``, written from a reading of transformers' source, so that a script can use these
  schedules without installing transformers.  For the two most used, a recipe from torch's own
  classes too (``*_sequential``).

The recipes do not call the closed forms; the tests check each against the other and, when
transformers is installed, both against transformers itself.

**Conventions that differ from torch's** (``t`` counts ``scheduler.step()`` calls, once per
optimizer step, as transformers' ``Trainer`` does):

* The warm-up starts at **0**: :math:`\eta_t = \eta_0\, t / W` for :math:`t < W`, so the first
  optimizer step has learning rate 0 (``LinearLR`` refuses ``start_factor=0``; its warm-up
  starts at ``start_factor * lr``).  The peak ``lr`` is reached at step ``W``, not ``W - 1``.
  Exception: ``get_wsd_schedule`` warms up from ``min_lr_ratio * lr``.
* ``num_cycles`` means two different things: in ``get_cosine_schedule_with_warmup`` it counts
  *waves* of a cosine (0.5, the default, is half a wave: down from ``lr`` to 0 once; 1 goes down
  and back up); in ``get_cosine_with_hard_restarts_schedule_with_warmup`` it counts decays from
  ``lr`` to 0, each followed by a jump back to ``lr`` (so ``num_cycles - 1`` restarts, although
  transformers' docstring calls it "the number of hard restarts").
* Past ``num_training_steps``: the linear and the hard-restart schedules hold 0, the polynomial
  one holds ``lr_end`` and WSD holds ``min_lr_ratio * lr``, but the cosine one **keeps
  oscillating** (its formula has no clamp), like ``CosineAnnealingLR``: with the default
  ``num_cycles=0.5`` it climbs back to ``lr`` at ``2 * num_training_steps - num_warmup_steps``.
* ``get_polynomial_decay_schedule_with_warmup`` decays towards the absolute ``lr_end`` relative
  to ``optimizer.defaults["lr"]`` (the rate given to the optimizer's constructor), not to each
  group's rate: a group with another rate is scaled by the same factors and does not end at
  ``lr_end``.  The closed form takes that rate as ``lr_init`` (default: ``lr``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from . import _validate as v

if TYPE_CHECKING:  # the closed forms are pure numpy; only the recipes import torch, when called
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LambdaLR, SequentialLR

__all__ = [
    "linear_schedule_with_warmup", "cosine_schedule_with_warmup",
    "cosine_with_hard_restarts_schedule_with_warmup", "polynomial_decay_schedule_with_warmup",
    "inverse_sqrt_schedule", "wsd_schedule",
    "get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup", "get_inverse_sqrt_schedule", "get_wsd_schedule",
    "linear_schedule_with_warmup_sequential", "cosine_schedule_with_warmup_sequential",
    "WSD_SHAPES", "TRANSFORMERS_NAMES",
]

#: WSD's warm-up and decay shapes, as transformers names them.
WSD_SHAPES = ("linear", "cosine", "1-sqrt")


# ---------------------------------------------------------------------------------------------
# shared checks and pieces
# ---------------------------------------------------------------------------------------------

def _steps(name: str, lr, num_warmup_steps, num_training_steps, strict: bool = False):
    lr = v.lr(name, lr)
    W = v.integer(name, "num_warmup_steps", num_warmup_steps, minimum=0)
    T = v.integer(name, "num_training_steps", num_training_steps, minimum=1)
    if W > T or (strict and W == T):
        bound = "smaller than" if strict else "at most"
        v.fail(name, f"num_warmup_steps must be {bound} num_training_steps ({T}), got {W}: "
                     "there would be no steps left to decay over")
    return lr, W, T


def _warmup(t: np.ndarray, W: int) -> np.ndarray:
    """transformers' warm-up factor t / max(1, W) (used where t < W)."""
    return t / max(1, W)


def _progress(t: np.ndarray, W: int, T: int) -> np.ndarray:
    """The fraction of the decay done at step t: (t - W) / max(1, T - W), unclamped."""
    return (t - W) / max(1, T - W)


def _t(t) -> np.ndarray:
    return v.step_indices(t).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------

def linear_schedule_with_warmup(t, lr: float, num_warmup_steps: int,
                                num_training_steps: int) -> np.ndarray:
    r"""``get_linear_schedule_with_warmup``: linear warm-up from 0, then linear decay to 0.

    With :math:`W` = ``num_warmup_steps`` and :math:`T` = ``num_training_steps``:

    .. math::

        \eta_t = \eta_0 \cdot \begin{cases}
          t / W & t < W \\[2pt]
          \max\!\left(0, \dfrac{T - t}{T - W}\right) & t \ge W
        \end{cases}

    (with ``max(1, .)`` around both denominators, as transformers writes them).  The rate is 0 at
    step 0, ``lr`` at step ``W``, 0 at step ``T`` and after.
    """
    lr, W, T = _steps("get_linear_schedule_with_warmup", lr, num_warmup_steps,
                      num_training_steps)
    t = _t(t)
    decay = np.maximum(0.0, (T - t) / max(1, T - W))
    return lr * np.where(t < W, _warmup(t, W), decay)


def cosine_schedule_with_warmup(t, lr: float, num_warmup_steps: int, num_training_steps: int,
                                num_cycles: float = 0.5) -> np.ndarray:
    r"""``get_cosine_schedule_with_warmup``: linear warm-up from 0, then ``num_cycles`` cosine
    waves.

    .. math::

        \eta_t = \eta_0 \cdot \begin{cases}
          t / W & t < W \\[2pt]
          \tfrac12\left(1 + \cos\left(2\pi c\, p_t\right)\right),
              \quad p_t = \dfrac{t - W}{T - W} & t \ge W
        \end{cases}

    With the default :math:`c = 0.5` this is half a cosine from ``lr`` at step ``W`` to 0 at
    step ``T``.  Nothing clamps :math:`p_t` at 1, so **past** ``T`` the cosine goes on and the
    rate climbs back up (it is back at ``lr`` at step ``2T - W``), exactly like torch's
    ``CosineAnnealingLR`` after ``T_max``.  For :math:`t \le T` it equals
    ``WarmupCosine(warmup_steps=W, total_steps=T)``, which holds 0 after ``T`` instead.
    """
    name = "get_cosine_schedule_with_warmup"
    lr, W, T = _steps(name, lr, num_warmup_steps, num_training_steps)
    c = v.real(name, "num_cycles", num_cycles, low=0.0, low_open=True)
    t = _t(t)
    cosine = np.maximum(0.0, 0.5 * (1.0 + np.cos(np.pi * float(c) * 2.0 * _progress(t, W, T))))
    return lr * np.where(t < W, _warmup(t, W), cosine)


def cosine_with_hard_restarts_schedule_with_warmup(
    t, lr: float, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 1,
) -> np.ndarray:
    r"""``get_cosine_with_hard_restarts_schedule_with_warmup``: warm-up from 0, then
    ``num_cycles`` half-cosines from ``lr`` to 0, each restarting at ``lr``; 0 from step ``T`` on.

    .. math::

        \eta_t = \eta_0 \cdot \begin{cases}
          t / W & t < W \\[2pt]
          \tfrac12\left(1 + \cos\left(\pi\,\{c\, p_t\}\right)\right) & W \le t < T \\[2pt]
          0 & t \ge T
        \end{cases}

    where :math:`\{x\} = x \bmod 1` is the fractional part and :math:`p_t = (t - W)/(T - W)`.
    Each cycle lasts :math:`(T - W)/c` steps.  transformers computes :math:`\{c\,p_t\}` in
    floating point, so where :math:`c\,p_t` should be a whole number it can come out just below
    it, and the restart is missed: that step gets a rate of almost 0 instead of ``lr`` (e.g.
    :math:`c = 49` over 49 steps misses the restarts at the first two steps after warm-up).  This
    function does the same arithmetic and reproduces that.
    """
    name = "get_cosine_with_hard_restarts_schedule_with_warmup"
    lr, W, T = _steps(name, lr, num_warmup_steps, num_training_steps)
    c = v.real(name, "num_cycles", num_cycles, low=0.0, low_open=True)
    t = _t(t)
    p = _progress(t, W, T)
    phase = np.mod(float(c) * p, 1.0)
    cosine = np.where(p >= 1.0, 0.0, np.maximum(0.0, 0.5 * (1.0 + np.cos(np.pi * phase))))
    return lr * np.where(t < W, _warmup(t, W), cosine)


def polynomial_decay_schedule_with_warmup(
    t, lr: float, num_warmup_steps: int, num_training_steps: int, lr_end: float = 1e-7,
    power: float = 1.0, lr_init: float | None = None,
) -> np.ndarray:
    r"""``get_polynomial_decay_schedule_with_warmup``: warm-up from 0, then a polynomial decay
    from ``lr_init`` to the absolute ``lr_end``, held after step ``T``.

    With :math:`\eta_i` = ``lr_init`` (``optimizer.defaults["lr"]`` in transformers; ``lr`` when
    not given), :math:`\eta_e` = ``lr_end`` and :math:`q_t = 1 - (t - W)/(T - W)` the fraction
    of the decay left:

    .. math::

        \eta_t = \eta_0 \cdot \begin{cases}
          t / W & t < W \\[2pt]
          \dfrac{(\eta_i - \eta_e)\, q_t^{\,p} + \eta_e}{\eta_i} & W \le t \le T \\[6pt]
          \eta_e / \eta_i & t > T
        \end{cases}

    For one parameter group (``lr == lr_init``) the rate falls from ``lr`` to ``lr_end``; with
    ``power=1`` (the default, as in BERT) the fall is linear.  It is torch's ``PolynomialLR``
    with a floor and a warm-up: ``PolynomialLR`` decays to 0, this to ``lr_end``.
    """
    name = "get_polynomial_decay_schedule_with_warmup"
    lr, W, T = _steps(name, lr, num_warmup_steps, num_training_steps, strict=True)
    lr_end = v.real(name, "lr_end", lr_end, low=0.0)
    power = v.real(name, "power", power, low=0.0)
    lr_init = lr if lr_init is None else v.real(name, "lr_init", lr_init, low=0.0)
    if not lr_init > lr_end:
        v.fail(name, f"lr_end must be smaller than the initial lr ({lr_init:g}), got {lr_end:g}"
                     " (transformers refuses it too)")
    t = _t(t)
    remaining = np.clip(1.0 - (t - W) / (T - W), 0.0, 1.0)
    decay = ((lr_init - lr_end) * remaining**power + lr_end) / lr_init
    factor = np.where(t < W, _warmup(t, W), np.where(t > T, lr_end / lr_init, decay))
    return lr * factor


def _timescale(name: str, num_warmup_steps: int, timescale) -> float:
    if timescale is None:
        return num_warmup_steps or 10_000
    return v.real(name, "timescale", timescale, low=0.0, low_open=True)


def inverse_sqrt_schedule(t, lr: float, num_warmup_steps: int,
                          timescale: float | None = None) -> np.ndarray:
    r"""``get_inverse_sqrt_schedule``: warm-up from 0, then decay as :math:`1/\sqrt{\cdot}`.

    With :math:`\tau` = ``timescale``:

    .. math::

        \eta_t = \eta_0 \cdot \begin{cases}
          t / W & t < W \\[2pt]
          \sqrt{\dfrac{\tau}{t - W + \tau}} & t \ge W
        \end{cases}

    ``timescale`` defaults to ``num_warmup_steps``, which gives :math:`\eta_0\sqrt{W/t}`, the
    same curve as ``InverseSqrt(warmup_steps=W)``; but with ``num_warmup_steps=0`` it defaults
    to 10,000 (transformers' docstring only mentions the first default).  A larger timescale
    decays more slowly; the rate halves once :math:`t - W` reaches :math:`3\tau`.
    """
    name = "get_inverse_sqrt_schedule"
    lr = v.lr(name, lr)
    W = v.integer(name, "num_warmup_steps", num_warmup_steps, minimum=0)
    tau = _timescale(name, W, timescale)
    t = _t(t)
    shift = tau - W
    with np.errstate(divide="ignore", invalid="ignore"):  # only where t < W, which is warm-up
        decay = 1.0 / np.sqrt((t + shift) / tau)
    return lr * np.where(t < W, _warmup(t, W), decay)


def _wsd_phases(name, num_warmup_steps, num_decay_steps, num_training_steps, num_stable_steps):
    W = v.integer(name, "num_warmup_steps", num_warmup_steps, minimum=0)
    D = v.integer(name, "num_decay_steps", num_decay_steps, minimum=0)
    if num_training_steps is None and num_stable_steps is None:
        v.fail(name, "needs num_training_steps or num_stable_steps (transformers refuses it too)")
    if num_stable_steps is not None:
        S = v.integer(name, "num_stable_steps", num_stable_steps, minimum=0)
        if num_training_steps is not None and v.integer(
                name, "num_training_steps", num_training_steps) != W + S + D:
            v.fail(name, f"num_training_steps ({num_training_steps}) must equal num_warmup_steps "
                         f"+ num_stable_steps + num_decay_steps ({W} + {S} + {D}) when both are "
                         "given (transformers warns and uses num_stable_steps)")
        return W, S, D
    T = v.integer(name, "num_training_steps", num_training_steps, minimum=0)
    if W + D > T:
        v.fail(name, f"num_warmup_steps + num_decay_steps must be at most num_training_steps "
                     f"({T}), got {W} + {D} = {W + D}: the stable phase would be negative")
    return W, T - W - D, D


def wsd_schedule(
    t, lr: float, num_warmup_steps: int, num_decay_steps: int,
    num_training_steps: int | None = None, num_stable_steps: int | None = None,
    warmup_type: str = "linear", decay_type: str = "cosine", min_lr_ratio: float = 0.0,
    num_cycles: float = 0.5,
) -> np.ndarray:
    r"""``get_wsd_schedule``: warm-up, stable, decay (warmup-stable-decay), between
    ``min_lr_ratio * lr`` and ``lr``.

    With :math:`W, S, D` the three phases' lengths (:math:`S` = ``num_stable_steps``, or
    ``num_training_steps - W - D``) and :math:`r` = ``min_lr_ratio``:

    .. math::

        \eta_t = \eta_0 \cdot \begin{cases}
          r + (1 - r)\, u\!\left(t / W\right) & t < W \\[2pt]
          1 & W \le t < W + S \\[2pt]
          r + (1 - r)\, g\!\left(\dfrac{t - W - S}{D}\right) & W + S \le t < W + S + D \\[6pt]
          r & t \ge W + S + D
        \end{cases}

    Warm-up shapes :math:`u` (``warmup_type``): ``"linear"`` :math:`x`, ``"cosine"``
    :math:`\tfrac12(1 - \cos \pi x)`, ``"1-sqrt"`` :math:`1 - \sqrt{1 - x}`.  Decay shapes
    :math:`g` (``decay_type``): ``"linear"`` :math:`1 - x`, ``"cosine"``
    :math:`\tfrac12(1 + \cos 2\pi c x)` with :math:`c` = ``num_cycles`` (0.5: half a wave),
    ``"1-sqrt"`` :math:`1 - \sqrt{x}`.  Unlike transformers' other schedules the warm-up starts
    at :math:`r\,\eta_0`, not 0.  The decay's last step is :math:`D - 1` steps into it, so the
    floor :math:`r\,\eta_0` is first used at step :math:`W + S + D`.  With :math:`r = 0` and
    linear warm-up this is ``WarmupStableDecay`` with ``decay="cosine"`` (or ``"linear"``,
    ``"sqrt"``).
    """
    name = "get_wsd_schedule"
    lr = v.lr(name, lr)
    W, S, D = _wsd_phases(name, num_warmup_steps, num_decay_steps, num_training_steps,
                          num_stable_steps)
    warmup_type = v.choice(name, "warmup_type", warmup_type, WSD_SHAPES)
    decay_type = v.choice(name, "decay_type", decay_type, WSD_SHAPES)
    r = v.real(name, "min_lr_ratio", min_lr_ratio, low=0.0, high=1.0)
    c = v.real(name, "num_cycles", num_cycles, low=0.0, low_open=True)
    t = _t(t)

    x = np.clip(t / max(1, W), 0.0, 1.0)
    up = {"linear": lambda: x,
          "cosine": lambda: 0.5 * (1.0 - np.cos(np.pi * x)),
          "1-sqrt": lambda: 1.0 - np.sqrt(1.0 - x)}[warmup_type]()
    y = np.clip((t - W - S) / max(1, D), 0.0, 1.0)
    down = {"linear": lambda: 1.0 - y,
            "cosine": lambda: 0.5 * (1.0 + np.cos(np.pi * float(c) * 2.0 * y)),
            "1-sqrt": lambda: 1.0 - np.sqrt(y)}[decay_type]()
    factor = np.select(
        [t < W, t < W + S, t < W + S + D],
        [np.maximum(0.0, up * (1.0 - r) + r), 1.0, np.maximum(0.0, down * (1.0 - r) + r)],
        default=r,
    )
    return lr * factor


# ---------------------------------------------------------------------------------------------
# torch recipes: transformers' signatures, LambdaLR factors written from its source
# ---------------------------------------------------------------------------------------------

def _lambda_lr(optimizer: Optimizer, factor, last_epoch: int) -> LambdaLR:
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, factor, last_epoch=last_epoch)


def _warm(step: int, warmup: int) -> float:
    return float(step) / float(max(1, warmup))


def _linear_factor(step, *, warmup, total):
    if step < warmup:
        return _warm(step, warmup)
    return max(0.0, float(total - step) / float(max(1, total - warmup)))


def get_linear_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int,
                                    num_training_steps: int, last_epoch: int = -1) -> LambdaLR:
    """:func:`linear_schedule_with_warmup` as transformers builds it: a ``LambdaLR``."""
    linear_schedule_with_warmup(0, 1.0, num_warmup_steps, num_training_steps)  # validate
    factor = partial(_linear_factor, warmup=num_warmup_steps, total=num_training_steps)
    return _lambda_lr(optimizer, factor, last_epoch)


def _cosine_factor(step, *, warmup, total, cycles):
    if step < warmup:
        return _warm(step, warmup)
    progress = float(step - warmup) / float(max(1, total - warmup))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress)))


def get_cosine_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int,
                                    num_training_steps: int, num_cycles: float = 0.5,
                                    last_epoch: int = -1) -> LambdaLR:
    """:func:`cosine_schedule_with_warmup` as transformers builds it: a ``LambdaLR``."""
    cosine_schedule_with_warmup(0, 1.0, num_warmup_steps, num_training_steps, num_cycles)
    factor = partial(_cosine_factor, warmup=num_warmup_steps, total=num_training_steps,
                     cycles=num_cycles)
    return _lambda_lr(optimizer, factor, last_epoch)


def _hard_restarts_factor(step, *, warmup, total, cycles):
    if step < warmup:
        return _warm(step, warmup)
    progress = float(step - warmup) / float(max(1, total - warmup))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(cycles) * progress) % 1.0))))


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 1,
    last_epoch: int = -1,
) -> LambdaLR:
    """:func:`cosine_with_hard_restarts_schedule_with_warmup` as a ``LambdaLR``."""
    cosine_with_hard_restarts_schedule_with_warmup(0, 1.0, num_warmup_steps, num_training_steps,
                                                   num_cycles)
    factor = partial(_hard_restarts_factor, warmup=num_warmup_steps, total=num_training_steps,
                     cycles=num_cycles)
    return _lambda_lr(optimizer, factor, last_epoch)


def _polynomial_factor(step, *, warmup, total, lr_end, power, lr_init):
    if step < warmup:
        return _warm(step, warmup)
    if step > total:
        return lr_end / lr_init
    remaining = 1 - (step - warmup) / (total - warmup)
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def get_polynomial_decay_schedule_with_warmup(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int, lr_end: float = 1e-7,
    power: float = 1.0, last_epoch: int = -1,
) -> LambdaLR:
    """:func:`polynomial_decay_schedule_with_warmup` as a ``LambdaLR``; like transformers, it
    decays relative to ``optimizer.defaults["lr"]``."""
    lr_init = optimizer.defaults["lr"]
    polynomial_decay_schedule_with_warmup(0, lr_init, num_warmup_steps, num_training_steps,
                                          lr_end, power)
    factor = partial(_polynomial_factor, warmup=num_warmup_steps, total=num_training_steps,
                     lr_end=lr_end, power=power, lr_init=lr_init)
    return _lambda_lr(optimizer, factor, last_epoch)


def _inverse_sqrt_factor(step, *, warmup, timescale):
    if step < warmup:
        return _warm(step, warmup)
    return 1.0 / math.sqrt((step + timescale - warmup) / timescale)


def get_inverse_sqrt_schedule(optimizer: Optimizer, num_warmup_steps: int,
                              timescale: float | None = None, last_epoch: int = -1) -> LambdaLR:
    """:func:`inverse_sqrt_schedule` as a ``LambdaLR``."""
    inverse_sqrt_schedule(0, 1.0, num_warmup_steps, timescale)
    tau = _timescale("get_inverse_sqrt_schedule", num_warmup_steps, timescale)
    factor = partial(_inverse_sqrt_factor, warmup=num_warmup_steps, timescale=tau)
    return _lambda_lr(optimizer, factor, last_epoch)


def _wsd_factor(step, *, warmup, stable, decay, warmup_type, decay_type, ratio, cycles):
    if step < warmup:
        x = float(step) / float(max(1, warmup))
        up = {"linear": x, "cosine": 0.5 * (1.0 - math.cos(math.pi * x)),
              "1-sqrt": 1.0 - math.sqrt(1.0 - x)}[warmup_type]
        return max(0.0, up * (1.0 - ratio) + ratio)
    if step < warmup + stable:
        return 1.0
    if step < warmup + stable + decay:
        y = float(step - warmup - stable) / float(max(1, decay))
        if decay_type == "linear":
            down = 1.0 - y
        elif decay_type == "cosine":
            down = 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * y))
        else:
            down = 1.0 - math.sqrt(y)
        return max(0.0, down * (1.0 - ratio) + ratio)
    return ratio


def get_wsd_schedule(
    optimizer: Optimizer, num_warmup_steps: int, num_decay_steps: int,
    num_training_steps: int | None = None, num_stable_steps: int | None = None,
    warmup_type: str = "linear", decay_type: str = "cosine", min_lr_ratio: float = 0,
    num_cycles: float = 0.5, last_epoch: int = -1,
) -> LambdaLR:
    """:func:`wsd_schedule` as a ``LambdaLR``."""
    wsd_schedule(0, 1.0, num_warmup_steps, num_decay_steps, num_training_steps,
                 num_stable_steps, warmup_type, decay_type, min_lr_ratio, num_cycles)
    if num_stable_steps is None:
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    factor = partial(_wsd_factor, warmup=num_warmup_steps, stable=num_stable_steps,
                     decay=num_decay_steps, warmup_type=warmup_type, decay_type=decay_type,
                     ratio=min_lr_ratio, cycles=num_cycles)
    return _lambda_lr(optimizer, factor, last_epoch)


# ---------------------------------------------------------------------------------------------
# torch recipes from torch's own classes
# ---------------------------------------------------------------------------------------------

def _sequential_needs_warmup(name: str, W: int) -> None:
    if W < 1:
        v.fail(name, "the SequentialLR recipe needs num_warmup_steps >= 1 (SequentialLR needs a "
                     f"milestone >= 1), got {W}; without warm-up use the second member alone")


def linear_schedule_with_warmup_sequential(optimizer: Optimizer, num_warmup_steps: int,
                                           num_training_steps: int) -> SequentialLR:
    """:func:`linear_schedule_with_warmup` from torch's classes: ``SequentialLR`` of a warm-up
    ``LambdaLR`` (``LinearLR`` cannot start at 0) and ``LinearLR(1 -> 0)``.

    ``LinearLR`` holds its ``end_factor`` after ``total_iters``, so this agrees with transformers
    past the end too.
    """
    name = "get_linear_schedule_with_warmup"
    linear_schedule_with_warmup(0, 1.0, num_warmup_steps, num_training_steps)
    _sequential_needs_warmup(name, num_warmup_steps)
    from torch.optim.lr_scheduler import LambdaLR, LinearLR, SequentialLR

    W, T = num_warmup_steps, num_training_steps
    warm = LambdaLR(optimizer, lambda step: step / W)
    down = LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=max(1, T - W))
    return SequentialLR(optimizer, [warm, down], milestones=[W])


def cosine_schedule_with_warmup_sequential(optimizer: Optimizer, num_warmup_steps: int,
                                           num_training_steps: int) -> SequentialLR:
    """:func:`cosine_schedule_with_warmup` (``num_cycles=0.5``) from torch's classes:
    ``SequentialLR`` of a warm-up ``LambdaLR`` and ``CosineAnnealingLR(T_max=T - W)``.

    Both keep the cosine going past ``num_training_steps`` (neither clamps it), so they agree
    there as well.
    """
    name = "get_cosine_schedule_with_warmup"
    cosine_schedule_with_warmup(0, 1.0, num_warmup_steps, num_training_steps)
    _sequential_needs_warmup(name, num_warmup_steps)
    from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, SequentialLR

    W, T = num_warmup_steps, num_training_steps
    warm = LambdaLR(optimizer, lambda step: step / W)
    cos = CosineAnnealingLR(optimizer, T_max=max(1, T - W))
    return SequentialLR(optimizer, [warm, cos], milestones=[W])


#: transformers' function name -> closed form, for ``SCHEDULES``.
TRANSFORMERS_NAMES = {
    "get_linear_schedule_with_warmup": linear_schedule_with_warmup,
    "get_cosine_schedule_with_warmup": cosine_schedule_with_warmup,
    "get_cosine_with_hard_restarts_schedule_with_warmup":
        cosine_with_hard_restarts_schedule_with_warmup,
    "get_polynomial_decay_schedule_with_warmup": polynomial_decay_schedule_with_warmup,
    "get_inverse_sqrt_schedule": inverse_sqrt_schedule,
    "get_wsd_schedule": wsd_schedule,
}
