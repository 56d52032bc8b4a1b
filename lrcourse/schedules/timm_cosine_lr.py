r"""timm's ``CosineLRScheduler`` (``timm/scheduler/cosine_lr.py``), in closed form.

timm's schedulers are not ``torch.optim.lr_scheduler`` classes and do not count steps: the
training loop passes the clock in.  ``step(epoch)`` is called at the end of each epoch with the
next epoch's index and ``step_update(num_updates)`` after each optimizer step with the number of
updates so far; ``t_in_epochs`` decides which of the two moves the rate (the other does
nothing).  So ``t_initial``, ``warmup_t`` and ``noise_range_t`` count **epochs** when
``t_in_epochs=True`` (the default) and **optimizer updates** when it is False.

This module holds the schedule three times:

* :func:`timm_cosine` ``(t, lr, **params)``, the closed form, registered in ``SCHEDULES`` as
  ``"CosineLRScheduler"``.  Like every schedule of :mod:`lrcourse.schedules`, ``t`` counts
  optimizer steps: the scheduler's clock is ``t // updates_per_epoch`` in epoch mode (the rate is
  a staircase, constant within an epoch) and ``t`` itself in update mode.  With the default
  ``updates_per_epoch=1`` the two are the same and ``t`` *is* timm's clock.
* :func:`timm_cosine_scheduler`, a ``LambdaLR`` to step once per optimizer step, written from a
  reading of timm's source (noise included);
* :func:`timm_cosine_sequential`, the simple case from torch's own classes (``LinearLR``, then
  ``CosineAnnealingWarmRestarts``, then a constant floor), which shows what the parameters mean.

**The formula** (timm's ``_get_lr``), on the scheduler's clock :math:`c`, with :math:`W` =
``warmup_t``, :math:`T` = ``t_initial``, :math:`m` = ``cycle_mul``, :math:`d` =
``cycle_decay``, :math:`k` = ``k_decay``, :math:`\eta_{min}` = ``lr_min``:

.. math::

    \eta_c = \begin{cases}
      \eta_{w} + c\,\dfrac{\eta_0 - \eta_w}{W} & c < W \\[6pt]
      \eta_{min} + \tfrac12\left(d^{\,i}\eta_0 - \eta_{min}\right)
         \left(1 + \cos\dfrac{\pi\,\tau^k}{T_i^k}\right) & c \ge W,\ i < \text{cycle\_limit} \\[6pt]
      \eta_{min} & \text{otherwise}
    \end{cases}

where :math:`u = c - W` if ``warmup_prefix`` else :math:`c`, and :math:`u` falls in cycle
:math:`i` of length :math:`T_i = m^i T`, :math:`\tau` steps after its start:
:math:`i = \lfloor u / T \rfloor` when :math:`m = 1`, else
:math:`i = \lfloor \log_m (1 - u (1 - m) / T) \rfloor`.

**Where timm's conventions differ from torch's**

* Epochs vs updates (above).  timm's own ``train.py`` calls ``step_update`` after every update
  and ``step(epoch + 1)`` after every epoch, so either mode works from the same loop.
* ``cycle_limit=1`` (the default) means one cosine and then ``lr_min`` for good: no restart,
  unlike ``CosineAnnealingLR``, which climbs back up after ``T_max``.  Each further cycle
  restarts at ``cycle_decay**i * lr``.
* ``warmup_prefix=False`` (the default) runs the warm-up *inside* the first cycle: the cosine's
  clock starts at 0 with the warm-up, so when the warm-up ends at ``c = W`` the cosine is already
  ``W`` steps in and the rate drops a little below ``lr`` instead of starting from it.  With
  ``warmup_prefix=True`` the cosine starts after the warm-up, from ``lr``.
* The warm-up reaches ``lr`` at ``c = W`` (not ``W - 1``), from the absolute ``warmup_lr_init``
  at ``c = 0``; ``lr_min`` is absolute too (shared by all parameter groups, like ``eta_min``).
* With ``cycle_mul != 1`` timm finds the cycle with a floating-point logarithm, which can land
  just below a whole number at a cycle's first step: that restart is then missed and the step
  gets ``lr_min`` (e.g. ``cycle_mul=3``: the restart at ``u = 121 T`` is missed).  This closed
  form uses the same arithmetic (``math.log``) and reproduces it.  With ``cycle_mul < 1`` the
  cycles shrink and all fit into ``T / (1 - m)`` steps; timm raises a math domain error after
  that, and so does this function (a ValueError that says so).
* Noise (``noise_range_t``): in the noise range, the rate is multiplied by ``1 + n`` where
  ``n`` is drawn from ``torch.randn`` with a ``torch.Generator`` seeded ``noise_seed + c``,
  times ``noise_std``, redrawn until ``|n| < noise_pct``.  It is deterministic, and computed
  here the same way (so noise needs torch).  The rate set when the scheduler is built (clock 0)
  never has noise, because timm's loop never calls ``step(0)``.
* A parameter group with an ``lr_scale`` key gets every value times that scale (timm's
  layer-wise decay), ``lr_min`` included: multiply this curve by it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from . import _validate as v

if TYPE_CHECKING:
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LambdaLR, SequentialLR

__all__ = ["timm_cosine", "timm_cosine_scheduler", "timm_cosine_sequential", "timm_noise"]

NAME = "CosineLRScheduler"


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------

def _noise_range(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            v.fail(NAME, "noise_range_t must be None, a step or a [start, end) pair, got "
                         f"{value!r}")
        lo = v.real(NAME, "noise_range_t[0]", value[0], low=0.0)
        hi = v.real(NAME, "noise_range_t[1]", value[1], low=0.0)
        return (lo, hi)
    return v.real(NAME, "noise_range_t", value, low=0.0)


def _check(lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t,
           warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct, noise_std,
           noise_seed, k_decay, updates_per_epoch):
    lr = v.lr(NAME, lr)
    p = dict(
        t_initial=v.integer(NAME, "t_initial", t_initial, minimum=1),
        lr_min=v.real(NAME, "lr_min", lr_min, low=0.0),
        cycle_mul=v.real(NAME, "cycle_mul", cycle_mul, low=0.0, low_open=True),
        cycle_decay=v.real(NAME, "cycle_decay", cycle_decay, low=0.0, low_open=True),
        cycle_limit=v.integer(NAME, "cycle_limit", cycle_limit, minimum=1),
        warmup_t=v.integer(NAME, "warmup_t", warmup_t, minimum=0),
        warmup_lr_init=v.real(NAME, "warmup_lr_init", warmup_lr_init, low=0.0),
        noise_range_t=_noise_range(noise_range_t),
        noise_pct=v.real(NAME, "noise_pct", noise_pct, low=0.0, low_open=True),
        noise_std=v.real(NAME, "noise_std", noise_std, low=0.0),
        noise_seed=v.integer(NAME, "noise_seed", noise_seed, minimum=0),
        k_decay=v.real(NAME, "k_decay", k_decay, low=0.0, low_open=True),
        updates_per_epoch=v.integer(NAME, "updates_per_epoch", updates_per_epoch, minimum=1),
    )
    for flag, value in (("warmup_prefix", warmup_prefix), ("t_in_epochs", t_in_epochs)):
        if not isinstance(value, (bool, np.bool_)):
            v.fail(NAME, f"{flag} must be True or False, got {value!r}")
    if p["lr_min"] > lr:
        v.fail(NAME, f"lr_min must be between 0 and lr ({lr:g}), got {p['lr_min']:g}: the "
                     "cosine would climb from lr up to lr_min instead of annealing down to it")
    if p["warmup_lr_init"] > lr:
        v.fail(NAME, f"warmup_lr_init must be between 0 and lr ({lr:g}), got "
                     f"{p['warmup_lr_init']:g}: the warm-up would go down to lr")
    p.update(warmup_prefix=bool(warmup_prefix), t_in_epochs=bool(t_in_epochs))
    return lr, p


# ---------------------------------------------------------------------------------------------
# closed form
# ---------------------------------------------------------------------------------------------

def _cycle_index(u: np.ndarray, t_initial: int, m: float) -> np.ndarray:
    """timm's cycle index for ``cycle_mul != 1``: floor(log_m(1 - u (1 - m) / T)), computed with
    ``math.log`` as timm does (numpy's log may differ in the last bit, which matters at a
    cycle's first step)."""
    x = 1 - u / t_initial * (1 - m)
    if x.size and x.min() <= 0:
        bad = int(u.ravel()[np.argmax(x.ravel() <= 0)])
        v.fail(NAME, f"with cycle_mul={m:g} < 1 the cycles shrink and all fit into "
                     f"t_initial / (1 - cycle_mul) = {t_initial / (1 - m):g} steps; timm fails "
                     f"(math domain error) after that, at its step {bad}")
    values, inverse = np.unique(x, return_inverse=True)
    logs = np.array([math.floor(math.log(float(val), m)) for val in values], np.float64)
    return logs[inverse].reshape(x.shape)


def timm_noise(clock, noise_pct: float = 0.67, noise_std: float = 1.0,
               noise_seed: int = 42) -> np.ndarray:
    """timm's multiplicative noise ``n`` at each value of the scheduler's clock (the rate becomes
    ``rate + rate * n``): a normal draw from ``torch.Generator().manual_seed(noise_seed + c)``,
    times ``noise_std``, redrawn until ``|n| < noise_pct``.  Needs torch."""
    import torch

    clock = np.asarray(clock)
    values, inverse = np.unique(clock, return_inverse=True)
    out = np.empty(len(values), np.float64)
    for j, c in enumerate(values.tolist()):
        g = torch.Generator()
        g.manual_seed(int(noise_seed + c))
        while True:
            n = torch.randn(1, generator=g).item() * noise_std
            if abs(n) < noise_pct:
                break
        out[j] = n
    return out[inverse].reshape(clock.shape)


def _in_noise_range(c: np.ndarray, noise_range_t) -> np.ndarray:
    if noise_range_t is None:
        return np.zeros(c.shape, bool)
    if isinstance(noise_range_t, tuple):
        return (noise_range_t[0] <= c) & (c < noise_range_t[1])
    return c >= noise_range_t


def timm_cosine(
    t, lr: float, t_initial: int, lr_min: float = 0.0, cycle_mul: float = 1.0,
    cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: int = 0,
    warmup_lr_init: float = 0.0, warmup_prefix: bool = False, t_in_epochs: bool = True,
    noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
    k_decay: float = 1.0, updates_per_epoch: int = 1,
) -> np.ndarray:
    r"""timm's ``CosineLRScheduler``: the rate of optimizer step ``t`` (see the module docstring
    for the formula and for where timm's conventions differ from torch's).

    The parameters are timm's, plus ``updates_per_epoch`` (optimizer steps per epoch, default 1),
    which only matters in epoch mode (``t_in_epochs=True``): the scheduler's clock is then
    ``t // updates_per_epoch``, the epoch step ``t`` belongs to.  In update mode the clock is
    ``t``.  Element ``k`` of ``lr_curve("CosineLRScheduler", ...)`` is the rate of the ``k``-th
    optimizer step in timm's loop: the value set at construction for clock 0, then the value of
    ``step(c)`` / ``step_update(c)``.
    """
    lr, p = _check(lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t,
                   warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct,
                   noise_std, noise_seed, k_decay, updates_per_epoch)
    t = v.step_indices(t)
    if t.size and not np.all(t == np.floor(t)):
        raise ValueError(f"{NAME}: steps must be whole numbers (timm's clock is an integer)")
    steps = t.astype(np.int64)
    clock = steps // p["updates_per_epoch"] if p["t_in_epochs"] else steps
    c = clock.astype(np.float64)

    T, W, m = p["t_initial"], p["warmup_t"], p["cycle_mul"]
    lo, peak0 = p["lr_min"], lr
    if W:
        warm = p["warmup_lr_init"] + c * ((lr - p["warmup_lr_init"]) / W)
    else:
        warm = np.zeros(c.shape)
    u = np.maximum(c - W, 0.0) if p["warmup_prefix"] else c
    u = np.where(c < W, 0.0, u)  # the cosine branch is only used from c = W on
    if m != 1:
        i = _cycle_index(u, T, m)
        t_i = m**i * T
        t_curr = u - (1 - m**i) / (1 - m) * T
    else:
        i = u // T
        t_i = float(T)
        t_curr = u - T * i
    peak = peak0 * p["cycle_decay"] ** i
    k = p["k_decay"]
    cosine = lo + 0.5 * (peak - lo) * (1 + np.cos(np.pi * t_curr**k / t_i**k))
    rate = np.where(c < W, warm, np.where(i < p["cycle_limit"], cosine, lo))

    noisy = _in_noise_range(c, p["noise_range_t"]) & (clock >= 1)
    if noisy.any():
        n = np.zeros(c.shape)
        n[noisy] = timm_noise(clock[noisy], p["noise_pct"], p["noise_std"], p["noise_seed"])
        rate = np.where(noisy, rate + rate * n, rate)
    return rate


# ---------------------------------------------------------------------------------------------
# torch recipes
# ---------------------------------------------------------------------------------------------

def _base_lrs(optimizer: Optimizer) -> list[float]:
    return [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]


def timm_cosine_scheduler(
    optimizer: Optimizer, t_initial: int, lr_min: float = 0.0, cycle_mul: float = 1.0,
    cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: int = 0,
    warmup_lr_init: float = 0.0, warmup_prefix: bool = False, t_in_epochs: bool = True,
    noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
    k_decay: float = 1.0, updates_per_epoch: int = 1, last_epoch: int = -1,
) -> LambdaLR:
    """timm's ``CosineLRScheduler`` as a ``LambdaLR`` stepped once per **optimizer step** (a
    plain torch loop: ``optimizer.step(); scheduler.step()``), one factor function per group.

    The factors are the rate divided by the group's base rate, so every group needs a base rate
    above 0.  In epoch mode the factor of step ``k`` is that of epoch ``k // updates_per_epoch``.
    Written from timm's source, independently of :func:`timm_cosine`.
    """
    from torch.optim.lr_scheduler import LambdaLR

    bases = _base_lrs(optimizer)
    for base in bases:  # validate with each group's rate
        timm_cosine(0, base, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t,
                    warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct,
                    noise_std, noise_seed, k_decay, updates_per_epoch)
        if base <= 0:
            v.fail(NAME, "the LambdaLR recipe needs every group's lr > 0 (it scales the base rate)")

    def noise(clock: int) -> float:
        if noise_range_t is None or clock < 1:
            return 0.0
        if isinstance(noise_range_t, (list, tuple)):
            inside = noise_range_t[0] <= clock < noise_range_t[1]
        else:
            inside = clock >= noise_range_t
        if not inside:
            return 0.0
        import torch

        generator = torch.Generator()
        generator.manual_seed(noise_seed + clock)
        while True:
            n = torch.randn(1, generator=generator).item() * noise_std
            if abs(n) < noise_pct:
                return n

    def rate(clock: int, base: float) -> float:
        if clock < warmup_t:
            return warmup_lr_init + clock * ((base - warmup_lr_init) / warmup_t)
        u = clock - warmup_t if warmup_prefix else clock
        if cycle_mul != 1:
            i = math.floor(math.log(1 - u / t_initial * (1 - cycle_mul), cycle_mul))
            length = cycle_mul**i * t_initial
            into = u - (1 - cycle_mul**i) / (1 - cycle_mul) * t_initial
        else:
            i = u // t_initial
            length = t_initial
            into = u - t_initial * i
        if i >= cycle_limit:
            return lr_min
        peak = base * cycle_decay**i
        return lr_min + 0.5 * (peak - lr_min) * (
            1 + math.cos(math.pi * into**k_decay / length**k_decay))

    def factor_for(base: float):
        def factor(step: int) -> float:
            clock = step // updates_per_epoch if t_in_epochs else step
            value = rate(clock, base)
            value = value + value * noise(clock)
            return value / base

        return factor

    return LambdaLR(optimizer, [factor_for(b) for b in bases], last_epoch=last_epoch)


def timm_cosine_sequential(optimizer: Optimizer, t_initial: int, lr_min: float = 0.0,
                           cycle_limit: int = 1, warmup_t: int = 0,
                           warmup_lr_init: float = 0.0) -> SequentialLR:
    """The simple case of ``CosineLRScheduler`` from torch's classes, stepped once per tick of
    timm's clock: ``warmup_prefix=True``, ``cycle_mul=1``, ``cycle_decay=1``, ``k_decay=1``, no
    noise.

    ``SequentialLR`` of ``LinearLR`` (the warm-up, from ``warmup_lr_init``), then
    ``CosineAnnealingWarmRestarts(T_0=t_initial, eta_min=lr_min)`` for ``cycle_limit`` cycles,
    then a ``LambdaLR`` that holds ``lr_min``.  ``LinearLR`` needs ``warmup_lr_init > 0`` and
    scales every group by the same factors, so with several groups only the first one warms up
    from ``warmup_lr_init`` exactly.
    """
    bases = _base_lrs(optimizer)
    timm_cosine(0, bases[0], t_initial, lr_min, cycle_limit=cycle_limit, warmup_t=warmup_t,
                warmup_lr_init=warmup_lr_init, warmup_prefix=True)
    if warmup_t and not warmup_lr_init > 0:
        v.fail(NAME, "the SequentialLR recipe's warm-up is LinearLR, which needs "
                     "warmup_lr_init > 0; use timm_cosine_scheduler (LambdaLR) instead")
    from torch.optim.lr_scheduler import (
        CosineAnnealingWarmRestarts, LambdaLR, LinearLR, SequentialLR,
    )

    members, milestones = [], []
    if warmup_t:
        members.append(LinearLR(optimizer, start_factor=warmup_lr_init / bases[0],
                                end_factor=1.0, total_iters=warmup_t))
        milestones.append(warmup_t)
    members.append(CosineAnnealingWarmRestarts(optimizer, T_0=t_initial, eta_min=lr_min))
    members.append(LambdaLR(optimizer, [lambda _, b=b: lr_min / b for b in bases]))
    milestones.append(warmup_t + cycle_limit * t_initial)
    return SequentialLR(optimizer, members, milestones=milestones)
