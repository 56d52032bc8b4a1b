"""The cheat sheet: one typical setting of every torch scheduler, for the same step budget.

:data:`ENTRIES` holds, per scheduler in :data:`lrcourse.TORCH_SCHEDULERS` order, keyword
arguments that give a representative curve over :data:`STEPS` steps from :data:`LR`, the unit
it is usually stepped in, its key parameters and a one-line rule of thumb for when to use it.
:func:`curves` evaluates them all with :func:`lrcourse.schedules.lr_curve`; :func:`table`
prints the summary as a Markdown table.

:data:`FORMULAS` holds the sheet's formula table: each row's LaTeX beside the same formula
transcribed literally into numpy (:func:`formula_values` evaluates it with the sheet's
settings), so that the lesson can check every row of the table against torch.
:func:`formula_table` renders the rows as Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse.schedules import TORCH_SCHEDULERS, lr_curve
from lrcourse.widgets import milestone_steps

from .chaining import warmup_cosine
from .synthetic import reductions, validation_loss

__all__ = ["STEPS", "LR", "Entry", "ENTRIES", "kwargs_for", "curves", "marks", "table",
           "inverse_time", "slowing_factor", "pair", "choices", "print_values", "Formula",
           "FORMULAS", "formula_values", "formula_table"]

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
        "divide by 10 every N epochs: simple, and easy to compare across runs"),
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
        "a common choice when the run length is known: smooth, no milestones to pick"),
    "CosineAnnealingWarmRestarts": Entry(
        dict(T_0=20, T_mult=2), "epoch (fractions allowed) or batch", "T_0, T_mult, eta_min",
        "SGDR: periodic restarts, snapshot ensembles, runs of open length"),
    "CyclicLR": Entry(
        dict(base_lr=0.01, max_lr=0.1, step_size_up=10), "batch",
        "base_lr, max_lr, step_size_up, mode",
        "Smith's recipe: bounds from an LR range test (lesson 12)"),
    "OneCycleLR": Entry(
        dict(max_lr=0.1, total_steps=100), "batch", "max_lr, total_steps, pct_start",
        "a fixed budget of steps; Smith reports much faster training ('super-convergence') "
        "in some settings"),
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
        "epoch", "schedulers",
        "several multiplicative effects at once (lesson 8 for the members that do not multiply)"),
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
    rows = ["| scheduler | usually stepped per | key parameters | when to use (a rule of thumb) |",
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



# --- The formula table -------------------------------------------------------------------
# Each row is the LaTeX the lesson shows and the same formula written out in numpy, evaluated
# at steps ``t`` from the initial rate ``e0`` with the sheet's keyword arguments ``kw``.  They
# use nothing from lrcourse.schedules: the lesson checks them against torch directly.

@dataclass(frozen=True)
class Formula:
    """One row of the formula table."""

    latex: str
    values: Callable[[np.ndarray, float, dict], np.ndarray]


def _lambda(t, e0, kw):
    return e0 * np.array([kw["lr_lambda"](k) for k in t], dtype=np.float64)


def _multiplicative(t, e0, kw):  # the product is empty at t = 0
    return e0 * np.array([np.prod([kw["lr_lambda"](j) for j in range(1, k + 1)]) for k in t])


def _step(t, e0, kw):
    return e0 * kw.get("gamma", 0.1) ** (t // kw["step_size"])


def _multistep(t, e0, kw):
    passed = np.array([sum(m <= k for m in kw["milestones"]) for k in t])
    return e0 * kw.get("gamma", 0.1) ** passed


def _constant(t, e0, kw):
    return np.where(t < kw["total_iters"], e0 * kw["factor"], e0)


def _linear(t, e0, kw):
    s, e, T = kw["start_factor"], kw.get("end_factor", 1.0), kw["total_iters"]
    return e0 * (s + (e - s) * np.minimum(t, T) / T)


def _exponential(t, e0, kw):
    return e0 * kw["gamma"] ** t


def _polynomial(t, e0, kw):
    T = kw["total_iters"]
    return e0 * (1 - np.minimum(t, T) / T) ** kw.get("power", 1.0)


def _cosine(t, e0, kw):
    eta_min = kw.get("eta_min", 0.0)
    return eta_min + 0.5 * (e0 - eta_min) * (1 + np.cos(np.pi * t / kw["T_max"]))


def _warm_restarts(t, e0, kw):
    position, length = [], []
    for k in t:  # walk the cycles: T_0, T_0 * T_mult, ...
        start, T_i = 0, kw["T_0"]
        while k >= start + T_i:
            start, T_i = start + T_i, T_i * kw.get("T_mult", 1)
        position.append(k - start)
        length.append(T_i)
    return _cosine(np.array(position), e0, dict(T_max=np.array(length),
                                                eta_min=kw.get("eta_min", 0.0)))


def _cyclic(t, e0, kw):  # triangular mode: s(t) = 1
    up = kw["step_size_up"]
    L = up + kw.get("step_size_down", up)
    rho = up / L
    c = np.floor(1 + t / L)
    x = 1 + t / L - c
    h = np.where(x <= rho, x / rho, (1 - x) / (1 - rho))
    return kw["base_lr"] + (kw["max_lr"] - kw["base_lr"]) * h


def _cos_phase(a, b, u):
    return b + (a - b) / 2 * (1 + np.cos(np.pi * u))


def _one_cycle(t, e0, kw):  # the default: two cosine phases
    T, p = kw["total_steps"], kw.get("pct_start", 0.3)
    peak = kw["max_lr"]
    start = peak / kw.get("div_factor", 25.0)
    floor = start / kw.get("final_div_factor", 1e4)
    turn = p * T - 1
    t = t.astype(np.float64)
    return np.where(t <= turn, _cos_phase(start, peak, t / turn),
                    _cos_phase(peak, floor, (t - turn) / (T - 1 - turn)))


def _plateau(t, e0, kw):  # mode "min", threshold_mode "rel", threshold 1e-4, no cooldown
    factor, patience = kw.get("factor", 0.1), kw.get("patience", 10)
    eta, best, bad, out = e0, np.inf, 0, []
    for metric in kw["metrics"][: len(t)]:
        out.append(eta)
        if metric < best * (1 - 1e-4):
            best, bad = metric, 0
        else:
            bad += 1
        if bad > patience:
            eta, bad = max(eta * factor, kw.get("min_lr", 0.0)), 0
    return np.array(out)


def _sequential(t, e0, kw):  # the sheet's members: LinearLR, then CosineAnnealingLR
    (_, warm), (_, cos) = kw["schedulers"]
    m = kw["milestones"][0]
    return np.where(t < m, _linear(t, e0, warm), _cosine(t - m, e0, cos))


def _chained(t, e0, kw):  # the sheet's members: ExponentialLR and MultiStepLR, both multiply
    (_, exp), (_, multi) = kw["schedulers"]
    return e0 * (_exponential(t, e0, exp) / e0) * (_multistep(t, e0, multi) / e0)


FORMULAS: dict[str, Formula] = {
    "LambdaLR": Formula(r"$\eta_0\,\lambda(t)$", _lambda),
    "MultiplicativeLR": Formula(r"$\eta_0 \prod_{j=1}^{t} \lambda(j)$", _multiplicative),
    "StepLR": Formula(r"$\eta_0\,\gamma^{\lfloor t/s \rfloor}$", _step),
    "MultiStepLR": Formula(
        r"$\eta_0\,\gamma^{\#\{i:\,m_i \le t\}}$ (a repeated milestone counts twice)", _multistep),
    "ConstantLR": Formula(r"$\eta_0\,f$ for $t < T$, then $\eta_0$", _constant),
    "LinearLR": Formula(r"$\eta_0\,\bigl(s + (e - s)\min(t, T)/T\bigr)$", _linear),
    "ExponentialLR": Formula(r"$\eta_0\,\gamma^t$", _exponential),
    "PolynomialLR": Formula(r"$\eta_0\,\bigl(1 - \min(t, T)/T\bigr)^p$", _polynomial),
    "CosineAnnealingLR": Formula(
        r"$\eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\bigl(1 + \cos(\pi t/T_{\max})\bigr)$, "
        r"for every $t$ (past $T_{\max}$ it climbs back)", _cosine),
    "CosineAnnealingWarmRestarts": Formula(
        r"the same with $t$ and $T_{\max}$ replaced by the position in the current cycle and "
        r"its length $T_i = T_0\,T_{\text{mult}}^{\,i}$", _warm_restarts),
    "CyclicLR": Formula(
        r"$\eta_{\text{base}} + (\eta_{\max} - \eta_{\text{base}})\,h(t)\,s(t)$, a triangle wave "
        r"of height $h$ scaled by $s$ ([lesson 6](06_cyclic_onecycle.ipynb))", _cyclic),
    "OneCycleLR": Formula(
        r"$\eta_{\max}/\text{div} \to \eta_{\max}$ over steps $0 \ldots pT-1$, then "
        r"$\to \eta_{\max}/(\text{div} \cdot \text{final\_div})$ at $T-1$, each phase a half "
        r"cosine by default ([lesson 6](06_cyclic_onecycle.ipynb))", _one_cycle),
    "ReduceLROnPlateau": Formula(
        r"$\eta \leftarrow \max(\eta \cdot \text{factor}, \text{min\_lr})$ after more than "
        r"`patience` epochs without an improvement beyond `threshold` "
        r"([lesson 7](07_reduce_on_plateau.ipynb))", _plateau),
    "SequentialLR": Formula(
        r"member $i$'s own curve at $t - m_{i-1}$ between milestones (a MultiplicativeLR member "
        r"carries on from the rate it inherits; [lesson 8](08_chaining.ipynb))", _sequential),
    "ChainedScheduler": Formula(
        r"every member updates the rate in turn; $\eta_0 \prod_i f_i(t)$ when all members are "
        r"multiplicative (not LambdaLR, CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts, nor "
        r"CosineAnnealingLR with $\eta_{\min} > 0$ or past $T_{\max}$; "
        r"[lesson 8](08_chaining.ipynb))", _chained),
}


def formula_values(name: str, steps: int = STEPS, lr: float = LR) -> np.ndarray:
    """Row ``name`` of the formula table, evaluated as written with the sheet's settings."""
    return FORMULAS[name].values(np.arange(steps), lr, kwargs_for(name))


def formula_table() -> str:
    """The formula table as Markdown: scheduler, rate at step t."""
    rows = ["| scheduler | rate at step $t$ |", "|---|---|"]
    rows += [f"| `{name}` | {FORMULAS[name].latex} |" for name in TORCH_SCHEDULERS]
    return "\n".join(rows)
