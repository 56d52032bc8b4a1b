r"""Checks for exercise 11: SWALR in closed form, on its own and in the SWA recipe.

* ``swalr_lr(step, lr, swa_lr, anneal_epochs, anneal_strategy)``: the rate after ``step``
  calls of ``SWALR.step()``, SWALR built on an optimizer whose rate is ``lr``.  With
  :math:`A` = anneal_epochs and :math:`x = \min(1, \text{step}/A)`:

  .. math:: \eta = \eta_{swa}\,\alpha + \eta_h\,(1 - \alpha), \qquad
            \alpha = \tfrac12(1 - \cos \pi x) \text{ ("cos")}, \quad \alpha = x \text{ ("linear")}

  with :math:`\eta_h` = ``lr``.
* ``swa_recipe_lr(epoch, lr, T_max, swa_start, swa_lr, anneal_epochs, anneal_strategy)``: the
  recipe of torch's documentation, ``CosineAnnealingLR(T_max)`` until epoch ``swa_start``
  (included), then SWALR, which anneals from the cosine's rate at ``swa_start``
  (:math:`\eta_h = f(s)`) with :math:`x = \min(1, (e - s)/A)`.

The reference is the real ``torch.optim.swa_utils.SWALR`` (after a real CosineAnnealingLR),
stepped by :func:`lrcourse.reference.swalr_curve`; ``lrcourse.schedules.swa`` holds the same
closed form, which the learner may not use.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._core import learner_facing
from .curve_check import RateOfStep
from .diagnosis import written
from .spec import run_in_notebook

SWA_UTILS = "torch.optim.swa_utils"


def _alpha(x: float, strategy: str) -> float:
    return (1 - math.cos(math.pi * x)) / 2 if strategy == "cos" else x


def _anneal(k, lr, swa_lr, A, strategy, *, alpha=_alpha, clamp=True, ahead=0, over=None):
    """An SWALR-like rate after k steps, with the knobs the mistakes below turn."""
    x = (k + ahead) / (A if over is None else over)
    x = max(0.0, min(1.0, x)) if clamp else x
    a = alpha(x, strategy)
    return swa_lr * a + lr * (1 - a)


def _draw_lr(rng: np.random.Generator) -> float:
    return round(float(rng.uniform(0.001, 1.0)), 4)


# ------------------------------------------------------------------------------ SWALR


def _swalr_truth(case: dict) -> np.ndarray:
    from lrcourse import reference  # torch: only where expected values are computed

    return reference.swalr_curve(case["steps"], **case["params"])


def _draw_swalr(rng: np.random.Generator) -> dict:
    A = int(rng.integers(1, 13))
    return {"steps": A + int(rng.integers(2, 13)),
            "params": {"lr": _draw_lr(rng), "swa_lr": round(float(rng.uniform(0.0, 1.0)), 4),
                       "anneal_epochs": A,
                       "anneal_strategy": str(rng.choice(["cos", "linear"]))}}


def _swalr(**how):
    return lambda step, lr, swa_lr, anneal_epochs, anneal_strategy: _anneal(
        step, lr, swa_lr, anneal_epochs, anneal_strategy, **how)


SWALR_LR = RateOfStep(
    name="check_swalr_lr", subject="swalr_lr", torch_name="SWALR", variable="step",
    reference_module=SWA_UTILS,
    public=[
        {"steps": 8, "params": {"lr": 0.1, "swa_lr": 0.05, "anneal_epochs": 4,
                                "anneal_strategy": "cos"}},
        {"steps": 9, "params": {"lr": 0.02, "swa_lr": 0.1, "anneal_epochs": 5,
                                "anneal_strategy": "linear"}},
        {"steps": 5, "params": {"lr": 0.5, "swa_lr": 0.05, "anneal_epochs": 1,
                                "anneal_strategy": "cos"}},
    ],
    draw=_draw_swalr, truth=_swalr_truth,
    mistakes=(
        written("the two annealing strategies are swapped",
                _swalr(alpha=lambda x, s: _alpha(x, "linear" if s == "cos" else "cos")),
                'your two strategies are swapped: "cos" uses alpha = (1 - cos(pi x)) / 2 and '
                '"linear" alpha = x'),
        written("the rate runs backwards, from the SWA rate to the initial rate",
                _swalr(alpha=lambda x, s: 1 - _alpha(x, s)),
                "your rate runs backwards, from swa_lr to lr: alpha goes from 0 to 1 and "
                "weighs swa_lr, so the rate is swa_lr * alpha + lr * (1 - alpha) with "
                "alpha = (1 - cos(pi x)) / 2 (\"cos\") or x (\"linear\")"),
        written("the annealing does not stop at the SWA rate (its progress is not clamped)",
                _swalr(clamp=False),
                "after anneal_epochs steps the rate stays at swa_lr: clamp "
                "x = min(1, step / anneal_epochs)"),
        written("the rate reaches the SWA rate one step late",
                lambda step, lr, swa_lr, anneal_epochs, anneal_strategy: _anneal(
                    step, lr, swa_lr, anneal_epochs, anneal_strategy, over=anneal_epochs + 1),
                "your rate reaches swa_lr one step late: it gets there after exactly "
                "anneal_epochs steps (x = step / anneal_epochs)"),
        written("the curve is one step ahead (the first step already anneals)",
                _swalr(ahead=1),
                "your rate is one step ahead: step 0 is the rate SWALR found, unchanged "
                "(building SWALR does not move it)"),
    ),
    hint=lambda case, first: (
        "the rate moves from lr to swa_lr over anneal_epochs steps and then stays at swa_lr"),
)


@learner_facing
def check_swalr_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``swalr_lr(step, lr, swa_lr, anneal_epochs, anneal_strategy)`` against
    ``torch.optim.swa_utils.SWALR`` (built on an optimizer of rate ``lr``, stepped ``step``
    times).
    """
    run_in_notebook(SWALR_LR, fn, hidden, seed)


