r"""Checks for exercises where the learner writes the learning rate as a function of the step.

Each check calls the learner's function once per step, ``fn(k, **params)`` for
``k = 0 .. n-1``, and compares the values with the curve a real torch scheduler produces
(:func:`lrcourse.reference.lr_curve`).  The formulas the learner is asked for:

=============================  ==========================================================
function                       formula (torch scheduler)
=============================  ==========================================================
``step_lr``                    :math:`\eta_0\,\gamma^{\lfloor e / s \rfloor}` (StepLR)
``multistep_lr``               :math:`\eta_0\,\gamma^{\#\{m \le e\}}` (MultiStepLR)
``exponential_lr``             :math:`\eta_0\,\gamma^{e}` (ExponentialLR)
``polynomial_lr``              :math:`\eta_0\,(1 - \min(e, T)/T)^{p}` (PolynomialLR)
``cosine_annealing_lr``        :math:`\eta_{min} + \frac12(\eta_0-\eta_{min})(1+c)` with
                               :math:`c = \cos(\pi e/T_{max})` (CosineAnnealingLR)
``warm_restarts_lr``           the same with :math:`e \to T_{cur}`, :math:`T_{max} \to T_i`
                               (CosineAnnealingWarmRestarts)
``cyclic_triangular2_lr``      triangle wave, amplitude halved each cycle (CyclicLR)
``one_cycle_lr``               OneCycleLR, two or three phases, cos or linear
=============================  ==========================================================

Public cases are fixed and listed in this module; hidden cases are drawn from a
``numpy.random.default_rng(seed)`` so that grading is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrcourse import reference

from ._core import (
    CheckFailed, as_number, compare_curves, format_call, learner_facing, mismatches, passed, raised,
)

HIDDEN_CASES = 12

Params = dict[str, Any]


@dataclass(frozen=True)
class FunctionExercise:
    """How to check one learner function against one torch scheduler."""

    check: str                     # name of the check function, e.g. "check_step_lr"
    function: str                  # name of the learner's function, e.g. "step_lr"
    torch_name: str                # torch class, e.g. "StepLR"
    variable: str                  # "epoch" or "step": the first positional argument
    to_torch: Callable[[Params], tuple[float, Params]]  # learner params -> (lr, torch kwargs)
    public: list[tuple[int, Params]]                    # (number of steps, learner params)
    draw: Callable[[np.random.Generator], tuple[int, Params]]  # one hidden case
    hint: Callable[[Params, int], str] = field(default=lambda params, first: "")


def learner_curve(fn: Callable, ex: FunctionExercise, steps: int, params: Params) -> np.ndarray:
    """Call ``fn(k, **params)`` for every step; every failure becomes a CheckFailed."""
    if not callable(fn):
        raise CheckFailed(
            f"{ex.check} expects your function {ex.function}, got {type(fn).__name__} "
            f"({fn!r:.60}). Pass the function itself: {ex.check}({ex.function})"
        )
    values = np.empty(steps, np.float64)
    for k in range(steps):
        # copies, so that a function that modifies its arguments cannot change the next call
        kwargs = {name: (list(v) if isinstance(v, list) else v) for name, v in params.items()}
        where = format_call(ex.function, str(k), params)
        try:
            value = fn(k, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            raise raised(ex.function, where, exc) from (
                None if isinstance(exc, NotImplementedError) else exc
            )
        values[k] = as_number(value, ex.function, f"{ex.variable} {k} (the call {where})")
    return values


def run(ex: FunctionExercise, fn: Callable, hidden: bool, seed: int) -> None:
    if hidden:
        rng = np.random.default_rng(seed)
        cases = [ex.draw(rng) for _ in range(HIDDEN_CASES)]
    else:
        cases = ex.public
    for steps, params in cases:
        lr, torch_kwargs = ex.to_torch(params)
        expected = reference.lr_curve(ex.torch_name, steps, lr, **torch_kwargs)
        got = learner_curve(fn, ex, steps, params)
        bad = mismatches(expected, got)
        compare_curves(
            expected, got,
            function=ex.function, torch_name=ex.torch_name, variable=ex.variable,
            call=format_call(ex.function, ex.variable, params),
            hint=ex.hint(params, int(bad[0])) if bad.size else "",
        )
    passed(ex.check, hidden, len(cases), seed)


def _same_lr(params: Params, lr_key: str = "base_lr") -> tuple[float, Params]:
    kw = dict(params)
    return kw.pop(lr_key), kw


def _round(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


# --------------------------------------------------------------------- exercise 1: StepLR


STEP_LR = FunctionExercise(
    check="check_step_lr", function="step_lr", torch_name="StepLR", variable="epoch",
    to_torch=_same_lr,
    public=[
        (10, dict(base_lr=0.1, step_size=3, gamma=0.5)),
        (7, dict(base_lr=1.0, step_size=1, gamma=0.9)),
        (12, dict(base_lr=0.05, step_size=4, gamma=0.1)),
    ],
    draw=lambda rng: (
        int(rng.integers(8, 40)),
        dict(base_lr=_round(rng.uniform(0.001, 1.0)), step_size=int(rng.integers(1, 9)),
             gamma=_round(rng.uniform(0.05, 0.95), 3)),
    ),
    hint=lambda p, first: (
        f"the rate should first change at epoch {p['step_size']} (a multiple of step_size)"
        if first in (p["step_size"] - 1, p["step_size"] + 1) else ""
    ),
)


@learner_facing
def check_step_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``step_lr(epoch, base_lr, step_size, gamma)`` against torch's StepLR.

    Expected: :math:`\eta_e = \eta_0\,\gamma^{\lfloor e / \text{step\_size} \rfloor}`.
    """
    run(STEP_LR, fn, hidden, seed)


