r"""ReduceLROnPlateau: cut the rate when a monitored metric stops improving.

This one is a state machine, not a formula of the step: the rate at step ``k`` depends on the
metrics of steps ``0 .. k-1``.  It is written as a plain loop over the metrics, one line per
rule, in the order torch applies them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import _validate as v


def is_better(a: float, best: float, mode: str, threshold_mode: str, threshold: float) -> bool:
    r"""Whether ``a`` counts as an improvement on ``best``.

    ============  ==================================  ==================================
    mode          threshold_mode="rel"                threshold_mode="abs"
    ============  ==================================  ==================================
    ``"min"``     :math:`a < \text{best}(1 - \tau)`   :math:`a < \text{best} - \tau`
    ``"max"``     :math:`a > \text{best}(1 + \tau)`   :math:`a > \text{best} + \tau`
    ============  ==================================  ==================================

    In ``rel`` mode with negative metrics the threshold works the other way round, as in torch.
    """
    if mode == "min":
        return a < best * (1.0 - threshold) if threshold_mode == "rel" else a < best - threshold
    return a > best * (threshold + 1.0) if threshold_mode == "rel" else a > best + threshold


def reduce_lr_on_plateau(
    t,
    lr: float,
    metrics: Sequence[float],
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> np.ndarray:
    r"""ReduceLROnPlateau driven by ``metrics[k]``, the value passed to ``step()`` after step k.

    After each metric: an improvement (see :func:`is_better`) becomes the new best and clears
    the count of bad epochs; otherwise the count grows.  During a cooldown the count is kept at
    0.  When the count exceeds ``patience``:

    .. math:: \eta \leftarrow \max(\eta \cdot \text{factor},\ \text{min\_lr})

    (skipped if it would change the rate by less than ``eps``), then a cooldown of
    ``cooldown`` steps starts.  ``metrics`` has one value per step; the last one would only
    affect the step after the curve, so it is checked but not used.
    """
    name = "ReduceLROnPlateau"
    lr = v.lr(name, lr)
    v.choice(name, "mode", mode, ("min", "max"))
    v.choice(name, "threshold_mode", threshold_mode, ("rel", "abs"))
    factor = v.real(name, "factor", factor, low=0.0, high=1.0, high_open=True)
    patience = v.integer(name, "patience", patience, minimum=0)
    threshold = v.real(name, "threshold", threshold, low=0.0)
    cooldown = v.integer(name, "cooldown", cooldown, minimum=0)
    if isinstance(min_lr, (list, tuple)):
        v.fail(name, "min_lr must be one number here (lr_curve draws one parameter group)")
    min_lr = v.real(name, "min_lr", min_lr, low=0.0)
    eps = v.real(name, "eps", eps, low=0.0)
    t = v.step_indices(t)
    n = int(t.max()) + 1 if t.size else 0
    metrics = _metrics(metrics, n)

    curve = np.empty(n, np.float64)
    best = math.inf if mode == "min" else -math.inf
    bad_epochs = cooldown_left = 0
    for k in range(n):
        curve[k] = lr
        current = metrics[k]
        if is_better(current, best, mode, threshold_mode, threshold):
            best, bad_epochs = current, 0
        else:
            bad_epochs += 1
        if cooldown_left > 0:
            cooldown_left -= 1
            bad_epochs = 0
        if bad_epochs > patience:
            new_lr = max(lr * factor, min_lr)
            if lr - new_lr > eps:
                lr = new_lr
            cooldown_left, bad_epochs = cooldown, 0
    return curve[t.astype(np.int64)]


def _metrics(metrics, n: int) -> list[float]:
    name = "ReduceLROnPlateau"
    if metrics is None:
        v.fail(name, "metrics= is required: the validation metric of each step, e.g. val losses")
    try:
        values = [float(m) for m in metrics]
    except (TypeError, ValueError):
        v.fail(name, "metrics must be a sequence of numbers (one per step)")
    if len(values) != n:
        v.fail(name, f"metrics must have one value per step: {n} steps but {len(values)} "
                     "metrics were given")
    return values
