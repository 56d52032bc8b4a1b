"""Exercise checks: a learner's scheduler code against the real torch scheduler.

Each ``check_*`` function takes the learner's function (or class), runs it on the public cases
(or, with ``hidden=True``, on randomized cases drawn from ``seed``, used when grading), compares
with :mod:`lrcourse.reference` within a tolerance, and either prints what passed or raises
:class:`CheckFailed` (an AssertionError) with the parameters, the first step that differs, the
largest difference and the last value (expected vs got), the mistake when the learner's curve is
one a known wrong implementation gives (:mod:`.diagnosis`), and, in a notebook, an overlay plot
of both curves.

Each check is also a :class:`~lrcourse.checks.spec.Check` in four parts (cases, expected,
probe, judge), so that ``lrcourse grade`` can run only the probe next to the learner's code
and keep expected values in the grader: see :mod:`lrcourse.checks.spec` and
:func:`get_check`.  Importing this package does not import torch: only computing expected
values does, and the probes of exercises 6 and 7, which drive torch optimizers.

===============================  ========  ==================================================
check                            exercise  the learner writes
===============================  ========  ==================================================
``check_step_lr``                1         ``step_lr(epoch, base_lr, step_size, gamma)``
``check_multistep_lr``           1         ``multistep_lr(epoch, base_lr, milestones, gamma)``
``check_exponential_lr``         2         ``exponential_lr(epoch, base_lr, gamma)``
``check_polynomial_lr``          2         ``polynomial_lr(epoch, base_lr, total_iters, power)``
``check_cosine_annealing_lr``    3         ``cosine_annealing_lr(epoch, base_lr, T_max, eta_min)``
``check_warm_restarts_lr``       3         ``warm_restarts_lr(epoch, base_lr, T_0, T_mult, ...)``
``check_cyclic_triangular2_lr``  4         ``cyclic_triangular2_lr(step, base_lr, max_lr, ...)``
``check_one_cycle_lr``           4         ``one_cycle_lr(step, max_lr, total_steps, ...)``
``check_plateau_lrs``            5         ``plateau_lrs(val_losses, lr, factor, patience, ...)``
``check_warmup_cosine``          6         ``class WarmupCosine(LRScheduler)`` (``get_lr``)
``check_train``                  7         ``train(model, optimizer, batches, epochs, max_lr)``
===============================  ========  ==================================================
"""

from ._core import CheckFailed
from .functions import (
    check_cosine_annealing_lr,
    check_cyclic_triangular2_lr,
    check_exponential_lr,
    check_multistep_lr,
    check_one_cycle_lr,
    check_polynomial_lr,
    check_step_lr,
    check_warm_restarts_lr,
)
from .plateau import check_plateau_lrs
from .scheduler_class import check_warmup_cosine
from .spec import Check
from .training_check import check_train
from . import display  # noqa: E402,F401 - in a kernel, a CheckFailed shows as its message

#: The module defining each check (``module.CHECKS[name]`` is its :class:`Check`).
CHECK_MODULES = {
    "check_step_lr": "functions",
    "check_multistep_lr": "functions",
    "check_exponential_lr": "functions",
    "check_polynomial_lr": "functions",
    "check_cosine_annealing_lr": "functions",
    "check_warm_restarts_lr": "functions",
    "check_cyclic_triangular2_lr": "functions",
    "check_one_cycle_lr": "functions",
    "check_plateau_lrs": "plateau",
    "check_warmup_cosine": "scheduler_class",
    "check_train": "training_check",
}


def get_check(name: str) -> Check:
    """The :class:`Check` behind ``check_<name>`` (KeyError for an unknown name)."""
    import importlib

    module = importlib.import_module(f"{__name__}.{CHECK_MODULES[name]}")
    return module.CHECKS[name]


__all__ = [
    "CheckFailed",
    "check_step_lr",
    "check_multistep_lr",
    "check_exponential_lr",
    "check_polynomial_lr",
    "check_cosine_annealing_lr",
    "check_warm_restarts_lr",
    "check_cyclic_triangular2_lr",
    "check_one_cycle_lr",
    "check_plateau_lrs",
    "check_warmup_cosine",
    "check_train",
    "CHECK_MODULES",
    "get_check",
]
