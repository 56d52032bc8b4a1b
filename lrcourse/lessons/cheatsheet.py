"""The cheat sheet (lesson 10): one typical setting of every schedule the course teaches, all for
the same budget of :data:`STEPS` steps from :data:`LR`.

:data:`ENTRIES` holds torch's fifteen ``lr_scheduler`` classes (in
:data:`lrcourse.TORCH_SCHEDULERS` order); :data:`BEYOND` the schedules beyond them that the course
teaches: the modern recipes torch ships no class for (lesson 13), transformers' six schedules and
timm's ``CosineLRScheduler`` (lesson 16), and ``SWALR`` from ``torch.optim.swa_utils`` (lesson 17).
Each :class:`Entry` has the keyword arguments of a representative curve, the unit it is usually
stepped in, its key parameters, a one-line rule of thumb, a key to the letters of its formula and
the lesson that teaches it.

The formulas are not written here.  :func:`formula` reads each one from the docstring of the
closed form that computes it (``lrcourse.schedules``), so the page shows the formula the code
states beside its implementation, and the lesson checks that implementation against torch.
:func:`torch_curve` steps the schedule in torch: torch's own class, torch's ``SWALR``, or, for
the schedules torch has no class for, their torch recipe (a ``LambdaLR`` written from the
library's source, in :mod:`lrcourse.schedules.huggingface`,
:mod:`~lrcourse.schedules.timm_cosine_lr` and :mod:`~lrcourse.schedules.modern`), which needs
neither transformers nor timm.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse import reference
from lrcourse.schedules import LIBRARY_SCHEDULERS, SCHEDULES, TORCH_SCHEDULERS, lr_curve
from lrcourse.schedules import huggingface, modern, timm_cosine_lr
from lrcourse.widgets import milestone_steps

from .chaining import warmup_cosine
from .synthetic import reductions, validation_loss

__all__ = ["STEPS", "LR", "Entry", "ENTRIES", "BEYOND", "BEYOND_NAMES", "ALL_NAMES", "LESSONS",
           "entry", "kwargs_for", "curves", "marks", "panel_title", "table", "inverse_time",
           "slowing_factor", "pair", "choices", "print_values", "formula", "formula_lines",
           "formula_sheet", "torch_curve", "torch_source", "check_against_torch", "library_cases"]

#: The step budget and initial rate every curve of the sheet uses.
STEPS = 100
LR = 0.1

#: The lessons the sheet links to, by number.
LESSONS = {
    1: "01_lambda_multiplicative.ipynb", 2: "02_step_multistep.ipynb",
    3: "03_constant_linear_exponential_polynomial.ipynb", 4: "04_cosine_annealing.ipynb",
    5: "05_warm_restarts.ipynb", 6: "06_cyclic_onecycle.ipynb", 7: "07_reduce_on_plateau.ipynb",
    8: "08_chaining.ipynb", 12: "12_lr_range_test.ipynb", 13: "13_modern_recipes.ipynb",
    16: "16_schedules_in_other_libraries.ipynb", 17: "17_stochastic_weight_averaging.ipynb",
}


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
    stepped: str          #: the unit it is usually stepped in
    key_params: str
    when: str             #: a rule of thumb for when to use it
    where: str            #: what the letters of its formula stand for (Markdown)
    lesson: int           #: the lesson that teaches it (a key of LESSONS)
    source: str = "torch.optim.lr_scheduler"  #: where it comes from


ENTRIES: dict[str, Entry] = {
    "LambdaLR": Entry(
        dict(lr_lambda=inverse_time), "epoch or batch", "lr_lambda(t) -> factor of the base lr",
        "any schedule you can write as a formula of the step",
        r"$\lambda$ = `lr_lambda`, a factor of the *initial* rate", 1),
    "MultiplicativeLR": Entry(
        dict(lr_lambda=slowing_factor), "epoch", "lr_lambda(t) -> factor of the previous lr",
        "a decay stated step to step (e.g. a factor that changes with the epoch)",
        r"$\lambda$ = `lr_lambda`, a factor of the *previous* rate; $\lambda(0)$ is never called",
        1),
    "StepLR": Entry(
        dict(step_size=30, gamma=0.1), "epoch", "step_size, gamma",
        "divide by 10 every N epochs: simple, and easy to compare across runs",
        r"$\gamma$ = `gamma`", 2),
    "MultiStepLR": Entry(
        dict(milestones=[50, 80], gamma=0.1), "epoch", "milestones, gamma",
        "drops at hand-picked epochs (e.g. 50% and 80% of the run)",
        r"$\gamma$ = `gamma`; a milestone listed twice counts twice", 2),
    "ConstantLR": Entry(
        dict(factor=0.5, total_iters=20), "epoch or batch", "factor, total_iters",
        "a lower rate for the first steps, then the full rate (a crude warm-up)",
        "the full rate from `total_iters` on", 3),
    "LinearLR": Entry(
        dict(start_factor=0.1, total_iters=20), "batch (warm-up) or epoch",
        "start_factor, end_factor, total_iters", "a linear warm-up, or a linear decay",
        "$s$ = `start_factor`, $e$ = `end_factor`, $T$ = `total_iters`", 3),
    "ExponentialLR": Entry(
        dict(gamma=0.97), "epoch", "gamma", "smooth decay by a constant factor per step",
        r"$\gamma$ = `gamma`, once per `step()`", 3),
    "PolynomialLR": Entry(
        dict(total_iters=100, power=2.0), "epoch or batch", "total_iters, power",
        "decay to exactly 0 at a known end (power 1 = linear)",
        "$T$ = `total_iters`, $p$ = `power`; 0 from step $T$ on", 3),
    "CosineAnnealingLR": Entry(
        dict(T_max=100, eta_min=0.001), "epoch or batch", "T_max (= whole run), eta_min",
        "a common choice when the run length is known: smooth, no milestones to pick",
        r"$\eta_{min}$ = `eta_min`; for every $t$: past $T_{max}$ it climbs back", 4),
    "CosineAnnealingWarmRestarts": Entry(
        dict(T_0=20, T_mult=2), "epoch (fractions allowed) or batch", "T_0, T_mult, eta_min",
        "SGDR: periodic restarts, snapshot ensembles, runs of open length",
        r"$T_{cur}$ = steps since the last restart, $T_i = T_0\,T_{mult}^{\,i}$ the current "
        "cycle's length", 5),
    "CyclicLR": Entry(
        dict(base_lr=0.01, max_lr=0.1, step_size_up=10), "batch",
        "base_lr, max_lr, step_size_up, mode",
        "Smith's recipe: bounds from an LR range test (lesson 12)",
        r"$L$ = up + down steps, $\rho$ = up / $L$, $s$ = the mode's scale (1 for `triangular`)",
        6),
    "OneCycleLR": Entry(
        dict(max_lr=0.1, total_steps=100), "batch", "max_lr, total_steps, pct_start",
        "a fixed budget of steps; Smith reports much faster training ('super-convergence') "
        "in some settings",
        r"each phase runs from $a$ to $b$, $\pi_t$ its fraction done: $\eta_{max}/\text{div}"
        r" \to \eta_{max}$ until step $pT - 1$, then $\to \eta_{max}/(\text{div} \cdot "
        r"\text{final\_div})$ at $T - 1$; half cosines by default", 6),
    "ReduceLROnPlateau": Entry(
        dict(metrics=None, patience=5, factor=0.5), "epoch, after validation: step(metric)",
        "patience, factor, threshold, cooldown, min_lr",
        "no fixed plan: cut the rate when the validation metric stalls",
        "applied after more than `patience` epochs without an improvement beyond `threshold`",
        7),
    "SequentialLR": Entry(
        warmup_cosine(10, 100), "batch or epoch", "schedulers, milestones",
        "phases one after another: warm-up, then the main decay",
        "$f_i$ = member $i$'s own curve, $m_i$ = `milestones`; a MultiplicativeLR member "
        "carries on from the rate it inherits", 8),
    "ChainedScheduler": Entry(
        dict(schedulers=[("ExponentialLR", dict(gamma=0.98)),
                         ("MultiStepLR", dict(milestones=[50], gamma=0.2))]),
        "epoch", "schedulers",
        "several multiplicative effects at once (lesson 8 for the members that do not multiply)",
        r"member $i$'s update $\eta \mapsto a\eta + c$, in list order; $\eta_0 \prod_i f_i(t)$ "
        "when all members multiply (not LambdaLR, CyclicLR, OneCycleLR, "
        r"CosineAnnealingWarmRestarts, nor CosineAnnealingLR with $\eta_{min} > 0$ or past "
        r"$T_{max}$)", 8),
}

_HF = "transformers"
_RECIPE = "no class: a torch recipe"

#: The schedules beyond ``torch.optim.lr_scheduler``, with their settings on the sheet.
BEYOND: dict[str, Entry] = {
    "WarmupCosine": Entry(
        dict(warmup_steps=10, total_steps=100, min_lr=0.001), "batch (optimizer step)",
        "warmup_steps, total_steps, min_lr",
        "a known budget of steps with a warm-up: a common choice for transformers",
        r"$W$ = `warmup_steps`, $T$ = `total_steps`, $s$ = `start_factor`, "
        r"$\eta_{min}$ = `min_lr`; the floor is held after $T$", 13, _RECIPE),
    "WarmupStableDecay": Entry(
        dict(warmup_steps=10, total_steps=100, decay_steps=20), "batch (optimizer step)",
        "warmup_steps, decay_steps, total_steps, decay",
        "a run whose length is not fixed up front: hold the peak, decay only at the end",
        r"$S = T - D$, $D$ = `decay_steps`; $g$ = the `decay` shape: $1 - x$, "
        r"$\tfrac12(1 + \cos\pi x)$ or $1 - \sqrt{x}$", 13, _RECIPE),
    "InverseSqrt": Entry(
        dict(warmup_steps=10), "batch (optimizer step)", "warmup_steps",
        "open-ended training (the original Transformer's schedule)",
        "$W$ = `warmup_steps`; halves each time $t$ is multiplied by 4", 13, _RECIPE),
    "SWALR": Entry(
        dict(swa_lr=0.02, anneal_epochs=10, swa_start=50,
             scheduler=("CosineAnnealingLR", {"T_max": 100})),
        "epoch, from the hand-over on", "swa_lr, anneal_epochs, anneal_strategy",
        "the last part of a run, while averaging the weights (SWA)",
        r"$f$ = the first schedule, $s$ = the hand-over step, $A$ = `anneal_epochs`, "
        r"$\eta_{swa}$ = `swa_lr`, $a(x) = \tfrac12(1 - \cos\pi x)$ (`cos`) or $x$ (`linear`)",
        17, "torch.optim.swa_utils"),
    "get_linear_schedule_with_warmup": Entry(
        dict(num_warmup_steps=10, num_training_steps=100), "optimizer step (as `Trainer` does)",
        "num_warmup_steps, num_training_steps",
        "fine-tuning: a short warm-up from 0, then straight down to 0",
        "$W$ = `num_warmup_steps`, $T$ = `num_training_steps`", 16, _HF),
    "get_cosine_schedule_with_warmup": Entry(
        dict(num_warmup_steps=10, num_training_steps=100), "optimizer step (as `Trainer` does)",
        "num_warmup_steps, num_training_steps, num_cycles",
        "WarmupCosine to 0; pass the real number of optimizer steps as $T$",
        "$c$ = `num_cycles` (0.5: half a wave); past $T$ it climbs back", 16, _HF),
    "get_cosine_with_hard_restarts_schedule_with_warmup": Entry(
        dict(num_warmup_steps=10, num_training_steps=100, num_cycles=3),
        "optimizer step (as `Trainer` does)", "num_warmup_steps, num_training_steps, num_cycles",
        "restarts inside a fixed budget of steps",
        r"$c$ = `num_cycles` decays to 0, $p_t = (t - W)/(T - W)$, $\{x\}$ = the fractional "
        "part; 0 from $T$ on", 16, _HF),
    "get_polynomial_decay_schedule_with_warmup": Entry(
        dict(num_warmup_steps=10, num_training_steps=100, lr_end=0.001, power=2.0),
        "optimizer step (as `Trainer` does)",
        "num_warmup_steps, num_training_steps, lr_end, power",
        "a decay to a floor `lr_end` instead of 0 (power 1 = linear)",
        r"$\eta_i$ = the optimizer's default rate, $\eta_e$ = `lr_end`, $p$ = `power`, "
        r"$q_t$ = the fraction of the decay left", 16, _HF),
    "get_inverse_sqrt_schedule": Entry(
        dict(num_warmup_steps=10), "optimizer step (as `Trainer` does)",
        "num_warmup_steps, timescale",
        "open-ended training; pass `timescale` explicitly",
        r"$\tau$ = `timescale` (default $W$, but 10,000 when $W = 0$)", 16, _HF),
    "get_wsd_schedule": Entry(
        dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=100,
             min_lr_ratio=0.1), "optimizer step (as `Trainer` does)",
        "num_warmup_steps, num_decay_steps, num_training_steps, min_lr_ratio, decay_type",
        "WarmupStableDecay with transformers' shapes and a floor",
        "$r$ = `min_lr_ratio`, $S$ = stable steps, $D$ = `num_decay_steps`; $u$, $g$ = the "
        "`warmup_type` and `decay_type` shapes", 16, _HF),
    "CosineLRScheduler": Entry(
        dict(t_initial=40, warmup_t=5, warmup_lr_init=0.001, warmup_prefix=True,
             lr_min=0.001, cycle_limit=2, cycle_decay=0.5),
        "epoch: `step(epoch)`; per update with `t_in_epochs=False`",
        "t_initial, warmup_t, warmup_prefix, lr_min, cycle_limit, cycle_mul, cycle_decay",
        "image models trained with timm's `train.py`; restarts with `cycle_limit > 1`",
        r"on timm's clock $c$ (epochs by default): $W$ = `warmup_t`, $\eta_w$ = "
        r"`warmup_lr_init`, $T_i = m^i T$ with $T$ = `t_initial`, $m$ = `cycle_mul`, "
        r"$d$ = `cycle_decay`; cycle $i$ started $\tau$ ticks ago", 16, "timm"),
}

#: The torch schedulers and the schedules beyond them, in the sheet's order.
BEYOND_NAMES: tuple[str, ...] = tuple(BEYOND)
ALL_NAMES: tuple[str, ...] = (*TORCH_SCHEDULERS, *BEYOND_NAMES)


def entry(name: str) -> Entry:
    """The sheet's row for ``name`` (a torch scheduler or a schedule of :data:`BEYOND`)."""
    if name in ENTRIES:
        return ENTRIES[name]
    if name in BEYOND:
        return BEYOND[name]
    raise ValueError(f"the cheat sheet has no {name!r}; it has: {', '.join(ALL_NAMES)}")


