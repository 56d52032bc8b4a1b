r"""Checks for exercise 10: predicting the curve of two schedulers composed by torch.

* ``chained_lr(epoch, base_lr, factor, total_iters, gamma)``: the rate of
  ``ChainedScheduler([ConstantLR(factor, total_iters), ExponentialLR(gamma)])``.  Both
  members are multiplicative, so the chain is the product of their factors:
  :math:`\eta_e = \eta_0\,\gamma^e\,(f \text{ if } e < T \text{ else } 1)`.  (torch's own
  docstring example of ChainedScheduler gets this wrong: lesson 8.)
* ``sequential_lr(epoch, base_lr, start_factor, total_iters, milestone, step_size, gamma)``:
  the rate of ``SequentialLR([LinearLR(start_factor, total_iters=total_iters),
  StepLR(step_size, gamma)], milestones=[milestone])``.  The warm-up runs on its own clock
  until the milestone (cut off, or idling at the full rate, when ``total_iters`` differs from
  it); from the milestone on, StepLR restarts from ``base_lr`` with its own epoch
  :math:`e - m`.
* ``chained_cosine_curve(steps, base_lr, gamma, T_max, eta_min)``: the whole curve of
  ``ChainedScheduler([ExponentialLR(gamma), CosineAnnealingLR(T_max, eta_min)])`` for steps
  ``0 .. steps - 1`` (``steps <= T_max + 1``).  Each step applies the members' updates in
  list order, :math:`\eta \leftarrow \gamma\eta`, then
  :math:`\eta \leftarrow \eta_{min} + r_t(\eta - \eta_{min})` with
  :math:`r_t = \frac{1 + \cos(\pi t / T_{max})}{1 + \cos(\pi (t-1) / T_{max})}`: an affine map,
  so with :math:`\eta_{min} > 0` the curve is *not* the product of the members' own curves.

Every expected curve is the real composite, built by :func:`lrcourse.reference.lr_curve`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._core import learner_facing
from .curve_check import RateOfStep, WholeCurve
from .diagnosis import written
from .spec import run_in_notebook


def _lr(rng: np.random.Generator) -> float:
    return round(float(rng.uniform(0.001, 1.0)), 4)


def _composite(name: str, case: dict, members: list, **kwargs) -> np.ndarray:
    from lrcourse import reference  # torch: only where expected values are computed

    return reference.lr_curve(name, case["steps"], case["params"]["base_lr"],
                              schedulers=members, **kwargs)


# --------------------------------------------------------------- ChainedScheduler: product


def _chained_truth(case: dict) -> np.ndarray:
    p = case["params"]
    return _composite("ChainedScheduler", case, [
        ("ConstantLR", {"factor": p["factor"], "total_iters": p["total_iters"]}),
        ("ExponentialLR", {"gamma": p["gamma"]})])


def _draw_chained(rng: np.random.Generator) -> dict:
    T = int(rng.integers(1, 16))
    return {"steps": T + int(rng.integers(2, 16)),
            "params": {"base_lr": _lr(rng), "factor": round(float(rng.uniform(0.05, 0.95)), 3),
                       "total_iters": T, "gamma": round(float(rng.uniform(0.5, 0.99)), 3)}}


def _chained(rule):
    return lambda epoch, base_lr, factor, total_iters, gamma: rule(
        epoch, base_lr, factor, total_iters, gamma)


CHAINED_LR = RateOfStep(
    name="check_chained_lr", subject="chained_lr",
    torch_name="ChainedScheduler of ConstantLR and ExponentialLR", variable="epoch",
    public=[
        {"steps": 22, "params": {"base_lr": 0.05, "factor": 0.1, "total_iters": 20,
                                 "gamma": 0.9}},
        {"steps": 10, "params": {"base_lr": 1.0, "factor": 0.5, "total_iters": 4,
                                 "gamma": 0.8}},
        {"steps": 8, "params": {"base_lr": 0.1, "factor": 0.25, "total_iters": 3,
                                "gamma": 0.95}},
    ],
    draw=_draw_chained, truth=_chained_truth,
    mistakes=(
        written("the constant factor is not applied from the first epoch (the curve torch's own "
                "docstring lists)",
                _chained(lambda e, b, f, T, g: b * g**e if e < T else b * g**e / f),
                "this is the curve torch's own ChainedScheduler docstring lists, and it is "
                "wrong: ConstantLR's factor applies from epoch 0 (building it applies its step "
                "0), so epochs 0 .. total_iters - 1 use base_lr * factor * gamma ** epoch"),
        written("the exponential restarts when the constant factor ends (a hand-over, which is "
                "SequentialLR's)",
                _chained(lambda e, b, f, T, g: b * f * g**e if e < T else b * g ** (e - T)),
                "the exponential does not restart at total_iters: a ChainedScheduler steps "
                "every member at every epoch from epoch 0 (handing over is SequentialLR)"),
        written("the exponential decay starts only when the constant factor ends",
                _chained(lambda e, b, f, T, g: b * f if e < T else b * g**e),
                "the exponential decays from epoch 0 too: both members are stepped at every "
                "epoch, so their factors multiply all along"),
        written("the constant factor is never removed",
                _chained(lambda e, b, f, T, g: b * f * g**e),
                "your factor is never removed: ConstantLR restores the rate at epoch "
                "total_iters, so only epochs 0 .. total_iters - 1 are multiplied by factor"),
        written("the constant factor lasts one epoch too long",
                _chained(lambda e, b, f, T, g: b * g**e * (f if e <= T else 1.0)),
                "your factor lasts one epoch too long: ConstantLR restores the rate at epoch "
                "total_iters itself"),
    ),
    hint=lambda case, first: "both members are multiplicative: the chain's rate is base_lr "
                             "times ConstantLR's factor times ExponentialLR's, at every epoch",
)


@learner_facing
def check_chained_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``chained_lr(epoch, base_lr, factor, total_iters, gamma)`` against
    ``ChainedScheduler([ConstantLR(factor, total_iters), ExponentialLR(gamma)])``.
    """
    run_in_notebook(CHAINED_LR, fn, hidden, seed)


