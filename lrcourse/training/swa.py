r"""Stochastic Weight Averaging on the course's digits problem, through the one training loop.

:func:`train_swa` runs the recipe of ``torch.optim.swa_utils`` epoch by epoch on a
:class:`~lrcourse.training.loop.Trainer` (which itself steps no scheduler here)::

    trainer = Trainer(TrainConfig(epochs=E, lr=lr, ...))
    scheduler = <first schedule>(trainer.optimizer)          # e.g. CosineAnnealingLR
    swa_model = AveragedModel(trainer.model)
    swa_scheduler = SWALR(trainer.optimizer, swa_lr=..., anneal_epochs=..., anneal_strategy=...)
    for epoch in range(E):
        trainer.run(until=epoch + 1)                          # one epoch of training
        if epoch < swa_start:
            scheduler.step()
        else:
            swa_model.update_parameters(trainer.model)        # the average of epochs swa_start..
            swa_scheduler.step()

so epochs ``0 .. swa_start`` train under the first schedule and SWALR anneals from the rate it
finds at epoch ``swa_start`` (:func:`lrcourse.schedules.swa.swalr` is this curve in closed form).
After epoch ``e >= swa_start`` the average holds the weights after epochs ``swa_start .. e``,
each with weight :math:`1/n`:

.. math::  \bar w_n = \bar w_{n-1} + \frac{w_n - \bar w_{n-1}}{n} = \frac1n \sum_{i=1}^n w_i

:func:`attach_ema` keeps an exponential moving average instead, updated after every optimizer
step (a post-step hook of the optimizer): :math:`\bar w \leftarrow \delta\,\bar w +
(1-\delta)\,w`.  :func:`bn_model` is the digits MLP with a ``BatchNorm1d`` layer, the kind of
model for which ``update_bn`` matters; :func:`with_model` trains any such network with the same
data and loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader

from .data import N_CLASSES, N_FEATURES, digits, one_thread
from .loop import History, SchedulerSpec, TrainConfig, Trainer, build_scheduler, step_unit

__all__ = ["SWARun", "train_swa", "attach_ema", "evaluate", "training_batches", "bn_model",
           "with_model"]


@dataclass
class SWARun:
    """What :func:`train_swa` returns.

    ``trainer`` holds the running model (``trainer.model``), its optimizer and data, and its
    :class:`History` (``trainer.history``: the *iterate*, as :func:`train` records it).
    ``swa_model`` is the ``AveragedModel``; ``averaged`` is a :class:`History` of it, evaluated
    on the validation split after each epoch (NaN for the epochs before ``swa_start``, when
    there is nothing to average yet).  ``ema`` is the EMA model when one was attached, and
    ``ema_history`` its validation record after each epoch.
    """

    trainer: Trainer
    swa_model: AveragedModel
    averaged: History
    ema: AveragedModel | None = None
    ema_history: History | None = None

    @property
    def history(self) -> History:
        return self.trainer.history


@torch.no_grad()
def evaluate(model: nn.Module, loader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` (in eval mode) on ``loader``'s batches."""
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        logits = model(x)
        total += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(dim=1) == y).sum())
        n += len(y)
    model.train(was_training)
    return total / n, correct / n


def training_batches(batch_size: int = 64) -> DataLoader:
    """The training split in order, in batches: what ``update_bn`` passes through the model.

    Not the trainer's loader: iterating that one would advance its shuffling generator.
    """
    return DataLoader(digits()[0], batch_size=batch_size)


