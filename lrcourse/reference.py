"""Ground truth: learning-rate curves measured by stepping a real torch scheduler.

:func:`lr_curve` has the same signature as :func:`lrcourse.schedules.lr_curve`, but instead of
evaluating a formula it builds a one-parameter SGD optimizer, wraps it in the named
``torch.optim.lr_scheduler`` class and runs the loop every training script runs::

    for k in range(steps):
        curve[k] = optimizer.param_groups[0]["lr"]   # the lr used by the k-th step
        optimizer.step()
        scheduler.step()                             # scheduler.step(metrics[k]) for plateau

``optimizer.step()`` comes before ``scheduler.step()``, so torch raises no ordering warning, and
any warning torch emits while a curve is measured is raised as an error (:func:`strict_warnings`),
with one exception on torch older than 2.9: there ``SequentialLR.step()`` itself calls
``scheduler.step(0)`` at each milestone, which warns that the epoch argument is deprecated (the
rates are the same; torch 2.9 calls an internal method instead).
After the last value is read the loop stops, so an OneCycleLR curve may be one element longer
than ``total_steps`` (the extrapolated value torch holds after the last batch).

Composite schedulers take their members as ``(name, kwargs)`` pairs::

    lr_curve("SequentialLR", 100, 0.1,
             schedulers=[("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
                         ("CosineAnnealingLR", {"T_max": 90})],
             milestones=[10])
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.optim import lr_scheduler

__all__ = ["lr_curve", "momentum_curve", "group_lr_curves", "scheduler_curve", "lr_at_epochs",
           "make_scheduler", "make_optimizer", "strict_warnings"]

COMPOSITES = ("SequentialLR", "ChainedScheduler")

# torch < 2.9: SequentialLR.step() calls scheduler.step(0) at each milestone, and torch warns
# (UserWarning) that passing an epoch is deprecated.  This is the start of that message.
STEP0_DEPRECATION = "The epoch parameter in `scheduler.step()` was not necessary"
SEQUENTIAL_STEPS_WITH_EPOCH = tuple(
    int(part) for part in re.findall(r"\d+", torch.__version__)[:2]) < (2, 9)


@contextmanager
def strict_warnings() -> Iterator[None]:
    """Every warning raised inside is an error, except, on torch < 2.9 only, the epoch
    deprecation warning that SequentialLR's own ``step()`` causes there."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if SEQUENTIAL_STEPS_WITH_EPOCH:
            warnings.filterwarnings("ignore", message=re.escape(STEP0_DEPRECATION),
                                    category=UserWarning)
        yield


def make_optimizer(lr: float, momentum: float = 0.0) -> torch.optim.SGD:
    """A one-parameter SGD optimizer: all a scheduler needs to drive."""
    param = torch.zeros(1, requires_grad=True)
    return torch.optim.SGD([param], lr=lr, momentum=momentum)


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, **kwargs: Any):
    """Build ``torch.optim.lr_scheduler.<name>(optimizer, **kwargs)``.

    For SequentialLR and ChainedScheduler, ``schedulers`` is a list of ``(name, kwargs)``
    pairs; the members are built in order on the same optimizer, as a user would.
    """
    cls = getattr(lr_scheduler, name, None)
    if cls is None or not isinstance(cls, type):
        raise ValueError(f"torch.optim.lr_scheduler has no scheduler called {name!r}")
    if name in COMPOSITES:
        kwargs = dict(kwargs)
        members = [make_scheduler(n, optimizer, **kw) for n, kw in kwargs.pop("schedulers")]
        if name == "ChainedScheduler":
            return cls(members, **kwargs)
        return cls(optimizer, members, **kwargs)
    return cls(optimizer, **kwargs)


def _run(
    name: str, steps: int, lr: float, read: Callable[[torch.optim.Optimizer], float], **kwargs
) -> np.ndarray:
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    kwargs = dict(kwargs)
    metrics: Sequence[float] | None = kwargs.pop("metrics", None)
    if name == "ReduceLROnPlateau":
        if metrics is None or len(metrics) != steps:
            raise ValueError("ReduceLROnPlateau needs metrics=, one value per step")
    optimizer = make_optimizer(lr)
    curve = np.empty(steps, dtype=np.float64)
    with strict_warnings():  # the loop is written in the order torch asks for
        scheduler = make_scheduler(name, optimizer, **kwargs)
        for k in range(steps):
            curve[k] = read(optimizer)
            if k == steps - 1:
                break
            optimizer.step()
            if metrics is not None:
                scheduler.step(metrics[k])
            else:
                scheduler.step()
    return curve


def lr_curve(name: str, steps: int, lr: float, **kwargs: Any) -> np.ndarray:
    """The learning rate of each of ``steps`` optimizer steps, as torch computes it."""
    return _run(name, steps, lr, lambda opt: float(opt.param_groups[0]["lr"]), **kwargs)


def momentum_curve(name: str, steps: int, lr: float, **kwargs: Any) -> np.ndarray:
    """The momentum (SGD's ``momentum``) of each step, for CyclicLR and OneCycleLR."""
    if name not in ("CyclicLR", "OneCycleLR"):
        raise ValueError(f"only CyclicLR and OneCycleLR cycle momentum, not {name}")
    return _run(name, steps, lr, lambda opt: float(opt.param_groups[0]["momentum"]), **kwargs)


def scheduler_curve(build: Callable[[torch.optim.Optimizer], Any], steps: int,
                    lrs: Sequence[float] = (0.1,)) -> np.ndarray:
    """The rates of any torch scheduler ``build(optimizer)``, one column per parameter group.

    The optimizer is SGD with one single-parameter group per entry of ``lrs``.  Row ``k``
    holds the rates the ``k``-th optimizer step used (read before the ``k``-th
    ``scheduler.step()``): shape ``(steps, len(lrs))``.
    """
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": g} for p, g in zip(params, lrs)])
    curves = np.empty((steps, len(lrs)), dtype=np.float64)
    with strict_warnings():
        scheduler = build(optimizer)
        for k in range(steps):
            curves[k] = [group["lr"] for group in optimizer.param_groups]
            optimizer.step()
            scheduler.step()
    return curves


def group_lr_curves(name: str, steps: int, lrs: Sequence[float], **kwargs: Any) -> np.ndarray:
    """One learning-rate curve per parameter group: shape ``(steps, len(lrs))``.

    Each group starts at its own rate in ``lrs``; per-group arguments (such as a list of
    ``lr_lambda`` functions) are passed through to torch unchanged.
    """
    return scheduler_curve(lambda optimizer: make_scheduler(name, optimizer, **kwargs), steps, lrs)


def lr_at_epochs(name: str, epochs: Sequence[float], lr: float, **kwargs: Any) -> np.ndarray:
    """The rate after ``scheduler.step(epoch)`` for each (possibly fractional) epoch given.

    Only CosineAnnealingWarmRestarts accepts an explicit epoch without a deprecation warning;
    it is how SGDR is stepped several times per epoch (``epoch + i / iters``).
    """
    optimizer = make_optimizer(lr)
    curve = np.empty(len(epochs), dtype=np.float64)
    with strict_warnings():
        scheduler = make_scheduler(name, optimizer, **kwargs)
        for k, epoch in enumerate(epochs):
            optimizer.step()
            scheduler.step(epoch)
            curve[k] = optimizer.param_groups[0]["lr"]
    return curve
