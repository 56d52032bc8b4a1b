"""Schedules of other libraries in torch (lesson 16): recipes from torch's classes, and checks.

The closed forms live in :mod:`lrcourse.schedules.huggingface` and
:mod:`lrcourse.schedules.timm_cosine_lr`, with a ``LambdaLR`` recipe for each (transformers'
signatures) and ``SequentialLR`` recipes for the warm-up + linear and warm-up + cosine schedules
and for timm's simple case.  This module adds three more recipes from torch's own classes, each
the exact equivalent of a transformers schedule in a range of its parameters:

* :func:`hard_restarts_sequential`: ``get_cosine_with_hard_restarts_schedule_with_warmup``
  is ``CosineAnnealingWarmRestarts`` with ``T_0 = (T - W) / num_cycles``, cut to 0 at ``T``
  (when ``num_cycles`` divides ``T - W``);
* :func:`polynomial_sequential`: ``get_polynomial_decay_schedule_with_warmup`` with
  ``lr_end=0`` is ``PolynomialLR`` after the warm-up;
* :func:`wsd_sequential`: ``get_wsd_schedule`` with linear warm-up and decay and
  ``min_lr_ratio > 0`` is ``LinearLR``, ``ConstantLR(factor=1)``, ``LinearLR``.

and the lesson's one-line checks: :func:`check_recipes` (closed form vs torch recipes, printed
and asserted) and :func:`compare_with_library` / :func:`compare_cases_with_library` (closed
form vs the real transformers or timm when installed; a line saying what was skipped
otherwise).  Nothing here evaluates a formula: the curves come from
:func:`lrcourse.schedules.lr_curve`, from stepping torch, or from the libraries themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from torch.optim import Optimizer
from torch.optim.lr_scheduler import (ConstantLR, CosineAnnealingWarmRestarts, LambdaLR, LinearLR,
                                      LRScheduler, PolynomialLR, SequentialLR)

from lrcourse import reference
from lrcourse.schedules import LIBRARY_SCHEDULERS, lr_curve

__all__ = ["RTOL", "library_of", "describe", "check_recipes",
           "library_curve", "compare_with_library", "compare_cases_with_library",
           "hard_restarts_sequential",
           "polynomial_sequential", "wsd_sequential", "NOT_INSTALLED"]

RTOL = 1e-9

#: What :func:`compare_with_library` prints when the library is missing.
NOT_INSTALLED = "{library} not installed: compared with the torch recipe only"

Build = Callable[[Optimizer], Any]


def library_of(name: str) -> str:
    """The library a schedule of :data:`lrcourse.schedules.LIBRARY_SCHEDULERS` belongs to."""
    for library, names in LIBRARY_SCHEDULERS.items():
        if name in names:
            return library
    raise ValueError(f"{name!r} is not a schedule of another library; known: "
                     f"{', '.join(n for names in LIBRARY_SCHEDULERS.values() for n in names)}")


# ---------------------------------------------------------------------------------------------
# checking a recipe (stepped by lrcourse.reference.scheduler_curve, whose optimizer's default
# rate is the first group's, as transformers' polynomial schedule needs)
# ---------------------------------------------------------------------------------------------

def describe(scheduler: LRScheduler) -> str:
    """A scheduler's class, with its members for a composite: ``SequentialLR(LambdaLR,
    LinearLR)``."""
    members = getattr(scheduler, "_schedulers", None)
    name = type(scheduler).__name__
    if not members:
        return name
    return f"{name}({', '.join(describe(m) for m in members)})"


def _close(got: np.ndarray, truth: np.ndarray) -> tuple[bool, int]:
    atol = 1e-14 * float(np.max(np.abs(truth), initial=0.0))
    bad = ~np.isclose(got, truth, rtol=RTOL, atol=atol)
    return (not bad.any()), (int(np.argwhere(bad)[0][0]) if bad.any() else -1)


def check_recipes(name: str, steps: int, lr: float, recipes: Mapping[str, Build],
                  lrs: Sequence[float] | None = None, **kwargs: Any) -> None:
    """Assert that each torch recipe gives the closed form ``lr_curve(name, steps, lr,
    **kwargs)`` at every step (rtol 1e-9), and print one line per recipe.

    ``recipes`` maps a label (where the recipe comes from) to ``build(optimizer)``.  With
    ``lrs`` the recipes run on one group per rate (the first is ``lr``) and each group is
    compared with the closed form at its own rate.
    """
    lrs = list(lrs) if lrs is not None else [lr]
    if lrs[0] != lr:
        raise ValueError("the first group's rate must be lr")
    extra = ({"lr_init": lr} if name == "get_polynomial_decay_schedule_with_warmup" else {})
    closed = np.stack([lr_curve(name, steps, g, **kwargs, **extra) for g in lrs], axis=1)
    for label, build in recipes.items():
        holder: list[str] = []

        def building(optimizer, build=build):
            scheduler = build(optimizer)
            holder.append(describe(scheduler))
            return scheduler

        truth = reference.scheduler_curve(building, steps, lrs)
        ok, k = _close(closed, truth)
        if not ok:
            raise AssertionError(f"{name}: closed form {closed[k]!r} != {label} {truth[k]!r} "
                                 f"at step {k}")
        groups = f", {len(lrs)} groups" if len(lrs) > 1 else ""
        print(f"{name}: closed form == {holder[0]} ({label}) on all {steps} steps{groups}")


# ---------------------------------------------------------------------------------------------
# the real libraries
# ---------------------------------------------------------------------------------------------

def library_curve(name: str, steps: int, lr: float, **kwargs: Any) -> np.ndarray:
    """The rates of the real library's schedule ``name`` (transformers stepped once per optimizer
    step; timm stepped as its ``train.py`` steps it).  Raises ImportError when it is missing."""
    if library_of(name) == "transformers":
        return reference.transformers_curve(name, steps, lr, **kwargs)
    if library_of(name) == "timm":
        return reference.timm_cosine_curve(steps, lr, **kwargs)
    raise ValueError(f"{name}: the real library is torch itself; use lrcourse.reference")


def compare_with_library(name: str, steps: int, lr: float, **kwargs: Any) -> bool:
    """Compare the closed form with the real library when it is installed: assert that they
    agree at every step and say so; otherwise print :data:`NOT_INSTALLED` (the course never
    needs the library).  Returns whether the library was compared with."""
    library = library_of(name)
    if reference.missing_library(library) is not None:
        print(NOT_INSTALLED.format(library=library))
        return False
    truth = library_curve(name, steps, lr, **kwargs)
    ours = lr_curve(name, steps, lr, **kwargs)
    ok, k = _close(ours, truth)
    if not ok:
        raise AssertionError(f"{name}: closed form {ours[k]!r} != {library} {truth[k]!r} "
                             f"at step {k}")
    print(f"{name}: closed form == {library} {reference.LIBRARY_VERSIONS[library]} "
          f"on all {steps} steps")
    return True


def compare_cases_with_library(cases: Sequence[tuple[str, Mapping[str, Any]]], steps: int,
                               lr: float) -> int:
    """:func:`compare_with_library` for each ``(name, kwargs)`` of ``cases``; a library that is
    missing is named once (:data:`NOT_INSTALLED`), not once per case.  Returns how many cases
    were compared with their library."""
    missing = []
    for library in dict.fromkeys(library_of(name) for name, _ in cases):
        if reference.missing_library(library) is not None:
            missing.append(library)
            print(NOT_INSTALLED.format(library=library))
    compared = 0
    for name, kwargs in cases:
        if library_of(name) not in missing:
            compared += compare_with_library(name, steps, lr, **kwargs)
    return compared


# ---------------------------------------------------------------------------------------------
# recipes from torch's classes
# ---------------------------------------------------------------------------------------------

def _warmup(optimizer: Optimizer, num_warmup_steps: int) -> LambdaLR:
    """transformers' warm-up t / W, which LinearLR cannot give (it refuses start_factor=0)."""
    if num_warmup_steps < 1:
        raise ValueError("the SequentialLR recipes need num_warmup_steps >= 1 (a milestone >= 1);"
                         " without warm-up use the second member alone")
    return LambdaLR(optimizer, lambda t: t / num_warmup_steps)


