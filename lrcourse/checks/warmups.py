r"""Checks for exercise 9: the warm-ups ConstantLR and LinearLR, and building one from a spec.

* ``constant_lr(epoch, base_lr, factor, total_iters)`` and ``linear_lr(epoch, base_lr,
  start_factor, end_factor, total_iters)``: closed forms of the rate each scheduler uses in
  epoch ``e`` (with :math:`T` = total_iters):

  .. math:: \text{ConstantLR: } \eta_e = \eta_0 \cdot \begin{cases} f & e < T \\ 1 & e \ge T
            \end{cases} \qquad
            \text{LinearLR: } \eta_e = \eta_0 \Big(s + (e_f - s)\,\frac{\min(e, T)}{T}\Big)

* ``make_warmup(optimizer, warmup_lr, warmup_epochs)``: build the torch scheduler that starts
  at the absolute rate ``warmup_lr`` and rises linearly to the optimizer's rate, reached at
  epoch ``warmup_epochs``.  The factors torch takes are fractions of the optimizer's rate, so
  the answer is ``LinearLR(optimizer, start_factor=warmup_lr / lr, total_iters=warmup_epochs)``,
  which is the reference.  The check builds an SGD optimizer with ``lr`` and steps what the
  function returns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import learner_facing
from .curve_check import RateOfStep, SchedulerBuilder
from .diagnosis import written
from .spec import run_in_notebook


def _lr(rng: np.random.Generator) -> float:
    return round(float(rng.uniform(0.001, 1.0)), 4)


def _truth(name: str) -> Callable[[dict], np.ndarray]:
    def truth(case: dict) -> np.ndarray:
        from lrcourse import reference  # torch: only where expected values are computed

        params = dict(case["params"])
        return reference.lr_curve(name, case["steps"], params.pop("base_lr"), **params)

    return truth


# ------------------------------------------------------------------------- ConstantLR


def _draw_constant(rng: np.random.Generator) -> dict:
    T = int(rng.integers(1, 16))
    return {"steps": int(rng.integers(2, T + 10)),
            "params": {"base_lr": _lr(rng), "factor": round(float(rng.uniform(0.05, 0.95)), 3),
                       "total_iters": T}}


def _constant(rule):
    return lambda epoch, base_lr, factor, total_iters: rule(epoch, base_lr, factor, total_iters)


CONSTANT_LR = RateOfStep(
    name="check_constant_lr", subject="constant_lr", torch_name="ConstantLR", variable="epoch",
    public=[
        {"steps": 10, "params": {"base_lr": 0.05, "factor": 0.5, "total_iters": 4}},
        {"steps": 8, "params": {"base_lr": 1.0, "factor": 0.1, "total_iters": 3}},
        {"steps": 6, "params": {"base_lr": 0.2, "factor": 0.25, "total_iters": 1}},
    ],
    draw=_draw_constant, truth=_truth("ConstantLR"),
    mistakes=(
        written("the reduced rate lasts one epoch too long",
                _constant(lambda e, b, f, T: b * f if e <= T else b),
                "your reduced rate lasts one epoch too long: ConstantLR restores the full rate "
                "at epoch total_iters (epochs 0 .. total_iters - 1 use factor * base_lr)"),
        written("the reduced rate ends one epoch early",
                _constant(lambda e, b, f, T: b * f if e < T - 1 else b),
                "your reduced rate ends one epoch early: epochs 0 .. total_iters - 1 (all "
                "total_iters of them) use factor * base_lr"),
        written("the two phases are swapped (the full rate comes first)",
                _constant(lambda e, b, f, T: b if e < T else b * f),
                "your two phases are swapped: the factor applies first, from epoch 0 (building "
                "the scheduler applies it), and the full rate comes back at total_iters"),
        written("the factor itself is returned instead of the reduced rate",
                _constant(lambda e, b, f, T: f if e < T else b),
                "you return the factor, not a rate: the reduced rate is factor * base_lr"),
        written("the rate never comes back to the full rate",
                _constant(lambda e, b, f, T: b * f),
                "your rate never comes back: ConstantLR restores base_lr at epoch total_iters"),
    ),
)


@learner_facing
def check_constant_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``constant_lr(epoch, base_lr, factor, total_iters)`` against ConstantLR.

    Expected: :math:`\eta_0 f` for :math:`e < T`, then :math:`\eta_0`.
    """
    run_in_notebook(CONSTANT_LR, fn, hidden, seed)


