r"""Composite schedulers: ChainedScheduler and SequentialLR, built from the other formulas.

torch's schedulers come in two kinds, and composition makes the difference visible:

* *chainable* ones (StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR,
  CosineAnnealingLR, MultiplicativeLR) update the optimizer's current rate, an affine map per
  step: :math:`\eta_t = a_t\,\eta_{t-1} + c_t` (:math:`c_t \ne 0` only for the cosine);
* *absolute* ones (LambdaLR, CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts) overwrite it
  with their own closed form: :math:`a_t = 0`, :math:`c_t = f(t)`.

**ChainedScheduler** steps every member at every step, so its update is the composition of the
members' maps, in order.  For chainable members alone this is the product of their factors; an
absolute member wipes out what came before it at each step.

**SequentialLR** hands over from one member to the next at each milestone: member ``i`` runs on
its own clock, ``t - milestones[i-1]``, and restarts from its closed form at 0 (its own base
rate): the rate does *not* carry over, except for MultiplicativeLR, which multiplies the rate it
inherits.

Construction matters too, as in torch: members are built one after another on the same
optimizer, each may move the rate (ConstantLR and LinearLR scale it at once, CyclicLR and
OneCycleLR overwrite it), and a member's base rate is the optimizer's ``initial_lr`` when it is
built (OneCycleLR overwrites ``initial_lr`` with ``max_lr / div_factor``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _validate as v
from . import cosine, cyclic, decay, lambdas, piecewise

CHAINABLE_UPDATES = {
    "StepLR": piecewise.step_update,
    "MultiStepLR": piecewise.multistep_update,
    "ConstantLR": piecewise.constant_update,
    "LinearLR": decay.linear_update,
    "ExponentialLR": decay.exponential_update,
    "PolynomialLR": decay.polynomial_update,
    "MultiplicativeLR": lambdas.multiplicative_update,
}
ABSOLUTE = ("LambdaLR", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts")
NOT_MEMBERS = ("ReduceLROnPlateau", "SequentialLR", "ChainedScheduler")


def _members(scheduler: str, schedulers) -> list[tuple[str, dict]]:
    from . import SCHEDULES  # the registry, for names and formulas

    if schedulers is None or len(schedulers) == 0:
        v.fail(scheduler, "schedulers must be a non-empty list of (name, kwargs) pairs")
    members = []
    for i, item in enumerate(schedulers):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], dict)):
            v.fail(scheduler, f"schedulers[{i}] must be a (name, kwargs) pair such as "
                              f"('StepLR', {{'step_size': 10}}), got {item!r}")
        name, kwargs = item
        if name in NOT_MEMBERS:
            why = ("needs metrics at each step" if name == "ReduceLROnPlateau"
                   else "nesting composites is not supported by lr_curve")
            v.fail(scheduler, f"schedulers[{i}] is {name}, which cannot be a member ({why})")
        if name not in SCHEDULES or name not in _TORCH_NAMES:
            v.fail(scheduler, f"schedulers[{i}]: unknown scheduler {name!r}"
                              + v.suggest(str(name), _TORCH_NAMES))
        members.append((name, dict(kwargs)))
    return _share_one_cycle_anchors(members)


def _share_one_cycle_anchors(members):
    """OneCycleLR keeps its anchor rates in the optimizer's param group, not on itself, so when
    several are built on one optimizer they all read the anchors of the last one built."""
    anchors = ("max_lr", "div_factor", "final_div_factor")
    last = [kw for name, kw in members if name == "OneCycleLR"]
    if len(last) < 2:
        return members
    shared = {key: last[-1][key] for key in anchors if key in last[-1]}
    return [
        (name, {**{k: w for k, w in kw.items() if k not in anchors}, **shared})
        if name == "OneCycleLR" else (name, kw)
        for name, kw in members
    ]


_TORCH_NAMES = (*CHAINABLE_UPDATES, "CosineAnnealingLR", *ABSOLUTE)


def _closed_form(name: str, t: np.ndarray, base: float, kwargs: dict) -> np.ndarray:
    from . import SCHEDULES

    return SCHEDULES[name](t, base, **kwargs)


def _update(name: str, t: np.ndarray, base: float, kwargs: dict):
    """``(a_t, c_t)`` of the member's per-step map ``lr -> a_t * lr + c_t`` (``t >= 1``)."""
    if name in CHAINABLE_UPDATES:
        return CHAINABLE_UPDATES[name](t, **kwargs)
    if name == "CosineAnnealingLR":
        return cosine.cosine_annealing_update(t, base, **kwargs)
    values = _closed_form(name, t, base, kwargs)
    return np.zeros_like(values), values


