r"""Cyclical schedules, stepped per batch: CyclicLR and OneCycleLR, with their momentum curves.

Both schedulers *overwrite* the optimizer's learning rate: CyclicLR starts at ``base_lr`` and
OneCycleLR at ``max_lr / div_factor``, whatever lr the optimizer was built with.  With
``cycle_momentum=True`` (the default) they also move momentum (or Adam's beta1) in the
opposite direction to the learning rate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _validate as v

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def _cyclic_shape(t, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode):
    """Validate CyclicLR's shape parameters; return the triangle height and its scale."""
    name = "CyclicLR"
    up = v.real(name, "step_size_up", step_size_up, low=0.0, low_open=True)
    down = up if step_size_down is None else v.real(
        name, "step_size_down", step_size_down, low=0.0, low_open=True
    )
    if scale_fn is None:
        v.choice(name, "mode", mode, CYCLIC_MODES)
    else:
        v.callable_(name, "scale_fn", scale_fn)
        v.choice(name, "scale_mode", scale_mode, ("cycle", "iterations"))
    gamma = v.real(name, "gamma", gamma, low=0.0, low_open=True)
    t = v.step_indices(t)

    total = up + down
    ratio = up / total
    cycle = np.floor(1 + t / total)
    x = 1.0 + t / total - cycle
    height = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))

    if scale_fn is None:
        if mode == "triangular":
            scale = np.ones_like(height)
        elif mode == "triangular2":  # 1 / 2**(cycle-1), exactly, without overflow
            scale = np.ldexp(1.0, -(cycle - 1).astype(np.int64))
        else:  # exp_range scales by the total iteration count, not the cycle
            scale = gamma**t
    else:
        arg = cycle if scale_mode == "cycle" else t
        keys, inverse = np.unique(arg, return_inverse=True)
        values = [_call_scale_fn(scale_fn, int(k)) for k in keys]
        scale = np.asarray(values, np.float64)[inverse].reshape(arg.shape)
    return height, scale


def _call_scale_fn(fn: Callable, x: int) -> float:
    try:
        return float(fn(x))
    except Exception as exc:
        raise ValueError(f"CyclicLR: scale_fn({x}) raised {type(exc).__name__}: {exc}") from exc