# --------------------------------------------------------------------------- LinearLR


def _draw_linear(rng: np.random.Generator) -> dict:
    T = int(rng.integers(1, 21))
    start = round(float(rng.uniform(0.01, 1.0)), 3)
    end = round(float(rng.uniform(0.0, 1.0)), 3) if rng.random() < 0.4 else 1.0
    return {"steps": T + int(rng.integers(1, 13)),
            "params": {"base_lr": _lr(rng), "start_factor": start, "end_factor": end,
                       "total_iters": T}}


def _linear(rule):
    return lambda epoch, base_lr, start_factor, end_factor, total_iters: rule(
        epoch, base_lr, start_factor, end_factor, total_iters)


LINEAR_LR = RateOfStep(
    name="check_linear_lr", subject="linear_lr", torch_name="LinearLR", variable="epoch",
    public=[
        {"steps": 10, "params": {"base_lr": 0.05, "start_factor": 0.5, "end_factor": 1.0,
                                 "total_iters": 8}},
        {"steps": 8, "params": {"base_lr": 1.0, "start_factor": 1.0, "end_factor": 0.1,
                                "total_iters": 5}},
        {"steps": 6, "params": {"base_lr": 0.1, "start_factor": 0.25, "end_factor": 0.75,
                                "total_iters": 3}},
    ],
    draw=_draw_linear, truth=_truth("LinearLR"),
    mistakes=(
        written("the rate keeps moving after the end of the interpolation (the epoch is not "
                "clamped)",
                _linear(lambda e, b, s, f, T: b * (s + (f - s) * e / T)),
                "past total_iters your rate keeps moving: LinearLR holds end_factor * base_lr "
                "from epoch total_iters on (use min(epoch, total_iters))"),
        written("the interpolation reaches its end one epoch early",
                _linear(lambda e, b, s, f, T: b * (s + (f - s) * min(e, T - 1) / (T - 1))),
                "your rate reaches end_factor * base_lr at epoch total_iters - 1, one epoch "
                "early: the interpolation runs over total_iters steps, epoch/total_iters"),
        written("the end factor is ignored (the rate ends at the initial rate)",
                _linear(lambda e, b, s, f, T: b * (s + (1 - s) * min(e, T) / T)),
                "end_factor is ignored: your rate ends at base_lr, but LinearLR ends at "
                "end_factor * base_lr"),
        written("the factors are used as rates (not multiplied by the initial rate)",
                _linear(lambda e, b, s, f, T: s + (f - s) * min(e, T) / T),
                "start_factor and end_factor are fractions of base_lr, not rates: multiply the "
                "factor by base_lr"),
        written("the curve is one epoch ahead",
                _linear(lambda e, b, s, f, T: b * (s + (f - s) * min(e + 1, T) / T)),
                "your rate is one epoch ahead: epoch 0 uses start_factor * base_lr"),
    ),
    hint=lambda case, first: (
        "epoch total_iters is the first one at end_factor * base_lr, and every later epoch "
        "stays there" if first >= case["params"]["total_iters"] else ""),
)


