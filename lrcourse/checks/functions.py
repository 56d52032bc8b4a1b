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
    bad_value_message, compare_curves, describe_value, format_call, learner_facing, mismatches,
    raised_message, raised_record, short_repr, type_name,
)
from .spec import Check, MalformedProbe, fail, finite_floats, keep, run_in_notebook, \
    validate_record

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
    hidden_count: int = HIDDEN_CASES

    # ------------------------------------------------------------------ trusted: the grader

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        if hidden:
            rng = np.random.default_rng(seed)
            drawn = [self.draw(rng) for _ in range(self.hidden_count)]
        else:
            drawn = self.public
        return [{"steps": steps, "params": copy.deepcopy(params)} for steps, params in drawn]

    def expected(self, case: dict) -> list[float]:
        from lrcourse import reference  # torch: only where expected values are computed

        lr, torch_kwargs = self.to_torch(case["params"])
        return reference.lr_curve(self.torch_name, case["steps"], lr, **torch_kwargs).tolist()

    # --------------------------------------------------------- untrusted: next to learner code

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        """Call ``fn(k, **params)`` for every step; stop at the first failure."""
        if not callable(fn):
            return {"kind": "wrong_type", "type": type_name(fn), "repr": short_repr(fn)}
        values = []
        for k in range(case["steps"]):
            # copies, so that a function that modifies its arguments cannot change the next call
            kwargs = copy.deepcopy(case["params"])
            try:
                value = fn(k, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                keep(sink, exc)
                return raised_record(exc, at=k)
            described = describe_value(value)
            if isinstance(described, dict):
                return {"kind": "returned", **described, "at": k}
            values.append(described)
        return {"kind": "values", "values": values}

    # ------------------------------------------------------------------ trusted: the grader

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        validate_record(got)
        if got["kind"] == "values":
            finite_floats(got.get("values"), len(expected))
        return got

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        params = case["params"]
        try:
            got = self.validate(case, expected, got)
        except MalformedProbe as exc:
            fail(malformed(self.name, exc), None)
        if got["kind"] == "wrong_type":
            fail(f"{self.name} expects your function {self.subject}, got {got['type']} "
                 f"({got['repr']}). Pass the function itself: {self.name}({self.subject})", None)
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
        compare_curves(
            expected, values,
            function=self.subject, torch_name=self.torch_name, variable=self.variable,
            call=format_call(self.subject, self.variable, params),
            hint=self.hint(params, int(bad[0])) if bad.size else "", display=display,
        )


def malformed(check: str, exc: Exception) -> str:
    """The message for a probe record that no probe could have made."""
    return (f"{check}: the grading sandbox sent back data that the check's own code could not "
            f"have produced ({exc}), so this check failed. Was grading code changed from the "
            "notebook?")


def _same_lr(params: Params, lr_key: str = "base_lr") -> tuple[float, Params]:
    kw = dict(params)
    return kw.pop(lr_key), kw


def _round(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


# --------------------------------------------------------------------- exercise 1: StepLR


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
)


@learner_facing
def check_multistep_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``multistep_lr(epoch, base_lr, milestones, gamma)`` against torch's MultiStepLR.

    Expected: :math:`\eta_e = \eta_0\,\gamma^{\#\{m \in \text{milestones} : m \le e\}}`
    (milestones sorted and distinct in every case checked).
    """
    run_in_notebook(MULTISTEP_LR, fn, hidden, seed)


# ------------------------------------------------------------- exercise 2: ExponentialLR


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
)


@learner_facing
def check_exponential_lr(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    r"""Check ``exponential_lr(epoch, base_lr, gamma)``: :math:`\eta_e = \eta_0\,\gamma^{e}`."""
    run_in_notebook(EXPONENTIAL_LR, fn, hidden, seed)


# -------------------------------------------------------------- exercise 2: PolynomialLR


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