# ---------------------------------------------------------------- exercise 1: MultiStepLR


def _draw_milestones(rng: np.random.Generator, steps: int) -> list[int]:
    count = int(rng.integers(1, 5))
    return sorted(int(m) for m in rng.choice(np.arange(1, steps), size=count, replace=False))


def _draw_multistep(rng: np.random.Generator) -> tuple[int, Params]:
    steps = int(rng.integers(8, 40))
    return steps, dict(base_lr=_round(rng.uniform(0.001, 1.0)),
                       milestones=_draw_milestones(rng, steps),
                       gamma=_round(rng.uniform(0.05, 0.95), 3))


MULTISTEP_LR = FunctionExercise(
    check="check_multistep_lr", function="multistep_lr", torch_name="MultiStepLR",
    variable="epoch", to_torch=_same_lr,
    public=[
        (10, dict(base_lr=0.1, milestones=[3, 7], gamma=0.1)),
        (9, dict(base_lr=0.5, milestones=[1, 2, 6], gamma=0.5)),
        (12, dict(base_lr=0.2, milestones=[5], gamma=0.3)),
    ],
    draw=_draw_multistep,
    hint=lambda p, first: (
        "at a milestone epoch the new, smaller rate is already in use (count milestones m <= "
        "epoch)" if first in p["milestones"] or first - 1 in p["milestones"] else ""
    ),
)


@learner_facing
def check_multistep_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``multistep_lr(epoch, base_lr, milestones, gamma)`` against torch's MultiStepLR.

    Expected: :math:`\eta_e = \eta_0\,\gamma^{\#\{m \in \text{milestones} : m \le e\}}`
    (milestones sorted and distinct in every case checked).
    """
    run(MULTISTEP_LR, fn, hidden, seed)


# ------------------------------------------------------------- exercise 2: ExponentialLR


EXPONENTIAL_LR = FunctionExercise(
    check="check_exponential_lr", function="exponential_lr", torch_name="ExponentialLR",
    variable="epoch", to_torch=_same_lr,
    public=[
        (10, dict(base_lr=0.1, gamma=0.9)),
        (6, dict(base_lr=1.0, gamma=0.5)),
    ],
    draw=lambda rng: (
        int(rng.integers(5, 60)),
        dict(base_lr=_round(rng.uniform(0.001, 1.0)), gamma=_round(rng.uniform(0.5, 0.999), 3)),
    ),
)


@learner_facing
def check_exponential_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``exponential_lr(epoch, base_lr, gamma)``: :math:`\eta_e = \eta_0\,\gamma^{e}`."""
    run(EXPONENTIAL_LR, fn, hidden, seed)