def hard_restarts_sequential(optimizer: Optimizer, num_warmup_steps: int,
                             num_training_steps: int, num_cycles: int) -> SequentialLR:
    """``get_cosine_with_hard_restarts_schedule_with_warmup`` from torch's classes: the warm-up,
    then ``CosineAnnealingWarmRestarts(T_0=(T - W) // num_cycles)``, then 0 from step ``T`` on.

    Exact when ``num_cycles`` divides ``T - W`` (``T_0`` must be a whole number) and
    transformers' rounding keeps every restart (see the closed form's docstring).
    """
    W, T, c = num_warmup_steps, num_training_steps, num_cycles
    if c < 1 or (T - W) % c:
        raise ValueError(f"num_cycles ({c}) must divide num_training_steps - num_warmup_steps "
                         f"({T - W}): CosineAnnealingWarmRestarts needs a whole T_0")
    members = [_warmup(optimizer, W),
               CosineAnnealingWarmRestarts(optimizer, T_0=(T - W) // c),
               LambdaLR(optimizer, lambda t: 0.0)]
    return SequentialLR(optimizer, members, milestones=[W, T])


def polynomial_sequential(optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                          power: float = 1.0) -> SequentialLR:
    """``get_polynomial_decay_schedule_with_warmup(..., lr_end=0)`` from torch's classes: the
    warm-up, then ``PolynomialLR(total_iters=T - W, power=power)``, which holds 0 after it."""
    W, T = num_warmup_steps, num_training_steps
    members = [_warmup(optimizer, W), PolynomialLR(optimizer, total_iters=T - W, power=power)]
    return SequentialLR(optimizer, members, milestones=[W])


def wsd_sequential(optimizer: Optimizer, num_warmup_steps: int, num_stable_steps: int,
                   num_decay_steps: int, min_lr_ratio: float) -> SequentialLR:
    """``get_wsd_schedule`` with ``warmup_type="linear"``, ``decay_type="linear"`` and
    ``min_lr_ratio = r > 0`` from torch's classes: ``LinearLR`` from ``r`` to 1 over ``W``
    steps, ``ConstantLR(factor=1)`` for ``S``, ``LinearLR`` from 1 to ``r`` over ``D``, which
    holds ``r`` after it.  (``LinearLR`` refuses a start factor of 0, so ``r`` must be > 0.)"""
    W, S, D, r = num_warmup_steps, num_stable_steps, num_decay_steps, min_lr_ratio
    if W < 1 or D < 1:
        raise ValueError("the SequentialLR recipe needs num_warmup_steps >= 1 and "
                         "num_decay_steps >= 1")
    members = [LinearLR(optimizer, start_factor=r, end_factor=1.0, total_iters=W),
               ConstantLR(optimizer, factor=1.0, total_iters=max(1, S)),
               LinearLR(optimizer, start_factor=1.0, end_factor=r, total_iters=D)]
    return SequentialLR(optimizer, members, milestones=[W, W + S])
