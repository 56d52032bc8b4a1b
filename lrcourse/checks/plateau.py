r"""Check for exercise 5: the ReduceLROnPlateau decision rule, from a list of validation losses.

The learner writes ``plateau_lrs(val_losses, lr, factor, patience, threshold, cooldown)``
returning the learning rate used in each epoch (``len(val_losses)`` values).  Epoch ``e`` is
trained with ``lrs[e]``, then ``val_losses[e]`` is measured and the rule runs (torch's
``mode="min"``, ``threshold_mode="rel"``):

* improvement when :math:`\ell_e < \text{best}\,(1 - \text{threshold})`: ``best`` becomes
  :math:`\ell_e` and the count of bad epochs is reset to 0; otherwise the count grows by one;
* while a cooldown is running, it counts down by one and the bad-epoch count is held at 0;
* when the count exceeds ``patience``: :math:`\eta \leftarrow \eta\cdot\text{factor}`, a
  cooldown of ``cooldown`` epochs starts and the count is reset.

The expected curve is torch's: :func:`lrcourse.reference.lr_curve` with ``metrics=val_losses``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ._core import (
    compare_curves, curve_message, describe_curve, format_call, learner_facing, mismatches,
    raised_message, raised_record,
)
from .diagnosis import SHIFT, Curves, candidate, diagnose, scaled
from .probes import wrong_type
from .spec import Check, fail, keep, run_in_notebook, validate_curve

CHECK, FUNCTION = "check_plateau_lrs", "plateau_lrs"
HIDDEN_CASES = 12

# (val_losses, params).  Each case exercises one part of the rule.
PUBLIC = [
    # steady improvement: never reduce
    ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], dict(lr=0.1, factor=0.1, patience=2, threshold=1e-4,
                                          cooldown=0)),
    # a plateau: reduce once the bad epochs exceed patience (3 bad epochs with patience 2), and
    # a long one at the end: a cut every patience + 1 epochs (which tells a cut at ">= patience"
    # apart from a rate recorded after the decision: both cut first at epoch 4)
    ([1.0, 0.8, 0.8, 0.81, 0.8, 0.79, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7],
     dict(lr=0.1, factor=0.5, patience=2, threshold=1e-4, cooldown=0)),
    # patience 0 and a cooldown of 2 epochs
    ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], dict(lr=1.0, factor=0.5, patience=0,
                                                         threshold=1e-4, cooldown=2)),
    # improvements smaller than the relative threshold (1%) do not count (the last four are
    # improvements for a learner who ignores the threshold)
    ([1.0, 0.995, 0.991, 0.989, 0.985, 0.98, 0.97, 0.96, 0.959, 0.958, 0.957, 0.956],
     dict(lr=0.2, factor=0.1, patience=1, threshold=0.01, cooldown=0)),
    # losses near 10: a relative threshold of 1% asks for 0.1 less, not 0.01 less (and the last
    # three, 0.005 less each, improve only for a learner who ignores the threshold)
    ([10.0, 9.95, 9.92, 9.9, 9.85, 9.8, 9.7, 9.5, 9.45, 9.445, 9.44, 9.435],
     dict(lr=0.1, factor=0.1, patience=1, threshold=0.01, cooldown=0)),
    # a loss exactly at best * (1 - threshold) is not an improvement (strict <)
    ([1.0, 0.5, 0.25, 0.2, 0.125, 0.1, 0.0625, 0.05], dict(lr=0.4, factor=0.5, patience=0,
                                                           threshold=0.5, cooldown=0)),
    # a loss that gets worse then better than the best: compare with the best, not the last
    ([0.5, 0.6, 0.7, 0.55, 0.52, 0.49, 0.6, 0.6, 0.6, 0.6], dict(lr=0.1, factor=0.3, patience=2,
                                                                 threshold=1e-4, cooldown=1)),
]


def _draw(rng: np.random.Generator) -> tuple[list[float], dict]:
    """A random loss curve and rule; redrawn while the rate would fall below 1e-6, where
    torch's ``eps`` (which the exercise leaves out) starts to matter."""
    while True:
        losses, params = _draw_once(rng)
        curve = np.asarray(PLATEAU.expected({"val_losses": losses, "params": params}))
        if curve.min() >= 1e-6:
            return losses, params