# -------------------------------------------------------------- exercise 2: PolynomialLR


POLYNOMIAL_LR = FunctionExercise(
    check="check_polynomial_lr", function="polynomial_lr", torch_name="PolynomialLR",
    variable="epoch", to_torch=_same_lr,
    public=[
        (8, dict(base_lr=0.1, total_iters=5, power=1.0)),
        (12, dict(base_lr=1.0, total_iters=8, power=2.0)),
        (10, dict(base_lr=0.3, total_iters=6, power=0.5)),
    ],
    draw=lambda rng: (
        int(rng.integers(5, 40)),
        dict(base_lr=_round(rng.uniform(0.001, 1.0)), total_iters=int(rng.integers(2, 30)),
             power=float(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0]))),
    ),
    hint=lambda p, first: (
        "after total_iters the rate stays at 0 (torch clamps the epoch at total_iters)"
        if first > p["total_iters"] else ""
    ),
)


@learner_facing
def check_polynomial_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``polynomial_lr(epoch, base_lr, total_iters, power)`` against PolynomialLR.

    Expected: :math:`\eta_e = \eta_0\,(1 - \min(e, T)/T)^{p}` with :math:`T` = total_iters.
    """
    run(POLYNOMIAL_LR, fn, hidden, seed)


# --------------------------------------------------------- exercise 3: CosineAnnealingLR


def _draw_cosine(rng: np.random.Generator) -> tuple[int, Params]:
    T_max = int(rng.integers(3, 40))
    base_lr = _round(rng.uniform(0.01, 1.0))
    eta_min = float(rng.choice([0.0, _round(base_lr * rng.uniform(0.01, 0.5), 6)]))
    return T_max + int(rng.integers(1, T_max + 1)), dict(base_lr=base_lr, T_max=T_max,
                                                         eta_min=eta_min)


COSINE_ANNEALING_LR = FunctionExercise(
    check="check_cosine_annealing_lr", function="cosine_annealing_lr",
    torch_name="CosineAnnealingLR", variable="epoch", to_torch=_same_lr,
    public=[
        (11, dict(base_lr=0.1, T_max=10, eta_min=0.0)),
        (11, dict(base_lr=0.1, T_max=10, eta_min=0.01)),
        (9, dict(base_lr=1.0, T_max=4, eta_min=0.2)),  # goes past T_max: the cosine climbs back
    ],
    draw=_draw_cosine,
    hint=lambda p, first: (
        "past T_max torch does not stop: the same cosine climbs back up"
        if first > p["T_max"] else ""
    ),
)


@learner_facing
def check_cosine_annealing_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``cosine_annealing_lr(epoch, base_lr, T_max, eta_min)`` against CosineAnnealingLR.

    Expected: :math:`\eta_e = \eta_{min} + \frac12(\eta_0 - \eta_{min})(1 + \cos(\pi e / T_{max}))`,
    also past ``T_max`` (where torch's curve climbs back up).
    """
    run(COSINE_ANNEALING_LR, fn, hidden, seed)


# ------------------------------------------------ exercise 3: CosineAnnealingWarmRestarts


def _draw_restarts(rng: np.random.Generator) -> tuple[int, Params]:
    T_0 = int(rng.integers(1, 8))
    T_mult = int(rng.integers(1, 4))
    base_lr = _round(rng.uniform(0.01, 1.0))
    eta_min = float(rng.choice([0.0, _round(base_lr * rng.uniform(0.01, 0.5), 6)]))
    return int(rng.integers(10, 60)), dict(base_lr=base_lr, T_0=T_0, T_mult=T_mult,
                                           eta_min=eta_min)


