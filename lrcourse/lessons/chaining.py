"""Ready-made composite schedules for the chaining lesson and its explorers.

The composites themselves are :func:`lrcourse.schedules.lr_curve` with ``"SequentialLR"`` or
``"ChainedScheduler"``; this module only builds their ``schedulers=[(name, kwargs), ...]``
arguments from a few numbers, and puts the two ways of combining the *same* members side by
side:

* SequentialLR hands over: member ``i`` runs alone between milestones, restarted on its own
  clock (except MultiplicativeLR, which carries on from the rate it inherits);
* ChainedScheduler composes: every member updates the current rate at every step, so the
  multiplicative members' factors multiply, while absolute members (and a cosine with
  ``eta_min > 0``) do not.

:func:`member_behaviour` checks, with real torch composites, which kinds of member each
statement holds for (:data:`MEMBER_EXAMPLES` holds one member of every kind).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrcourse import reference
from lrcourse.schedules import lr_curve

__all__ = ["warmup_cosine", "sequential_curves", "chained_curves", "MEMBER_EXAMPLES",
           "product_of_own_curves", "first_difference", "MemberBehaviour", "member_behaviour",
           "print_member_behaviour"]


def warmup_cosine(warmup: int, total: int, *, start_factor: float = 0.1,
                  eta_min: float = 0.0, total_iters: int | None = None,
                  T_max: int | None = None) -> dict:
    """SequentialLR keyword arguments for a linear warm-up over ``warmup`` steps, then a cosine
    decay to ``eta_min`` at step ``total``.

    The matching settings are the defaults: the warm-up's ``total_iters`` equals the milestone
    (``warmup``) and the cosine's ``T_max`` is the rest of the run (``total - warmup``).  Pass
    ``total_iters`` or ``T_max`` to see what a mismatch does.

        >>> warmup_cosine(5, 20)["milestones"]
        [5]
    """
    if not 1 <= warmup < total:
        raise ValueError(f"need 1 <= warmup < total, got warmup={warmup}, total={total}")
    return dict(
        schedulers=[("LinearLR", dict(start_factor=start_factor, end_factor=1.0,
                                      total_iters=warmup if total_iters is None else total_iters)),
                    ("CosineAnnealingLR", dict(T_max=total - warmup if T_max is None else T_max,
                                               eta_min=eta_min))],
        milestones=[warmup],
    )


def sequential_curves(steps: int = 100, lr: float = 0.1, *, milestone: int = 10,
                      total_iters: int = 10, T_max: int = 90, start_factor: float = 0.1,
                      eta_min: float = 0.0) -> dict[str, np.ndarray]:
    """LinearLR then CosineAnnealingLR handed over at ``milestone`` (SequentialLR), beside the
    same two members both stepped at every step (ChainedScheduler: a product of their factors
    only while ``eta_min = 0`` and ``t <= T_max``, see :func:`member_behaviour`)."""
    kwargs = warmup_cosine(milestone, milestone + T_max, start_factor=start_factor,
                           eta_min=eta_min, total_iters=total_iters, T_max=T_max)
    return {
        "SequentialLR (hand over)": lr_curve("SequentialLR", steps, lr, **kwargs),
        "ChainedScheduler (stepped together)": lr_curve("ChainedScheduler", steps, lr,
                                                        schedulers=kwargs["schedulers"]),
    }


def chained_curves(steps: int = 100, lr: float = 0.1, *, gamma: float = 0.98,
                   milestones: tuple[int, ...] = (30, 70), step_gamma: float = 0.1
                   ) -> dict[str, np.ndarray]:
    """ExponentialLR(``gamma``) chained with MultiStepLR(``milestones``, ``step_gamma``), and each
    member alone: the chain is their product divided by ``lr``."""
    exp = ("ExponentialLR", dict(gamma=gamma))
    multi = ("MultiStepLR", dict(milestones=list(milestones), gamma=step_gamma))
    return {
        "ChainedScheduler": lr_curve("ChainedScheduler", steps, lr, schedulers=[exp, multi]),
        "ExponentialLR alone": lr_curve(exp[0], steps, lr, **exp[1]),
        "MultiStepLR alone": lr_curve(multi[0], steps, lr, **multi[1]),
    }


def _inverse_time(t):
    """LambdaLR's factor in :data:`MEMBER_EXAMPLES`: 1 / (1 + 0.1 t)."""
    return 1.0 / (1.0 + 0.1 * t)


def _times_095(t):
    """MultiplicativeLR's factor in :data:`MEMBER_EXAMPLES`: x0.95 per step."""
    return 0.95


