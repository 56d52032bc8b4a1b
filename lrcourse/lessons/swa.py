"""Lesson 17 (Stochastic Weight Averaging): the comparisons over seeds, and SWALR's loops.

``recipe_comparison`` and ``bn_comparison`` return ``{label: [History per seed]}``, the shape
:func:`lrcourse.training.summarize`, :func:`~lrcourse.training.table`,
:func:`~lrcourse.training.verdicts` and :func:`~lrcourse.training.metric_figure` read.
``docstring_loop`` and ``built_at_handover`` step a real SWALR in two loops a learner might
write, to show where they differ from the recipe of :func:`lrcourse.reference.swalr_curve`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import torch
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn

from lrcourse.reference import make_scheduler
from lrcourse.training import History, train
from lrcourse.training.swa import bn_model, evaluate, train_swa, training_batches

__all__ = ["recipe_comparison", "bn_comparison", "docstring_loop", "built_at_handover",
           "relative_distance"]


def _final(loss: float, acc: float) -> History:
    return History(val_loss=[loss], val_acc=[acc])


def recipe_comparison(seeds: Iterable[int], *, first, swa_start: int, swa_lr: float,
                      anneal_epochs: int, anneal_strategy: str = "cos",
                      ema_decay: float | None = None, baseline: bool = True,
                      **config) -> dict[str, list[History]]:
    """Per seed: the first schedule run alone for all epochs (``baseline``), and one run of
    the SWA recipe, read three ways: its last iterate, its SWA average and (``ema_decay``) an
    EMA of its weights updated every step.  ``config``: epochs, lr, batch_size, ..."""
    seeds = list(seeds)
    name = first[0] if first is not None else "constant rate"
    results: dict[str, list[History]] = {}
    if baseline:
        results[f"{name} alone"] = [train(first, seed=s, progress=False, **config)
                                    for s in seeds]
    runs = [train_swa(first, swa_start=swa_start, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                      anneal_strategy=anneal_strategy, ema_decay=ema_decay, seed=s, **config)
            for s in seeds]
    results["SWA recipe: last iterate"] = [r.history for r in runs]
    results["SWA recipe: SWA average"] = [r.averaged for r in runs]
    if ema_decay is not None:
        results[f"SWA recipe: EMA ({ema_decay})"] = [r.ema_history for r in runs]
    return results


def bn_comparison(seeds: Iterable[int], *, swa_start: int, swa_lr: float, anneal_epochs: int,
                  first=None, **config) -> dict[str, list[History]]:
    """The SWA recipe on the MLP with BatchNorm (:func:`lrcourse.training.swa.bn_model`), per
    seed: the last iterate, the average with the BatchNorm statistics ``AveragedModel`` copied
    from the last iterate, and the same average after ``update_bn`` (final epoch only)."""
    results: dict[str, list[History]] = {
        "last iterate": [], "SWA average, BN statistics as copied": [],
        "SWA average after update_bn": []}
    for seed in seeds:
        run = train_swa(first, swa_start=swa_start, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                        model=bn_model(seed, config.get("hidden", 64)), seed=seed, **config)
        val = run.trainer.val_loader
        results["last iterate"].append(_final(*evaluate(run.trainer.model, val)))
        results["SWA average, BN statistics as copied"].append(_final(*evaluate(run.swa_model,
                                                                                val)))
        update_bn(training_batches(), run.swa_model)
        results["SWA average after update_bn"].append(_final(*evaluate(run.swa_model, val)))
    return results


def _one_parameter_model(lr: float):
    model = torch.nn.Linear(1, 1, bias=False)
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def docstring_loop(epochs: int, lr: float, *, swa_start: int, scheduler: tuple[str, dict],
                   **swalr: object) -> tuple[np.ndarray, list[int]]:
    """The loop of ``AveragedModel``'s docstring example, as written there (``if i >
    swa_start``), on a one-parameter model: the rate of each epoch, and the epochs whose
    weights ``update_parameters`` received."""
    model, optimizer = _one_parameter_model(lr)
    rates, averaged = np.empty(epochs), []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = make_scheduler(scheduler[0], optimizer, **scheduler[1])
        swa_model = AveragedModel(model)
        swa_scheduler = SWALR(optimizer, **swalr)
        for i in range(epochs):
            rates[i] = optimizer.param_groups[0]["lr"]
            optimizer.step()                      # stands in for an epoch of training
            if i > swa_start:
                swa_model.update_parameters(model)
                averaged.append(i)
                swa_scheduler.step()
            else:
                first.step()
    return rates, averaged


def built_at_handover(epochs: int, lr: float, *, swa_start: int, scheduler: tuple[str, dict],
                      **swalr: object) -> np.ndarray:
    """The recipe with SWALR built only when the hand-over comes (after epoch ``swa_start``'s
    training, instead of before training): the rate of each epoch."""
    _, optimizer = _one_parameter_model(lr)
    rates, swa_scheduler = np.empty(epochs), None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = make_scheduler(scheduler[0], optimizer, **scheduler[1])
        for i in range(epochs):
            rates[i] = optimizer.param_groups[0]["lr"]
            optimizer.step()
            if i < swa_start:
                first.step()
            else:
                if swa_scheduler is None:
                    swa_scheduler = SWALR(optimizer, **swalr)
                swa_scheduler.step()
    return rates


def relative_distance(a: torch.nn.Module, b: torch.nn.Module) -> float:
    """``|w_a - w_b| / |w_b|`` over all parameters of two models of the same architecture
    (an ``AveragedModel`` is compared through its ``module``)."""
    a = a.module if isinstance(a, AveragedModel) else a
    b = b.module if isinstance(b, AveragedModel) else b
    wa = torch.cat([p.detach().flatten() for p in a.parameters()])
    wb = torch.cat([p.detach().flatten() for p in b.parameters()])
    return float((wa - wb).norm() / wb.norm())
