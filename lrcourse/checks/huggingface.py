r"""Check for exercise 12: transformers' warm-up + cosine, written as a LambdaLR factor.

The learner writes the factor of ``get_cosine_schedule_with_warmup`` (Hugging Face
transformers), ``cosine_with_warmup_lambda(current_step, num_warmup_steps,
num_training_steps, num_cycles)``.  With :math:`W` = num_warmup_steps, :math:`T` =
num_training_steps and :math:`c` = num_cycles:

.. math::

    \lambda(t) = \begin{cases} t / W & t < W \\
      \tfrac12\bigl(1 + \cos(2\pi c\, p_t)\bigr), \quad p_t = \dfrac{t - W}{T - W} & t \ge W
    \end{cases}

The warm-up starts at 0 and reaches the peak at step :math:`W`; nothing clamps :math:`p_t`, so
past :math:`T` the cosine goes on.  The check builds ``LambdaLR(optimizer, lambda step:
fn(step, num_warmup_steps=W, num_training_steps=T, num_cycles=c))``, as transformers does
with its own function, and steps it past ``num_training_steps``.

The reference is built from torch's classes (transformers is not needed):
``SequentialLR([LambdaLR(lambda t: t / W), CosineAnnealingLR(T_max=(T - W) / (2c))],
milestones=[W])``, or the cosine alone when :math:`W = 0`.  A cosine of :math:`c` waves over
:math:`T - W` steps is torch's cosine with half-period :math:`(T - W)/(2c)`, which every case
keeps a whole number; torch's cosine, too, climbs back after each minimum.  The tests check
this reference against transformers itself where it is installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._core import learner_facing
from .curve_check import LambdaFactor
from .diagnosis import written
from .spec import run_in_notebook

#: num_cycles -> which lengths T - W give a whole half-period (T - W) / (2 num_cycles)
CYCLES = {0.25: 1, 0.5: 1, 1.0: 2, 1.5: 3, 2.0: 4}


def _truth(case: dict) -> np.ndarray:
    from lrcourse import reference  # torch: only where expected values are computed

    p = case["params"]
    W, T, c = p["num_warmup_steps"], p["num_training_steps"], p["num_cycles"]
    half_period = round((T - W) / (2 * c))
    cosine = ("CosineAnnealingLR", {"T_max": half_period})
    if W == 0:
        return reference.group_lr_curves(cosine[0], case["steps"], case["groups"], **cosine[1])
    return reference.group_lr_curves(
        "SequentialLR", case["steps"], case["groups"], milestones=[W],
        schedulers=[("LambdaLR", {"lr_lambda": lambda t: t / W}), cosine])


def _draw(rng: np.random.Generator) -> dict:
    W = 0 if rng.random() < 0.2 else int(rng.integers(1, 11))
    c = float(rng.choice([0.5, 0.5, 0.25, 1.0, 1.5, 2.0]))
    span = CYCLES[c] * int(rng.integers(1, 40 // CYCLES[c] + 1))  # T - W
    groups = [round(float(rng.uniform(0.001, 1.0)), 4) for _ in range(int(rng.integers(1, 3)))]
    return {"steps": W + span + int(rng.integers(1, span + 2)), "groups": groups,
            "params": {"num_warmup_steps": W, "num_training_steps": W + span, "num_cycles": c}}


def _hf(warm=lambda t, W: t / W, progress=lambda t, W, T: (t - W) / (T - W), waves=2.0,
        cycles=None):
    """transformers' factor with the knobs the mistakes below turn."""
    def factor(current_step, num_warmup_steps, num_training_steps, num_cycles=0.5):
        t, W, T = current_step, num_warmup_steps, num_training_steps
        if t < W:
            return warm(t, W)
        c = num_cycles if cycles is None else cycles
        return max(0.0, 0.5 * (1 + math.cos(math.pi * c * waves * progress(t, W, T))))
    return factor


