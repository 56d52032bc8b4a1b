r"""Check for exercise 7, "find the bug": a training loop that must drive OneCycleLR correctly.

The learner repairs ``train(model, optimizer, batches, epochs, max_lr)``, which builds
``OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * len(batches))`` and trains.
OneCycleLR is a per-batch scheduler, and ``scheduler.step()`` must follow
``optimizer.step()``; then optimizer step :math:`k` (counted over all epochs) uses
:math:`\eta_k` = torch's OneCycleLR curve at step :math:`k`
(:func:`lrcourse.reference.lr_curve`).

The check hands the learner's function an SGD optimizer that records the learning rate each
time its ``step()`` is called, so it measures what the loop really did, whatever it returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch

from lrcourse import reference

from ._core import (
    CheckFailed, compare_curves, learner_facing, passed, raised,
)

CHECK, FUNCTION = "check_train", "train"
HIDDEN_CASES = 6

# (seed, epochs, batches per epoch, max_lr)
PUBLIC = [(0, 3, 4, 0.1), (1, 2, 5, 0.5)]


class RecordingSGD(torch.optim.SGD):
    """SGD that remembers the learning rate of its first parameter group at every ``step()``."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.lrs: list[float] = []

    def step(self, closure=None):
        self.lrs.append(float(self.param_groups[0]["lr"]))
        return super().step(closure)


def make_problem(seed: int, n_batches: int, batch_size: int = 8):
    """A tiny regression problem: a linear model and ``n_batches`` (x, y) batches."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    true_w = torch.randn(3, 1, generator=gen)
    batches = []
    for _ in range(n_batches):
        x = torch.randn(batch_size, 3, generator=gen)
        batches.append((x, x @ true_w + 0.1 * torch.randn(batch_size, 1, generator=gen)))
    return model, batches


@learner_facing
def check_train(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    """Check that the learner's ``train`` steps OneCycleLR once per batch, after the optimizer."""
    if not callable(fn):
        raise CheckFailed(f"{CHECK} expects your function {FUNCTION}, got {type(fn).__name__}. "
                          f"Pass the function itself: {CHECK}({FUNCTION})")
    if hidden:
        rng = np.random.default_rng(seed)
        cases = [(int(rng.integers(0, 10_000)), int(rng.integers(2, 6)), int(rng.integers(2, 9)),
                  round(float(rng.uniform(0.01, 1.0)), 4)) for _ in range(HIDDEN_CASES)]
    else:
        cases = PUBLIC
    for case_seed, epochs, n_batches, max_lr in cases:
        model, batches = make_problem(case_seed, n_batches)
        optimizer = RecordingSGD(model.parameters(), lr=max_lr, momentum=0.9)
        total = epochs * n_batches
        call = (f"{FUNCTION}(model, optimizer, batches, epochs={epochs}, max_lr={max_lr:g}) "
                f"with {n_batches} batches per epoch")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fn(model, optimizer, batches, epochs=epochs, max_lr=max_lr)
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                raise raised(FUNCTION, call, exc) from (
                    None if isinstance(exc, NotImplementedError) else exc
                )
        order_warning = any("before `optimizer.step()`" in str(w.message) for w in caught)
        got = np.asarray(optimizer.lrs, np.float64)
        if got.size == 0:
            raise CheckFailed(
                f"{FUNCTION} never called optimizer.step() on the optimizer it was given "
                f"({call}). Train with that optimizer: the scheduler must drive it."
            )
        if got.size != total:
            raise CheckFailed(
                f"{FUNCTION} called optimizer.step() {got.size} times for {call}; expected "
                f"epochs x batches = {epochs} x {n_batches} = {total}: one step per batch."
            )
        expected = reference.lr_curve("OneCycleLR", total, max_lr, max_lr=max_lr,
                                      total_steps=total)
        hints = ["OneCycleLR is stepped once per batch (total_steps = epochs * len(batches)), "
                 "right after optimizer.step()"]
        if order_warning:
            hints.append("torch warned that lr_scheduler.step() was called before "
                         "optimizer.step(): that skips the first value of the schedule")
        compare_curves(expected, got, function=FUNCTION, torch_name="OneCycleLR",
                       call=call + ", the lr at each optimizer.step()", variable="step",
                       hint="; ".join(hints))
    passed(CHECK, hidden, len(cases), seed)
