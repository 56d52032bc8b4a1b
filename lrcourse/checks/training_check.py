r"""Check for exercise 7, "find the bug": a training loop that must drive OneCycleLR correctly.

The learner repairs ``train(model, optimizer, batches, epochs, max_lr)``, which builds
``OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * len(batches))`` and trains.
OneCycleLR is a per-batch scheduler, and ``scheduler.step()`` must follow
``optimizer.step()``; then optimizer step :math:`k` (counted over all epochs) uses
:math:`\eta_k` = torch's OneCycleLR curve at step :math:`k`
(:func:`lrcourse.reference.lr_curve`).

The check hands the learner's function an SGD optimizer that records the learning rate each
time its ``step()`` is called, so it measures what the loop really did, whatever it returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._core import (
    compare_curves, describe_value, learner_facing, mismatches, raised_message, raised_record,
    short_repr, type_name,
)
from .diagnosis import Curves, candidate, diagnose, shifted
from .spec import Check, MalformedProbe, fail, finite_floats, keep, run_in_notebook, \
    validate_record

CHECK, FUNCTION = "check_train", "train"
HIDDEN_CASES = 6
MAX_STEPS = 10_000
"""Most recorded optimizer steps read back from a learner's loop."""

# (seed, epochs, batches per epoch, max_lr)
PUBLIC = [(0, 3, 4, 0.1), (1, 2, 5, 0.5)]
ORDER_WARNING = "before `optimizer.step()`"


def _call(case: dict) -> str:
    return (f"{FUNCTION}(model, optimizer, batches, epochs={case['epochs']}, "
            f"max_lr={case['max_lr']:g}) with {case['batches']} batches per epoch")


PER_EPOCH = "the scheduler is stepped once per epoch instead of once per batch"


def _per_epoch_text(c: Curves) -> str:
    return (f"your rate changes once per epoch (every {c.params['batches']} batches): "
            "OneCycleLR counts batches (total_steps = epochs * len(batches)), so "
            "scheduler.step() belongs inside the batch loop, right after optimizer.step()")


