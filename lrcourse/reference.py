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
           "make_scheduler", "make_optimizer", "group_optimizer", "strict_warnings"]

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


def group_optimizer(lrs: Sequence[float]) -> torch.optim.SGD:
    """SGD with one single-parameter group per rate in ``lrs``, as a user builds it:
    ``SGD([{"params": ..., "lr": r} for r in lrs], lr=lrs[0])``.

    The optimizer's default rate (``optimizer.defaults["lr"]``, the ``lr`` given to its
    constructor) is the first group's, not SGD's own default of 1e-3: transformers'
    ``get_polynomial_decay_schedule_with_warmup`` decays relative to it.
    """
    lrs = [float(g) for g in lrs]
    if not lrs:
        raise ValueError("lrs must hold at least one rate (one parameter group per rate)")
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": g} for p, g in zip(params, lrs)], lr=lrs[0])


def scheduler_curve(build: Callable[[torch.optim.Optimizer], Any], steps: int,
                    lrs: Sequence[float] = (0.1,)) -> np.ndarray:
    """The rates of any torch scheduler ``build(optimizer)``, one column per parameter group.

    The optimizer is :func:`group_optimizer` ``(lrs)``: SGD with one single-parameter group per
    entry of ``lrs``, its default rate the first.  Row ``k`` holds the rates the ``k``-th
    optimizer step used (read before the ``k``-th ``scheduler.step()``): shape
    ``(steps, len(lrs))``.  Any warning torch emits is an error (:func:`strict_warnings`).
    """
    optimizer = group_optimizer(lrs)
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


# ---------------------------------------------------------------------------------------------
# Beyond torch.optim.lr_scheduler: SWALR, and the real transformers and timm when installed
# ---------------------------------------------------------------------------------------------

def _as_groups(lr) -> tuple[list[float], bool]:
    if isinstance(lr, (list, tuple, np.ndarray)):
        return [float(x) for x in lr], True
    return [float(lr)], False