def kwargs_for(name: str) -> dict[str, Any]:
    """The keyword arguments of ``name`` on the sheet, ready for ``lr_curve(name, STEPS, LR,
    **kwargs)`` (ReduceLROnPlateau gets the simulated validation loss as its metrics)."""
    kwargs = dict(entry(name).kwargs)
    if name == "ReduceLROnPlateau":
        kwargs["metrics"] = validation_loss(STEPS)
    return kwargs


def curves(names: Iterable[str] = TORCH_SCHEDULERS) -> dict[str, np.ndarray]:
    """The sheet's curves of ``names`` (default: torch's fifteen, in course order)."""
    return {name: lr_curve(name, STEPS, LR, **kwargs_for(name)) for name in names}


def marks(curves_: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Milestones, restarts, phase ends and plateau cuts worth a dotted line on each panel."""
    out = {name: milestone_steps(name, STEPS, kwargs_for(name)) for name in curves_}
    if "ReduceLROnPlateau" in curves_:
        out["ReduceLROnPlateau"] = reductions(curves_["ReduceLROnPlateau"])
    return out


def panel_title(name: str, width: int = 30) -> str:
    """``name`` as a small panel's title: broken over two lines, before ``schedule_`` or else
    after the underscore nearest its middle, when it is longer than ``width`` characters
    (transformers' names are up to 50)."""
    if len(name) <= width or "_" not in name:
        return name
    cut = name.rfind("_schedule") + 1
    if cut <= 0:
        cut = min((i + 1 for i, ch in enumerate(name) if ch == "_"),
                  key=lambda i: abs(i - len(name) / 2))
    return f"{name[:cut]}\n{name[cut:]}"


def _lesson_link(number: int) -> str:
    return f"[{number}]({LESSONS[number]})"


def table(names: Sequence[str] = TORCH_SCHEDULERS) -> str:
    """The sheet as a Markdown table: schedule, where it comes from (when not all from
    ``torch.optim.lr_scheduler``), stepping unit, key parameters, when to use, lesson."""
    rows_of = [(name, entry(name)) for name in names]
    sourced = any(e.source != "torch.optim.lr_scheduler" for _, e in rows_of)
    head = ["schedule", *(["from"] if sourced else []), "usually stepped per", "key parameters",
            "when to use (a rule of thumb)", "lesson"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, e in rows_of:
        cells = [f"`{name}`", *([e.source] if sourced else []), e.stepped, e.key_params, e.when,
                 _lesson_link(e.lesson)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def pair(first: str = "CosineAnnealingLR", second: str = "OneCycleLR") -> dict[str, np.ndarray]:
    """Two schedules of the sheet on one plot (an explorer with two drop-downs)."""
    return {name: lr_curve(name, STEPS, LR, **kwargs_for(name))
            for name in dict.fromkeys((first, second))}


def choices(first: str) -> tuple[str, ...]:
    """Every schedule of the sheet with ``first`` first (a drop-down that starts at ``first``)."""
    return (first, *(name for name in ALL_NAMES if name != first))


def print_values(curves_: dict[str, np.ndarray], steps=(0, 25, 50, 75, 99)) -> None:
    """One line per schedule: its rate at ``steps`` (3 significant digits)."""
    width = max(len(name) for name in curves_) + 2
    print("step".ljust(width) + "".join(f"{k:>10d}" for k in steps))
    for name, y in curves_.items():
        print(name.ljust(width) + "".join(f"{y[k]:>10.3g}" for k in steps))


# --- The formula table: each formula read from the docstring of its closed form ------------

def _math_blocks(doc: str) -> list[list[str]]:
    """The LaTeX of each ``.. math::`` directive in a (cleaned) docstring, as Sphinx reads it:
    its equations (separated by blank lines in the block), each on one line."""
    lines = doc.splitlines()
    out = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith(".. math::"):
            continue
        indent = len(line) - len(stripped)
        equations, current = [], [stripped[len(".. math::"):].strip()]
        for follow in lines[i + 1:]:
            if not follow.strip():
                equations.append(" ".join(p for p in current if p))
                current = []
                continue
            if len(follow) - len(follow.lstrip()) <= indent:
                break
            current.append(follow.strip())
        equations.append(" ".join(p for p in current if p))
        out.append([e for e in equations if e])
    return out


def formula_lines(name: str) -> list[str]:
    """The formula of schedule ``name`` as its closed form's docstring states it: the equations
    of the first ``.. math::`` of the function's docstring (else of its module's)."""
    fn = SCHEDULES[name]
    for holder in (fn, sys.modules[fn.__module__]):
        blocks = _math_blocks(inspect.getdoc(holder) or "")
        if blocks:
            return blocks[0]
    raise ValueError(f"the closed form of {name} ({fn.__module__}.{fn.__name__}) states no "
                     "formula in a '.. math::' directive")


def formula(name: str) -> str:
    r"""The formula of schedule ``name`` as its closed form's docstring states it, on one line
    of LaTeX (:func:`formula_lines` joined with ``\qquad``; e.g. ``formula("ExponentialLR")``
    is ``r"\eta_t = \eta_0 \, \gamma^{t}"``)."""
    return r" \qquad ".join(formula_lines(name))


def _closed_form(name: str) -> str:
    fn = SCHEDULES[name]
    return f"`{fn.__module__.removeprefix('lrcourse.')}.{fn.__name__}`"


def formula_sheet(names: Sequence[str] = TORCH_SCHEDULERS, *, usage: bool = False) -> str:
    """The formulas of ``names`` as Markdown, one block per schedule: its name, what the letters
    stand for and the closed form whose docstring states the formula, then the formula as
    display math (an equation per line).  With ``usage``, also where it comes from, the lesson
    that teaches it, the unit it is usually stepped in, its key parameters and a rule of thumb
    (the columns of :func:`table`, for names too long for a table)."""
    blocks = []
    for name in names:
        e = entry(name)
        head = f"**`{name}`**"
        if usage:
            head += f" · {e.source} · lesson {_lesson_link(e.lesson)}"
        lines = [head + "  ", f"{e.where}; closed form {_closed_form(name)}", ""]
        for equation in formula_lines(name):
            lines += ["$$", equation, "$$", ""]
        if usage:
            params = ", ".join(f"`{p.strip()}`" for p in e.key_params.split(","))
            lines += [f"*Usually stepped per:* {e.stepped}. *Key parameters:* {params}. "
                      f"*When to use (a rule of thumb):* {e.when}.", ""]
        blocks.append("\n".join(lines))
    return "\n".join(blocks).rstrip() + "\n"


# --- The ground truth: the same curves stepped in torch -----------------------------------

_RECIPES = {
    **{name: getattr(huggingface, name) for name in LIBRARY_SCHEDULERS["transformers"]},
    "CosineLRScheduler": timm_cosine_lr.timm_cosine_scheduler,
    "WarmupCosine": modern.warmup_cosine_scheduler,
    "WarmupStableDecay": modern.warmup_stable_decay_scheduler,
    "InverseSqrt": modern.inverse_sqrt_scheduler,
}


def torch_source(name: str) -> str:
    """What :func:`torch_curve` steps for ``name``, in words."""
    if name in TORCH_SCHEDULERS:
        return f"torch.optim.lr_scheduler.{name}"
    if name == "SWALR":
        return "torch.optim.swa_utils.SWALR after CosineAnnealingLR"
    recipe = _RECIPES[name]
    return f"the LambdaLR of {recipe.__module__.removeprefix('lrcourse.')}.{recipe.__name__}"


def torch_curve(name: str, steps: int = STEPS, lr: float = LR) -> np.ndarray:
    """The sheet's curve of ``name`` measured by stepping torch: torch's class, torch's
    ``SWALR`` (after the sheet's first schedule), or the schedule's torch recipe (a
    ``LambdaLR``, written from its library's source independently of the closed form)."""
    kwargs = kwargs_for(name)
    if name in TORCH_SCHEDULERS:
        return reference.lr_curve(name, steps, lr, **kwargs)
    if name == "SWALR":
        return reference.swalr_curve(steps, lr, **kwargs)
    recipe = _RECIPES[name]
    return reference.scheduler_curve(lambda optimizer: recipe(optimizer, **kwargs), steps,
                                     (lr,))[:, 0]


def check_against_torch(names: Sequence[str]) -> None:
    """Assert that the closed form of each of ``names`` agrees with :func:`torch_curve` at
    every step of the sheet (rtol 1e-9), and print one line per schedule."""
    for name in names:
        ours, truth = lr_curve(name, STEPS, LR, **kwargs_for(name)), torch_curve(name)
        scale = float(np.max(np.abs(truth), initial=0.0))
        bad = ~np.isclose(ours, truth, rtol=1e-9, atol=1e-14 * scale)
        if bad.any():
            k = int(np.argmax(bad))
            raise AssertionError(f"{name}: closed form {ours[k]!r} != {torch_source(name)} "
                                 f"{truth[k]!r} at step {k}")
        print(f"{name}: closed form == {torch_source(name)} on all {STEPS} steps")


def library_cases(names: Sequence[str] = BEYOND_NAMES) -> list[tuple[str, dict[str, Any]]]:
    """``(name, kwargs)`` of the sheet's transformers and timm schedules, for
    :func:`lrcourse.lessons.libraries.compare_cases_with_library` (the real libraries, where
    they are installed)."""
    others = {*LIBRARY_SCHEDULERS["transformers"], *LIBRARY_SCHEDULERS["timm"]}
    return [(name, kwargs_for(name)) for name in names if name in others]
