r"""Checks for exercise 8: a step decay and a linear warm-up written as LambdaLR factors.

The learner writes two factor functions; each check builds a real
``LambdaLR(optimizer, lambda epoch: fn(epoch, **params))`` with them (on one or two parameter
groups) and compares the rates with a torch scheduler that computes the same schedule:

* ``step_decay(epoch, step_size, gamma)``: the factor :math:`\gamma^{\lfloor e / s \rfloor}`,
  compared with ``StepLR(step_size, gamma)``;
* ``linear_warmup(epoch, warmup_epochs)``: the factor :math:`\min(1, (e + 1) / W)`, compared
  with ``LinearLR(start_factor=1/W, end_factor=1, total_iters=W - 1)``.

The warm-up reaches the full rate at epoch :math:`W - 1`, the last epoch of the warm-up, so
that no epoch trains at rate 0 (exercise 12 writes transformers' warm-up, which starts at 0).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import learner_facing
from .curve_check import LambdaFactor
from .diagnosis import written
from .spec import run_in_notebook


def _groups(rng: np.random.Generator) -> list[float]:
    return [round(float(rng.uniform(0.001, 1.0)), 4) for _ in range(int(rng.integers(1, 3)))]


# ------------------------------------------------------------------------- step decay


def _step_truth(case: dict):
    from lrcourse import reference  # torch: only where expected values are computed

    return reference.group_lr_curves("StepLR", case["steps"], case["groups"], **case["params"])


def _draw_step(rng: np.random.Generator) -> dict:
    return {"steps": int(rng.integers(8, 40)), "groups": _groups(rng),
            "params": {"step_size": int(rng.integers(1, 9)),
                       "gamma": round(float(rng.uniform(0.05, 0.95)), 3)}}


STEP_DECAY = LambdaFactor(
    name="check_step_decay", subject="step_decay", torch_name="StepLR", variable="epoch",
    public=[
        {"steps": 10, "groups": [0.1], "params": {"step_size": 3, "gamma": 0.5}},
        {"steps": 12, "groups": [0.1, 0.01], "params": {"step_size": 4, "gamma": 0.1}},
        {"steps": 7, "groups": [1.0], "params": {"step_size": 1, "gamma": 0.9}},
    ],
    draw=_draw_step, truth=_step_truth,
    mistakes=(
        written("the factor is the number of decays itself, not the decay factor raised to it",
                lambda epoch, step_size, gamma: epoch // step_size,
                "your factor is `epoch // step_size` itself, the mistake lesson 1 warns about: "
                "LambdaLR multiplies the optimizer's rate by what you return, so the rate is 0 "
                "until epoch step_size and then grows. Return gamma ** (epoch // step_size)"),
        written("the factor changes at every epoch (true division where floor division belongs)",
                lambda epoch, step_size, gamma: gamma ** (epoch / step_size),
                "your rate changes at every epoch: `/` is true division; with `//` the exponent, "
                "and the rate, stay the same for step_size epochs"),
        written("each decay comes one epoch early",
                lambda epoch, step_size, gamma: gamma ** ((epoch + 1) // step_size),
                "your rate drops one epoch early: epochs count from 0, so epoch step_size is the "
                "first epoch with the smaller rate"),
        written("the first decay is already applied at the start (the exponent is one too large)",
                lambda epoch, step_size, gamma: gamma ** (epoch // step_size + 1),
                "your rate is already multiplied by gamma at epoch 0: the factor of epoch 0 "
                "must be 1 (LambdaLR applies it from the first epoch)"),
        written("the rate decays once and then stays (the decay does not repeat)",
                lambda epoch, step_size, gamma: gamma if epoch >= step_size else 1.0,
                "your rate drops only once: the decay multiplies it by gamma again every "
                "step_size epochs (gamma ** (epoch // step_size))"),
    ),
    hint=lambda case, first: "the factor of epoch e is gamma ** (e // step_size): 1 for epochs "
                             "0 .. step_size - 1",
)


@learner_facing
def check_step_decay(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check the factor ``step_decay(epoch, step_size, gamma)`` in a LambdaLR against StepLR.

    Expected factor: :math:`\gamma^{\lfloor e / \text{step\_size} \rfloor}`.
    """
    run_in_notebook(STEP_DECAY, fn, hidden, seed)