def _draw_once(rng: np.random.Generator) -> tuple[list[float], dict]:
    params = dict(lr=round(float(rng.uniform(0.01, 1.0)), 4),
                  factor=float(rng.choice([0.1, 0.2, 0.5])), patience=int(rng.integers(0, 5)),
                  threshold=float(rng.choice([0.0, 1e-4, 1e-3, 0.01, 0.05])),
                  cooldown=int(rng.integers(0, 4)))
    n = int(rng.integers(8, 40))
    losses, current = [], float(rng.uniform(0.5, 20.0))
    best = current
    for _ in range(n):
        kind = rng.random()
        if kind < 0.3:       # a clear improvement
            current = round(best * float(rng.uniform(0.8, 0.97)), 6)
        elif kind < 0.5:     # a small improvement, often below the threshold
            current = round(best * (1 - float(rng.choice([0.0005, 0.002, 0.008, 0.02]))), 6)
        elif kind < 0.6:     # exactly the best loss again: an improvement only for "<="
            current = best
        else:                # worse
            current = round(current * float(rng.uniform(1.0, 1.05)), 6)
        best = min(best, current)
        losses.append(current)
    return losses, params


def _after_decision(c: Curves) -> np.ndarray:
    """The rate after each epoch's decision: torch's curve one epoch ahead (the metric given
    for the extra step only affects the step after it, so any value will do)."""
    losses = list(c.kwargs["metrics"])
    return c.curve(c.t + 1, metrics=losses + losses[-1:])


MISTAKES = (
    candidate(
        "the rate is cut as soon as the count of bad epochs reaches the patience instead of "
        "when it exceeds it (one epoch early)",
        lambda c: c.curve(patience=c.kwargs["patience"] - 1),
        lambda c: f"you cut when bad_epochs >= patience; torch cuts when the number of epochs "
                  f"without improvement exceeds patience (bad_epochs > patience): with "
                  f"patience={c.params['patience']} after {c.params['patience'] + 1} bad "
                  f"epochs in a row, yours after {c.params['patience']} (your curve is torch's "
                  f"with patience={c.params['patience'] - 1})",
        when=lambda c: c.kwargs["patience"] >= 1),
    candidate(
        "each epoch's rate is recorded after that epoch's decision, so every cut shows one "
        "epoch early",
        _after_decision,
        "your lrs[e] is the rate after the decision on val_losses[e]; torch's is the rate epoch "
        "e was trained with, before its loss was measured: append the rate to lrs first, then "
        "look at val_losses[e] (your curve is torch's shifted one epoch early)"),
    candidate(
        "the rate is cut one epoch late (one bad epoch too many is waited for)",
        lambda c: c.curve(patience=c.kwargs["patience"] + 1),
        lambda c: f"your cuts come one epoch late: torch cuts as soon as the number of epochs "
                  f"without improvement exceeds patience={c.params['patience']}, i.e. at "
                  f"{c.params['patience'] + 1} bad epochs in a row (your curve is torch's with "
                  f"patience={c.params['patience'] + 1})",
        rank=SHIFT),
    candidate(
        "the threshold is subtracted from the best loss (absolute) instead of applied as a "
        "fraction of it (relative)",
        lambda c: c.curve(threshold_mode="abs"),
        "an improvement in yours is loss < best - threshold; torch's (threshold_mode='rel') "
        "is loss < best * (1 - threshold): with threshold={threshold}, a fraction of the best "
        "loss",
        when=lambda c: c.kwargs["threshold"] > 0),
    candidate(
        "every decrease of the loss counts as an improvement (the threshold is ignored)",
        lambda c: c.curve(threshold=0.0),
        "in yours any loss below the best counts as an improvement; torch's improvement is "
        "loss < best * (1 - threshold), with threshold={threshold}",
        when=lambda c: c.kwargs["threshold"] > 0),
    candidate(
        "there is no cooldown after a cut",
        lambda c: c.curve(cooldown=0),
        "after a cut torch waits cooldown={cooldown} epochs, with the count of bad epochs held "
        "at 0, before it counts again; yours starts counting at once",
        when=lambda c: c.kwargs["cooldown"] > 0),
    candidate(
        "the rate is multiplied by one minus the factor instead of by the factor",
        lambda c: c.curve(factor=1 - c.kwargs["factor"]),
        lambda c: f"your cuts multiply the rate by 1 - factor = {1 - c.params['factor']:g}; "
                  f"torch multiplies it by factor={c.params['factor']:g}",
        when=lambda c: 0 < c.kwargs["factor"] < 1 and c.kwargs["factor"] != 0.5),
    scaled(),
)

