"""The gradient-descent bowl of lesson 0, and the per-group / explicit-epoch torch references."""

import numpy as np
import pytest

from lrcourse.lessons.quadratic import CAP, descend, loss, noise_floor, stability_limit
from lrcourse.reference import group_lr_curves, lr_at_epochs


def test_noiseless_descent_follows_the_closed_form():
    path = descend(np.full(5, 0.1), noise=0.0, start=(1.0, 2.0))
    k = np.arange(6)[:, None]
    np.testing.assert_allclose(path, np.array([1.0, 2.0]) * (1 - 0.1 * np.array([1.0, 10.0])) ** k)
    assert loss(path)[0] == pytest.approx(0.5 * (1 + 10 * 4))


def test_stability_limit_separates_converging_from_diverging():
    assert stability_limit() == 0.2
    below = loss(descend(np.full(200, 0.19), noise=0.0))
    above = loss(descend(np.full(200, 0.21), noise=0.0))
    assert below[-1] < 1e-6 < 1e6 < above[-1]


def test_same_seed_same_noise():
    a = descend(np.full(10, 0.05), seed=3)
    b = descend(np.full(10, 0.05), seed=3)
    np.testing.assert_array_equal(a, b)


def test_group_lr_curves_schedules_each_group_with_its_own_lambda():
    curves = group_lr_curves("LambdaLR", 4, [0.01, 0.1],
                             lr_lambda=[lambda t: 0.0 if t < 2 else 1.0, lambda t: 0.5 ** t])
    np.testing.assert_allclose(curves[:, 0], [0, 0, 0.01, 0.01])
    np.testing.assert_allclose(curves[:, 1], [0.1, 0.05, 0.025, 0.0125])


def test_lr_at_epochs_takes_fractional_epochs():
    # T_0=10: epoch 5 is mid-cycle (cos(pi/2) = 0), epoch 2.5 is a quarter in.
    got = lr_at_epochs("CosineAnnealingWarmRestarts", [2.5, 5.0, 10.0], 1.0, T_0=10)
    np.testing.assert_allclose(got, [(1 + np.cos(np.pi / 4)) / 2, 0.5, 1.0])


@pytest.mark.parametrize("lr", [0.01, 0.15])
def test_noise_floor_is_what_a_long_constant_run_settles_at(lr):
    # Independent of the formula: simulate 20,000 steps on 3 seeds, drop the first 2,000.
    measured = np.mean([loss(descend(np.full(20_000, lr), seed=s))[2_000:].mean()
                        for s in range(3)])
    assert measured == pytest.approx(noise_floor(lr), rel=0.05)


def test_noise_floor_grows_with_the_rate_and_exists_only_below_the_limit():
    assert noise_floor(0.001) < noise_floor(0.01) < noise_floor(0.1)
    # Small rates: each of the two coordinates contributes about lr / 4.
    assert noise_floor(1e-4) == pytest.approx(1e-4 / 2, rel=1e-3)
    for lr in (0.0, 0.2, 0.3):
        with pytest.raises(ValueError, match="noise floor"):
            noise_floor(lr)


def test_a_diverging_run_is_capped_not_infinite():
    path = descend(np.full(400, 0.25))
    assert np.all(np.isfinite(path))
    assert np.abs(path).max() == CAP
    # The steep coordinate sits at the cap, so the loss is flat at 0.5 * 10 * CAP**2.
    assert loss(path)[-1] == pytest.approx(0.5 * 10 * CAP**2, rel=1e-9)
    # A looser cap lets it grow further: the flat top is the cap, not the dynamics.
    assert loss(descend(np.full(400, 0.25), cap=1e15))[-1] > 1e5 * loss(path)[-1]


# --------------------------------------------------------------------- reference.ground_truth

GROUND_TRUTH_CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, "PyTorch StepLR"),
    ("SWALR", {"swa_lr": 0.02, "anneal_epochs": 5, "swa_start": 10,
               "scheduler": ("CosineAnnealingLR", {"T_max": 40})}, "PyTorch SWALR"),
    ("WarmupCosine", {"warmup_steps": 5, "total_steps": 30, "min_lr": 1e-3},
     "PyTorch LambdaLR recipe"),
    ("WarmupStableDecay", {"warmup_steps": 5, "total_steps": 30, "decay_steps": 10,
                           "decay": "sqrt"}, "PyTorch LambdaLR recipe"),
    ("InverseSqrt", {"warmup_steps": 4}, "PyTorch LambdaLR recipe"),
    ("get_polynomial_decay_schedule_with_warmup",
     {"num_warmup_steps": 3, "num_training_steps": 30, "lr_end": 1e-3, "power": 2.0,
      "lr_init": 0.4},  # a group at 0.1 of an optimizer whose default rate is 0.4
     "transformers' get_polynomial_decay_schedule_with_warmup"),
    ("get_wsd_schedule", {"num_warmup_steps": 5, "num_decay_steps": 10,
                          "num_training_steps": 30, "min_lr_ratio": 0.1},
     "transformers' get_wsd_schedule"),
    ("CosineLRScheduler", {"t_initial": 6, "warmup_t": 1, "cycle_limit": 2,
                           "updates_per_epoch": 2}, "timm's CosineLRScheduler"),
]


@pytest.mark.parametrize("name, kwargs, label", GROUND_TRUTH_CASES,
                         ids=[c[0] for c in GROUND_TRUTH_CASES])
def test_ground_truth_measures_each_schedule_from_the_code_that_defines_it(name, kwargs, label):
    from lrcourse import lr_curve, reference

    assert reference.ground_truth_label(name) == label
    library = label.split("'")[0] if "'" in label else None
    if library and reference.missing_library(library):
        with pytest.raises(ImportError, match="is not installed"):
            reference.ground_truth(name, 40, 0.1, **kwargs)
        pytest.skip(reference.missing_library(library))
    truth = reference.ground_truth(name, 40, 0.1, **kwargs)
    np.testing.assert_allclose(truth, lr_curve(name, 40, 0.1, **kwargs), rtol=1e-9, atol=1e-15)


def test_ground_truth_says_why_a_library_is_missing(monkeypatch):
    from lrcourse import reference

    monkeypatch.setattr(reference, "missing_library", lambda name: f"no {name} here")
    assert reference.ground_truth_missing("CosineLRScheduler") == "no timm here"
    assert reference.ground_truth_missing("SWALR") is None
    with pytest.raises(ImportError, match="no transformers here"):
        reference.ground_truth("get_linear_schedule_with_warmup", 5, 0.1, num_warmup_steps=1,
                               num_training_steps=4)