# ---------------------------------------------------------------------- linear warm-up


def _warmup_truth(case: dict):
    from lrcourse import reference

    W = case["params"]["warmup_epochs"]
    return reference.group_lr_curves("LinearLR", case["steps"], case["groups"],
                                     start_factor=1 / W, end_factor=1.0, total_iters=W - 1)


def _draw_warmup(rng: np.random.Generator) -> dict:
    W = int(rng.integers(2, 13))
    return {"steps": W + int(rng.integers(2, 20)), "groups": _groups(rng),
            "params": {"warmup_epochs": W}}


def _warmup_hint(case: dict, first: int) -> str:
    W = case["params"]["warmup_epochs"]
    return (f"the factor is (epoch + 1) / {W} for epochs 0 .. {W - 1} (the last one is 1), "
            f"then 1: torch's LinearLR(start_factor=1/{W}, total_iters={W - 1})")


LINEAR_WARMUP = LambdaFactor(
    name="check_linear_warmup", subject="linear_warmup", torch_name="LinearLR",
    variable="epoch",
    public=[
        {"steps": 8, "groups": [0.1], "params": {"warmup_epochs": 4}},
        {"steps": 10, "groups": [0.5, 0.05], "params": {"warmup_epochs": 5}},
        {"steps": 6, "groups": [1.0], "params": {"warmup_epochs": 2}},
    ],
    draw=_draw_warmup, truth=_warmup_truth,
    mistakes=(
        written("the warm-up starts at zero, so the first epoch does not train",
                lambda epoch, warmup_epochs: min(1.0, epoch / warmup_epochs),
                "your warm-up starts at 0, so epoch 0 does not train at all: this warm-up is "
                "(epoch + 1) / warmup_epochs, so that epoch 0 takes a small step and epoch "
                "warmup_epochs - 1 already uses the full rate"),
        written("the warm-up starts at zero, so the first epoch does not train",
                lambda epoch, warmup_epochs: min(1.0, epoch / (warmup_epochs - 1)),
                "your warm-up starts at 0, so epoch 0 does not train at all: this warm-up is "
                "(epoch + 1) / warmup_epochs, so that epoch 0 takes a small step"),
        written("the factor keeps growing after the warm-up (it is not capped at one)",
                lambda epoch, warmup_epochs: (epoch + 1) / warmup_epochs,
                "your factor keeps growing after the warm-up: cap it at 1 with min(1.0, ...)"),
        written("integer division makes the factor zero for the whole warm-up",
                lambda epoch, warmup_epochs: min(1, (epoch + 1) // warmup_epochs),
                "`//` is integer division: your factor is 0 for the whole warm-up, then 1; "
                "use `/`"),
        written("the full rate comes one epoch late",
                lambda epoch, warmup_epochs: min(1.0, (epoch + 1) / (warmup_epochs + 1)),
                "your full rate comes one epoch late: epoch warmup_epochs - 1, the last epoch "
                "of the warm-up, already uses it ((epoch + 1) / warmup_epochs)"),
    ),
    hint=_warmup_hint,
)


@learner_facing
def check_linear_warmup(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check the factor ``linear_warmup(epoch, warmup_epochs)`` in a LambdaLR against
    ``LinearLR(start_factor=1/W, end_factor=1, total_iters=W - 1)``.

    Expected factor: :math:`\min(1, (e + 1) / W)`.
    """
    run_in_notebook(LINEAR_WARMUP, fn, hidden, seed)


CHECKS = {check.name: check for check in (STEP_DECAY, LINEAR_WARMUP)}
