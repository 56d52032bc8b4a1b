r"""A simulated validation-loss curve with a plateau you can move, for ReduceLROnPlateau.

Real validation losses need a training run; the plateau lesson only needs their *shape*: a
loss that falls, stalls for a while, then falls again.  :func:`validation_loss` draws one:

.. math::

    L(t) = L_\infty + (L_0 - L_\infty)\, e^{-\tau(t)/\text{tau}}

where the clock :math:`\tau(t)` stops at ``plateau_start`` for ``plateau_length`` steps: the
value at ``plateau_start`` is followed by ``plateau_length`` steps that do not improve on it,
exactly the "bad epochs" ReduceLROnPlateau counts.  While the clock is stopped the loss may
creep down by a relative ``drift`` per step (0 = perfectly flat), so that ``threshold``
decides whether the plateau counts as progress.
Optional multiplicative noise comes from a seeded generator, so the curve is reproducible.

The curve is *open loop*: it does not react to the learning rate.  It is the sequence of values
a training script would pass to ``scheduler.step(val_loss)``; :func:`plateau_curves` feeds it to
:func:`lrcourse.schedules.lr_curve` and returns the loss and the learning rate side by side.
"""

from __future__ import annotations

import numpy as np

from lrcourse.schedules import lr_curve

__all__ = ["validation_loss", "reductions", "plateau_curves", "plateau_marks",
           "describe_reductions", "LOSS", "RATE"]

#: The keys (and legend labels) of :func:`plateau_curves`.  The rate's label starts with the
#: scheduler's name, so a plot can tell that it is piecewise constant.
LOSS = "validation loss / first"
RATE = "ReduceLROnPlateau rate / initial"


def validation_loss(steps: int, *, plateau_start: int = 30, plateau_length: int = 25,
                    start: float = 2.0, floor: float = 0.2, tau: float = 12.0,
                    drift: float = 0.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A validation-loss curve of ``steps`` values: exponential decay towards ``floor`` that
    stalls for ``plateau_length`` steps from ``plateau_start`` (see the module docstring).

    ``drift`` is the relative decrease per step during the plateau (e.g. ``1e-3``); ``noise``
    the standard deviation of a multiplicative Gaussian noise, drawn with ``seed``.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if plateau_start < 0 or plateau_length < 0:
        raise ValueError("plateau_start and plateau_length must be >= 0")
    if not (tau > 0 and start > floor >= 0):
        raise ValueError("need tau > 0 and start > floor >= 0")
    if not 0 <= drift < 1 or noise < 0:
        raise ValueError("need 0 <= drift < 1 and noise >= 0")
    t = np.arange(steps, dtype=np.float64)
    end = plateau_start + plateau_length
    clock = np.where(t < plateau_start, t, np.where(t < end, plateau_start, t - plateau_length))
    loss = floor + (start - floor) * np.exp(-clock / tau)
    inside = np.clip(t - plateau_start, 0, plateau_length)  # steps spent in the plateau so far
    loss = floor + (loss - floor) * (1.0 - drift) ** inside
    if noise:
        loss = loss * (1.0 + noise * np.random.default_rng(seed).standard_normal(steps))
    return loss


def reductions(lrs) -> list[int]:
    """The steps whose learning rate is lower than the step before (where a cut took effect)."""
    lrs = np.asarray(lrs, dtype=np.float64)
    return [int(k) for k in np.flatnonzero(lrs[1:] < lrs[:-1]) + 1]


def plateau_curves(steps: int = 100, lr: float = 0.1, *, plateau_start: int = 30,
                   plateau_length: int = 25, drift: float = 0.0, noise: float = 0.0,
                   seed: int = 0, **plateau_kwargs) -> dict[str, np.ndarray]:
    """The simulated loss and the learning rate ReduceLROnPlateau sets from it, both divided by
    their first value so they share one axis.  ``plateau_kwargs`` go to ReduceLROnPlateau
    (``patience``, ``factor``, ``threshold``, ``threshold_mode``, ``cooldown``, ``min_lr``...).
    """
    loss = validation_loss(steps, plateau_start=plateau_start, plateau_length=plateau_length,
                           drift=drift, noise=noise, seed=seed)
    lrs = lr_curve("ReduceLROnPlateau", steps, lr, metrics=loss, **plateau_kwargs)
    return {LOSS: loss / loss[0], RATE: lrs / lr}


def plateau_marks(values: dict) -> list[int]:
    """The reduction steps for an explorer's current values (its ``marks=`` callback)."""
    curves = plateau_curves(**values)
    return reductions(curves[RATE])


def describe_reductions(values: dict, curves: dict) -> str:
    """An explorer read-out: where the rate was cut and where it ended (``describe=``)."""
    lrs = curves[RATE]
    cuts = reductions(lrs)
    where = ", ".join(map(str, cuts)) if cuts else "none"
    return f"reductions at steps: {where}; final rate = {lrs[-1]:.3g} x the initial rate"
