"""Ready-made composite schedules for the chaining lesson and its explorers.

The composites themselves are :func:`lrcourse.schedules.lr_curve` with ``"SequentialLR"`` or
``"ChainedScheduler"``; this module only builds their ``schedulers=[(name, kwargs), ...]``
arguments from a few numbers, and puts the two ways of combining the *same* members side by
side:

* SequentialLR hands over: member ``i`` runs alone between milestones, from its own start;
* ChainedScheduler multiplies: every member is stepped at every step, their factors compound.
"""

from __future__ import annotations

import numpy as np

from lrcourse.schedules import lr_curve

__all__ = ["warmup_cosine", "sequential_curves", "chained_curves"]


def warmup_cosine(warmup: int, total: int, *, start_factor: float = 0.1,
                  eta_min: float = 0.0, total_iters: int | None = None,
                  T_max: int | None = None) -> dict:
    """SequentialLR keyword arguments for a linear warm-up over ``warmup`` steps, then a cosine
    decay to ``eta_min`` at step ``total``.

    The matching settings are the defaults: the warm-up's ``total_iters`` equals the milestone
    (``warmup``) and the cosine's ``T_max`` is the rest of the run (``total - warmup``).  Pass
    ``total_iters`` or ``T_max`` to see what a mismatch does.

        >>> warmup_cosine(5, 20)["milestones"]
        [5]
    """
    if not 1 <= warmup < total:
        raise ValueError(f"need 1 <= warmup < total, got warmup={warmup}, total={total}")
    return dict(
        schedulers=[("LinearLR", dict(start_factor=start_factor, end_factor=1.0,
                                      total_iters=warmup if total_iters is None else total_iters)),
                    ("CosineAnnealingLR", dict(T_max=total - warmup if T_max is None else T_max,
                                               eta_min=eta_min))],
        milestones=[warmup],
    )


def sequential_curves(steps: int = 100, lr: float = 0.1, *, milestone: int = 10,
                      total_iters: int = 10, T_max: int = 90, start_factor: float = 0.1,
                      eta_min: float = 0.0) -> dict[str, np.ndarray]:
    """LinearLR then CosineAnnealingLR handed over at ``milestone`` (SequentialLR), beside the
    same two members multiplied at every step (ChainedScheduler)."""
    kwargs = warmup_cosine(milestone, milestone + T_max, start_factor=start_factor,
                           eta_min=eta_min, total_iters=total_iters, T_max=T_max)
    return {
        "SequentialLR (hand over)": lr_curve("SequentialLR", steps, lr, **kwargs),
        "ChainedScheduler (multiply)": lr_curve("ChainedScheduler", steps, lr,
                                                schedulers=kwargs["schedulers"]),
    }


def chained_curves(steps: int = 100, lr: float = 0.1, *, gamma: float = 0.98,
                   milestones: tuple[int, ...] = (30, 70), step_gamma: float = 0.1
                   ) -> dict[str, np.ndarray]:
    """ExponentialLR(``gamma``) chained with MultiStepLR(``milestones``, ``step_gamma``), and each
    member alone: the chain is their product divided by ``lr``."""
    exp = ("ExponentialLR", dict(gamma=gamma))
    multi = ("MultiStepLR", dict(milestones=list(milestones), gamma=step_gamma))
    return {
        "ChainedScheduler": lr_curve("ChainedScheduler", steps, lr, schedulers=[exp, multi]),
        "ExponentialLR alone": lr_curve(exp[0], steps, lr, **exp[1]),
        "MultiStepLR alone": lr_curve(multi[0], steps, lr, **multi[1]),
    }
