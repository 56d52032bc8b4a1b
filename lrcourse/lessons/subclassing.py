"""How torch's own schedulers compute a rate, measured (lesson 15: writing your own scheduler).

For each scheduler class of ``torch.optim.lr_scheduler`` that has a ``get_lr`` (all but the two
composites and ReduceLROnPlateau), :func:`builtin_forms` runs a real instance, built with the
cheat sheet's settings (:mod:`lrcourse.lessons.cheatsheet`), through three experiments:

* **chainable**: after a few steps the optimizer's rate is halved by hand, and the scheduler is
  stepped once more.  A ``get_lr`` that starts from the current rate ``group["lr"]`` (the
  *chainable* form) keeps the halving; one that computes the rate from ``base_lrs`` (or its own
  state) overwrites it.
* **closed form**: whether the class defines ``_get_closed_form_lr``, the from-scratch formula
  torch uses for ``step(epoch)`` and at a ``SequentialLR`` milestone.
* **warns**: whether calling ``get_lr()`` outside ``step()`` warns "To get the last learning
  rate computed by the scheduler, please use `get_last_lr()`."

Nothing here computes a schedule: every answer comes from running torch.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from lrcourse import reference
from lrcourse.schedules import TORCH_SCHEDULERS

from .cheatsheet import kwargs_for

__all__ = ["Form", "WITHOUT_GET_LR", "GET_LR_WARNING", "keeps_outside_change", "closed_form",
           "warns_outside_step", "builtin_forms", "print_forms"]

#: The torch schedulers that have no ``get_lr`` of their own.
WITHOUT_GET_LR = ("ReduceLROnPlateau", "SequentialLR", "ChainedScheduler")

#: What a built-in's ``get_lr()`` warns when it is called outside ``step()``.
GET_LR_WARNING = ("To get the last learning rate computed by the scheduler, please use "
                  "`get_last_lr()`.")


@dataclass(frozen=True)
class Form:
    """How one built-in scheduler computes its rate."""

    name: str
    chainable: bool      # get_lr starts from the current rate: a change made by hand persists
    closed_form: bool    # the class defines _get_closed_form_lr
    warns: bool          # get_lr() called outside step() warns


def _built(name: str, lr: float = 0.1):
    optimizer = reference.make_optimizer(lr)
    return optimizer, reference.make_scheduler(name, optimizer, **kwargs_for(name))


def keeps_outside_change(name: str, at: int = 3) -> bool:
    """Whether torch scheduler ``name`` keeps a change made to the optimizer's rate by hand.

    Two runs of ``at + 1`` steps; in one, the rate is halved by hand after ``at`` steps.  The
    scheduler is chainable if the rate after the last step still differs from the other run's
    (a multiplicative scheduler keeps it exactly half; CosineAnnealingLR, an affine map towards
    ``eta_min``, keeps part of the change).
    """
    rates = []
    for halve in (False, True):
        optimizer, scheduler = _built(name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for k in range(at + 1):
                if halve and k == at:
                    optimizer.param_groups[0]["lr"] *= 0.5
                optimizer.step()
                scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    untouched, changed = rates
    if untouched == 0:
        raise ValueError(f"{name}: the rate is 0 after {at + 1} steps; choose another step")
    return not np.isclose(changed, untouched, rtol=1e-9, atol=0.0)


def closed_form(name: str) -> bool:
    """Whether torch scheduler ``name`` defines ``_get_closed_form_lr``."""
    return hasattr(getattr(reference.lr_scheduler, name), "_get_closed_form_lr")


def warns_outside_step(name: str) -> bool:
    """Whether calling ``get_lr()`` of torch scheduler ``name`` outside ``step()`` warns
    :data:`GET_LR_WARNING`."""
    optimizer, scheduler = _built(name)
    optimizer.step()
    scheduler.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.get_lr()
    return any(str(w.message) == GET_LR_WARNING for w in caught)


def builtin_forms() -> list[Form]:
    """:class:`Form` of every torch scheduler with a ``get_lr``, in the course's order."""
    return [Form(name, keeps_outside_change(name), closed_form(name), warns_outside_step(name))
            for name in TORCH_SCHEDULERS if name not in WITHOUT_GET_LR]


def print_forms(forms: list[Form]) -> None:
    """A table of :func:`builtin_forms` (deterministic text for nbval)."""
    print(f"{'scheduler':30s}{'keeps a change by hand':>24s}{'_get_closed_form_lr':>22s}"
          f"{'get_lr() warns':>16s}")
    for f in forms:
        yes = {True: "yes", False: "no"}
        print(f"{f.name:30s}{yes[f.chainable]:>24s}{yes[f.closed_form]:>22s}{yes[f.warns]:>16s}")
