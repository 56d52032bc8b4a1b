r"""Stochastic gradient descent on a 2-D quadratic bowl: a problem small enough to watch.

The loss is :math:`f(x) = \tfrac12 (h_1 x_1^2 + h_2 x_2^2)` with curvatures :math:`h_i`.  Each
step uses a noisy gradient, as a mini-batch would:

.. math::  x_{k+1} = x_k - \eta_k \, (h \odot x_k + \sigma \, \xi_k), \qquad \xi_k \sim N(0, I).

Without noise the iteration is stable exactly when :math:`\eta < 2 / \max_i h_i`.  With noise,
a constant rate stalls at a noise floor proportional to :math:`\eta`; lowering the rate over
time (a schedule) gets both the fast start and the low floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["descend", "loss", "stability_limit", "CURVATURE"]

#: A bowl ten times steeper along x2 than along x1.
CURVATURE = (1.0, 10.0)


def stability_limit(curvature: Sequence[float] = CURVATURE) -> float:
    """The largest stable constant rate without noise: :math:`2 / \\max_i h_i`."""
    return 2.0 / max(curvature)


def descend(lrs: Sequence[float], *, curvature: Sequence[float] = CURVATURE,
            start: Sequence[float] = (3.0, 3.0), noise: float = 1.0, seed: int = 0
            ) -> np.ndarray:
    """The path of SGD with learning rate ``lrs[k]`` at step ``k``: shape ``(len(lrs)+1, 2)``.

    The noise is drawn from ``numpy.random.default_rng(seed)``, so the same seed gives the
    same noise whatever the schedule: curves for different schedules are comparable.
    Diverging coordinates are capped at 1e12 instead of overflowing.
    """
    lrs = np.asarray(lrs, dtype=float)
    h = np.asarray(curvature, dtype=float)
    xi = np.random.default_rng(seed).standard_normal((len(lrs), h.size))
    path = np.empty((len(lrs) + 1, h.size))
    path[0] = start
    x = path[0].copy()
    for k, eta in enumerate(lrs):
        x = np.clip(x - eta * (h * x + noise * xi[k]), -1e12, 1e12)
        path[k + 1] = x
    return path


def loss(path: np.ndarray, *, curvature: Sequence[float] = CURVATURE) -> np.ndarray:
    r"""The loss :math:`\tfrac12 \sum_i h_i x_i^2` at every point of ``path``."""
    return 0.5 * (np.asarray(path) ** 2 @ np.asarray(curvature, dtype=float))
