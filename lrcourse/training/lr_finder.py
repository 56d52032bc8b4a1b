r"""Leslie Smith's learning-rate range test ("LR finder").

Train for a short while with a learning rate that grows exponentially at every step,

.. math:: \eta_k = \eta_{start}\left(\frac{\eta_{end}}{\eta_{start}}\right)^{k/(n-1)},
          \qquad k = 0, \dots, n-1,

and watch the loss.  At tiny rates nothing happens; then the loss falls; past some rate the
steps are too large and it shoots up.  The useful rates are on the falling part.  The raw loss of
single batches is noisy, so it is smoothed with a bias-corrected exponential moving average

.. math:: a_k = \beta a_{k-1} + (1-\beta)\,\ell_k, \qquad
          \bar\ell_k = \frac{a_k}{1 - \beta^{k+1}} \quad (a_{-1} = 0),

and the sweep stops early once :math:`\bar\ell_k` exceeds ``diverge`` times its minimum so far
(or the loss is not finite).  Afterwards the model's weights, the optimizer's state (learning
rates included), the global random state and the loader's shuffling generator are put back as
they were, so the test leaves no trace on the training that follows.

Smith, "Cyclical Learning Rates for Training Neural Networks" (2017), section 3.3.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .data import one_thread

__all__ = ["find_lr", "smooth", "LRFinderResult", "LRRangeTestDiverged"]


class LRRangeTestDiverged(RuntimeError):
    """The loss blew up before the sweep found any rate at which it decreased."""


@dataclass
class LRFinderResult:
    """The sweep: ``lrs``, raw ``losses``, ``smoothed`` losses, and the suggestion with its
    reasoning (``print(result)`` shows the reasoning)."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    start_lr: float
    end_lr: float
    lr_at_min: float
    steepest: float
    suggestion: float
    stopped_early: bool
    reason: str

    def __str__(self) -> str:
        return self.reason

    def figure(self, *, title: str = "LR range test"):
        """Loss against learning rate, both on log scales: every raw loss (faint), the smoothed
        loss, its minimum and steepest descent marked on it, and the suggestion as a line."""
        from ..plots import PALETTE, new_figure, place_legend

        fig, ax = new_figure()
        ax.plot(self.lrs, self.losses, color=PALETTE[0], alpha=0.35, linewidth=1,
                label="loss (one batch)")
        ax.plot(self.lrs, self.smoothed, color=PALETTE[0], linewidth=2, label="smoothed")
        ax.axvline(self.suggestion, color=PALETTE[3], linestyle="--", linewidth=1.5,
                   label=f"suggestion {self.suggestion:.2g}")
        for lr, marker, color, label in (
                (self.lr_at_min, "o", PALETTE[1], f"minimum {self.lr_at_min:.2g}"),
                (self.steepest, "v", PALETTE[2], f"steepest {self.steepest:.2g}")):
            k = int(np.argmin(np.abs(np.log(self.lrs) - np.log(lr))))
            ax.plot([self.lrs[k]], [self.smoothed[k]], linestyle="none", marker=marker,
                    markersize=9, markerfacecolor="white", markeredgecolor=color,
                    markeredgewidth=2, label=label, zorder=3)
        ax.set_xscale("log")
        # The raw losses span decades once the sweep blows up: a log axis shows all of them
        # without squashing the falling part of the curve.
        values = np.concatenate([self.losses, self.smoothed])
        values = values[np.isfinite(values) & (values > 0)]
        if values.size:
            ax.set_yscale("log")
            ax.set_ylim(values.min() / 1.25, values.max() * 1.25)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title(title)
        place_legend(ax)
        return fig

    def _repr_png_(self):
        from ..plots import to_png

        return to_png(self.figure())


def smooth(losses, beta: float = 0.9) -> np.ndarray:
    """The bias-corrected exponential moving average find_lr plots (see the module docstring)."""
    out, avg = [], 0.0
    for k, value in enumerate(np.asarray(losses, dtype=np.float64)):
        avg = beta * avg + (1 - beta) * value
        out.append(avg / (1 - beta ** (k + 1)))
    return np.array(out)


def _batches(loader: Iterable, steps: int):
    """``steps`` batches from ``loader``, starting it again when it runs out."""
    produced = 0
    while produced < steps:
        empty = True
        for batch in loader:
            empty = False
            yield batch
            produced += 1
            if produced == steps:
                return
        if empty:
            raise ValueError("find_lr: the loader yielded no batches (is the dataset empty, or "
                             "smaller than batch_size with drop_last=True?)")