def _construct(members, lr: float):
    """Build the members in order on one optimizer, as torch does.

    Returns the rate after construction, the optimizer's final ``initial_lr`` and each
    member's base rate.
    """
    rate, initial, bases = lr, None, []
    for name, kw in members:
        if name == "CyclicLR":
            rate = kw["base_lr"]  # CyclicLR writes base_lr into the optimizer first
        if name == "OneCycleLR":
            initial = kw["max_lr"] / kw.get("div_factor", 25.0)
        elif initial is None:
            initial = rate
        base = kw["base_lr"] if name == "CyclicLR" else initial
        bases.append(base)
        rate = _initial_step(name, base, kw, rate, initial)
    return rate, initial, bases


def _initial_step(name: str, base: float, kw: dict, rate: float, initial: float) -> float:
    """What building the scheduler does to the current rate (torch's initial step)."""
    if name == "CyclicLR":
        # torch sets CyclicLR's base_lrs only after its initial step, which therefore starts
        # the triangle from the optimizer's initial_lr: base_lr, unless an earlier member of
        # a chain already set initial_lr.
        return initial
    if name in ABSOLUTE:
        return float(_closed_form(name, np.zeros(1, np.int64), base, kw)[0])
    if name in ("ConstantLR", "LinearLR", "MultiStepLR"):
        a, c = _update(name, np.zeros(1, np.int64), base, kw)
        return float(a[0] * rate + c[0])
    return rate  # the other chainable schedulers leave the rate alone at construction


