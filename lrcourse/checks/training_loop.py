"""What exercise 7's check trains: a tiny regression problem and an SGD that records its rates.

:func:`make_problem` builds a linear model and its batches; :class:`RecordingSGD` is the SGD
optimizer the check hands to the learner's ``train``: it remembers the learning rate at each
``step()``, so the check measures what the loop really did, whatever it returns.  The check
itself is :mod:`lrcourse.checks.training_check` (importable without torch).
"""

from __future__ import annotations

import torch


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