#: One member of every kind a composite can hold, with settings that show their behaviour
#: within 30 steps.  The cosine appears twice: ``eta_min = 0`` and ``eta_min > 0`` differ.
MEMBER_EXAMPLES: dict[str, tuple[str, dict]] = {
    "LambdaLR": ("LambdaLR", dict(lr_lambda=_inverse_time)),
    "MultiplicativeLR": ("MultiplicativeLR", dict(lr_lambda=_times_095)),
    "StepLR": ("StepLR", dict(step_size=4, gamma=0.5)),
    "MultiStepLR": ("MultiStepLR", dict(milestones=[2, 6], gamma=0.5)),
    "ConstantLR": ("ConstantLR", dict(factor=0.5, total_iters=4)),
    "LinearLR": ("LinearLR", dict(start_factor=0.2, total_iters=5)),
    "ExponentialLR": ("ExponentialLR", dict(gamma=0.8)),
    "PolynomialLR": ("PolynomialLR", dict(total_iters=8, power=2.0)),
    "CosineAnnealingLR, eta_min=0": ("CosineAnnealingLR", dict(T_max=10)),
    "CosineAnnealingLR, eta_min>0": ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    "CosineAnnealingWarmRestarts": ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    "CyclicLR": ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3)),
    "OneCycleLR": ("OneCycleLR", dict(max_lr=0.1, total_steps=40)),
}


def product_of_own_curves(members, steps: int, lr: float) -> np.ndarray:
    r"""The "product formula" :math:`\eta_0 \prod_i f_i(t)`, where :math:`\eta_0 f_i(t)` is the
    curve member ``i`` gives when it runs alone (measured with torch)."""
    product = np.full(steps, float(lr))
    for name, kwargs in members:
        product *= reference.lr_curve(name, steps, lr, **kwargs) / lr
    return product


def first_difference(a, b, rtol: float = 1e-9) -> int | None:
    """The first index where ``a`` and ``b`` differ (beyond ``rtol``), or None if they agree."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    differ = ~np.isclose(a, b, rtol=rtol, atol=1e-15)
    return int(np.argmax(differ)) if differ.any() else None


@dataclass(frozen=True)
class MemberBehaviour:
    """How one kind of member behaves inside torch's two composites.

    ``product_breaks_at``: first step where ChainedScheduler (the member with an
    ExponentialLR, in either order) differs from the product of their own curves, or None.
    ``restart_breaks_at``: first step, counted from the milestone, where SequentialLR's rate
    differs from the member's own curve restarted at the milestone, or None.
    ``lrcourse_agrees``: lrcourse's ``chained_scheduler`` and ``sequential_lr`` give torch's
    rates for both composites, with the member in either position.
    """

    label: str
    product_breaks_at: int | None
    restart_breaks_at: int | None
    lrcourse_agrees: bool


def member_behaviour(steps: int = 30, lr: float = 0.1, milestone: int = 3,
                     other=("ExponentialLR", {"gamma": 0.9})) -> list[MemberBehaviour]:
    """Every member of :data:`MEMBER_EXAMPLES` in torch's ChainedScheduler and SequentialLR
    (paired with ``other``), against the product formula and the restart formula."""
    rows = []
    for label, member in MEMBER_EXAMPLES.items():
        breaks, agrees = [], True
        for members in ([other, member], [member, other]):
            chain = reference.lr_curve("ChainedScheduler", steps, lr, schedulers=members)
            breaks.append(first_difference(chain, product_of_own_curves(members, steps, lr)))
            seq_kw = dict(schedulers=members, milestones=[milestone])
            seq = reference.lr_curve("SequentialLR", steps, lr, **seq_kw)
            agrees &= first_difference(lr_curve("ChainedScheduler", steps, lr,
                                                schedulers=members), chain) is None
            agrees &= first_difference(lr_curve("SequentialLR", steps, lr, **seq_kw), seq) is None
            if members[1] is member:  # the member takes over at the milestone
                own = reference.lr_curve(member[0], steps - milestone, lr, **member[1])
                restart = first_difference(seq[milestone:], own)
        found = [b for b in breaks if b is not None]
        rows.append(MemberBehaviour(label, min(found) if found else None, restart, agrees))
    return rows


def print_member_behaviour(rows: list[MemberBehaviour]) -> None:
    """The rows of :func:`member_behaviour` as a fixed-width table."""
    def verdict(step, when):
        return "yes" if step is None else f"no ({when} {step})"

    print(f"{'member':30s}{'Chained = product':>22s}{'Sequential restarts':>22s}"
          f"{'lrcourse = torch':>18s}")
    for r in rows:
        print(f"{r.label:30s}{verdict(r.product_breaks_at, 'from step'):>22s}"
              f"{verdict(r.restart_breaks_at, 'milestone +'):>22s}"
              f"{'yes' if r.lrcourse_agrees else 'NO':>18s}")