def affine_scan(x0: float, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    r"""Solve :math:`x_k = a_k x_{k-1} + c_k` for :math:`k = 1..n`; returns ``[x_0, ..., x_n]``.

    Runs without an additive term are a cumulative product (vectorized, multiplied in the
    same order as torch); a step with :math:`c_k \ne 0` restarts the product.  When nearly every
    step has an additive term (a cosine with ``eta_min > 0`` in a chain) a plain loop is faster.
    """
    n = len(a)
    out = np.empty(n + 1, np.float64)
    out[0] = x0
    hits = np.flatnonzero(c != 0.0)
    if len(hits) > max(8, n // 32):
        x = x0
        for k, (ak, ck) in enumerate(zip(a.tolist(), c.tolist()), start=1):
            x = ak * x + ck
            out[k] = x
        return out
    x, start = x0, 0
    for stop in [*hits.tolist(), n]:
        if stop > start:  # pure products for steps start+1 .. stop
            run = np.cumprod(np.concatenate(([x], a[start:stop])))
            out[start + 1 : stop + 1] = run[1:]
            x = run[-1]
        if stop < n:  # step stop+1 has an additive term
            x = a[stop] * x + c[stop]
            out[stop + 1] = x
            start = stop + 1
    return out


def _steps_needed(t) -> tuple[np.ndarray, int]:
    t = v.step_indices(t)
    if t.size and not np.all(t == np.floor(t)):
        raise ValueError("composite schedules are defined at whole steps only")
    return t.astype(np.int64), (int(t.max()) + 1 if t.size else 0)


def chained_scheduler(t, lr: float, schedulers: Sequence[tuple[str, dict[str, Any]]]) -> np.ndarray:
    r"""ChainedScheduler: every member steps at every step, in order.

    .. math:: \eta_t = A_t\,\eta_{t-1} + C_t, \qquad (A_t, C_t) = (a^{(m)}_t, c^{(m)}_t)
              \circ \dots \circ (a^{(1)}_t, c^{(1)}_t)

    For chainable members only this is :math:`\eta_0 \prod_i f_i(t)`, the product of their
    factors; e.g. ExponentialLR with MultiStepLR.  :math:`\eta_0` is the rate after every
    member was built.  An absolute member (LambdaLR, say) resets the rate at every step, so
    members before it have no lasting effect, exactly as in torch.
    """
    lr = v.lr("ChainedScheduler", lr)
    members = _members("ChainedScheduler", schedulers)
    t, n = _steps_needed(t)
    if n == 0:
        return np.empty(t.shape, np.float64)
    for name, kw in members:  # validate each member with its own formula's checks
        _closed_form(name, np.zeros(1, np.int64), 1.0, kw)
    rate, _, bases = _construct(members, lr)
    ks = np.arange(1, n, dtype=np.int64)
    A, C = np.ones(n - 1), np.zeros(n - 1)
    for (name, kw), base in zip(members, bases):
        a, c = _update(name, ks, base, kw)
        A, C = a * A, a * C + c
    return affine_scan(rate, A, C)[t]


def sequential_lr(
    t, lr: float, schedulers: Sequence[tuple[str, dict[str, Any]]], milestones: Sequence[int]
) -> np.ndarray:
    r"""SequentialLR: member ``i`` runs from ``milestones[i-1]`` to ``milestones[i]``.

    .. math:: \eta_t = f_i\big(t - m_{i-1}\big) \quad \text{for } m_{i-1} \le t < m_i

    where :math:`f_i` is member ``i``'s own schedule from its own base rate (the optimizer's
    ``initial_lr``), restarted at the milestone.  The classic use is a linear warm-up followed by
    a cosine decay.  MultiplicativeLR is the exception: it multiplies the rate it inherits.
    """
    name = "SequentialLR"
    lr = v.lr(name, lr)
    members = _members(name, schedulers)
    try:
        ms = [int(m) if v._is_int(m) else m for m in milestones]
    except TypeError:
        v.fail(name, f"milestones must be a list of integers, got {milestones!r}")
    if len(ms) != len(members) - 1:
        v.fail(name, f"needs one milestone fewer than schedulers: {len(members)} schedulers "
                     f"but {len(ms)} milestones")
    for m in ms:
        v.integer(name, "each milestone", m, minimum=1)
    if any(b <= a for a, b in zip(ms, ms[1:])):
        v.fail(name, f"milestones must be strictly increasing, got {list(milestones)}")
    t, n = _steps_needed(t)
    for mname, kw in members:
        _closed_form(mname, np.zeros(1, np.int64), 1.0, kw)
    _, initial, bases = _construct(members, lr)

    curve = np.empty(n, np.float64)
    edges = [0, *ms, max(n, ms[-1] if ms else 0)]
    for i, ((mname, kw), base) in enumerate(zip(members, bases)):
        lo, hi = edges[i], min(edges[i + 1], n)
        if lo >= hi:
            break
        local = np.arange(hi - lo, dtype=np.int64)
        if i == 0 and (mname == "MultiplicativeLR" or (mname not in ABSOLUTE and base != initial)):
            # The first member re-runs its initial step from the optimizer's initial_lr, then
            # recurses; only when that differs from its closed form is the recursion needed.
            a, c = _update(mname, local[1:], base, kw)
            seg = affine_scan(_initial_step(mname, base, kw, initial, initial), a, c)
        elif mname == "MultiplicativeLR":
            a, c = _update(mname, local, base, kw)  # lambda(0) applies at the milestone
            seg = affine_scan(curve[lo - 1], a, c)[1:]
        else:
            seg = _closed_form(mname, local, base, kw)
        curve[lo:hi] = seg
    return curve[t]
