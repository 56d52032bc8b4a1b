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
values does, and the probes of exercises 6, 7, 8, 9 and 12, which drive torch optimizers.

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

Exercises 8 to 12 share one kind of check, :mod:`lrcourse.checks.curve_check`, whose mistakes
are wrong versions of the learner's function (:func:`.diagnosis.written`), run by the check's
own probe:

====================================  ==  ===================================================
check                                 ex  the learner writes
====================================  ==  ===================================================
``check_step_decay``                  8   ``step_decay(epoch, step_size, gamma)``, a factor
``check_linear_warmup``               8   ``linear_warmup(epoch, warmup_epochs)``, a factor
``check_constant_lr``                 9   ``constant_lr(epoch, base_lr, factor, total_iters)``
``check_linear_lr``                   9   ``linear_lr(epoch, base_lr, start_factor, ...)``
``check_make_warmup``                 9   ``make_warmup(optimizer, warmup_lr, warmup_epochs)``
``check_chained_lr``                  10  ``chained_lr(epoch, base_lr, factor, ...)``
``check_sequential_lr``               10  ``sequential_lr(epoch, base_lr, start_factor, ...)``
``check_chained_cosine_curve``        10  ``chained_cosine_curve(steps, base_lr, gamma, ...)``
``check_swalr_lr``                    11  ``swalr_lr(step, lr, swa_lr, anneal_epochs, ...)``
``check_swa_recipe_lr``               11  ``swa_recipe_lr(epoch, lr, T_max, swa_start, ...)``
``check_cosine_with_warmup_lambda``   12  ``cosine_with_warmup_lambda(current_step, ...)``
====================================  ==  ===================================================
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
from .composites import check_chained_cosine_curve, check_chained_lr, check_sequential_lr
from .huggingface import check_cosine_with_warmup_lambda
from .lambda_factors import check_linear_warmup, check_step_decay
from .swa import check_swa_recipe_lr, check_swalr_lr
from .warmups import check_constant_lr, check_linear_lr, check_make_warmup
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
    "check_step_decay": "lambda_factors",
    "check_linear_warmup": "lambda_factors",
    "check_constant_lr": "warmups",
    "check_linear_lr": "warmups",
    "check_make_warmup": "warmups",
    "check_chained_lr": "composites",
    "check_sequential_lr": "composites",
    "check_chained_cosine_curve": "composites",
    "check_swalr_lr": "swa",
    "check_swa_recipe_lr": "swa",
    "check_cosine_with_warmup_lambda": "huggingface",
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
    "check_step_decay",
    "check_linear_warmup",
    "check_constant_lr",
    "check_linear_lr",
    "check_make_warmup",
    "check_chained_lr",
    "check_sequential_lr",
    "check_chained_cosine_curve",
    "check_swalr_lr",
    "check_swa_recipe_lr",
    "check_cosine_with_warmup_lambda",
    "CHECK_MODULES",
    "get_check",
]
