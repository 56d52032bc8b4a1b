"""Helpers for the training lessons (11-14): figures that do not hide a run behind another,
the range test's smoothing explorer, and the size of an optimizer's first step.

Nothing here trains or computes a schedule: the runs come from :mod:`lrcourse.training`, the
curves from torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["merge_identical", "smoothing_explorer", "first_step_sizes", "resume_orders",
           "RESUME_ORDERS"]

T = TypeVar("T")


def _same(a: Any, b: Any) -> bool:
    """Equal to the bit: lists element by element, arrays with ``np.array_equal``."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return bool(a == b)


def merge_identical(items: Mapping[str, T], *, joiner: str = " = ") -> dict[str, T]:
    """The same mapping, but entries whose values are identical share one label.

    Two runs that are the same bit for bit (ReduceLROnPlateau that never cut the rate, say, and
    the constant rate) would otherwise be drawn one exactly over the other, and the legend would
    name a line nobody can see.  ``{"constant": a, "StepLR": b, "ReduceLROnPlateau": a}``
    becomes ``{"constant = ReduceLROnPlateau": a, "StepLR": b}``; order follows the first label.
    Values are compared with ``==`` (element by element for lists and arrays, so a list of
    :class:`~lrcourse.training.History` compares every record of every run).
    """
    groups: list[tuple[list[str], T]] = []
    for label, value in items.items():
        for labels, kept in groups:
            if _same(kept, value):
                labels.append(label)
                break
        else:
            groups.append(([label], value))
    return {joiner.join(labels): value for labels, value in groups}


def smoothing_explorer(losses: Sequence[float], lrs: Sequence[float], *, beta: float = 0.9):
    """An explorer of the range test's smoothing: the raw losses and their bias-corrected
    moving average for the ``beta`` on the slider (steps of 0.01), with a readout of where
    each curve is lowest (step and learning rate), which is what ``beta`` moves."""
    from lrcourse.training import smooth
    from lrcourse.widgets import Range, explore_function

    losses = np.asarray(losses, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    raw_min = int(np.argmin(losses))

    def curves(beta):
        return {"smoothed": smooth(losses, beta), "raw loss": losses}

    def describe(values, drawn):
        k = int(np.argmin(drawn["smoothed"]))
        return (f"smoothed (beta = {values['beta']:.2f}) lowest at step {k}, lr = {lrs[k]:.3g}; "
                f"raw loss lowest at step {raw_min}, lr = {lrs[raw_min]:.3g}")

    return explore_function(curves, beta=Range(0.0, 0.99, beta, step=0.01), ylabel="loss",
                            describe=describe, title="loss per step of the sweep")


def first_step_sizes(optimizer: str, lr: float, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """How far one optimizer step from a fresh state moves each weight of the digits MLP.

    Returns ``(moves, grads)``: ``|w_after - w_before| / lr`` and the gradient ``g`` of the
    first batch, one entry per weight (computed in float64 so that even the smallest moves are
    measured to many digits).  For SGD (no momentum buffer yet) the move is
    ``lr * |g|``; for Adam, whose bias-corrected moments after one step are exactly ``g`` and
    ``g**2``, it is ``lr * |g| / (|g| + eps)``: about ``lr`` for every weight with a gradient.
    """
    import torch
    from torch.nn import functional as F

    from lrcourse.training import make_loaders, make_model

    model = make_model(seed=seed).double()  # float64, so that tiny moves are measured exactly
    x, y = next(iter(make_loaders(seed=seed)[0]))
    x = x.double()
    opt = getattr(torch.optim, optimizer)(model.parameters(), lr=lr)
    before = [p.detach().clone() for p in model.parameters()]
    F.cross_entropy(model(x), y).backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    opt.step()
    moves = torch.cat([(p.detach() - b).abs().flatten()
                       for p, b in zip(model.parameters(), before)])
    return (moves / lr).numpy(), grads.numpy()


#: The three ways :func:`resume_orders` compares.
RESUME_ORDERS = ("uninterrupted", "built, then loaded", "loaded, then built")


def resume_orders(make_scheduler, *, lr: float = 0.1, saved_at: int = 3,
                  steps: int = 3) -> dict[str, list[float]]:
    """The rates of ``steps`` steps after a save at step ``saved_at``, resumed in two orders.

    ``make_scheduler(optimizer)`` builds the scheduler (default ``last_epoch=-1`` both times)::

        # "built, then loaded" (the recipe)      # "loaded, then built"
        opt = SGD(...); sched = make(opt)        opt = SGD(...); opt.load_state_dict(o)
        opt.load_state_dict(o)                   sched = make(opt)
        sched.load_state_dict(s)                 sched.load_state_dict(s)

    ``"uninterrupted"`` carries on with the original objects.  Rates are read from
    ``optimizer.param_groups[0]["lr"]`` before each ``optimizer.step()``.
    """
    import torch

    def fresh():
        return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)

    def next_rates(opt, sched, n):
        rates = []
        for _ in range(n):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return rates

    opt = fresh()
    sched = make_scheduler(opt)
    next_rates(opt, sched, saved_at)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    out = {"uninterrupted": next_rates(opt, sched, steps)}

    opt = fresh()
    sched = make_scheduler(opt)
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    out["built, then loaded"] = next_rates(opt, sched, steps)

    opt = fresh()
    opt.load_state_dict(saved_opt)
    sched = make_scheduler(opt)
    sched.load_state_dict(saved_sched)
    out["loaded, then built"] = next_rates(opt, sched, steps)
    return out
