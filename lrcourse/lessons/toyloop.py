"""A toy training loop for the training-loop lesson: a linear model on 32 random points.

No data set, no GPU, milliseconds per step: it exists to show *where* the scheduler calls go
and to checkpoint and resume a run exactly.  (Full training runs live in
:mod:`lrcourse.training`.)

The scheduler is the usual warm-up + cosine, SequentialLR(LinearLR, CosineAnnealingLR), on SGD
with momentum, so a checkpoint must carry the model, the optimizer (momentum buffers, lr) and
the scheduler's counters.
"""

from __future__ import annotations

import io

import numpy as np
import torch

from lrcourse import reference
from lrcourse.schedules import lr_curve
from lrcourse.training.checkpoints import load_checkpoint, save_checkpoint

from .chaining import warmup_cosine

__all__ = ["toy_data", "make_model", "make_optimizer", "make_scheduler", "train_steps",
           "checkpoint", "restore", "per_batch_curves"]


def toy_data(n: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points of a noisy linear target ``y = 2 x0 - x1 + 0.5``, from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    y = x @ torch.tensor([[2.0], [-1.0]]) + 0.5 + 0.1 * torch.randn(n, 1, generator=g)
    return x, y


def make_model(seed: int = 0) -> torch.nn.Linear:
    """A 2 -> 1 linear layer with seeded initial weights."""
    torch.manual_seed(seed)
    return torch.nn.Linear(2, 1)


def make_optimizer(model: torch.nn.Module, lr: float = 0.1) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def make_scheduler(optimizer: torch.optim.Optimizer, warmup: int = 3, total: int = 12):
    """Linear warm-up from 0.1 x lr over ``warmup`` steps, then a cosine to 0 at ``total``."""
    return reference.make_scheduler("SequentialLR", optimizer, **warmup_cosine(warmup, total))


def train_steps(model, optimizer, scheduler, x, y, steps: int) -> list[float]:
    """``steps`` full-batch steps; returns the learning rate each optimizer step used."""
    used = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()   # first the update ...
        scheduler.step()   # ... then the schedule moves on
    return used


def checkpoint(model, optimizer, scheduler) -> bytes:
    """The three state dicts, as :func:`lrcourse.training.save_checkpoint` writes them, into
    bytes instead of a file."""
    buffer = io.BytesIO()
    save_checkpoint(buffer, model=model, optimizer=optimizer, scheduler=scheduler)
    return buffer.getvalue()


def restore(blob: bytes, model, optimizer, scheduler) -> None:
    """Load a :func:`checkpoint` into freshly built objects.

    Build all three first (building a scheduler writes the optimizer's lr), *then* load the
    optimizer and the scheduler, so that the loaded values are the ones that stay.
    """
    load_checkpoint(io.BytesIO(blob), model=model, optimizer=optimizer, scheduler=scheduler)


def per_batch_curves(epochs: int = 10, batches: int = 20, lr: float = 0.1) -> dict[str, np.ndarray]:
    """CosineAnnealingLR stepped once per batch for ``epochs`` epochs of ``batches`` batches:
    with ``T_max`` counted in epochs (a bug: it cycles ``batches`` times too fast) and in
    batches (``T_max = epochs * batches``, one smooth decay)."""
    steps = epochs * batches
    return {
        "T_max = epochs (wrong unit)": lr_curve("CosineAnnealingLR", steps, lr, T_max=epochs),
        "T_max = epochs * len(loader)": lr_curve("CosineAnnealingLR", steps, lr, T_max=steps),
    }
