"""The surprising-but-legal behaviours of torch, pinned with numbers from torch's own test-suite
(test/optim/test_lrscheduler.py) or worked by hand, and checked against the installed torch too.
"""

import math

import numpy as np
import pytest

from lrcourse import reference
from lrcourse.schedules import lr_curve, momentum_curve, schedule


def both(name, steps, lr, **kw):
    """Our curve, after checking that torch computes the same one."""
    ours = lr_curve(name, steps, lr, **kw)
    np.testing.assert_allclose(ours, reference.lr_curve(name, steps, lr, **kw), rtol=1e-12,
                               atol=1e-15)
    return ours


def test_steplr_worked_example_from_the_lessons():
    # lr0 = 0.05, step_size = 2, gamma = 0.1: the decay happens at multiples of step_size.
    np.testing.assert_allclose(both("StepLR", 6, 0.05, step_size=2, gamma=0.1),
                               [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005], rtol=1e-12)


def test_multistep_repeated_milestones_compound():
    # Counter([2, 2, 5]): at step 2 the rate is divided by 100, at 5 by another 10.
    np.testing.assert_allclose(both("MultiStepLR", 7, 1.0, milestones=[2, 2, 5], gamma=0.1),
                               [1, 1, 0.01, 0.01, 0.01, 0.001, 0.001], rtol=1e-12)


def test_multistep_unsorted_milestones():
    np.testing.assert_allclose(both("MultiStepLR", 12, 0.05, milestones=[9, 2, 5], gamma=0.1),
                               [0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005] * 3,
                               rtol=1e-12)


def test_cosine_rises_again_after_T_max():
    # torch does not clamp: b=0.1, T=10 gives 0.0 at t=10, then climbs back to 0.1 at t=20.
    curve = both("CosineAnnealingLR", 41, 0.1, T_max=10)
    assert curve[10] == 0.0
    np.testing.assert_allclose(curve[11:13], [0.002447174185, 0.009549150281], rtol=1e-9)
    np.testing.assert_allclose(curve[20], 0.1, rtol=1e-12)
    np.testing.assert_allclose(curve[30], 0.0, atol=1e-15)
    assert np.all(np.diff(curve[10:21]) > 0)  # smooth rise, no jump back


def test_polynomial_stays_at_zero_after_total_iters():
    curve = both("PolynomialLR", 10, 0.05, total_iters=5, power=0.9)
    expected = [(1 - x / 5) ** 0.9 * 0.05 for x in range(5)] + [0.0] * 5
    np.testing.assert_allclose(curve, expected, rtol=1e-12)
    assert np.all(curve[5:] == 0.0)


def test_constant_and_linear_warmups():
    np.testing.assert_allclose(both("ConstantLR", 10, 0.05, factor=0.5, total_iters=5),
                               [0.025] * 5 + [0.05] * 5, rtol=1e-12)
    np.testing.assert_allclose(both("LinearLR", 6, 0.05, start_factor=0.5, total_iters=4),
                               [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05], rtol=1e-12)


def test_warm_restarts_with_T_mult():
    # T_0=2, T_mult=2: cycles of 2, 4, 8 steps starting at 0, 2, 6, 14.
    curve = both("CosineAnnealingWarmRestarts", 16, 1.0, T_0=2, T_mult=2)
    restarts = np.flatnonzero(curve == 1.0)
    assert restarts.tolist() == [0, 2, 6, 14]
    np.testing.assert_allclose(curve[3], (1 + math.cos(math.pi / 4)) / 2, rtol=1e-12)


def test_warm_restarts_at_a_fractional_epoch_never_misses_a_restart():
    # torch's step(1210) with T_0=10, T_mult=3 lands on eta_min through log(243, 3) = 4.999...;
    # 1210 is exactly the start of the sixth cycle, so the closed form gives the restart value.
    from lrcourse.schedules import cosine_annealing_warm_restarts

    value = cosine_annealing_warm_restarts(np.array([1210.0, 1209.5]), 1.0, T_0=10, T_mult=3,
                                           eta_min=0.0)
    assert value[0] == 1.0
    assert 0.0 < value[1] < 1e-5


CYCLIC = dict(base_lr=1.0, max_lr=5.0, step_size_up=4, base_momentum=1.0, max_momentum=5.0)


def test_cyclic_modes_from_torch_tests():
    np.testing.assert_allclose(both("CyclicLR", 11, 0.1, **CYCLIC),
                               [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3], rtol=1e-12)
    np.testing.assert_allclose(
        both("CyclicLR", 21, 0.1, mode="triangular2", **CYCLIC),
        [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2, 2.5, 3, 2.5, 2, 1.5, 1, 1.25, 1.5, 1.75, 2],
        rtol=1e-12)
    xs = [0, .25, .5, .75, 1, .75, .5, .25, 0, .25, .5, .75, 1]
    np.testing.assert_allclose(both("CyclicLR", 13, 0.1, mode="exp_range", gamma=0.9, **CYCLIC),
                               [1 + x * 4 * 0.9**i for i, x in enumerate(xs)], rtol=1e-12)
    np.testing.assert_allclose(momentum_curve("CyclicLR", 11, 0.1, **CYCLIC),
                               [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3], rtol=1e-12)