def cyclic_lr(
    t,
    lr: float,
    base_lr: float,
    max_lr: float,
    step_size_up: float = 2000,
    step_size_down: float | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> np.ndarray:
    r"""CyclicLR: a triangle wave between ``base_lr`` and ``max_lr``.

    With :math:`L = \text{up} + \text{down}` and :math:`\rho = \text{up}/L`:

    .. math::
        c = \left\lfloor 1 + t/L \right\rfloor, \qquad x = 1 + t/L - c, \qquad
        h = \begin{cases} x/\rho & x \le \rho \\ (x-1)/(\rho-1) & x > \rho \end{cases}

        \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, h \, s

    where the scale :math:`s` is 1 (``triangular``), :math:`2^{-(c-1)}` (``triangular2``),
    :math:`\gamma^t` (``exp_range``: ``t`` is the total step count, not the position in the
    cycle), or ``scale_fn(c)`` / ``scale_fn(t)`` for a custom ``scale_fn`` with
    ``scale_mode`` ``"cycle"`` / ``"iterations"``.  The optimizer's ``lr`` is ignored.

    torch computes triangular2's scale as ``1 / 2.0 ** (cycle - 1)`` in Python floats, which
    raises OverflowError from cycle 1026 on; here the amplitude simply keeps halving to 0.
    """
    v.lr("CyclicLR", lr)
    base = v.lr("CyclicLR", base_lr, "base_lr")
    top = v.lr("CyclicLR", max_lr, "max_lr")
    if top < base:
        v.fail("CyclicLR", f"max_lr ({top:g}) must be >= base_lr ({base:g})")
    height, scale = _cyclic_shape(t, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    return base + (top - base) * height * scale


def cyclic_momentum(
    t,
    lr: float,
    base_lr: float,
    max_lr: float,
    step_size_up: float = 2000,
    step_size_down: float | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> np.ndarray:
    r"""The momentum CyclicLR sets: the mirror image of the learning rate.

    .. math:: m_t = m_{max} - (m_{max} - m_{base})\, h \, s
    """
    if not cycle_momentum:
        v.fail("CyclicLR", "cycle_momentum=False: the scheduler leaves momentum alone")
    v.lr("CyclicLR", lr)
    bm = v.real("CyclicLR", "base_momentum", base_momentum)
    mm = v.real("CyclicLR", "max_momentum", max_momentum)
    height, scale = _cyclic_shape(t, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    return mm - (mm - bm) * height * scale


# ---------------------------------------------------------------------------------- OneCycleLR


def _one_cycle_total(total_steps, epochs, steps_per_epoch) -> int:
    name = "OneCycleLR"
    if total_steps is not None:
        return v.integer(name, "total_steps", total_steps, minimum=1)
    if epochs is not None and steps_per_epoch is not None:
        epochs = v.integer(name, "epochs", epochs, minimum=1)
        return epochs * v.integer(name, "steps_per_epoch", steps_per_epoch, minimum=1)
    v.fail(name, "give either total_steps, or both epochs and steps_per_epoch")


def one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool):
    """The phase boundaries torch uses: a list of ``(end_step, start_key, end_key)`` where the
    keys name the anchor values ``initial``, ``max`` and ``min`` (momentum: ``max_m``/``base_m``).
    """
    up_end = float(pct_start * total_steps) - 1
    if three_phase:
        return [
            (up_end, ("initial", "max"), ("max_m", "base_m")),
            (float(2 * pct_start * total_steps) - 2, ("max", "initial"), ("base_m", "max_m")),
            (total_steps - 1, ("initial", "min"), ("max_m", "max_m")),
        ]
    return [
        (up_end, ("initial", "max"), ("max_m", "base_m")),
        (total_steps - 1, ("max", "min"), ("base_m", "max_m")),
    ]


def _one_cycle(t, anchors, which, total_steps, epochs, steps_per_epoch, pct_start,
               anneal_strategy, three_phase):
    name = "OneCycleLR"
    total = _one_cycle_total(total_steps, epochs, steps_per_epoch)
    pct_start = v.real(name, "pct_start", pct_start, low=0.0, high=1.0)
    v.choice(name, "anneal_strategy", anneal_strategy, ("cos", "linear"))
    if three_phase and pct_start > 0.5:
        v.fail(name, f"with three_phase=True, pct_start must be <= 0.5 (the two warm phases "
                     f"take 2*pct_start of the run), got {pct_start:g}")
    phases = one_cycle_phases(total, pct_start, three_phase)
    starts = [0.0] + [end for end, _, _ in phases[:-1]]
    for (end, _, _), start in zip(phases, starts):
        if end == start:
            v.fail(name, f"total_steps={total} is too small for pct_start={pct_start:g}: a phase "
                         "of the cycle would last 0 steps (torch divides by zero here)")
    t = v.step_indices(t)
    if t.size and t.max() > total:
        v.fail(name, f"the schedule has total_steps={total}; torch raises 'Tried to step "
                     f"{int(t.max())} times' past step {total}. Ask for at most {total + 1} steps "
                     "or raise total_steps")

    # Which phase each step is in: the first whose end it does not pass (the last takes the rest).
    ends = np.array([end for end, _, _ in phases[:-1]])
    phase = np.searchsorted(ends, t, side="left")  # t <= end  <=>  index of first end >= t
    out = np.empty(t.shape, np.float64)
    for i, (end, lr_keys, m_keys) in enumerate(phases):
        mask = phase == i
        if not mask.any():
            continue
        keys = lr_keys if which == "lr" else m_keys
        start_v, end_v = anchors[keys[0]], anchors[keys[1]]
        pct = (t[mask] - starts[i]) / (end - starts[i])
        if anneal_strategy == "cos":
            out[mask] = end_v + (start_v - end_v) / 2.0 * (np.cos(np.pi * pct) + 1)
        else:
            out[mask] = (end_v - start_v) * pct + start_v
    return out


def one_cycle_lr(
    t,
    lr: float,
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> np.ndarray:
    r"""OneCycleLR: warm up from ``max_lr/div_factor`` to ``max_lr``, then anneal far below.

    Anchors: :math:`\eta_{init} = \eta_{max}/\text{div\_factor}`,
    :math:`\eta_{min} = \eta_{init}/\text{final\_div\_factor}`.  Two phases (default):
    :math:`\eta_{init} \to \eta_{max}` until step :math:`pT-1`, then
    :math:`\eta_{max} \to \eta_{min}` until step :math:`T-1`.  With ``three_phase``:
    :math:`\eta_{init} \to \eta_{max} \to \eta_{init}` (ending at :math:`2pT-2`), then
    :math:`\eta_{init} \to \eta_{min}`.  Within a phase from :math:`a` to :math:`b`, with
    :math:`\pi_t` the fraction of the phase done:

    .. math:: \text{cos: } b + \tfrac{a-b}{2}\,(1 + \cos \pi\pi_t) \qquad
              \text{linear: } a + (b-a)\,\pi_t

    The optimizer's ``lr`` is ignored.  Step ``T`` (= total_steps) itself is allowed and
    *extrapolates* the last phase (:math:`\pi_t > 1`): with linear annealing that value can be
    negative.  torch holds that value after the last batch; this function reproduces it, and
    refuses steps beyond ``T``, where torch raises.
    """
    v.lr("OneCycleLR", lr)
    top = v.real("OneCycleLR", "max_lr", max_lr, low=0.0)
    div = v.real("OneCycleLR", "div_factor", div_factor, low=0.0, low_open=True)
    final_div = v.real("OneCycleLR", "final_div_factor", final_div_factor, low=0.0, low_open=True)
    initial = top / div
    anchors = {"initial": initial, "max": top, "min": initial / final_div}
    return _one_cycle(t, anchors, "lr", total_steps, epochs, steps_per_epoch, pct_start,
                      anneal_strategy, three_phase)


def one_cycle_momentum(
    t,
    lr: float,
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> np.ndarray:
    r"""The momentum OneCycleLR sets: ``max_momentum`` down to ``base_momentum`` while the rate
    warms up, and back up while it anneals (three-phase: it stays at ``max_momentum`` in the
    last phase).  Same phases and annealing function as :func:`one_cycle_lr`.
    """
    if not cycle_momentum:
        v.fail("OneCycleLR", "cycle_momentum=False: the scheduler leaves momentum alone")
    v.lr("OneCycleLR", lr)
    anchors = {
        "base_m": v.real("OneCycleLR", "base_momentum", base_momentum),
        "max_m": v.real("OneCycleLR", "max_momentum", max_momentum),
    }
    return _one_cycle(t, anchors, "momentum", total_steps, epochs, steps_per_epoch, pct_start,
                      anneal_strategy, three_phase)
