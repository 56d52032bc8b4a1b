r"""Smooth decays: LinearLR, ExponentialLR and PolynomialLR.

Each has its closed form and the chainable update ``lr_t = a_t * lr_{t-1}`` torch applies
(used by ChainedScheduler and SequentialLR).
"""

from __future__ import annotations

import numpy as np

from . import _validate as v


def linear_lr(
    t, lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> np.ndarray:
    r"""LinearLR: move the factor linearly from ``start_factor`` to ``end_factor``.

    .. math:: \eta_t = \eta_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)

    with :math:`s` = start_factor, :math:`e` = end_factor, :math:`T` = total_iters.  After
    ``total_iters`` the rate stays at :math:`\eta_0 e`.  torch only allows factors up to 1, so
    LinearLR cannot warm up *above* the optimizer's lr.
    """
    lr = v.lr("LinearLR", lr)
    s = v.real("LinearLR", "start_factor", start_factor, low=0.0, high=1.0, low_open=True)
    e = v.real("LinearLR", "end_factor", end_factor, low=0.0, high=1.0)
    total = v.integer("LinearLR", "total_iters", total_iters, minimum=1)
    t = v.step_indices(t)
    return lr * (s + (e - s) * np.minimum(total, t) / total)


def linear_update(t, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5):
    t = np.asarray(t, np.int64)
    s, e, total = start_factor, end_factor, total_iters
    with np.errstate(divide="ignore", invalid="ignore"):
        ramp = 1.0 + (e - s) / (total * s + (t - 1) * (e - s))
    a = np.where(t == 0, s, np.where(t > total, 1.0, ramp))
    return a, np.zeros_like(a)


def exponential_lr(t, lr: float, gamma: float) -> np.ndarray:
    r"""ExponentialLR: multiply by ``gamma`` every step.

    .. math:: \eta_t = \eta_0 \, \gamma^{t}
    """
    lr = v.lr("ExponentialLR", lr)
    gamma = v.real("ExponentialLR", "gamma", gamma, low=0.0, low_open=True)
    t = v.step_indices(t)
    return lr * gamma**t


def exponential_update(t, gamma: float):
    t = np.asarray(t, np.int64)
    a = np.where(t == 0, 1.0, gamma)
    return a, np.zeros_like(a)


def polynomial_lr(t, lr: float, total_iters: int = 5, power: float = 1.0) -> np.ndarray:
    r"""PolynomialLR: decay to exactly 0 at ``total_iters`` along a polynomial.

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}

    With ``power > 0`` the rate is 0.0 from step ``total_iters`` on, and stays there.
    """
    lr = v.lr("PolynomialLR", lr)
    total = v.integer("PolynomialLR", "total_iters", total_iters, minimum=1)
    power = v.real("PolynomialLR", "power", power, low=0.0)
    t = v.step_indices(t)
    return lr * (1.0 - np.minimum(total, t) / total) ** power


def polynomial_update(t, total_iters: int = 5, power: float = 1.0):
    t = np.asarray(t, np.int64)
    total = total_iters
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ((1.0 - t / total) / (1.0 - (t - 1) / total)) ** power
    a = np.where((t == 0) | (t > total), 1.0, ratio)
    return a, np.zeros_like(a)