def test_cyclic_step_size_down():
    np.testing.assert_allclose(both("CyclicLR", 11, 0.1, step_size_down=6, **CYCLIC),
                               [1, 2, 3, 4, 5, 13 / 3, 11 / 3, 3, 7 / 3, 5 / 3, 1], rtol=1e-12)


def test_cyclic_triangular2_beyond_torchs_overflow():
    # torch raises OverflowError from cycle 1026 (1 / 2.0 ** 1025); the amplitude is 0 by then.
    kw = dict(base_lr=0.1, max_lr=1.0, step_size_up=1, mode="triangular2")
    with pytest.raises(OverflowError):
        reference.lr_curve("CyclicLR", 2100, 0.1, **kw)
    curve = lr_curve("CyclicLR", 2100, 0.1, **kw)
    np.testing.assert_allclose(curve[:2040], reference.lr_curve("CyclicLR", 2040, 0.1, **kw))
    assert np.all(curve[2060:] == 0.1)


ONE_CYCLE = dict(max_lr=25.0, total_steps=10, div_factor=25.0, base_momentum=1.0,
                 max_momentum=22.0)


def test_one_cycle_linear_and_its_extrapolated_last_value():
    curve = both("OneCycleLR", 11, 0.1, anneal_strategy="linear", final_div_factor=2, **ONE_CYCLE)
    np.testing.assert_allclose(curve[:10], [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5],
                               rtol=1e-12)
    assert curve[10] == pytest.approx(-3.0)  # step total_steps extrapolates below zero
    np.testing.assert_allclose(momentum_curve("OneCycleLR", 11, 0.1, anneal_strategy="linear",
                                              final_div_factor=2, **ONE_CYCLE)[[0, 1, 2, 10]],
                               [22, 11.5, 1, 25], rtol=1e-12)


def test_one_cycle_three_phase():
    kw = dict(ONE_CYCLE, pct_start=0.4, final_div_factor=4, anneal_strategy="linear",
              three_phase=True)
    np.testing.assert_allclose(both("OneCycleLR", 10, 0.1, **kw),
                               [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25], rtol=1e-12)
    np.testing.assert_allclose(momentum_curve("OneCycleLR", 10, 0.1, **kw),
                               [22, 15, 8, 1, 8, 15, 22, 22, 22, 22], rtol=1e-12)


def test_one_cycle_refuses_steps_past_total_steps_like_torch():
    with pytest.raises(ValueError, match="Tried to step 11"):
        reference.lr_curve("OneCycleLR", 12, 0.1, max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match=r"OneCycleLR: .*total_steps=10.*at most 11 steps"):
        lr_curve("OneCycleLR", 12, 0.1, max_lr=1.0, total_steps=10)