@learner_facing
def check_linear_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``linear_lr(epoch, base_lr, start_factor, end_factor, total_iters)`` against
    LinearLR.

    Expected: :math:`\eta_0 (s + (e_f - s) \min(e, T) / T)`.
    """
    run_in_notebook(LINEAR_LR, fn, hidden, seed)


# -------------------------------------------------------------- a warm-up from a spec


def _warmup_truth(case: dict) -> np.ndarray:
    from lrcourse import reference

    (lr,), params = case["groups"], case["params"]
    return reference.lr_curve("LinearLR", case["steps"], lr,
                              start_factor=params["warmup_lr"] / lr, end_factor=1.0,
                              total_iters=params["warmup_epochs"])


def _draw_warmup(rng: np.random.Generator) -> dict:
    lr = round(float(rng.uniform(0.01, 1.0)), 4)
    W = int(rng.integers(1, 16))
    return {"steps": W + int(rng.integers(1, 11)), "groups": [lr],
            "params": {"warmup_lr": round(lr * float(rng.uniform(0.01, 0.9)), 6),
                       "warmup_epochs": W}}


def _lr_of(optimizer) -> float:
    return optimizer.param_groups[0]["lr"]


def _built(name: str, optimizer, **kwargs):
    """``torch.optim.lr_scheduler.<name>(optimizer, **kwargs)``: how the mistakes build theirs."""
    from torch.optim import lr_scheduler

    return getattr(lr_scheduler, name)(optimizer, **kwargs)


MAKE_WARMUP = SchedulerBuilder(
    name="check_make_warmup", subject="make_warmup", torch_name="LinearLR", variable="epoch",
    public=[
        {"steps": 10, "groups": [0.1], "params": {"warmup_lr": 0.01, "warmup_epochs": 5}},
        {"steps": 8, "groups": [0.5], "params": {"warmup_lr": 0.05, "warmup_epochs": 3}},
        {"steps": 5, "groups": [1.0], "params": {"warmup_lr": 0.25, "warmup_epochs": 1}},
    ],
    draw=_draw_warmup, truth=_warmup_truth,
    mistakes=(
        written("the start factor is given as a rate instead of as a fraction of the optimizer's "
                "rate",
                lambda optimizer, warmup_lr, warmup_epochs: _built(
                    "LinearLR", optimizer, start_factor=warmup_lr, total_iters=warmup_epochs),
                "start_factor is a fraction of the optimizer's rate, not a rate: "
                "warmup_lr / optimizer.param_groups[0]['lr']"),
        written("the warm-up reaches the full rate one epoch early",
                lambda optimizer, warmup_lr, warmup_epochs: _built(
                    "LinearLR", optimizer, start_factor=warmup_lr / _lr_of(optimizer),
                    total_iters=warmup_epochs - 1),
                "your warm-up reaches the full rate one epoch early: with LinearLR, "
                "total_iters is the first epoch at the full rate, warmup_epochs here"),
        written("the warm-up reaches the full rate one epoch late",
                lambda optimizer, warmup_lr, warmup_epochs: _built(
                    "LinearLR", optimizer, start_factor=warmup_lr / _lr_of(optimizer),
                    total_iters=warmup_epochs + 1),
                "your warm-up reaches the full rate one epoch late: total_iters=warmup_epochs"),
        written("the warm-up's length is left at LinearLR's default",
                lambda optimizer, warmup_lr, warmup_epochs: _built(
                    "LinearLR", optimizer, start_factor=warmup_lr / _lr_of(optimizer)),
                "LinearLR's total_iters defaults to 5: pass total_iters=warmup_epochs"),
        written("the warm-up holds a constant rate and then jumps (ConstantLR instead of LinearLR)",
                lambda optimizer, warmup_lr, warmup_epochs: _built(
                    "ConstantLR", optimizer, factor=warmup_lr / _lr_of(optimizer),
                    total_iters=warmup_epochs),
                "your warm-up holds warmup_lr and then jumps (that is ConstantLR): this one "
                "rises linearly (LinearLR)"),
    ),
)


@learner_facing
def check_make_warmup(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``make_warmup(optimizer, warmup_lr, warmup_epochs)``: the scheduler it returns,
    stepped on an SGD optimizer, against ``LinearLR(start_factor=warmup_lr / lr,
    total_iters=warmup_epochs)``.
    """
    run_in_notebook(MAKE_WARMUP, fn, hidden, seed)


CHECKS = {check.name: check for check in (CONSTANT_LR, LINEAR_LR, MAKE_WARMUP)}
