"""The cheat sheet: one typical setting of every torch scheduler, for the same step budget.

:data:`ENTRIES` holds, per scheduler in :data:`lrcourse.TORCH_SCHEDULERS` order, keyword
arguments that give a representative curve over :data:`STEPS` steps from :data:`LR`, the unit
it is usually stepped in, its key parameters and a one-line rule of thumb for when to use it.
:func:`curves` evaluates them all with :func:`lrcourse.schedules.lr_curve`; :func:`table`
prints the summary as a Markdown table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse.schedules import TORCH_SCHEDULERS, lr_curve
from lrcourse.widgets import milestone_steps

from .chaining import warmup_cosine
from .synthetic import reductions, validation_loss

__all__ = ["STEPS", "LR", "Entry", "ENTRIES", "kwargs_for", "curves", "marks", "table",
           "inverse_time", "slowing_factor", "pair", "choices",
           "print_values"]

#: The step budget and initial rate every curve of the sheet uses.
STEPS = 100
LR = 0.1


def inverse_time(t):
    """LambdaLR's factor on the sheet: :math:`1 / (1 + 0.05\\,t)` (inverse-time decay)."""
    return 1.0 / (1.0 + 0.05 * t)


def slowing_factor(t):
    """MultiplicativeLR's factor on the sheet: x0.94 per step until step 30, then x0.99."""
    return 0.94 if t <= 30 else 0.99


@dataclass(frozen=True)
class Entry:
    """One row of the sheet."""

    kwargs: dict[str, Any]
    stepped: str
    key_params: str
    when: str


ENTRIES: dict[str, Entry] = {
    "LambdaLR": Entry(
        dict(lr_lambda=inverse_time), "epoch or batch", "lr_lambda(t) -> factor of the base lr",
        "any schedule you can write as a formula of the step"),
    "MultiplicativeLR": Entry(
        dict(lr_lambda=slowing_factor), "epoch", "lr_lambda(t) -> factor of the previous lr",
        "a decay stated step to step (e.g. a factor that changes with the epoch)"),
    "StepLR": Entry(
        dict(step_size=30, gamma=0.1), "epoch", "step_size, gamma",
        "the classic: divide by 10 every N epochs"),
    "MultiStepLR": Entry(
        dict(milestones=[50, 80], gamma=0.1), "epoch", "milestones, gamma",
        "drops at hand-picked epochs (e.g. 50% and 80% of the run)"),
    "ConstantLR": Entry(
        dict(factor=0.5, total_iters=20), "epoch or batch", "factor, total_iters",
        "a lower rate for the first steps, then the full rate (a crude warm-up)"),
    "LinearLR": Entry(
        dict(start_factor=0.1, total_iters=20), "batch (warm-up) or epoch",
        "start_factor, end_factor, total_iters", "a linear warm-up, or a linear decay"),
    "ExponentialLR": Entry(
        dict(gamma=0.97), "epoch", "gamma", "smooth decay by a constant factor per step"),
    "PolynomialLR": Entry(
        dict(total_iters=100, power=2.0), "epoch or batch", "total_iters, power",
        "decay to exactly 0 at a known end (power 1 = linear)"),
    "CosineAnnealingLR": Entry(
        dict(T_max=100, eta_min=0.001), "epoch or batch", "T_max (= whole run), eta_min",
        "the default smooth decay when the run length is known"),
    "CosineAnnealingWarmRestarts": Entry(
        dict(T_0=20, T_mult=2), "epoch (fractions allowed) or batch", "T_0, T_mult, eta_min",
        "SGDR: periodic restarts, snapshot ensembles, runs of open length"),
    "CyclicLR": Entry(
        dict(base_lr=0.01, max_lr=0.1, step_size_up=10), "batch",
        "base_lr, max_lr, step_size_up, mode", "cycle between bounds found by an LR range test"),
    "OneCycleLR": Entry(
        dict(max_lr=0.1, total_steps=100), "batch", "max_lr, total_steps, pct_start",
        "fast training to a fixed budget (super-convergence)"),
    "ReduceLROnPlateau": Entry(
        dict(metrics=None, patience=5, factor=0.5), "epoch, after validation: step(metric)",
        "patience, factor, threshold, cooldown, min_lr",
        "no fixed plan: cut the rate when the validation metric stalls"),
    "SequentialLR": Entry(
        warmup_cosine(10, 100), "batch or epoch", "schedulers, milestones",
        "phases one after another: warm-up, then the main decay"),
    "ChainedScheduler": Entry(
        dict(schedulers=[("ExponentialLR", dict(gamma=0.98)),
                         ("MultiStepLR", dict(milestones=[50], gamma=0.2))]),
        "epoch", "schedulers", "several effects at once: their factors multiply"),
}


def kwargs_for(name: str) -> dict[str, Any]:
    """The keyword arguments of ``name`` on the sheet, ready for ``lr_curve(name, STEPS, LR,
    **kwargs)`` (ReduceLROnPlateau gets the simulated validation loss as its metrics)."""
    kwargs = dict(ENTRIES[name].kwargs)
    if name == "ReduceLROnPlateau":
        kwargs["metrics"] = validation_loss(STEPS)
    return kwargs


def curves() -> dict[str, np.ndarray]:
    """Every scheduler's curve on the sheet, in course order."""
    return {name: lr_curve(name, STEPS, LR, **kwargs_for(name)) for name in TORCH_SCHEDULERS}


def marks(curves_: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Milestones, restarts, phase ends and plateau cuts worth a dotted line on each panel."""
    out = {name: milestone_steps(name, STEPS, kwargs_for(name)) for name in curves_}
    out["ReduceLROnPlateau"] = reductions(curves_["ReduceLROnPlateau"])
    return out


def table() -> str:
    """The sheet as a Markdown table: scheduler, stepping unit, key parameters, when to use."""
    rows = ["| scheduler | stepped per | key parameters | when to use |",
            "|---|---|---|---|"]
    for name in TORCH_SCHEDULERS:
        e = ENTRIES[name]
        rows.append(f"| `{name}` | {e.stepped} | {e.key_params} | {e.when} |")
    return "\n".join(rows)


def pair(first: str = "CosineAnnealingLR", second: str = "OneCycleLR") -> dict[str, np.ndarray]:
    """Two schedulers of the sheet on one plot (an explorer with two drop-downs)."""
    return {name: lr_curve(name, STEPS, LR, **kwargs_for(name)) for name in dict.fromkeys((first, second))}


def choices(first: str) -> tuple[str, ...]:
    """All scheduler names with ``first`` first (a drop-down that starts at ``first``)."""
    return (first, *(name for name in TORCH_SCHEDULERS if name != first))


def print_values(curves_: dict[str, np.ndarray], steps=(0, 25, 50, 75, 99)) -> None:
    """One line per scheduler: its rate at ``steps`` (3 significant digits)."""
    width = max(len(name) for name in curves_) + 2
    print("step".ljust(width) + "".join(f"{k:>10d}" for k in steps))
    for name, y in curves_.items():
        print(name.ljust(width) + "".join(f"{y[k]:>10.3g}" for k in steps))
