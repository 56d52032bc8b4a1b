"""Bad parameters give a ValueError that names the parameter and what it accepts."""

import numpy as np
import pytest

from lrcourse.schedules import lr_curve, momentum_curve

COSINE = {"T_max": 10}
CYCLIC = {"base_lr": 0.01, "max_lr": 0.1}

# (name, lr, kwargs, words the message must contain)
BAD = [
    # where torch refuses the value too
    ("CosineAnnealingWarmRestarts", 0.1, {"T_0": 0}, ["T_0", ">= 1", "0"]),
    ("CosineAnnealingWarmRestarts", 0.1, {"T_0": 2.5}, ["T_0", "integer"]),
    ("CosineAnnealingWarmRestarts", 0.1, {"T_0": 10, "T_mult": 1.5}, ["T_mult", "integer"]),
    ("CosineAnnealingWarmRestarts", 0.1, {"T_0": 10, "T_mult": 0}, ["T_mult", ">= 1"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0}, ["total_steps", "epochs", "steps_per_epoch"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0, "epochs": 3}, ["total_steps", "steps_per_epoch"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0, "total_steps": 0}, ["total_steps", ">= 1"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0, "total_steps": 10, "pct_start": 0.1},
     ["total_steps=10", "too small", "pct_start"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0, "total_steps": 100, "pct_start": 1.5},
     ["pct_start", "[0, 1]"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0, "total_steps": 100, "anneal_strategy": "cosine"},
     ["anneal_strategy", "'cos'", "'linear'"]),
    ("CyclicLR", 0.1, {**CYCLIC, "mode": "triangle"}, ["mode", "'triangular'", "'exp_range'"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": [1.0] * 10, "factor": 1.0}, ["factor", "1"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": [1.0] * 10, "mode": "minimum"}, ["mode", "'min'"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": [1.0] * 10, "threshold_mode": "relative"},
     ["threshold_mode", "'rel'", "'abs'"]),
    ("LinearLR", 0.1, {"start_factor": 0.0}, ["start_factor", "(0, 1]"]),
    ("LinearLR", 0.1, {"end_factor": 1.5}, ["end_factor", "[0, 1]"]),
    ("ConstantLR", 0.1, {"factor": 1.5}, ["factor", "1"]),
    ("SequentialLR", 0.1, {"schedulers": [("StepLR", {"step_size": 2})], "milestones": [3]},
     ["milestone", "1 schedulers", "1 milestones"]),
    ("SequentialLR", 0.1, {"schedulers": [("ReduceLROnPlateau", {})], "milestones": []},
     ["ReduceLROnPlateau", "metrics"]),
    ("ChainedScheduler", 0.1, {"schedulers": []}, ["schedulers", "non-empty"]),
    # where torch silently accepts nonsense or fails later with an obscure error
    ("StepLR", 0.1, {"step_size": 0}, ["step_size", ">= 1", "0"]),
    ("StepLR", 0.1, {"step_size": 3, "gamma": 0.0}, ["gamma", "> 0"]),
    ("StepLR", 0.1, {"step_size": 3, "gamma": -0.5}, ["gamma", "> 0"]),
    ("MultiStepLR", 0.1, {"milestones": [3, -1]}, ["milestone", ">= 0", "-1"]),
    ("ExponentialLR", 0.1, {"gamma": 0.0}, ["gamma", "> 0"]),
    ("CosineAnnealingLR", 0.1, {"T_max": 0}, ["T_max", "> 0"]),
    ("CosineAnnealingLR", 0.1, {"T_max": 10, "eta_min": 0.5}, ["eta_min", "between 0 and lr"]),
    ("CosineAnnealingLR", -0.1, COSINE, ["lr", ">= 0", "-0.1"]),
    ("CosineAnnealingLR", float("nan"), COSINE, ["lr", "nan"]),
    ("PolynomialLR", 0.1, {"total_iters": 0}, ["total_iters", ">= 1"]),
    ("PolynomialLR", 0.1, {"power": -1.0}, ["power", ">= 0"]),
    ("ConstantLR", 0.1, {"factor": 0.0}, ["factor", "(0, 1]"]),
    ("ConstantLR", 0.1, {"total_iters": 0}, ["total_iters", ">= 1"]),
    ("LinearLR", 0.1, {"total_iters": 0}, ["total_iters", ">= 1"]),
    ("CyclicLR", 0.1, {**CYCLIC, "step_size_up": 0}, ["step_size_up", "> 0"]),
    ("CyclicLR", 0.1, {"base_lr": 0.1, "max_lr": 0.01}, ["max_lr", "base_lr"]),
    ("OneCycleLR", 0.1, {"max_lr": 1.0, "total_steps": 100, "pct_start": 0.6,
                         "three_phase": True}, ["three_phase", "pct_start", "0.5"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": [1.0] * 9}, ["metrics", "10 steps", "9 metrics"]),
    ("ReduceLROnPlateau", 0.1, {}, ["metrics"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": [1.0] * 10, "factor": -0.1}, ["factor", "[0, 1)"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": [1.0] * 10, "patience": -1}, ["patience", ">= 0"]),
    ("ReduceLROnPlateau", 0.1, {"metrics": ["a"] * 10}, ["metrics", "numbers"]),
    ("LambdaLR", 0.1, {"lr_lambda": 0.5}, ["lr_lambda", "callable"]),
    ("LambdaLR", 0.1, {"lr_lambda": [lambda e: 1.0, lambda e: 0.5]},
     ["lr_lambda", "once per group"]),
    ("LambdaLR", 0.1, {"lr_lambda": lambda e: 1 / (e - 3)},
     ["lr_lambda(3)", "ZeroDivisionError"]),
    ("SequentialLR", 0.1, {"schedulers": [("StepLR", {"step_size": 2}), ("ExponentialLR",
     {"gamma": 0.9})], "milestones": [0]}, ["milestone", ">= 1"]),
    ("SequentialLR", 0.1, {"schedulers": [("StepLR", {"step_size": 2}), ("StepLR",
     {"step_size": 3}), ("StepLR", {"step_size": 3})], "milestones": [5, 5]},
     ["milestones", "strictly increasing"]),
    ("SequentialLR", 0.1, {"schedulers": ["StepLR"], "milestones": []},
     ["schedulers[0]", "(name, kwargs)"]),
    ("ChainedScheduler", 0.1, {"schedulers": [("StepLr", {"step_size": 2})]},
     ["schedulers[0]", "did you mean 'StepLR'"]),
    ("ChainedScheduler", 0.1, {"schedulers": [("StepLR", {"step_size": 0})]},
     ["StepLR", "step_size"]),
]


@pytest.mark.parametrize("name,lr,kwargs,words", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_parameters_are_named(name, lr, kwargs, words):
    with pytest.raises(ValueError) as info:
        lr_curve(name, 10, lr, **kwargs)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


@pytest.mark.parametrize("steps", [-1, 2.5, "10", None])
def test_bad_step_counts(steps):
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        lr_curve("StepLR", steps, 0.1, step_size=2)


@pytest.mark.parametrize("typo,suggestion", [("StepLr", "StepLR"), ("steplr", "StepLR"),
                                             ("CosineAnealingLR", "CosineAnnealingLR"),
                                             ("OneCycle", "OneCycleLR")])
def test_unknown_scheduler_gets_did_you_mean(typo, suggestion):
    with pytest.raises(ValueError, match=f"unknown scheduler '{typo}'; did you mean '{suggestion}'"):
        lr_curve(typo, 10, 0.1)


def test_unknown_scheduler_without_close_match_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown scheduler .Adam.. Known: LambdaLR, MultiplicativeLR, StepLR"):
        lr_curve("Adam", 10, 0.1)


def test_misspelt_keyword_gets_did_you_mean():
    with pytest.raises(ValueError, match="StepLR has no parameter 'stepsize'; did you mean "
                                         "'step_size'"):
        lr_curve("StepLR", 10, 0.1, stepsize=3)


def test_missing_required_parameter():
    with pytest.raises(ValueError, match="StepLR needs step_size"):
        lr_curve("StepLR", 10, 0.1)


@pytest.mark.parametrize("arg", ["optimizer", "last_epoch"])
def test_torch_only_arguments_are_explained(arg):
    with pytest.raises(ValueError, match=f"StepLR: {arg} is not accepted here"):
        lr_curve("StepLR", 10, 0.1, step_size=2, **{arg: 0})


def test_momentum_curve_only_for_momentum_schedulers():
    with pytest.raises(ValueError, match="unknown scheduler 'StepLR'"):
        momentum_curve("StepLR", 10, 0.1, step_size=2)
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        momentum_curve("OneCycleLR", 10, 0.1, max_lr=1.0, total_steps=10, cycle_momentum=False)


def test_no_numpy_warnings_on_the_edges(recwarn):
    lr_curve("CyclicLR", 5000, 0.1, base_lr=0.0, max_lr=1.0, step_size_up=1, mode="triangular2")
    lr_curve("ChainedScheduler", 50, 0.1, schedulers=[("CosineAnnealingLR", {"T_max": 3}),
                                                      ("PolynomialLR", {"total_iters": 4})])
    lr_curve("LinearLR", 20, 0.1, start_factor=1.0, end_factor=0.0, total_iters=3)
    assert [str(w.message) for w in recwarn] == []
    assert np.isfinite(lr_curve("PolynomialLR", 20, 0.1, total_iters=3, power=0.0)).all()
