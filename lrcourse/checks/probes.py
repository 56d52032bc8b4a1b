"""What the checks' probes share: calling the learner's code and reading back its rates.

A probe runs next to the learner's code (in the grading sandbox, or in the learner's kernel)
and returns a plain-data record (see :mod:`lrcourse.checks.spec`); nothing here decides
anything.  The same functions also run the wrong versions of the learner's code that a check's
table of mistakes holds (:func:`lrcourse.checks.diagnosis.written`), in the trusted judge.

* :func:`wrong_type`: the record for an object that is not what the check expects;
* :func:`rates_of_steps`: ``fn(k, **params)`` for ``k = 0 .. steps - 1``, one rate each;
* :func:`sgd` and :func:`step_through`: a torch scheduler stepped on an SGD optimizer with one
  parameter group per rate, reading every group's rate before each step, in the loop every
  lesson uses (read the rates, ``optimizer.step()``, ``scheduler.step()``).

Only the last two import torch.
"""

from __future__ import annotations

import copy
from typing import Any

from ._core import describe_value, raised_record, short_repr, type_name
from .spec import keep


def wrong_type(obj: Any, width: int = 60) -> dict:
    """The record for ``obj`` when it is not what the check expects (not a function, ...)."""
    return {"kind": "wrong_type", "type": type_name(obj), "repr": short_repr(obj, width)}


def rates_of_steps(fn: Any, case: dict, sink: list | None = None) -> dict:
    """Call ``fn(k, **case["params"])`` for every step ``k``; stop at the first failure.

    Returns ``{"kind": "values", "values": [one rate per step]}`` or the record of what went
    wrong at step ``at``.
    """
    if not callable(fn):
        return wrong_type(fn)
    values = []
    for k in range(case["steps"]):
        # copies, so that a function that modifies its arguments cannot change the next call
        kwargs = copy.deepcopy(case["params"])
        try:
            value = fn(k, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            keep(sink, exc)
            return raised_record(exc, at=k)
        described = describe_value(value)
        if isinstance(described, dict):
            return {"kind": "returned", **described, "at": k}
        values.append(described)
    return {"kind": "values", "values": values}


def sgd(groups: list[float]):
    """An SGD optimizer with one parameter group per rate in ``groups``."""
    import torch

    params = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in groups]
    return torch.optim.SGD(params, lr=groups[0])


class Stop(Exception):
    """Raised through torch's scheduler by a wrapper of the learner's code (a LambdaLR's
    factor) that has already recorded what went wrong: :func:`step_through` lets it pass."""


def step_through(optimizer, scheduler, steps: int, groups: int,
                 sink: list | None = None) -> dict:
    """The rate of each of the first ``groups`` parameter groups at steps ``0 .. steps - 1``.

    Returns ``{"kind": "values", "values": [one curve per group]}``, or the record of a rate
    that is not a number (``at``, ``group``) or of an exception ``scheduler.step()`` raised
    after step ``at``.
    """
    curves: list[list[float]] = [[] for _ in range(groups)]
    for k in range(steps):
        for g, group in enumerate(optimizer.param_groups[:groups]):
            described = describe_value(group["lr"])
            if isinstance(described, dict):
                return {"kind": "returned", **described, "at": k, "group": g, "phase": "step"}
            curves[g].append(described)
        if k == steps - 1:
            break
        optimizer.step()
        try:
            scheduler.step()
        except Stop:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            keep(sink, exc)
            return raised_record(exc, phase="step", at=k)
    return {"kind": "values", "values": curves}
