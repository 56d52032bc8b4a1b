r"""Stochastic gradient descent on a 2-D quadratic bowl: a problem small enough to watch.

The loss is :math:`f(x) = \tfrac12 (h_1 x_1^2 + h_2 x_2^2)` with curvatures :math:`h_i`.  Each
step uses a noisy gradient, as a mini-batch would:

.. math::  x_{k+1} = x_k - \eta_k \, (h \odot x_k + \sigma \, \xi_k), \qquad \xi_k \sim N(0, I).

Coordinate :math:`i` is multiplied by :math:`1 - \eta_k h_i` at every step (plus noise), so
without noise the iteration is stable exactly when :math:`\eta < 2 / \max_i h_i`; above it the
steep coordinate grows by :math:`|1 - \eta h_{max}|` per step.  With noise, a constant stable
rate does not converge: it settles at the noise floor :func:`noise_floor`, proportional to
:math:`\eta` for small rates.  Lowering the rate over time (a schedule) gets both the
fast start and the low floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["descend", "loss", "stability_limit", "noise_floor", "CURVATURE", "CAP"]

#: A bowl ten times steeper along x2 than along x1.
CURVATURE = (1.0, 10.0)

#: :func:`descend` caps every coordinate at ``±CAP`` so that a diverging run stays finite
#: (with the default curvature the loss can then not exceed ``0.5 * 11 * CAP**2 = 5.5e24``).
CAP = 1e12


def stability_limit(curvature: Sequence[float] = CURVATURE) -> float:
    """The largest stable constant rate without noise: :math:`2 / \\max_i h_i`."""
    return 2.0 / max(curvature)


def noise_floor(lr: float, *, curvature: Sequence[float] = CURVATURE, noise: float = 1.0
                ) -> float:
    r"""The mean loss a constant rate settles at: :math:`\sum_i \eta\sigma^2 / (2(2 - \eta h_i))`.

    Once the start is forgotten, coordinate :math:`i` has variance
    :math:`v_i = \eta\sigma^2 / (h_i (2 - \eta h_i))` (the fixed point of
    :math:`v = (1 - \eta h_i)^2 v + \eta^2\sigma^2`), and the mean loss is
    :math:`\tfrac12 \sum_i h_i v_i`.  Defined for :math:`0 < \eta <` :func:`stability_limit`.
    """
    h = np.asarray(curvature, dtype=float)
    if not 0 < lr < stability_limit(curvature):
        raise ValueError(f"a noise floor exists only for 0 < lr < {stability_limit(curvature)}, "
                         f"got {lr}")
    return float(np.sum(lr * noise**2 / (2 * (2 - lr * h))))


def descend(lrs: Sequence[float], *, curvature: Sequence[float] = CURVATURE,
            start: Sequence[float] = (3.0, 3.0), noise: float = 1.0, seed: int = 0,
            cap: float = CAP) -> np.ndarray:
    """The path of SGD with learning rate ``lrs[k]`` at step ``k``: shape ``(len(lrs)+1, 2)``.

    The noise is drawn from ``numpy.random.default_rng(seed)``, so the same seed gives the
    same noise whatever the schedule: curves for different schedules are comparable.
    Every coordinate is clipped to ``[-cap, cap]`` after each step, so a diverging run shows a
    flat top (at most ``0.5 * sum(curvature) * cap**2``) instead of overflowing to ``inf``.
    """
    lrs = np.asarray(lrs, dtype=float)
    h = np.asarray(curvature, dtype=float)
    xi = np.random.default_rng(seed).standard_normal((len(lrs), h.size))
    path = np.empty((len(lrs) + 1, h.size))
    path[0] = start
    x = path[0].copy()
    for k, eta in enumerate(lrs):
        x = np.clip(x - eta * (h * x + noise * xi[k]), -cap, cap)
        path[k + 1] = x
    return path


def loss(path: np.ndarray, *, curvature: Sequence[float] = CURVATURE) -> np.ndarray:
    r"""The loss :math:`\tfrac12 \sum_i h_i x_i^2` at every point of ``path``."""
    return 0.5 * (np.asarray(path) ** 2 @ np.asarray(curvature, dtype=float))