MISTAKES = (
    candidate(PER_EPOCH, lambda c: c.curve(c.t // c.params["batches"] + 1), _per_epoch_text),
    candidate(PER_EPOCH, lambda c: c.curve(c.t // c.params["batches"]), _per_epoch_text),
    candidate(
        "the scheduler is stepped before the optimizer (the curve is one step early)",
        lambda c: c.curve(c.t + 1),
        "scheduler.step() is called before optimizer.step(), so each batch uses the next "
        "step's rate and the schedule's first value is never used: call scheduler.step() "
        "right after optimizer.step()"),
    candidate(
        "the schedule is built for more steps than the loop takes",
        lambda c: c.curve(total_steps=c.kwargs["total_steps"] + 1),
        lambda c: f"your curve is OneCycleLR with total_steps = {c.kwargs['total_steps'] + 1}: "
                  "the schedule must span exactly epochs * len(batches) = "
                  f"{c.kwargs['total_steps']} optimizer steps"),
    shifted("step", -1),
)


def _draw(rng: np.random.Generator) -> tuple[int, int, int, float]:
    return (int(rng.integers(0, 10_000)), int(rng.integers(2, 6)), int(rng.integers(2, 9)),
            round(float(rng.uniform(0.01, 1.0)), 4))


def _recording_sgd(lrs: list):
    """A RecordingSGD that also appends the rate of each ``step()`` to ``lrs``, a list only
    the probe holds: the check reads that one, so a loop that writes ``optimizer.lrs``
    instead of stepping the optimizer changes nothing it measures."""
    from .training_loop import RecordingSGD

    class Probed(RecordingSGD):
        def step(self, closure=None):
            lrs.append(float(self.param_groups[0]["lr"]))
            return super().step(closure)

    Probed.__name__ = Probed.__qualname__ = "RecordingSGD"
    return Probed


class TrainCheck(Check):
    """The learner's training loop must step OneCycleLR once per batch, after the optimizer.

    A case is ``{"seed": s, "epochs": e, "batches": n, "max_lr": m}``: the problem
    :func:`lrcourse.checks.training_loop.make_problem` builds from ``s`` and ``n``.
    """

    name, subject, torch_name = CHECK, FUNCTION, "OneCycleLR"
    hidden_count = HIDDEN_CASES
    mistakes = MISTAKES
    probe_needs_torch = True

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        return [{"seed": s, "epochs": e, "batches": n, "max_lr": m}
                for s, e, n, m in self.draw_cases(hidden, seed, PUBLIC, _draw)]

    def expected(self, case: dict) -> list[float]:
        from lrcourse import reference

        total = case["epochs"] * case["batches"]
        return reference.lr_curve("OneCycleLR", total, case["max_lr"], max_lr=case["max_lr"],
                                  total_steps=total).tolist()

    def prepare(self) -> None:
        from .training_loop import RecordingSGD, make_problem

        model, _ = make_problem(0, 1)
        RecordingSGD(model.parameters(), lr=0.1).step()  # the first step imports much of torch

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        if not callable(fn):
            return {"kind": "wrong_type", "type": type_name(fn), "repr": short_repr(fn)}
        from .training_loop import make_problem

        model, batches = make_problem(case["seed"], case["batches"])
        lrs: list[float] = []
        optimizer = _recording_sgd(lrs)(model.parameters(), lr=case["max_lr"], momentum=0.9)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fn(model, optimizer, batches, epochs=case["epochs"], max_lr=case["max_lr"])
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                keep(sink, exc)
                return raised_record(exc)
        order_warning = any(ORDER_WARNING in str(w.message) for w in caught)
        lrs = list(lrs)
        values = []
        for lr in lrs[:MAX_STEPS]:
            described = describe_value(lr)
            if isinstance(described, dict):  # only if the loop wrote into optimizer.lrs
                return {"kind": "returned", **described, "at": len(values)}
            values.append(described)
        return {"kind": "values", "values": values, "count": len(lrs),
                "order_warning": order_warning}

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        def count(n: Any) -> None:
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise MalformedProbe("'count' is not a count")

        def flag(b: Any) -> None:
            if not isinstance(b, bool):
                raise MalformedProbe("'order_warning' is not a boolean")

        validate_record(got, {"count": count, "order_warning": flag})
        if got["kind"] == "values":
            values = finite_floats(got.get("values"), None)
            if "count" not in got or "order_warning" not in got or \
                    len(values) != min(got["count"], MAX_STEPS):
                raise MalformedProbe("the number of steps does not match the values")
        return got

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        got = self.screen(case, expected, got)
        call = _call(case)
        if got["kind"] == "raised":
            fail(raised_message(got, FUNCTION, call), cause)
        if got["kind"] == "returned":
            fail(f"{FUNCTION} left something that is not a learning rate in optimizer.lrs "
                 f"(at step {got.get('at')}) for {call}", None)
        total = case["epochs"] * case["batches"]
        if got["count"] == 0:
            fail(f"{FUNCTION} never called optimizer.step() on the optimizer it was given "
                 f"({call}). Train with that optimizer: the scheduler must drive it.", None)
        if got["count"] != total:
            fail(f"{FUNCTION} called optimizer.step() {got['count']} times for {call}; expected "
                 f"epochs x batches = {case['epochs']} x {case['batches']} = {total}: one step "
                 "per batch.", None)
        hints = ["OneCycleLR is stepped once per batch (total_steps = epochs * len(batches)), "
                 "right after optimizer.step()"]
        if got["order_warning"]:
            hints.append("torch warned that lr_scheduler.step() was called before "
                         "optimizer.step(): that skips the first value of the schedule")
        expected = np.asarray(expected, dtype=np.float64)
        values = np.asarray(got["values"], dtype=np.float64)
        curves = Curves(expected, values, "OneCycleLR", case["max_lr"],
                        dict(max_lr=case["max_lr"], total_steps=total), case, "step")
        compare_curves(expected, values, function=FUNCTION,
                       torch_name="OneCycleLR", call=call + ", the lr at each optimizer.step()",
                       variable="step", hint="; ".join(hints), display=display,
                       diagnosis=diagnose(MISTAKES, curves)
                       if mismatches(expected, values).size else None)


TRAIN = TrainCheck()
CHECKS = {CHECK: TRAIN}


@learner_facing
def check_train(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    """Check that the learner's ``train`` steps OneCycleLR once per batch, after the optimizer."""
    run_in_notebook(TRAIN, fn, hidden, seed)
