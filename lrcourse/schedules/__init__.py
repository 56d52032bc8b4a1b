r"""Closed-form learning-rate schedules that agree with ``torch.optim.lr_scheduler``.

A *schedule* is a pure function from step indices to learning rates (numpy in, numpy out, no
hidden state), in the style of optax: ``f(t, lr, **params) -> ndarray``.  There is one per torch
scheduler, named after it, in a module per family:

===============================  ==========================================================
module                           schedules
===============================  ==========================================================
:mod:`.lambdas`                  ``lambda_lr``, ``multiplicative_lr``
:mod:`.piecewise`                ``step_lr``, ``multistep_lr``, ``constant_lr``
:mod:`.decay`                    ``linear_lr``, ``exponential_lr``, ``polynomial_lr``
:mod:`.cosine`                   ``cosine_annealing_lr``, ``cosine_annealing_warm_restarts``
:mod:`.cyclic`                   ``cyclic_lr``, ``one_cycle_lr`` (and their momentum curves)
:mod:`.plateau`                  ``reduce_lr_on_plateau``
:mod:`.compose`                  ``sequential_lr``, ``chained_scheduler``
:mod:`.modern`                   ``warmup_cosine``, ``warmup_stable_decay``, ``inverse_sqrt``
:mod:`.swa`                      ``swalr`` (``torch.optim.swa_utils.SWALR``, alone or after
                                 another schedule)
:mod:`.huggingface`              ``linear_schedule_with_warmup``,
                                 ``cosine_schedule_with_warmup``,
                                 ``cosine_with_hard_restarts_schedule_with_warmup``,
                                 ``polynomial_decay_schedule_with_warmup``,
                                 ``inverse_sqrt_schedule``, ``wsd_schedule`` (transformers)
:mod:`.timm_cosine_lr`           ``timm_cosine`` (timm's ``CosineLRScheduler``)
===============================  ==========================================================

The schedules of other libraries are registered under the name their library gives them:
``"SWALR"``, transformers' function names (``"get_cosine_schedule_with_warmup"``, ...) and
``"CosineLRScheduler"`` (see :data:`LIBRARY_SCHEDULERS`); their keyword arguments are the
library's own.  :mod:`.modern`, :mod:`.huggingface` and :mod:`.timm_cosine_lr` also hold *torch
recipes*: functions that build the same schedule on an optimizer from torch's classes.

The uniform entry point takes torch's class name and keyword arguments::

    >>> lr_curve("StepLR", 6, 0.05, step_size=2, gamma=0.1)
    array([0.05  , 0.05  , 0.005 , 0.005 , 0.0005, 0.0005])

Element ``k`` is the learning rate the optimizer uses for its ``k``-th step, i.e.
``optimizer.param_groups[0]["lr"]`` read before the ``k``-th ``scheduler.step()`` in a loop
that calls ``optimizer.step()`` then ``scheduler.step()``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _validate as v
from .compose import chained_scheduler, sequential_lr
from .cosine import cosine_annealing_lr, cosine_annealing_warm_restarts
from .cyclic import cyclic_lr, cyclic_momentum, one_cycle_lr, one_cycle_momentum
from .decay import exponential_lr, linear_lr, polynomial_lr
from .lambdas import lambda_lr, multiplicative_lr
from .piecewise import constant_lr, multistep_lr, step_lr
from .plateau import reduce_lr_on_plateau

Schedule = Callable[..., np.ndarray]

#: torch class name -> closed-form schedule ``f(t, lr, **torch_kwargs)``.
SCHEDULES: dict[str, Schedule] = {
    "LambdaLR": lambda_lr,
    "MultiplicativeLR": multiplicative_lr,
    "StepLR": step_lr,
    "MultiStepLR": multistep_lr,
    "ConstantLR": constant_lr,
    "LinearLR": linear_lr,
    "ExponentialLR": exponential_lr,
    "PolynomialLR": polynomial_lr,
    "CosineAnnealingLR": cosine_annealing_lr,
    "CosineAnnealingWarmRestarts": cosine_annealing_warm_restarts,
    "CyclicLR": cyclic_lr,
    "OneCycleLR": one_cycle_lr,
    "ReduceLROnPlateau": reduce_lr_on_plateau,
    "SequentialLR": sequential_lr,
    "ChainedScheduler": chained_scheduler,
}

#: The torch schedulers, in the order the course teaches them.
TORCH_SCHEDULERS: tuple[str, ...] = tuple(SCHEDULES)

#: Schedulers that also cycle momentum -> their momentum curve.
MOMENTUM_SCHEDULES: dict[str, Schedule] = {
    "CyclicLR": cyclic_momentum,
    "OneCycleLR": one_cycle_momentum,
}

try:  # recipes torch does not ship as classes (warm-up + cosine, WSD, inverse square root)
    from .modern import inverse_sqrt, warmup_cosine, warmup_stable_decay

    SCHEDULES.update(
        WarmupCosine=warmup_cosine,
        WarmupStableDecay=warmup_stable_decay,
        InverseSqrt=inverse_sqrt,
    )
except ImportError:  # pragma: no cover - the module is added alongside this one
    pass

from .huggingface import TRANSFORMERS_NAMES  # noqa: E402
from .swa import swalr  # noqa: E402
from .timm_cosine_lr import timm_cosine  # noqa: E402

SCHEDULES["SWALR"] = swalr
SCHEDULES.update(TRANSFORMERS_NAMES)
SCHEDULES["CosineLRScheduler"] = timm_cosine

#: Schedulers that are not ``torch.optim.lr_scheduler`` classes, by the library that ships them
#: (all in ``SCHEDULES``; ``TORCH_SCHEDULERS`` keeps meaning the ``lr_scheduler`` classes).
LIBRARY_SCHEDULERS: dict[str, tuple[str, ...]] = {
    "torch.optim.swa_utils": ("SWALR",),
    "transformers": tuple(TRANSFORMERS_NAMES),
    "timm": ("CosineLRScheduler",),
}

_TORCH_ONLY_ARGS = {
    "optimizer": "lr_curve builds no optimizer: pass the optimizer's learning rate as lr",
    "last_epoch": "lr_curve always draws the schedule from its start (last_epoch=-1)",
    "verbose": "torch removed verbose; lr_curve prints nothing",
}


def _lookup(name: str, table: dict[str, Schedule]) -> Schedule:
    if not isinstance(name, str) or name not in table:
        hint = v.suggest(str(name), table)
        raise ValueError(
            f"unknown scheduler {name!r}. Known: {', '.join(table)}"
            if not hint else f"unknown scheduler {name!r}{hint}"
        )
    return table[name]


def _bind(name: str, fn: Schedule, kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments the scheduler does not take, with a hint."""
    params = [p for p in inspect.signature(fn).parameters if p not in ("t", "lr")]
    for key in kwargs:
        if key in params:
            continue
        if key in _TORCH_ONLY_ARGS:
            raise ValueError(f"{name}: {key} is not accepted here; {_TORCH_ONLY_ARGS[key]}")
        raise ValueError(
            f"{name} has no parameter {key!r}{v.suggest(key, params)} "
            f"It takes: {', '.join(params)}"
        )
    missing = [
        p for p, spec in inspect.signature(fn).parameters.items()
        if p not in ("t", "lr") and spec.default is inspect.Parameter.empty and p not in kwargs
    ]
    if missing:
        raise ValueError(f"{name} needs {', '.join(missing)}")