HINT = ("epoch e is trained with lrs[e]; val_losses[e] only affects epochs after e. An epoch "
        "improves when its loss < best * (1 - threshold); the rate is cut when the number of "
        "epochs in a row without improvement exceeds patience, and then cooldown epochs pass "
        "without counting")


class PlateauCheck(Check):
    """``plateau_lrs(val_losses, **params)`` against ReduceLROnPlateau.

    A case is ``{"val_losses": [...], "params": {...}}``; the learner's function is called once
    and must return one rate per loss.
    """

    name, subject, torch_name = CHECK, FUNCTION, "ReduceLROnPlateau"
    hidden_count = HIDDEN_CASES
    mistakes = MISTAKES

    def cases(self, hidden: bool, seed: int) -> list[dict]:
        return [{"val_losses": list(losses), "params": dict(params)}
                for losses, params in self.draw_cases(hidden, seed, PUBLIC, _draw)]

    def expected(self, case: dict) -> list[float]:
        from lrcourse import reference  # torch: only where expected values are computed

        losses, params = case["val_losses"], case["params"]
        return reference.lr_curve("ReduceLROnPlateau", len(losses), params["lr"],
                                  metrics=list(losses), mode="min", threshold_mode="rel",
                                  **{k: v for k, v in params.items() if k != "lr"}).tolist()

    def probe(self, fn: Any, case: dict, sink: list | None = None) -> dict:
        if not callable(fn):
            return wrong_type(fn)
        try:
            value = fn(list(case["val_losses"]), **copy.deepcopy(case["params"]))
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            keep(sink, exc)
            return raised_record(exc)
        described = describe_curve(value, len(case["val_losses"]))
        if isinstance(described, dict):
            return {"kind": "returned", **described}
        return {"kind": "values", "values": described}

    def validate(self, case: dict, expected: Any, got: Any) -> dict:
        return validate_curve(got, len(expected))

    def judge(self, case: dict, expected: Any, got: dict, *, cause: BaseException | None = None,
              display: Callable[[Any], None] | None = None) -> None:
        losses, params = case["val_losses"], case["params"]
        got = self.screen(case, expected, got)
        call = format_call(FUNCTION, None, dict(val_losses=list(losses), **params))
        if got["kind"] == "raised":
            fail(raised_message(got, FUNCTION, call), cause)
        if got["kind"] == "returned":
            fail(curve_message(got, len(losses), FUNCTION, f"the call {call}"), None)
        expected = np.asarray(expected, dtype=np.float64)
        values = np.asarray(got["values"], dtype=np.float64)
        torch_kwargs = dict(metrics=list(losses), mode="min", threshold_mode="rel",
                            **{k: v for k, v in params.items() if k != "lr"})
        curves = Curves(expected, values, "ReduceLROnPlateau", params["lr"], torch_kwargs,
                        params, "epoch")
        compare_curves(
            expected, values, function=FUNCTION, torch_name="ReduceLROnPlateau", call=call,
            variable="epoch", extra=("val_loss", losses), display=display, hint=HINT,
            diagnosis=diagnose(MISTAKES, curves) if mismatches(expected, values).size else None,
        )


PLATEAU = PlateauCheck()
CHECKS = {CHECK: PLATEAU}


@learner_facing
def check_plateau_lrs(fn: Callable, *, hidden: bool = False, seed: int = 0) -> None:
    """Check ``plateau_lrs(val_losses, lr, factor, patience, threshold, cooldown)`` against
    torch's ReduceLROnPlateau (mode "min", threshold_mode "rel").
    """
    run_in_notebook(PLATEAU, fn, hidden, seed)