def bn_model(seed: int = 0, hidden: int = 64) -> nn.Sequential:
    """64 -> ``hidden`` -> BatchNorm1d -> ReLU -> 10, initialised from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(N_FEATURES, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                             nn.Linear(hidden, N_CLASSES))


def with_model(config: TrainConfig, model: nn.Module) -> Trainer:
    """A :class:`Trainer` for ``config`` that trains ``model`` instead of the digits MLP.

    Same data, batches, loop and recording; the optimizer is ``config.make_optimizer(model)``.
    ``config.scheduler`` must be None (a scheduler would be built on the replaced optimizer):
    step your own, built on ``trainer.optimizer``.
    """
    if config.scheduler is not None:
        raise ValueError("with_model needs TrainConfig(scheduler=None): build the scheduler on "
                         "trainer.optimizer after the model is in place")
    trainer = Trainer(config)
    trainer.model = model
    trainer.optimizer = config.make_optimizer(model)
    return trainer


def attach_ema(trainer: Trainer, decay: float) -> AveragedModel:
    """An EMA of ``trainer.model``'s weights, updated after every ``optimizer.step()``.

    ``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)``: the
    first update copies the weights, each later one computes ``decay * ema + (1 - decay) * w``
    (buffers, e.g. BatchNorm statistics, are averaged the same way).
    """
    model = trainer.model
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    trainer.optimizer.register_step_post_hook(lambda *_: ema.update_parameters(model))
    return ema


def train_swa(scheduler: SchedulerSpec = None, *, swa_start: int, swa_lr: float,
              anneal_epochs: int = 10, anneal_strategy: str = "cos", model: nn.Module | None = None,
              ema_decay: float | None = None, **config) -> SWARun:
    """Train the digits MLP (or ``model``) with the SWA recipe; see the module docstring.

    ``scheduler`` is the first schedule (None: the constant ``lr``), given as for :func:`train`
    and stepped once per epoch; ``swa_start``, ``swa_lr``, ``anneal_epochs`` and
    ``anneal_strategy`` are SWALR's.  ``config`` sets the :class:`TrainConfig` fields
    (``epochs``, ``lr``, ``seed``, ``batch_size``, ...).  ``ema_decay`` also keeps an EMA of
    the weights, updated every step from the start (:func:`attach_ema`).

    The averaged model is returned as it is: with BatchNorm layers, run
    ``torch.optim.swa_utils.update_bn(training_batches(), run.swa_model)`` before using it.
    """
    epochs = config.get("epochs", TrainConfig.epochs)
    if not (isinstance(swa_start, int) and 0 <= swa_start < epochs):
        raise ValueError(f"swa_start must be an epoch in 0 .. epochs-1 = {epochs - 1}, "
                         f"got {swa_start!r}")
    cfg = TrainConfig(scheduler=None, **config)
    trainer = Trainer(cfg) if model is None else with_model(cfg, model)
    first = build_scheduler(scheduler, trainer.optimizer)
    if first is not None and step_unit(first, scheduler) != "epoch":
        raise ValueError("the first schedule of the SWA recipe is stepped once per epoch here; "
                         f"{scheduler!r} expects to be stepped per batch or with a metric")
    ema = attach_ema(trainer, ema_decay) if ema_decay is not None else None
    swa_model = AveragedModel(trainer.model)
    swa_scheduler = SWALR(trainer.optimizer, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                          anneal_strategy=anneal_strategy)
    averaged = History(steps_per_epoch=trainer.history.steps_per_epoch)
    ema_history = History(steps_per_epoch=averaged.steps_per_epoch) if ema is not None else None
    with one_thread():
        for epoch in range(epochs):
            trainer.run(until=epoch + 1, progress=False)
            if epoch < swa_start:
                if first is not None:
                    first.step()
                loss, acc = math.nan, math.nan
            else:
                swa_model.update_parameters(trainer.model)
                swa_scheduler.step()
                loss, acc = evaluate(swa_model, trainer.val_loader)
            averaged.val_loss.append(loss)
            averaged.val_acc.append(acc)
            if ema is not None:
                loss, acc = evaluate(ema, trainer.val_loader)
                ema_history.val_loss.append(loss)
                ema_history.val_acc.append(acc)
    return SWARun(trainer=trainer, swa_model=swa_model, averaged=averaged, ema=ema,
                  ema_history=ema_history)