# torch's ReduceLROnPlateau tests check the lr *after* each step: our curve shifted by one.
PLATEAU_CASES = [
    (dict(mode="min", threshold_mode="abs", threshold=0.1, patience=5, cooldown=0),
     [10 - i * 0.0165 for i in range(22)], [.5] * 6 + [.05] * 7 + [.005] * 7 + [.0005] * 2),
    (dict(mode="max", threshold_mode="abs", patience=5, cooldown=5),
     [-0.8] * 2 + [-0.234] * 20, [.5] * 8 + [.05] * 11 + [.005] * 3),
    (dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
     [1.5 * 1.005**i for i in range(20)], [.5] * 6 + [.05] * 11 + [.005] * 3),
    (dict(mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
     [1] * 7 + [0.6] + [0.5] * 12, [.5] * 6 + [.05] * 11 + [.005] * 3),
    (dict(mode="min", threshold_mode="abs", threshold=0.01, patience=5, cooldown=5),
     [10 - i * 0.0167 for i in range(20)], [.5] * 20),
]


@pytest.mark.parametrize("params,metrics,after_step", PLATEAU_CASES)
def test_plateau_tables_from_torch_tests(params, metrics, after_step):
    curve = both("ReduceLROnPlateau", len(metrics) + 1, 0.5, metrics=metrics + [0.0], **params)
    np.testing.assert_allclose(curve[1:], after_step, rtol=1e-12)


def test_plateau_flat_metric_reduces_on_calls_4_and_7():
    curve = both("ReduceLROnPlateau", 9, 1.0, metrics=[1.0] * 9, patience=2, factor=0.5)
    assert curve.tolist() == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_plateau_min_lr_and_eps():
    curve = both("ReduceLROnPlateau", 12, 1e-7, metrics=[1.0] * 12, patience=0, factor=0.1,
                 min_lr=2e-9)
    # 1e-7 -> 1e-8 (a change of 9e-8 > eps); 1e-8 -> 2e-9 is a change of 8e-9 < eps: skipped.
    assert curve[1] == 1e-7  # the first metric sets the best value
    assert curve[2] == pytest.approx(1e-8) and curve[-1] == pytest.approx(1e-8)


def test_sequential_restarts_at_the_milestone():
    # Exp(0.8) then Step(0.1, 4) from torch's tests: 0.05 again at the milestone.
    curve = both("SequentialLR", 19, 0.05, milestones=[3], schedulers=[
        ("ExponentialLR", {"gamma": 0.8}), ("StepLR", {"gamma": 0.1, "step_size": 4})])
    np.testing.assert_allclose(
        curve, [.05, .04, .032] + [.05] * 4 + [.005] * 4 + [.0005] * 4 + [.00005] * 4,
        rtol=1e-12)


def test_sequential_warmup_then_cosine():
    curve = both("SequentialLR", 30, 0.1, milestones=[5], schedulers=[
        ("LinearLR", {"start_factor": 0.2, "total_iters": 5}), ("CosineAnnealingLR", {"T_max": 25})])
    np.testing.assert_allclose(curve[:6], [0.02, 0.036, 0.052, 0.068, 0.084, 0.1], rtol=1e-12)


def test_chained_multiplies_the_factors():
    curve = both("ChainedScheduler", 12, 0.05, schedulers=[
        ("LinearLR", {"start_factor": 0.4, "total_iters": 3}),
        ("MultiStepLR", {"milestones": [4, 8, 10], "gamma": 0.1})])
    np.testing.assert_allclose(
        curve, [.02, .03, .04, .05] + [.005] * 4 + [.0005] * 2 + [.00005] * 2, rtol=1e-12)


def test_chained_docstring_example_is_ten_times_too_large_in_torch_docs():
    curve = both("ChainedScheduler", 21, 0.05, schedulers=[
        ("ConstantLR", {"factor": 0.1, "total_iters": 20}), ("ExponentialLR", {"gamma": 0.9})])
    assert curve[0] == pytest.approx(0.005) and curve[1] == pytest.approx(0.0045)
    assert curve[20] == pytest.approx(0.05 * 0.9**20)


def test_chained_cosine_past_its_minimum_is_not_a_product():
    # After the cosine's minimum torch *adds* a bump computed from its own base rate, so the
    # chain is no longer base * product of factors: the affine form catches this.
    kw = dict(schedulers=[("CosineAnnealingLR", {"T_max": 4}), ("StepLR", {"step_size": 2})])
    curve = both("ChainedScheduler", 12, 1.0, **kw)
    product = (lr_curve("CosineAnnealingLR", 12, 1.0, T_max=4)
               * lr_curve("StepLR", 12, 1.0, step_size=2))
    np.testing.assert_allclose(curve[:5], product[:5], rtol=1e-12)
    assert not np.allclose(curve[5:], product[5:])


def test_chained_cyclic_after_another_member_starts_from_initial_lr():
    kw = dict(schedulers=[("ExponentialLR", {"gamma": 1.0}),
                          ("CyclicLR", {"base_lr": 0.5, "max_lr": 0.5, "step_size_up": 1})])
    assert both("ChainedScheduler", 3, 1.0, **kw).tolist() == [1.0, 0.5, 0.5]


def test_lambda_epoch_floor_division_gives_zero_for_thirty_epochs():
    curve = both("LambdaLR", 61, 0.1, lr_lambda=lambda epoch: epoch // 30)
    assert np.all(curve[:30] == 0.0) and curve[30] == pytest.approx(0.1)


def test_multiplicative_never_calls_lambda_at_zero():
    calls = []
    lr_curve("MultiplicativeLR", 4, 1.0, lr_lambda=lambda e: calls.append(e) or 0.5)
    assert calls == [1, 2, 3]


def test_schedule_is_a_function_of_the_step():
    warm = schedule("LinearLR", 0.1, start_factor=0.1, total_iters=10)
    np.testing.assert_allclose(warm(np.arange(3)), [0.01, 0.019, 0.028], rtol=1e-12)
    np.testing.assert_allclose(warm(np.array([[0, 10], [20, 5]])), [[0.01, 0.1], [0.1, 0.055]])


def test_zero_steps_and_dtype():
    for name, kw in [("StepLR", {"step_size": 3}), ("ChainedScheduler",
                     {"schedulers": [("StepLR", {"step_size": 3})]})]:
        empty = lr_curve(name, 0, 0.1, **kw)
        assert empty.shape == (0,) and empty.dtype == np.float64