def _restart_epochs(T_0: int, T_mult: int, steps: int) -> list[int]:
    starts, length = [0], T_0
    while starts[-1] + length < steps:
        starts.append(starts[-1] + length)
        length *= T_mult
    return starts[1:]


WARM_RESTARTS_LR = FunctionExercise(
    check="check_warm_restarts_lr", function="warm_restarts_lr",
    torch_name="CosineAnnealingWarmRestarts", variable="epoch", to_torch=_same_lr,
    public=[
        (15, dict(base_lr=0.1, T_0=5, T_mult=1, eta_min=0.0)),
        (22, dict(base_lr=0.1, T_0=3, T_mult=2, eta_min=0.001)),
        (30, dict(base_lr=1.0, T_0=2, T_mult=3, eta_min=0.0)),
    ],
    draw=_draw_restarts,
    hint=lambda p, first: (
        "torch restarts at epochs "
        f"{_restart_epochs(p['T_0'], p['T_mult'], first + 2)}: cycle i lasts T_0 * T_mult**i "
        "epochs" if p["T_mult"] > 1 else ""
    ),
)


@learner_facing
def check_warm_restarts_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``warm_restarts_lr(epoch, base_lr, T_0, T_mult, eta_min)`` against
    CosineAnnealingWarmRestarts.

    Expected: :math:`\eta_e = \eta_{min} + \frac12(\eta_0 - \eta_{min})(1 + \cos(\pi T_{cur}/T_i))`
    where cycle :math:`i` lasts :math:`T_i = T_0 T_{mult}^i` epochs and :math:`T_{cur}` counts
    the epochs since the cycle began.
    """
    run(WARM_RESTARTS_LR, fn, hidden, seed)


# ------------------------------------------------------ exercise 4: CyclicLR, triangular2


def _cyclic_to_torch(p: Params) -> tuple[float, Params]:
    return p["base_lr"], dict(base_lr=p["base_lr"], max_lr=p["max_lr"],
                              step_size_up=p["step_size_up"], step_size_down=p["step_size_down"],
                              mode="triangular2", cycle_momentum=False)


def _draw_cyclic(rng: np.random.Generator) -> tuple[int, Params]:
    up, down = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    base = _round(rng.uniform(0.0001, 0.05), 5)
    return int(rng.integers(2, 5)) * (up + down) + int(rng.integers(0, up + down)), dict(
        base_lr=base, max_lr=_round(base + rng.uniform(0.01, 1.0)), step_size_up=up,
        step_size_down=down)


CYCLIC_TRIANGULAR2_LR = FunctionExercise(
    check="check_cyclic_triangular2_lr", function="cyclic_triangular2_lr", torch_name="CyclicLR",
    variable="step", to_torch=_cyclic_to_torch,
    public=[
        (20, dict(base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=2)),
        (25, dict(base_lr=0.001, max_lr=0.01, step_size_up=2, step_size_down=4)),
        (30, dict(base_lr=0.1, max_lr=1.0, step_size_up=5, step_size_down=1)),
    ],
    draw=_draw_cyclic,
    hint=lambda p, first: (
        f"a cycle lasts step_size_up + step_size_down = "
        f"{p['step_size_up'] + p['step_size_down']} steps; the peak of each cycle is at "
        f"step_size_up into it, and each cycle's height is half the previous one's"
    ),
)


@learner_facing
def check_cyclic_triangular2_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``cyclic_triangular2_lr(step, base_lr, max_lr, step_size_up, step_size_down)``
    against ``CyclicLR(mode="triangular2")``.

    With :math:`L` = up + down and :math:`c = \lfloor t/L \rfloor` (the cycle, from 0),
    :math:`x = t - cL`:

    .. math:: \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\,2^{-c}\,
              \begin{cases} x/\text{up} & x \le \text{up} \\
              (L - x)/\text{down} & x > \text{up} \end{cases}
    """
    run(CYCLIC_TRIANGULAR2_LR, fn, hidden, seed)