def _evaluate(table: dict[str, Schedule], name: str, steps: int, lr: float, kwargs) -> np.ndarray:
    fn = _lookup(name, table)
    n = v.steps(steps)
    _bind(name, fn, kwargs)
    curve = fn(np.arange(n), lr, **kwargs)
    return np.asarray(curve, dtype=np.float64).reshape(n)


def lr_curve(name: str, steps: int, lr: float, **kwargs: Any) -> np.ndarray:
    """The learning rate of each of ``steps`` optimizer steps under torch's scheduler ``name``.

    ``name`` is a key of ``SCHEDULES``: a torch class name, a modern recipe, or the name another
    library gives its schedule (``"SWALR"``, ``"get_cosine_schedule_with_warmup"``,
    ``"CosineLRScheduler"``, see ``LIBRARY_SCHEDULERS``).
    ``kwargs`` are the scheduler's own keyword arguments, named as its library names them.  For
    SequentialLR and ChainedScheduler, ``schedulers`` is a list of ``(name, kwargs)`` pairs; for
    ReduceLROnPlateau, ``metrics`` is the value passed to ``step()`` after each step; for
    LambdaLR and MultiplicativeLR, ``lr_lambda`` is a callable of the epoch index.

    Returns a float64 array of shape ``(steps,)``.  Invalid arguments raise ValueError naming
    the parameter and what it accepts.
    """
    return _evaluate(SCHEDULES, name, steps, lr, kwargs)


def momentum_curve(name: str, steps: int, lr: float, **kwargs: Any) -> np.ndarray:
    """The momentum CyclicLR or OneCycleLR sets at each step (``cycle_momentum=True``)."""
    return _evaluate(MOMENTUM_SCHEDULES, name, steps, lr, kwargs)


def schedule(name: str, lr: float, **kwargs: Any) -> Schedule:
    """The schedule as a function of the step alone, optax style: ``schedule(...)(t)``.

        >>> warm = schedule("LinearLR", 0.1, start_factor=0.1, total_iters=10)
        >>> warm(np.arange(3))
        array([0.01, 0.019, 0.028])
    """
    fn = _lookup(name, SCHEDULES)
    _bind(name, fn, kwargs)
    return functools.partial(fn, lr=lr, **kwargs)


__all__ = [
    "SCHEDULES", "TORCH_SCHEDULERS", "LIBRARY_SCHEDULERS", "MOMENTUM_SCHEDULES", "lr_curve",
    "momentum_curve", "schedule", "lambda_lr", "multiplicative_lr", "step_lr", "multistep_lr",
    "constant_lr", "linear_lr", "exponential_lr", "polynomial_lr", "cosine_annealing_lr",
    "cosine_annealing_warm_restarts", "cyclic_lr", "cyclic_momentum", "one_cycle_lr",
    "one_cycle_momentum", "reduce_lr_on_plateau", "sequential_lr", "chained_scheduler",
    "swalr", "timm_cosine",
]
