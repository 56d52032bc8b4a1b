r"""Lesson 18: scaling the learning rate with the batch size, and measuring what it keeps.

A rule says how to change the rate when the batch grows from :math:`B_0` to :math:`B`, with
:math:`k = B / B_0`:

=========  ==========================  ============================================
rule       rate at batch :math:`B`     proposed by
=========  ==========================  ============================================
fixed      :math:`\eta_0`              (no rule)
linear     :math:`k\,\eta_0`           Krizhevsky 2014; Goyal et al. 2017 (SGD)
sqrt       :math:`\sqrt{k}\,\eta_0`    Malladi et al. 2022 (Adam, RMSprop), who also
                                        change Adam's betas and epsilon; here only the
                                        rate is scaled, as practitioners usually do
=========  ==========================  ============================================

:func:`sweep` trains the digits MLP for the same number of *epochs* at each batch size under
each rule; :func:`spread` measures how much a final metric varies across the batch sizes (the
ratio of the largest mean over seeds to the smallest): a rule that keeps training "the same"
whatever the batch has a spread near 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from lrcourse.training import History, TrainConfig, Trainer

__all__ = ["RULES", "scaled_lr", "sweep", "spread", "final_means"]

RULES = ("fixed", "linear", "sqrt")


def scaled_lr(rule: str, base_lr: float, base_batch: int, batch: int) -> float:
    """The rate ``rule`` gives at ``batch``, from ``base_lr`` at ``base_batch``."""
    k = batch / base_batch
    if rule == "fixed":
        return base_lr
    if rule == "linear":
        return base_lr * k
    if rule == "sqrt":
        return base_lr * math.sqrt(k)
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def sweep(optimizer: str, base_lr: float, batch_sizes: Iterable[int], seeds: Iterable[int], *,
          base_batch: int = 64, rules: Iterable[str] = RULES,
          **config) -> dict[str, dict[int, list[History]]]:
    """``{rule: {batch size: [History per seed]}}``, constant rate, same epochs for all.

    A (batch size, rate) pair two rules share (every rule gives ``base_lr`` at
    ``base_batch``) is trained once and shared.
    """
    seeds, batch_sizes = list(seeds), list(batch_sizes)
    done: dict[tuple[int, float], list[History]] = {}
    out: dict[str, dict[int, list[History]]] = {}
    for rule in rules:
        out[rule] = {}
        for batch in batch_sizes:
            lr = scaled_lr(rule, base_lr, base_batch, batch)
            key = (batch, round(lr, 15))
            if key not in done:
                done[key] = [Trainer(TrainConfig(None, lr=lr, batch_size=batch, seed=s,
                                                 optimizer=optimizer, **config)).run(
                                                     progress=False) for s in seeds]
            out[rule][batch] = done[key]
    return out


def final_means(results: dict[str, dict[int, list[History]]],
                metric: str = "train_loss") -> dict[str, dict[int, float]]:
    """The mean over seeds of the last epoch's ``metric``, per rule and batch size."""
    return {rule: {b: float(np.mean([getattr(h, metric)[-1] for h in hs]))
                   for b, hs in per_batch.items()}
            for rule, per_batch in results.items()}


def spread(results: dict[str, dict[int, list[History]]],
           metric: str = "train_loss") -> dict[str, float]:
    """Per rule: largest over smallest of :func:`final_means` across the batch sizes."""
    return {rule: max(v.values()) / min(v.values())
            for rule, v in final_means(results, metric).items()}