# ------------------------------------------------------------- exercise 4: OneCycleLR


def _one_cycle_to_torch(p: Params) -> tuple[float, Params]:
    kw = dict(p)
    kw["cycle_momentum"] = False
    return p["max_lr"], kw


def _draw_one_cycle(rng: np.random.Generator) -> tuple[int, Params]:
    three = bool(rng.integers(0, 2))
    total = int(rng.integers(12, 80))
    pct = _round(rng.uniform(0.1, 0.45 if three else 0.6), 2)
    return total, dict(max_lr=_round(rng.uniform(0.01, 1.0)), total_steps=total, pct_start=pct,
                       anneal_strategy=str(rng.choice(["cos", "linear"])),
                       div_factor=float(rng.choice([10.0, 25.0, 5.0])),
                       final_div_factor=float(rng.choice([1e4, 100.0, 1e3])), three_phase=three)


def _one_cycle_hint(p: Params, first: int) -> str:
    T, pct = p["total_steps"], p["pct_start"]
    if p["three_phase"]:
        return (f"three phases: up until step {pct * T - 1:g}, down to the initial rate until "
                f"step {2 * pct * T - 2:g}, then to the minimum at step {T - 1}")
    return f"two phases: up until step {pct * T - 1:g} (pct_start * total_steps - 1), " \
           f"then down to the minimum at step {T - 1}"


ONE_CYCLE_LR = FunctionExercise(
    check="check_one_cycle_lr", function="one_cycle_lr", torch_name="OneCycleLR",
    variable="step", to_torch=_one_cycle_to_torch,
    public=[
        (20, dict(max_lr=0.1, total_steps=20, pct_start=0.3, anneal_strategy="cos",
                  div_factor=25.0, final_div_factor=1e4, three_phase=False)),
        (20, dict(max_lr=0.1, total_steps=20, pct_start=0.3, anneal_strategy="linear",
                  div_factor=25.0, final_div_factor=1e4, three_phase=False)),
        (30, dict(max_lr=1.0, total_steps=30, pct_start=0.25, anneal_strategy="cos",
                  div_factor=10.0, final_div_factor=100.0, three_phase=True)),
        (30, dict(max_lr=0.5, total_steps=30, pct_start=0.4, anneal_strategy="linear",
                  div_factor=5.0, final_div_factor=1e3, three_phase=True)),
    ],
    draw=_draw_one_cycle,
    hint=_one_cycle_hint,
)


@learner_facing
def check_one_cycle_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``one_cycle_lr(step, max_lr, total_steps, pct_start, anneal_strategy, div_factor,
    final_div_factor, three_phase)`` against OneCycleLR, for steps ``0 .. total_steps - 1``.

    Anchors :math:`\eta_{init} = \eta_{max}/\text{div\_factor}`,
    :math:`\eta_{min} = \eta_{init}/\text{final\_div\_factor}`.  Phase ends (last step of each):
    :math:`pT - 1`, then :math:`T - 1` (two phases) or :math:`pT - 1`, :math:`2pT - 2`,
    :math:`T - 1` (three phases: init -> max -> init -> min).  Within a phase from :math:`a` to
    :math:`b` with fraction :math:`f` done: cos :math:`b + \frac{a-b}{2}(1 + \cos\pi f)`,
    linear :math:`a + (b - a) f`.
    """
    run(ONE_CYCLE_LR, fn, hidden, seed)


EXERCISES = {ex.check: ex for ex in (
    STEP_LR, MULTISTEP_LR, EXPONENTIAL_LR, POLYNOMIAL_LR, COSINE_ANNEALING_LR,
    WARM_RESTARTS_LR, CYCLIC_TRIANGULAR2_LR, ONE_CYCLE_LR,
)}