def _hint(case: dict, first: int) -> str:
    p = case["params"]
    if first < p["num_warmup_steps"]:
        return "during the warm-up the factor is step / num_warmup_steps: 0 at step 0"
    if first > p["num_training_steps"]:
        return "past num_training_steps the cosine goes on: nothing clamps the progress"
    return "the cosine's progress is (step - num_warmup_steps) / (num_training_steps - " \
           "num_warmup_steps), and its angle 2 pi num_cycles progress"


COSINE_WITH_WARMUP_LAMBDA = LambdaFactor(
    name="check_cosine_with_warmup_lambda", subject="cosine_with_warmup_lambda",
    torch_name="SequentialLR of LambdaLR(t / W) then CosineAnnealingLR (transformers' "
               "get_cosine_schedule_with_warmup)",
    variable="step",
    public=[
        {"steps": 28, "groups": [0.1], "params": {"num_warmup_steps": 4,
                                                  "num_training_steps": 20, "num_cycles": 0.5}},
        {"steps": 24, "groups": [1.0, 0.1], "params": {"num_warmup_steps": 3,
                                                       "num_training_steps": 19,
                                                       "num_cycles": 1.0}},
        {"steps": 15, "groups": [0.5], "params": {"num_warmup_steps": 0,
                                                  "num_training_steps": 12, "num_cycles": 0.5}},
        {"steps": 14, "groups": [0.2], "params": {"num_warmup_steps": 2,
                                                  "num_training_steps": 12,
                                                  "num_cycles": 0.25}},
    ],
    draw=_draw, truth=_truth,
    mistakes=(
        written("the warm-up does not start at zero (it is one step ahead)",
                _hf(warm=lambda t, W: (t + 1) / W),
                "transformers' warm-up starts at 0: step t < num_warmup_steps uses "
                "t / num_warmup_steps, so step 0 trains at rate 0 and the peak comes at step "
                "num_warmup_steps (torch's LinearLR-style (t + 1) / W is one step ahead)"),
        written("the cosine's progress is measured over all the steps instead of over the steps "
                "after the warm-up",
                _hf(progress=lambda t, W, T: (t - W) / T),
                "the cosine runs over the steps after the warm-up: its progress is "
                "(step - num_warmup_steps) / (num_training_steps - num_warmup_steps)"),
        written("the cosine's progress counts from the first step instead of from the end of the "
                "warm-up",
                _hf(progress=lambda t, W, T: t / T),
                "the cosine starts at the end of the warm-up: its progress counts from "
                "num_warmup_steps, (step - num_warmup_steps) / (num_training_steps - "
                "num_warmup_steps)"),
        written("the number of cycles counts half-waves instead of whole waves",
                _hf(waves=1.0),
                "num_cycles counts whole cosine waves: the angle is 2 pi num_cycles progress, "
                "so the default 0.5 is half a wave, from the peak down to 0"),
        written("the cosine stops at the end of training (its progress is clamped)",
                _hf(progress=lambda t, W, T: min(1.0, (t - W) / (T - W))),
                "transformers does not stop at num_training_steps: nothing clamps the progress, "
                "so the cosine goes on (and the rate climbs back up)"),
        written("the number of cycles is ignored",
                _hf(cycles=0.5),
                "num_cycles is ignored: your cosine always makes half a wave"),
    ),
    hint=_hint,
)


@learner_facing
def check_cosine_with_warmup_lambda(fn: Callable, *, hidden: bool = False,
                                    seed: int = 0) -> None:
    r"""Check the factor ``cosine_with_warmup_lambda(current_step, num_warmup_steps,
    num_training_steps, num_cycles)`` in a LambdaLR against transformers'
    ``get_cosine_schedule_with_warmup``, rebuilt from torch's classes.
    """
    run_in_notebook(COSINE_WITH_WARMUP_LAMBDA, fn, hidden, seed)


CHECKS = {COSINE_WITH_WARMUP_LAMBDA.name: COSINE_WITH_WARMUP_LAMBDA}