def swalr_curve(steps: int, lr, swa_lr, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                swa_start: int = 0, scheduler: tuple[str, dict[str, Any]] | None = None
                ) -> np.ndarray:
    """The rates of the SWA recipe, by stepping a real ``torch.optim.swa_utils.SWALR``.

    The loop of torch's documentation: the first scheduler (``scheduler``, a ``(name, kwargs)``
    pair of an ``lr_scheduler`` class, or none) and SWALR are both built before training, in
    that order; after step ``k`` the first one steps while ``k < swa_start`` and SWALR from then
    on::

        for k in range(steps):
            curve[k] = lrs of the groups; optimizer.step()
            first.step() if k < swa_start else swalr.step()

    ``lr`` is one rate (returns shape ``(steps,)``) or one per parameter group (returns
    ``(steps, groups)``); ``swa_lr`` likewise may be a list, one per group.
    """
    from torch.optim.swa_utils import SWALR

    lrs, several = _as_groups(lr)
    optimizer = group_optimizer(lrs)
    curve = np.empty((steps, len(lrs)), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = None if scheduler is None else make_scheduler(scheduler[0], optimizer,
                                                              **scheduler[1])
        swa = SWALR(optimizer, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                    anneal_strategy=anneal_strategy)
        for k in range(steps):
            curve[k] = [group["lr"] for group in optimizer.param_groups]
            optimizer.step()
            if k < swa_start:
                if first is not None:
                    first.step()
            else:
                swa.step()
    return curve if several else curve[:, 0]


#: Pinned versions the optional comparisons were checked with (``./course test`` installs them).
LIBRARY_VERSIONS = {"transformers": "5.23.0", "timm": "1.0.31"}


def missing_library(name: str) -> str | None:
    """Why the real ``"transformers"`` or ``"timm"`` cannot be compared with here, or None.

    The course never needs them: lessons and tests use this to say what they skip.
    """
    try:
        if name == "transformers":
            import transformers.optimization  # noqa: F401
        elif name == "timm":
            timm_cosine_lr_scheduler()
        else:
            raise ValueError(f"missing_library knows 'transformers' and 'timm', not {name!r}")
    except ImportError as exc:
        flag = "--no-deps " if name == "timm" else ""  # timm's dependencies bring torchvision
        return (f"{name} is not installed ({exc}); `pip install {flag}{name}=="
                f"{LIBRARY_VERSIONS[name]}` adds it")
    return None


def transformers_curve(name: str, steps: int, lr, **kwargs: Any) -> np.ndarray:
    """The rates of transformers' schedule ``name`` (e.g. ``"get_cosine_schedule_with_warmup"``),
    built by transformers itself on an SGD optimizer and stepped once per optimizer step.

    ``lr`` is one rate or one per group (the optimizer's default rate, which
    ``get_polynomial_decay_schedule_with_warmup`` reads, is the first).  Raises ImportError when
    transformers is not installed (see :func:`missing_library`).
    """
    import transformers.optimization as hf

    lrs, several = _as_groups(lr)
    factory = getattr(hf, name, None)
    if factory is None or not name.startswith("get_"):
        raise ValueError(f"transformers.optimization has no schedule called {name!r}")
    optimizer = group_optimizer(lrs)
    curve = np.empty((steps, len(lrs)), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = factory(optimizer, **kwargs)
        for k in range(steps):
            curve[k] = [group["lr"] for group in optimizer.param_groups]
            optimizer.step()
            scheduler.step()
    return curve if several else curve[:, 0]


def timm_cosine_lr_scheduler():
    """timm's ``CosineLRScheduler`` class, from the installed timm.

    ``import timm`` also imports torchvision, which PyPI may only offer for another torch than
    the course's; timm's scheduler modules themselves need only torch.  So when the normal import
    fails, the two files (``timm/scheduler/scheduler.py`` and ``cosine_lr.py``) are loaded on
    their own, unchanged, as a private package.  Raises ImportError when timm is not installed.
    """
    import importlib
    import importlib.util
    import sys
    import types

    if importlib.util.find_spec("torchvision") is not None:
        try:
            from timm.scheduler.cosine_lr import CosineLRScheduler

            return CosineLRScheduler
        except Exception:  # noqa: BLE001 - a torchvision built for another torch fails in many ways
            pass
    alias = "_lrcourse_timm_scheduler"
    if f"{alias}.cosine_lr" in sys.modules:
        return sys.modules[f"{alias}.cosine_lr"].CosineLRScheduler
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("No module named 'timm'")
    folder = f"{list(spec.submodule_search_locations)[0]}/scheduler"
    package = types.ModuleType(alias)
    package.__path__ = [folder]
    sys.modules[alias] = package
    try:
        return importlib.import_module(f"{alias}.cosine_lr").CosineLRScheduler
    except Exception as exc:
        for key in [k for k in sys.modules if k == alias or k.startswith(alias + ".")]:
            del sys.modules[key]
        raise ImportError(f"timm's scheduler could not be loaded on its own: {exc}") from exc


def timm_cosine_curve(steps: int, lr, updates_per_epoch: int = 1, **kwargs: Any) -> np.ndarray:
    """The rates of timm's real ``CosineLRScheduler(optimizer, **kwargs)``, stepped as timm's
    ``train.py`` steps it: ``step_update(num_updates)`` after every optimizer step and
    ``step(epoch + 1)`` after every ``updates_per_epoch`` of them.

    Element ``k`` is the rate of the ``k``-th optimizer step.  ``lr`` is one rate or one per
    group.  Raises ImportError when timm is not installed (see :func:`missing_library`).
    """
    cls = timm_cosine_lr_scheduler()
    lrs, several = _as_groups(lr)
    optimizer = group_optimizer(lrs)
    curve = np.empty((steps, len(lrs)), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = cls(optimizer, **kwargs)
        updates = 0
        for k in range(steps):
            curve[k] = [group["lr"] for group in optimizer.param_groups]
            optimizer.step()
            updates += 1
            scheduler.step_update(num_updates=updates)
            if updates % updates_per_epoch == 0:
                scheduler.step(updates // updates_per_epoch)
    return curve if several else curve[:, 0]


__all__ += ["swalr_curve", "missing_library", "transformers_curve", "timm_cosine_lr_scheduler",
            "timm_cosine_curve", "LIBRARY_VERSIONS"]


# ---------------------------------------------------------------------------------------------
# The ground truth of any schedule of lrcourse.schedules, by its name
# ---------------------------------------------------------------------------------------------

#: The modern recipes of :mod:`lrcourse.schedules.modern` -> their ``LambdaLR`` torch recipe.
MODERN_RECIPES = {
    "WarmupCosine": "warmup_cosine_scheduler",
    "WarmupStableDecay": "warmup_stable_decay_scheduler",
    "InverseSqrt": "inverse_sqrt_scheduler",
}


def _library_of(name: str) -> str | None:
    from .schedules import LIBRARY_SCHEDULERS

    for library, names in LIBRARY_SCHEDULERS.items():
        if name in names:
            return library
    return None


def ground_truth_label(name: str) -> str:
    """How :func:`ground_truth` names the curve it measures for schedule ``name``:
    ``"PyTorch StepLR"``, ``"PyTorch SWALR"``, ``"transformers' get_wsd_schedule"``,
    ``"timm's CosineLRScheduler"``, ``"PyTorch LambdaLR recipe"`` (the modern recipes)."""
    library = _library_of(name)
    if library in ("transformers", "timm"):
        owner = f"{library}'" if library.endswith("s") else f"{library}'s"
        return f"{owner} {name}"
    if name in MODERN_RECIPES:
        return "PyTorch LambdaLR recipe"
    return f"PyTorch {name}"


def ground_truth_missing(name: str) -> str | None:
    """Why :func:`ground_truth` cannot measure ``name`` here (its library is not installed), or
    None when it can.  torch's own schedulers and the recipes always can."""
    library = _library_of(name)
    return missing_library(library) if library in ("transformers", "timm") else None


def ground_truth(name: str, steps: int, lr: float, **kwargs: Any) -> np.ndarray:
    """The rates of schedule ``name`` (a key of :data:`lrcourse.schedules.SCHEDULES`, with the
    same keyword arguments as :func:`lrcourse.schedules.lr_curve`), measured by stepping the
    code that defines it rather than evaluating a formula:

    * a ``torch.optim.lr_scheduler`` class: :func:`lr_curve`;
    * ``"SWALR"``: a real ``torch.optim.swa_utils.SWALR`` (:func:`swalr_curve`);
    * transformers' names: transformers itself (:func:`transformers_curve`); the closed form's
      ``lr_init`` of the polynomial schedule becomes the optimizer's default rate;
    * ``"CosineLRScheduler"``: timm itself, stepped as timm's ``train.py`` steps it
      (:func:`timm_cosine_curve`);
    * the modern recipes (``"WarmupCosine"``, ...): their ``LambdaLR`` recipe in
      :mod:`lrcourse.schedules.modern`, written independently of the closed form.

    Raises ImportError (saying how to install it) when transformers or timm is missing; see
    :func:`ground_truth_missing`.
    """
    library = _library_of(name)
    if library in ("transformers", "timm"):
        reason = missing_library(library)
        if reason is not None:
            raise ImportError(reason)
    if name == "SWALR":
        return swalr_curve(steps, lr, **kwargs)
    if library == "transformers":
        kwargs = dict(kwargs)
        lr_init = kwargs.pop("lr_init", None)
        if lr_init is not None and lr_init != lr:  # the default rate is the first group's
            return transformers_curve(name, steps, [lr_init, lr], **kwargs)[:, 1]
        return transformers_curve(name, steps, lr, **kwargs)
    if library == "timm":
        return timm_cosine_curve(steps, lr, **kwargs)
    if name in MODERN_RECIPES:
        from .schedules import modern

        recipe = getattr(modern, MODERN_RECIPES[name])
        return scheduler_curve(lambda optimizer: recipe(optimizer, **kwargs), steps, (lr,))[:, 0]
    return lr_curve(name, steps, lr, **kwargs)


__all__ += ["ground_truth", "ground_truth_label", "ground_truth_missing", "MODERN_RECIPES"]
