"""Hypothesis strategies: valid parameter sets for every torch scheduler.

Each strategy draws ``(name, kwargs)`` with the kwargs named as torch names them.  Ranges are
wide (they include the edges the issue lists: past the end of a schedule, repeated milestones,
T_mult > 1, three_phase, step_size_down, exp_range, plateau cooldown and both threshold modes)
but keep the curves away from float underflow, where "relative error" stops meaning anything.
"""

from __future__ import annotations

import math

from hypothesis import assume
from hypothesis import strategies as st

STEPS = 10_000  # the length of the curves compared with torch

lrs = st.floats(1e-3, 10.0)
unit = st.floats(0.0, 1.0)


def _gamma_for(span: int):
    """A decay factor that, over `span` decays, stays above ~1e-150."""
    low = max(0.01, math.exp(-345.0 / max(span, 1)))
    return st.floats(low, 1.0)


@st.composite
def step_lr(draw):
    size = draw(st.integers(1, 3000))
    return "StepLR", {"step_size": size, "gamma": draw(_gamma_for(STEPS // size))}


@st.composite
def multistep_lr(draw):
    ms = draw(st.lists(st.integers(0, 12_000), max_size=12))
    if ms and draw(st.booleans()):  # repeated milestones compound
        ms = ms + draw(st.lists(st.sampled_from(ms), max_size=3))
    return "MultiStepLR", {"milestones": ms, "gamma": draw(st.floats(0.01, 1.0))}


@st.composite
def constant_lr(draw):
    return "ConstantLR", {"factor": draw(st.floats(1e-3, 1.0)),
                          "total_iters": draw(st.integers(1, 12_000))}


@st.composite
def linear_lr(draw):
    return "LinearLR", {"start_factor": draw(st.floats(1e-3, 1.0)),
                        "end_factor": draw(unit), "total_iters": draw(st.integers(1, 12_000))}


@st.composite
def exponential_lr(draw):
    return "ExponentialLR", {"gamma": draw(st.floats(0.97, 1.0005))}


@st.composite
def polynomial_lr(draw):
    return "PolynomialLR", {"total_iters": draw(st.integers(1, 12_000)),
                            "power": draw(st.floats(0.0, 5.0))}


@st.composite
def cosine_annealing_lr(draw, lr=None):
    T_max = draw(st.one_of(st.integers(1, 12_000), st.integers(1, 300)))
    eta = draw(unit) * (lr if lr is not None else 1e-4)
    return "CosineAnnealingLR", {"T_max": T_max, "eta_min": eta}


@st.composite
def warm_restarts(draw, lr=None):
    return "CosineAnnealingWarmRestarts", {
        "T_0": draw(st.integers(1, 3000)), "T_mult": draw(st.integers(1, 4)),
        "eta_min": draw(unit) * (lr if lr is not None else 1e-4)}


def _scale_fns():
    halve = lambda x: 0.5 ** x  # noqa: E731
    inv = lambda x: 1.0 / (1.0 + 0.01 * x)  # noqa: E731
    return st.sampled_from([(halve, "cycle"), (inv, "iterations"), (inv, "cycle")])


@st.composite
def cyclic_lr(draw):
    base = draw(st.floats(1e-3, 1.0))
    kw = {"base_lr": base, "max_lr": base + draw(st.floats(0.0, 1.0)),
          "step_size_up": draw(st.one_of(st.integers(1, 3000), st.floats(0.5, 500.0))),
          "step_size_down": draw(st.one_of(st.none(), st.integers(1, 3000))),
          "mode": draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
          "gamma": draw(st.floats(0.999, 1.0)),
          "base_momentum": draw(st.floats(0.5, 0.85)), "max_momentum": draw(st.floats(0.85, 0.99))}
    if draw(st.integers(0, 3)) == 0:
        kw["scale_fn"], kw["scale_mode"] = draw(_scale_fns())
    # torch overflows (OverflowError) past ~1025 triangular2 cycles: see test_schedules_edges
    down = kw["step_size_down"] or kw["step_size_up"]
    assume(kw["mode"] != "triangular2" or STEPS / (kw["step_size_up"] + down) < 1000)
    return "CyclicLR", kw


@st.composite
def one_cycle_lr(draw, steps=STEPS):
    total = draw(st.integers(max(steps - 1, 2), steps + 5000))
    three = draw(st.booleans())
    pct = draw(st.floats(0.01, 0.5 if three else 0.99))
    assume(pct * total != 1 and (not three or 2 * pct * total - 2 != total - 1))
    return "OneCycleLR", {
        "max_lr": draw(st.floats(1e-3, 10.0)), "total_steps": total, "pct_start": pct,
        "anneal_strategy": draw(st.sampled_from(["cos", "linear"])), "three_phase": three,
        "div_factor": draw(st.floats(1.0, 100.0)), "final_div_factor": draw(st.floats(1.0, 1e5)),
        "base_momentum": draw(st.floats(0.5, 0.85)), "max_momentum": draw(st.floats(0.85, 0.99))}


@st.composite
def plateau(draw, steps=STEPS):
    # A noisy descent with plateaus: long flat stretches make the scheduler fire.
    seed_values = draw(st.lists(st.floats(-1.0, 1.0), min_size=8, max_size=8))
    length = draw(st.integers(1, 400))
    metrics = [2.0 + seed_values[(k // length) % 8] * 0.5 + 0.001 * ((k * 7919) % 13)
               for k in range(steps)]
    if draw(st.booleans()):
        metrics = [-m for m in metrics]  # negative metrics flip the rel threshold
    return "ReduceLROnPlateau", {
        "metrics": metrics, "mode": draw(st.sampled_from(["min", "max"])),
        "threshold_mode": draw(st.sampled_from(["rel", "abs"])),
        "threshold": draw(st.floats(0.0, 0.1)), "factor": draw(st.floats(0.1, 0.95)),
        "patience": draw(st.integers(0, 30)), "cooldown": draw(st.integers(0, 20)),
        "min_lr": draw(st.floats(0.0, 1e-3)), "eps": draw(st.sampled_from([1e-8, 0.0, 1e-4]))}


class Power:
    """A picklable, printable lr_lambda: ``base ** epoch``."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base**epoch

    def __repr__(self):
        return f"Power({self.base})"


class Warmup:
    """``min(1, (epoch + 1) / width)``: a linear warm-up factor."""

    def __init__(self, width):
        self.width = width

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.width)

    def __repr__(self):
        return f"Warmup({self.width})"


@st.composite
def lambda_lr(draw):
    fn = draw(st.one_of(st.floats(0.999, 1.0).map(Power), st.integers(1, 500).map(Warmup)))
    return "LambdaLR", {"lr_lambda": fn}


@st.composite
def multiplicative_lr(draw):
    fn = draw(st.floats(0.999, 1.0).map(lambda c: Power(1.0) if c == 1.0 else _Const(c)))
    return "MultiplicativeLR", {"lr_lambda": fn}


class _Const:
    def __init__(self, c):
        self.c = c

    def __call__(self, epoch):
        return self.c

    def __repr__(self):
        return f"Const({self.c})"


SINGLE = {
    "LambdaLR": lambda_lr, "MultiplicativeLR": multiplicative_lr, "StepLR": step_lr,
    "MultiStepLR": multistep_lr, "ConstantLR": constant_lr, "LinearLR": linear_lr,
    "ExponentialLR": exponential_lr, "PolynomialLR": polynomial_lr,
    "CosineAnnealingLR": cosine_annealing_lr, "CosineAnnealingWarmRestarts": warm_restarts,
    "CyclicLR": cyclic_lr, "OneCycleLR": one_cycle_lr, "ReduceLROnPlateau": plateau,
}

# Members of composites.  OneCycleLR is drawn long enough for any curve.
_MEMBERS = st.one_of(
    step_lr(), multistep_lr(), constant_lr(), linear_lr(), exponential_lr(), polynomial_lr(),
    cosine_annealing_lr(lr=1e-6), warm_restarts(lr=1e-6), cyclic_lr(), lambda_lr(),
    multiplicative_lr(), one_cycle_lr(steps=STEPS + 1),
)


@st.composite
def chained(draw):
    members = draw(st.lists(_MEMBERS, min_size=1, max_size=3))
    return "ChainedScheduler", {"schedulers": members}


@st.composite
def sequential(draw):
    members = draw(st.lists(_MEMBERS, min_size=1, max_size=3))
    cuts = sorted(draw(st.lists(st.integers(1, STEPS + 100), min_size=len(members) - 1,
                                max_size=len(members) - 1, unique=True)))
    return "SequentialLR", {"schedulers": members, "milestones": cuts}


COMPOSITE = {"ChainedScheduler": chained, "SequentialLR": sequential}
