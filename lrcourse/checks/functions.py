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

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._core import (
    bad_value_message, compare_curves, format_call, learner_facing, mismatches, raised_message,
)
from .diagnosis import PATTERN, Curves, Mistake, candidate, common, diagnose, \
    differs_only_after, jumps_up
from .probes import rates_of_steps
from .spec import Check, fail, run_in_notebook, validate_curve

HIDDEN_CASES = 12

Params = dict[str, Any]


@dataclass(frozen=True)
class FunctionExercise(Check):
    """How to check one learner function against one torch scheduler.

    A case is ``{"steps": n, "params": {...}}``: the learner's function is called as
    ``fn(k, **params)`` for ``k = 0 .. n - 1``.
    """

    name: str                      # name of the check function, e.g. "check_step_lr"
    subject: str                   # name of the learner's function, e.g. "step_lr"
    torch_name: str                # torch class, e.g. "StepLR"
    variable: str                  # "epoch" or "step": the first positional argument
    to_torch: Callable[[Params], tuple[float, Params]]  # learner params -> (lr, torch kwargs)
    public: list[tuple[int, Params]]                    # (number of steps, learner params)
    draw: Callable[[np.random.Generator], tuple[int, Params]]  # one hidden case
    hint: Callable[[Params, int], str] = field(default=lambda params, first: "")
    mistakes: tuple[Mistake, ...] = ()  # wrong implementations the message can name
    hidden_count: int = HIDDEN_CASES

    # ------------------------------------------------------------------ trusted: the grader

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        return [{"steps": steps, "params": copy.deepcopy(params)}
                for steps, params in self.draw_cases(hidden, seed, self.public, self.draw)]

    def expected(self, case: dict) -> list[float]:
        from lrcourse import reference  # torch: only where expected values are computed

        lr, torch_kwargs = self.to_torch(case["params"])
        return reference.lr_curve(self.torch_name, case["steps"], lr, **torch_kwargs).tolist()

    # --------------------------------------------------------- untrusted: next to learner code

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        """Call ``fn(k, **params)`` for every step; stop at the first failure."""
        return rates_of_steps(fn, case, sink)

    # ------------------------------------------------------------------ trusted: the grader

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        return validate_curve(got, len(expected))

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        params = case["params"]
        got = self.screen(case, expected, got)
        if got["kind"] in ("raised", "returned"):
            k = got.get("at", 0)
            where = format_call(self.subject, str(k), params)
            if got["kind"] == "raised":
                fail(raised_message(got, self.subject, where), cause)
            fail(bad_value_message(got, self.subject,
                                   f"{self.variable} {k} (the call {where})"), None)
        expected = np.asarray(expected, dtype=np.float64)
        values = np.asarray(got["values"], dtype=np.float64)
        bad = mismatches(expected, values)
        if bad.size == 0:
            return
        lr, torch_kwargs = self.to_torch(params)
        compare_curves(
            expected, values,
            function=self.subject, torch_name=self.torch_name, variable=self.variable,
            call=format_call(self.subject, self.variable, params),
            hint=self.hint(params, int(bad[0])), display=display,
            diagnosis=diagnose(self.mistakes, Curves(expected, values, self.torch_name, lr,
                                                     torch_kwargs, params, self.variable)),
        )


def _same_lr(params: Params, lr_key: str = "base_lr") -> tuple[float, Params]:
    kw = dict(params)
    return kw.pop(lr_key), kw