# ------------------------------------------------------------------ SequentialLR: hand-over


def _sequential_truth(case: dict) -> np.ndarray:
    p = case["params"]
    return _composite("SequentialLR", case, [
        ("LinearLR", {"start_factor": p["start_factor"], "end_factor": 1.0,
                      "total_iters": p["total_iters"]}),
        ("StepLR", {"step_size": p["step_size"], "gamma": p["gamma"]})],
        milestones=[p["milestone"]])


def _draw_sequential(rng: np.random.Generator) -> dict:
    milestone = int(rng.integers(1, 11))
    kind = rng.random()  # the warm-up's length: as long as the milestone, or cut off, or idle
    total = milestone if kind < 0.5 else int(rng.integers(1, 13))
    return {"steps": milestone + int(rng.integers(3, 30)),
            "params": {"base_lr": _lr(rng), "start_factor": round(float(rng.uniform(0.01, 1)), 3),
                       "total_iters": total, "milestone": milestone,
                       "step_size": int(rng.integers(1, 7)),
                       "gamma": round(float(rng.uniform(0.05, 0.95)), 3)}}


def _warm(e, s, T):
    """LinearLR's factor at its own epoch e (from s to 1 over T epochs)."""
    return s + (1 - s) * min(e, T) / T


def _sequential(rule):
    return lambda epoch, base_lr, start_factor, total_iters, milestone, step_size, gamma: rule(
        epoch, base_lr, start_factor, total_iters, milestone, step_size, gamma)


