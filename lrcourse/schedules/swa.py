r"""SWALR, the schedule of Stochastic Weight Averaging (``torch.optim.swa_utils.SWALR``).

SWALR does not decay from a base rate: it *anneals* whatever rate the optimizer has when it
takes over towards a fixed ``swa_lr``, over ``anneal_epochs`` calls of ``step()``, then holds
``swa_lr`` for good.  With :math:`\eta_h` the group's rate at the hand-over, :math:`k` the number
of ``SWALR.step()`` calls since then and :math:`A` = ``anneal_epochs``:

.. math::

    \eta = \eta_{swa}\,\alpha + \eta_h\,(1 - \alpha), \qquad
    \alpha = a\!\left(\min\!\left(1, \frac{k}{A}\right)\right), \qquad
    a_{cos}(x) = \frac{1 - \cos \pi x}{2}, \quad a_{linear}(x) = x

so the rate reaches ``swa_lr`` after exactly ``A`` steps and stays there.

**How torch computes it.**  ``SWALR.get_lr`` is recursive: it reads the group's *current* rate,
recovers :math:`\eta_h` from it by inverting the previous step's interpolation, and interpolates
again.  The closed form above is what that recursion computes, to rounding; the tests step the
real SWALR (:func:`lrcourse.reference.swalr_curve`) to check it.  Three quirks follow from the
source (``torch/optim/swa_utils.py``):

* SWALR counts its own ``step()`` calls (``_step_count``), not ``last_epoch`` and not the
  epoch a loop passes: building it at the start of training and stepping it only from
  ``swa_start`` on is the intended use, and its annealing starts from the rate it finds then.
* Building it runs one step that leaves the rate unchanged, *except* with ``anneal_epochs=0``,
  where the rate becomes ``swa_lr`` the moment SWALR is built.  In the usual recipe (SWALR built
  before training starts) that overrides the first schedule from step 0, so :func:`swalr`
  refuses ``anneal_epochs=0`` together with ``swa_start > 0``.
* Each parameter group anneals from its own rate to its own ``swa_lr`` (``swa_lr`` may be a
  list, one per group).  :func:`swalr` draws one group: call it once per group.

**The usual recipe** runs a normal schedule first and hands over to SWALR at step
``swa_start`` (torch's documentation and tutorial build both schedulers before the loop)::

    scheduler = CosineAnnealingLR(optimizer, T_max=100)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5)
    for t in range(steps):
        train_one_epoch(...)                 # uses optimizer.param_groups[0]["lr"]
        if t < swa_start:
            scheduler.step()
        else:
            swa_model.update_parameters(model)
            swa_scheduler.step()

which :func:`swalr` draws with ``swa_start=...`` and ``scheduler=("CosineAnnealingLR",
{"T_max": 100})``: steps ``0 .. swa_start`` use the first schedule and SWALR anneals from its
rate at step ``swa_start``.  (torch's docstring example writes ``if i > swa_start``, which hands
over one step later: that is ``swa_start + 1`` here.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as v

__all__ = ["swalr", "ANNEAL_STRATEGIES"]

#: SWALR's annealing strategies, as torch names them.
ANNEAL_STRATEGIES = ("cos", "linear")

NAME = "SWALR"


def _first_schedule(scheduler) -> tuple[str, dict[str, Any]]:
    from . import SCHEDULES, TORCH_SCHEDULERS

    allowed = [n for n in TORCH_SCHEDULERS if n != "ReduceLROnPlateau"]
    if not (isinstance(scheduler, (tuple, list)) and len(scheduler) == 2
            and isinstance(scheduler[1], dict)):
        v.fail(NAME, "scheduler must be a (name, kwargs) pair such as "
                     f"('CosineAnnealingLR', {{'T_max': 100}}), got {scheduler!r}")
    name, kwargs = scheduler
    if name == "ReduceLROnPlateau":
        v.fail(NAME, "scheduler cannot be ReduceLROnPlateau (it needs metrics at each step)")
    if name not in allowed or name not in SCHEDULES:
        v.fail(NAME, f"scheduler: unknown torch scheduler {name!r}" + v.suggest(str(name), allowed))
    return name, dict(kwargs)


def swalr(t, lr: float, swa_lr: float, anneal_epochs: int = 10, anneal_strategy: str = "cos",
          swa_start: int = 0, scheduler=None) -> np.ndarray:
    r"""SWALR: anneal from the rate at hand-over to ``swa_lr`` over ``anneal_epochs`` steps.

    With :math:`s` = ``swa_start``, :math:`A` = ``anneal_epochs`` and :math:`f` the first
    schedule (``scheduler``, a ``(name, kwargs)`` pair of a torch scheduler; the constant ``lr``
    when it is None):

    .. math::

        \eta_t = \begin{cases}
          f(t) & t \le s \\[4pt]
          \eta_{swa}\,\alpha_t + f(s)\,(1 - \alpha_t),
            \quad \alpha_t = a\!\left(\min\!\left(1, \dfrac{t - s}{A}\right)\right) & t \ge s
        \end{cases}

    with :math:`a(x) = (1 - \cos \pi x)/2` for ``anneal_strategy="cos"`` and :math:`a(x) = x`
    for ``"linear"``.  With the defaults (``swa_start=0``, no ``scheduler``) this is SWALR on
    its own, annealing from ``lr``: element ``k`` is the rate after ``k`` calls of
    ``SWALR.step()``.  ``anneal_epochs=0`` means ``swa_lr`` at once (from step 0, since
    building SWALR already sets it), so it is refused with ``swa_start > 0``.

    Both phases count the same loop steps (epochs in the SWA paper): ``t - s`` is the number of
    ``SWALR.step()`` calls made so far.
    """
    lr = v.lr(NAME, lr)
    swa_lr = v.real(NAME, "swa_lr", swa_lr, low=0.0)
    anneal_epochs = v.integer(NAME, "anneal_epochs", anneal_epochs, minimum=0)
    anneal_strategy = v.choice(NAME, "anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    swa_start = v.integer(NAME, "swa_start", swa_start, minimum=0)
    if anneal_epochs == 0 and swa_start > 0:
        v.fail(NAME, "anneal_epochs=0 makes SWALR set swa_lr as soon as it is built, so with "
                     f"swa_start={swa_start} (SWALR built before training, as in torch's recipe) "
                     "it would override the first schedule from step 0; use anneal_epochs >= 1, "
                     "or build SWALR only at the hand-over")
    first = None if scheduler is None else _first_schedule(scheduler)
    t = v.step_indices(t)

    if first is None:
        before = np.full(t.shape, lr)
        handover = lr
    else:
        from . import SCHEDULES

        name, kwargs = first
        fn = SCHEDULES[name]
        handover = float(np.asarray(fn(np.array([swa_start]), lr, **kwargs)).reshape(-1)[0])
        before = np.asarray(fn(np.minimum(t, swa_start), lr, **kwargs), np.float64)

    if anneal_epochs == 0:
        x = np.ones(t.shape)
    else:
        x = np.clip((t - swa_start) / anneal_epochs, 0.0, 1.0)
    alpha = (1.0 - np.cos(np.pi * x)) / 2.0 if anneal_strategy == "cos" else x
    annealed = swa_lr * alpha + handover * (1.0 - alpha)
    return np.where(t <= swa_start, before, annealed) if swa_start > 0 else annealed