def find_lr(model: torch.nn.Module, loader: Iterable,
            optimizer: torch.optim.Optimizer | None = None, *, loss_fn: Callable = F.cross_entropy, start_lr: float = 1e-5, end_lr: float = 10.0,
            num_steps: int = 100, beta: float = 0.9, diverge: float = 4.0,
            progress: bool = True) -> LRFinderResult:
    """Sweep the learning rate from ``start_lr`` to ``end_lr`` over ``num_steps`` batches.

    ``optimizer`` defaults to SGD with momentum 0.9 on ``model.parameters()``; pass the one you
    will train with (the useful range depends on it: Adam's is not SGD's).  Every parameter
    group gets the same swept rate.  ``loader`` yields ``(inputs, targets)`` and is restarted if
    it has fewer than ``num_steps`` batches.

    The suggestion is one tenth of the rate at which the smoothed loss is lowest: at the
    minimum the loss has already stopped improving and the rates just above it make training
    unstable, whereas a rate ten times smaller is still on the steep, falling part of the curve.
    The steepest descent is reported too.  Both are inside the swept range.

    Raises ``ValueError`` for an empty loader or bad arguments, and
    :class:`LRRangeTestDiverged` when the loss explodes (or is NaN) before it has fallen at
    all: then ``start_lr`` is already too large, or the model/loss is broken.
    """
    if not (0 < start_lr < end_lr) or not math.isfinite(end_lr):
        raise ValueError(f"find_lr: need 0 < start_lr < end_lr, got start_lr={start_lr!r}, "
                         f"end_lr={end_lr!r}")
    if not isinstance(num_steps, int) or num_steps < 10:
        raise ValueError(f"find_lr: num_steps must be an integer >= 10, got {num_steps!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"find_lr: beta must be in [0, 1), got {beta!r}")
    if not diverge > 1:
        raise ValueError(f"find_lr: diverge must be > 1, got {diverge!r}")

    from tqdm.auto import tqdm

    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=start_lr, momentum=0.9)
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_rng = torch.get_rng_state()
    generator = getattr(loader, "generator", None)
    saved_generator = generator.get_state() if isinstance(generator, torch.Generator) else None
    was_training = model.training

    ratio = end_lr / start_lr
    lrs, losses, smoothed = [], [], []
    avg, best, stopped_early = 0.0, math.inf, False
    try:
        model.train()
        sweep = tqdm(_batches(loader, num_steps), total=num_steps, disable=not progress,
                     desc="LR range test")
        with one_thread(), sweep:
            for k, (x, y) in enumerate(sweep):
                lr = start_lr * ratio ** (k / (num_steps - 1))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                value = loss.item()
                if not math.isfinite(value):
                    stopped_early = True
                    break
                loss.backward()
                optimizer.step()
                avg = beta * avg + (1 - beta) * value
                smooth = avg / (1 - beta ** (k + 1))
                lrs.append(lr)
                losses.append(value)
                smoothed.append(smooth)
                best = min(best, smooth)
                if smooth > diverge * best:
                    stopped_early = True
                    break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        torch.set_rng_state(saved_rng)
        if saved_generator is not None:
            generator.set_state(saved_generator)
        model.train(was_training)

    return _suggest(np.array(lrs), np.array(losses), np.array(smoothed), start_lr, end_lr,
                    stopped_early, num_steps)


def _suggest(lrs, losses, smoothed, start_lr, end_lr, stopped_early, num_steps) -> LRFinderResult:
    n = len(lrs)
    i_min = int(np.argmin(smoothed)) if n else 0
    # Not enough of a falling stretch to read anything from: the run diverged straight away.
    if n < 5 or i_min < 2 or smoothed[i_min] >= smoothed[0]:
        where = f"at lr={lrs[-1]:.3g}" if n else f"at the first step (lr={start_lr:.3g})"
        raise LRRangeTestDiverged(
            f"find_lr: the loss diverged {where} after {n} of {num_steps} steps without "
            f"falling first, so there is no good rate to read off. start_lr={start_lr:.3g} is "
            "probably already too large (try a smaller start_lr), or the loss is NaN for "
            "another reason (check the model and the data).")

    lr_min = float(lrs[i_min])
    # d(loss)/d(log lr) on the falling part, skipping the first few (noisy, barely moved) points
    log_lr = np.log(lrs)
    slope = np.gradient(smoothed, log_lr)
    lo = min(max(1, i_min // 10), i_min - 1)
    i_steep = lo + int(np.argmin(slope[lo:i_min + 1]))
    steepest = float(lrs[i_steep])
    suggestion = float(np.clip(lr_min / 10, lrs[0], lrs[-1]))

    lines = [
        f"Swept {n} of {num_steps} steps, lr {lrs[0]:.2g} -> {lrs[-1]:.2g}"
        + (" (stopped: the loss diverged)." if stopped_early else "."),
        f"The smoothed loss fell from {smoothed[0]:.3f} to its minimum {smoothed[i_min]:.3f} "
        f"at lr = {lr_min:.3g}, and fell fastest at lr = {steepest:.3g}.",
    ]
    if not stopped_early and i_min >= n - 3:
        lines.append(f"It was still falling at end_lr = {end_lr:.3g}: the sweep may have ended "
                     "too soon; try a larger end_lr.")
    else:
        lines.append("Past the minimum the loss rises: the steps have become too large.")
    # Say where the suggestion sits on the curve as measured, not as the rule of thumb hopes.
    i_sug = int(np.argmin(np.abs(log_lr - math.log(suggestion))))
    where = ("the smoothed loss is still falling there" if slope[i_sug] < 0 else
             "but the smoothed loss is not falling there: read the curve before using it")
    lines.append(f"Suggestion: lr = {suggestion:.3g}, one tenth of the rate at the minimum "
                 f"(a rule of thumb); {where}.")
    return LRFinderResult(lrs, losses, smoothed, float(start_lr), float(end_lr), lr_min,
                          steepest, suggestion, stopped_early, "\n".join(lines))