SEQUENTIAL_LR = RateOfStep(
    name="check_sequential_lr", subject="sequential_lr",
    torch_name="SequentialLR of LinearLR then StepLR", variable="epoch", stepped=True,
    public=[
        {"steps": 15, "params": {"base_lr": 0.1, "start_factor": 0.1, "total_iters": 5,
                                 "milestone": 5, "step_size": 3, "gamma": 0.5}},
        {"steps": 12, "params": {"base_lr": 1.0, "start_factor": 0.25, "total_iters": 8,
                                 "milestone": 4, "step_size": 2, "gamma": 0.1}},
        {"steps": 14, "params": {"base_lr": 0.05, "start_factor": 0.5, "total_iters": 2,
                                 "milestone": 5, "step_size": 4, "gamma": 0.3}},
    ],
    draw=_draw_sequential, truth=_sequential_truth,
    mistakes=(
        written("the second scheduler does not restart its count at the milestone",
                _sequential(lambda e, b, s, T, m, k, g:
                            b * _warm(e, s, T) if e < m else b * g ** (e // k)),
                "StepLR restarts its own count at the milestone: from epoch milestone on, its "
                "factor is gamma ** ((epoch - milestone) // step_size)"),
        written("the second scheduler starts from the rate the warm-up reached instead of from the"
                " initial rate",
                _sequential(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) if e < m
                            else b * _warm(m - 1, s, T) * g ** ((e - m) // k)),
                "the second scheduler starts from its base rate, base_lr, not from the rate "
                "the warm-up had reached (only MultiplicativeLR carries on from it)"),
        written("the warm-up runs up to the milestone instead of over its own length",
                _sequential(lambda e, b, s, T, m, k, g: b * _warm(e, s, m) if e < m
                            else b * g ** ((e - m) // k)),
                "the warm-up runs on its own total_iters, whatever the milestone: SequentialLR "
                "cuts it off at the milestone, or it idles at base_lr until the milestone"),
        written("the second scheduler takes over one epoch late",
                _sequential(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) if e <= m
                            else b * g ** ((e - m - 1) // k)),
                "the second scheduler takes over one epoch late: epoch milestone is already "
                "its epoch 0"),
        written("the members are chained instead of run one after the other (ChainedScheduler's "
                "curve)",
                _sequential(lambda e, b, s, T, m, k, g: b * _warm(e, s, T) * g ** (e // k)),
                "that is ChainedScheduler's curve (both members stepped from epoch 0, their "
                "factors multiplied): SequentialLR runs one member at a time"),
    ),
    hint=lambda case, first: (
        f"before epoch {case['params']['milestone']} (the milestone) the rate is LinearLR's "
        "own; from it on, StepLR's own curve restarted there"),
)


@learner_facing
def check_sequential_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``sequential_lr(epoch, base_lr, start_factor, total_iters, milestone, step_size,
    gamma)`` against ``SequentialLR([LinearLR(...), StepLR(...)], milestones=[milestone])``.
    """
    run_in_notebook(SEQUENTIAL_LR, fn, hidden, seed)


# ------------------------------------------------- ChainedScheduler: composed affine updates


def _cosine_truth(case: dict) -> np.ndarray:
    p = case["params"]
    return _composite("ChainedScheduler", case, [
        ("ExponentialLR", {"gamma": p["gamma"]}),
        ("CosineAnnealingLR", {"T_max": p["T_max"], "eta_min": p["eta_min"]})])


def _draw_cosine(rng: np.random.Generator) -> dict:
    T_max = int(rng.integers(2, 41))
    base = _lr(rng)
    eta_min = 0.0 if rng.random() < 0.25 else round(base * float(rng.uniform(0.01, 0.5)), 6)
    steps = T_max + 1 if rng.random() < 0.5 else int(rng.integers(2, T_max + 2))
    return {"steps": steps, "params": {"base_lr": base,
                                       "gamma": round(float(rng.uniform(0.8, 0.999)), 3),
                                       "T_max": T_max, "eta_min": eta_min}}


def _ratio(t: int, T_max: int) -> float:
    return (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))


def _own_cosine(t, base, T_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def _recursion(update):
    """A curve made by ``update(rate, t, gamma, T_max, eta_min)`` applied at t = 1, 2, ..."""
    def curve(steps, base_lr, gamma, T_max, eta_min):
        rates = [base_lr]
        for t in range(1, steps):
            rates.append(update(rates[-1], t, gamma, T_max, eta_min))
        return rates
    return curve


CHAINED_COSINE_CURVE = WholeCurve(
    name="check_chained_cosine_curve", subject="chained_cosine_curve",
    torch_name="ChainedScheduler of ExponentialLR then CosineAnnealingLR", variable="step",
    public=[
        {"steps": 11, "params": {"base_lr": 0.1, "gamma": 0.9, "T_max": 10, "eta_min": 0.05}},
        {"steps": 8, "params": {"base_lr": 1.0, "gamma": 0.8, "T_max": 7, "eta_min": 0.0}},
        {"steps": 13, "params": {"base_lr": 0.5, "gamma": 0.95, "T_max": 12, "eta_min": 0.1}},
    ],
    draw=_draw_cosine, truth=_cosine_truth,
    mistakes=(
        written("the curve is the product of the members' own curves (the cosine's update is "
                "not a multiplication)",
                lambda steps, base_lr, gamma, T_max, eta_min: [
                    gamma**t * _own_cosine(t, base_lr, T_max, eta_min) for t in range(steps)],
                "your curve is the product of the members' own curves, which holds only when "
                "every update is a multiplication: CosineAnnealingLR's update pulls the rate "
                "towards eta_min (rate -> eta_min + r_t * (rate - eta_min)), so apply the two "
                "updates one after the other, step by step"),
        written("the members' updates are applied in the wrong order",
                _recursion(lambda lr, t, g, T, m: g * (m + _ratio(t, T) * (lr - m))),
                "the members act in list order: first the ExponentialLR (rate -> gamma * rate), "
                "then the cosine's update on the result"),
        written("the exponential decay is left out (the cosine alone)",
                lambda steps, base_lr, gamma, T_max, eta_min: [
                    _own_cosine(t, base_lr, T_max, eta_min) for t in range(steps)],
                "your curve is CosineAnnealingLR's alone: the chain applies the ExponentialLR "
                "too, at every step, before the cosine"),
        written("the floor is missing from the cosine's update",
                _recursion(lambda lr, t, g, T, m: _ratio(t, T) * g * lr),
                "eta_min is missing from your cosine update: it is "
                "rate -> eta_min + r_t * (rate - eta_min)"),
        written("the cosine's update is left out (the exponential decay alone)",
                lambda steps, base_lr, gamma, T_max, eta_min: [
                    base_lr * gamma**t for t in range(steps)],
                "your curve is ExponentialLR's alone: the chain applies the cosine's update "
                "too, at every step, after the exponential's"),
    ),
    hint=lambda case, first: (
        "at each step t >= 1: rate -> gamma * rate, then rate -> eta_min + r_t * (rate - "
        "eta_min) with r_t = (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max))"),
)


@learner_facing
def check_chained_cosine_curve(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``chained_cosine_curve(steps, base_lr, gamma, T_max, eta_min)`` (a list of
    ``steps`` rates) against ``ChainedScheduler([ExponentialLR(gamma),
    CosineAnnealingLR(T_max, eta_min)])``.
    """
    run_in_notebook(CHAINED_COSINE_CURVE, fn, hidden, seed)


CHECKS = {check.name: check for check in (CHAINED_LR, SEQUENTIAL_LR, CHAINED_COSINE_CURVE)}
