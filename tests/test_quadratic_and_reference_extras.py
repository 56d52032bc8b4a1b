"""The gradient-descent bowl of lesson 0, and the per-group / explicit-epoch torch references."""

import numpy as np
import pytest

from lrcourse.lessons.quadratic import descend, loss, stability_limit
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
