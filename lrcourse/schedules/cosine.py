r"""Cosine schedules: CosineAnnealingLR and CosineAnnealingWarmRestarts (SGDR)."""

from __future__ import annotations

import numpy as np

from . import _validate as v


def _eta_min(scheduler: str, eta_min, lr: float) -> float:
    eta_min = v.real(scheduler, "eta_min", eta_min, low=0.0)
    if eta_min > lr:
        v.fail(
            scheduler,
            f"eta_min must be between 0 and lr ({lr:g}), got {eta_min:g}: the cosine would "
            "climb from lr up to eta_min instead of annealing down to it",
        )
    return eta_min


def cosine_annealing_lr(t, lr: float, T_max: float, eta_min: float = 0.0) -> np.ndarray:
    r"""CosineAnnealingLR: half a cosine from ``lr`` down to ``eta_min`` over ``T_max`` steps.

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\left(1 + \cos\frac{\pi t}{T_{max}}\right)

    torch does **not** stop or restart at ``T_max``: the same cosine goes on, so the rate climbs
    smoothly back to ``lr`` at ``2*T_max`` and repeats with period ``2*T_max``.  This function
    reproduces that.  (Restarts are CosineAnnealingWarmRestarts.)
    """
    lr = v.lr("CosineAnnealingLR", lr)
    T_max = v.real("CosineAnnealingLR", "T_max", T_max, low=0.0, low_open=True)
    eta_min = _eta_min("CosineAnnealingLR", eta_min, lr)
    t = v.step_indices(t)
    return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2


def cosine_annealing_update(t, base_lr: float, T_max: float, eta_min: float = 0.0):
    r"""The recursive form torch applies: :math:`\eta_t = \eta_{min} + r_t(\eta_{t-1} - \eta_{min})`
    with :math:`r_t = \frac{1+\cos(\pi t/T)}{1+\cos(\pi (t-1)/T)}`, except on the step after each
    minimum (where :math:`r_t` would divide by zero) which adds
    :math:`(\eta_0-\eta_{min})(1-\cos(\pi/T))/2` instead.
    """
    t = np.asarray(t, np.int64)
    after_minimum = np.mod(t - 1 - T_max, 2 * T_max) == 0
    with np.errstate(divide="ignore", invalid="ignore"):  # r is not used where it divides by 0
        r = (1 + np.cos(np.pi * t / T_max)) / (1 + np.cos(np.pi * (t - 1) / T_max))
        rest = eta_min * (1.0 - r)
    a = np.where(t == 0, 1.0, np.where(after_minimum, 1.0, r))
    bump = (base_lr - eta_min) * (1 - np.cos(np.pi / T_max)) / 2
    c = np.where(t == 0, 0.0, np.where(after_minimum, bump, rest))
    return a, c


def warm_restart_phase(t, T_0: int, T_mult: int = 1) -> tuple[np.ndarray, np.ndarray]:
    r"""Where step (or fractional epoch) ``t`` falls in SGDR's cycles: ``(T_cur, T_i)``.

    Cycle :math:`n` lasts :math:`T_i = T_0 T_{mult}^n` steps and starts at
    :math:`S_n = T_0 (T_{mult}^n - 1)/(T_{mult} - 1)` (or :math:`n T_0` when
    :math:`T_{mult} = 1`).  The boundaries are exact integers, so unlike torch's
    ``step(epoch)`` (which takes a floating-point logarithm) a restart is never missed.
    """
    t = np.asarray(t)
    if T_mult == 1:
        return np.mod(t, T_0), np.full(t.shape, float(T_0))
    top = float(t.max()) if t.size else 0.0
    starts, lengths = [0], [T_0]
    while starts[-1] + lengths[-1] <= top:
        starts.append(starts[-1] + lengths[-1])
        lengths.append(lengths[-1] * T_mult)
    n = np.searchsorted(starts, t, side="right") - 1
    return t - np.asarray(starts)[n], np.asarray(lengths, np.float64)[n]


def cosine_annealing_warm_restarts(
    t, lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
) -> np.ndarray:
    r"""CosineAnnealingWarmRestarts (SGDR): cosine cycles that jump back to ``lr``.

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    :math:`T_{cur}` counts steps since the last restart and :math:`T_i` is the current cycle's
    length: :math:`T_0`, then :math:`T_0 T_{mult}`, :math:`T_0 T_{mult}^2`, ... (see
    :func:`warm_restart_phase`).  ``t`` may be fractional (``epoch + i / batches_per_epoch``),
    as torch's ``step(epoch)`` allows.
    """
    lr = v.lr("CosineAnnealingWarmRestarts", lr)
    T_0 = v.integer("CosineAnnealingWarmRestarts", "T_0", T_0, minimum=1)
    T_mult = v.integer("CosineAnnealingWarmRestarts", "T_mult", T_mult, minimum=1)
    eta_min = _eta_min("CosineAnnealingWarmRestarts", eta_min, lr)
    t = v.step_indices(t)
    T_cur, T_i = warm_restart_phase(t, T_0, T_mult)
    return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * T_cur / T_i)) / 2
