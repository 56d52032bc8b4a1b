r"""Schedules driven by a user's function of the epoch: LambdaLR and MultiplicativeLR.

Neither has a closed form in general: the formula *is* the learner's function, so these
evaluate it once per step (a Python loop, not a vectorized expression).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _validate as v


def lambda_lr(t, lr: float, lr_lambda: Callable[[int], float]) -> np.ndarray:
    r"""LambdaLR: the base rate times the user's factor.

    .. math:: \eta_t = \eta_0 \cdot \lambda(t)

    ``lr_lambda`` is called with the integer step ``t`` (starting at 0, as torch does at
    construction).  A lambda such as ``lambda epoch: epoch // 30`` therefore gives a learning
    rate of exactly 0 for the first 30 epochs.
    """
    lr = v.lr("LambdaLR", lr)
    fn = v.callable_("LambdaLR", "lr_lambda", lr_lambda)
    t = v.step_indices(t)
    factors = np.array([v.call_lambda("LambdaLR", fn, int(k)) for k in t.ravel()], np.float64)
    return (lr * factors).reshape(t.shape)


def multiplicative_lr(t, lr: float, lr_lambda: Callable[[int], float]) -> np.ndarray:
    r"""MultiplicativeLR: each step multiplies the current rate by the user's factor.

    .. math:: \eta_t = \eta_0 \prod_{k=1}^{t} \lambda(k)

    ``lr_lambda(0)`` is never called: the product starts at ``k = 1``, as in torch.  The product
    is accumulated left to right, in the same order torch multiplies, so it agrees to the bit.
    """
    lr = v.lr("MultiplicativeLR", lr)
    fn = v.callable_("MultiplicativeLR", "lr_lambda", lr_lambda)
    t = v.step_indices(t)
    n = int(t.max()) + 1 if t.size else 0
    factors = [lr] + [v.call_lambda("MultiplicativeLR", fn, k) for k in range(1, n)]
    curve = np.cumprod(np.array(factors, np.float64))
    return curve[t.astype(np.int64)]


def multiplicative_update(t, lr_lambda: Callable[[int], float]):
    """The chainable form: ``lr_t = lambda(t) * lr_{t-1}`` (used by the composites)."""
    t = np.asarray(t, np.int64)
    a = np.array([v.call_lambda("MultiplicativeLR", lr_lambda, int(k)) for k in t], np.float64)
    return a, np.zeros_like(a)
