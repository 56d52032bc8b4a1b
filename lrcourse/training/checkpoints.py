"""Saving a run mid-way and resuming it exactly.

A scheduler is not stateless: besides the optimizer's learning rate it keeps its own counter
(``last_epoch``) and, for some, more (ReduceLROnPlateau's best value and patience count,
OneCycleLR's phases).  A checkpoint therefore holds three state dicts, plus whatever else decides
what happens next (the random state of the data order, the epoch)::

    save_checkpoint("run.pt", model=model, optimizer=optimizer, scheduler=scheduler, epoch=5)

and resuming rebuilds all three *as for a fresh run*, then loads the states over them::

    model = make_model(); optimizer = SGD(model.parameters(), lr=0.05)
    scheduler = StepLR(optimizer, step_size=3)           # no last_epoch=: the default -1
    extra = load_checkpoint("run.pt", model=model, optimizer=optimizer, scheduler=scheduler)

Building the scheduler with ``last_epoch=5`` instead, on an optimizer whose groups have no
``initial_lr`` yet, is the classic mistake: torch raises ``KeyError: "param 'initial_lr' is not
specified in param_groups[0] when resuming scheduler with last_epoch >= 0"``.  ``initial_lr`` is
written into each group by the first scheduler built on a fresh optimizer (and saved with the
optimizer's state), so either build the scheduler with the default ``last_epoch=-1`` and load
its state dict (above), or load the optimizer's state first and only then pass ``last_epoch``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import torch

__all__ = ["save_checkpoint", "load_checkpoint", "resume_methods"]


def save_checkpoint(path: str | Path | BinaryIO, *, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer,
                    scheduler=None, **extra: Any) -> None:
    """Write the model's, optimizer's and scheduler's state dicts and ``extra`` to ``path``.

    ``extra`` must be plain data (numbers, strings, lists, dicts, tensors) so that the file
    loads with ``torch.load(weights_only=True)``, torch's safe default.
    """
    torch.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        **extra,
    }, path)


def load_checkpoint(path: str | Path | BinaryIO, *, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler=None) -> dict:
    """Load the states :func:`save_checkpoint` wrote into freshly built objects.

    Returns the whole checkpoint (so ``extra`` values such as ``epoch`` are at hand).
    """
    saved = torch.load(path, weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if (scheduler is None) != (saved["scheduler"] is None):
        raise ValueError("the checkpoint was saved " + ("without" if scheduler is not None
                         else "with") + " a scheduler; build the same kind of run to resume it")
    if scheduler is not None:
        scheduler.load_state_dict(saved["scheduler"])
    return saved


def resume_methods(name: str, lr: float, saved_at: int, steps: int, **kwargs: Any) -> dict:
    """The rates of steps ``saved_at .. steps-1`` after resuming a ``name`` scheduler four ways.

    ``"uninterrupted"`` never stopped; ``"load_state_dict"`` is the safe way (fresh optimizer and
    scheduler, then both state dicts loaded); ``"last_epoch=k"`` and ``"last_epoch=k-1"`` load
    the optimizer's state and then construct the scheduler with ``last_epoch`` (``k`` =
    ``saved_at``).  A scheduler's constructor calls ``step()`` once itself, which moves
    ``last_epoch`` on by one and recomputes the rate from the one just loaded; whether either
    variant then lands on the uninterrupted curve depends on the formula and on ``k``.
    """
    from torch.optim import lr_scheduler

    cls = getattr(lr_scheduler, name)
    param = torch.zeros(1, requires_grad=True)

    def fresh():
        return torch.optim.SGD([param], lr=lr)

    def rates(optimizer, scheduler, n):
        out = []
        for _ in range(n):
            out.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return out

    opt = fresh()
    sched = cls(opt, **kwargs)
    rates(opt, sched, saved_at)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    result = {"uninterrupted": rates(opt, sched, steps - saved_at)}

    opt = fresh()
    sched = cls(opt, **kwargs)
    opt.load_state_dict(opt_state)
    sched.load_state_dict(sched_state)
    result["load_state_dict"] = rates(opt, sched, steps - saved_at)
    for label, last in (("last_epoch=k", saved_at), ("last_epoch=k-1", saved_at - 1)):
        opt = fresh()
        opt.load_state_dict(opt_state)
        sched = cls(opt, last_epoch=last, **kwargs)
        result[label] = rates(opt, sched, steps - saved_at)
    return result