def _round(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


# --------------------------------------------------------------------- exercise 1: StepLR


STEP_LR_MISTAKES = (
    candidate(
        "the rate decays a little at every epoch instead of once per period (true division "
        "where floor division belongs)",
        lambda c: c.other("ExponentialLR", c.lr,
                          gamma=c.kwargs["gamma"] ** (1 / c.kwargs["step_size"])),
        "your rate decays at every epoch: that is base_lr * gamma ** (epoch / step_size); StepLR "
        "multiplies it by gamma once every step_size={step_size} epochs: "
        "base_lr * gamma ** (epoch // step_size), with floor division"),
    candidate(
        "the first decay is already applied at the start (the exponent is one too large)",
        lambda c: c.curve(lr=c.lr * c.kwargs["gamma"]),
        "your curve is torch's times gamma={gamma} from epoch 0 on: the exponent is one too "
        "large (epoch // step_size + 1?); at epoch 0 torch's rate is base_lr={base_lr}"),
    candidate(
        "the rate decays once and then stays (the decay does not repeat)",
        lambda c: c.other("MultiStepLR", c.lr, milestones=[c.kwargs["step_size"]],
                          gamma=c.kwargs["gamma"]),
        "your rate decays once, at epoch {step_size}, and then stays; StepLR multiplies it by "
        "gamma again every step_size={step_size} epochs"),
    *common("epoch", early="each decay comes one epoch early: epoch + 1 where epoch belongs?",
            late="each decay comes one epoch late: epoch - 1 where epoch belongs?"),
)


STEP_LR = FunctionExercise(
    name="check_step_lr", subject="step_lr", torch_name="StepLR", variable="epoch",
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
    mistakes=STEP_LR_MISTAKES,
)


@learner_facing
def check_step_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``step_lr(epoch, base_lr, step_size, gamma)`` against torch's StepLR.

    Expected: :math:`\eta_e = \eta_0\,\gamma^{\lfloor e / \text{step\_size} \rfloor}`.
    """
    run_in_notebook(STEP_LR, fn, hidden, seed)


# ---------------------------------------------------------------- exercise 1: MultiStepLR


def _draw_milestones(rng: np.random.Generator, steps: int) -> list[int]:
    count = int(rng.integers(1, 5))
    return sorted(int(m) for m in rng.choice(np.arange(1, steps), size=count, replace=False))


def _draw_multistep(rng: np.random.Generator) -> tuple[int, Params]:
    steps = int(rng.integers(8, 40))
    return steps, dict(base_lr=_round(rng.uniform(0.001, 1.0)),
                       milestones=_draw_milestones(rng, steps),
                       gamma=_round(rng.uniform(0.05, 0.95), 3))


MULTISTEP_LR_MISTAKES = (
    candidate(
        "the rate decays only once, at the first milestone",
        lambda c: c.curve(milestones=[min(c.kwargs["milestones"])]),
        lambda c: f"your rate decays once, at the first milestone "
                  f"({min(c.params['milestones'])}), and then stays; torch multiplies it by "
                  f"gamma again at every milestone of {c.params['milestones']}",
        when=lambda c: len(set(c.kwargs["milestones"])) > 1),
    *common("epoch",
            early="count the milestones m <= epoch, not m <= epoch + 1",
            late="at a milestone epoch torch already uses the new rate: count the milestones "
                 "m <= epoch, not m < epoch"),
)


MULTISTEP_LR = FunctionExercise(
    name="check_multistep_lr", subject="multistep_lr", torch_name="MultiStepLR",
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
    mistakes=MULTISTEP_LR_MISTAKES,
)


@learner_facing
def check_multistep_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``multistep_lr(epoch, base_lr, milestones, gamma)`` against torch's MultiStepLR.

    Expected: :math:`\eta_e = \eta_0\,\gamma^{\#\{m \in \text{milestones} : m \le e\}}`
    (milestones sorted and distinct in every case checked).
    """
    run_in_notebook(MULTISTEP_LR, fn, hidden, seed)


# ------------------------------------------------------------- exercise 2: ExponentialLR


EXPONENTIAL_LR_MISTAKES = (
    candidate(
        "the initial rate is left out as a factor",
        lambda c: c.curve(lr=1.0),
        "your curve is gamma ** epoch, which starts at 1: multiply it by base_lr={base_lr}",
        when=lambda c: c.lr != 1.0),
    candidate(
        "the curve decays like an exponential of minus the factor times the epoch, not like "
        "the factor to the power of the epoch",
        lambda c: c.curve(gamma=float(np.exp(-c.kwargs["gamma"]))),
        "your curve is base_lr * exp(-gamma * epoch); ExponentialLR multiplies by gamma={gamma} "
        "every epoch: base_lr * gamma ** epoch"),
    *common("epoch", early="gamma ** (epoch + 1) where gamma ** epoch belongs?",
            late="gamma ** (epoch - 1) where gamma ** epoch belongs?"),
)


EXPONENTIAL_LR = FunctionExercise(
    name="check_exponential_lr", subject="exponential_lr", torch_name="ExponentialLR",
    variable="epoch", to_torch=_same_lr,
    public=[
        (10, dict(base_lr=0.1, gamma=0.9)),
        (6, dict(base_lr=1.0, gamma=0.5)),
    ],
    draw=lambda rng: (
        int(rng.integers(5, 60)),
        dict(base_lr=_round(rng.uniform(0.001, 1.0)), gamma=_round(rng.uniform(0.5, 0.999), 3)),
    ),
    mistakes=EXPONENTIAL_LR_MISTAKES,
)


@learner_facing
def check_exponential_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``exponential_lr(epoch, base_lr, gamma)``: :math:`\eta_e = \eta_0\,\gamma^{e}`."""
    run_in_notebook(EXPONENTIAL_LR, fn, hidden, seed)


# -------------------------------------------------------------- exercise 2: PolynomialLR


POLYNOMIAL_LR_MISTAKES = (
    differs_only_after(
        "the rate does not stay at zero once the decay has ended",
        lambda c: c.params["total_iters"],
        "after total_iters={total_iters} torch's rate stays at 0, because it clamps the epoch: "
        "(1 - min(epoch, total_iters) / total_iters) ** power; yours goes on"),
    candidate(
        "the power is left out (a straight line)",
        lambda c: c.curve(power=1.0),
        "your curve is a straight line: raise (1 - min(epoch, total_iters) / total_iters) to "
        "power={power}",
        when=lambda c: c.kwargs["power"] != 1.0),
    candidate(
        "the decay is spread over one epoch too many (the rate never reaches zero)",
        lambda c: c.curve(np.minimum(c.t, c.kwargs["total_iters"]),
                          total_iters=c.kwargs["total_iters"] + 1),
        "you divide by total_iters + 1: torch's rate reaches 0 at epoch total_iters="
        "{total_iters}: base_lr * (1 - min(epoch, total_iters) / total_iters) ** power"),
    candidate(
        "the decay ends one epoch early",
        lambda c: c.curve(total_iters=c.kwargs["total_iters"] - 1),
        "your rate reaches 0 one epoch early, as if you divided by total_iters - 1: torch's "
        "reaches 0 at epoch total_iters={total_iters}",
        when=lambda c: c.kwargs["total_iters"] > 1),
    *common("epoch", early="min(epoch + 1, total_iters) where min(epoch, total_iters) belongs?"),
)


POLYNOMIAL_LR = FunctionExercise(
    name="check_polynomial_lr", subject="polynomial_lr", torch_name="PolynomialLR",
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
    mistakes=POLYNOMIAL_LR_MISTAKES,
)


@learner_facing
def check_polynomial_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``polynomial_lr(epoch, base_lr, total_iters, power)`` against PolynomialLR.

    Expected: :math:`\eta_e = \eta_0\,(1 - \min(e, T)/T)^{p}` with :math:`T` = total_iters.
    """
    run_in_notebook(POLYNOMIAL_LR, fn, hidden, seed)


# --------------------------------------------------------- exercise 3: CosineAnnealingLR


def _draw_cosine(rng: np.random.Generator) -> tuple[int, Params]:
    T_max = int(rng.integers(3, 40))
    base_lr = _round(rng.uniform(0.01, 1.0))
    eta_min = float(rng.choice([0.0, _round(base_lr * rng.uniform(0.01, 0.5), 6)]))
    return T_max + int(rng.integers(1, T_max + 1)), dict(base_lr=base_lr, T_max=T_max,
                                                         eta_min=eta_min)


def _is_int(x: Any) -> bool:
    return float(x).is_integer()


COSINE_ANNEALING_LR_MISTAKES = (
    candidate(
        "the cosine anneals to zero instead of to the floor",
        lambda c: c.curve(eta_min=0.0),
        "your cosine anneals to 0, not to eta_min={eta_min}: "
        "eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2",
        when=lambda c: c.kwargs["eta_min"] > 0),
    candidate(
        "the floor is added on top of the whole cosine (it starts above the initial rate)",
        lambda c: c.curve(lr=c.lr + c.kwargs["eta_min"]),
        "your curve starts at base_lr + eta_min: eta_min is added on top of base_lr * (1 + cos) "
        "/ 2; torch scales the cosine by base_lr - eta_min: "
        "eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2",
        when=lambda c: c.kwargs["eta_min"] > 0),
    candidate(
        "the curve stops at its minimum instead of climbing back up",
        lambda c: c.curve(np.minimum(c.t, c.kwargs["T_max"])),
        "past T_max={T_max} torch's cosine goes on and climbs back to base_lr at epoch "
        "2 * T_max; yours stays at eta_min (did you clamp the epoch at T_max?)"),
    candidate(
        "the curve jumps back to the top after its minimum (a warm restart, where torch's "
        "cosine climbs back smoothly)",
        lambda c: c.other("CosineAnnealingWarmRestarts", c.lr, T_0=int(c.kwargs["T_max"]),
                          T_mult=1, eta_min=c.kwargs["eta_min"]),
        "yours jumps back to base_lr at epoch T_max={T_max} (epoch % T_max?); "
        "CosineAnnealingLR does not restart: past T_max the same cosine climbs smoothly back "
        "up (CosineAnnealingWarmRestarts is the scheduler that restarts)",
        when=lambda c: _is_int(c.kwargs["T_max"])),
    candidate(
        "the cosine reaches its minimum one epoch early (its half-period is one epoch short)",
        lambda c: c.curve(T_max=c.kwargs["T_max"] - 1),
        lambda c: f"your cosine reaches eta_min at epoch {c.params['T_max'] - 1:g}, as if you "
                  f"divided by T_max - 1; torch's reaches it at epoch T_max={c.params['T_max']:g}"
                  ": cos(pi * epoch / T_max)",
        when=lambda c: c.kwargs["T_max"] > 1),
    candidate(
        "the cosine reaches its minimum one epoch late (its half-period is one epoch long)",
        lambda c: c.curve(T_max=c.kwargs["T_max"] + 1),
        lambda c: f"your cosine reaches eta_min at epoch {c.params['T_max'] + 1:g}, as if you "
                  f"divided by T_max + 1; torch's reaches it at epoch T_max={c.params['T_max']:g}"
                  ": cos(pi * epoch / T_max)"),
    *common("epoch", early="cos(pi * (epoch + 1) / T_max) where cos(pi * epoch / T_max) "
                           "belongs?",
            late="cos(pi * (epoch - 1) / T_max) where cos(pi * epoch / T_max) belongs?"),
)


COSINE_ANNEALING_LR = FunctionExercise(
    name="check_cosine_annealing_lr", subject="cosine_annealing_lr",
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
    mistakes=COSINE_ANNEALING_LR_MISTAKES,
)


@learner_facing
def check_cosine_annealing_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``cosine_annealing_lr(epoch, base_lr, T_max, eta_min)`` against CosineAnnealingLR.

    Expected: :math:`\eta_e = \eta_{min} + \frac12(\eta_0 - \eta_{min})(1 + \cos(\pi e / T_{max}))`,
    also past ``T_max`` (where torch's curve climbs back up).
    """
    run_in_notebook(COSINE_ANNEALING_LR, fn, hidden, seed)


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


def _restarts_in(c: Curves) -> list[int]:
    return _restart_epochs(c.kwargs["T_0"], c.kwargs["T_mult"], c.steps)


def _restarts_late_by_one(c: Curves) -> np.ndarray:
    """torch's curve, except that each restart epoch is still at the bottom of the old cycle."""
    return np.where(np.isin(c.t, _restarts_in(c)), c.kwargs["eta_min"], c.curve())


def _restart_pattern(c: Curves) -> tuple[str, list[int], list[int]] | None:
    """How the learner's restarts (where the curve jumps up) differ from torch's: "short" when
    each cycle is one epoch shorter, "long" when one epoch longer, else "other"; None when they
    are the same."""
    yours, torch = jumps_up(c.got), _restarts_in(c)
    if yours == torch or not yours:
        return None
    mine, theirs = np.diff([0, *yours]), np.diff([0, *torch])
    common_cycles = min(len(mine), len(theirs))
    for name, by in (("short", -1), ("long", 1)):
        if common_cycles and np.all(mine[:common_cycles] == theirs[:common_cycles] + by):
            return name, yours, torch
    return "other", yours, torch


def _restarts(which: str) -> Callable[[Curves], str | None]:
    what = {"short": "each of your cycles is one epoch shorter than torch's, so every restart "
                     "comes early",
            "long": "each of your cycles is one epoch longer than torch's, so every restart "
                    "comes late",
            "other": "cycle i lasts T_0 * T_mult**i epochs, so the restarts are at T_0, "
                     "T_0 * (1 + T_mult), T_0 * (1 + T_mult + T_mult**2), ..."}[which]

    def recognise(c: Curves) -> str | None:
        found = _restart_pattern(c)
        if found is None or found[0] != which:
            return None
        return f"your curve restarts at epochs {found[1]}; torch restarts at {found[2]}: {what}"

    return recognise


WARM_RESTARTS_LR_MISTAKES = (
    candidate(
        "the restarts come at a fixed interval: the cycles do not grow",
        lambda c: c.curve(T_mult=1),
        lambda c: f"your restarts come every T_0={c.params['T_0']} epochs "
                  f"({jumps_up(c.got)}); with T_mult={c.params['T_mult']} each cycle is T_mult "
                  "times longer than the one before (T_0, T_0 * T_mult, T_0 * T_mult**2, ...), "
                  f"so torch restarts at epochs {_restarts_in(c)}",
        when=lambda c: c.kwargs["T_mult"] > 1),
    candidate(
        "at each restart the curve is still at the bottom of the old cycle (the restart test "
        "comes one epoch late)",
        _restarts_late_by_one,
        lambda c: f"at the restart epochs {_restarts_in(c)} yours is still at eta_min, the end "
                  "of the old cycle, where torch is back at base_lr: a cycle of T_i epochs "
                  "covers T_cur = 0 .. T_i - 1, so restart when T_cur >= T_i (not T_cur > T_i)",
        when=lambda c: bool(_restarts_in(c))),
    candidate(
        "the cosine anneals to zero instead of to the floor",
        lambda c: c.curve(eta_min=0.0),
        "your cosine anneals to 0, not to eta_min={eta_min}: "
        "eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2",
        when=lambda c: c.kwargs["eta_min"] > 0),
    Mistake("each cycle is one epoch too short (the restarts come early)", _restarts("short"),
            rank=PATTERN),
    Mistake("each cycle is one epoch too long (the restarts come late)", _restarts("long"),
            rank=PATTERN),
    Mistake("the restarts come at the wrong epochs", _restarts("other"), rank=PATTERN),
    *common("epoch"),
)


WARM_RESTARTS_LR = FunctionExercise(
    name="check_warm_restarts_lr", subject="warm_restarts_lr",
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
    mistakes=WARM_RESTARTS_LR_MISTAKES,
)


@learner_facing
def check_warm_restarts_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``warm_restarts_lr(epoch, base_lr, T_0, T_mult, eta_min)`` against
    CosineAnnealingWarmRestarts.

    Expected: :math:`\eta_e = \eta_{min} + \frac12(\eta_0 - \eta_{min})(1 + \cos(\pi T_{cur}/T_i))`
    where cycle :math:`i` lasts :math:`T_i = T_0 T_{mult}^i` epochs and :math:`T_{cur}` counts
    the epochs since the cycle began.
    """
    run_in_notebook(WARM_RESTARTS_LR, fn, hidden, seed)


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


CYCLIC_TRIANGULAR2_LR_MISTAKES = (
    candidate(
        "the cycles never shrink (that is the plain triangular mode)",
        lambda c: c.curve(mode="triangular"),
        "every cycle of yours reaches max_lr={max_lr}: that is mode='triangular'; triangular2 "
        "halves the height of each cycle: (max_lr - base_lr) * 0.5 ** cycle"),
    candidate(
        "the first cycle is already halved",
        lambda c: c.curve(max_lr=c.lr + (c.kwargs["max_lr"] - c.lr) / 2),
        "your first cycle only reaches base_lr + (max_lr - base_lr) / 2: the halving starts "
        "one cycle early; the first cycle (cycle 0) reaches max_lr={max_lr}, as "
        "0.5 ** cycle counts cycles from 0"),
    candidate(
        "the way down takes as long as the way up (the length of the way down is ignored)",
        lambda c: c.curve(step_size_down=c.kwargs["step_size_up"]),
        "your way down takes step_size_up={step_size_up} steps, like the way up; it takes "
        "step_size_down={step_size_down}",
        when=lambda c: c.kwargs["step_size_up"] != c.kwargs["step_size_down"]),
    candidate(
        "the lengths of the way up and of the way down are swapped",
        lambda c: c.curve(step_size_up=c.kwargs["step_size_down"],
                          step_size_down=c.kwargs["step_size_up"]),
        "your way up takes step_size_down={step_size_down} steps and your way down "
        "step_size_up={step_size_up}: they are swapped",
        when=lambda c: c.kwargs["step_size_up"] != c.kwargs["step_size_down"]),
    *common("step"),
)


CYCLIC_TRIANGULAR2_LR = FunctionExercise(
    name="check_cyclic_triangular2_lr", subject="cyclic_triangular2_lr", torch_name="CyclicLR",
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
    mistakes=CYCLIC_TRIANGULAR2_LR_MISTAKES,
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
    run_in_notebook(CYCLIC_TRIANGULAR2_LR, fn, hidden, seed)


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


def _ending_at(end: Callable[[Curves], float]) -> Callable[[Curves], np.ndarray]:
    """torch's OneCycleLR for the case, but annealing to ``end(curves)`` in its last phase."""

    def curve(c: Curves) -> np.ndarray:
        initial = c.kwargs["max_lr"] / c.kwargs["div_factor"]
        final = end(c)
        return c.curve(final_div_factor=initial / final if final > 0 else 1e300)

    return curve


def _anchors(c: Curves) -> tuple[float, float]:
    """OneCycleLR's initial and final rates for the case."""
    initial = c.kwargs["max_lr"] / c.kwargs["div_factor"]
    return initial, initial / c.kwargs["final_div_factor"]


def _final_text(c: Curves) -> str:
    return (f"torch anneals to initial_lr / final_div_factor = max_lr / (div_factor * "
            f"final_div_factor) = {_anchors(c)[1]:.6g}")


def _strategy_text(c: Curves) -> str:
    given = c.kwargs["anneal_strategy"]
    other = "linear" if given == "cos" else "cos"
    shape = {"cos": "b + (a - b) / 2 * (1 + cos(pi * f))", "linear": "a + (b - a) * f"}[given]
    return (f"your curve is torch's with anneal_strategy={other!r}; with {given!r} each phase "
            f"goes from its start a to its end b as {shape}, f the fraction of the phase done")


ONE_CYCLE_LR_MISTAKES = (
    candidate(
        "the rate ends at the initial rate: the final division is left out",
        _ending_at(lambda c: _anchors(c)[0]),
        lambda c: f"your rate ends at max_lr / div_factor = {_anchors(c)[0]:.6g}, the initial "
                  f"rate, {c.params['final_div_factor']:g}x too high: {_final_text(c)}"),
    candidate(
        "the rate ends at the peak rate divided by the final factor, instead of the initial "
        "rate divided by it",
        _ending_at(lambda c: c.kwargs["max_lr"] / c.kwargs["final_div_factor"]),
        lambda c: f"your rate ends at max_lr / final_div_factor = "
                  f"{c.params['max_lr'] / c.params['final_div_factor']:.6g}, "
                  f"{c.params['div_factor']:g}x too high: final_div_factor divides the initial "
                  f"rate max_lr / div_factor, not max_lr; {_final_text(c)}"),
    candidate(
        "the rate anneals to zero instead of to the final minimum",
        _ending_at(lambda c: 0.0),
        lambda c: f"your rate anneals to 0; {_final_text(c)}"),
    candidate(
        "the final rate is wrong (the last phase anneals to the wrong minimum)",
        _ending_at(lambda c: float(c.got[-1])),
        lambda c: f"your rate ends at {c.got[-1]:.6g}, "
                  f"{c.got[-1] / _anchors(c)[1]:.3g}x torch's final rate; {_final_text(c)}. "
                  "Everything else follows from that minimum",
        rank=PATTERN),
    candidate(
        "the three-phase shape is ignored (two phases are drawn)",
        lambda c: c.curve(three_phase=False),
        lambda c: f"with three_phase=True torch goes up to max_lr until step "
                  f"{c.params['pct_start'] * c.params['total_steps'] - 1:g}, back down to the "
                  "initial rate max_lr / div_factor until step "
                  f"{2 * c.params['pct_start'] * c.params['total_steps'] - 2:g}, then down to "
                  "the minimum; yours has two phases",
        when=lambda c: c.kwargs["three_phase"]),
    candidate(
        "the warm-up peaks one step late",
        lambda c: c.curve(pct_start=c.kwargs["pct_start"] + 1 / c.kwargs["total_steps"]),
        lambda c: f"your rate peaks at step pct_start * total_steps = "
                  f"{c.params['pct_start'] * c.params['total_steps']:g}; torch's peaks at step "
                  f"pct_start * total_steps - 1 = "
                  f"{c.params['pct_start'] * c.params['total_steps'] - 1:g}, where the warm-up "
                  "phase ends",
        when=lambda c: not c.kwargs["three_phase"]),
    candidate(
        "the other annealing shape is used (cosine for linear, or linear for cosine)",
        lambda c: c.curve(anneal_strategy="linear" if c.kwargs["anneal_strategy"] == "cos"
                          else "cos"),
        _strategy_text),
    *common("step"),
)


ONE_CYCLE_LR = FunctionExercise(
    name="check_one_cycle_lr", subject="one_cycle_lr", torch_name="OneCycleLR",
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
    mistakes=ONE_CYCLE_LR_MISTAKES,
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
    run_in_notebook(ONE_CYCLE_LR, fn, hidden, seed)


CHECKS = {ex.name: ex for ex in (
    STEP_LR, MULTISTEP_LR, EXPONENTIAL_LR, POLYNOMIAL_LR, COSINE_ANNEALING_LR,
    WARM_RESTARTS_LR, CYCLIC_TRIANGULAR2_LR, ONE_CYCLE_LR,
)}