# ------------------------------------------------------------------------ the SWA recipe


def _recipe_truth(case: dict) -> np.ndarray:
    from lrcourse import reference

    p = dict(case["params"])
    T_max = p.pop("T_max")
    return reference.swalr_curve(case["steps"], scheduler=("CosineAnnealingLR", {"T_max": T_max}),
                                 **p)


def _draw_recipe(rng: np.random.Generator) -> dict:
    T_max = int(rng.integers(6, 51))
    steps = T_max + int(rng.integers(0, 6))
    lr = _draw_lr(rng)
    return {"steps": steps,
            "params": {"lr": lr, "T_max": T_max, "swa_start": int(rng.integers(1, steps - 1)),
                       "swa_lr": round(lr * float(rng.uniform(0.05, 0.6)), 6),
                       "anneal_epochs": int(rng.integers(1, 9)),
                       "anneal_strategy": str(rng.choice(["cos", "linear"]))}}


def _cos(e, lr, T_max):
    return lr * (1 + math.cos(math.pi * e / T_max)) / 2


def _recipe(*, start=lambda s: s, from_rate=None, count=lambda e, s: e - s):
    """The recipe with the knobs the mistakes below turn: when SWALR takes over, the rate it
    anneals from, and how it counts its steps."""
    def fn(epoch, lr, T_max, swa_start, swa_lr, anneal_epochs, anneal_strategy):
        s = start(swa_start)
        if epoch <= s:
            return _cos(epoch, lr, T_max)
        handover = _cos(s, lr, T_max) if from_rate is None else from_rate(lr, T_max, s)
        return _anneal(count(epoch, s), handover, swa_lr, anneal_epochs, anneal_strategy)
    return fn


SWA_RECIPE_LR = RateOfStep(
    name="check_swa_recipe_lr", subject="swa_recipe_lr",
    torch_name="SWALR after CosineAnnealingLR", variable="epoch", reference_module=SWA_UTILS,
    public=[
        {"steps": 20, "params": {"lr": 0.1, "T_max": 20, "swa_start": 8, "swa_lr": 0.03,
                                 "anneal_epochs": 4, "anneal_strategy": "cos"}},
        {"steps": 15, "params": {"lr": 0.05, "T_max": 15, "swa_start": 5, "swa_lr": 0.02,
                                 "anneal_epochs": 3, "anneal_strategy": "linear"}},
        {"steps": 12, "params": {"lr": 1.0, "T_max": 12, "swa_start": 9, "swa_lr": 0.3,
                                 "anneal_epochs": 2, "anneal_strategy": "cos"}},
    ],
    draw=_draw_recipe, truth=_recipe_truth,
    mistakes=(
        written("SWALR anneals from the initial rate instead of from the rate it takes over",
                _recipe(from_rate=lambda lr, T_max, s: lr),
                "SWALR anneals from the rate it finds when it takes over (the cosine's rate "
                "at epoch swa_start), not from lr"),
        written("SWALR takes over one epoch late",
                _recipe(start=lambda s: s + 1),
                "SWALR takes over one epoch late: epoch swa_start + 1 is already its first "
                "annealing step (torch's docstring writes `if i > swa_start`, which hands "
                "over one epoch later than this recipe)"),
        written("the annealing starts one epoch early",
                _recipe(start=lambda s: s - 1,
                        from_rate=lambda lr, T_max, s: _cos(s + 1, lr, T_max)),
                "your annealing starts one epoch early: epoch swa_start still uses the "
                "cosine's rate, and x = (epoch - swa_start) / anneal_epochs"),
        written("SWALR anneals from the cosine's rate of the epoch before the hand-over",
                _recipe(from_rate=lambda lr, T_max, s: _cos(s - 1, lr, T_max)),
                "SWALR anneals from the cosine's rate at epoch swa_start, the last epoch the "
                "cosine sets, not from the epoch before"),
        written("SWALR counts the epochs from the start of training instead of from its own start",
                _recipe(count=lambda e, s: e),
                "SWALR counts its own steps: x = (epoch - swa_start) / anneal_epochs, not "
                "epoch / anneal_epochs"),
    ),
    hint=lambda case, first: (
        f"epochs 0 .. {case['params']['swa_start']} (swa_start) use the cosine; from there "
        "SWALR anneals from the cosine's rate at swa_start"),
)


@learner_facing
def check_swa_recipe_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``swa_recipe_lr(epoch, lr, T_max, swa_start, swa_lr, anneal_epochs,
    anneal_strategy)`` against CosineAnnealingLR then SWALR from ``swa_start``, stepped by
    torch.
    """
    run_in_notebook(SWA_RECIPE_LR, fn, hidden, seed)


CHECKS = {check.name: check for check in (SWALR_LR, SWA_RECIPE_LR)}
